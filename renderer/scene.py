"""Panel backgrounds of the tech style as SVG: sky, perspective grid floor, light particles.

Returns (svg, glow): `glow` holds the neon parts again, for the compositor to blur
underneath, which is how lines and particles get their halo cheaply.
"""
from __future__ import annotations

import random

from .theme import Theme

# Backgrounds: (sky top, sky bottom) overrides per setting; None keeps the theme's colours.
BACKDROPS = {
    "lab": None,
    "void": ("#05081a", "#0a0f2a"),
    "city": ("#120a30", "#2a1450"),
    "datacenter": ("#061522", "#0b2a3a"),
    "fab": ("#141a26", "#2a3348"),
    "screen": ("#0a1030", "#101a48"),
}


def scene_svg(w: float, h: float, theme: Theme, *, background: str, floor: bool, horizon: float | None,
              particles: int | None, seed: int, unit: float) -> tuple[str, str, str]:
    """(defs, svg, glow) for a w x h panel background."""
    s = theme.scene
    sky_top, sky_bottom = BACKDROPS.get(background) or (s.sky_top, s.sky_bottom)
    hy = h * (s.horizon if horizon is None else horizon) if floor else h
    defs = (
        f'<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{sky_top}"/><stop offset="1" stop-color="{sky_bottom}"/></linearGradient>'
        f'<linearGradient id="floor" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{s.floor_top}"/><stop offset="1" stop-color="{s.floor_bottom}"/></linearGradient>'
        f'<radialGradient id="haze" cx="0.5" cy="1" r="0.6">'
        f'<stop offset="0" stop-color="{s.grid_color}" stop-opacity="0.22"/>'
        f'<stop offset="1" stop-color="{s.grid_color}" stop-opacity="0"/></radialGradient>'
    )
    parts = [f'<rect width="{w:.1f}" height="{h:.1f}" fill="url(#sky)"/>']
    glow = []
    if background == "lab":
        parts.append(_lab_wall(w, hy, theme, unit))
    if floor:
        parts.append(f'<rect y="{hy:.1f}" width="{w:.1f}" height="{h - hy:.1f}" fill="url(#floor)"/>')
        parts.append(f'<rect y="{hy - h * 0.25:.1f}" width="{w:.1f}" height="{h * 0.25:.1f}" fill="url(#haze)"/>')
        grid = _grid(w, h, hy, theme, unit)
        parts.append(grid)
        glow.append(grid)
        horizon_line = (f'<line x1="0" y1="{hy:.1f}" x2="{w:.1f}" y2="{hy:.1f}" stroke="{s.grid_color}" '
                        f'stroke-width="{unit * 1.6:.2f}" stroke-opacity="0.8"/>')
        parts.append(horizon_line)
        glow.append(horizon_line)
    dots = _particles(w, h, theme, particles if particles is not None else s.particles, seed, unit)
    parts.append(dots)
    glow.append(dots)
    return defs, "".join(parts), "".join(glow)


def _lab_wall(w: float, hy: float, theme: Theme, unit: float) -> str:
    """Faint wall panels and a light strip, so the lab reads as a room, not space."""
    color = theme.palette.get("metal", "#3a4470")
    out = []
    n = max(3, int(w / (unit * 160)))
    for i in range(1, n):
        x = w * i / n
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{hy:.1f}" stroke="{color}" '
                   f'stroke-width="{unit * 1.2:.2f}" stroke-opacity="0.35"/>')
    out.append(f'<rect y="{hy * 0.12:.1f}" width="{w:.1f}" height="{unit * 2.5:.1f}" fill="{color}" fill-opacity="0.35"/>')
    return "".join(out)


def _grid(w: float, h: float, hy: float, theme: Theme, unit: float) -> str:
    s = theme.scene
    vx = w / 2
    depth = h - hy
    out = [f'<g stroke="{s.grid_color}" stroke-opacity="{s.grid_opacity}" stroke-width="{unit * 1.3:.2f}" fill="none">']
    spread = w * 2.2
    for i in range(s.grid_columns + 1):
        x_bottom = vx - spread / 2 + spread * i / s.grid_columns
        out.append(f'<line x1="{vx + (x_bottom - vx) * 0.02:.1f}" y1="{hy:.1f}" x2="{x_bottom:.1f}" y2="{h:.1f}"/>')
    for j in range(1, s.grid_rows + 1):
        t = (j / s.grid_rows) ** 2.2   # closer together near the horizon: perspective
        y = hy + depth * t
        out.append(f'<line x1="0" y1="{y:.1f}" x2="{w:.1f}" y2="{y:.1f}"/>')
    out.append("</g>")
    return "".join(out)


def _particles(w: float, h: float, theme: Theme, count: int, seed: int, unit: float) -> str:
    rng = random.Random(seed)
    colors = theme.scene.particle_colors
    out = []
    for _ in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = unit * rng.uniform(1.0, 3.2)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.2f}" fill="{rng.choice(colors)}" '
                   f'fill-opacity="{rng.uniform(0.45, 0.95):.2f}"/>')
    return "".join(out)
