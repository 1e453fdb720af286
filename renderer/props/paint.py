"""The tech style's visual vocabulary: neon lines, holographic glass, glowing cubes, particles.

Each function draws into a Canvas: crisp shapes on the art layer and a matching
bright shape on the glow layer, which the compositor blurs into a halo. No SVG
filters (slow in resvg) and no SVG text (the lettering draws text).
"""
from __future__ import annotations

import math
from typing import Sequence

from live_demo.formatting import SPACE_MARK

from ..geometry import Rect
from .kit import Canvas
from .measure import baseline_in, text_width
from .svg import Point, darken, lighten, mix, num, path_d, pts

# Proportions of the style, in page units (u = page width / 1000) unless they say otherwise.
NEON_CORE = 0.38          # the white-hot core of a neon tube, as a fraction of its width
NEON_HALO = 3.2           # glow stroke width, as a multiple of the tube width
EDGE = 1.1                # crisp edge lines
BRACKET = 0.16            # corner bracket length, as a fraction of the shorter side
SCANLINE_GAP = 3.2        # holographic scanlines
CUBE_TOP_SLANT = 0.75     # the top face recedes up at this fraction of the depth


def ink(c: Canvas) -> str:
    return c.theme.palette["ink"]


# ---- lines -----------------------------------------------------------------------------------

def neon(c: Canvas, d: str, color: str, width: float, *, opacity: float = 1.0, halo: float = 1.0,
         dash: str | None = None) -> None:
    """A glowing tube along an SVG path `d` (width in px)."""
    c.svg.el("path", d=d, fill="none", stroke=color, stroke_width=width, stroke_linecap="round",
             stroke_linejoin="round", opacity=f"{0.9 * opacity:.2f}", stroke_dasharray=dash)
    c.svg.el("path", d=d, fill="none", stroke=lighten(color, 0.75), stroke_width=width * NEON_CORE,
             stroke_linecap="round", stroke_linejoin="round", opacity=f"{opacity:.2f}", stroke_dasharray=dash)
    if halo > 0:
        c.glow.el("path", d=d, fill="none", stroke=color, stroke_width=width * NEON_HALO * halo,
                  stroke_linecap="round", stroke_linejoin="round", opacity=f"{0.8 * opacity:.2f}")


def curve(a: Point, b: Point, bend: float = 0.0) -> str:
    """A smooth path from a to b bowing sideways by `bend` times its length."""
    (x0, y0), (x1, y1) = a, b
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = x1 - x0, y1 - y0
    qx, qy = mx - dy * bend, my + dx * bend
    return f"M{num(x0)},{num(y0)} Q{num(qx)},{num(qy)} {num(x1)},{num(y1)}"


def quad_point(a: Point, b: Point, bend: float, t: float) -> Point:
    """The point at parameter t on curve(a, b, bend)."""
    (x0, y0), (x1, y1) = a, b
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    qx, qy = mx - (y1 - y0) * bend, my + (x1 - x0) * bend
    s = 1 - t
    return (s * s * x0 + 2 * s * t * qx + t * t * x1, s * s * y0 + 2 * s * t * qy + t * t * y1)


def arrow_head(c: Canvas, tip: Point, towards: Point, size: float, color: str) -> None:
    """A filled chevron at `tip`, pointing away from `towards`."""
    ang = math.atan2(tip[1] - towards[1], tip[0] - towards[0])
    left = (tip[0] - size * math.cos(ang - 0.45), tip[1] - size * math.sin(ang - 0.45))
    right = (tip[0] - size * math.cos(ang + 0.45), tip[1] - size * math.sin(ang + 0.45))
    notch = (tip[0] - size * 0.6 * math.cos(ang), tip[1] - size * 0.6 * math.sin(ang))
    shape = path_d([tip, left, notch, right], closed=True)
    c.svg.el("path", d=shape, fill=lighten(color, 0.35), stroke=lighten(color, 0.8), stroke_width=0.6 * c.u)
    c.glow.el("path", d=shape, fill=color)


# ---- light -----------------------------------------------------------------------------------

def particle(c: Canvas, x: float, y: float, r: float, color: str, *, opacity: float = 1.0) -> None:
    """A mote of light: white core, coloured falloff, halo on the glow layer."""
    fill = c.svg.radial([(0, "#ffffff", 1), (0.35, lighten(color, 0.4), 0.9), (1, color, 0)])
    c.svg.el("circle", cx=x, cy=y, r=r * 2.2, fill=fill, opacity=f"{opacity:.2f}")
    c.glow.el("circle", cx=x, cy=y, r=r * 2.6, fill=color, opacity=f"{0.7 * opacity:.2f}")


