"""Data in motion: neon paths carrying light particles, and raw text streaming in as characters."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from live_demo.formatting import elide

from ..geometry import Rect
from .base import PropContext, PropParams, prop
from .data import DataParams
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import arrow_head, curve, neon, particle, quad_point
from .svg import mix, num

Frac2 = tuple[float, float]


class NeonPath(PropParams):
    start: Frac2 = Field((0.0, 0.5), description="Where the path starts: x, y as fractions of the box.")
    end: Frac2 = Field((1.0, 0.5), description="Where it ends.")
    bend: float = Field(0.0, ge=-1, le=1, description="How far it bows sideways (fraction of its length; sign = side).")
    color: str | None = Field(None, description="Palette name or hex; default cyan.")
    to_color: str | None = Field(None, description="Fade to this colour at the end (e.g. the next station's accent).")
    particles: int = Field(10, ge=0, le=200, description="Light particles travelling along it.")
    arrow: bool = Field(True, description="An arrow head at the end: which way the data flows.")
    width: float = Field(2.4, gt=0, le=20, description="Tube width in page units (1/1000 of the page width).")


@prop("neon_path", NeonPath)
def neon_path(p: NeonPath, ctx: PropContext):
    """A glowing path from A to B with particles flowing along it: data moving between props."""
    c = Canvas("neon_path", p, ctx)
    box = c.box
    pad = p.width * c.u * 3      # keep the tube, its arrow and particles inside the box
    inner = box.inset(min(pad, box.w / 4), min(pad, box.h / 4))
    a = (inner.x + p.start[0] * inner.w, inner.y + p.start[1] * inner.h)
    b = (inner.x + p.end[0] * inner.w, inner.y + p.end[1] * inner.h)
    color = c.accent(c.theme.palette["cyan"])
    end_color = c.colour(p.to_color) if p.to_color else color
    d = curve(a, b, p.bend)
    stroke = color
    if end_color != color:
        stroke = c.svg.linear([(0, color, 1), (1, end_color, 1)], user=(*a, *b))
    w = p.width * c.u
    c.svg.el("path", d=d, fill="none", stroke=stroke, stroke_width=w, stroke_linecap="round", opacity="0.9")
    c.svg.el("path", d=d, fill="none", stroke="#ffffff", stroke_width=w * 0.35, stroke_linecap="round", opacity="0.8")
    c.glow.el("path", d=d, fill="none", stroke=c.glow.linear([(0, color, 1), (1, end_color, 1)], user=(*a, *b))
              if end_color != color else color, stroke_width=w * 3.2)
    for i in range(p.particles):
        t = (i + 0.5) / p.particles
        x, y = quad_point(a, b, p.bend, t)
        particle(c, x, y, w * (0.45 + 0.35 * c.rng.random()), mix(color, end_color, t), opacity=0.5 + 0.5 * t)
    if p.arrow:
        before = quad_point(a, b, p.bend, 0.96)
        arrow_head(c, b, before, w * 4, end_color)
    c.anchor("start", *a)
    c.anchor("end", *b)
    c.anchor("middle", *quad_point(a, b, p.bend, 0.5))
    return c.art()


CELL_SPACING = (1.45, 1.25, 1.08)   # character cell widths to try, in advances: airy first, then snug


class CharStream(DataParams):
    text: str | None = Field(None, description="The raw text; default: the demo's prompt (or a sample question).")
    color: str | None = Field(None, description="Palette name or hex; default: station 1's accent.")
    direction: Literal["right", "left"] = Field("right", description="Which way the characters flow.")
    wave: float = Field(0.22, ge=0, le=0.5, description="How much the stream undulates (fraction of the box height).")


@prop("char_stream", CharStream)
def char_stream(p: CharStream, ctx: PropContext):
    """Raw text flowing in as a stream of single glowing characters on a ribbon of light."""
    c = Canvas("char_stream", p, ctx)
    box = c.box
    text = p.text if p.text is not None else (ctx.demo["prompt"] if ctx.demo else "How does AI work?")
    if p.text is None and ctx.demo:
        c.model = ctx.demo["model"]["display"]
    text = " ".join(text.split())     # raw text, one line: newlines become spaces
    color = c.accent(c.theme.station_color(1))
    family = c.theme.fonts.mono
    # the largest size at which every character fits along the box, in cells as snug as needed
    adv100 = text_width("M", family, 100)
    n = max(1, len(text))
    by_height = box.h / (LINE_HEIGHT * (1 + 2 * p.wave) + 0.2)
    for cell in CELL_SPACING:
        size = int(min(by_height, box.w / (n * cell * adv100 / 100)))
        if size >= c.min_text:
            break
    if size < c.min_text:   # still too long: the stream runs out of the box, ending in "…"
        size = math.ceil(c.min_text)
        fit = max(1, int(box.w / (cell * adv100 * size / 100)) - 1)
        text = elide(text, fit + 1)
        n = len(text)
    adv = adv100 * size / 100
    step = adv * cell
    amp = min(p.wave * box.h, (box.h - size * LINE_HEIGHT) / 2)
    x0 = box.x + (box.w - step * n) / 2
    cy = box.cy

    def wave_y(x: float) -> float:
        return cy + amp * math.sin((x - box.x) / box.w * math.pi * 2.0)

    # the ribbon: two neon strands braiding through the characters
    for phase, strength in ((0.0, 1.0), (math.pi, 0.55)):
        points = []
        for k in range(41):
            x = box.x + box.w * k / 40
            y = wave_y(x) + amp * 0.35 * math.sin((x - box.x) / box.w * math.pi * 6 + phase)
            points.append((x, y))
        d = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in points)
        neon(c, d, color, 1.2 * c.u, opacity=0.55 * strength, halo=0.7)
    order = range(n) if p.direction == "right" else range(n - 1, -1, -1)
    for rank, i in enumerate(order):
        ch = text[i]
        x = x0 + step * i + step / 2
        y = wave_y(x)
        # the front of the stream (where it flows to) is brightest
        t = (i + 1) / n if p.direction == "right" else (n - i) / n
        if ch == " ":
            particle(c, x, y, 1.3 * c.u, color, opacity=0.4 + 0.6 * t)
            continue
        h = size * LINE_HEIGHT
        tile = Rect(x - step * 0.42, y - h * 0.52, step * 0.84, h * 1.04)
        c.svg.el("rect", x=tile.x, y=tile.y, width=tile.w, height=tile.h, rx=step * 0.12,
                 fill=mix(color, c.theme.palette["ink"], 0.75), opacity=f"{0.35 + 0.4 * t:.2f}",
                 stroke=color, stroke_width=0.7 * c.u)
        c.glow.el("rect", x=tile.x, y=tile.y, width=tile.w, height=tile.h, fill=color, opacity=f"{0.15 + 0.35 * t:.2f}")
        c.text(ch, Rect(x - step / 2, y - h / 2, step, h), role="mono", size=size,
               color=mix(color, "#ffffff", 0.35 + 0.65 * t), glow=color, name=f"character {i + 1}")
    c.anchor("in", box.x, wave_y(box.x))
    c.anchor("out", box.x1, wave_y(box.x1))
    c.keep_clear(Rect(box.x, cy - amp - size, box.w, 2 * (amp + size)))
    return c.art()
