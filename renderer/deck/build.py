"""Build one deck into <out>/slides/: HTML, PDF, PPTX and one PNG per slide.

    build_deck(Path("slides/llm-inference-pipeline.md"), Path("build"), context=...,
               formats=["html", "pdf", "pptx", "png"], theme_dir=Path("slides/themes"),
               timeout=300, reporter=Reporter())

Everything is checked before marp runs (template, theme name, images), marp renders
into a staging folder, its output is checked (slide count, images really in the PDF),
and only then are the outputs moved into place, so a failing build keeps the previous
ones. Outputs:
    <out>/slides/<deck>.html        bespoke HTML: presenter view (p), notes, offline
    <out>/slides/<deck>.pdf         speaker notes as PDF annotations, outline
    <out>/slides/<deck>.pptx         slide pictures, or editable text (format "pptx-editable")
    <out>/slides/<deck>/001.png ... one per slide
    <out>/slides/<deck>.<name>.webp an animation a slide plays (token by token generation)
    <out>/slides/themes/...         theme fonts the HTML loads
    <out>/slides/<images>           the deck's own images, at their paths in the deck folder
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..atomic import replace_dir, staging_dir, write_bytes
from ..errors import BuildError, InputError, Problem, rel, suggest
from ..progress import Reporter
from . import checks, legibility
from .animation import Animations
from .assets import Asset, resolve_assets, rewrite, source_line_of, url_of
from .markdown import themes_named
from .marp import (BUILTIN_THEMES, FORMATS, NEEDS_BROWSER, Browser, MarpRun, find_browser, find_marp, find_soffice,
                   may_hold_emoji)
from .pptx import normalize_pptx
from .source import Deck, read_deck, render_deck
from .themes import ThemeFile, check_assets, html_asset_url, load_theme_set

STRICT_NOTE = "--strict: the warnings above are errors; the deck was not written"
SITE_LESSON = "../site/lesson.html"   # the lesson site, from <out>/slides/
EDITABLE_CSS = ("\nsection, section * { text-shadow: none !important; font-variant-ligatures: none !important;"
                " font-feature-settings: \"liga\" 0, \"clig\" 0 !important; }\n")


class DeckOutputs(list):
    """The files a deck build wrote (outputs first), with the warnings it gave."""

    warnings: list[Problem]


# marp runs at a time. Two: a browser export spends much of its ~3 s starting Chromium
# and waiting on it, so two overlap well even on a 2-core machine (see `make bench`).
PARALLEL_EXPORTS = 2


def build_deck(source: Path, out_dir: Path, *, context: dict[str, Any], formats: list[str],
               theme_dir: Path | None, timeout: float, reporter: Reporter | None = None,
               marp: Path | None = None, strict: bool = False) -> DeckOutputs:
    """Build `source` into `out_dir`/slides; returns every file written (outputs first).

    Slides whose text is too small for the back row (legibility) warn, located; with `strict`
    (--strict) they are errors and nothing is written.
    """
    reporter = reporter or Reporter(quiet=True)
    source, out_dir = Path(source), Path(out_dir)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"unknown deck format '{unknown[0]}'{suggest(unknown[0], FORMATS)}")
    formats = list(formats)
    if "pptx" in formats and "pptx-editable" in formats:
        raise InputError("deck formats 'pptx' and 'pptx-editable' both write <deck>.pptx; keep one "
                         "(slides.pptx: image or editable)")
    soffice = None
    if "pptx-editable" in formats:
        soffice = find_soffice()
        if soffice is None:
            reporter.warn(f"{rel(source)}: the editable PPTX needs LibreOffice, which is not installed "
                          "(Debian: apt-get install libreoffice-impress, or set SOFFICE_PATH); "
                          "writing the PPTX as slide pictures")
            formats = ["pptx" if f == "pptx-editable" else f for f in formats]

    prepared = prepare(source, out_dir, context=context, theme_dir=theme_dir)
    marp = marp or find_marp()
    browser = find_browser() if any(f in NEEDS_BROWSER for f in formats) else None
    lang = getattr(context.get("book"), "language", None) or None

    slides_dir = out_dir / "slides"
    slides_dir.mkdir(parents=True, exist_ok=True)
    stage = staging_dir(slides_dir, prepared.deck.name)
    warnings: list[Problem] = []
    try:
        with MarpRun(marp, browser, timeout, label=rel(source), lang=lang, soffice=soffice) as run:
            staged = _render(run, prepared, stage, formats)
            for warning in run.warnings:
                reporter.warn(f"{rel(source)}: marp-cli: {warning}")
            warnings = _legibility(run, prepared, slides_dir, reporter, timeout)
        if warnings and strict:
            raise InputError(warnings + [STRICT_NOTE])
        for w in warnings:
            reporter.warn(str(w))
        _check(prepared, staged, reporter)
        for fmt in ("pptx", "pptx-editable"):
            if fmt in staged:
                normalize_pptx(staged[fmt])
        staged.update(prepared.animations.write(stage, prepared.deck.name))
        written = _commit(prepared, staged, slides_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    reporter.info(f"slides: {rel(source)} -> {', '.join(rel(p) for p in written if p.parent == slides_dir)}")
    result = DeckOutputs(written)
    result.warnings = warnings
    return result


def _legibility(run: MarpRun, prepared: "Prepared", slides_dir: Path, reporter: Reporter,
                timeout: float) -> list[Problem]:
    """Measure every slide's text in Chromium; the located problems (none when unmeasurable)."""
    label = rel(prepared.deck.path)
    try:
        chromium = _measuring_browser(run.browser)
    except BuildError as err:
        reporter.warn(f"{label}: the slides' text sizes were not checked: {err}")
        return []
    # The HTML deck as the audience sees it, with every file at its absolute path (the deck's own
    # images are copied next to the outputs only once the build has passed)
    html = run.dir / "measure" / f"{prepared.deck.name}.html"
    html.parent.mkdir()
    source = run.dir / "measure" / f"{prepared.deck.name}.md"
    source.write_text(prepared.measure_md, encoding="utf-8")
    run.convert(source, html, "html", theme_set=_theme_copies(prepared, run.dir / "themes-measure",
                lambda f: url_of(f)), emoji_as_text=may_hold_emoji(prepared.markdown))
    try:
        measured = legibility.measure(html, slides_dir, chromium.path, timeout=max(60.0, timeout / 2),
                                      scratch=run.dir / "tmp")
    except legibility.Unmeasured as err:
        reporter.warn(f"{label}: the slides' text sizes were not checked: {err}")
        return []
    minimum = prepared.deck.options.min_text_px if prepared.deck.options else legibility.DEFAULT_MIN_PX
    found = legibility.findings(measured, minimum)
    return legibility.problems(prepared.deck, found, minimum)


