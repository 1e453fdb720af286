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
from . import assets, lesson
from .deck import copy_deck
from .tour import load_tour, resolve_panels
from .transcripts import page_alt, plain, read_transcript

TEMPLATES_DIR = Path(__file__).parent / "templates"

ASK_STRATEGY = "top_p"         # the continuation Ask shows; the server samples the same way


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


def _ask_strategy(trace: dict) -> tuple[str, dict] | None:
    strategies = trace.get("strategies") or {}
    for name in (ASK_STRATEGY, "greedy"):
        if strategies.get(name, {}).get("steps"):
            return name, strategies[name]
    return None


def strategy_label(name: str, data: dict, seed: int | None) -> str:
    if name == "top_p":
        return f"top-p sampling (p = {data.get('p')}, temperature {data.get('temperature')}, seed {seed})"
    if name == "top_k":
        return f"top-k sampling (k = {data.get('k')}, seed {seed})"
    return "greedy decoding"


def preset(trace: dict) -> dict | None:
    """What the Ask box needs to replay a cached answer token by token."""
    found = _ask_strategy(trace)
    if found is None:
        return None
    name, data = found
    short = lambda t: {"display": t["display"], "id": t["id"], "text": t["text"], "special": bool(t.get("special"))}
    return {
        "demo": trace["demo"], "prompt": trace["prompt"], "model": trace["model"]["display"],
        "seed": trace.get("seed"), "strategy": strategy_label(name, data, trace.get("seed")),
        "prompt_tokens": [short(t) for t in trace["tokens"]],
        "steps": [short(s["token"]) | {"prob": s["prob"],
                                       "alternatives": [short(a) | {"prob": a["prob"]} for a in s["alternatives"]]}
                  for s in data["steps"]],
        "text": data["text"], "stopped": data.get("stopped"),
    }


def _compact_shapes(trace: dict) -> list[tuple[str, str]]:
    """The trace's shapes with runs of equal-shaped blocks folded into one row."""
    rows: list[tuple[str, str]] = []
    run: list[dict] = []

    def flush():
        if not run:
            return
        label = run[0]["stage"] if len(run) == 1 else f"{run[0]['stage']} \u2026 {run[-1]['stage']} ({len(run)} blocks)"
        rows.append((label, formatting.shape_text(run[0]["shape"], "[]")))
        run.clear()

    for entry in trace["shapes"]:
        if entry["stage"].startswith("block ") and (not run or run[0]["shape"] == entry["shape"]):
            run.append(entry)
            continue
        flush()
        if entry["stage"].startswith("block "):
            run.append(entry)
        else:
            rows.append((entry["stage"], formatting.shape_text(entry["shape"], "[]")))
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

    # comic images: panels for the tour, pages for the reader
    panel_views = {}
    for section_id, (png, alt) in sorted(found_panels.items()):
        target = asset_dir / "panels" / f"{png.stem}.png"
        if not target.exists():
            size = assets.web_image(png, target, assets.PANEL_WIDTH)
            written.append(target)
        else:
            size = _png_size(target)
        panel_views[section_id] = {"src": f"assets/panels/{target.name}", "alt": alt, "width": size[0],
                                   "height": size[1], "page": _page_number(png.stem)}
    page_views = []
    for number, title, png in sorted(pages, key=lambda p: p[0]):
        png = Path(png)
        if not png.is_file():
            warnings.append(f"site: comic page {number} ({png}) is missing; the site lists no image for it")
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
        warnings.append(f"site: the deck {deck_html} is missing; the site does not link it")

    cat = traces[config.site.lesson_demo]
    question = traces.get(config.main_demo)
    presets = [p for p in (preset(traces[d]) for d in config.site.ask_demos if d in traces) if p]
    for d in config.site.ask_demos:
        if d not in traces:
            warnings.append(f"site: no trace for demo '{d}'; the Ask box cannot replay it offline")

    common = {"book_title": book_title, "model": cat["model"], "has_deck": deck_view is not None,
              "deck": deck_view, "has_pages": bool(page_views)}
    env = _env()
    rendered = {
        "index.html": env.get_template("index.html.j2").render(
            common, page="index", pages=page_views, question=question),
        "lesson.html": env.get_template("lesson.html.j2").render(
            common, page="lesson", trace=cat, stages=lesson.stepper_stages(cat),
            ownership=lesson.OWNERSHIP_TABLE, owners=lesson.OWNERS, shapes=_compact_shapes(cat),
            loop_text=lesson.loop_text(cat), order_items=lesson.ORDER_ITEMS, order_answer=lesson.ORDER_ANSWER,
            choice_question=lesson.CHOICE_QUESTION, choices=lesson.CHOICES, choice_answer=lesson.CHOICE_ANSWER),
        "tour.html": env.get_template("tour.html.j2").render(
            common, page="tour", sections=tour.sections, panels=panel_views, question=question,
            question_answer=_ask_strategy(question) if question else None, presets=presets,
            model=(question or cat)["model"]),
    }
    if page_views:
        rendered["comic.html"] = env.get_template("comic.html.j2").render(common, page="comic", pages=page_views)
    for name, text in rendered.items():
        (root / name).write_text(text, encoding="utf-8")
        written.append(root / name)
    return written


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
