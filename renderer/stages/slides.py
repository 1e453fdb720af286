"""The slides stage: every deck of `slides.sources` built by marp-cli (renderer.deck) into
build/slides/, only when what it shows changed; and `novapress present`.

A deck's step key is its rendered Markdown (which already holds every live value it
shows) plus the hashes of the files it references and of the theme set, so a deck is
re-rendered exactly when what it shows changes.
"""
from __future__ import annotations

from pathlib import Path

from ..config import CONFIG_NAME, BookConfig, ProjectConfig, load_config
from ..errors import InputError
from ..deck import build_deck, prepare
from ..deck.build import STRICT_NOTE
from ..deck.marp import NEEDS_BROWSER, find_browser, find_marp
from ..deck.present import present
from ..project import DeckSource
from ..steps import BuildState, code_hash, sha256_bytes, sha256_file, sha256_json
from .live import CHARTS, chart_file


def preflight(config: ProjectConfig) -> None:
    """Fail before anything is written when marp-cli or the browser it needs is missing."""
    find_marp()
    if any(f in NEEDS_BROWSER for f in config.slides.formats):
        find_browser()


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
            "code": code_hash("renderer/deck", "renderer/stages/slides.py"),
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
