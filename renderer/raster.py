"""SVG to pixels with resvg, using only the fonts novapress ships.

resvg's own filters (blur) are slow at page size, so glow is not done in SVG:
callers rasterise a glow layer small, blur it with Pillow and scale it up
(see renderer.draw).

resvg's PNG of each SVG document is kept in novapress' user cache (raster/, named by the
sha256 of the document, the zoom, resvg's version and the fonts), so redrawing a page after
a one-word edit costs only the art that changed: most of a page's time is resvg. The PNG is
resvg's own bytes, so a cached picture is the same pixels as a fresh one.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
from functools import lru_cache
from pathlib import Path

import resvg_py
from PIL import Image

from live_demo.weights import user_cache_dir

from .errors import BuildError
from .fonts import font_dirs

CACHE_FILES = 4000          # pictures kept; the oldest go when there are more (about 100-300 MB)


@lru_cache(maxsize=1)
def _font_dirs() -> list[str]:
    return font_dirs()


@lru_cache(maxsize=1)
def _cache_dir() -> Path | None:
    if os.environ.get("NOVAPRESS_RASTER_CACHE", "1") == "0":
        return None
    try:
        version = importlib.metadata.version("resvg-py")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    fonts = hashlib.sha256("\n".join(_font_dirs()).encode()).hexdigest()[:8]
    return user_cache_dir() / "raster" / f"resvg-{version}-{fonts}"


def _cached_png(svg: str, zoom: float | None) -> bytes:
    folder = _cache_dir()
    path = None
    if folder is not None:
        key = hashlib.sha256(f"{zoom!r}\n{svg}".encode()).hexdigest()
        path = folder / key[:2] / f"{key}.png"
        try:
            return path.read_bytes()
        except OSError:
            pass
    try:
        png = bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, font_dirs=_font_dirs(),
                                          zoom=zoom, shape_rendering="geometric_precision"))
    except ValueError as err:
        raise BuildError(f"could not rasterise SVG art: {err}") from None
    if path is not None:
        _keep(path, png)
    return png


def _keep(path: Path, png: bytes) -> None:
    """Store a picture (atomically: workers draw side by side); a full or read-only cache only
    costs the next draw its resvg time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(png)
        os.replace(tmp, path)
        if path.name.startswith("00"):     # now and then (1 store in 256), trim the oldest
            trim_cache(path.parent.parent)
    except OSError:
        pass


def trim_cache(folder: Path, keep: int = CACHE_FILES) -> None:
    files = sorted(folder.glob("*/*.png"), key=lambda f: f.stat().st_mtime)
    for f in files[:max(0, len(files) - keep)]:
        f.unlink(missing_ok=True)


def rasterize(svg: str, *, zoom: float | None = None) -> Image.Image:
    """Render an SVG document to an RGBA image (its own width/height, times zoom)."""
    img = Image.open(io.BytesIO(_cached_png(svg, zoom)))
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
