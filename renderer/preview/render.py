"""`novapress render STORYBOARD [--panel ID]`: one page (or one panel) into the build folder, fast.

Traces are taken as stored (no hub probe, no torch when every demo the page shows has one; a
demo never run runs once) and written to build/live/ with their charts when they changed. The
page's warnings are printed (errors with --strict, and then nothing is written).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError, rel, suggest
from ..progress import Reporter
from ..storyboard import load_cast, load_storyboard
from ..theme import load_theme
from .session import (STRICT_NOTE, cast_file, check_prompt_shown, context_for, page_traces, preview_config,
                      write_render)
from ..draw import render_page


def render_command(args) -> int:
    reporter = Reporter(quiet=args.quiet)
    demo = getattr(args, "demo", None)
    config = preview_config(args.prompt, demo)
    path = Path(args.storyboard)
    cast, _ = load_cast(cast_file(config, path))
    sb = load_storyboard(path, cast=cast, demos=config.demos)
    if args.prompt is not None:
        check_prompt_shown(config, demo, sb.file, sb.board.demos)
    ids = [p.id for p in sb.board.panels]
    if args.panel and args.panel not in ids:
        raise InputError(f"{rel(path)}: no panel '{args.panel}'{suggest(args.panel, ids)}")
    theme = load_theme(config.comic.theme)
    out = Path(args.out)
    traces = page_traces(config, sb.board.demos, out, theme, reporter,
                         origin="--prompt" if args.prompt is not None else "novapress.yaml")
    render = render_page(sb, context_for(config, theme, cast, traces), only_panel=args.panel)
    if render.warnings and getattr(args, "strict", False):
        raise InputError(render.warnings + [STRICT_NOTE])        # --strict: nothing is written
    for w in render.warnings:
        reporter.warn(str(w))
    names = {k: m.name for k, m in cast.items()}
    for p in write_render(sb, render, out, config, names, panel=args.panel):
        reporter.info(f"wrote {rel(p)}")
    return 0
