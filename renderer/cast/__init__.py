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

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

from live_demo.weights import user_cache_dir

from ..geometry import Rect
from . import assets

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


# A figure is kept in novapress' user cache (figures/), named by what it is and by a hash of the
# cast's code and art: composing one (shapely shading, clip shapes) and rasterising it is most of
# a panel's time, and an author's edit rarely changes the cast.

@lru_cache(maxsize=1)
def _art_version() -> str:
    here = Path(__file__).resolve().parent
    files = sorted(p for p in here.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".j2", ".svg"))
    files += [here.parent / "geometry.py", here.parent / "raster.py"]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _stored_path(art: str, pose: str, expression: str, facing: str, height_px: int) -> Path | None:
    if os.environ.get("NOVAPRESS_RASTER_CACHE", "1") == "0":
        return None
    return user_cache_dir() / "figures" / _art_version() / f"{art}-{pose}-{expression}-{facing}-{height_px}"


def _load_stored(path: Path) -> Figure | None:
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        image = Image.open(io.BytesIO(path.with_suffix(".png").read_bytes()))
        image.load()
    except (OSError, ValueError):
        return None
    return Figure(image=image.convert("RGBA"), face=Rect(*meta["face"]), head=Rect(*meta["head"]),
                  mouth=tuple(meta["mouth"]), anchors={k: tuple(v) for k, v in meta["anchors"].items()},
                  hover=meta["hover"])


def _store(path: Path, fig: Figure) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        fig.image.save(buf, "PNG", compress_level=1)
        meta = {"face": [fig.face.x, fig.face.y, fig.face.w, fig.face.h],
                "head": [fig.head.x, fig.head.y, fig.head.w, fig.head.h], "mouth": list(fig.mouth),
                "anchors": {k: list(v) for k, v in fig.anchors.items()}, "hover": fig.hover}
        for suffix, data in ((".png", buf.getvalue()), (".json", json.dumps(meta).encode())):
            tmp = path.with_name(f".{path.name}{suffix}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path.with_suffix(suffix))
    except OSError:
        pass          # a read-only cache only costs the next draw its time


def _character(art: str) -> assets.Character:
    if art not in CHARACTERS:
        raise ValueError(f"unknown character art '{art}'; valid: {', '.join(CHARACTERS)}")
    return assets.character(art)


@lru_cache(maxsize=None)
def _drawing(art: str, pose: str, expression: str):
    """The composed SVG: the same for every size and facing."""
    # composing imports shapely: only when a figure is not stored yet
    from .compose import compose
    return compose(art, pose, expression)


@lru_cache(maxsize=256)
def _render(art: str, pose: str, expression: str, facing: str, height_px: int) -> Figure:
    path = _stored_path(art, pose, expression, facing, height_px)
    stored = _load_stored(path) if path is not None else None
    if stored is not None:
        return stored
    fig = _draw(art, pose, expression, facing, height_px)
    if path is not None:
        _store(path, fig)
    return fig


def _draw(art: str, pose: str, expression: str, facing: str, height_px: int) -> Figure:
    # rasterising comes with composing: only for a figure not stored yet
    from .finish import raster

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
