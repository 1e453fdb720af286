"""Users and projectors: the people a pipeline serves and the light that draws holograms.

`user_icon` draws user silhouettes holding glowing devices (the serving station's
audience); `hologram_projector` an emitter disc with its cone of light.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..geometry import Rect
from .base import PropContext, PropParams, prop
from .kit import Canvas
from .paint import ellipse_glow, ink, light_cone, neon, particle, scanlines, sparkle
from .svg import darken, lighten, mix, num

# Silhouette proportions, as fractions of the figure's height.
HEAD_R = 0.165
SHOULDER_W = 0.70       # across the shoulders
NECK = 0.43             # top of the shoulders, from the top of the figure
WAIST = 0.56            # torso width at the bottom, of the shoulder width


def user_glyph(c: Canvas, cx: float, top: float, h: float, color: str, *,
               device: Literal["phone", "laptop", "none"] = "phone", detail: bool = True) -> Rect:
    """A user: a glass silhouette with a neon rim, a device lighting the face. Returns its bounds."""
    r = h * HEAD_R
    head_cy = top + r * 1.02
    sw = h * SHOULDER_W / 2
    ww = sw * WAIST
    y_sh = top + h * NECK
    y_arm = y_sh + h * 0.16          # where the rounded shoulder meets the arm
    bottom = top + h
    body = (f"M{num(cx - ww)},{num(bottom)} "
            f"L{num(cx - sw)},{num(y_arm)} "
            f"C{num(cx - sw)},{num(y_sh)} {num(cx - sw * 0.6)},{num(y_sh)} {num(cx - sw * 0.25)},{num(y_sh)} "
            f"Q{num(cx)},{num(y_sh + h * 0.05)} {num(cx + sw * 0.25)},{num(y_sh)} "
            f"C{num(cx + sw * 0.6)},{num(y_sh)} {num(cx + sw)},{num(y_sh)} {num(cx + sw)},{num(y_arm)} "
            f"L{num(cx + ww)},{num(bottom)} Z")
    fill = c.svg.linear([(0, mix(color, ink(c), 0.55), 0.95), (1, mix(color, ink(c), 0.85), 0.9)])
    c.svg.el("path", d=body, fill=fill)
    c.svg.el("circle", cx=cx, cy=head_cy, r=r, fill=fill)
    rim = lighten(color, 0.35)
    c.svg.el("path", d=body, fill="none", stroke=rim, stroke_width=max(1.0 * c.u, h * 0.012))
    c.svg.el("circle", cx=cx, cy=head_cy, r=r, fill="none", stroke=rim, stroke_width=max(1.0 * c.u, h * 0.012))
    c.glow.el("path", d=body, fill="none", stroke=color, stroke_width=max(3 * c.u, h * 0.03), opacity="0.7")
    c.glow.el("circle", cx=cx, cy=head_cy, r=r, fill="none", stroke=color, stroke_width=max(3 * c.u, h * 0.03),
              opacity="0.7")
    if device == "phone":
        pw, ph = h * 0.15, h * 0.24
        px, py = cx + sw * 0.05, top + h * 0.50
        # the hand holding it
        c.svg.el("ellipse", cx=px + pw * 0.5, cy=py + ph * 0.92, rx=pw * 0.62, ry=ph * 0.2,
                 fill=mix(color, ink(c), 0.45), stroke=lighten(color, 0.35), stroke_width=0.7 * c.u)
        c.svg.el("rect", x=px, y=py, width=pw, height=ph, rx=pw * 0.18, fill=darken(color, 0.7),
                 stroke=lighten(color, 0.5), stroke_width=0.8 * c.u)
        screen = Rect(px + pw * 0.12, py + ph * 0.1, pw * 0.76, ph * 0.8)
        c.svg.el("rect", x=screen.x, y=screen.y, width=screen.w, height=screen.h, rx=pw * 0.08,
                 fill=c.svg.linear([(0, lighten(color, 0.6), 1), (1, color, 0.9)]))
        if detail:
            for k in range(3):
                c.svg.el("rect", x=screen.x + screen.w * 0.15, y=screen.y + screen.h * (0.2 + 0.22 * k),
                         width=screen.w * (0.7 - 0.2 * (k % 2)), height=screen.h * 0.08, fill=darken(color, 0.5),
                         opacity="0.7")
        c.glow.el("rect", x=px - pw * 0.3, y=py - ph * 0.2, width=pw * 1.6, height=ph * 1.4, fill=color, opacity="0.8")
        # the screen's light on the face
        c.svg.el("circle", cx=cx + r * 0.35, cy=head_cy + r * 0.2, r=r * 0.8,
                 fill=c.svg.radial([(0, lighten(color, 0.5), 0.45), (1, color, 0)]))
    elif device == "laptop":
        lw, lh = h * 0.5, h * 0.2
        lx, ly = cx - lw / 2, top + h * 0.6
        lid = f"M{num(lx + lw * 0.08)},{num(ly + lh)} L{num(lx + lw * 0.14)},{num(ly)} L{num(lx + lw * 0.86)},{num(ly)} L{num(lx + lw * 0.92)},{num(ly + lh)} Z"
        c.svg.el("path", d=lid, fill=c.svg.linear([(0, lighten(color, 0.5), 0.95), (1, color, 0.85)]),
                 stroke=lighten(color, 0.7), stroke_width=0.8 * c.u)
        c.svg.el("rect", x=lx, y=ly + lh, width=lw, height=lh * 0.14, rx=lh * 0.05, fill=c.theme.palette["metal_light"])
        c.glow.el("path", d=lid, fill=color)
    return Rect(cx - sw, top, 2 * sw, h)


class UserIcon(PropParams):
    count: int = Field(3, ge=1, le=24, description="How many users.")
    device: Literal["phone", "laptop", "none"] = Field("phone", description="What each user holds.")
    color: str | None = Field(None, description="One colour for all (palette name or hex); default: a different accent each.")
    stagger: bool = Field(True, description="Alternate heights a little, like a crowd, instead of a strict row.")


@prop("user_icon", UserIcon)
def user_icon(p: UserIcon, ctx: PropContext):
    """Users with glowing devices: who sends the requests and receives the answers."""
    c = Canvas("user_icon", p, ctx)
    box = c.box
    n = p.count
    slot = box.w / n
    h = min(box.h * (0.88 if p.stagger and n > 1 else 1.0), slot / (SHOULDER_W * 1.15))
    palette = [c.theme.station_color(i) for i in (6, 1, 5, 2, 4, 3)]
    for i in range(n):
        color = c.accent(palette[i % len(palette)])
        cx = box.x + slot * (i + 0.5)
        lift = (box.h - h) * (0.0 if i % 2 else 1.0) if p.stagger and n > 1 else (box.h - h) / 2
        top = box.y + lift
        ellipse_glow(c, cx, top + h, h * 0.35, h * 0.06, color, strength=0.5)
        r = user_glyph(c, cx, top, h, color, device=p.device)
        c.anchor(f"user{i + 1}", cx, top)
        c.keep_clear(r)
    c.anchor("in", box.x, box.cy)
    return c.art()


class HologramProjector(PropParams):
    color: str | None = Field(None, description="Light colour (palette name or hex); default cyan.")
    emitter: float = Field(0.18, gt=0.02, le=0.6, description="Emitter disc height, as a fraction of the box height.")
    spread: float = Field(1.0, gt=0.1, le=1.0, description="Width of the cone's top, as a fraction of the box width.")
    sparkles: int = Field(14, ge=0, le=100, description="Light motes rising in the cone.")


@prop("hologram_projector", HologramProjector)
def hologram_projector(p: HologramProjector, ctx: PropContext):
    """An emitter disc on the floor throwing a cone of light up: the source of a hologram."""
    c = Canvas("hologram_projector", p, ctx)
    box = c.box
    color = c.accent(c.theme.palette["cyan"])
    disc_h = box.h * p.emitter
    disc_w = min(box.w * 0.45, disc_h * 3.2)
    cx, base = box.cx, box.y1 - disc_h * 0.5
    top_w = box.w * p.spread
    # the cone: from the lens to the top of the box
    lens_y = base - disc_h * 0.18
    light_cone(c, [(cx - disc_w * 0.3, lens_y), (cx + disc_w * 0.3, lens_y)],
               [(cx - top_w / 2, box.y), (cx + top_w / 2, box.y)], color, strength=0.5)
    scanlines(c, Rect(cx - top_w * 0.3, box.y + box.h * 0.05, top_w * 0.6, box.h * 0.6), color, opacity=0.08)
    for i in range(5):
        t = (i + 0.5) / 5
        x = cx + (c.rng.random() - 0.5) * top_w * (1 - t) * 0.8
        neon(c, f"M{num(cx + (x - cx) * 0.15)},{num(lens_y)} L{num(x)},{num(box.y + box.h * (1 - t) * 0.3)}",
             color, 0.6 * c.u, opacity=0.35, halo=0.4)
    # the emitter: a metal disc with glowing rings
    metal = c.theme.palette["metal"]
    c.svg.el("ellipse", cx=cx, cy=base + disc_h * 0.22, rx=disc_w / 2, ry=disc_h * 0.32, fill=darken(metal, 0.5))
    c.svg.el("rect", x=cx - disc_w / 2, y=base - disc_h * 0.1, width=disc_w, height=disc_h * 0.32,
             fill=c.svg.linear([(0, metal, 1), (1, darken(metal, 0.55), 1)], x2=1, y2=0))
    c.svg.el("ellipse", cx=cx, cy=base - disc_h * 0.1, rx=disc_w / 2, ry=disc_h * 0.3,
             fill=c.svg.linear([(0, lighten(metal, 0.2), 1), (1, darken(metal, 0.2), 1)]))
    for k, scale in enumerate((0.85, 0.6, 0.32)):
        c.svg.el("ellipse", cx=cx, cy=base - disc_h * 0.1, rx=disc_w / 2 * scale, ry=disc_h * 0.3 * scale,
                 fill="none" if k < 2 else lighten(color, 0.6), stroke=lighten(color, 0.3 + 0.2 * k),
                 stroke_width=(1.4 - 0.3 * k) * c.u)
        c.glow.el("ellipse", cx=cx, cy=base - disc_h * 0.1, rx=disc_w / 2 * scale, ry=disc_h * 0.3 * scale,
                  fill="none" if k < 2 else color, stroke=color, stroke_width=3 * c.u)
    ellipse_glow(c, cx, base + disc_h * 0.3, disc_w * 0.9, disc_h * 0.5, color, strength=0.35)
    for _ in range(p.sparkles):
        t = c.rng.random()
        y = lens_y - (lens_y - box.y) * t
        half = disc_w * 0.3 + (top_w / 2 - disc_w * 0.3) * t
        x = cx + c.rng.uniform(-half, half) * 0.85
        if c.rng.random() < 0.3:
            sparkle(c, x, y, c.rng.uniform(1.5, 3.5) * c.u, color, opacity=0.8)
        else:
            particle(c, x, y, c.rng.uniform(0.5, 1.2) * c.u, color, opacity=0.5 + 0.5 * (1 - t))
    c.anchor("top", cx, box.y)
    c.anchor("lens", cx, lens_y)
    c.anchor("center", cx, (lens_y + box.y) / 2)
    c.keep_clear(Rect(cx - disc_w / 2, base - disc_h * 0.5, disc_w, disc_h))
    return c.art()
