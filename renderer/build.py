"""`novapress build`: the pipeline.

1. load and check everything (novapress.yaml, theme, cast, storyboards, decks' front matter,
   marp-cli and its browser) before anything runs or is written;
2. run the stages in order, each step skipped when its inputs did not change:
   live data -> comic pages -> slide decks -> the lesson site (renderer/stages/);
3. after a whole build, remove what a deleted storyboard or deck left behind.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .config import CONFIG_NAME, load_config, replaced_demo
from .errors import InputError, rel
from .progress import Reporter
from .project import Project, load_decks, load_project, project_config, select_targets
from .stages.comic import comic_stage
from .stages.live import live_stage
from .stages.site import demos_for_site, site_stage
from .stages.slides import preflight, slides_stage
from .steps import BuildState


def build(args) -> int:
    reporter = Reporter(quiet=args.quiet)
    # 1. load and check everything; nothing has run or been written yet
    demo = getattr(args, "demo", None)
    if demo is not None and args.prompt is None:
        raise InputError("--demo names the demo whose prompt --prompt replaces; give --prompt too")
    config = project_config(prompt=args.prompt, no_fallback=args.no_fallback, pptx=getattr(args, "pptx", None),
                            demo=demo)
    project = load_project(config)
    stages, names = select_targets(args.targets, project)
    decks = []
    if "slides" in stages:
        asked = {d.stem for d in project.decks} & names
        decks = load_decks([d for d in project.decks if not asked or d.stem in asked], config)
    if args.prompt is not None:
        prompt_reaches(replaced_demo(config, demo),
                       [(rel(sb.path), "page", sb.board.demos) for sb in project.storyboards if sb.name in names]
                       + [(rel(d.path), "deck", d.demos) for d in decks if d.path.stem in names])
    if decks:
        preflight(config)                        # marp-cli and its browser are there

    # 2. the stages, in order
    state = BuildState.open(project, Path(args.out), reporter, force=args.force, strict=getattr(args, "strict", False))
    charted, needed = _demos(project, stages, decks, whole_live=bool(args.targets))
    if needed:
        live_stage(state, sorted(needed), refresh=args.refresh,
                   origin="--prompt" if args.prompt is not None else CONFIG_NAME, charts_for=charted)
    if stages & {"comic", "slides", "site"}:     # the slides and the site show the comic's panels
        comic_stage(state, only=names if "comic" in stages else set(), skip="comic" not in stages)
    if "slides" in stages and decks:
        slides_stage(state, decks)
    if "site" in stages and config.site.build:
        site_stage(state)

    # 3. what a deleted storyboard or deck left behind goes (after a whole build only)
    if not args.targets:
        state.forget_unvisited()
    state.manifest.save()
    if state.built == 0:
        reporter.info(f"nothing to rebuild: {state.fresh} steps up to date in {rel(state.out)}/")
    else:
        reporter.info(f"built {state.built} steps ({state.fresh} up to date) into {rel(state.out)}/")
    return 0


def prompt_reaches(demo: str, asked: list[tuple[str, str, list[str]]]) -> None:
    """--prompt replaces one demo's prompt: a page or deck asked for by name (file, "page" or
    "deck", its demos) that does not show that demo would not change at all, which is a mistake
    to say rather than build."""
    missed = [(file, kind, shown) for file, kind, shown in asked if demo not in shown]
    if missed:
        raise InputError([f"{file}: --prompt replaces the prompt of demo '{demo}', which this {kind} does not show "
                          f"(its demos: {', '.join(shown) or 'none'}); "
                          + (f"choose the demo to replace with --demo {shown[0]}" if shown else
                             f"this {kind} shows no model data")
                          for file, kind, shown in missed])


def _demos(project: Project, stages: set[str], decks: list, *, whole_live: bool) -> tuple[set[str], set[str]]:
    """(charted, needed): the demos whose charts the build writes (those the comic and the decks
    show; every demo when `build live` is asked for by name), and every demo it needs a trace of."""
    config = project.config
    deck_demos = {d for ds in decks for d in ds.demos}
    needed = set(deck_demos)
    if stages & {"comic", "site"}:
        needed |= project.comic_demos()
    if "site" in stages and config.site.build:
        needed |= demos_for_site(project)
    if "live" in stages:
        needed |= set(config.demos)
    charted = project.comic_demos() | deck_demos | (set(config.demos) if "live" in stages and whole_live else set())
    return charted, needed


def clean(args) -> int:
    """`novapress clean`: the output folder (and with --cache the trace cache) removed."""
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    if args.cache:
        config, _ = load_config(Path.cwd())
        shutil.rmtree(Path(config.live.cache_dir), ignore_errors=True)
    return 0