def sparkle(c: Canvas, x: float, y: float, r: float, color: str, *, opacity: float = 1.0) -> None:
    """A four-pointed twinkle."""
    k = r * 0.18
    star = [(x, y - r), (x + k, y - k), (x + r, y), (x + k, y + k), (x, y + r), (x - k, y + k), (x - r, y), (x - k, y - k)]
    c.svg.el("path", d=path_d(star, closed=True), fill=lighten(color, 0.7), opacity=f"{opacity:.2f}")
    c.glow.el("circle", cx=x, cy=y, r=r * 0.8, fill=color, opacity=f"{0.6 * opacity:.2f}")


def particles_along(c: Canvas, a: Point, b: Point, bend: float, count: int, color: str, r: float,
                    *, jitter: float = 0.0) -> None:
    """Light particles spaced along a curve, brighter towards its end (the direction of flow)."""
    for i in range(count):
        t = (i + 0.5 + c.rng.uniform(-0.3, 0.3)) / count
        x, y = quad_point(a, b, bend, t)
        x += c.rng.uniform(-jitter, jitter)
        y += c.rng.uniform(-jitter, jitter)
        particle(c, x, y, r * (0.6 + 0.6 * c.rng.random()), color, opacity=0.45 + 0.55 * t)


def light_cone(c: Canvas, apex: Sequence[Point], base: Sequence[Point], color: str, *,
               strength: float = 0.55) -> None:
    """A translucent beam from an emitter edge (apex) to a far edge (base), fading outwards."""
    (ax0, ay0), (ax1, ay1) = apex
    (bx0, by0), (bx1, by1) = base
    mid_a = ((ax0 + ax1) / 2, (ay0 + ay1) / 2)
    mid_b = ((bx0 + bx1) / 2, (by0 + by1) / 2)
    fill = c.svg.linear([(0, lighten(color, 0.3), strength), (0.7, color, strength * 0.25), (1, color, 0)],
                        user=(*mid_a, *mid_b))
    shape = path_d([apex[0], apex[1], base[1], base[0]], closed=True)
    c.svg.el("path", d=shape, fill=fill)
    c.glow.el("path", d=shape, fill=c.glow.linear([(0, color, 0.5), (1, color, 0)], user=(*mid_a, *mid_b)))


# ---- glass and solids ------------------------------------------------------------------------

def scanlines(c: Canvas, r: Rect, color: str, *, opacity: float = 0.10, radius: float = 0.0) -> None:
    """Thin horizontal lines across a rectangle: the look of a projected hologram.

    Drawn as thin filled bars in one path: resvg fills them far faster than it strokes lines.
    """
    gap = SCANLINE_GAP * c.u
    n = int(r.h / gap)
    if n <= 0:
        return
    x, w, t = r.x + radius * 0.3, r.w - radius * 0.6, 0.5 * c.u
    d = " ".join(f"M{num(x)},{num(r.y + (i + 0.5) * gap)} h{num(w)} v{num(t)} h{num(-w)} Z" for i in range(n))
    c.svg.el("path", d=d, fill=lighten(color, 0.3), fill_opacity=f"{opacity:.2f}")


def corner_brackets(c: Canvas, r: Rect, color: str, *, width: float | None = None, inset: float = 0.0) -> None:
    """Bright L-shaped marks on the four corners of a holographic frame."""
    w = width or 1.8 * c.u
    k = BRACKET * min(r.w, r.h)
    x0, y0, x1, y1 = r.x + inset, r.y + inset, r.x1 - inset, r.y1 - inset
    d = (f"M{num(x0)},{num(y0 + k)} V{num(y0)} H{num(x0 + k)} "
         f"M{num(x1 - k)},{num(y0)} H{num(x1)} V{num(y0 + k)} "
         f"M{num(x1)},{num(y1 - k)} V{num(y1)} H{num(x1 - k)} "
         f"M{num(x0 + k)},{num(y1)} H{num(x0)} V{num(y1 - k)}")
    c.svg.el("path", d=d, fill="none", stroke=lighten(color, 0.55), stroke_width=w, stroke_linecap="square")
    c.glow.el("path", d=d, fill="none", stroke=color, stroke_width=w * 2.5)


