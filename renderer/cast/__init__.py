"""The comic's cast as vector art: Dr. Nova, Kai and Tensor, in any pose, expression, facing, size.

    from renderer.cast import render_figure
    fig = render_figure("nova", "presenting", "happy", "right", 600)
    fig.image        # PIL RGBA, tight to the figure, fig.image.height == 600
    fig.face         # Rect: keep balloons off it
    fig.mouth        # (x, y): where a balloon tail points
    fig.anchors["hand"], fig.anchors["eyes"], fig.anchors["base"]

The art lives in renderer/cast/art/<id>/ (character.yaml + parts.svg.j2); see assets.py and
paint.py for the format. The base drawings face right; facing="left" mirrors the picture.
`height_px` is the height of the character's frame (head to floor; for Tensor antenna to the
bottom of the thruster glow), the same for every pose, so a character keeps its size between
panels. Use relative_height(art) to size the cast against each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageOps

from ..geometry import Rect
from . import assets
from .compose import Drawing, compose
from .finish import raster

CHARACTERS: tuple[str, ...] = ("nova", "kai", "tensor")
FACINGS: tuple[str, ...] = ("right", "left")

Point = tuple[float, float]


@dataclass(frozen=True)
class Figure:
    image: Image.Image
    face: Rect
    head: Rect
    mouth: Point
    anchors: dict[str, Point] = field(default_factory=dict)
    hover: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def poses(art: str) -> list[str]:
    return list(_character(art).poses)


def expressions(art: str) -> list[str]:
    return list(_character(art).expressions)


def relative_height(art: str) -> float:
    """Standing height relative to Dr. Nova (1.0): draw Kai at 0.9 x Nova's height_px, etc."""
    return _character(art).relative_height


def render_figure(art: str, pose: str, expression: str, facing: str = "right",
                  height_px: int = 600) -> Figure:
    """One character as a tight RGBA image plus the boxes and points a page layout needs."""
    ch = _character(art)
    if pose not in ch.poses:
        raise ValueError(f"unknown pose '{pose}' for {art}; valid: {', '.join(ch.poses)}")
    if expression not in ch.expressions:
        raise ValueError(f"unknown expression '{expression}' for {art}; valid: {', '.join(ch.expressions)}")
    if facing not in FACINGS:
        raise ValueError(f"unknown facing '{facing}'; valid: {', '.join(FACINGS)}")
    if not isinstance(height_px, int) or isinstance(height_px, bool) or not 8 <= height_px <= 8000:
        raise ValueError(f"height_px must be an int from 8 to 8000, got {height_px!r}")
    fig = _render(art, pose, expression, facing, height_px)
    return Figure(image=fig.image.copy(), face=fig.face, head=fig.head, mouth=fig.mouth,
                  anchors=dict(fig.anchors), hover=fig.hover)


def _character(art: str) -> assets.Character:
    if art not in CHARACTERS:
        raise ValueError(f"unknown character art '{art}'; valid: {', '.join(CHARACTERS)}")
    return assets.character(art)


@lru_cache(maxsize=None)
def _drawing(art: str, pose: str, expression: str) -> Drawing:
    """The composed SVG: the same for every size and facing."""
    return compose(art, pose, expression)


@lru_cache(maxsize=256)
def _render(art: str, pose: str, expression: str, facing: str, height_px: int) -> Figure:
    ch = assets.character(art)
    drawing = _drawing(art, pose, expression)
    image, scale, left = raster(ch, drawing, height_px, drawing.span)
    top = ch.frame[1]
    width = image.width
    mirror = facing == "left"

    def px(p: Point) -> Point:
        x, y = (p[0] - left) * scale, (p[1] - top) * scale
        return (width - x if mirror else x, y)

    def rect(b: tuple[float, float, float, float]) -> Rect:
        (x0, y0), (x1, y1) = px((b[0], b[1])), px((b[0] + b[2], b[1] + b[3]))
        return Rect(min(x0, x1), y0, abs(x1 - x0), y1 - y0)

    if mirror:
        image = ImageOps.mirror(image)
    anchors = {k: px(v) for k, v in drawing.anchors.items()}
    return Figure(image=image, face=rect(drawing.face), head=rect(drawing.head),
                  mouth=anchors["mouth"], anchors=anchors, hover=ch.hover)
