"""From a composed drawing to pixels: rasterise, add the glow, crop.

Glow is rendered small and blurred with Pillow (resvg's blur filter is slow).
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from ..raster import rasterize
from .assets import Character
from .compose import Drawing

GLOW_SCALE = 4          # the glow layer is rendered at 1/4 size: it is blurred anyway
ALPHA_CROP = 6          # alpha below this does not count as part of the figure when cropping


def document(ch: Character, d: Drawing, width_px: int, height_px: int, body: str,
             window: tuple[float, float] | None = None) -> str:
    left, top, w, h = ch.frame
    if window is not None:
        left, w = window[0], window[1] - window[0]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
            f'viewBox="{left:g} {top:g} {w:g} {h:g}" preserveAspectRatio="none">'
            f"<defs>{d.defs}</defs>{body}</svg>")


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
