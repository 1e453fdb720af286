"""Turn a part's drawing (plain shapes tagged with material classes) into inked, shaded SVG.

The SVG macros only say *what* a shape is made of, with class names:

  class="coat"            a base shape: ink outline, flat coat colour, and an automatic shade
                          crescent (palette `coat_shade`) on the side away from the key light
  class="coat noshade"    ... without the shade;  `thin`: with a thin (detail width) outline
  class="coat flat"       colour only, no outline (highlights, trims, eye whites)
  class="line"            an inner ink line (detail width); `thick`/`fine` for other weights;
                          `line teal`: a coloured line
  class="ink"             a solid ink shape (pupils, brows)
  class="teal glow"       an emissive shape: flat colour, and it also goes into the glow layer
  <g class="merge">       base shapes outlined as one silhouette (a sleeve made of two capsules)
  data-on="some-id"       keep only the part of this shape (or line) that lies on the base
                          shape with id="some-id": shade shapes, folds and trims never spill
                          over the edge of what they lie on

Colours, line weights and the light direction come from character.yaml, so restyling a
character never means editing shapes.
"""
from __future__ import annotations

import copy
import math
import xml.etree.ElementTree as ET

import shapely
from shapely import affinity

from . import shapes
from .assets import Character
from .kinematics import Affine, parse_transform

_SHAPES = {"path", "circle", "ellipse", "rect", "polygon", "polyline", "line"}


