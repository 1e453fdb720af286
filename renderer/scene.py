"""Panel backgrounds of the tech style: sky, lab wall, perspective grid floor, light particles.

Drawn with numpy and Pillow rather than SVG: a full-panel gradient costs resvg about
0.15 s a panel, numpy a few milliseconds. Lines are drawn at twice the size and
reduced, for antialiasing. Returns the background and a quarter-size glow layer
(the neon parts again) that the compositor blurs underneath the art.
"""
from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from .theme import Theme

# Backgrounds: (sky top, sky bottom) per setting; None keeps the theme's colours.
BACKDROPS = {
    "lab": None,
    "void": ("#05081a", "#0a0f2a"),
    "city": ("#120a30", "#2a1450"),
    "datacenter": ("#061522", "#0b2a3a"),
    "fab": ("#141a26", "#2a3348"),
    "screen": ("#0a1030", "#101a48"),
}
SUPERSAMPLE = 2


def _rgb(color: str) -> np.ndarray:
    return np.array(ImageColor.getrgb(color)[:3], dtype=np.float32)


def _vertical_gradient(w: int, h: int, top: str, bottom: str) -> np.ndarray:
    t = np.linspace(0.0, 1.0, max(h, 1), dtype=np.float32)[:, None, None]
    col = _rgb(top) * (1 - t) + _rgb(bottom) * t
    return np.broadcast_to(col, (h, w, 3))


def scene_layers(w: int, h: int, theme: Theme, *, background: str, floor: bool, horizon: float | None,
                 particles: int | None, seed: int, unit: float, glow_zoom: float) -> tuple[Image.Image, Image.Image]:
    """(background RGBA at w x h, glow RGBA at glow_zoom scale) for one panel."""
    s = theme.scene
    sky_top, sky_bottom = BACKDROPS.get(background) or (s.sky_top, s.sky_bottom)
    hy = int(h * (s.horizon if horizon is None else horizon)) if floor else h
    pixels = np.empty((h, w, 3), dtype=np.float32)
    pixels[:hy] = _vertical_gradient(w, hy, sky_top, sky_bottom)
    if floor and hy < h:
        pixels[hy:] = _vertical_gradient(w, h - hy, s.floor_top, s.floor_bottom)
        # a soft haze of the grid colour rising from the floor's middle
        yy, xx = np.mgrid[max(0, hy - h // 4):hy, 0:w].astype(np.float32)
        d = np.sqrt(((xx - w / 2) / (w * 0.6)) ** 2 + ((yy - hy) / (h * 0.25)) ** 2)
        haze = np.clip(1 - d, 0, 1)[..., None] * 0.22
        region = pixels[max(0, hy - h // 4):hy]
        region += (_rgb(s.grid_color) - region) * haze
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").convert("RGBA")

    gw, gh = max(1, int(w * glow_zoom)), max(1, int(h * glow_zoom))
    glow = Image.new("RGBA", (gw, gh))
    gdraw = ImageDraw.Draw(glow)
    if background == "lab":
        _lab_wall(image, hy, theme, unit)
    if floor and hy < h:
        _grid(image, gdraw, hy, theme, unit, glow_zoom)
    _particles(image, gdraw, theme, particles if particles is not None else s.particles, seed, unit, glow_zoom)
    return image, glow


def _lab_wall(image: Image.Image, hy: int, theme: Theme, unit: float) -> None:
    """Faint wall panels and a light strip, so the lab reads as a room, not space."""
    color = ImageColor.getrgb(theme.palette.get("metal", "#3a4470"))
    overlay = Image.new("RGBA", image.size)
    d = ImageDraw.Draw(overlay)
    w = image.width
    n = max(3, int(w / (unit * 160)))
    for i in range(1, n):
        x = round(w * i / n)
        d.line([(x, 0), (x, hy)], fill=(*color, 90), width=max(1, round(unit * 1.2)))
    d.rectangle((0, round(hy * 0.12), w, round(hy * 0.12 + unit * 2.5)), fill=(*color, 90))
    image.alpha_composite(overlay)


def _grid(image: Image.Image, gdraw: ImageDraw.ImageDraw, hy: int, theme: Theme, unit: float, zoom: float) -> None:
    """Perspective floor grid: lines converging on the horizon's centre, rows closing up toward it."""
    s = theme.scene
    w, h = image.size
    k = SUPERSAMPLE
    fw, fh = w * k, (h - hy) * k
    layer = Image.new("RGBA", (fw, fh))
    d = ImageDraw.Draw(layer)
    color = ImageColor.getrgb(s.grid_color)
    alpha = int(255 * s.grid_opacity)
    lw = max(1, round(unit * 1.3 * k))
    vx, spread = fw / 2, fw * 2.2
    lines = []
    for i in range(s.grid_columns + 1):
        xb = vx - spread / 2 + spread * i / s.grid_columns
        lines.append(((vx + (xb - vx) * 0.02, 0), (xb, fh)))
    for j in range(1, s.grid_rows + 1):
        y = fh * (j / s.grid_rows) ** 2.2   # perspective: rows close up near the horizon
        lines.append(((0, y), (fw, y)))
    for a, b in lines:
        d.line([a, b], fill=(*color, alpha), width=lw)
    d.line([(0, 0), (fw, 0)], fill=(*color, 220), width=max(2, round(unit * 1.6 * k)))
    image.alpha_composite(layer.reduce(k), (0, hy))
    # the same lines, brighter, on the glow layer
    off = hy * zoom
    for (x0, y0), (x1, y1) in lines:
        gdraw.line([(x0 / k * zoom, y0 / k * zoom + off), (x1 / k * zoom, y1 / k * zoom + off)],
                   fill=(*color, 200), width=1)
    gdraw.line([(0, off), (w * zoom, off)], fill=(*color, 255), width=2)


@lru_cache(maxsize=256)
def _dot(radius_px: float, color: str, alpha: int) -> Image.Image:
    """An antialiased disc sprite (drawn 4x and reduced)."""
    k = 4
    size = int(radius_px * 2 + 3)
    big = Image.new("RGBA", (size * k, size * k))
    c = size * k / 2
    r = radius_px * k
    ImageDraw.Draw(big).ellipse((c - r, c - r, c + r, c + r), fill=(*ImageColor.getrgb(color)[:3], alpha))
    return big.reduce(k)


def _particles(image: Image.Image, gdraw: ImageDraw.ImageDraw, theme: Theme, count: int, seed: int,
               unit: float, zoom: float) -> None:
    rng = random.Random(seed)
    colors = theme.scene.particle_colors
    w, h = image.size
    for _ in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = round(unit * rng.uniform(1.0, 3.2) * 2) / 2
        color = rng.choice(colors)
        alpha = int(255 * rng.uniform(0.45, 0.95))
        sprite = _dot(r, color, alpha)
        px, py = round(x - sprite.width / 2), round(y - sprite.height / 2)
        if 0 <= px and 0 <= py and px + sprite.width <= w and py + sprite.height <= h:
            image.alpha_composite(sprite, (px, py))
        gr = max(1.0, r * zoom * 2.5)
        gdraw.ellipse((x * zoom - gr, y * zoom - gr, x * zoom + gr, y * zoom + gr), fill=(*ImageColor.getrgb(color)[:3], 255))
