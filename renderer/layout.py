"""Pure layout: rectangles in, rectangles out. Nothing here draws.

- `panel_rects`: the page grid (rows of panels, stacks for tall panels) inside margins, with even
  gutters; `reading_order`: the panels as a reader meets them.
- `place_texts`: where each balloon, narration box and caption of a panel goes (TextRequest:
  the shapes it may take; Placed: where it went), in reading order, clear of faces, the model's
  data and each other; crowded, it falls back step by step (out of order, a caption strip, the
  spot that hides least: `least_hiding`). `place_boxes` places boxes that must land cleanly.
- Signage: `label_room` (how wide a label may be), `label_spots` (its spots around an anchor),
  `first_clear`, `hides_least`.

A speech balloon's tail is renderer.balloons.tail_points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .geometry import Rect


# --- the page grid ----------------------------------------------------------------------------

def panel_rects(page_w: float, page_h: float, rows, *, margin: float, gutter: float,
                header: float = 0.0, footer: float = 0.0) -> dict[str, Rect]:
    """Panel rectangles for a storyboard layout.

    rows: storyboard Rows (height, panels: id | PanelRef | StackRef). margin, gutter, header and
    footer are in pixels. Row heights and panel widths are relative; gutters are equal everywhere.
    """
    inner = Rect(margin, margin + header, page_w - 2 * margin, page_h - 2 * margin - header - footer)
    total_h = sum(r.height for r in rows)
    avail_h = inner.h - gutter * (len(rows) - 1)
    rects: dict[str, Rect] = {}
    y = inner.y
    for row in rows:
        row_h = avail_h * row.height / total_h
        total_w = sum(_width(ref) for ref in row.panels)
        avail_w = inner.w - gutter * (len(row.panels) - 1)
        x = inner.x
        for ref in row.panels:
            w = avail_w * _width(ref) / total_w
            stack = getattr(ref, "stack", None)
            if stack is None:
                rects[_id(ref)] = Rect(x, y, w, row_h)
            else:
                total_s = sum(_width(s) for s in stack)
                avail_s = row_h - gutter * (len(stack) - 1)
                sy = y
                for s in stack:
                    sh = avail_s * _width(s) / total_s
                    rects[_id(s)] = Rect(x, sy, w, sh)
                    sy += sh + gutter
            x += w + gutter
        y += row_h + gutter
    return {k: _snap(v) for k, v in rects.items()}


def _width(ref) -> float:
    return 1.0 if isinstance(ref, str) else getattr(ref, "width", 1.0)


def _id(ref) -> str:
    return ref if isinstance(ref, str) else ref.id


def _snap(r: Rect) -> Rect:
    """Whole pixels, so borders are crisp and gutters stay even."""
    x0, y0, x1, y1 = round(r.x), round(r.y), round(r.x1), round(r.y1)
    return Rect(x0, y0, x1 - x0, y1 - y0)


def reading_order(rects: dict[str, Rect]) -> list[str]:
    """Panel ids left to right, then top to bottom (rows by their top edge)."""
    return sorted(rects, key=lambda k: (round(rects[k].y), rects[k].x))


# --- balloons -----------------------------------------------------------------------------------

PLACES = {
    "top-left": (0.0, 0.0), "top": (0.5, 0.0), "top-right": (1.0, 0.0),
    "left": (0.0, 0.5), "center": (0.5, 0.5), "right": (1.0, 0.5),
    "bottom-left": (0.0, 1.0), "bottom": (0.5, 1.0), "bottom-right": (1.0, 1.0),
}


@dataclass(frozen=True)
class BoxRequest:
    """A box to place: its size, what it wants to be near, and hard rules."""

    w: float
    h: float
    target: tuple[float, float] | None = None   # speaker's mouth: stay near it horizontally
    place: str | None = None                     # author's hint (PLACES key)
    at: tuple[float, float] | None = None        # author's exact centre (panel pixels)
    corner: bool = False                         # narration: snap to a panel corner
    clearance: float = 0.0                       # keep this far from anything blocked (room for a tail)
    name: str = ""
    near: tuple[float, float] | None = None      # a centre to stay close to (an `at` that had no room)
    strip: bool = False                          # a caption strip: flush with the top or bottom edge


def place_boxes(panel: Rect, requests: list[BoxRequest], *, blocked: list[Rect], keepout: list[Rect],
                bodies: list[Rect], inset: float) -> list[Rect | None]:
    """Place boxes in reading order. Returns a Rect per request, or None where no room was found.

    Hard rules: inside the panel (inset from the border), never over anything `blocked` (faces,
    labels, the model tag), never over an earlier box, and never up-and-left of the previous balloon
    (reading order). Soft: stay near the top and near the speaker, keep props' important areas and
    bodies clear.
    """
    area = panel.inset(inset)
    placed: list[Rect] = []
    out: list[Rect | None] = []
    prev: Rect | None = None
    for req in requests:
        best = _best_clean(area, req, blocked, [], placed, prev, keepout, bodies, inset)[0]
        out.append(best)
        if best is not None:
            placed.append(best)
            if not req.corner:
                prev = best
    return out


def _best_clean(area: Rect, req: BoxRequest, blocked: list[Rect], flush: list[Rect], placed: list[Rect],
                prev: Rect | None, keepout: list[Rect], bodies: list[Rect],
                inset: float) -> tuple[Rect | None, float]:
    """The cheapest spot for `req` that breaks no hard rule (prev=None: reading order not enforced),
    and its cost. The box keeps its `clearance` from everything `blocked`; it may come right up to
    `flush`."""
    best, best_cost = None, math.inf
    for cand in _candidates(area, req):
        if not area.contains(cand):
            continue
        halo = cand.inset(-req.clearance) if req.clearance else cand
        if any(halo.overlaps(b) for b in blocked):
            continue
        if any(cand.overlaps(b) for b in flush):
            continue
        if any(cand.overlaps(p.inset(-inset / 2)) for p in placed):
            continue
        if prev is not None and not req.corner and _before(cand, prev):
            continue
        cost = _cost(cand, area, req, keepout, bodies)
        if cost < best_cost:
            best, best_cost = cand, cost
    return best, best_cost


# --- placing text that must land somewhere ------------------------------------------------------

# What a box may end up covering when there is no clean spot, and how bad that is: a face worst,
# then the model's data, then the lettering of the scene (props' signs, labels) and other balloons.
COVER_WEIGHT = {"face": 1000.0, "data": 300.0, "balloon": 250.0, "label": 200.0, "lettering": 200.0,
                "tag": 120.0}


# What taking the next, less preferred shape of an element (smaller text, other line breaks) costs,
# in the units of a spot's cost: it must buy a clearly better spot (near its place, above the mouth).
OPTION_STEP = 0.4


@dataclass(frozen=True)
class Obstacle:
    """Something no box may cover: where it is and what it is (a COVER_WEIGHT key)."""

    rect: Rect
    kind: str


@dataclass(frozen=True)
class TextRequest:
    """One lettered element to place, with the shapes it may take, preferred first.

    `options` are the same words at other sizes and line breaks (largest first); `strip` is the
    element set as a caption strip along the panel's top or bottom edge (None: it cannot be one).
    """

    options: tuple[BoxRequest, ...]
    strip: BoxRequest | None = None
    name: str = ""


@dataclass(frozen=True)
class Placed:
    """Where an element went. `fallback` says how far from a clean placement it had to go:

    ""          clean: in reading order, over nothing it must not cover
    "order"     clean, but read before the balloon that precedes it
    "strip"     as a caption strip along the top or bottom edge
    "covering"  where it hides least; `covers` names what it covers
    """

    rect: Rect | None
    option: int = 0                  # index into the request's options; -1: the strip
    fallback: str = ""
    covers: tuple[str, ...] = ()


def place_texts(panel: Rect, requests: list[TextRequest], *, obstacles: list[Obstacle], keepout: list[Rect],
                bodies: list[Rect], inset: float) -> list[Placed]:
    """Place every element in reading order, degrading step by step instead of failing.

    For each element: the cheapest clean spot in reading order over all its options (a smaller
    option pays OPTION_STEP per step, so it wins only a clearly better spot); else a clean spot out
    of order; else a caption strip; else the spot that hides least (faces weigh most). Only an
    element larger than the panel itself gets no place (rect None).
    """
    area = panel.inset(inset)
    # a balloon keeps a tail's length from faces; from lettering and data, just not on top of them
    blocked = [o.rect for o in obstacles if o.kind == "face"]
    flush = [o.rect for o in obstacles if o.kind != "face"]
    placed: list[Rect] = []
    prev: Rect | None = None
    out: list[Placed] = []
    for treq in requests:
        result = None
        for order in (True, False):
            if not order and prev is None:
                break
            # every shape's best spot; a later (smaller) shape wins only where it sits much better
            best_cost = math.inf
            for i, req in enumerate(treq.options):
                rect, cost = _best_clean(area, req, blocked, flush, placed, prev if order else None, keepout,
                                         bodies, inset)
                if rect is not None and cost + OPTION_STEP * i < best_cost:
                    result, best_cost = Placed(rect, i, "" if order else "order"), cost + OPTION_STEP * i
            if result is not None:
                break
        if result is None and treq.strip is not None:
            rect, _ = _best_clean(area, treq.strip, blocked, flush, placed, None, keepout, bodies, inset)
            if rect is not None:
                result = Placed(rect, -1, "strip")
        if result is None:
            hard = list(obstacles) + [Obstacle(p, "balloon") for p in placed]
            result = least_hiding(area, treq, hard, keepout, bodies)
        out.append(result)
        if result.rect is not None:
            placed.append(result.rect)
            req = treq.strip if result.option < 0 else treq.options[result.option]
            if not req.corner and result.fallback != "strip":
                prev = result.rect
    return out


def least_hiding(area: Rect, treq: TextRequest, obstacles: list[Obstacle], keepout: list[Rect],
                 bodies: list[Rect]) -> Placed:
    """The last resort: the spot (any option, or the strip) that covers least of what matters."""
    best, best_cost = Placed(None), math.inf
    shapes = list(enumerate(treq.options)) + ([(-1, treq.strip)] if treq.strip is not None else [])
    for i, req in shapes:
        for cand in _candidates(area, replace(req, at=None) if req.at is not None else req, dense=True):
            if not area.contains(cand):
                continue
            hide, covers = 0.0, []
            for o in obstacles:
                inter = cand.intersect(o.rect)
                if inter is not None:
                    hide += COVER_WEIGHT.get(o.kind, 200.0) * inter.area / max(1.0, o.rect.area)
                    if o.kind not in covers:
                        covers.append(o.kind)
            cost = hide * 100 + _cost(cand, area, req, keepout, bodies) + i * 0.01
            if cost < best_cost:
                best, best_cost = Placed(cand, i, "covering", tuple(covers)), cost
    return best


def label_spots(anchor: tuple[float, float], w: float, h: float, area: Rect, gap: float) -> list[Rect]:
    """Where a label of w x h may sit around its anchor point, preferred first: above it (as a sign
    on a prop), then below, right, left, and farther above and below; each kept inside `area`."""
    ax, ay = anchor
    spots = [(ax - w / 2, ay - h - gap), (ax - w / 2, ay + gap), (ax + gap * 2, ay - h / 2),
             (ax - w - gap * 2, ay - h / 2)]
    for k in (2, 3, 4):
        spots += [(ax - w / 2, ay - k * (h + gap)), (ax - w / 2, ay + (k - 1) * (h + gap) + gap)]
    out = []
    for x, y in spots:
        x = min(max(x, area.x), area.x1 - w)
        y = min(max(y, area.y), area.y1 - h)
        r = Rect(x, y, w, h)
        if r not in out:
            out.append(r)
    return out


def first_clear(spots: list[Rect], obstacles: list[Rect]) -> Rect | None:
    """The first spot that overlaps none of `obstacles`."""
    for r in spots:
        if not any(r.overlaps(o) for o in obstacles):
            return r
    return None


def hides_least(spots: list[Rect], obstacles: list[Obstacle]) -> tuple[Rect, tuple[str, ...]]:
    """The spot that covers least of `obstacles` (weighted as COVER_WEIGHT), and what it covers."""
    best, best_cost, best_covers = spots[0], math.inf, ()
    for k, r in enumerate(spots):
        cost, covers = 0.0, []
        for o in obstacles:
            inter = r.intersect(o.rect)
            if inter is not None:
                cost += COVER_WEIGHT.get(o.kind, 200.0) * inter.area / max(1.0, o.rect.area)
                if o.kind not in covers:
                    covers.append(o.kind)
        cost += k * 1e-3
        if cost < best_cost:
            best, best_cost, best_covers = r, cost, tuple(covers)
    return best, best_covers


def _before(cand: Rect, prev: Rect) -> bool:
    """True if `cand` would be read before `prev`: clearly above it, or beside it to the left."""
    if cand.y1 <= prev.y + 1:          # entirely above the previous balloon
        return True
    same_band = cand.y < prev.y1 and cand.y1 > prev.y
    return same_band and cand.cx < prev.cx and cand.y < prev.y + prev.h * 0.5


def _candidates(area: Rect, req: BoxRequest, dense: bool = False):
    if req.at is not None:
        yield Rect(req.at[0] - req.w / 2, req.at[1] - req.h / 2, req.w, req.h)
        return
    if req.strip:
        for y in (area.y, area.y1 - req.h):
            for k in range(25):
                yield Rect(area.x + (area.w - req.w) * k / 24, y, req.w, req.h)
        return
    if req.corner:
        # each corner, then slid along the panel's edge away from it (still flush with one side)
        for name in ("top-left", "top-right", "bottom-left", "bottom-right"):
            fx, fy = PLACES[name]
            x0, y0 = area.x + fx * (area.w - req.w), area.y + fy * (area.h - req.h)
            for k in range(41):
                t = k / 40
                yield Rect(x0, area.y + (area.h - req.h) * (t if fy == 0 else 1 - t), req.w, req.h)
                yield Rect(area.x + (area.w - req.w) * (t if fx == 0 else 1 - t), y0, req.w, req.h)
        return
    steps_x = 48 if dense else 24
    steps_y = 32 if dense else 16
    for j in range(steps_y + 1):
        for i in range(steps_x + 1):
            x = area.x + (area.w - req.w) * i / steps_x
            y = area.y + (area.h - req.h) * j / steps_y
            yield Rect(x, y, req.w, req.h)


def _cost(c: Rect, area: Rect, req: BoxRequest, keepout: list[Rect], bodies: list[Rect]) -> float:
    scale = max(area.w, area.h)
    cost = 0.0
    if req.at is not None:          # the author's own spot, clear of everything that matters: take it
        return 0.0
    if req.near is not None:      # an author's spot that was taken: as close to it as there is room
        cost += 3 * math.hypot(c.cx - req.near[0], c.cy - req.near[1]) / scale
    elif req.strip:
        cost += 0.5 * (c.y - area.y) / area.h         # the top edge reads first
    elif req.corner:
        # near the asked-for corner (top-left by default), as far as the room allows
        fx, fy = PLACES[req.place] if req.place in PLACES else (0.0, 0.0)
        tx, ty = area.x + fx * (area.w - c.w), area.y + fy * (area.h - c.h)
        cost += 3.0 * math.hypot(c.x - tx, c.y - ty) / scale
    elif req.place is not None:
        fx, fy = PLACES[req.place]
        tx, ty = area.x + fx * (area.w - c.w), area.y + fy * (area.h - c.h)
        cost += 4 * math.hypot(c.x - tx, c.y - ty) / scale
    else:
        cost += 1.6 * (c.y - area.y) / area.h          # balloons belong at the top
        if req.target is not None:
            tx, ty = req.target
            dx = abs(c.cx - tx) / area.w
            cost += 1.2 * dx
            if c.y1 > ty:                               # below the mouth reads badly
                cost += 1.0
    for k in keepout:
        inter = c.intersect(k)
        if inter is not None:
            cost += 6.0 * inter.area / c.area
    # a narration box over a character hides them; a balloon's top rarely does
    body_weight = 4.0 if req.corner or req.name in ("narration", "caption") else 1.5
    for b in bodies:
        inter = c.intersect(b)
        if inter is not None:
            cost += body_weight * inter.area / c.area
    return cost


def label_room(anchor: str | None, anchors: dict[str, tuple[float, float]], label_anchors: list[str | None],
               full: float, gap: float) -> float:
    """Width a label at `anchor` may take: up to halfway to the next anchored label on its line."""
    if not anchor or anchor not in anchors:
        return full
    ax, ay = anchors[anchor]
    room = full
    for other in label_anchors:
        if other and other != anchor and other in anchors:
            ox, oy = anchors[other]
            if abs(oy - ay) < full * 0.1 and ox != ax:
                room = min(room, abs(ox - ax) - gap)
    return max(room, gap)
