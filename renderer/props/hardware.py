"""The machines under the model: server racks, a data center hall, a GPU die with HBM, a wafer,
fibre cables with light pulses, and an EUV lithography machine.

A flat list of similar things: one parameter model and one drawing function per prop, each
standing alone, so the module is longer than most.
"""
from __future__ import annotations

import math

from pydantic import Field

from ..geometry import Rect
from .base import PropContext, PropParams, prop
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import corner_brackets, curve, ellipse_glow, glass, ink, neon, particle, quad_point, sparkle
from .svg import darken, lighten, mix, num, path_d

LED_COLORS = ("lime", "cyan", "lime", "amber", "cyan", "lime")


def _metal(c: Canvas) -> str:
    return c.theme.palette["metal"]


def tag(c: Canvas, text: str, anchor: tuple[float, float], at: tuple[float, float], color: str, *, name: str) -> Rect:
    """A small holographic callout: a label plate at `at` (its centre) with a leader line to `anchor`."""
    size = int(math.ceil(c.min_text))
    w = text_width(text, c.theme.fonts.label, size, 700) * 1.06 + size * 0.9
    h = size * LINE_HEIGHT + size * 0.3
    box = c.box
    x = min(max(at[0] - w / 2, box.x), box.x1 - w)
    y = min(max(at[1] - h / 2, box.y), box.y1 - h)
    plate = Rect(x, y, w, h)
    ex = min(max(anchor[0], plate.x), plate.x1)
    ey = plate.y1 if anchor[1] > plate.y1 else (plate.y if anchor[1] < plate.y else plate.cy)
    neon(c, f"M{num(ex)},{num(ey)} L{num(anchor[0])},{num(anchor[1])}", color, 0.8 * c.u, opacity=0.8, halo=0.5)
    c.svg.el("circle", cx=anchor[0], cy=anchor[1], r=1.8 * c.u, fill=lighten(color, 0.6))
    glass(c, plate, color, radius=1.5 * c.u, tint=0.85, opacity=0.85, brackets=False, lines=False, halo=0.6)
    c.text(text, plate.inset(size * 0.3, size * 0.1), role="label", size=size, weight=700, color="#ffffff",
           glow=color, name=name)
    return plate


# ---- server rack ------------------------------------------------------------------------------

class ServerRack(PropParams):
    units: int = Field(8, ge=2, le=24, description="Servers in the rack.")
    gpus: bool = Field(True, description="GPU servers: glowing accelerator cards in each unit.")
    color: str | None = Field(None, description="Accent light (palette name or hex); default cyan.")
    label: str | None = Field(None, description="A sign on top of the rack, e.g. 'GPU NODE 7'.")


