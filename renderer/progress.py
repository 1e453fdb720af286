"""Progress output: rich bars on a terminal, plain lines otherwise, nothing with --quiet.

NO_COLOR is honoured (rich reads it). Warnings always go to stderr, one line each.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator


class Reporter:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() and not quiet
        self._progress = None
        self._task = None

    def info(self, message: str) -> None:
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.console.print(message, highlight=False, markup=False)
        else:
            print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        line = f"warning: {message}"
        if self._progress is not None:
            self._progress.console.print(line, style="yellow", highlight=False, markup=False)
        else:
            print(line, file=self.stream, flush=True)

    @contextmanager
    def steps(self, total: int, title: str) -> Iterator["Reporter"]:
        """A progress bar for `total` steps on a terminal; plain lines elsewhere."""
        if not self.interactive or total == 0:
            yield self
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=self.stream)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            self._progress = progress
            self._task = progress.add_task(title, total=total)
            try:
                yield self
            finally:
                self._progress = None
                self._task = None

    def step(self, message: str) -> None:
        """One unit of work started (`message` says what)."""
        if self._progress is not None:
            self._progress.update(self._task, description=message)
            self._progress.advance(self._task)
        else:
            self.info(message)
