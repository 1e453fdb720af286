"""SVG to pixels with resvg, using only the fonts novapress ships.

resvg's own filters (blur) are slow at page size, so glow is not done in SVG:
callers rasterise a glow layer small, blur it with Pillow and scale it up
(see renderer.draw).
"""
from __future__ import annotations

import io
from functools import lru_cache

import resvg_py
from PIL import Image

from .errors import BuildError
from .fonts import font_dirs


@lru_cache(maxsize=1)
def _font_dirs() -> list[str]:
    return font_dirs()


def rasterize(svg: str, *, zoom: float | None = None) -> Image.Image:
    """Render an SVG document to an RGBA image (its own width/height, times zoom)."""
    try:
        png = resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_dirs=_font_dirs(),
                                    zoom=zoom, shape_rendering="geometric_precision")
    except ValueError as err:
        raise BuildError(f"could not rasterise SVG art: {err}") from None
    img = Image.open(io.BytesIO(bytes(png)))
    img.load()
    return img.convert("RGBA")


def svg_document(width: float, height: float, body: str, *, defs: str = "") -> str:
    """Wrap SVG elements into a document of the given pixel size."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'
            f"<defs>{defs}</defs>{body}</svg>")


def rasterize_region(body: str, region: tuple[int, int, int, int], *, defs: str = "",
                     zoom: float = 1.0) -> Image.Image:
    """Rasterise only `region` (x0, y0, x1, y1, in the body's coordinates) of some SVG elements.

    resvg's cost (and its PNG round trip) grows with the pixels rendered, so art that covers
    a corner of a panel is rendered in that corner only.
    """
    x0, y0, x1, y1 = region
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    doc = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'width="{w * zoom:.0f}" height="{h * zoom:.0f}" viewBox="{x0} {y0} {w} {h}">'
           f"<defs>{defs}</defs>{body}</svg>")
    return rasterize(doc)