def rack(c: Canvas, front: Rect, depth: float, units: int, color: str, *, gpus: bool, leds: bool = True) -> None:
    """One rack: a cabinet seen from front-left, the right side receding by `depth`."""
    metal = _metal(c)
    dx, dy = depth, depth * 0.55
    top = [(front.x, front.y), (front.x + dx, front.y - dy), (front.x1 + dx, front.y - dy), (front.x1, front.y)]
    side = [(front.x1, front.y), (front.x1 + dx, front.y - dy), (front.x1 + dx, front.y1 - dy), (front.x1, front.y1)]
    c.svg.el("path", d=path_d(side, True), fill=c.svg.linear([(0, darken(metal, 0.45), 1), (1, darken(metal, 0.7), 1)], x2=1, y2=0))
    c.svg.el("path", d=path_d(top, True), fill=lighten(metal, 0.1))
    c.svg.el("rect", x=front.x, y=front.y, width=front.w, height=front.h, fill=darken(metal, 0.55),
             stroke=lighten(metal, 0.25), stroke_width=1.2 * c.u)
    frame = front.w * 0.07
    bay = front.inset(frame, frame)
    uh = bay.h / units
    for i in range(units):
        u = Rect(bay.x, bay.y + i * uh + uh * 0.06, bay.w, uh * 0.88)
        c.svg.el("rect", x=u.x, y=u.y, width=u.w, height=u.h, rx=u.h * 0.08,
                 fill=c.svg.linear([(0, lighten(metal, 0.05), 1), (1, darken(metal, 0.35), 1)]))
        # vent grille
        vents = " ".join(f"M{num(u.x + u.w * (0.32 + 0.035 * k))},{num(u.y + u.h * 0.25)} v{num(u.h * 0.5)}" for k in range(12))
        c.svg.el("path", d=vents, stroke=darken(metal, 0.6), stroke_width=max(0.6 * c.u, u.w * 0.008), fill="none")
        if gpus:   # a glowing accelerator strip
            strip = Rect(u.x + u.w * 0.76, u.y + u.h * 0.3, u.w * 0.18, u.h * 0.4)
            c.svg.el("rect", x=strip.x, y=strip.y, width=strip.w, height=strip.h, rx=strip.h * 0.3,
                     fill=lighten(color, 0.3), opacity="0.9")
            c.glow.el("rect", x=strip.x, y=strip.y, width=strip.w, height=strip.h, fill=color)
        if leds:
            for k in range(3):
                led = c.theme.color(LED_COLORS[(i * 3 + k + c.rng.randrange(3)) % len(LED_COLORS)])
                on = c.rng.random() < 0.8
                cx, cy, r = u.x + u.w * (0.07 + 0.07 * k), u.cy, max(0.8 * c.u, min(u.h * 0.12, u.w * 0.025))
                c.svg.el("circle", cx=cx, cy=cy, r=r, fill=lighten(led, 0.3) if on else darken(led, 0.6))
                if on:
                    c.glow.el("circle", cx=cx, cy=cy, r=r * 2.2, fill=led)
    neon(c, f"M{num(front.x)},{num(front.y)} H{num(front.x1)} l{num(dx)},{num(-dy)}", color, 0.9 * c.u, opacity=0.7, halo=0.5)


@prop("server_rack", ServerRack)
def server_rack(p: ServerRack, ctx: PropContext):
    """A server rack full of GPU servers: blinking status lights and glowing accelerator strips."""
    c = Canvas("server_rack", p, ctx)
    box = c.box
    color = c.accent(c.theme.palette["cyan"])
    sign_h = c.min_text * LINE_HEIGHT * 1.5 if p.label else 0.0
    h = box.h - sign_h - box.h * 0.04
    w = min(box.w * 0.75, h * 0.42)
    depth = w * 0.3
    front = Rect(box.cx - (w + depth) / 2, box.y1 - h + depth * 0.55, w, h - depth * 0.55)
    ellipse_glow(c, front.cx, front.y1, w * 0.9, h * 0.05, color, strength=0.4)
    rack(c, front, depth, p.units, color, gpus=p.gpus)
    if p.label:
        sign = Rect(box.cx - min(box.w, w * 1.6) / 2, box.y, min(box.w, w * 1.6), sign_h * 0.92)
        glass(c, sign, color, radius=2 * c.u, tint=0.82, brackets=False)
        c.text(p.label, sign.inset(4 * c.u, 2 * c.u), role="label", weight=700, color="#ffffff", glow=color,
               size=int(max(c.min_text, sign.h / LINE_HEIGHT * 0.8)), name="rack label")
    c.anchor("top", front.cx + depth / 2, front.y - depth * 0.55)
    c.anchor("in", front.x, front.cy)
    c.anchor("out", front.x1 + depth, front.cy)
    c.keep_clear(Rect(front.x, front.y - depth * 0.55, w + depth, front.h + depth * 0.55))
    return c.art()


# ---- data center -------------------------------------------------------------------------------

class DataCenter(PropParams):
    racks: int = Field(7, ge=2, le=20, description="Racks along each side of the aisle.")
    color: str | None = Field(None, description="Aisle light colour (palette name or hex); default cyan.")


