"""Props in a panel, as art: their parameters rendered (templates over the demos) and checked,
their drawing function run (renderer.props), and their SVG and neon glow rasterised onto the
panel. Text a prop wants lettered comes back in PropArt.texts; renderer.draw letters it.
"""
from __future__ import annotations

from typing import Any

from PIL import Image, ImageChops, ImageFilter
from pydantic import ValidationError

from .errors import InputError
from .geometry import Rect
from .props import REGISTRY, PropArt, PropContext
from .raster import rasterize_region
from .rendering import Problems, RenderContext, render_text
from .theme import Theme

GLOW_ZOOM = 0.25   # the glow layer is rasterised at a quarter size: it is blurred anyway


def _render_params(value: Any, tctx: dict, path: tuple, problems: Problems) -> Any:
    """Prop parameters may hold templates too (a screen showing the sampled answer)."""
    if isinstance(value, str):
        return render_text(value, tctx, path, problems)
    if isinstance(value, list):
        return [_render_params(v, tctx, path + (i,), problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _render_params(v, tctx, path + (k,), problems) for k, v in value.items()}
    return value


def draw_prop(spec, path: tuple, panel: Rect, ctx: RenderContext, tctx: dict, seed: int,
              problems: Problems) -> PropArt | None:
    """The art of one prop of the storyboard (`spec`), or None when it cannot be drawn (reported)."""
    ptype = REGISTRY[spec.type]
    before = len(problems.items)
    given = dict(spec.model_extra or {})
    raw = _render_params(given, tctx, path, problems)
    if len(problems.items) > before:      # a template in its parameters failed (reported)
        return None
    try:
        params = ptype.params.model_validate(raw)
    except ValidationError as err:        # a template rendered into a value of the wrong kind
        for e in err.errors():
            problems.add(path + tuple(e["loc"]), f"prop '{spec.type}': {'.'.join(map(str, e['loc']))}: {e['msg']}")
        return None
    x, y, w, h = spec.at
    box = Rect(panel.x + x * panel.w, panel.y + y * panel.h, w * panel.w, h * panel.h)
    demo = ctx.traces.get(spec.demo) if spec.demo else None
    if ptype.needs_demo and demo is None:
        problems.add(path, f"no live data for demo '{spec.demo}'")
        return None
    pctx = PropContext(box=box, theme=ctx.theme, unit=ctx.unit, demo=demo, seed=seed,
                       min_text=ctx.px(ctx.theme.lettering.small_print))
    try:
        art = ptype.draw(params, pctx)
        if demo is not None and art.model is None:   # whatever shows a demo's data names its model
            art.model = demo["model"]["display"]
        if demo is not None or _has_template(given):
            # text that comes from the model (or from a template over its data) may be shortened
            # with "…" to fit; what the author typed must fit as typed
            literal = {x.strip().casefold() for x in _literals(given)}
            for item in art.texts:
                item.data = item.text.strip().casefold() not in literal
        return art
    except InputError as err:
        problems.items += err.problems
    except ValueError as err:
        problems.add(path, f"prop '{spec.type}': {err}")
    return None


def _literals(value: Any):
    """The plain strings (no template) among a prop's parameters: the author's own words."""
    if isinstance(value, str):
        if "{" not in value:
            yield value
    elif isinstance(value, list):
        for v in value:
            yield from _literals(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _literals(v)


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    return False


def prop_region(spec, w: int, h: int, unit: float) -> tuple[int, int, int, int]:
    """The region a prop draws in (its box plus room for strokes and glow), clipped to the panel."""
    x, y, bw, bh = spec.at
    m = unit * 30
    return (max(0, int(x * w - m)), max(0, int(y * h - m)),
            min(w, int((x + bw) * w + m) + 1), min(h, int((y + bh) * h + m) + 1))


def add_art(image: Image.Image, glow: Image.Image, arts: list[tuple[PropArt, tuple]], theme: Theme,
            unit: float) -> None:
    """Add props' glow (blurred, screened: light adds) and then their art onto `image`, in place."""
    for art, region in arts:
        if art.glow:
            x0, y0, x1, y1 = region
            g = rasterize_region(art.glow, region, zoom=GLOW_ZOOM)
            glow.alpha_composite(g, (int(x0 * GLOW_ZOOM), int(y0 * GLOW_ZOOM)))
    if glow.getbbox() is not None:
        radius = max(1.0, theme.scene.glow_radius * 1000 * unit * GLOW_ZOOM)
        halo = glow.filter(ImageFilter.GaussianBlur(radius)).resize(image.size, Image.BILINEAR)
        a = halo.getchannel("A").point(lambda v: min(255, int(v * theme.scene.glow_strength)))
        halo.putalpha(a)
        lit = ImageChops.screen(image.convert("RGB"), _premultiply(halo))
        image.paste(lit, (0, 0))
    for art, region in arts:
        if art.svg:
            image.alpha_composite(rasterize_region(art.svg, region), region[:2])


def _premultiply(img: Image.Image) -> Image.Image:
    black = Image.new("RGB", img.size)
    return Image.composite(img.convert("RGB"), black, img.getchannel("A"))
