"""The build's slides stage: which decks, their live data, and marp-cli runs only when needed.

A deck's step key is its rendered Markdown (which already holds every live value it
shows) plus the hashes of the files it references and of the theme set, so a deck is
re-rendered exactly when what it shows changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import ProjectConfig
from .errors import BuildError, InputError, suggest
from .manifest import sha256_bytes, sha256_file, sha256_json


@dataclass
class DeckSource:
    path: Path
    deck: object            # renderer.deck.source.Deck
    demos: list[str]


def load_decks(paths: list[Path], project) -> list[DeckSource]:
    """Read every deck's front matter; unknown demos are input errors (all reported together)."""
    from .deck import read_deck

    problems, out = [], []
    for path in paths:
        try:
            deck = read_deck(path)
        except InputError as err:
            problems += err.problems
            continue
        demos = list(deck.options.demos) if deck.options else []
        for d in demos:
            if d not in project.config.demos:
                problems.append(deck.problem(None, f"unknown demo '{d}' in novapress: demos"
                                                   f"{suggest(d, project.config.demos)}; define it in novapress.yaml"))
        out.append(DeckSource(path, deck, demos))
    if problems:
        raise InputError(problems)
    return out


def preflight(config: ProjectConfig) -> None:
    """Fail before anything is written when marp-cli or the browser it needs is missing."""
    from .deck.marp import NEEDS_BROWSER, find_browser, find_marp

    find_marp()
    if any(f in NEEDS_BROWSER for f in config.slides.formats):
        find_browser()


def deck_context(state, demos: list[str]) -> dict:
    """Template context of a deck: traces, chart paths, panel paths, the model's name, the book."""
    from .live_stage import CHARTS

    out = state.out
    charts = {}
    for d in demos:
        charts[d] = {}
        for chart in CHARTS:
            for suffix, variant in (("", ""), ("_light", "-light")):
                path = out / "live" / "charts" / f"{d}-{chart}{variant}.png"
                if path.exists():
                    charts[d][chart.replace("-", "_") + suffix] = str(path.relative_to(out))
    panels = {p.stem: str(p.relative_to(out)) for p in sorted((out / "comic" / "panels").glob("*.png"))}
    traces = {d: state.traces[d] for d in demos}
    models = sorted({t["model"]["display"] for t in traces.values()})
    return {"demos": traces, "charts": charts, "panels": panels, "model": " + ".join(models) or "",
            "book": BookInfo(state.project.config.book)}


class BookInfo(str):
    """The book in a deck template: `{{ book }}` is its title; `book.author` etc. also work."""

    def __new__(cls, book):
        self = super().__new__(cls, book.title)
        self.title, self.author, self.language = book.title, book.author, book.language
        return self


def slides_stage(state, decks: list[DeckSource]) -> None:
    from .build import code_hash
    from .deck import build_deck, prepare

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
            "code": code_hash("renderer/deck"),
            "marp": sha256_file(Path("package-lock.json")) if Path("package-lock.json").exists() else "",
        }
        step = f"slides:{ds.path.stem}"
        if state.up_to_date(step, inputs):
            continue
        state.reporter.step(f"slides: {ds.path.name} (marp-cli)")
        written = build_deck(ds.path, state.out, context=context, formats=config.slides.formats,
                             theme_dir=theme_dir, timeout=config.slides.timeout, reporter=state.reporter)
        state.done(step, inputs, [p for p in written if p.exists()])


def marp_row() -> tuple[str, bool, str]:
    from .deck.marp import find_marp, marp_version

    try:
        marp = find_marp()
        return ("marp-cli", True, f"{marp_version(marp)} ({marp})")
    except (BuildError, OSError) as err:
        return ("marp-cli", False, str(err))


def browser_row() -> tuple[str, bool, str]:
    import subprocess

    from .deck.marp import find_browser

    try:
        b = find_browser()
    except BuildError as err:
        return ("browser (marp PDF/PNG/PPTX)", False, str(err))
    try:
        version = subprocess.run([b.path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "version unknown"
    return ("browser (marp PDF/PNG/PPTX)", True, f"{version} ({b.path})")
