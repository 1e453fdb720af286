"""Drawing for an author: a page from the stored traces, written into the build folder, and an
AuthorSession that keeps the project loaded and redraws only what a saved file touches.

What a change redraws:
- a storyboard: its page (and the traces it newly asks for); decks showing its panels reload;
- a deck (slides/*.md): that deck's HTML only; a deck theme or image: every deck's HTML;
- the cast, the comic theme or novapress.yaml: everything is loaded again and redrawn.
Decks are built as HTML only here (PDF, PPTX and PNG are `novapress build`'s).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ..atomic import write_bytes, write_text
from ..comic_files import png_bytes, write_page
from ..config import CONFIG_NAME, ProjectConfig, load_config, replaced_demo, with_prompt
from ..draw import render_page
from ..errors import BuildError, InputError, Problem, rel
from ..progress import Reporter
from ..project import load_decks
from ..rendering import PageRender, RenderContext
from ..storyboard import CastMember, LoadedStoryboard, load_cast, load_storyboard
from ..theme import Theme, load_theme, theme_file
from ..stages.live import demo_traces, write_charts

STRICT_NOTE = "--strict: the warnings above are errors; nothing was written"


def preview_config(prompt: str | None = None, demo: str | None = None) -> ProjectConfig:
    """novapress.yaml with --prompt (and --demo) applied."""
    if demo is not None and prompt is None:
        raise InputError("--demo names the demo whose prompt --prompt replaces; give --prompt too")
    config, _ = load_config(Path.cwd())
    return with_prompt(config, prompt, demo) if prompt is not None else config


def cast_file(config: ProjectConfig, storyboard: Path | None = None) -> Path:
    """The cast.yaml beside a storyboard, else the storyboards folder's."""
    if storyboard is not None and (storyboard.parent / "cast.yaml").exists():
        return storyboard.parent / "cast.yaml"
    return Path(config.comic.storyboards) / "cast.yaml"


