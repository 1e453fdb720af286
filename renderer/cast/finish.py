"""From a composed drawing to pixels: rasterise, add the glow and the neon rim light, crop, mirror.

Glow is rendered small and blurred with Pillow (resvg's blur filter is slow); the rim light is
computed from the figure's alpha: the band just inside the ink contour on the side the neon
light comes from.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from ..raster import rasterize
from .assets import Character
from .compose import Drawing

GLOW_SCALE = 4          # the glow layer is rendered at 1/4 size: it is blurred anyway
PROBE_HEIGHT = 200      # px: the probe render that finds a figure's left and right edges
ALPHA_CROP = 6          # alpha below this does not count as part of the figure when cropping


def document(ch: Character, d: Drawing, width_px: int, height_px: int, body: str,
             window: tuple[float, float] | None = None) -> str:
    left, top, w, h = ch.frame
    if window is not None:
        left, w = window[0], window[1] - window[0]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
            f'viewBox="{left:g} {top:g} {w:g} {h:g}" preserveAspectRatio="none">'
            f"<defs>{d.defs}</defs>{body}</svg>")


def extent(ch: Character, d: Drawing) -> tuple[float, float]:
    """Left and right edges of the figure in art units (from a small probe render, with a margin
    for its glow), so the full-size render only pays for the columns the figure uses."""
    left, top, w, h = ch.frame
    height = PROBE_HEIGHT
    scale = height / h
    width = max(1, round(w * scale))
    alpha = np.asarray(rasterize(document(ch, d, width, height, d.body)).getchannel("A"))
    cols = np.flatnonzero(alpha.any(axis=0))
    if not cols.size:
        return left, left + w
    margin = 2.0 / scale + ch.lines.outline + 4 * ch.light.glow_radius
    return (max(left, left + cols[0] / scale - margin), min(left + w, left + (cols[-1] + 1) / scale + margin))


def raster(ch: Character, d: Drawing, height_px: int,
           window: tuple[float, float]) -> tuple[Image.Image, float, float]:
    """The figure at height_px, cropped left/right to its pixels.

    Returns (image, scale in px per art unit, art x of the image's left edge)."""
    top, h = ch.frame[1], ch.frame[3]
    scale = height_px / h
    x0_art = window[0]
    width_px = max(1, math.ceil((window[1] - window[0]) * scale))
    win = (x0_art, x0_art + width_px / scale)      # whole pixels: no stretching
    img = rasterize(document(ch, d, width_px, height_px, d.body, win))
    img = _rim_light(ch, img, scale)
    glow = _glow(ch, d, width_px, height_px, scale, win)
    if glow is not None:
        img = Image.alpha_composite(glow, img)
    alpha = np.asarray(img.getchannel("A"))
    cols = np.flatnonzero((alpha >= ALPHA_CROP).any(axis=0))
    x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, width_px)
    return img.crop((x0, 0, x1, height_px)), scale, x0_art + x0 / scale


def _glow(ch: Character, d: Drawing, width_px: int, height_px: int, scale: float,
          window: tuple[float, float]) -> Image.Image | None:
    if "<path" not in d.glow and "<circle" not in d.glow and "<ellipse" not in d.glow \
            and "<rect" not in d.glow and "<polygon" not in d.glow:
        return None
    sw, sh = max(1, width_px // GLOW_SCALE), max(1, height_px // GLOW_SCALE)
    small = rasterize(document(ch, d, sw, sh, d.glow, window))
    radius = ch.light.glow_radius * scale / GLOW_SCALE
    blurred = small.filter(ImageFilter.GaussianBlur(radius))
    # two blurs of different reach: a tight bright halo and a wide soft one
    wide = small.filter(ImageFilter.GaussianBlur(radius * 2.5))
    glow = Image.alpha_composite(wide, blurred)
    return glow.resize((width_px, height_px), Image.Resampling.BILINEAR)


def _rim_light(ch: Character, img: Image.Image, scale: float) -> Image.Image:
    a = np.asarray(img.getchannel("A")).astype(np.int16)
    ink = max(1, round(ch.lines.outline * scale))
    rim = max(1, round(ch.light.rim_width * scale))
    inner = _erode(a, ink)
    fx, fy = ch.light.rim_from
    norm = math.hypot(fx, fy) or 1.0
    # shifting the inner shape *away* from the light uncovers a crescent on the lit side
    dx, dy = round(-fx / norm * rim), round(-fy / norm * rim)
    band = np.clip(inner - _shift(inner, dx, dy), 0, 255).astype(np.uint8)
    layer = Image.new("RGBA", img.size, ch.light.rim_color)
    layer.putalpha(Image.fromarray(band))
    return Image.alpha_composite(img, layer)


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(a)
    h, w = a.shape
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    out[yd, xd] = a[ys, xs]
    return out


def _erode(a: np.ndarray, r: int) -> np.ndarray:
    """Shrink the shape by about r pixels (minimum over an octagon of shifts)."""
    out = a.copy()
    d = max(1, round(r * 0.7071))
    for dx, dy in ((r, 0), (-r, 0), (0, r), (0, -r), (d, d), (d, -d), (-d, d), (-d, -d)):
        out = np.minimum(out, _shift(a, dx, dy))
    return out