def _measuring_browser(browser: Browser | None) -> Browser:
    """The Chromium that lays the slides out for measuring (marp's own browser when it is one)."""
    if browser is None:
        browser = find_browser()
    if browser.kind != "chrome":
        raise BuildError(f"measuring needs Chrome or Chromium, and marp-cli uses {browser.path}")
    return browser


class Prepared:
    """A deck checked and rendered to the two Markdown texts marp reads."""

    def __init__(self, deck: Deck, markdown: str, html_md: str, browser_md: str, assets: list[Asset],
                 themes: list[ThemeFile], theme_dir: Path | None, animations: Animations | None = None):
        self.deck, self.markdown, self.html_md, self.browser_md = deck, markdown, html_md, browser_md
        self.assets, self.themes, self.theme_dir = assets, themes, theme_dir
        self.animations = animations or Animations()
        # the HTML deck's Markdown with absolute file paths: what the legibility check lays out
        self.measure_md = rewrite(markdown, {a.ref: url_of(a.file) for a in assets})


def prepare(source: Path, out_dir: Path, *, context: dict[str, Any], theme_dir: Path | None) -> Prepared:
    """Read, render and check a deck without running marp (InputError on any problem).

    A templated deck is rendered twice: for the HTML deck (`target` "html": it may animate)
    and for PDF, PNG and PPTX (`target` "print": still pictures, every animation at its end).
    """
    deck = read_deck(source)
    themes = load_theme_set(theme_dir)
    animations = Animations(deck.name)
    ctx = with_absolute_urls(context, out_dir, animations=animations)
    markdown = render_deck(deck, ctx, target="html")
    printed = render_deck(deck, ctx, target="print") if deck.templated else markdown
    _check_theme_names(deck, markdown, themes, theme_dir)
    check_assets(themes)
    assets = resolve_assets(markdown, deck, out_dir)
    html_md = rewrite(markdown, {a.ref: a.html_url for a in assets if a.html_url != a.ref.url})
    print_assets = assets if printed == markdown else resolve_assets(printed, deck, out_dir)
    browser_md = rewrite(printed, {a.ref: url_of(a.file) for a in print_assets})
    return Prepared(deck, markdown, html_md, browser_md, assets, themes, theme_dir, animations)