def trace_text(trace: dict) -> str:
    """A trace as build/live/<demo>.json holds it (the live stage writes the same text)."""
    return json.dumps(trace, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def page_traces(config: ProjectConfig, demos: list[str], out: Path, theme: Theme, reporter: Reporter,
                origin: str = CONFIG_NAME) -> dict[str, dict]:
    """The traces a page shows, stored ones first (a model runs only for a demo never run), each
    written to <out>/live/<demo>.json, with its charts when it changed (an attention overview is
    looked at there, in live/charts/)."""
    if not demos:
        return {}
    traces = demo_traces({d: config.demos[d] for d in demos}, config, reporter=reporter, origin=origin,
                         cached_first=True)
    live = out / "live"
    for name in demos:
        text = trace_text(traces[name])
        target = live / f"{name}.json"
        try:
            same = target.read_text(encoding="utf-8") == text
        except OSError:
            same = False
        if not same:
            write_text(target, text)
            written = write_charts(traces[name], live / "charts", name, theme)
            reporter.info(f"wrote {rel(target)} and {len(written)} charts in {rel(live / 'charts')}/")
    return traces


def context_for(config: ProjectConfig, theme: Theme, cast: dict[str, CastMember], traces: dict) -> RenderContext:
    c = config
    return RenderContext(theme=theme, cast=cast, traces=traces, page_size=tuple(c.comic.page_size), seed=c.seed,
                         book=c.book.model_dump())


def write_render(sb: LoadedStoryboard, render: PageRender, out: Path, config: ProjectConfig,
                 names: dict[str, str], panel: str | None = None) -> list[Path]:
    comic = out / "comic"
    if panel:
        target = comic / "panels" / f"{sb.page_name}-{panel}.png"
        return [write_bytes(target, png_bytes(render.panels[panel].image.convert("RGB"), config.comic.dpi))]
    return write_page(sb, render, comic, config.comic.dpi, names)


def check_prompt_shown(config: ProjectConfig, demo: str | None, file: str, shown: list[str]) -> None:
    """--prompt on a page that does not show the replaced demo would change nothing: say so."""
    replaced = replaced_demo(config, demo)
    if replaced not in shown:
        raise InputError(f"{file}: --prompt replaces the prompt of demo '{replaced}', which this page does not show "
                         f"(its demos: {', '.join(shown) or 'none'}); "
                         + (f"choose the demo to replace with --demo {shown[0]}" if shown else
                            "this page shows no model data"))


@dataclass
class Update:
    """What one round of redrawing did: the files written, the problems found, how long it took."""

    written: list[Path] = field(default_factory=list)
    errors: list[Problem | str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


class AuthorSession:
    """The project kept loaded between saves (config, theme, cast, every storyboard, traces), so a
    saved storyboard costs one page's drawing, not a process start and a project load."""

    def __init__(self, out: Path, reporter: Reporter, *, strict: bool = False):
        self.out = Path(out)
        self.reporter = reporter
        self.strict = strict
        self.config: ProjectConfig = load_config(Path.cwd())[0]
        self.theme: Theme | None = None
        self.cast: dict[str, CastMember] = {}
        self.boards: dict[Path, LoadedStoryboard] = {}
        self.traces: dict[str, dict] = {}
        self.page_warnings: dict[str, list[Problem]] = {}   # page name -> its warnings as last drawn
        self.page_errors: dict[str, list[Problem | str]] = {}

    # --- what is watched, and what a path is -------------------------------------------------

    @property
    def storyboards_dir(self) -> Path:
        return Path(self.config.comic.storyboards)

    @property
    def decks_dir(self) -> Path:
        return Path(self.config.slides.sources)

    @property
    def deck_theme_dir(self) -> Path:
        return Path(self.config.slides.theme_dir)

    def watched(self) -> list[Path]:
        paths = [self.storyboards_dir, self.decks_dir, self.deck_theme_dir, Path(CONFIG_NAME)]
        comic_theme = theme_file(self.config.comic.theme)
        if comic_theme is not None and _inside(comic_theme, Path.cwd()):
            paths.append(comic_theme)
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def decks(self) -> list[Path]:
        return sorted(self.decks_dir.glob("*.md")) if self.decks_dir.is_dir() else []

    def pages(self) -> list[LoadedStoryboard]:
        return sorted(self.boards.values(), key=lambda sb: sb.board.page)

    # --- loading -------------------------------------------------------------------------------

    def load(self) -> Update:
        """Everything again: config, theme, cast and every storyboard (problems reported, not raised)."""
        update = Update()
        try:
            self.config = load_config(Path.cwd())[0]
            self.theme = load_theme(self.config.comic.theme)
            path = cast_file(self.config)
            self.cast = load_cast(path)[0] if path.exists() else {}
        except InputError as err:
            update.errors += err.problems
            return update
        self.boards = {}
        for path in sorted(self.storyboards_dir.glob("*.yaml")):
            if path.name != "cast.yaml":
                self._load_board(path, update)
        return update

    def _load_board(self, path: Path, update: Update) -> LoadedStoryboard | None:
        try:
            sb = load_storyboard(path, cast=self.cast, demos=self.config.demos)
        except InputError as err:
            update.errors += err.problems
            # the page as last drawn stays listed, showing why it is not redrawn
            old = self.boards.get(path.resolve())
            if old is not None:
                self.page_errors[old.page_name] = err.problems
            return None
        other = next((o for p, o in self.boards.items() if o.board.page == sb.board.page and p != path.resolve()), None)
        if other is not None:
            line, col = sb.where("page")
            update.errors.append(Problem(sb.file, line, col, f"page {sb.board.page} is also {other.file}; page "
                                                             f"numbers must be unique"))
            return None
        self.boards[path.resolve()] = sb
        return sb

    # --- drawing -------------------------------------------------------------------------------

    def draw(self, sb: LoadedStoryboard, update: Update) -> None:
        """Draw one page from the stored traces and write it (PNG, panels, transcript)."""
        try:
            missing = [d for d in sb.board.demos if d not in self.traces]
            if missing:
                self.traces |= page_traces(self.config, missing, self.out, self.theme, self.reporter)
            ctx = context_for(self.config, self.theme, self.cast, self.traces)
            render = render_page(sb, ctx)
        except (InputError, BuildError) as err:
            problems = err.problems if isinstance(err, InputError) else [str(err)]
            update.errors += problems
            self.page_errors[sb.page_name] = problems
            return
        self.page_errors.pop(sb.page_name, None)
        self.page_warnings[sb.page_name] = render.warnings
        update.warnings += render.warnings
        if render.warnings and self.strict:
            update.errors += render.warnings + [STRICT_NOTE]
            return
        names = {k: m.name for k, m in self.cast.items()}
        update.written += write_render(sb, render, self.out, self.config, names)

    def draw_missing(self) -> Update:
        """Pages with no PNG in the build folder yet (a first preview)."""
        started = time.perf_counter()
        update = Update()
        for sb in self.pages():
            if not (self.out / "comic" / "pages" / f"{sb.page_name}.png").exists():
                self.draw(sb, update)
        update.seconds = time.perf_counter() - started
        return update

    def deck_html(self, decks: list[Path], update: Update) -> None:
        """The HTML of these decks, with marp directly (what a speaker waits for while editing)."""
        # the deck machinery (marp, its checks) is imported only when a deck is drawn: `render` never needs it
        from ..deck import build_deck
        from ..stages.slides import deck_context

        try:
            sources = load_decks(decks, self.config)
        except InputError as err:
            update.errors += err.problems
            return
        for ds in sources:
            missing = [d for d in ds.demos if d not in self.traces]
            try:
                if missing:
                    self.traces |= page_traces(self.config, missing, self.out, self.theme, self.reporter)
                self._charts_for(ds.demos)
                state = SimpleNamespace(out=self.out, traces=self.traces,
                                        project=SimpleNamespace(config=self.config))
                written = build_deck(ds.path, self.out, context=deck_context(state, ds.demos), formats=["html"],
                                     theme_dir=self.deck_theme_dir, timeout=self.config.slides.timeout,
                                     reporter=Reporter(quiet=True), strict=self.strict)
                update.written += written
                update.warnings += written.warnings
            except (InputError, BuildError) as err:
                update.errors += err.problems if isinstance(err, InputError) else [str(err)]

    def _charts_for(self, demos: list[str]) -> None:
        """A deck shows charts of its demos: draw those not in the build folder yet."""
        charts = self.out / "live" / "charts"
        for d in demos:
            if not any(charts.glob(f"{d}-*.png")):
                write_text(self.out / "live" / f"{d}.json", trace_text(self.traces[d]))
                write_charts(self.traces[d], charts, d, self.theme)

    # --- one round after saved files ---------------------------------------------------------

    def update(self, changed: list[Path]) -> Update:
        """Redraw what `changed` touches; every problem is in the Update, nothing raised."""
        started = time.perf_counter()
        update = Update()
        changed = [Path(p).resolve() for p in changed]
        sb_dir, decks_dir = self.storyboards_dir.resolve(), self.decks_dir.resolve()
        theme_dir = self.deck_theme_dir.resolve()
        everything = any(p.name == CONFIG_NAME or p.name == "cast.yaml" or (p.suffix in (".yaml", ".yml")
                         and not _inside(p, sb_dir) and not _inside(p, decks_dir)) for p in changed)
        if everything:
            update = self.load()
            self.traces = {}
            if update.ok:
                for sb in self.pages():
                    self.draw(sb, update)
                self.deck_html(self.decks(), update)
        else:
            boards = [p for p in changed if _inside(p, sb_dir) and p.suffix in (".yaml", ".yml") and p.exists()]
            for p in changed:
                if _inside(p, sb_dir) and not p.exists():
                    self.boards.pop(p, None)
            for path in boards:
                sb = self._load_board(path, update)
                if sb is not None:
                    self.draw(sb, update)
            deck_files = [p for p in changed if _inside(p, decks_dir) and not _inside(p, theme_dir)]
            if any(_inside(p, theme_dir) or p.suffix != ".md" for p in deck_files) or \
                    any(_inside(p, theme_dir) for p in changed):
                self.deck_html(self.decks(), update)        # a theme or an image: any deck may use it
            else:
                decks = [p for p in deck_files if p.suffix == ".md" and p.exists()]
                if decks:
                    self.deck_html(decks, update)
        update.seconds = time.perf_counter() - started
        return update


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False
