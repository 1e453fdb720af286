"""Errors the CLI turns into one clear message each and an exit code.

InputError  -> exit 2: the user's input (storyboard, deck, config, CLI usage) is wrong.
BuildError  -> exit 1: the input is fine but a tool or resource failed (browser, model, disk).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with where it is."""

    file: str
    line: int | None
    col: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.message}"


class InputError(Exception):
    """Bad input. Carries every problem found, so authors fix them all at once."""

    def __init__(self, problems: Problem | str | Iterable[Problem]):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(Exception):
    """A build step failed for a reason other than bad input. The message says how to fix it."""


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely misspells, or None."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' for a near miss, else ''. Also lists the choices when few."""
    choices = sorted(set(choices))
    close = nearest(word, choices)
    if close:
        return f"; did you mean '{close}'?"
    if 0 < len(choices) <= 12:
        return "; choose one of: " + ", ".join(choices)
    return ""


def rel(path: str | Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
