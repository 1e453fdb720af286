"""The pipeline as an assembly line: a holographic conveyor belt through glowing station gates.

`conveyor_belt` draws N stations in the theme's station colours along a belt
(receding into the distance or straight), with light particles flowing along a
neon path; `station` draws one gate up close. Both share the gate drawing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from ..geometry import Rect
from .base import PropContext, PropParams, prop
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width, wrap
from .paint import corner_brackets, ellipse_glow, glass, ink, neon, particle, scanlines
from .svg import darken, lighten, mix, num

# Gate proportions (fractions of the gate's own width / height).
FRAME = 0.13            # frame thickness, of the gate width
BADGE = 0.17            # number badge radius, of the gate width
FOOT = 0.09             # pillar feet height, of the gate height
CURTAIN = 0.30          # light curtain opacity at its brightest

# Belt proportions (fractions of the prop box height unless they say otherwise).
BELT_WIDTH = 0.24       # the belt's top surface, near end
BELT_SIDE = 0.05        # its front side
FAR_SCALE = 0.58        # the far end's size relative to the near end (perspective view)
GATE_HEIGHT = 0.50      # gate height above the belt, near end
SIGN_TEXT = 1.25        # sign text size, times the smallest legible size


@dataclass(frozen=True)
class BeltPoint:
    x: float
    y: float            # the belt's centre line
    scale: float        # perspective scale at this point (1 at the near end)


class Belt:
    """The belt's centre line from its near (left) end to its far (right) end."""

    def __init__(self, box: Rect, perspective: bool):
        self.box = box
        self.far = FAR_SCALE if perspective else 1.0
        self.near_y = box.y + box.h * 0.86
        self.far_y = box.y + box.h * (0.74 if perspective else 0.86)
        self.x0 = box.x + box.w * 0.01
        self.x1 = box.x1 - box.w * 0.01

    def at(self, u: float) -> BeltPoint:
        """u in 0..1 along the belt, evenly spaced in the world (compressed on screen with distance)."""
        if self.far == 1.0:
            f = u
            scale = 1.0
        else:
            z = 1 + (1 / self.far - 1) * u       # depth: 1 at the near end, 1/far at the far end
            scale = 1 / z
            f = (1 - scale) / (1 - self.far)      # screen fraction along the belt
        return BeltPoint(self.x0 + (self.x1 - self.x0) * f, self.near_y + (self.far_y - self.near_y) * f, scale)


