"""`novapress build`: the pipeline.

1. load and check everything (novapress.yaml, theme, cast, storyboards, decks' front matter,
   marp-cli and its browser) before anything runs or is written;
2. work out what the targets need (`plan`: a deck needs the pages whose panels it shows, the site
   every page and the decks, a page its demos' traces), then run the stages in order, each step
   skipped when its inputs did not change: live data -> comic pages -> slide decks -> the lesson
   site (renderer/stages/);
3. after a whole build, remove what a deleted storyboard or deck left behind.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .config import CONFIG_NAME, load_config, replaced_demo
from .errors import InputError, rel
from .progress import Reporter
from .project import DeckSource, Project, Targets, load_decks, load_project, project_config, select_targets
from .stages.comic import comic_stage
from .stages.live import live_stage
from .stages.site import demos_for_site, site_stage
from .stages.slides import pages_shown, preflight, slides_stage
from .steps import BuildState
from .storyboard import LoadedStoryboard


@dataclass
class Plan:
    """What a build brings up to date: the targets asked for and everything they need. A deck needs
    the pages whose panels it shows, the site needs every page and the decks, and each page needs
    the traces of its demos; each of those is still skipped when it is up to date."""

    pages: list[LoadedStoryboard] = field(default_factory=list)
    package: bool = False                 # comic.pdf and comic.cbz
    decks: list[DeckSource] = field(default_factory=list)
    site: bool = False
    demos: set[str] = field(default_factory=set)      # the traces it needs
    charted: set[str] = field(default_factory=set)    # the demos whose charts it writes


def plan(project: Project, targets: Targets) -> Plan:
    config = project.config
    wanted = Plan(package="comic" in targets.stages,
                  site="site" in targets.stages and config.site.build)
    if "slides" in targets.stages or targets.decks or wanted.site:
        paths = [d for d in project.decks if "slides" in targets.stages or wanted.site or d.stem in targets.decks]
        wanted.decks = load_decks(paths, config)
    pages = set(targets.pages)
    if "comic" in targets.stages or wanted.site:
        pages |= {sb.name for sb in project.storyboards}
    pages |= {sb.name for sb in pages_shown(wanted.decks, project)}
    wanted.pages = [sb for sb in project.storyboards if sb.name in pages]
    deck_demos = {d for ds in wanted.decks for d in ds.demos}
    wanted.demos = deck_demos | {d for sb in wanted.pages for d in sb.board.demos}
    if wanted.site:
        wanted.demos |= demos_for_site(project)
    live_asked = "live" in targets.stages
    if live_asked:
        wanted.demos |= set(config.demos)
    # charts of what the comic and the decks show (of every demo when `build live` is asked for by name)
    wanted.charted = project.comic_demos() | deck_demos | (set(config.demos) if live_asked and not targets.everything
                                                           else set())
    return wanted


def build(args) -> int:
    reporter = Reporter(quiet=args.quiet)
    # 1. load and check everything; nothing has run or been written yet
    demo = getattr(args, "demo", None)
    if demo is not None and args.prompt is None:
        raise InputError("--demo names the demo whose prompt --prompt replaces; give --prompt too")
    config = project_config(prompt=args.prompt, no_fallback=args.no_fallback, pptx=getattr(args, "pptx", None),
                            demo=demo)
    project = load_project(config)
    targets = select_targets(args.targets, project)
    todo = plan(project, targets)
    if args.prompt is not None:
        prompt_reaches(replaced_demo(config, demo),
                       [(rel(sb.path), "page", sb.board.demos) for sb in project.storyboards if sb.name in targets.pages]
                       + [(rel(d.path), "deck", d.demos) for d in todo.decks if d.path.stem in targets.decks])
    if todo.decks:
        preflight(config)                        # marp-cli and its browser are there

    # 2. the stages, in order, each doing only what the plan needs
    state = BuildState.open(project, Path(args.out), reporter, force=args.force, strict=getattr(args, "strict", False))
    if todo.demos:
        live_stage(state, sorted(todo.demos), refresh=args.refresh,
                   origin="--prompt" if args.prompt is not None else CONFIG_NAME, charts_for=todo.charted)
    if todo.pages or todo.package:
        comic_stage(state, todo.pages, package=todo.package)
    if todo.decks:
        slides_stage(state, todo.decks)
    if todo.site:
        site_stage(state)

    # 3. what a deleted storyboard or deck left behind goes (after a whole build only)
    if targets.everything:
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


def clean(args) -> int:
    """`novapress clean`: the output folder (and with --cache the trace cache) removed."""
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    if args.cache:
        config, _ = load_config(Path.cwd())
        shutil.rmtree(Path(config.live.cache_dir), ignore_errors=True)
    return 0