@prop("data_center", DataCenter)
def data_center(p: DataCenter, ctx: PropContext):
    """A data center hall: two rows of racks receding down a lit aisle, cable trays overhead."""
    c = Canvas("data_center", p, ctx)
    box = c.box
    color = c.accent(c.theme.palette["cyan"])
    metal = _metal(c)
    vx, vy = box.cx, box.y + box.h * 0.45           # vanishing point down the aisle
    near_top, near_bottom = box.y + box.h * 0.02, box.y1 - box.h * 0.02
    aisle = box.w * 0.30                            # half the aisle width at the near end

    def toward(x: float, y: float, t: float) -> tuple[float, float]:
        """A near point moved a fraction t of the way to the vanishing point."""
        return x + (vx - x) * t, y + (vy - y) * t

    # floor glow down the aisle
    floor = [(box.cx - aisle, near_bottom), (box.cx + aisle, near_bottom), (vx + 1, vy), (vx - 1, vy)]
    c.svg.el("path", d=path_d([(box.x, near_bottom), (box.x1, near_bottom), (vx, vy)], True),
             fill=c.svg.linear([(0, c.theme.scene.floor_bottom, 0.9), (1, c.theme.scene.floor_top, 0.9)], x1=0, y1=1, x2=0, y2=0))
    c.svg.el("path", d=path_d(floor, True), fill=c.svg.linear([(0, color, 0.35), (1, color, 0.0)], x1=0, y1=1, x2=0, y2=0))
    for k in range(1, 9):   # floor tile lines
        t = 1 - (1 - k / 9) ** 2
        a, b = toward(box.x, near_bottom, t), toward(box.x1, near_bottom, t)
        c.svg.el("path", d=f"M{num(a[0])},{num(a[1])} L{num(b[0])},{num(b[1])}", stroke=color, stroke_width=0.6 * c.u,
                 opacity=f"{0.35 * (1 - t):.2f}")
    # racks on both sides, far ones first
    n = p.racks
    for side in (-1, 1):
        x_near = box.cx + side * (box.w / 2 - box.w * 0.01)
        for i in reversed(range(n)):
            # racks are evenly spaced in depth: screen positions compress towards the vanishing point
            z0, z1 = 1 + i * 0.45, 1 + (i + 1) * 0.45
            f0, f1 = 1 - 1 / z0, 1 - 1 / z1
            a_top, a_bot = toward(x_near, near_top, f0), toward(x_near, near_bottom, f0)
            b_top, b_bot = toward(x_near, near_top, f1 - 0.02 / z1), toward(x_near, near_bottom, f1 - 0.02 / z1)
            face = [a_top, b_top, b_bot, a_bot]
            shade = 0.35 + 0.4 * (i / n)
            c.svg.el("path", d=path_d(face, True), fill=mix(darken(metal, 0.4), c.theme.scene.sky_top, shade),
                     stroke=lighten(metal, 0.2), stroke_width=0.7 * c.u, stroke_opacity=f"{1 - shade:.2f}")
            # server units and their lights on the rack face
            units = 7
            for u in range(1, units):
                s = u / units
                p0 = (a_top[0] + (a_bot[0] - a_top[0]) * s, a_top[1] + (a_bot[1] - a_top[1]) * s)
                p1 = (b_top[0] + (b_bot[0] - b_top[0]) * s, b_top[1] + (b_bot[1] - b_top[1]) * s)
                c.svg.el("path", d=f"M{num(p0[0])},{num(p0[1])} L{num(p1[0])},{num(p1[1])}",
                         stroke=darken(metal, 0.6), stroke_width=0.6 * c.u)
                for k in range(2):
                    if c.rng.random() < 0.7:
                        q = 0.25 + 0.4 * k
                        lx = p0[0] + (p1[0] - p0[0]) * q
                        ly = p0[1] + (p1[1] - p0[1]) * q - (a_bot[1] - a_top[1]) / units * 0.45
                        led = c.theme.color(LED_COLORS[c.rng.randrange(len(LED_COLORS))])
                        r = max(0.6 * c.u, 1.6 * c.u * (1 - f0))
                        c.svg.el("circle", cx=lx, cy=ly, r=r, fill=lighten(led, 0.3), opacity=f"{1 - shade * 0.5:.2f}")
                        c.glow.el("circle", cx=lx, cy=ly, r=r * 2.5, fill=led, opacity=f"{1 - shade * 0.5:.2f}")
            # the light strip along the top of each rack row
            neon(c, f"M{num(a_top[0])},{num(a_top[1])} L{num(b_top[0])},{num(b_top[1])}", color, 1.2 * c.u * (1 - f0 * 0.7),
                 opacity=1 - shade * 0.6, halo=0.5)
    # cable trays overhead
    for off in (-0.4, 0.4):
        a = (box.cx + off * aisle * 2, box.y + box.h * 0.02)
        b = toward(*a, 0.92)
        neon(c, f"M{num(a[0])},{num(a[1])} L{num(b[0])},{num(b[1])}", c.theme.palette["amber"], 1.6 * c.u, opacity=0.7)
    ellipse_glow(c, vx, vy, box.w * 0.12, box.h * 0.08, color, strength=0.6)
    c.anchor("aisle", vx, vy)
    c.anchor("center", box.cx, box.cy)
    return c.art()