def gate(c: Canvas, cx: float, base_y: float, width: float, height: float, color: str, *,
         number: int | None = None, curtain: bool = True, layer: Literal["back", "front", "all"] = "all") -> Rect:
    """One station gate standing on base_y: a thick metal arch with a neon inner edge.

    `back` draws the light curtain (goes behind the belt), `front` the frame and badge.
    Returns the gate's bounding rectangle.
    """
    half = width / 2
    t = width * FRAME
    top = base_y - height
    r_out = half
    r_in = half - t
    x0, x1 = cx - half, cx + half
    outer = (f"M{num(x0)},{num(base_y)} V{num(top + r_out)} A{num(r_out)},{num(r_out)} 0 0 1 {num(x1)},{num(top + r_out)} "
             f"V{num(base_y)} Z")
    inner = (f"M{num(x0 + t)},{num(base_y)} V{num(top + r_out)} A{num(r_in)},{num(r_in)} 0 0 1 {num(x1 - t)},{num(top + r_out)} "
             f"V{num(base_y)} Z")
    inner_edge = (f"M{num(x0 + t)},{num(base_y)} V{num(top + r_out)} "
                  f"A{num(r_in)},{num(r_in)} 0 0 1 {num(x1 - t)},{num(top + r_out)} V{num(base_y)}")
    outer_edge = (f"M{num(x0)},{num(base_y)} V{num(top + r_out)} "
                  f"A{num(r_out)},{num(r_out)} 0 0 1 {num(x1)},{num(top + r_out)} V{num(base_y)}")
    if layer in ("back", "all") and curtain:
        fill = c.svg.linear([(0, lighten(color, 0.3), CURTAIN), (0.5, color, CURTAIN * 0.25), (1, color, CURTAIN)])
        c.svg.el("path", d=inner, fill=fill)
        sides = c.svg.linear([(0, color, CURTAIN), (0.25, color, 0), (0.75, color, 0), (1, color, CURTAIN)], x2=1, y2=0)
        c.svg.el("path", d=inner, fill=sides)
        opening = Rect(x0 + t, top + t, width - 2 * t, height - t)
        scanlines(c, opening, color, opacity=0.22)
        c.glow.el("path", d=inner, fill=color, opacity="0.18")
    if layer in ("front", "all"):
        metal = c.theme.palette["metal"]
        body = c.svg.linear([(0, mix(metal, color, 0.25), 1), (0.5, darken(metal, 0.35), 1), (1, darken(metal, 0.6), 1)],
                            x2=1, y2=0)
        c.svg.el("path", d=outer + " " + inner, fill=body, fill_rule="evenodd")
        # panel seams on the frame
        seam = mix(metal, "#ffffff", 0.25)
        for k in (0.32, 0.62):
            y = base_y - height * k
            c.svg.el("path", d=f"M{num(x0)},{num(y)} h{num(t)} M{num(x1 - t)},{num(y)} h{num(t)}",
                     stroke=seam, stroke_width=0.7 * c.u, opacity="0.6")
        neon(c, inner_edge, color, max(1.6 * c.u, width * 0.022))
        neon(c, outer_edge, color, max(0.9 * c.u, width * 0.010), opacity=0.7, halo=0.6)
        # status lights down the pillars
        for k in range(3):
            y = base_y - height * (0.18 + 0.1 * k)
            for px in (x0 + t * 0.5, x1 - t * 0.5):
                c.svg.el("rect", x=px - t * 0.18, y=y, width=t * 0.36, height=height * 0.045, rx=t * 0.1,
                         fill=lighten(color, 0.5), opacity="0.9")
                c.glow.el("rect", x=px - t * 0.3, y=y, width=t * 0.6, height=height * 0.05, fill=color)
        # feet
        foot_h = height * FOOT
        for fx in (x0 - t * 0.25, x1 - t * 0.75):
            c.svg.el("rect", x=fx, y=base_y - foot_h * 0.5, width=t * 1.0, height=foot_h, rx=t * 0.15,
                     fill=darken(metal, 0.3), stroke=color, stroke_width=0.6 * c.u)
        if number is not None:
            rb = badge_radius(c, width)
            by = top + t * 0.5
            c.svg.el("circle", cx=cx, cy=by, r=rb, fill=mix(color, ink(c), 0.78), stroke=lighten(color, 0.4),
                     stroke_width=max(1.2 * c.u, rb * 0.1))
            c.glow.el("circle", cx=cx, cy=by, r=rb * 1.15, fill="none", stroke=color, stroke_width=rb * 0.35)
            size = int(max(c.min_text, rb * 1.05))
            c.text(str(number), Rect(cx - rb, by - size * LINE_HEIGHT / 2, 2 * rb, size * LINE_HEIGHT),
                   role="label", size=size, weight=800, color="#ffffff", glow=color, name=f"station {number} number")
    rb = badge_radius(c, width) if number is not None else 0.0
    return Rect(x0 - t * 0.25, top - max(0.0, rb - t * 0.5), width + t * 0.5, height + max(0.0, rb - t * 0.5))


def badge_radius(c: Canvas, gate_width: float) -> float:
    """The number badge: in proportion to the gate, but never too small to hold a legible digit."""
    return max(gate_width * BADGE, c.min_text * 0.78)


def sign(c: Canvas, text: str, box: Rect, color: str, *, name: str, size: int | None = None) -> None:
    """A holographic sign: glass plate with the label lettered in the signage font."""
    glass(c, box, color, radius=2 * c.u, tint=0.8, opacity=0.78, brackets=False)
    corner_brackets(c, box, color, width=1.4 * c.u)
    pad = min(box.h * 0.15, 4 * c.u)
    c.text(text, box.inset(pad * 1.5, pad), role="label", color="#ffffff", glow=color, wrap=True, weight=700,
           size=size or int(min(box.h - 2 * pad, c.min_text * SIGN_TEXT)), name=name)


def sign_size(c: Canvas, text: str, size: int, max_w: float) -> tuple[float, float]:
    """Width and height of a sign holding `text` at `size`, on as few lines as `max_w` allows."""
    pad = 4 * c.u
    lines = wrap(text, c.theme.fonts.label, size, max_w - 3 * pad - 2 * c.u, 700)
    widest = max(text_width(line, c.theme.fonts.label, size, 700) for line in lines)
    return min(max_w, widest * 1.04 + 3 * pad + 2 * c.u), size * LINE_HEIGHT * len(lines) + 2 * pad + 2 * c.u


