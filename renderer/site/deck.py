"""A copy of the HTML slide deck inside the site, with the local files it loads.

The deck in build/slides/ refers to comic panels and charts elsewhere in build/ by
relative URLs (../comic/panels/...). The site keeps that layout under site/deck/, so
those URLs still work and the site folder is complete on its own.
"""
from __future__ import annotations

import html
import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

_ATTR = re.compile(r"""\b(?:src|href|xlink:href|poster)\s*=\s*("[^"]*"|'[^']*')""", re.I)
_CSS_URL = re.compile(r"""url\(\s*("[^"]*"|'[^']*'|[^)'"]*)\s*\)""", re.I)
_LOADING = re.compile(r"""(?:\bsrc\s*=\s*["']|url\(\s*["']?|@import\s+["']|<link\b[^>]*\bhref\s*=\s*["'])https?://""", re.I)


def local_refs(text: str) -> set[str]:
    """Relative URLs a page refers to (links, images, CSS url()), decoded to paths."""
    refs = set()
    for m in list(_ATTR.finditer(text)) + list(_CSS_URL.finditer(text)):
        raw = html.unescape(m.group(1)).strip().strip("'\"").strip()
        parts = urlsplit(raw)
        if parts.scheme or parts.netloc or not parts.path or raw.startswith(("#", "/")):
            continue
        refs.add(unquote(parts.path))
    return refs


def remote_loads(text: str) -> int:
    """How many resources the page would fetch from the network."""
    return len(_LOADING.findall(text))


def copy_deck(deck_html: Path, build_root: Path, dest: Path) -> tuple[str, list[Path], list[str]]:
    """Copy deck_html and the files it refers to into dest, keeping their paths relative
    to build_root. Returns (the deck's path inside dest, files written, warnings)."""
    deck_html = Path(deck_html).resolve()
    root = Path(build_root).resolve()
    if root not in deck_html.parents:
        root = deck_html.parent
    text = deck_html.read_text(encoding="utf-8", errors="replace")
    entry = deck_html.relative_to(root).as_posix()
    written, warnings = [], []
    target = dest / entry
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(deck_html, target)
    written.append(target)
    for ref in sorted(local_refs(text)):
        src = Path(posixpath.normpath(str(deck_html.parent / ref))).resolve()
        if not src.is_file():
            continue   # an anchor-like link or a file marp inlined; nothing to copy
        if root not in src.parents:
            warnings.append(f"site: the deck refers to {ref}, outside {root}; the site's copy of the deck will not show it")
            continue
        out = dest / src.relative_to(root)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
        written.append(out)
    loads = remote_loads(text)
    if loads:
        warnings.append(f"site: the deck {deck_html.name} loads {loads} resource(s) from the network; offline they will be missing")
    return entry, written, warnings
