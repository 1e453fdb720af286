"""The canvas a prop draws on: art layer, glow layer, text items, keepouts, anchors.

Every prop starts with `Canvas(name, params, ctx)` and ends with `canvas.art()`.
Sizes are in `u` (1/1000 of the page width) so strokes look the same at any
page size; colours come from the theme.
"""
from __future__ import annotations

import random

from ..errors import suggest
from ..geometry import Rect
from .base import PropArt, PropContext, PropError, PropParams, TextItem
from .measure import LINE_HEIGHT
from .svg import Svg, stable_id


class Canvas:
    def __init__(self, name: str, params: PropParams, ctx: PropContext):
        self.ctx = ctx
        self.params = params
        self.box = ctx.box
        self.theme = ctx.theme
        self.u = ctx.unit
        key = stable_id(name, ctx.box, params.model_dump_json(), ctx.seed)
        self.svg = Svg(f"{name}-{key}")
        self.glow = Svg(f"{name}-{key}-glow")
        self.texts: list[TextItem] = []
        self.keepout: list[Rect] = []
        self.anchors: dict[str, tuple[float, float]] = {}
        self.model: str | None = None
        # deterministic decoration: the same prop, box and seed always sparkle the same way
        self.rng = random.Random(int(key, 16) ^ ctx.seed)

    def accent(self, default: str) -> str:
        """The prop's `color:` parameter (a palette name or #hex) if given, else `default`."""
        return self.colour(getattr(self.params, "color", None)) if getattr(self.params, "color", None) else default

    def colour(self, name_or_hex: str) -> str:
        """A palette name or a #hex colour; an unknown name is the author's error, with a suggestion."""
        try:
            return self.theme.color(name_or_hex)
        except KeyError:
            raise PropError(f"unknown colour '{name_or_hex}'{suggest(name_or_hex, self.theme.palette)}"
                            " (or give a #rrggbb colour)") from None

    # ---- text ------------------------------------------------------------------------------

    @property
    def min_text(self) -> float:
        """Smallest legible text in px (the compositor's; a sane default when unset)."""
        return self.ctx.min_text or 12 * self.u

    def text(self, text: str, box: Rect, *, role: str = "label", color: str | None = None,
             size: float = 0.0, min_size: float | None = None, align: str = "center",
             valign: str = "middle", glow: str | None = None, wrap: bool = False,
             weight: int | None = None, name: str = "") -> TextItem:
        """Queue text for the lettering. Its box is kept inside the prop's box."""
        inside = box.intersect(self.box) or Rect(self.box.x, self.box.y, 0, 0)
        item = TextItem(text=text, box=inside, role=role, color=color or self.theme.palette["text"],
                        size=size, min_size=self.min_text if min_size is None else min_size,
                        align=align, valign=valign, glow=glow, wrap=wrap, weight=weight, name=name)
        self.texts.append(item)
        return item

    @staticmethod
    def line_box(cx: float, cy: float, width: float, size: float) -> Rect:
        """The box of one line of text of `size` px, centred on (cx, cy)."""
        h = size * LINE_HEIGHT
        return Rect(cx - width / 2, cy - h / 2, width, h)

    # ---- layout helpers --------------------------------------------------------------------

    def keep_clear(self, rect: Rect) -> None:
        """Balloons must not cover this area (clipped to the prop's box)."""
        inside = rect.intersect(self.box)
        if inside is not None:
            self.keepout.append(inside)

    def anchor(self, name: str, x: float, y: float) -> None:
        self.anchors[name] = (round(x, 1), round(y, 1))

    def trace(self) -> dict:
        """The demo's trace, which this prop needs; the panel's model tag will name its model."""
        if self.ctx.demo is None:
            raise PropError("it shows live data: give the prop `demo: <name>` (a demo from novapress.yaml)")
        self.model = self.ctx.demo["model"]["display"]
        return self.ctx.demo

    def art(self) -> PropArt:
        return PropArt(svg=self.svg.render(), glow=self.glow.render(), texts=self.texts,
                       keepout=self.keepout, anchors=self.anchors, model=self.model)
