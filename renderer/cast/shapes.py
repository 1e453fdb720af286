"""SVG shapes as polygons, so shading and clipping are computed once, not by the rasteriser.

resvg renders every clip-path into a canvas-sized mask; a character uses dozens of them (a
shade crescent per shape, details that must stay inside what they lie on). Intersecting the
shapes here instead halves the render time. Curves are flattened finely enough that the
difference stays far below a pixel at any size the comic uses.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .kinematics import Affine, parse_transform

TOLERANCE = 0.12            # art units: max distance of a flattened curve from the true one
_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def geometry(el: ET.Element, transform: Affine | None = None, stroke: float = 0.0) -> BaseGeometry:
    """The area an element covers: its fill, or (stroke > 0) its round-capped stroke."""
    rings = _rings(el)
    own = transform or Affine()
    if stroke > 0:
        lines = [LineString(r) for r in rings if len(r) >= 2]
        geom = shapely.union_all([ln.buffer(stroke / 2, quad_segs=6) for ln in lines])
    else:
        geom = Polygon()
        for ring in rings:
            if len(ring) >= 3:
                geom = geom.symmetric_difference(shapely.make_valid(Polygon(ring)))
    if own != Affine():
        geom = affinity.affine_transform(geom, [own.a, own.c, own.b, own.d, own.e, own.f])
    return geom


def path_data(geom: BaseGeometry) -> str:
    """SVG path data for a (multi)polygon, holes included (fill-rule evenodd)."""
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom] if isinstance(geom, Polygon) else \
        [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    out = []
    for poly in polys:
        if poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = list(ring.coords)[:-1]
            out.append("M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in pts) + "Z")
    return "".join(out)


def _rings(el: ET.Element) -> list[list[tuple[float, float]]]:
    tag, a = el.tag, el.attrib
    f = lambda k, d=0.0: float(a.get(k, d))  # noqa: E731
    if tag == "path":
        rings = _flatten(a.get("d", ""))
    elif tag in ("circle", "ellipse"):
        rx = f("r") if tag == "circle" else f("rx")
        ry = f("r") if tag == "circle" else f("ry")
        rings = [_ellipse(f("cx"), f("cy"), rx, ry)]
    elif tag == "rect":
        rings = [_rect(f("x"), f("y"), f("width"), f("height"), f("rx", a.get("ry", 0)), f("ry", a.get("rx", 0)))]
    elif tag in ("polygon", "polyline"):
        v = [float(x) for x in re.split(r"[\s,]+", a.get("points", "").strip()) if x]
        rings = [list(zip(v[::2], v[1::2]))]
    elif tag == "line":
        rings = [[(f("x1"), f("y1")), (f("x2"), f("y2"))]]
    else:
        raise ValueError(f"cast art: cannot use <{tag}> as a shape")
    tf = a.get("transform")
    if tf:
        m = parse_transform(tf)
        rings = [[m.apply(p) for p in r] for r in rings]
    return rings


def _steps(length: float) -> int:
    return max(4, min(96, int(math.sqrt(length / TOLERANCE) * 1.2)))


def _flatten(d: str) -> list[list[tuple[float, float]]]:
    toks = _TOKEN.findall(d)
    rings: list[list[tuple[float, float]]] = []
    ring: list[tuple[float, float]] = []
    i, cmd = 0, ""
    x = y = sx = sy = 0.0
    last_ctrl: tuple[float, float] | None = None
    last_cmd = ""

    def num() -> float:
        nonlocal i
        v = float(toks[i])
        i += 1
        return v

    while i < len(toks):
        if toks[i].isalpha():
            cmd = toks[i]
            i += 1
            if cmd in "Zz":
                if ring:
                    rings.append(ring)
                ring, x, y = [], sx, sy
                last_cmd, last_ctrl = cmd, None
                continue
        rel = cmd.islower()
        ox, oy = (x, y) if rel else (0.0, 0.0)
        c = cmd.upper()
        if c == "M":
            if ring:
                rings.append(ring)
            x, y = ox + num(), oy + num()
            sx, sy = x, y
            ring = [(x, y)]
            cmd = "l" if rel else "L"          # further pairs are line-tos
        elif c == "L":
            x, y = ox + num(), oy + num()
            ring.append((x, y))
        elif c == "H":
            x = ox + num()
            ring.append((x, y))
        elif c == "V":
            y = (y if rel else 0.0) + num()
            ring.append((x, y))
        elif c in "CS":
            if c == "C":
                p1 = (ox + num(), oy + num())
            else:
                p1 = (2 * x - last_ctrl[0], 2 * y - last_ctrl[1]) if last_ctrl and last_cmd in "CcSs" else (x, y)
            p2 = (ox + num(), oy + num())
            p3 = (ox + num(), oy + num())
            ring.extend(_cubic((x, y), p1, p2, p3))
            last_ctrl = p2
            x, y = p3
        elif c in "QT":
            if c == "Q":
                p1 = (ox + num(), oy + num())
            else:
                p1 = (2 * x - last_ctrl[0], 2 * y - last_ctrl[1]) if last_ctrl and last_cmd in "QqTt" else (x, y)
            p2 = (ox + num(), oy + num())
            ring.extend(_cubic((x, y), (x + 2 / 3 * (p1[0] - x), y + 2 / 3 * (p1[1] - y)),
                               (p2[0] + 2 / 3 * (p1[0] - p2[0]), p2[1] + 2 / 3 * (p1[1] - p2[1])), p2))
            last_ctrl = p1
            x, y = p2
        elif c == "A":
            rx, ry, rot, large, sweep = num(), num(), num(), num(), num()
            end = (ox + num(), oy + num())
            ring.extend(_arc((x, y), rx, ry, rot, bool(large), bool(sweep), end))
            x, y = end
        else:
            raise ValueError(f"cast art: unsupported path command '{cmd}'")
        if c not in "CSQT":
            last_ctrl = None
        last_cmd = cmd
    if ring:
        rings.append(ring)
    return rings


def _cubic(p0, p1, p2, p3) -> list[tuple[float, float]]:
    length = math.dist(p0, p1) + math.dist(p1, p2) + math.dist(p2, p3)
    n = _steps(length)
    pts = []
    for k in range(1, n + 1):
        t = k / n
        u = 1 - t
        pts.append((u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
                    u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1]))
    return pts


def _arc(p0, rx, ry, rot, large, sweep, p1) -> list[tuple[float, float]]:
    """SVG elliptical arc (endpoint form) as points, per the SVG spec's conversion to centre form."""
    if rx == 0 or ry == 0 or p0 == p1:
        return [p1]
    rx, ry = abs(rx), abs(ry)
    phi = math.radians(rot)
    cp, sp = math.cos(phi), math.sin(phi)
    dx, dy = (p0[0] - p1[0]) / 2, (p0[1] - p1[1]) / 2
    x1, y1 = cp * dx + sp * dy, -sp * dx + cp * dy
    lam = (x1 * x1) / (rx * rx) + (y1 * y1) / (ry * ry)
    if lam > 1:
        rx, ry = rx * math.sqrt(lam), ry * math.sqrt(lam)
    num = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    den = rx * rx * y1 * y1 + ry * ry * x1 * x1
    co = math.sqrt(max(0.0, num / den)) * (-1 if large == sweep else 1)
    cxp, cyp = co * rx * y1 / ry, -co * ry * x1 / rx
    cx = cp * cxp - sp * cyp + (p0[0] + p1[0]) / 2
    cy = sp * cxp + cp * cyp + (p0[1] + p1[1]) / 2
    a0 = math.atan2((y1 - cyp) / ry, (x1 - cxp) / rx)
    a1 = math.atan2((-y1 - cyp) / ry, (-x1 - cxp) / rx)
    da = a1 - a0
    if sweep and da < 0:
        da += 2 * math.pi
    elif not sweep and da > 0:
        da -= 2 * math.pi
    n = _steps(abs(da) * max(rx, ry))
    pts = []
    for k in range(1, n + 1):
        a = a0 + da * k / n
        ex, ey = rx * math.cos(a), ry * math.sin(a)
        pts.append((cx + cp * ex - sp * ey, cy + sp * ex + cp * ey))
    return pts


def _ellipse(cx, cy, rx, ry) -> list[tuple[float, float]]:
    n = _steps(2 * math.pi * max(rx, ry))
    return [(cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n)) for k in range(n)]


def _rect(x, y, w, h, rx, ry) -> list[tuple[float, float]]:
    rx, ry = min(rx, w / 2), min(ry, h / 2)
    if rx <= 0 or ry <= 0:
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    pts = []
    n = max(3, _steps(math.pi / 2 * max(rx, ry)) // 2)
    for (ccx, ccy, a0) in ((x + w - rx, y + ry, -90), (x + w - rx, y + h - ry, 0),
                           (x + rx, y + h - ry, 90), (x + rx, y + ry, 180)):
        for k in range(n + 1):
            a = math.radians(a0 + 90 * k / n)
            pts.append((ccx + rx * math.cos(a), ccy + ry * math.sin(a)))
    return pts


def _n(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s