# ---- GPU die and HBM --------------------------------------------------------------------------

class GpuDie(PropParams):
    hbm: int = Field(6, ge=0, le=12, description="HBM memory stacks around the die (split left and right).")
    labels: bool = Field(True, description="Callouts naming the die and the HBM.")
    color: str | None = Field(None, description="Die glow (palette name or hex); default: station 3's accent.")


@prop("gpu_die", GpuDie)
def gpu_die(p: GpuDie, ctx: PropContext):
    """A GPU package seen from above: the die's grid of compute units, HBM stacks beside it."""
    c = Canvas("gpu_die", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(3))
    hbm_color = c.theme.palette["amber"]
    callout_h = c.min_text * LINE_HEIGHT * 1.6 if p.labels else 0.0
    area = Rect(box.x, box.y + callout_h, box.w, box.h - 2 * callout_h)
    side = min(area.w * 0.9, area.h * 0.92 * 1.25)
    pkg = Rect(area.cx - side / 2, area.cy - side / 2 / 1.25, side, side / 1.25)
    thick = pkg.h * 0.05
    # the package substrate with its edge thickness
    c.svg.el("rect", x=pkg.x, y=pkg.y + thick, width=pkg.w, height=pkg.h, rx=pkg.h * 0.04, fill=darken("#1d6b4a", 0.5))
    c.svg.el("rect", x=pkg.x, y=pkg.y, width=pkg.w, height=pkg.h, rx=pkg.h * 0.04,
             fill=c.svg.linear([(0, "#1f5e48", 1), (1, "#0f3328", 1)]), stroke="#3fa37a", stroke_width=1 * c.u)
    # tiny surface components around the edge
    for k in range(28):
        t = k / 28
        x = pkg.x + pkg.w * (0.04 + 0.92 * t)
        for y in (pkg.y + pkg.h * 0.03, pkg.y1 - pkg.h * 0.06):
            c.svg.el("rect", x=x, y=y, width=pkg.w * 0.012, height=pkg.h * 0.025, fill="#c9b27a", opacity="0.7")
    inter = pkg.inset(pkg.w * 0.07, pkg.h * 0.11)        # the interposer holding die and HBM
    c.svg.el("rect", x=inter.x, y=inter.y, width=inter.w, height=inter.h, rx=inter.h * 0.02,
             fill=darken(_metal(c), 0.35), stroke=lighten(_metal(c), 0.2), stroke_width=0.8 * c.u)
    per_side = math.ceil(p.hbm / 2)
    hbm_w = inter.w * 0.16 if p.hbm else 0.0
    die = Rect(inter.x + hbm_w + inter.w * 0.04, inter.y + inter.h * 0.05,
               inter.w - 2 * (hbm_w + inter.w * 0.04), inter.h * 0.9)
    # the die: a grid of compute units, some lit
    c.svg.el("rect", x=die.x, y=die.y, width=die.w, height=die.h, rx=die.h * 0.015,
             fill=c.svg.linear([(0, mix(color, ink(c), 0.7), 1), (1, mix(color, ink(c), 0.85), 1)]),
             stroke=lighten(color, 0.4), stroke_width=1.2 * c.u)
    cols, rows = 8, 6
    cell_w, cell_h = die.w * 0.9 / cols, die.h * 0.78 / rows
    for r in range(rows):
        for q in range(cols):
            x = die.x + die.w * 0.05 + q * cell_w
            y = die.y + die.h * 0.05 + r * cell_h
            v = c.rng.random()
            c.svg.el("rect", x=x + cell_w * 0.08, y=y + cell_h * 0.08, width=cell_w * 0.84, height=cell_h * 0.84,
                     rx=cell_w * 0.06, fill=mix(mix(color, ink(c), 0.55), lighten(color, 0.4), v * v))
            if v > 0.7:
                c.glow.el("rect", x=x, y=y, width=cell_w, height=cell_h, fill=color, opacity=f"{v * 0.7:.2f}")
    cache = Rect(die.x + die.w * 0.05, die.y + die.h * 0.86, die.w * 0.9, die.h * 0.09)
    c.svg.el("rect", x=cache.x, y=cache.y, width=cache.w, height=cache.h, rx=cache.h * 0.2,
             fill=mix(c.theme.palette["cyan"], ink(c), 0.5), stroke=c.theme.palette["cyan"], stroke_width=0.7 * c.u)
    c.glow.el("rect", x=die.x, y=die.y, width=die.w, height=die.h, fill="none", stroke=color, stroke_width=4 * c.u)
    # HBM stacks: layered dies, linked to the GPU die by glowing traces
    hbm_rects = []
    for i in range(p.hbm):
        left = i < per_side
        j = i if left else i - per_side
        count = per_side if left else p.hbm - per_side
        sh = inter.h * 0.9 / count
        x = inter.x + inter.w * 0.02 if left else inter.x1 - inter.w * 0.02 - hbm_w
        y = inter.y + inter.h * 0.05 + j * sh
        st = Rect(x, y + sh * 0.06, hbm_w, sh * 0.88)
        hbm_rects.append(st)
        layers = 4
        for k in range(layers):
            off = (layers - 1 - k) * st.h * 0.035
            c.svg.el("rect", x=st.x + off, y=st.y - off, width=st.w, height=st.h, rx=st.h * 0.05,
                     fill=mix(hbm_color, ink(c), 0.75 - 0.1 * k), stroke=lighten(hbm_color, 0.2), stroke_width=0.6 * c.u)
        edge_x = st.x1 if left else st.x
        die_x = die.x if left else die.x1
        for k in range(3):
            y_t = st.y + st.h * (0.3 + 0.2 * k)
            neon(c, f"M{num(edge_x)},{num(y_t)} L{num(die_x)},{num(y_t)}", hbm_color, 0.8 * c.u, opacity=0.8, halo=0.6)
        particle(c, (edge_x + die_x) / 2, st.cy, 1.0 * c.u, hbm_color)
    if p.labels:
        tag(c, "GPU DIE", (die.cx, die.y), (die.cx, box.y + callout_h / 2), color, name="die label")
        if hbm_rects:
            st = hbm_rects[0]
            tag(c, "HBM", (st.cx, st.y1 if per_side == 1 else hbm_rects[per_side - 1].y1),
                (st.cx, box.y1 - callout_h / 2), hbm_color, name="hbm label")
    c.anchor("die", die.cx, die.cy)
    c.anchor("top", pkg.cx, pkg.y)
    c.keep_clear(pkg)
    return c.art()