class ConveyorBelt(PropParams):
    stations: int = Field(6, ge=1, le=12, description="How many station gates stand on the belt.")
    first: int = Field(1, ge=1, description="Number (and colour) of the first station: 4 draws stations 4, 5, 6...")
    labels: list[str] | None = Field(None, description="Optional holographic signs over the stations, in order.")
    view: Literal["perspective", "straight"] = Field("perspective", description="Belt receding into the distance, or side-on.")
    particles: int = Field(28, ge=0, le=200, description="Light particles flowing along the belt.")
    numbers: bool = Field(True, description="Number badges on the gates.")

    @model_validator(mode="after")
    def _labels_match(self):
        if self.labels is not None and len(self.labels) > self.stations:
            raise ValueError(f"{len(self.labels)} labels for {self.stations} stations; give at most one label per station")
        return self


@prop("conveyor_belt", ConveyorBelt)
def conveyor_belt(p: ConveyorBelt, ctx: PropContext):
    """A holographic conveyor belt through N glowing station gates, light flowing along it."""
    c = Canvas("conveyor_belt", p, ctx)
    box = c.box
    belt = Belt(box, p.view == "perspective")
    colors = [c.theme.station_color(p.first + i) for i in range(p.stations)]
    stops = [(i / max(1, p.stations - 1), col, 1.0) for i, col in enumerate(colors)]
    us = [(i + 0.5) / p.stations for i in range(p.stations)]
    pts = [belt.at(u) for u in us]
    # gate size: limited by height and by the screen spacing between stations
    spacing = [(belt.at(min(1, u + 0.5 / p.stations)).x - belt.at(max(0, u - 0.5 / p.stations)).x) for u in us]
    plan = _plan_signs(c, p.labels or [], [bp.x for bp in pts], spacing)
    signs_h = max((sb.y1 for sb in plan.boxes), default=box.y) - box.y
    room = box.h * 0.86 - signs_h - box.h * 0.05
    gates = []
    for bp, sp in zip(pts, spacing):
        h = min(box.h * GATE_HEIGHT * bp.scale * 1.25, room * bp.scale)
        w = min(sp * 0.62, h * 0.62)
        gates.append((bp, w, h))

    # floor light under the belt
    mid = belt.at(0.5)
    ellipse_glow(c, mid.x, mid.y + box.h * 0.06, box.w * 0.55, box.h * 0.12, colors[len(colors) // 2], strength=0.22)
    # light curtains behind the belt
    for i, (bp, w, h) in enumerate(gates):
        gate(c, bp.x, bp.y, w, h, colors[i], layer="back")
    _belt_body(c, belt, stops, box)
    # the flow: a neon path along the belt with particles, coloured by the station they leave
    _flow(c, belt, colors, p.particles)
    sign_boxes = plan.boxes
    for i, (bp, w, h) in enumerate(gates):
        r = gate(c, bp.x, bp.y + box.h * BELT_SIDE * bp.scale * 0.5, w, h + box.h * BELT_SIDE * bp.scale * 0.5,
                 colors[i], number=p.first + i if p.numbers else None, layer="front")
        c.anchor(f"station{p.first + i}", bp.x, r.y)
        if i < len(sign_boxes):
            sbox = sign_boxes[i]
            # a thin beam from the sign down to its gate: the label belongs to that station
            if r.y - sbox.y1 > 2 * c.u:
                bx = min(max(bp.x, sbox.x + 4 * c.u), sbox.x1 - 4 * c.u)
                neon(c, f"M{num(bx)},{num(sbox.y1)} L{num(bp.x)},{num(r.y)}", colors[i], 0.9 * c.u, opacity=0.7, halo=0.5)
            sign(c, p.labels[i], sbox, colors[i], name=f"station label {p.first + i}")
            c.anchor(f"label{p.first + i}", sbox.cx, sbox.y)
    top = min([bp.y - h for bp, w, h in gates] + [sb.y for sb in sign_boxes])
    c.keep_clear(Rect(box.x, max(box.y, top - 8 * c.u), box.w, box.y1 - max(box.y, top - 8 * c.u)))
    c.anchor("start", belt.at(0).x, belt.at(0).y)
    c.anchor("end", belt.at(1).x, belt.at(1).y)
    return c.art()


@dataclass(frozen=True)
class SignPlan:
    boxes: list[Rect]
    height: float           # of one sign
    rows: int               # 1, or 2 when staggered


def _plan_signs(c: Canvas, labels: list[str], xs: list[float], spacing: list[float]) -> SignPlan:
    """Size each sign to its text and place them over their stations without overlaps.

    Signs sit in one row when each fits over its own station; otherwise they are
    staggered in two rows, so a sign may reach over its neighbours' gates.
    """
    if not labels:
        return SignPlan([], 0.0, 0)
    family, size = c.theme.fonts.label, int(c.min_text * SIGN_TEXT)
    pad = min(c.min_text, 4 * c.u) * 1.5 * 2 + 2 * c.u

    def one_line(label: str) -> float:
        return text_width(label, family, size, 700) * 1.03 + pad

    def longest_word(label: str) -> float:
        return max(text_width(w, family, size, 700) for w in label.split()) * 1.03 + pad

    rows = 1 if all(longest_word(lab) <= sp * 0.96 for lab, sp in zip(labels, spacing)) else 2
    widths, lines = [], []
    for i, lab in enumerate(labels):
        if rows == 1:
            allowed = spacing[i] * 0.96
        else:
            left = xs[i] - xs[i - 1] if i > 0 else spacing[i]
            right = xs[i + 1] - xs[i] if i + 1 < len(xs) else spacing[i]
            allowed = 2 * min(left, right) * 0.92
        w = min(one_line(lab), max(allowed, longest_word(lab)))
        widths.append(min(w, c.box.w))
        lines.append(len(wrap(lab, family, size, widths[-1] - pad, 700)))
    height = size * LINE_HEIGHT * max(lines) + 2 * min(c.min_text, 4 * c.u) + 2 * c.u
    boxes = [Rect(xs[i] - widths[i] / 2, c.box.y + (i % rows) * (height + 3 * c.u), widths[i], height)
             for i in range(len(labels))]
    for row in range(rows):
        idx = [i for i in range(len(labels)) if i % rows == row]
        boxes = _spread(boxes, idx, c.box, 3 * c.u)
    return SignPlan(boxes, height, rows)


def _spread(boxes: list[Rect], idx: list[int], bound: Rect, gap: float) -> list[Rect]:
    """Push boxes of one row apart (left to right, then back from the right edge) to remove overlaps."""
    out = list(boxes)
    x = bound.x
    for i in idx:
        nx = max(out[i].x, x)
        out[i] = Rect(nx, out[i].y, out[i].w, out[i].h)
        x = nx + out[i].w + gap
    x = bound.x1
    for i in reversed(idx):
        nx = min(out[i].x, x - out[i].w)
        out[i] = Rect(nx, out[i].y, out[i].w, out[i].h)
        x = nx - gap
    return out


def _belt_body(c: Canvas, belt: Belt, stops, box: Rect) -> None:
    """The belt: a dark glass top surface with moving slats, a side, and neon edges in the station colours."""
    n = 48
    samples = [belt.at(i / n) for i in range(n + 1)]
    half = [box.h * BELT_WIDTH * s.scale / 2 for s in samples]
    side = [box.h * BELT_SIDE * s.scale for s in samples]
    back = [(s.x, s.y - hw * 0.55) for s, hw in zip(samples, half)]        # the belt is seen from above at a slant
    front = [(s.x, s.y + hw * 0.45) for s, hw in zip(samples, half)]
    bottom = [(x, y + sd) for (x, y), sd in zip(front, side)]
    edge = c.svg.linear(stops, user=(belt.x0, 0, belt.x1, 0))
    surface = mix(c.theme.palette["panel_dark"], "#3d8bff", 0.12)
    top_poly = back + front[::-1]
    side_poly = front + bottom[::-1]
    d_top = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in top_poly) + " Z"
    d_side = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in side_poly) + " Z"
    c.svg.el("path", d=d_side, fill=darken(c.theme.palette["metal"], 0.45))
    c.svg.el("path", d=d_top, fill=surface, fill_opacity="0.95")
    c.svg.el("path", d=d_top, fill=edge, opacity="0.16")
    # slats across the belt, closer together with distance
    slats = []
    for i in range(1, 40):
        s = belt.at(i / 40)
        hw = box.h * BELT_WIDTH * s.scale / 2
        slats.append(f"M{num(s.x - hw * 0.12)},{num(s.y - hw * 0.55)} L{num(s.x + hw * 0.1)},{num(s.y + hw * 0.45)}")
    c.svg.el("path", d=" ".join(slats), stroke=c.theme.palette["metal_light"], stroke_width=0.8 * c.u, opacity="0.45",
             fill="none")
    for line, w in ((back, 1.4), (front, 2.0), (bottom, 1.0)):
        d = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in line)
        c.svg.el("path", d=d, fill="none", stroke=edge, stroke_width=w * c.u, stroke_linecap="round")
        c.svg.el("path", d=d, fill="none", stroke="#ffffff", stroke_width=w * 0.35 * c.u, opacity="0.7")
        c.glow.el("path", d=d, fill="none", stroke=c.glow.linear(stops, user=(belt.x0, 0, belt.x1, 0)),
                  stroke_width=w * 3 * c.u)


