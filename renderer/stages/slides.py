"""The slides stage: every deck of `slides.sources` built by marp-cli (renderer.deck) into
build/slides/, only when what it shows changed; and `novapress present`.

A deck's step key is its rendered Markdown (which already holds every live value it
shows) plus the hashes of the files it references and of the theme set, so a deck is
re-rendered exactly when what it shows changes.
"""
from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import nodes

from ..config import CONFIG_NAME, BookConfig, ProjectConfig, load_config
from ..errors import InputError
from ..deck import build_deck, prepare
from ..deck.build import STRICT_NOTE
from ..deck.marp import NEEDS_BROWSER, find_browser, find_marp
from ..deck.present import present
from ..project import DeckSource, Project
from ..storyboard import LoadedStoryboard
from ..templating import make_env
from ..steps import BuildState, code_hash, sha256_bytes, sha256_file, sha256_json
from .live import CHARTS, chart_file


# The code that turns a deck into its outputs (code_hash: these modules and what they import, and this file).
DECK_CODE = ("renderer.deck.build", "renderer/stages/slides.py")


def preflight(config: ProjectConfig) -> None:
    """Fail before anything is written when marp-cli or the browser it needs is missing."""
    find_marp()
    if any(f in NEEDS_BROWSER for f in config.slides.formats):
        find_browser()


# Decks show their panels as {{ panels["page-05-p1"] }}: read here to know which pages a deck needs.
_PARSER = make_env(trim_blocks=True, lstrip_blocks=True)


def panels_shown(ds: DeckSource) -> set[str] | None:
    """The comic panels a deck's template names (`panels["page-05-p1"]` or `panels.x`); None when it
    uses `panels` some other way (a loop, a computed name), so it may show any of them."""
    if not ds.deck.templated:
        return set()
    try:
        tree = _PARSER.parse(ds.deck.text)
    except jinja2.TemplateSyntaxError:
        return set()                 # the deck's own build reports it, located
    named, uses = set(), 0
    for node in tree.find_all(nodes.Name):
        if node.name == "panels" and node.ctx == "load":
            uses += 1
    for node in tree.find_all((nodes.Getitem, nodes.Getattr)):
        if isinstance(node.node, nodes.Name) and node.node.name == "panels":
            key = node.arg.value if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                else getattr(node, "attr", None)
            if isinstance(key, str):
                named.add(key)
    literal = sum(1 for node in tree.find_all((nodes.Getitem, nodes.Getattr))
                  if isinstance(node.node, nodes.Name) and node.node.name == "panels"
                  and (isinstance(node, nodes.Getattr) or isinstance(node.arg, nodes.Const)))
    return named if literal == uses else None


def pages_shown(decks: list[DeckSource], project: Project) -> list[LoadedStoryboard]:
    """The storyboards whose panels `decks` show, in page order."""
    panel_page = {f"{sb.page_name}-{p.id}": sb.name for sb in project.storyboards for p in sb.board.panels}
    wanted: set[str] = set()
    for ds in decks:
        shown = panels_shown(ds)
        wanted |= set(panel_page.values()) if shown is None else {panel_page[k] for k in shown if k in panel_page}
    return [sb for sb in project.storyboards if sb.name in wanted]


def slides_stage(state: BuildState, decks: list[DeckSource]) -> None:
    config = state.project.config
    theme_dir = Path(config.slides.theme_dir)
    for ds in decks:
        context = deck_context(state, ds.demos)
        prepared = prepare(ds.path, state.out, context=context, theme_dir=theme_dir)
        files = sorted({a.file for a in prepared.assets} | {t.path for t in prepared.themes}
                       | {Path(p) for t in prepared.themes for p in t.assets()})
        inputs = {
            "markdown": sha256_bytes(prepared.markdown.encode()),
            "files": sha256_json({str(f): sha256_file(f) for f in files if f.exists()}),
            "formats": ",".join(config.slides.formats),
            "code": code_hash(*DECK_CODE),
            "marp": sha256_file(Path("package-lock.json")) if Path("package-lock.json").exists() else "",
        }
        step = f"slides:{ds.path.stem}"
        if state.up_to_date(step, inputs):
            stored = state.manifest.warnings(step)   # an unchanged deck warns again (legibility)
            state.warnings += stored
            if stored and state.strict:
                raise InputError(stored + [STRICT_NOTE])
            for w in stored:
                state.reporter.warn(str(w))
            continue
        state.reporter.step(f"slides: {ds.path.name} (marp-cli)")
        written = build_deck(ds.path, state.out, context=context, formats=config.slides.formats,
                             theme_dir=theme_dir, timeout=config.slides.timeout, reporter=state.reporter,
                             strict=state.strict)
        state.warnings += written.warnings
        state.done(step, inputs, [p for p in written if p.exists()], written.warnings)


def deck_context(state: BuildState, demos: list[str]) -> dict:
    """Template context of a deck: traces, chart paths, panel paths, the model's name, the book."""
    out = state.out
    charts = {}
    for d in demos:
        charts[d] = {}
        for chart in CHARTS:
            for suffix, variant in (("", "dark"), ("_light", "light")):
                path = chart_file(out / "live" / "charts", d, chart, variant, "png")
                if path.exists():
                    charts[d][chart.replace("-", "_") + suffix] = str(path.relative_to(out))
    panels = {p.stem: str(p.relative_to(out)) for p in sorted((out / "comic" / "panels").glob("*.png"))}
    traces = {d: state.traces[d] for d in demos}
    models = sorted({t["model"]["display"] for t in traces.values()})
    return {"demos": traces, "charts": charts, "panels": panels, "model": " + ".join(models) or "",
            "book": BookInfo(state.project.config.book)}


class BookInfo(str):
    """The book in a deck template: `{{ book }}` is its title; `book.author` etc. also work."""

    def __new__(cls, book: BookConfig):
        self = super().__new__(cls, book.title)
        self.title, self.author, self.language = book.title, book.author, book.language
        return self


def present_decks(args) -> int:
    """`novapress present`: serve the decks of `slides.sources`, rebuilt and reloaded on change."""
    config, _ = load_config(Path.cwd())
    return present(args, decks_dir=Path(config.slides.sources), theme_dir=Path(config.slides.theme_dir),
                   watch=(Path(config.comic.storyboards), Path(CONFIG_NAME)))