# ---- wafer --------------------------------------------------------------------------------------

class Wafer(PropParams):
    dies: int = Field(14, ge=4, le=40, description="Dies across the wafer's diameter.")
    tilt: float = Field(0.55, gt=0.2, le=1.0, description="1 = seen from straight above; smaller tilts it back.")
    color: str | None = Field(None, description="Highlight colour (palette name or hex); default: station 3's accent.")


@prop("wafer", Wafer)
def wafer(p: Wafer, ctx: PropContext):
    """A silicon wafer covered in dies, iridescent, a few dies lit up."""
    c = Canvas("wafer", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(3))
    thick_frac = 0.04
    r = min(box.w / 2, box.h / (2 * p.tilt + thick_frac * 2)) * 0.98
    ry = r * p.tilt
    thick = r * thick_frac
    cx, cy = box.cx, box.cy - thick / 2
    c.svg.el("ellipse", cx=cx, cy=cy + thick, rx=r, ry=ry, fill=darken(_metal(c), 0.5))
    sheen = c.svg.linear([(0, "#8fd3ff", 1), (0.3, "#b48cff", 1), (0.55, "#3b4f8f", 1), (0.8, "#ff9bd2", 1), (1, "#6fe3d0", 1)],
                         x2=1, y2=1)
    c.svg.el("ellipse", cx=cx, cy=cy, rx=r, ry=ry, fill=sheen, opacity="0.75")
    c.svg.el("ellipse", cx=cx, cy=cy, rx=r, ry=ry, fill=c.theme.palette["ink"], opacity="0.45")
    n = p.dies
    cell = 2 * r / n
    lit = []
    dies = []
    for i in range(n):
        for j in range(n):
            x0, y0 = -r + i * cell, -r + j * cell
            corners = [(x0, y0), (x0 + cell, y0), (x0, y0 + cell), (x0 + cell, y0 + cell)]
            if all(math.hypot(x, y) < r * 0.96 for x, y in corners):
                dies.append((x0, y0))
    d_all = []
    for x0, y0 in dies:
        px, py = cx + x0 + cell * 0.06, cy + (y0 + cell * 0.06) * p.tilt
        d_all.append(f"M{num(px)},{num(py)} h{num(cell * 0.88)} v{num(cell * 0.88 * p.tilt)} h{num(-cell * 0.88)} Z")
        if c.rng.random() < 0.12:
            lit.append((px, py))
    c.svg.el("path", d=" ".join(d_all), fill=mix(color, ink(c), 0.55), opacity="0.8")
    for px, py in lit:
        c.svg.el("rect", x=px, y=py, width=cell * 0.88, height=cell * 0.88 * p.tilt, fill=lighten(color, 0.45), opacity="0.9")
        c.glow.el("rect", x=px, y=py, width=cell * 0.88, height=cell * 0.88 * p.tilt, fill=color)
    # rim, notch and a specular glint
    c.svg.el("ellipse", cx=cx, cy=cy, rx=r, ry=ry, fill="none", stroke="#dfe9ff", stroke_width=1.2 * c.u, opacity="0.8")
    c.glow.el("ellipse", cx=cx, cy=cy, rx=r, ry=ry, fill="none", stroke=color, stroke_width=4 * c.u, opacity="0.6")
    c.svg.el("circle", cx=cx, cy=cy + ry, r=r * 0.025, fill=c.theme.palette["ink"])
    sparkle(c, cx - r * 0.45, cy - ry * 0.5, r * 0.09, "#ffffff")
    c.anchor("center", cx, cy)
    c.anchor("top", cx, cy - ry)
    c.keep_clear(Rect(cx - r, cy - ry, 2 * r, 2 * ry + thick))
    return c.art()


