"""Balloon and box shapes: where a speech balloon's tail goes (`tail_points`, pure geometry),
and the shapes as SVG: speech (ellipse + wedge tail), thought (cloud + bubble trail), robot
(rounded rectangle), narration (rectangle), the model tag.

One outline around balloon and tail: the whole shape is stroked first, then filled
again on top without a stroke, which erases the seam where the tail joins.
"""
from __future__ import annotations

import math

from .geometry import Rect

Point = tuple[float, float]


# --- the tail -------------------------------------------------------------------------------------

def _ray_exit(rect: Rect, ox: float, oy: float, ux: float, uy: float) -> float | None:
    """Distance from (ox, oy) along (ux, uy) to where the ray first meets `rect` (None: it misses)."""
    t0, t1 = 0.0, math.inf
    for o, u, lo, hi in ((ox, ux, rect.x, rect.x1), (oy, uy, rect.y, rect.y1)):
        if abs(u) < 1e-9:
            if not lo <= o <= hi:
                return None
            continue
        a, b = (lo - o) / u, (hi - o) / u
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
    return t0 if t0 <= t1 else None


ROBOT_CORNER = 0.18     # a robot balloon's corner radius, of its shorter side


def _tail_length(gap: float, reach: float, min_len: float, head_gap: float | None) -> float:
    length = max(min_len, gap * reach)
    if head_gap is not None and head_gap > 0:
        length = min(length, head_gap * 0.85)           # whatever the minimum, never onto the head
    return length


def tail_points(balloon: Rect, mouth: Point, head: Rect | None, *, width: float, reach: float = 1 / 3,
                min_len: float = 0.0, shape: str = "ellipse") -> tuple[Point, Point, Point] | None:
    """A tapering wedge from the balloon's edge toward the mouth.

    Returns (base_left, base_right, tip) in panel pixels, or None when the mouth is inside the
    balloon. As a letterer draws it, the tail points at the mouth and ends about a third of the
    way from the balloon to the speaker's head (`reach`), never touching the head. shape="rect"
    (a robot's rounded rectangle) starts the wedge on the side facing the mouth, clear of the
    corners: measured from the inscribed ellipse, a tail toward a corner would end inside the box.
    """
    if shape == "rect":
        return _rect_tail(balloon, mouth, head, width=width, reach=reach, min_len=min_len)
    cx, cy = balloon.cx, balloon.cy
    mx, my = mouth
    dx, dy = mx - cx, my - cy
    dist = math.hypot(dx, dy)
    if dist < 1e-6:
        return None
    ux, uy = dx / dist, dy / dist
    rx, ry = balloon.w / 2, balloon.h / 2
    # distance from centre to the ellipse edge along (ux, uy)
    edge = 1.0 / math.sqrt((ux / rx) ** 2 + (uy / ry) ** 2)
    if dist <= edge:
        return None
    ex, ey = cx + ux * edge, cy + uy * edge
    gap = dist - edge                                   # balloon edge to mouth
    if head is not None:
        hit = _ray_exit(head, ex, ey, ux, uy)
        if hit is not None:
            gap = min(gap, hit)                         # balloon edge to the head's outline
    length = _tail_length(gap, reach, min_len, gap if head is not None else None)
    tip = (ex + ux * length, ey + uy * length)
    # base: a chord of the ellipse, slightly inside the edge so the wedge joins the balloon
    inside = edge * 0.8
    bx, by = cx + ux * inside, cy + uy * inside
    px, py = -uy, ux
    half = width / 2
    return (bx + px * half, by + py * half), (bx - px * half, by - py * half), tip


def _rect_tail(box: Rect, mouth: Point, head: Rect | None, *, width: float, reach: float,
               min_len: float) -> tuple[Point, Point, Point] | None:
    mx, my = mouth
    if box.contains_point(mx, my):
        return None
    half = width / 2
    margin = min(box.w, box.h) * ROBOT_CORNER + half     # the wedge's base stays off the rounded corners
    sink = width * 0.4                                   # the base sits inside the edge so the wedge joins it

    def clamp(v: float, lo: float, hi: float) -> float:
        return (lo + hi) / 2 if lo > hi else min(max(v, lo), hi)

    # the side facing the mouth: the one the mouth lies furthest beyond, relative to the box's size
    if abs(my - box.cy) / box.h >= abs(mx - box.cx) / box.w:
        bx, by = clamp(mx, box.x + margin, box.x1 - margin), (box.y1 if my > box.cy else box.y)
        inward = (0.0, -sink if my > box.cy else sink)
        left, right = (bx - half, by + inward[1]), (bx + half, by + inward[1])
    else:
        bx, by = (box.x1 if mx > box.cx else box.x), clamp(my, box.y + margin, box.y1 - margin)
        inward = (-sink if mx > box.cx else sink, 0.0)
        left, right = (bx + inward[0], by - half), (bx + inward[0], by + half)
    dx, dy = mx - bx, my - by
    dist = math.hypot(dx, dy)
    if dist < 1e-6:
        return None
    ux, uy = dx / dist, dy / dist
    head_gap = _ray_exit(head, bx, by, ux, uy) if head is not None else None
    gap = min(dist, head_gap) if head_gap is not None else dist
    length = _tail_length(gap, reach, min_len, gap if head is not None else None)
    return left, right, (bx + ux * length, by + uy * length)