def with_absolute_urls(context: dict[str, Any], out_dir: Path, *,
                       animations: Animations | None = None) -> dict[str, Any]:
    """The template context with panel and chart paths made absolute URLs, the link to the
    lesson site (`site.lesson`, relative to the HTML deck) and `generation(trace, strategy)`,
    which draws a slide's token-by-token generation (animated in the HTML deck).

    The caller gives panels and charts relative to `out_dir` (e.g. "comic/panels/page-05-p1.png")
    or absolute; the deck's Markdown then holds absolute paths, which novapress turns
    into paths relative to the HTML deck (and absolute ones for PDF, PNG, PPTX).
    """
    out_dir = Path(out_dir).resolve()

    def absolute(value):
        if isinstance(value, dict):
            return {k: absolute(v) for k, v in value.items()}
        if isinstance(value, (str, Path)):
            return url_of(out_dir / value)  # an absolute `value` stays as it is
        return value

    ctx = dict(context)
    for key in ("panels", "charts"):
        if key in ctx:
            ctx[key] = absolute(ctx[key])
    ctx.setdefault("site", {"lesson": SITE_LESSON})
    ctx.setdefault("generation", (animations or Animations()).generation)
    return ctx


def _check_theme_names(deck: Deck, markdown: str, themes: list[ThemeFile], theme_dir: Path | None) -> None:
    known = list(BUILTIN_THEMES) + [t.name for t in themes]
    for theme in themes_named(markdown):
        if theme.name in known:
            continue
        where = f"the theme set in {rel(theme_dir)}" if theme_dir else "no theme folder"
        message = (f"unknown theme '{theme.name}'{suggest(theme.name, known)} (marp would silently use "
                   f"'default'; built in: {', '.join(BUILTIN_THEMES)}; {where}: "
                   f"{', '.join(t.name for t in themes) or 'none'})")
        line = theme.line if not deck.templated else \
            source_line_of(deck, markdown.splitlines()[theme.line - 1].strip())
        raise InputError(deck.problem(line, message, slide=None if line else 1))


def _render(run: MarpRun, prepared: Prepared, stage: Path, formats: list[str]) -> dict[str, Path]:
    """Run marp for each format into `stage`; returns format -> staged output."""
    name = prepared.deck.name
    html_in = run.dir / "html" / f"{name}.md"
    browser_in = run.dir / "browser" / f"{name}.md"
    html_in.parent.mkdir()
    browser_in.parent.mkdir()
    if prepared.deck.options is None and prepared.html_md == prepared.deck.text:
        html_in.write_bytes(prepared.deck.raw)  # byte for byte, as bare marp-cli would read it
    else:
        html_in.write_text(prepared.html_md, encoding="utf-8")
    browser_in.write_text(prepared.browser_md, encoding="utf-8")

    html_themes = _theme_copies(prepared, run.dir / "themes-html",
                                lambda f: html_asset_url(prepared.theme_dir, f))
    browser_themes = _theme_copies(prepared, run.dir / "themes-browser", lambda f: url_of(f))
    # LibreOffice turns each text shadow (a glow) into another copy of the text: an editable PPTX
    # would have every heading two or three times, so it is made without them; and without
    # ligatures, which would come out as single characters ("ﬂ") in the editable text
    editable_themes = _theme_copies(prepared, run.dir / "themes-editable", lambda f: url_of(f),
                                    extra=EDITABLE_CSS) if "pptx-editable" in formats else []

    outputs = {"html": stage / f"{name}.html", "pdf": stage / f"{name}.pdf",
               "pptx": stage / f"{name}.pptx", "pptx-editable": stage / f"{name}.pptx",
               "png": stage / "png" / f"{name}.png"}
    jobs = [f for f in FORMATS if f in formats]
    if "png" in jobs:
        outputs["png"].parent.mkdir()

    emoji = may_hold_emoji(prepared.markdown)

    def convert(fmt: str) -> None:
        if fmt == "html":
            run.convert(html_in, outputs[fmt], fmt, theme_set=html_themes, emoji_as_text=emoji)
        else:
            themes = editable_themes if fmt == "pptx-editable" else browser_themes
            run.convert(browser_in, outputs[fmt], fmt, theme_set=themes, emoji_as_text=emoji)

    with ThreadPoolExecutor(max_workers=PARALLEL_EXPORTS) as pool:
        for future in [pool.submit(convert, fmt) for fmt in jobs]:
            future.result()

    staged = {f: outputs[f] for f in jobs}
    if "png" in jobs:
        folder = stage / name
        folder.mkdir()
        pngs = sorted(outputs["png"].parent.glob(f"{name}.*.png"), key=lambda p: int(p.suffixes[-2][1:]))
        for i, png in enumerate(pngs, 1):
            os.replace(png, folder / f"{i:03d}.png")
        staged["png"] = folder
    return staged