# ---- fibre cable --------------------------------------------------------------------------------

class FiberCable(PropParams):
    start: tuple[float, float] = Field((0.0, 0.7), description="Start: x, y as fractions of the box.")
    end: tuple[float, float] = Field((1.0, 0.3), description="End.")
    bend: float = Field(0.25, ge=-1, le=1, description="How far the cable sags or bows.")
    strands: int = Field(5, ge=1, le=16, description="Fibres in the bundle.")
    pulses: int = Field(7, ge=0, le=60, description="Light pulses per fibre.")
    color: str | None = Field(None, description="Light colour (palette name or hex); default cyan.")


@prop("fiber_cable", FiberCable)
def fiber_cable(p: FiberCable, ctx: PropContext):
    """A bundle of optical fibres, light pulses racing along them: the network between machines."""
    c = Canvas("fiber_cable", p, ctx)
    box = c.box
    color = c.accent(c.theme.palette["cyan"])
    spread = min(box.h, box.w) * 0.035
    inner = box.inset(spread * (p.strands / 2 + 1) + 3 * c.u)
    a = (inner.x + p.start[0] * inner.w, inner.y + p.start[1] * inner.h)
    b = (inner.x + p.end[0] * inner.w, inner.y + p.end[1] * inner.h)
    length = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    nx, ny = -(b[1] - a[1]) / length, (b[0] - a[0]) / length        # normal: strands side by side
    # the jacket
    c.svg.el("path", d=curve(a, b, p.bend), fill="none", stroke=darken(_metal(c), 0.3),
             stroke_width=spread * (p.strands + 1.5), stroke_linecap="round", opacity="0.9")
    palette = [color, c.theme.palette["magenta"], c.theme.palette["amber"], c.theme.palette["lime"], c.theme.palette["blue"]]
    for s in range(p.strands):
        off = (s - (p.strands - 1) / 2) * spread
        a2, b2 = (a[0] + nx * off, a[1] + ny * off), (b[0] + nx * off, b[1] + ny * off)
        hue = palette[s % len(palette)] if p.strands > 1 else color
        c.svg.el("path", d=curve(a2, b2, p.bend), fill="none", stroke=mix(hue, ink(c), 0.5), stroke_width=spread * 0.55,
                 stroke_linecap="round")
        for k in range(p.pulses):
            t = (k + 0.3 + 0.4 * c.rng.random()) / p.pulses
            t2 = min(1.0, t + 0.045)
            x0, y0 = quad_point(a2, b2, p.bend, t)
            x1, y1 = quad_point(a2, b2, p.bend, t2)
            neon(c, f"M{num(x0)},{num(y0)} L{num(x1)},{num(y1)}", hue, spread * 0.5, opacity=0.95)
    for end, towards in ((a, quad_point(a, b, p.bend, 0.05)), (b, quad_point(a, b, p.bend, 0.95))):   # connectors
        ang = math.degrees(math.atan2(towards[1] - end[1], towards[0] - end[0]))
        length, width = spread * 3, spread * (p.strands + 1.2)
        c.svg.el("rect", x=end[0] - length * 0.75, y=end[1] - width / 2, width=length, height=width, rx=width * 0.2,
                 fill=c.svg.linear([(0, lighten(_metal(c), 0.3), 1), (1, darken(_metal(c), 0.3), 1)]),
                 stroke=lighten(color, 0.4), stroke_width=0.8 * c.u,
                 transform=f"rotate({ang:.1f} {num(end[0])} {num(end[1])})")
        c.glow.el("circle", cx=end[0], cy=end[1], r=spread * 2, fill=color, opacity="0.8")
    c.anchor("start", *a)
    c.anchor("end", *b)
    return c.art()