def _flow(c: Canvas, belt: Belt, colors: list[str], count: int) -> None:
    n = len(colors)
    for i in range(count):
        u = (i + c.rng.random()) / max(1, count)
        s = belt.at(u)
        station = min(n - 1, int(u * n))
        color = colors[station]
        y = s.y - c.ctx.box.h * BELT_WIDTH * s.scale * c.rng.uniform(-0.12, 0.2)
        particle(c, s.x, y, c.u * (1.0 + 0.8 * c.rng.random()) * (0.5 + 0.5 * s.scale), color,
                 opacity=0.6 + 0.4 * c.rng.random())
    # streaks: short neon dashes along the centre line
    for k in range(n * 3):
        u0 = (k + 0.2) / (n * 3)
        a, b = belt.at(u0), belt.at(u0 + 0.35 / (n * 3))
        color = colors[min(n - 1, int(u0 * n))]
        neon(c, f"M{num(a.x)},{num(a.y - 0.5 * c.u)} L{num(b.x)},{num(b.y - 0.5 * c.u)}", color,
             1.3 * c.u * a.scale, opacity=0.85)


class Station(PropParams):
    number: int = Field(1, ge=1, description="Which pipeline station (sets its accent colour and badge).")
    label: str | None = Field(None, description="Sign text; default '<n>. <station name>' from the theme.")
    show_label: bool = Field(True, description="Draw the holographic sign under the gate.")
    color: str | None = Field(None, description="Override the accent (palette name or hex).")
    platform: bool = Field(True, description="A glowing platform under the gate.")