class Painter:
    """Paints fragments of one figure and collects the glow layer they need."""

    def __init__(self, ch: Character):
        self.ch = ch
        self.defs: list[str] = []
        self.glow: list[str] = []
        self.silhouette: list = []     # every base shape in body coordinates, for the rim light
        self.emissive: list = []       # glowing shapes in body coordinates (they widen the figure)

    # -- public -----------------------------------------------------------------------------
    def paint(self, fragment: str, where: Affine = Affine()) -> str:
        """SVG for a fragment drawn in the coordinates `where` maps to body space."""
        root = ET.fromstring(f"<g>{fragment}</g>")
        body = self._children(root, where)
        return f'<g transform="{where.svg()}">{body}</g>'

    # -- internals --------------------------------------------------------------------------
    def _color(self, name: str) -> str:
        return self.ch.palette[name]

    def _classes(self, el: ET.Element) -> list[str]:
        return el.get("class", "").split()

    def _material(self, classes: list[str]) -> str | None:
        mats = [c for c in classes if c in self.ch.palette]
        return mats[0] if mats else None

    def _children(self, parent: ET.Element, where: Affine) -> str:
        ids = {el.get("id"): el for el in parent.iter() if el.get("id")}
        areas: dict[str, object] = {}
        return "".join(self._element(el, where, ids, areas) for el in list(parent))

    def _area(self, target: str, ids: dict, areas: dict):
        if target not in areas:
            if target not in ids:
                raise ValueError(f"cast art: data-on='{target}' names no shape")
            areas[target] = shapes.geometry(ids[target])
        return areas[target]

    def _element(self, el: ET.Element, where: Affine, ids: dict, areas: dict) -> str:
        classes = self._classes(el)
        if el.tag == "g" and "merge" in classes:
            return self._bases(list(el), where)
        if el.tag == "g":
            inner = where @ parse_transform(el.get("transform"))
            e = ET.Element("g", {k: v for k, v in el.attrib.items() if k not in ("class", "id")})
            head = ET.tostring(e, encoding="unicode").replace(" />", ">").replace("/>", ">")
            return head + self._children(el, inner) + "</g>"
        if el.tag not in _SHAPES:
            return ET.tostring(el, encoding="unicode")
        mat = self._material(classes)
        on = el.get("data-on")
        if "line" in classes or "ink" in classes or "flat" in classes or "glow" in classes or on:
            svg = self._styled(el, classes, mat)
            if "glow" in classes:
                self.glow.append(f'<g transform="{where.svg()}">{svg}</g>')
                width = self._line_width(classes) if "line" in classes else 0.0
                self.emissive.append(_to_body(shapes.geometry(el, stroke=width), where))
            if on:
                svg = self._clipped(el, classes, mat, self._area(on, ids, areas))
            return svg
        if mat:
            return self._bases([el], where)
        return ET.tostring(el, encoding="unicode")

    def _line_width(self, classes: list[str]) -> float:
        lines = self.ch.lines
        if "thick" in classes:
            return lines.outline
        if "mid" in classes:
            return (lines.outline + lines.detail) / 2
        return lines.detail * (0.55 if "fine" in classes else 1.0)

    def _styled(self, el: ET.Element, classes: list[str], mat: str | None) -> str:
        e = copy.deepcopy(el)
        for k in ("class", "data-on", "id"):
            e.attrib.pop(k, None)
        if "line" in classes:
            e.attrib.setdefault("fill", "none")
            e.attrib.setdefault("stroke", self._color(mat) if mat else self.ch.ink)
            e.attrib.setdefault("stroke-width", _n(self._line_width(classes)))
            e.attrib.setdefault("stroke-linecap", "round")
            e.attrib.setdefault("stroke-linejoin", "round")
        elif "ink" in classes:
            e.attrib.setdefault("fill", self.ch.ink)
        elif mat:
            e.attrib.setdefault("fill", self._color(mat))
        return ET.tostring(e, encoding="unicode")

    def _clipped(self, el: ET.Element, classes: list[str], mat: str | None, area) -> str:
        """The part of a shape (or of a line's stroke) that lies on `area`, as a filled path."""
        if "line" in classes:
            width = float(el.get("stroke-width", self._line_width(classes)))
            geom = shapes.geometry(el, stroke=width)
            color = el.get("stroke") or (self._color(mat) if mat else self.ch.ink)
        else:
            geom = shapes.geometry(el)
            color = el.get("fill") or (self.ch.ink if "ink" in classes or not mat else self._color(mat))
        d = shapes.path_data(geom.intersection(area))
        if not d:
            return ""
        extra = "".join(f' {k}="{el.get(k)}"' for k in ("opacity",) if el.get(k))
        return f'<path d="{d}" fill="{color}" fill-rule="evenodd"{extra}/>'

    def _bases(self, els: list[ET.Element], where: Affine) -> str:
        """Outline all shapes first, then fill them: overlapping shapes read as one silhouette.
        Then the shade: the part of the silhouette that the silhouette shifted towards the key
        light does not cover, in each shape's shade colour."""
        lines = self.ch.lines
        outline, fills, shaded = [], [], []
        for el in els:
            classes = self._classes(el)
            mat = self._material(classes)
            if mat is None:
                raise ValueError(f"cast art: base shape <{el.tag} class='{el.get('class')}'> has no palette colour")
            w = lines.detail if "thin" in classes else lines.outline
            if "noline" not in classes:
                outline.append(self._bare(el, fill=self.ch.ink, stroke=self.ch.ink,
                                          **{"stroke-width": _n(2 * w), "stroke-linejoin": "round"}))
            fills.append(self._bare(el, fill=self._color(mat)))
            geom = shapes.geometry(el)
            self.silhouette.append(_to_body(geom, where))
            if "noshade" not in classes and f"{mat}_shade" in self.ch.palette:
                shaded.append((geom, mat))
        out = "".join(outline) + "".join(fills)
        if shaded:
            # the shift is a direction in body space: express it in this fragment's coordinates
            sx, sy = self.ch.light.shade_shift
            inv = _inverse_linear(where)
            lx, ly = inv[0] * sx + inv[2] * sy, inv[1] * sx + inv[3] * sy
            union = shapely.union_all([g for g, _ in shaded])
            shade = union.difference(affinity.translate(union, lx, ly))
            for geom, mat in shaded:
                d = shapes.path_data(geom.intersection(shade))
                if d:
                    out += f'<path d="{d}" fill="{self._color(mat + "_shade")}" fill-rule="evenodd"/>'
        return out

    def _bare(self, el: ET.Element, **attrs: str) -> str:
        """The shape's geometry only (plus attrs): for outlines and fills."""
        e = ET.Element(el.tag, {k: v for k, v in el.attrib.items()
                                if k in _GEOMETRY or k == "transform"})
        for k, v in attrs.items():
            e.set(k, v)
        return ET.tostring(e, encoding="unicode")


_GEOMETRY = {"d", "cx", "cy", "r", "rx", "ry", "x", "y", "width", "height", "points",
             "x1", "y1", "x2", "y2"}


def _to_body(geom, where: Affine):
    return affinity.affine_transform(geom, [where.a, where.c, where.b, where.d, where.e, where.f])


def _inverse_linear(m: Affine) -> tuple[float, float, float, float]:
    det = m.a * m.d - m.b * m.c
    if abs(det) < 1e-12:
        return 1.0, 0.0, 0.0, 1.0
    return m.d / det, -m.b / det, -m.c / det, m.a / det


def _n(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") or math.isclose(v, 0.0, abs_tol=5e-4) else s
