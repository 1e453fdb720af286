"""build/site/: the interactive lesson (stepper and quiz), the tour with its Ask box, the
comic pages and the slide deck, as static files that work offline. Which demos they show is
novapress.yaml's `site:` (renderer.config.SiteConfig) and `main_demo` (the tour's question).

Pages are Jinja templates with autoescaping on; model and user text reaches the page
only as escaped HTML or as JSON data the scripts read with textContent. The whole folder
is written to a staging folder and swapped in at the end, so a failed build leaves the
previous site in place.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image

from live_demo import formatting

from ..atomic import replace_dir
from ..config import ProjectConfig
from ..errors import BuildError, InputError, Problem
from ..theme import Theme, load_theme
from . import assets, code, lesson, run
from .deck import copy_deck
from .tour import PanelText, load_tour, resolve_panels
from .transcripts import page_alt, plain, read_transcript

TEMPLATES_DIR = Path(__file__).parent / "templates"


def site_demos(config: ProjectConfig | None = None) -> set[str]:
    """The demos whose traces build_site needs: the lesson's, the tour's question (the main demo)
    and the Ask box's presets (novapress.yaml `site:`; the defaults without a config)."""
    config = config or ProjectConfig()
    return {config.site.lesson_demo, config.main_demo, *config.site.ask_demos}


class SiteFiles(list):
    """The paths written (a list, as build steps record outputs), plus warnings for the caller."""

    def __init__(self, paths=(), warnings=()):
        super().__init__(paths)
        self.warnings: list[str] = list(warnings)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["shape"] = lambda dims: formatting.shape_text(dims, "[]")
    env.filters["pct"] = formatting.pct
    env.filters["thousands"] = formatting.count
    env.filters["json_data"] = json_for_script
    return env