def glass(c: Canvas, r: Rect, color: str, *, radius: float | None = None, tint: float = 0.78,
          opacity: float = 0.82, edge: float = 1.0, brackets: bool = True, lines: bool = True,
          halo: float = 1.0) -> None:
    """A holographic glass panel: dark tinted fill, bright edge, scanlines, corner brackets."""
    rad = 3 * c.u if radius is None else radius
    # flat tinted glass (a gradient over a big panel is slow in resvg), lit from the top by a sheen band
    c.svg.el("rect", x=r.x, y=r.y, width=r.w, height=r.h, rx=rad, fill=mix(color, ink(c), tint), fill_opacity=f"{opacity:.2f}")
    if lines:
        scanlines(c, r, color, radius=rad)
    band = min(r.h * 0.35, 40 * c.u)
    sheen = c.svg.linear([(0, lighten(color, 0.5), 0.16), (1, color, 0.0)])
    c.svg.el("rect", x=r.x, y=r.y, width=r.w, height=band, rx=rad, fill=sheen)
    c.svg.el("rect", x=r.x, y=r.y, width=r.w, height=r.h, rx=rad, fill="none", stroke=color,
             stroke_width=EDGE * edge * c.u, opacity="0.9")
    if brackets:
        corner_brackets(c, r, color)
    if halo > 0:
        c.glow.el("rect", x=r.x, y=r.y, width=r.w, height=r.h, rx=rad, fill="none", stroke=color,
                  stroke_width=3.5 * c.u * halo, opacity="0.8")


def cube_depth(front_h: float) -> tuple[float, float]:
    """How far a cube's back face sits right and up of its front face."""
    return front_h * 0.22, front_h * 0.22 * CUBE_TOP_SLANT


def cube(c: Canvas, f: Rect, color: str, *, depth: tuple[float, float] | None = None, dim: bool = False,
         glow: float = 1.0) -> None:
    """A glowing glass cube seen from front-left-above: front face `f`, top and right faces behind.

    `dim` draws the ghost of a cube (padding): faint faces and a dashed outline.
    """
    dx, dy = depth or cube_depth(f.h)
    top = [(f.x, f.y), (f.x + dx, f.y - dy), (f.x1 + dx, f.y - dy), (f.x1, f.y)]
    side = [(f.x1, f.y), (f.x1 + dx, f.y - dy), (f.x1 + dx, f.y1 - dy), (f.x1, f.y1)]
    outline = [(f.x, f.y1), (f.x, f.y), (f.x + dx, f.y - dy), (f.x1 + dx, f.y - dy), (f.x1 + dx, f.y1 - dy), (f.x1, f.y1)]
    rad = min(f.w, f.h) * 0.06
    if dim:
        faint = mix(color, ink(c), 0.45)
        dash = f"{num(2.6 * c.u)} {num(2.0 * c.u)}"
        c.svg.el("path", d=path_d(top, True), fill=faint, opacity="0.16")
        c.svg.el("path", d=path_d(side, True), fill=faint, opacity="0.10")
        c.svg.el("rect", x=f.x, y=f.y, width=f.w, height=f.h, rx=rad, fill=mix(color, ink(c), 0.7), opacity="0.30")
        edges = path_d(outline) + " " + f"M{num(f.x1)},{num(f.y)} L{num(f.x1 + dx)},{num(f.y - dy)}"
        c.svg.el("path", d=edges, fill="none", stroke=faint, stroke_width=0.9 * c.u, stroke_dasharray=dash, opacity="0.75")
        c.svg.el("rect", x=f.x, y=f.y, width=f.w, height=f.h, rx=rad, fill="none", stroke=faint,
                 stroke_width=0.9 * c.u, stroke_dasharray=dash, opacity="0.85")
        if glow > 0:
            c.glow.el("rect", x=f.x, y=f.y, width=f.w, height=f.h, fill=color, opacity=f"{0.12 * glow:.2f}")
        return
    c.svg.el("path", d=path_d(top, True), fill=c.svg.linear([(0, lighten(color, 0.45), 0.95), (1, color, 0.8)]))
    c.svg.el("path", d=path_d(side, True), fill=c.svg.linear([(0, darken(color, 0.25), 0.9), (1, darken(color, 0.6), 0.9)], x2=1, y2=0))
    face = c.svg.linear([(0, mix(color, ink(c), 0.45), 0.96), (1, mix(color, ink(c), 0.72), 0.96)])
    c.svg.el("rect", x=f.x, y=f.y, width=f.w, height=f.h, rx=rad, fill=face)
    inner = f.inset(min(f.w, f.h) * 0.07)
    c.svg.el("rect", x=inner.x, y=inner.y, width=inner.w, height=inner.h, rx=rad * 0.7, fill="none",
             stroke=color, stroke_width=0.7 * c.u, opacity="0.55")
    c.svg.el("path", d=path_d(outline) + f" M{num(f.x1)},{num(f.y)} L{num(f.x1 + dx)},{num(f.y - dy)}",
             fill="none", stroke=lighten(color, 0.6), stroke_width=EDGE * c.u, stroke_linejoin="round")
    c.svg.el("rect", x=f.x, y=f.y, width=f.w, height=f.h, rx=rad, fill="none", stroke=lighten(color, 0.7),
             stroke_width=1.3 * c.u)
    if glow > 0:
        # a ring of light around the edges; the face itself stays dark so its text reads
        c.glow.el("path", d=path_d(outline, True), fill="none", stroke=color, stroke_width=4 * c.u,
                  stroke_linejoin="round", opacity=f"{0.8 * glow:.2f}")


