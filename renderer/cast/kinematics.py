"""The geometry of a rig: affine transforms, two-bone IK and tapered limb outlines.

Everything here is in art units (the character's own drawing coordinates, y down).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Affine:
    """x' = a x + c y + e ; y' = b x + d y + f  (the SVG matrix(a b c d e f))."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    d: float = 1.0
    e: float = 0.0
    f: float = 0.0

    @staticmethod
    def translate(x: float, y: float) -> "Affine":
        return Affine(e=x, f=y)

    @staticmethod
    def rotate(degrees: float) -> "Affine":
        r = math.radians(degrees)
        return Affine(math.cos(r), math.sin(r), -math.sin(r), math.cos(r))

    @staticmethod
    def scale(sx: float, sy: float | None = None) -> "Affine":
        return Affine(a=sx, d=sx if sy is None else sy)

    def __matmul__(self, o: "Affine") -> "Affine":
        """self @ o: apply o first, then self."""
        return Affine(self.a * o.a + self.c * o.b, self.b * o.a + self.d * o.b,
                      self.a * o.c + self.c * o.d, self.b * o.c + self.d * o.d,
                      self.a * o.e + self.c * o.f + self.e, self.b * o.e + self.d * o.f + self.f)

    def apply(self, p: Point) -> Point:
        x, y = p
        return self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f

    def svg(self) -> str:
        return "matrix(" + " ".join(_num(v) for v in (self.a, self.b, self.c, self.d, self.e, self.f)) + ")"


def parse_transform(text: str | None) -> Affine:
    """The subset of SVG transform syntax the art uses: translate, rotate, scale, matrix."""
    m = Affine()
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text or ""):
        v = [float(x) for x in re.split(r"[\s,]+", args.strip()) if x]
        if name == "translate":
            t = Affine.translate(v[0], v[1] if len(v) > 1 else 0.0)
        elif name == "rotate":
            t = Affine.rotate(v[0])
            if len(v) == 3:
                t = Affine.translate(v[1], v[2]) @ t @ Affine.translate(-v[1], -v[2])
        elif name == "scale":
            t = Affine.scale(v[0], v[1] if len(v) > 1 else None)
        elif name == "matrix":
            t = Affine(*v)
        else:
            raise ValueError(f"unsupported SVG transform '{name}' in cast art")
        m = m @ t
    return m


def _num(v: float) -> str:
    """Short, stable number text (same input -> same SVG bytes)."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def two_bone_ik(root: Point, target: Point, l1: float, l2: float, bend: int) -> tuple[Point, Point]:
    """Elbow and end points for a limb of segment lengths l1, l2 reaching for target.

    bend = +1 puts the joint clockwise of the root->target line on screen (y down), -1 the other way.
    Out-of-reach targets are clamped onto the limb's reach, so every pose stays anatomically possible.
    """
    dx, dy = target[0] - root[0], target[1] - root[1]
    dist = math.hypot(dx, dy) or 1e-6
    reach = min(max(dist, abs(l1 - l2) + 1e-3), l1 + l2 - 1e-3)
    ux, uy = dx / dist, dy / dist
    end = (root[0] + ux * reach, root[1] + uy * reach)
    # law of cosines: distance along the root->end line to the joint's foot, and its offset
    along = (l1 * l1 - l2 * l2 + reach * reach) / (2 * reach)
    off = math.sqrt(max(l1 * l1 - along * along, 0.0))
    # perpendicular (-uy, ux) is clockwise on screen for y-down coordinates
    joint = (root[0] + ux * along - uy * off * bend, root[1] + uy * along + ux * off * bend)
    return joint, end


def angle_of(a: Point, b: Point) -> float:
    """Direction of a->b in degrees (SVG convention: clockwise on screen)."""
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def capsule_path(a: Point, ra: float, b: Point, rb: float) -> str:
    """Outline of the convex hull of two circles: one tapered limb segment with round ends."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = math.hypot(dx, dy)
    if d <= abs(ra - rb) + 1e-6:  # one circle swallows the other
        c, r = (a, ra) if ra >= rb else (b, rb)
        return circle_path(c, r)
    ux, uy = dx / d, dy / d
    vx, vy = -uy, ux
    k = (ra - rb) / d               # cosine of the angle between the tangent's normal and a->b
    s = math.sqrt(1 - k * k)
    n1 = (k * ux + s * vx, k * uy + s * vy)
    n2 = (k * ux - s * vx, k * uy - s * vy)
    p1 = (a[0] + ra * n1[0], a[1] + ra * n1[1])
    p2 = (b[0] + rb * n1[0], b[1] + rb * n1[1])
    p3 = (b[0] + rb * n2[0], b[1] + rb * n2[1])
    p4 = (a[0] + ra * n2[0], a[1] + ra * n2[1])
    # the arc around b passes through b + rb*u and spans 2*acos(k); around a through a - ra*u
    large_b = 1 if k < 0 else 0
    large_a = 1 if k > 0 else 0
    f = _num
    return (f"M{f(p1[0])} {f(p1[1])}L{f(p2[0])} {f(p2[1])}"
            f"A{f(rb)} {f(rb)} 0 {large_b} 0 {f(p3[0])} {f(p3[1])}"
            f"L{f(p4[0])} {f(p4[1])}"
            f"A{f(ra)} {f(ra)} 0 {large_a} 0 {f(p1[0])} {f(p1[1])}Z")


def circle_path(c: Point, r: float) -> str:
    f = _num
    return (f"M{f(c[0] - r)} {f(c[1])}A{f(r)} {f(r)} 0 1 0 {f(c[0] + r)} {f(c[1])}"
            f"A{f(r)} {f(r)} 0 1 0 {f(c[0] - r)} {f(c[1])}Z")


def curvy_path(points: list, bulge: float = 0.15) -> str:
    """A closed outline through points, each edge a curve bowing outwards by bulge x its length
    (points go clockwise on screen). Spiky hair and tufts are a list of valleys and tips."""
    f = _num
    pts = [(float(x), float(y)) for x, y in points]
    out = [f"M{f(pts[0][0])} {f(pts[0][1])}"]
    for i, (x0, y0) in enumerate(pts):
        x1, y1 = pts[(i + 1) % len(pts)]
        dx, dy = x1 - x0, y1 - y0
        cx, cy = (x0 + x1) / 2 + dy * bulge, (y0 + y1) / 2 - dx * bulge
        out.append(f"Q{f(cx)} {f(cy)} {f(x1)} {f(y1)}")
    return "".join(out) + "Z"


def bbox_of(points: list[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
