"""A tiny SVG writer for props: elements, gradients with unique ids, colours.

Numbers are written with one decimal so the same drawing always gives the same
string. Gradient ids carry a prefix derived from the prop and its box, so two
props in one panel never share an id.
"""
from __future__ import annotations

import zlib
from typing import Iterable, Sequence

Point = tuple[float, float]


def num(v: float) -> str:
    """A coordinate as text: one decimal, no trailing '.0', no '-0'."""
    s = f"{v:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def pts(points: Iterable[Point]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in points)


def tag(name: str, attrs: dict | None = None, children: str = "") -> str:
    """One element. Attribute names use '_' for '-' (stroke_width -> stroke-width)."""
    parts = [name]
    for key, value in (attrs or {}).items():
        if value is None:
            continue
        if isinstance(value, float):
            value = num(value)
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{value}"')
    head = " ".join(parts)
    return f"<{head}>{children}</{name}>" if children else f"<{head}/>"


def path_d(points: Sequence[Point], closed: bool = False) -> str:
    d = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in points)
    return d + " Z" if closed else d


def stable_id(*parts: object) -> str:
    """A short deterministic id from anything printable (not Python's salted hash)."""
    return f"{zlib.crc32(repr(parts).encode()):08x}"


SHAPES = {"rect", "circle", "ellipse", "path", "polygon", "line", "polyline"}


class Svg:
    """Collects elements and the gradient definitions they use."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.defs: list[str] = []
        self.body: list[str] = []
        self._count = 0
        self._known: dict[str, str] = {}     # gradient definition -> its id (identical ones are shared)

    def uid(self, kind: str) -> str:
        self._count += 1
        return f"{self.prefix}-{kind}{self._count}"

    def add(self, element: str) -> None:
        self.body.append(element)

    def el(self, name: str, children: str = "", **attrs) -> None:
        if "opacity" in attrs and name in SHAPES and not children:
            # opacity on an element makes resvg paint it in an offscreen layer (slow for big
            # shapes); fill- and stroke-opacity give the same look for a single shape
            alpha = attrs.pop("opacity")
            if alpha is not None:
                attrs.setdefault("fill_opacity", alpha)
                attrs.setdefault("stroke_opacity", alpha)
        self.body.append(tag(name, attrs, children))

    def linear(self, stops: Sequence[tuple[float, str, float]], x1: float = 0, y1: float = 0,
               x2: float = 0, y2: float = 1, user: Sequence[float] | None = None) -> str:
        """A linear gradient; stops are (offset, colour, opacity). Returns 'url(#id)'.

        Coordinates are fractions of the shape's bounding box, or, with `user`
        (x1, y1, x2, y2), absolute panel coordinates.
        """
        coords = ({"x1": user[0], "y1": user[1], "x2": user[2], "y2": user[3], "gradientUnits": "userSpaceOnUse"}
                  if user else {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2)})
        return self._define("linearGradient", "lg", coords, _stops(stops))

    def radial(self, stops: Sequence[tuple[float, str, float]], cx: float = 0.5, cy: float = 0.5,
               r: float = 0.5) -> str:
        return self._define("radialGradient", "rg", {"cx": float(cx), "cy": float(cy), "r": float(r)}, _stops(stops))

    def _define(self, element: str, kind: str, attrs: dict, children: str) -> str:
        key = tag(element, attrs, children)
        if key not in self._known:
            gid = self.uid(kind)
            self._known[key] = gid
            self.defs.append(tag(element, {"id": gid, **attrs}, children))
        return f"url(#{self._known[key]})"

    def clip(self, shape: str) -> str:
        """A clip path from one shape element; returns 'url(#id)'."""
        cid = self.uid("clip")
        self.defs.append(tag("clipPath", {"id": cid}, shape))
        return f"url(#{cid})"

    def render(self) -> str:
        defs = f"<defs>{''.join(self.defs)}</defs>" if self.defs else ""
        return defs + "".join(self.body)


def _stops(stops: Sequence[tuple[float, str, float]]) -> str:
    out = []
    for offset, color, opacity in stops:
        hexcolor, alpha = split_alpha(color)
        out.append(tag("stop", {"offset": f"{offset:.3f}".rstrip("0").rstrip(".") or "0",
                                "stop-color": hexcolor, "stop-opacity": f"{opacity * alpha:.3f}"}))
    return "".join(out)


# ---- colours -------------------------------------------------------------------------------

def rgba(color: str) -> tuple[int, int, int, float]:
    """'#rgb', '#rrggbb' or '#rrggbbaa' -> (r, g, b, alpha 0..1)."""
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) not in (6, 8):
        raise ValueError(f"not a hex colour: {color!r}")
    alpha = int(h[6:8], 16) / 255 if len(h) == 8 else 1.0
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


def split_alpha(color: str) -> tuple[str, float]:
    r, g, b, a = rgba(color)
    return f"#{r:02x}{g:02x}{b:02x}", a


def mix(a: str, b: str, t: float) -> str:
    """Colour a blended towards b by t (0 = a, 1 = b)."""
    ra, ga, ba, _ = rgba(a)
    rb, gb, bb, _ = rgba(b)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in ((ra, rb), (ga, gb), (ba, bb)))


def lighten(color: str, t: float) -> str:
    return mix(color, "#ffffff", t)


def darken(color: str, t: float) -> str:
    return mix(color, "#000000", t)