@prop("station", Station)
def station(p: Station, ctx: PropContext):
    """One pipeline station up close: a glowing gate with its number and a holographic sign."""
    c = Canvas("station", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(p.number))
    label = p.label
    if label is None:
        label = f"{p.number}. {c.theme.stations[(p.number - 1) % len(c.theme.stations)].name}"
    sign_text = int(max(c.min_text * SIGN_TEXT, min(box.w * 0.05, 24 * c.u)))
    sign_w, sign_h = sign_size(c, label, sign_text, box.w) if p.show_label else (0.0, 0.0)
    plat_h = box.h * 0.10 if p.platform else 0
    gate_h = box.h - sign_h - plat_h - box.h * 0.06
    gate_w = min(box.w * 0.8, gate_h * 0.66)
    base_y = box.y1 - plat_h - sign_h - box.h * 0.02
    cx = box.cx
    if p.platform:
        ellipse_glow(c, cx, base_y + plat_h * 0.3, gate_w * 0.95, plat_h * 1.4, color, strength=0.45)
        pw = gate_w * 1.35
        top = Rect(cx - pw / 2, base_y - plat_h * 0.15, pw, plat_h * 0.55)
        c.svg.el("ellipse", cx=cx, cy=top.y1, rx=pw / 2, ry=plat_h * 0.5, fill=darken(c.theme.palette["metal"], 0.4))
        c.svg.el("ellipse", cx=cx, cy=top.y + plat_h * 0.2, rx=pw / 2, ry=plat_h * 0.42,
                 fill=mix(color, ink(c), 0.7), stroke=color, stroke_width=1.6 * c.u)
        c.glow.el("ellipse", cx=cx, cy=top.y + plat_h * 0.2, rx=pw / 2, ry=plat_h * 0.42, fill="none",
                  stroke=color, stroke_width=5 * c.u)
    gate(c, cx, base_y, gate_w, gate_h - gate_w * BADGE, color, number=p.number)
    opening_y = base_y - (gate_h - gate_w * BADGE) * 0.4
    c.anchor("in", cx - gate_w / 2, opening_y)
    c.anchor("out", cx + gate_w / 2, opening_y)
    c.anchor("top", cx, base_y - gate_h)
    c.anchor("center", cx, opening_y)
    if p.show_label:
        sw = min(box.w, max(sign_w, gate_w * 1.2))
        sbox = Rect(cx - sw / 2, box.y1 - sign_h, sw, sign_h)
        sign(c, label, sbox, color, name="station label", size=sign_text)
        c.anchor("label", sbox.cx, sbox.y)
    c.keep_clear(Rect(cx - gate_w / 2, box.y, gate_w, box.h))
    return c.art()