def slab(c: Canvas, front: Sequence[Point], top: Sequence[Point], color: str, *, side: Sequence[Point] | None = None,
         opacity: float = 0.9) -> None:
    """A solid block from explicit face polygons (machines, racks, pedestals)."""
    c.svg.el("path", d=path_d(top, True), fill=c.svg.linear([(0, lighten(color, 0.25), opacity), (1, color, opacity)]))
    if side:
        c.svg.el("path", d=path_d(side, True), fill=darken(color, 0.45), opacity=f"{opacity:.2f}")
    c.svg.el("path", d=path_d(front, True), fill=c.svg.linear([(0, color, opacity), (1, darken(color, 0.5), opacity)]))


def polygon(c: Canvas, points: Sequence[Point], **attrs) -> None:
    c.svg.el("polygon", points=pts(points), **attrs)


def ellipse_glow(c: Canvas, cx: float, cy: float, rx: float, ry: float, color: str, *, strength: float = 0.6) -> None:
    """A soft pool of light (on the floor under a machine, behind a hologram)."""
    fill = c.svg.radial([(0, color, strength), (0.6, color, strength * 0.3), (1, color, 0)])
    c.svg.el("ellipse", cx=cx, cy=cy, rx=rx, ry=ry, fill=fill)


# ---- token text ------------------------------------------------------------------------------

MARK_HEIGHT = 0.30       # height of the ␣ bracket's ticks, as a fraction of the text size
MARK_STROKE = 0.085      # its line weight, as a fraction of the text size


def mono_line(c: Canvas, display: str, box: Rect, size: int, *, color: str, glow: str | None = None,
              align: str = "center", name: str = "") -> None:
    """One line of token text in the mono font.

    The mono font has no ␣ glyph, so each visible-space mark is drawn here as a
    vector bracket in the text's colour; the rest of the text goes to the lettering,
    placed right after it (the font is fixed-width, so positions are exact).
    """
    if SPACE_MARK not in display:
        c.text(display, box, role="mono", size=size, color=color, glow=glow, align=align, name=name)
        return
    family = c.theme.fonts.mono
    adv = text_width("M", family, size)
    runs: list[tuple[bool, str]] = []
    for ch in display:
        mark = ch == SPACE_MARK
        if runs and runs[-1][0] == mark:
            runs[-1] = (mark, runs[-1][1] + ch)
        else:
            runs.append((mark, ch))
    widths = [len(t) * adv if mark else text_width(t, family, size) for mark, t in runs]
    total = sum(widths)
    x = {"left": box.x, "center": box.cx - total / 2, "right": box.x1 - total}[align]
    base = baseline_in(box.y, box.h, family, size)
    for (mark, run), w in zip(runs, widths):
        if mark:
            for i in range(len(run)):
                space_mark(c, x + i * adv, base, adv, size, color, glow)
        else:
            c.text(run, Rect(x, box.y, min(w + adv * 0.5, box.x1 - x), box.h), role="mono", size=size, color=color,
                   glow=glow, align="left", name=name)
        x += w


def space_mark(c: Canvas, x: float, baseline: float, advance: float, size: float, color: str,
               glow: str | None) -> None:
    """The ␣ bracket in one character cell whose left edge is x."""
    tick = MARK_HEIGHT * size
    x0, x1 = x + advance * 0.18, x + advance * 0.82
    d = f"M{num(x0)},{num(baseline - tick)} V{num(baseline)} H{num(x1)} V{num(baseline - tick)}"
    c.svg.el("path", d=d, fill="none", stroke=color, stroke_width=MARK_STROKE * size, stroke_linecap="round",
             stroke_linejoin="round", data_space_mark="1")
    if glow:
        c.glow.el("path", d=d, fill="none", stroke=glow, stroke_width=MARK_STROKE * size * 3)