def _theme_copies(prepared: Prepared, folder: Path, to_url, extra: str = "") -> list[Path]:
    folder.mkdir()
    copies = []
    for theme in prepared.themes:
        copy = folder / theme.path.name
        copy.write_text(theme.rewritten(to_url) + extra, encoding="utf-8")
        copies.append(copy)
    return copies


def _check(prepared: Prepared, staged: dict[str, Path], reporter: Reporter) -> None:
    """What marp would get wrong without a word: slides lost, images dropped, network use."""
    label = rel(prepared.deck.path)
    html = staged["html"].read_text(encoding="utf-8") if "html" in staged else None
    if html is not None:
        remote = checks.remote_resources(html)
        if remote:
            reporter.warn(f"{label}: the HTML deck loads {len(remote)} file(s) from the network, so it will "
                          f"not work offline: {', '.join(remote[:3])}")
    if "pdf" in staged and html is not None:
        expected = checks.slide_images(html)
        embedded = checks.pdf_images_per_page(staged["pdf"])
        if len(embedded) != len(expected):
            raise BuildError(f"{label}: the PDF has {len(embedded)} pages but the deck has {len(expected)} slides")
        for slide, (want, got) in enumerate(zip(expected, embedded), 1):
            if got < len(want):
                raise BuildError(f"{label}: slide {slide}: the browser dropped an image from the PDF "
                                 f"({len(want)} expected, {got} embedded: {', '.join(sorted(want))}); "
                                 "is it a valid image file?")
    if "png" in staged and html is not None:
        pngs = len(list(staged["png"].glob("*.png")))
        if pngs != checks.slide_count_html(html):
            raise BuildError(f"{label}: marp wrote {pngs} PNGs for {checks.slide_count_html(html)} slides")


def _commit(prepared: Prepared, staged: dict[str, Path], slides_dir: Path) -> list[Path]:
    """Move the staged outputs into place, with the images and fonts the HTML loads."""
    written: list[Path] = []
    for fmt in ("html", "pdf", "pptx", "pptx-editable", *sorted(f for f in staged if f.startswith("animation:"))):
        if fmt in staged:
            target = slides_dir / staged[fmt].name
            os.chmod(staged[fmt], 0o644)
            os.replace(staged[fmt], target)
            written.append(target)
    if "png" in staged:
        target = slides_dir / staged["png"].name
        replace_dir(staged["png"], target)
        written += sorted(target.glob("*.png"))
    if "html" in staged:
        for asset in prepared.assets:
            if asset.copy_to:
                written.append(_copy_if_changed(asset.file, slides_dir / asset.copy_to))
        for theme in prepared.themes:
            for file in theme.assets():
                written.append(_copy_if_changed(file, slides_dir / html_asset_url(prepared.theme_dir, file)))
    return list(dict.fromkeys(written))


def _copy_if_changed(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    if not (dst.exists() and dst.read_bytes() == data):
        write_bytes(dst, data)
    return dst