# --- shapes as SVG ---------------------------------------------------------------------------------

def _pts(points: list[Point]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def speech_svg(box: Rect, tail: tuple[Point, Point, Point] | None, *, fill: str, stroke: str, width: float) -> str:
    shape = [f'<ellipse cx="{box.cx:.1f}" cy="{box.cy:.1f}" rx="{box.w / 2:.1f}" ry="{box.h / 2:.1f}"/>']
    if tail:
        shape.append(f'<polygon points="{_pts(list(tail))}" stroke-linejoin="round"/>')
    return _stroke_then_fill("".join(shape), fill, stroke, width)


def robot_svg(box: Rect, tail: tuple[Point, Point, Point] | None, *, fill: str, stroke: str, width: float) -> str:
    r = min(box.w, box.h) * ROBOT_CORNER
    shape = [f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{r:.1f}"/>']
    if tail:
        shape.append(f'<polygon points="{_pts(list(tail))}" stroke-linejoin="miter"/>')
    return _stroke_then_fill("".join(shape), fill, stroke, width)


def thought_svg(box: Rect, trail_to: Point | None, *, fill: str, stroke: str, width: float) -> str:
    """A cloud: an ellipse ringed by overlapping puffs, and shrinking bubbles toward the thinker."""
    cx, cy, rx, ry = box.cx, box.cy, box.w / 2, box.h / 2
    perimeter = math.pi * (3 * (rx + ry) - math.sqrt((3 * rx + ry) * (rx + 3 * ry)))
    n = max(8, int(perimeter / (min(rx, ry) * 0.55)))
    puff = perimeter / n * 0.62
    shape = [f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx * 0.86:.1f}" ry="{ry * 0.80:.1f}"/>']
    for i in range(n):
        a = 2 * math.pi * i / n
        px, py = cx + rx * 0.86 * math.cos(a), cy + ry * 0.80 * math.sin(a)
        shape.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{puff:.1f}"/>')
    out = _stroke_then_fill("".join(shape), fill, stroke, width)
    if trail_to is not None:
        tx, ty = trail_to
        dx, dy = tx - cx, ty - cy
        d = math.hypot(dx, dy) or 1
        ux, uy = dx / d, dy / d
        edge = 1 / math.sqrt((ux / rx) ** 2 + (uy / ry) ** 2)
        free = max(0.0, d - edge)
        for k, (frac, size) in enumerate(((0.22, 0.45), (0.50, 0.30), (0.74, 0.18))):
            r = puff * size * 1.4
            px, py = cx + ux * (edge + free * frac), cy + uy * (edge + free * frac)
            out += (f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{r:.1f}" fill="{fill}" stroke="{stroke}" '
                    f'stroke-width="{width:.2f}"/>')
    return out


def narration_svg(box: Rect, *, fill: str, stroke: str, width: float, accent: str | None = None) -> str:
    out = (f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" fill="{fill}" '
           f'fill-opacity="0.94" stroke="{stroke}" stroke-width="{width:.2f}"/>')
    if accent:  # a bright bar on the left edge: the tech style's narration marker
        out += (f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{width * 2.5:.1f}" height="{box.h:.1f}" '
                f'fill="{accent}"/>')
    return out


def tag_svg(box: Rect, *, fill: str) -> str:
    r = box.h * 0.3
    return f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{r:.1f}" fill="{fill}"/>'


def _stroke_then_fill(shape: str, fill: str, stroke: str, width: float) -> str:
    return (f'<g fill="{fill}" stroke="{stroke}" stroke-width="{width * 2:.2f}">{shape}</g>'
            f'<g fill="{fill}" stroke="none">{shape}</g>')
