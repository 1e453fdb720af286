"""Checks of what marp wrote, for the failures marp itself keeps quiet about.

- Every local raster image a slide shows must be embedded in that slide's PDF page
  (a blocked or unloadable image just vanishes otherwise).
- The HTML deck must work offline: no fonts, scripts or images from the network.
"""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from .assets import RASTER
from .markdown import is_local_url

_SLIDE = "<svg data-marpit-svg"
_SRC = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", re.I)
_URL = re.compile(r"url\(\s*[\"']?([^\"')]*)[\"']?\s*\)", re.I)
# what a page fetches by itself: src=, <link href=>, CSS url() and @import (not <a href> links)
_REMOTE = re.compile(r"""(?:\bsrc\s*=\s*|<link\b[^>]*?\bhref\s*=\s*|url\(\s*|@import\s+)["']?"""
                     r"""((?:https?:)?//[^"')\s>]+)""", re.I)


def slide_images(html: str) -> list[set[str]]:
    """For each slide of a marp HTML deck, the local raster images it shows (URLs as written)."""
    body = html[html.find("<body"):]
    chunks = body.split(_SLIDE)[1:]
    out = []
    for chunk in chunks:
        for end in ('<div class="bespoke-marp-note"', "<script"):
            if end in chunk:
                chunk = chunk[:chunk.find(end)]
        chunk = htmllib.unescape(chunk)
        urls = set(_SRC.findall(chunk)) | set(_URL.findall(chunk))
        out.append({u for u in urls if is_local_url(u) and Path(u.split("?")[0]).suffix.lower() in RASTER})
    return out


def slide_count_html(html: str) -> int:
    return html[html.find("<body"):].count(_SLIDE)


def remote_resources(html: str) -> list[str]:
    """URLs the HTML deck would fetch from the network (fonts, scripts, styles, images)."""
    return sorted({m.group(1) for m in _REMOTE.finditer(html)})


def pdf_images_per_page(pdf: Path) -> list[int]:
    """How many distinct images each page of a PDF embeds (looking inside form XObjects too)."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    counts = []
    for page in reader.pages:
        seen: set = set()
        _collect_images(page.get("/Resources"), seen, set())
        counts.append(len(seen))
    return counts


def _collect_images(resources, seen: set, visited: set) -> None:
    if resources is None:
        return
    resources = resources.get_object()
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return
    for _, ref in xobjects.get_object().items():
        key = getattr(ref, "idnum", None) or id(ref)
        obj = ref.get_object()
        subtype = obj.get("/Subtype")
        if subtype == "/Image":
            seen.add(key)
        elif subtype == "/Form" and key not in visited:
            visited.add(key)
            _collect_images(obj.get("/Resources"), seen, visited)
