"""A contact sheet of every registered prop, drawn with its defaults on the tech background.

    python -m renderer.props.sheet OUT.png [--demo tests/fixtures/trace_question.json] [--only a,b]

Each cell is a panel-sized scene composited the way the page compositor does it:
background, blurred glow layer, the art, then the lettering. Use it to look at
the props while drawing them. Where renderer.lettering is available it letters
the text; otherwise a plain Pillow fallback does (same fonts, same fitting rule).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from ..atomic import atomic_path
from ..geometry import Rect
from ..raster import rasterize, svg_document
from ..theme import Theme, load_theme
from . import REGISTRY, PropContext
from .base import PropArt, PropError, TextItem
from .measure import LINE_HEIGHT, runs, text_width, wrap
from ..fonts import font

PAGE_WIDTH = 1988            # the default print page the sheet imitates
CELL = (960, 600)            # one panel-sized cell
PROP_AT = (0.04, 0.10, 0.92, 0.84)   # where in the cell the prop's box goes
GLOW_SCALE = 0.25            # the glow layer is rasterised at this scale, then blurred


def background(theme: Theme, w: int, h: int) -> Image.Image:
    """Sky gradient, a floor with a perspective grid: the tech style's empty scene."""
    s = theme.scene
    img = Image.new("RGBA", (w, h))
    horizon = int(h * s.horizon)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        if y < horizon:
            top, bottom, t = s.sky_top, s.sky_bottom, y / max(1, horizon)
        else:
            top, bottom, t = s.floor_top, s.floor_bottom, (y - horizon) / max(1, h - horizon)
        draw.line([(0, y), (w, y)], fill=_mix(top, bottom, t))
    grid = Image.new("RGBA", (w, h))
    g = ImageDraw.Draw(grid)
    color = _rgb(s.grid_color) + (int(255 * s.grid_opacity),)
    vanish = (w / 2, horizon - h * 0.25)
    for i in range(-s.grid_columns, 2 * s.grid_columns + 1):
        x = i * w / s.grid_columns
        t = (horizon - vanish[1]) / (h - vanish[1])
        g.line([(vanish[0] + (x - vanish[0]) * t, horizon), (x, h)], fill=color, width=1)
    for j in range(1, s.grid_rows + 1):
        y = horizon + (h - horizon) * (j / s.grid_rows) ** 1.8
        g.line([(0, y), (w, y)], fill=color, width=1)
    return Image.alpha_composite(img, grid)


def scene_with(theme: Theme, arts: list[tuple[PropArt, Rect]], w: int, h: int, unit: float, seed: int) -> Image.Image:
    """The panel as the compositor draws it: background, the props' glow and art (text comes after)."""
    try:
        from ..draw import GLOW_ZOOM, _add_art
        from ..scene import scene_layers
    except ImportError:   # the compositor changed: use the stand-in
        base = background(theme, w, h)
        for art, _ in arts:
            base = composite(theme, art, w, h, unit, base)
        return base
    image, glow = scene_layers(w, h, theme, background="lab", floor=True, horizon=None, particles=None, seed=seed,
                               unit=unit, glow_zoom=GLOW_ZOOM)
    margin = unit * 30
    regions = [(max(0, int(b.x - margin)), max(0, int(b.y - margin)), min(w, int(b.x1 + margin) + 1),
                min(h, int(b.y1 + margin) + 1)) for _, b in arts]
    _add_art(image, glow, [(art, r) for (art, _), r in zip(arts, regions)], theme, unit)
    return image


def composite(theme: Theme, art: PropArt, w: int, h: int, unit: float, base: Image.Image) -> Image.Image:
    """Background + blurred glow + art (text comes after): a stand-in for renderer.draw."""
    out = base.copy()
    if art.glow:
        small = rasterize(svg_document(w, h, art.glow), zoom=GLOW_SCALE)
        radius = theme.scene.glow_radius * 1000 * unit * GLOW_SCALE
        halo = small.filter(ImageFilter.GaussianBlur(radius)).resize((w, h), Image.Resampling.BILINEAR)
        r, g, b, a = halo.split()
        strength = theme.scene.glow_strength
        premul = Image.merge("RGB", [ImageChops.multiply(ch, a) for ch in (r, g, b)])
        premul = premul.point(lambda v: min(255, int(v * strength)))
        out = Image.merge("RGBA", (*ImageChops.add(out.convert("RGB"), premul).split(), out.split()[3]))
    if art.svg:
        out = Image.alpha_composite(out, rasterize(svg_document(w, h, art.svg)))
    return out


def letter(image: Image.Image, items: list[TextItem], theme: Theme, where: str, min_text: float) -> list[str]:
    """Draw text items; returns problems (text that does not fit) instead of raising."""
    try:
        from ..lettering import draw_text_items  # the real lettering, once it exists
    except ImportError:
        return _fallback_letter(image, items, theme, where)
    try:
        draw_text_items(image, items, theme, where, min_text=min_text)
    except Exception as err:  # noqa: BLE001 - the sheet shows problems rather than stopping
        return [str(err)]
    return []


def _fallback_letter(image: Image.Image, items: list[TextItem], theme: Theme, where: str) -> list[str]:
    problems = []
    glow_layer = Image.new("RGBA", image.size)
    text_layer = Image.new("RGBA", image.size)
    for item in items:
        family = getattr(theme.fonts, item.role)
        size = item.size or item.box.h / LINE_HEIGHT
        min_size = item.min_size or 1
        while True:
            lines = wrap(item.text, family, size, item.box.w, item.weight) if item.wrap else [item.text]
            wide = max(text_width(line, family, size, item.weight) for line in lines)
            tall = len(lines) * size * LINE_HEIGHT
            if (wide <= item.box.w + 0.5 and tall <= item.box.h + 0.5) or size <= min_size:
                break
            size = max(min_size, size * 0.95)
        if wide > item.box.w + 0.5 or tall > item.box.h + 0.5:
            problems.append(f"{where}: '{item.name or item.text}' does not fit {item.box} at {size:.1f}px")
        y = {"top": item.box.y, "middle": item.box.cy - tall / 2, "bottom": item.box.y1 - tall}[item.valign]
        for line in lines:
            lw = text_width(line, family, size, item.weight)
            x = {"left": item.box.x, "center": item.box.cx - lw / 2, "right": item.box.x1 - lw}[item.align]
            for layer, color in ((text_layer, item.color), (glow_layer, item.glow)):
                if color is None:
                    continue
                _draw_runs(layer, line, family, size, item.weight, x, y + size * LINE_HEIGHT / 2, color)
            y += size * LINE_HEIGHT
    glow = glow_layer.filter(ImageFilter.GaussianBlur(max(2, image.width / 300)))
    image.alpha_composite(glow)
    image.alpha_composite(glow)
    image.alpha_composite(text_layer)
    return problems


def _draw_runs(layer: Image.Image, line: str, family: str, size: float, weight, x: float, cy: float, color: str) -> None:
    draw = ImageDraw.Draw(layer)
    for fam, run in runs(line, family):
        f = font(fam, max(1, round(size)), weight)
        features = ["-liga", "-calt"] if fam == "JetBrains Mono" else None
        draw.text((x, cy), run, font=f, fill=color, anchor="lm", features=features)
        x += text_width(run, fam, size, weight)


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


def _mix(a: str, b: str, t: float) -> tuple[int, int, int]:
    ra, rb = _rgb(a), _rgb(b)
    return tuple(round(x + (y - x) * t) for x, y in zip(ra, rb))  # type: ignore[return-value]


def _rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


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
