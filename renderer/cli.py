"""The novapress command line.

Exit codes: 0 done, 1 the build failed (a tool or resource), 2 bad input or usage.
Every failure is one clear message, never a traceback (set NOVAPRESS_DEBUG=1 for one).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from .errors import BuildError, InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints the whole usage otherwise)
        self.exit(EXIT_BAD_INPUT, f"novapress: {message} (see 'novapress {self.prog.split()[-1]} --help')\n"
                  if " " in self.prog else f"novapress: {message} (see 'novapress --help')\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="novapress", description="Build comic pages and slide decks about LLM inference with real model output.")
    p.add_argument("-C", "--project", default=".", help="project folder (holding novapress.yaml); default: here")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    b = sub.add_parser("build", help="build everything (or some targets) into build/")
    b.add_argument("targets", nargs="*", metavar="TARGET",
                   help="only these: live, comic, slides, site, or a storyboard/deck name (default: all)")
    b.add_argument("--out", default="build", help="output folder (default: build)")
    b.add_argument("--prompt", help="replace the book's main question (the main demo's prompt, or --demo's)")
    b.add_argument("--demo", metavar="NAME", help="the demo whose prompt --prompt replaces (default: main_demo)")
    b.add_argument("--refresh", action="store_true", help="re-run the model even where a cached trace exists")
    b.add_argument("--no-fallback", action="store_true", help="fail instead of falling back to SmolLM2 when the model is unavailable")
    b.add_argument("--force", action="store_true", help="rebuild outputs even when their inputs did not change")
    b.add_argument("--strict", action="store_true",
                   help="treat a page's layout warnings as errors: exit 2 and write nothing")
    b.add_argument("--pptx", choices=("image", "editable"),
                   help="the deck's PPTX: slide pictures, or editable text boxes (needs LibreOffice); "
                        "default: slides.pptx in novapress.yaml")
    b.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")

    r = sub.add_parser("render", help="render one storyboard page (or one panel) quickly")
    r.add_argument("storyboard", help="path of a storyboard YAML file")
    r.add_argument("--panel", help="render only this panel id")
    r.add_argument("--out", default="build", help="output folder (default: build)")
    r.add_argument("--prompt", help="replace the book's main question (or --demo's prompt)")
    r.add_argument("--demo", metavar="NAME", help="the demo whose prompt --prompt replaces (default: main_demo)")
    r.add_argument("--strict", action="store_true", help="treat layout warnings as errors: exit 2 and write nothing")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")

    n = sub.add_parser("new", help="start a new storyboard page that renders as is")
    n.add_argument("kind", choices=("page",), help="what to make (a storyboard page)")
    n.add_argument("name", help="its name, lowercase words joined by hyphens (storyboards/page-NN-NAME.yaml)")
    n.add_argument("--title", help="the page's title (default: from the name)")
    n.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    sub.add_parser("doctor", help="show what is installed and which model a build would use")

    c = sub.add_parser("clean", help="delete build outputs")
    c.add_argument("--out", default="build")
    c.add_argument("--cache", action="store_true", help="also delete the live-trace cache")

    for verb, helptext in (("present", "serve the comic pages and decks, redrawn and reloaded on save"),
                           ("preview", "the same as present")):
        pr = sub.add_parser(verb, help=helptext)
        pr.add_argument("name", nargs="?", metavar="DECK|PAGE",
                        help="open this deck or page (e.g. llm-inference-pipeline, page-05); default: the index")
        pr.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
        pr.add_argument("--port", type=int, default=8000)
        pr.add_argument("--out", default="build")
        pr.add_argument("--strict", action="store_true", help="show a page's layout warnings as errors")
        pr.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")

    bt = sub.add_parser("batch", help="one personal comic page per question of a file, and an index page")
    bt.add_argument("questions", metavar="QUESTIONS",
                    help="a text file (one question a line) or a CSV file with a 'question' and a 'name' column")
    bt.add_argument("--out", default="build/personal", help="output folder (default: build/personal)")
    bt.add_argument("-j", "--jobs", type=int, default=1, help="worker processes, each with the model loaded (default: 1)")
    bt.add_argument("--scheduler", metavar="ADDRESS",
                    help="make the pages on a Dask cluster (e.g. tcp://host:8786) instead of on this machine")
    bt.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")

    s = sub.add_parser("serve", help="serve the interactive lesson site with a live Ask box")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8001)
    s.add_argument("--out", default="build")
    s.add_argument("--classroom", action="store_true",
                   help="serve a class at once (Starlette on uvicorn): questions asked together are generated together")
    s.add_argument("--max-batch", type=int, default=32, help="with --classroom: most questions generated together")
    s.add_argument("--queue", type=int, default=64, help="with --classroom: most questions waiting; more get 429")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:   # --help, or a usage error already printed in one line
        return int(done.code or 0)
    if not args.command:
        _parser().print_help()
        return EXIT_BAD_INPUT
    try:
        os.chdir(Path(args.project))
    except OSError as err:
        print(f"novapress: cannot use project folder {args.project}: {err.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return _run(args) or EXIT_OK
    except InputError as err:
        for problem in err.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("novapress: interrupted; previous outputs are kept", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("NOVAPRESS_DEBUG"):
            raise
        print(f"error: internal error: {type(err).__name__}: {err} (a bug: rerun with NOVAPRESS_DEBUG=1 and report it)",
              file=sys.stderr)
        return EXIT_FAILED


# each command imports only what it runs: `novapress render` must not pay for marp, the site or torch
COMMANDS = {"build": ("build", "build"), "render": ("preview.render", "render_command"),
            "present": ("preview.server", "present_command"), "preview": ("preview.server", "present_command"),
            "new": ("scaffold", "new_command"), "doctor": ("doctor", "doctor_command"), "clean": ("build", "clean"), "serve": ("site.server", "serve"),
            "batch": ("batch", "batch")}


def _run(args) -> int:
    module, name = COMMANDS[args.command]
    if args.command == "serve" and args.classroom:    # Starlette and uvicorn: only for the classroom server
        module, name = "site.classroom", "serve_classroom"
    return getattr(importlib.import_module(f".{module}", __package__), name)(args)


if __name__ == "__main__":
    sys.exit(main())