# ---- EUV lithography machine -----------------------------------------------------------------

class EuvMachine(PropParams):
    labels: bool = Field(True, description="Callouts: laser, tin droplet, mirrors, wafer.")
    color: str | None = Field(None, description="EUV light colour (palette name or hex); default violet.")


@prop("euv_machine", EuvMachine)
def euv_machine(p: EuvMachine, ctx: PropContext):
    """An EUV lithography machine cut open: a laser hits a tin droplet, mirrors carry the light to the wafer."""
    c = Canvas("euv_machine", p, ctx)
    box = c.box
    euv = c.accent(c.theme.palette["violet"])
    laser = c.theme.palette["red"]
    metal = _metal(c)
    callout = c.min_text * LINE_HEIGHT * 1.6 if p.labels else 0.0
    body = Rect(box.x + box.w * 0.02, box.y + callout, box.w * 0.96, box.h - 2 * callout)
    # the machine's housing, cut away
    c.svg.el("rect", x=body.x, y=body.y, width=body.w, height=body.h, rx=body.h * 0.04,
             fill=c.svg.linear([(0, darken(metal, 0.45), 0.95), (1, darken(metal, 0.7), 0.95)]),
             stroke=lighten(metal, 0.2), stroke_width=1.2 * c.u)
    corner_brackets(c, body, euv, width=1.4 * c.u)
    # the source chamber on the left: laser in, droplet, collector mirror
    src = Rect(body.x + body.w * 0.04, body.y + body.h * 0.12, body.w * 0.3, body.h * 0.76)
    c.svg.el("rect", x=src.x, y=src.y, width=src.w, height=src.h, rx=src.w * 0.06, fill=mix(euv, ink(c), 0.88),
             stroke=mix(euv, metal, 0.5), stroke_width=1 * c.u)
    droplet = (src.x + src.w * 0.55, src.cy)
    # the laser beam from below
    neon(c, f"M{num(droplet[0])},{num(src.y1)} L{num(droplet[0])},{num(droplet[1])}", laser, 2.2 * c.u)
    # the falling droplets
    for k in range(5):
        y = src.y + src.h * 0.08 + k * (droplet[1] - src.y) / 5
        c.svg.el("circle", cx=droplet[0], cy=y, r=1.5 * c.u, fill="#c8ccd8")
    # the collector: a mirror bowl behind the plasma
    col_r = src.h * 0.32
    c.svg.el("path", d=f"M{num(droplet[0] - col_r * 0.35)},{num(droplet[1] - col_r)} "
                       f"Q{num(droplet[0] - col_r * 1.1)},{num(droplet[1])} {num(droplet[0] - col_r * 0.35)},{num(droplet[1] + col_r)}",
             fill="none", stroke="#dfe9ff", stroke_width=3 * c.u, opacity="0.9")
    c.glow.el("path", d=f"M{num(droplet[0] - col_r * 0.35)},{num(droplet[1] - col_r)} "
                        f"Q{num(droplet[0] - col_r * 1.1)},{num(droplet[1])} {num(droplet[0] - col_r * 0.35)},{num(droplet[1] + col_r)}",
              fill="none", stroke=euv, stroke_width=6 * c.u)
    sparkle(c, droplet[0], droplet[1], src.w * 0.18, lighten(euv, 0.4))
    particle(c, droplet[0], droplet[1], 3 * c.u, euv)
    # the light path: plasma -> mirrors (zigzag) -> reticle -> wafer
    m1 = (body.x + body.w * 0.48, body.y + body.h * 0.2)
    m2 = (body.x + body.w * 0.62, body.y + body.h * 0.78)
    m3 = (body.x + body.w * 0.76, body.y + body.h * 0.22)
    wafer_pt = (body.x + body.w * 0.88, body.y + body.h * 0.8)
    route = [droplet, m1, m2, m3, wafer_pt]
    neon(c, path_d(route), euv, 2.4 * c.u)
    for i in range(len(route) - 1):
        for t in (0.3, 0.6, 0.85):
            x = route[i][0] + (route[i + 1][0] - route[i][0]) * t
            y = route[i][1] + (route[i + 1][1] - route[i][1]) * t
            particle(c, x, y, 1.1 * c.u, lighten(euv, 0.3))
    mirror_w = body.w * 0.07
    for (mx, my), up in ((m1, True), (m2, False), (m3, True)):
        dy = -mirror_w * 0.12 if up else mirror_w * 0.12
        y = my - (3 * c.u if up else -3 * c.u)
        c.svg.el("path", d=f"M{num(mx - mirror_w / 2)},{num(y + dy)} Q{num(mx)},{num(y - dy)} {num(mx + mirror_w / 2)},{num(y + dy)}",
                 fill="none", stroke="#e8f0ff", stroke_width=3.2 * c.u, stroke_linecap="round")
        c.glow.el("path", d=f"M{num(mx - mirror_w / 2)},{num(y)} L{num(mx + mirror_w / 2)},{num(y)}",
                  stroke=euv, stroke_width=5 * c.u)
    # the wafer on its stage
    wx, wy = wafer_pt
    ww = body.w * 0.16
    c.svg.el("rect", x=wx - ww * 0.6, y=wy + 4 * c.u, width=ww * 1.2, height=body.h * 0.06, fill=darken(metal, 0.2),
             stroke=lighten(metal, 0.3), stroke_width=0.8 * c.u)
    c.svg.el("ellipse", cx=wx, cy=wy + 3 * c.u, rx=ww / 2, ry=ww * 0.12,
             fill=c.svg.linear([(0, "#8fd3ff", 1), (0.5, "#b48cff", 1), (1, "#6fe3d0", 1)], x2=1, y2=0))
    c.glow.el("ellipse", cx=wx, cy=wy + 3 * c.u, rx=ww / 2, ry=ww * 0.12, fill=euv, opacity="0.8")
    if p.labels:
        tag(c, "LASER", (droplet[0], src.y1 - 2 * c.u), (src.cx, box.y1 - callout / 2), laser, name="laser label")
        tag(c, "TIN DROPLET", (droplet[0], src.y + src.h * 0.1), (src.cx, box.y + callout / 2), c.theme.palette["white"],
            name="droplet label")
        tag(c, "MIRRORS", (m1[0], m1[1] - 4 * c.u), (m1[0] + body.w * 0.07, box.y + callout / 2), euv, name="mirrors label")
        tag(c, "WAFER", (wx, wy + 4 * c.u + body.h * 0.06), (wx, box.y1 - callout / 2), c.theme.palette["cyan"],
            name="wafer label")
    c.anchor("wafer", wx, wy)
    c.anchor("source", *droplet)
    c.keep_clear(body)
    return c.art()
