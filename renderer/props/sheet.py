"""A contact sheet of every registered prop, drawn with its defaults on the tech background.

    python -m renderer.props.sheet OUT.png [--demo tests/fixtures/trace_question.json] [--only a,b]

Each cell is a panel-sized scene composited the way the page compositor does it
(renderer.scene, renderer.prop_art, renderer.lettering): background, blurred glow layer,
the art, then the lettering. Use it to look at the props while drawing them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from ..atomic import atomic_path
from ..fonts import font
from ..geometry import Rect
from ..lettering import draw_text_items
from ..prop_art import GLOW_ZOOM, add_art
from ..scene import scene_layers
from ..theme import Theme, load_theme
from . import REGISTRY, PropContext
from .base import PropArt, PropError, TextItem

PAGE_WIDTH = 1988            # the default print page the sheet imitates
CELL = (960, 600)            # one panel-sized cell
PROP_AT = (0.04, 0.10, 0.92, 0.84)   # where in the cell the prop's box goes


def scene_with(theme: Theme, arts: list[tuple[PropArt, Rect]], w: int, h: int, unit: float, seed: int) -> Image.Image:
    """The panel as the compositor draws it: background, the props' glow and art (text comes after)."""
    image, glow = scene_layers(w, h, theme, background="lab", floor=True, horizon=None, particles=None, seed=seed,
                               unit=unit, glow_zoom=GLOW_ZOOM)
    margin = unit * 30
    regions = [(max(0, int(b.x - margin)), max(0, int(b.y - margin)), min(w, int(b.x1 + margin) + 1),
                min(h, int(b.y1 + margin) + 1)) for _, b in arts]
    add_art(image, glow, [(art, r) for (art, _), r in zip(arts, regions)], theme, unit)
    return image


def letter(image: Image.Image, items: list[TextItem], theme: Theme, where: str, min_text: float) -> list[str]:
    """Draw text items; returns problems (text that does not fit) instead of raising."""
    try:
        draw_text_items(image, items, theme, where, min_text=min_text)
    except Exception as err:  # noqa: BLE001 - the sheet shows problems rather than stopping
        return [str(err)]
    return []


def render_scene(props: list[tuple[str, dict, tuple[float, float, float, float]]], theme: Theme,
                 trace: dict | None, *, size=CELL, seed: int = 42) -> tuple[Image.Image, list[str]]:
    """Draw props (name, params, at as panel fractions) into one panel-sized image, lettered."""
    w, h = size
    unit = PAGE_WIDTH / 1000
    min_text = _small_print(theme) * PAGE_WIDTH
    arts, problems = [], []
    for i, (name, params, at) in enumerate(props):
        ptype = REGISTRY[name]
        box = Rect(at[0] * w, at[1] * h, at[2] * w, at[3] * h)
        ctx = PropContext(box=box, theme=theme, unit=unit, demo=trace, seed=seed + i, min_text=min_text)
        try:
            arts.append((ptype.draw(ptype.params.model_validate(params), ctx), box))
        except PropError as err:
            problems.append(f"{name}: {err}")
    img = scene_with(theme, arts, w, h, unit, seed)
    problems += letter(img, [t for art, _ in arts for t in art.texts], theme, ", ".join(p[0] for p in props), min_text)
    models = sorted({art.model for art, _ in arts if art.model})
    if models:   # stand-in for the compositor's model tag
        ImageDraw.Draw(img).text((w - 12, h - 10), " + ".join(models), font=font("Inter", 18), fill="#c7d6ff", anchor="rd")
    return img, problems


def render_prop(name: str, params: dict, theme: Theme, trace: dict | None, *, size=CELL,
                at=PROP_AT, seed: int = 42) -> tuple[Image.Image, list[str]]:
    return render_scene([(name, params, at)], theme, trace, size=size, seed=seed)


def _small_print(theme: Theme) -> float:
    return getattr(theme.lettering, "small_print", theme.lettering.min_size)


# Extra cells after the defaults: (prop, params, cells wide) as a storyboard would use them.
VARIANTS: list[tuple[str, dict, int]] = [
    ("conveyor_belt", {"labels": ["1. PREPROCESSING", "2. BATCHING & PADDING", "3. MODEL FORWARD PASS",
                                  "4. DECODING", "5. POSTPROCESSING", "6. SERVING"]}, 2),
    ("conveyor_belt", {"stations": 3, "first": 4, "view": "straight"}, 2),
    ("token_cubes", {"tokens": ["Why", " is", " the", " sky", " blue", "?"] * 10, "show_ids": False}, 1),
    ("prob_bars", {"temperature": 1.5, "k": 6}, 1),
    ("text_screen", {"stream_tokens": 6, "title": "streaming"}, 1),
    ("batch_grid", {"show_ids": True}, 1),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m renderer.props.sheet", description=__doc__.splitlines()[0])
    ap.add_argument("out", help="PNG to write")
    ap.add_argument("--demo", help="trace JSON for the data props (default: tests/fixtures/trace_question.json)")
    ap.add_argument("--only", help="comma-separated prop names")
    ap.add_argument("--columns", type=int, default=3)
    ap.add_argument("--theme", default="tech")
    ap.add_argument("--no-variants", action="store_true", help="only each prop with its defaults")
    args = ap.parse_args(argv)
    theme = load_theme(args.theme)
    demo_path = Path(args.demo) if args.demo else Path(__file__).resolve().parents[2] / "tests/fixtures/trace_question.json"
    trace = json.loads(demo_path.read_text()) if demo_path.exists() else None
    names = args.only.split(",") if args.only else sorted(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        print(f"unknown props: {', '.join(unknown)}", file=sys.stderr)
        return 2
    cells = [(n, {}, 1) for n in names]
    if not args.no_variants:
        cells += [v for v in VARIANTS if v[0] in names]
    cols = max(1, args.columns)
    gap = 16
    # flow layout: wide cells take several columns
    places, col, row = [], 0, 0
    for _, _, span in cells:
        span = min(span, cols)
        if col + span > cols:
            col, row = 0, row + 1
        places.append((col, row, span))
        col += span
    rows = row + 1
    sheet = Image.new("RGB", (cols * (CELL[0] + gap) + gap, rows * (CELL[1] + gap) + gap), theme.page.background)
    label_font = font("Inter", 22, 600)
    all_problems = []
    for (name, params, _), (col, row, span) in zip(cells, places):
        needs = REGISTRY[name].needs_demo or name in DATA_OPTIONAL
        size = (span * CELL[0] + (span - 1) * gap, CELL[1])
        img, problems = render_prop(name, params, theme, trace if needs else None, size=size)
        all_problems += problems
        title = name + ("  (demo)" if needs and trace else "") + ("  " + json.dumps(params)[:90] if params else "")
        ImageDraw.Draw(img).text((12, 10), title, font=label_font, fill="#ffffffb0")
        sheet.paste(img.convert("RGB"), (gap + col * (CELL[0] + gap), gap + row * (CELL[1] + gap)))
    with atomic_path(args.out) as tmp:
        sheet.save(tmp, format="PNG")
    for p in all_problems:
        print(f"problem: {p}", file=sys.stderr)
    print(f"{args.out}: {len(cells)} cells, {len(all_problems)} lettering problems")
    return 0


# data props that also draw without a demo; the sheet shows them with the sample trace
DATA_OPTIONAL = {"token_cubes", "char_stream", "text_screen", "tensor_grid", "tokenizer_compare", "chat_window",
                 "kv_cache"}

if __name__ == "__main__":
    sys.exit(main())
