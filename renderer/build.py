"""The build graph: load and validate -> live data -> comic pages and slides -> packaged outputs.

Each step names its inputs (file hashes, trace hashes, the code's own hash, the settings
it reads) and is skipped when they match the manifest and its outputs are untouched.
Everything is validated before anything is written, so bad input leaves build/ as it was.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .config import ProjectConfig, load_config, with_prompt
from .errors import InputError, Problem, rel, suggest
from .manifest import Manifest, sha256_file, sha256_json
from .progress import Reporter
from .storyboard import CastMember, LoadedStoryboard, load_cast, load_storyboard
from .theme import Theme, load_theme

PACKAGE_DIRS = ("renderer", "live_demo")
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".svg", ".j2", ".css", ".js", ".html", ".json"}
STAGES = ("live", "comic", "slides", "site")
STRICT_NOTE = "--strict: the warnings above are errors; no page was written"


@lru_cache(maxsize=None)
def code_hash(part: str = "") -> str:
    """Hash of novapress's own source: a code change rebuilds what it draws."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent.parent
    for pkg in PACKAGE_DIRS:
        for path in sorted((here / pkg).rglob("*")):
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                if part and part not in str(path.relative_to(here)):
                    continue
                h.update(str(path.relative_to(here)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class Project:
    root: Path
    config: ProjectConfig
    theme: Theme
    theme_hash: str
    cast: dict[str, CastMember]
    cast_hash: str
    storyboards: list[LoadedStoryboard]
    decks: list[Path] = field(default_factory=list)

    @property
    def names(self) -> dict[str, str]:
        """Cast id -> the name readers see."""
        return {k: m.name for k, m in self.cast.items()}

    def demos_for_comic(self) -> set[str]:
        return {d for sb in self.storyboards for d in sb.board.demos}


def load_project(config: ProjectConfig, *, storyboard_filter: list[str] | None = None) -> Project:
    """Read and check the cast, theme and every storyboard; raise one InputError with all problems."""
    root = Path.cwd()
    problems: list[Problem] = []
    theme = load_theme(config.comic.theme)
    theme_path = Path(config.comic.theme)
    if theme_path.suffix not in (".yaml", ".yml"):
        from .theme import THEMES_DIR
        theme_path = THEMES_DIR / f"{config.comic.theme}.yaml"
    sb_dir = root / config.comic.storyboards
    cast_path = sb_dir / "cast.yaml"
    cast: dict[str, CastMember] = {}
    cast_hash = ""
    if cast_path.exists():
        try:
            cast, _ = load_cast(cast_path)
            cast_hash = sha256_file(cast_path)
        except InputError as err:
            problems += err.problems
    paths = sorted(p for p in sb_dir.glob("*.yaml") if p.name != "cast.yaml") if sb_dir.is_dir() else []
    storyboards = []
    for path in paths:
        try:
            storyboards.append(load_storyboard(path, cast=cast, demos=config.demos))
        except InputError as err:
            problems += err.problems
    pages: dict[int, LoadedStoryboard] = {}
    for sb in storyboards:
        other = pages.get(sb.board.page)
        if other is not None:
            line, col = sb.where("page")
            problems.append(Problem(sb.file, line, col, f"page {sb.board.page} is also {other.file}; page numbers must be unique"))
        pages[sb.board.page] = sb
    if problems:
        raise InputError(problems)
    storyboards.sort(key=lambda sb: sb.board.page)
    decks = sorted((root / config.slides.sources).glob("*.md")) if (root / config.slides.sources).is_dir() else []
    return Project(root, config, theme, sha256_file(theme_path), cast, cast_hash, storyboards, decks)


# --- the build command ------------------------------------------------------------------------

@dataclass
class BuildState:
    project: Project
    out: Path
    manifest: Manifest
    reporter: Reporter
    traces: dict[str, dict] = field(default_factory=dict)
    trace_hashes: dict[str, str] = field(default_factory=dict)
    built: int = 0
    fresh: int = 0
    steps: set[str] = field(default_factory=set)
    strict: bool = False                                     # a page that warns fails the build
    warnings: list[Problem] = field(default_factory=list)    # every page's warnings, this build or stored

    def up_to_date(self, step: str, inputs: dict[str, str]) -> bool:
        self.steps.add(step)
        if self.manifest.fresh(step, inputs):
            self.fresh += 1
            return True
        return False

    def done(self, step: str, inputs: dict[str, str], outputs: list[Path], warnings: list | None = None) -> None:
        # outputs the step made last time but not now (a panel removed from a page) are stale: delete them
        fresh = {str(p.relative_to(self.out)) for p in outputs}
        for old in self.manifest.steps.get(step, {}).get("outputs", {}):
            if old not in fresh:
                (self.out / old).unlink(missing_ok=True)
        self.manifest.record(step, inputs, outputs, warnings)
        self.manifest.save()   # after every step: an interrupted build keeps what it finished
        self.built += 1


def _select(targets: list[str], project: Project) -> tuple[set[str], set[str]]:
    """(stages, names) the user asked for; names are storyboard stems, page names or deck stems."""
    if not targets:
        return set(STAGES), set()
    stages, names = set(), set()
    known = {sb.name: sb for sb in project.storyboards} | {sb.page_name: sb for sb in project.storyboards}
    decks = {d.stem for d in project.decks}
    for t in targets:
        if t in STAGES:
            stages.add(t)
        elif t in known:
            stages.add("comic")
            names.add(known[t].name)
        elif t in decks:
            stages.add("slides")
            names.add(t)
        else:
            raise InputError(f"unknown build target '{t}'{suggest(t, list(STAGES) + list(known) + list(decks))}")
    return stages, names


def build(args) -> int:
    reporter = Reporter(quiet=args.quiet)
    config, _ = load_config(Path.cwd())
    if args.prompt is not None:
        config = with_prompt(config, args.prompt)
    if args.no_fallback:
        config = config.model_copy(update={"model": config.model.model_copy(update={"fallback": False})})
    project = load_project(config)
    stages, names = _select(args.targets, project)
    out = Path(args.out)

    asked_decks = {d.stem for d in project.decks} & names
    decks = [d for d in project.decks if not asked_decks or d.stem in asked_decks]
    deck_sources = []
    if "slides" in stages and decks:
        from .deck_stage import load_decks, preflight
        deck_sources = load_decks(decks, project)      # validates front matter before anything runs
        preflight(project.config)                      # browser present? (one clear line if not)

    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(out)
    if args.force:
        manifest.steps.clear()
    state = BuildState(project, out, manifest, reporter, strict=getattr(args, "strict", False))

    needed = set()
    if "comic" in stages or "site" in stages:
        needed |= project.demos_for_comic()
    for d in deck_sources:
        needed |= set(d.demos)
    if "site" in stages and config.site:
        from .site_stage import site_demos
        needed |= site_demos(project)
    if "live" in stages:
        needed |= set(config.demos)
    if needed:
        shown = project.demos_for_comic() | {d for ds in deck_sources for d in ds.demos}
        live_stage(state, sorted(needed), refresh=args.refresh,
                   origin="--prompt" if args.prompt is not None else "novapress.yaml",
                   charts_for=shown | (set(config.demos) if "live" in stages and args.targets else set()))

    if "comic" in stages or "slides" in stages or "site" in stages:
        comic_stage(state, only=names if "comic" in stages else set(), skip=("comic" not in stages))
    if "slides" in stages and deck_sources:
        from .deck_stage import slides_stage
        slides_stage(state, deck_sources)
    if "site" in stages and config.site:
        from .site_stage import site_stage
        site_stage(state)
    if not args.targets:
        for step in set(manifest.steps) - state.steps:          # a storyboard or deck that was deleted
            for old in manifest.steps[step].get("outputs", {}):
                (out / old).unlink(missing_ok=True)
        manifest.forget_missing(state.steps)
    manifest.save()
    if state.built == 0:
        reporter.info(f"nothing to rebuild: {state.fresh} steps up to date in {rel(out)}/")
    else:
        reporter.info(f"built {state.built} steps ({state.fresh} up to date) into {rel(out)}/")
    return 0


# --- live data -----------------------------------------------------------------------------------

def live_stage(state: BuildState, names: list[str], *, refresh: bool = False, origin: str = "novapress.yaml",
               charts_for: set[str] = frozenset()) -> None:
    """Traces for the demos the build shows (from the freeze cache, or from a real model run), and
    charts of the ones the comic and the decks show."""
    from .live_stage import get_traces

    config = state.project.config
    missing = [n for n in names if n not in config.demos]
    if missing:
        raise InputError(f"demo(s) {', '.join(missing)} are used but not defined under demos: in novapress.yaml")
    traces = get_traces({n: config.demos[n] for n in names}, config, refresh=refresh, reporter=state.reporter,
                        origin=origin)
    live = state.out / "live"
    from . import workers
    from .atomic import write_text

    todo = []
    for name in names:
        trace = traces[name]
        text = json.dumps(trace, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        state.traces[name] = trace
        state.trace_hashes[name] = digest
        charted = name in charts_for
        inputs = {"trace": digest, "code": code_hash("live_demo"), "charts": str(charted)}
        if charted:   # the charts' colours are the theme's
            inputs["theme"] = state.project.theme_hash
        if not state.up_to_date(f"live:{name}", inputs):
            todo.append((name, text, charted, inputs))
    if not todo:
        return
    state.reporter.step(f"live data and charts: {', '.join(n for n, *_ in todo)}")
    charts = workers.run_all(_charts_job, [(traces[n], live / "charts", n, state.project.theme)
                                              for n, _, charted, _ in todo if charted])
    charts_by_name = dict(zip([n for n, _, charted, _ in todo if charted], charts))
    for name, text, charted, inputs in todo:
        outputs = [write_text(live / f"{name}.json", text)] + charts_by_name.get(name, [])
        state.done(f"live:{name}", inputs, outputs)


def _charts_job(job: tuple) -> list[Path]:
    from .live_stage import write_charts
    return write_charts(*job)


# --- comic ---------------------------------------------------------------------------------------

def render_context(state_or_project, traces: dict[str, dict]):
    from .rendering import RenderContext

    project = state_or_project if isinstance(state_or_project, Project) else state_or_project.project
    c = project.config
    return RenderContext(theme=project.theme, cast=project.cast, traces=traces, page_size=tuple(c.comic.page_size),
                         seed=c.seed, book=c.book.model_dump())


def page_inputs(state: BuildState, sb: LoadedStoryboard) -> dict[str, str]:
    c = state.project.config
    inputs = {
        "storyboard": sha256_file(sb.path),
        "cast": state.project.cast_hash,
        "theme": state.project.theme_hash,
        "code": code_hash(),
        "settings": sha256_json({"page_size": c.comic.page_size, "dpi": c.comic.dpi, "seed": c.seed,
                                 "book": c.book.model_dump()}),
    }
    for d in sb.board.demos:
        inputs[f"demo:{d}"] = state.trace_hashes.get(d, "")
    return inputs


def comic_stage(state: BuildState, *, only: set[str], skip: bool = False) -> None:
    """One step per page (PNG, panels, transcript); then the PDF and CBZ that contain them."""
    from .comic_files import write_cbz, write_page, write_pdf
    from .draw import render_page

    project = state.project
    c = project.config
    comic = state.out / "comic"
    boards = [sb for sb in project.storyboards if not only or sb.name in only]
    todo = []
    warnings: dict[str, list[Problem]] = {}
    for sb in boards:
        inputs = page_inputs(state, sb)
        if skip and (comic / "pages" / f"{sb.page_name}.png").exists():
            continue
        if state.up_to_date(f"page:{sb.name}", inputs):
            warnings[sb.name] = state.manifest.warnings(f"page:{sb.name}")   # an unchanged page warns again
        else:
            todo.append((sb, inputs))
    renders = {}
    if todo:
        ctx = render_context(state, state.traces)
        for sb, inputs in todo:                  # render every page before writing any:
            state.reporter.step(f"drawing {sb.page_name} ({rel(sb.path)})")
            renders[sb.name] = render_page(sb, ctx)   # a bad page stops the build with build/ untouched
            warnings[sb.name] = renders[sb.name].warnings
    found = [w for sb in boards for w in warnings.get(sb.name, [])]
    state.warnings += found
    if found and state.strict:                   # --strict: a warning is an error, and nothing is written
        raise InputError(found + [STRICT_NOTE])
    for w in found:
        state.reporter.warn(str(w))
    if todo:
        with state.reporter.steps(len(todo), "writing pages"):
            for sb, inputs in todo:
                state.reporter.step(f"writing {sb.page_name}")
                outputs = write_page(sb, renders[sb.name], comic, c.comic.dpi, project.names)
                state.done(f"page:{sb.name}", inputs, outputs, warnings.get(sb.name))
    if skip or only:
        return
    pages = [(sb, comic / "pages" / f"{sb.page_name}.png") for sb in project.storyboards]
    inputs = {f"page:{sb.page_name}": sha256_file(p) for sb, p in pages if p.exists()}
    inputs["book"] = sha256_json(c.book.model_dump())
    inputs["formats"] = ",".join(c.comic.formats)
    inputs["code"] = code_hash("renderer/comic_files.py")
    if pages and not state.up_to_date("comic:package", inputs):
        outputs = []
        titled = [(f"{sb.board.page}. {sb.board.title}" if sb.board.page else f"Cover: {sb.board.title}", p)
                  for sb, p in pages]
        if "pdf" in c.comic.formats:
            state.reporter.step("writing comic.pdf")
            outputs.append(write_pdf(titled, comic / "comic.pdf", c.comic.dpi, c.book.title, c.book.author))
        if "cbz" in c.comic.formats:
            state.reporter.step("writing comic.cbz")
            outputs.append(write_cbz([(sb.board.page, sb.board.title, p) for sb, p in pages], comic / "comic.cbz",
                                     title=c.book.title, author=c.book.author, language=c.book.language))
        state.done("comic:package", inputs, outputs)


# --- novapress render ----------------------------------------------------------------------------

def render_one(args) -> int:
    """Render one storyboard page (or one panel) into build/comic, for fast iteration."""
    reporter = Reporter(quiet=args.quiet)
    config, _ = load_config(Path.cwd())
    if args.prompt is not None:
        config = with_prompt(config, args.prompt)
    path = Path(args.storyboard)
    sb_dir = Path(config.comic.storyboards)
    cast_path = (path.parent if (path.parent / "cast.yaml").exists() else sb_dir) / "cast.yaml"
    cast, _ = load_cast(cast_path)
    sb = load_storyboard(path, cast=cast, demos=config.demos)
    if args.panel and args.panel not in [p.id for p in sb.board.panels]:
        raise InputError(f"{rel(path)}: no panel '{args.panel}'{suggest(args.panel, [p.id for p in sb.board.panels])}")
    theme = load_theme(config.comic.theme)
    project = Project(Path.cwd(), config, theme, "", cast, "", [sb])
    from .live_stage import get_traces
    traces = get_traces({d: config.demos[d] for d in sb.board.demos}, config, reporter=reporter) if sb.board.demos else {}
    from .comic_files import png_bytes, write_page
    from .draw import render_page
    from .atomic import write_bytes

    render = render_page(sb, render_context(project, traces), only_panel=args.panel)
    if render.warnings and getattr(args, "strict", False):
        raise InputError(render.warnings + [STRICT_NOTE])        # --strict: nothing is written
    for w in render.warnings:
        reporter.warn(str(w))
    comic = Path(args.out) / "comic"
    if args.panel:
        target = comic / "panels" / f"{sb.page_name}-{args.panel}.png"
        write_bytes(target, png_bytes(render.panels[args.panel].image.convert("RGB"), config.comic.dpi))
        reporter.info(f"wrote {rel(target)}")
    else:
        for p in write_page(sb, render, comic, config.comic.dpi, project.names):
            reporter.info(f"wrote {rel(p)}")
    return 0


def clean(args) -> int:
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    if args.cache:
        config, _ = load_config(Path.cwd())
        shutil.rmtree(Path(config.live.cache_dir), ignore_errors=True)
    return 0