def json_for_script(value: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&' can end it early."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return jinja2.utils.markupsafe.Markup(text)


def tour_run(trace: dict) -> dict | None:
    """A cached trace as the events the tour replays when the site is opened from disk."""
    return run.trace_events(trace)


def _compact_shapes(trace: dict) -> list[tuple[str, str, tuple[str, str] | None]]:
    """(stage, shape, sampled values or None) for every stage of the trace, with runs of
    equal-shaped blocks folded into one row (a block whose values were recorded keeps its own row)."""
    rows: list[tuple[str, str, tuple[str, str] | None]] = []
    run_: list[dict] = []

    def flush():
        if not run_:
            return
        label = run_[0]["stage"] if len(run_) == 1 else \
            f"{run_[0]['stage']} \u2026 {run_[-1]['stage']} ({len(run_)} blocks)"
        rows.append((label, formatting.shape_text(run_[0]["shape"], "[]"), None))
        run_.clear()

    for entry in trace["shapes"]:
        values = lesson.sampled_values(trace, entry["stage"])
        if entry["stage"].startswith("block ") and values is None:
            if run_ and run_[0]["shape"] != entry["shape"]:
                flush()
            run_.append(entry)
            continue
        flush()
        rows.append((entry["stage"], formatting.shape_text(entry["shape"], "[]"), values))
    flush()
    return rows


def _check_traces(traces: dict[str, dict], lesson: str) -> None:
    if lesson not in traces:
        raise InputError(Problem("novapress.yaml", None, None,
                                 f"the lesson site needs the demo '{lesson}' (its stepper follows it): add "
                                 f"'{lesson}: {{prompt: \"The cat sat\", max_new_tokens: 12, top_k: 5}}' under "
                                 f"demos:, or set 'site: false'"))
    for name, trace in traces.items():
        for key in ("model", "tokens", "shapes", "next_token", "strategies"):
            if key not in trace:
                raise BuildError(f"the trace of demo '{name}' has no '{key}'; rebuild it with "
                                 f"'novapress build live --refresh'")


def build_site(out_dir: Path, *, traces: dict[str, dict], panels: dict[str, Path],
               pages: list[tuple[int, str, Path]], deck_html: Path | None, book_title: str,
               theme: str | Theme = "tech", config: ProjectConfig | None = None) -> SiteFiles:
    """Write out_dir/site/ and return the files written (with .warnings for what is missing).
    `config` names the demos (see site_demos)."""
    out_dir = Path(out_dir)
    config = config or ProjectConfig()
    _check_traces(traces, config.site.lesson_demo)
    theme = load_theme(theme) if isinstance(theme, str) else theme
    tour = load_tour()
    warnings: list[str] = []
    found_panels, panel_warnings = resolve_panels(tour, panels)
    warnings += panel_warnings

    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "site"
    staging = out_dir / f".site.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        written = _write_site(staging, out_dir, traces, found_panels, pages, deck_html, book_title, theme, tour,
                              warnings, config)
        replace_dir(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SiteFiles(sorted(final / p.relative_to(staging) for p in written), warnings)


def _write_site(root: Path, out_dir: Path, traces: dict[str, dict], found_panels: dict[str, tuple[Path, str]],
                pages: list[tuple[int, str, Path]], deck_html: Path | None, book_title: str, theme: Theme,
                tour, warnings: list[str], config: ProjectConfig) -> list[Path]:
    written: list[Path] = []
    asset_dir = root / "assets"

    font_files, font_css = assets.copy_fonts(asset_dir / "fonts")
    written += font_files
    written += assets.copy_static(asset_dir)
    for name, text in (("fonts.css", font_css), ("theme.css", assets.theme_css(theme))):
        (asset_dir / name).write_text(text, encoding="utf-8")
        written.append(asset_dir / name)

    # comic images: panels for the tour (or the comic's prop art where a panel is missing), pages for the reader
    question = traces.get(config.main_demo)
    panel_views: dict[str, dict] = {}
    for panel_id, (png, text) in sorted(found_panels.items()):
        target = asset_dir / "panels" / f"{png.stem}.png"
        size = assets.web_image(png, target, assets.PANEL_WIDTH)
        written.append(target)
        panel_views[panel_id] = _panel_picture(panel_id, target, size, text, question)
    prop_views: dict[str, dict] = {}

    def prop_picture(section, why: str) -> dict:
        name = section.picture.prop
        if name not in prop_views:
            target = asset_dir / "art" / f"{name}.png"
            size = assets.prop_art(name, target, theme)
            written.append(target)
            prop_views[name] = {"src": f"assets/art/{name}.png", "width": size[0], "height": size[1]}
        label = name.replace("_", " ")
        return prop_views[name] | {"id": f"{section.id}-art", "alt": section.picture.alt, "description": "",
                                   "caption": f"The comic's {label} art{why}", "answer_note": ""}

    pictures: dict[str, dict] = {}
    slide_pictures: dict[str, list[dict]] = {}
    for section in tour.sections:
        wanted = section.picture.panel
        if wanted and wanted in panel_views:
            pictures[section.id] = panel_views[wanted] | {"id": f"{section.id}-pic"}
        else:
            pictures[section.id] = prop_picture(section, " (its comic panel is not built)" if wanted else "")
        slides = []
        for i, slide in enumerate(section.slides):
            if slide.panel and slide.panel in panel_views:
                slides.append(panel_views[slide.panel] | {"id": f"{section.id}-slide-{i + 1}-pic"})
            else:
                slides.append(prop_picture(section, " (its comic panel is not built)" if slide.panel else "")
                              | {"id": f"{section.id}-slide-{i + 1}-pic"})
        slide_pictures[section.id] = slides

    page_views = []
    for number, title, png in sorted(pages, key=lambda p: p[0]):
        png = Path(png)
        if not png.is_file():
            warnings.append(f"comic page {number} ({png}) is missing; the site lists no image for it")
            continue
        full = asset_dir / "comic" / png.name
        size = assets.web_image(png, full, assets.PAGE_WIDTH)
        thumb = asset_dir / "comic" / f"{png.stem}-thumb.png"
        tsize = assets.web_image(png, thumb, assets.THUMB_WIDTH)
        written += [full, thumb]
        transcript = read_transcript(png)
        label = f"Page {number}: {title}" if number else f"Cover: {title}"
        page_views.append({
            "number": number, "title": title, "label": label, "anchor": png.stem,
            "src": f"assets/comic/{full.name}", "width": size[0], "height": size[1],
            "thumb": f"assets/comic/{thumb.name}", "thumb_width": tsize[0], "thumb_height": tsize[1],
            "alt": (page_alt(transcript) if transcript else None) or f"Comic {label[0].lower()}{label[1:]}.",
            "transcript": _transcript_blocks(transcript) if transcript else [],
        })

    deck_view = None
    if deck_html is not None and Path(deck_html).is_file():
        entry, deck_files, deck_warnings = copy_deck(Path(deck_html), out_dir, root / "deck")
        written += deck_files
        warnings += deck_warnings
        deck_view = {"href": f"deck/{entry}", "name": Path(deck_html).stem}
    elif deck_html is not None:
        warnings.append(f"the deck {deck_html} is missing; the site does not link it")

    cat = traces[config.site.lesson_demo]
    # the book's question first: the tour shows its run until the visitor asks, then the presets
    replayable = list(dict.fromkeys([config.main_demo, *config.site.ask_demos]))
    runs = [r for r in (tour_run(traces[d]) for d in replayable if d in traces) if r]
    for d in replayable:
        if d not in traces:
            warnings.append(f"no trace for demo '{d}'; the tour cannot replay it offline")
    for name, trace in sorted(traces.items()):
        missing = [k for k, v in (("model.classes", trace["model"].get("classes")), ("samples", trace.get("samples")),
                                  ("model.n_kv_heads", trace["model"].get("n_kv_heads"))) if not v]
        if missing:
            warnings.append(f"the trace of demo '{name}' was made by an older novapress and has no "
                            f"{', '.join(missing)}; the lesson and tour leave those parts out. Run "
                            f"'novapress build live --refresh' to record them")

    common = {"book_title": book_title, "model": cat["model"], "has_deck": deck_view is not None,
              "deck": deck_view, "has_pages": bool(page_views)}
    env = _env()
    stages = lesson.stepper_stages(cat)
    rendered = {
        "index.html": env.get_template("index.html.j2").render(
            common, page="index", pages=page_views, question=question, stepper_prompt=cat["prompt"]),
        "lesson.html": env.get_template("lesson.html.j2").render(
            common, page="lesson", trace=cat, stages=stages, ownership=lesson.OWNERSHIP_TABLE, owners=lesson.OWNERS,
            shapes=_compact_shapes(cat), loop=lesson.loop_caption(cat), order_items=lesson.ORDER_ITEMS,
            order_answer=lesson.ORDER_ANSWER, choice_question=lesson.CHOICE_QUESTION, choices=lesson.CHOICES,
            choice_answer=lesson.CHOICE_ANSWER, snippets=code.snippets(), classes=code.model_classes(cat)),
        "tour.html": env.get_template("tour.html.j2").render(
            common, page="tour", sections=tour.sections, pictures=pictures, slide_pictures=slide_pictures,
            question=question, runs=runs, model=(question or cat)["model"]),
    }
    if page_views:
        rendered["comic.html"] = env.get_template("comic.html.j2").render(common, page="comic", pages=page_views)
    for name, text in rendered.items():
        (root / name).write_text(text, encoding="utf-8")
        written.append(root / name)
    return written


def _panel_picture(panel_id: str, target: Path, size: tuple[int, int], text: PanelText,
                   question: dict | None) -> dict:
    """How the tour shows one comic panel: a short alt text, its whole transcript as the long
    description, and a caption that says whose data it was drawn with."""
    where = f"Comic page {text.page}, panel {text.number.lstrip('p')}" if text.page is not None else "Comic panel"
    caption = where
    note = ""
    if text.live_model:
        prompt = question["prompt"] if question else None
        if prompt and prompt in text.description:
            caption += f", drawn with {text.live_model}'s run on the book's question \u201c{prompt}\u201d"
        else:
            caption += f", with live data from {text.live_model}"
        kinds = _answers_in(text.description, question) if question else []
        if kinds:
            note = f"The answer in this picture is the book's {' and '.join(kinds)} answer."
    return {"src": f"assets/panels/{target.name}", "width": size[0], "height": size[1], "alt": text.alt,
            "description": text.description, "caption": caption + ".", "answer_note": note, "page": text.page,
            "panel": panel_id}


def _answers_in(description: str, trace: dict) -> list[str]:
    """Which of the trace's answers a panel's transcript quotes (by their first words), named by how they were decoded."""
    text = " ".join(description.split())
    kinds = []
    for name in run.STRATEGY_ORDER:
        data = (trace.get("strategies") or {}).get(name)
        answer = " ".join((data or {}).get("text", "").split())
        if len(answer) >= 12 and answer[:60] in text:
            kinds.append(run.STRATEGY_NAMES[name])
    return kinds


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def _page_number(stem: str) -> int | None:
    parts = stem.split("-")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _transcript_blocks(transcript: str) -> list[tuple[str, str]]:
    """The transcript as (kind, text) blocks: "h" for a panel heading, "p" for a paragraph."""
    blocks = []
    for para in transcript.strip().split("\n\n"):
        para = para.strip()
        if not para or para.startswith("# "):
            continue
        if para.startswith("## "):
            blocks.append(("h", plain(para[3:])))
        else:
            blocks.append(("p", plain(para)))
    return blocks
