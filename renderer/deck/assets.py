"""The local files a deck loads: found, checked before marp runs, and placed next to the outputs.

marp-cli silently drops an image it cannot load, so every local reference is
checked here first (exists, is a readable image) and reported with its slide and
Markdown line. Then each reference gets two spellings:
- for the HTML deck in <out>/slides/, a URL relative to it: files under the deck's
  folder keep their path (and are copied there, so the Markdown is unchanged),
  files already under <out> (comic panels, charts) are referenced in place, and
  any other file is copied to <out>/slides/<deck>.files/;
- for PDF, PNG and PPTX, rendered from a scratch folder, an absolute path.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError

from ..errors import InputError, rel
from .markdown import Ref, find_refs
from .source import Deck

RASTER = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif"}


@dataclass(frozen=True)
class Asset:
    ref: Ref
    file: Path            # absolute
    html_url: str         # what the HTML deck in <out>/slides uses
    copy_to: str | None   # path under <out>/slides to copy the file to (None: already under <out>)

    @property
    def raster(self) -> bool:
        return self.file.suffix.lower() in RASTER


def url_of(path: Path | str) -> str:
    """A file path as a Markdown/CSS URL (spaces and the like percent-encoded)."""
    return quote(Path(path).as_posix(), safe="/:@!$&'*+,;=-._~")


def resolve_assets(markdown: str, deck: Deck, out_dir: Path) -> list[Asset]:
    """Every local resource of the rendered deck, checked. Raises InputError listing all problems."""
    deck_dir = deck.path.parent.resolve()
    out_dir = Path(out_dir).resolve()
    slides_dir = out_dir / "slides"
    assets: list[Asset] = []
    problems = []
    for ref in find_refs(markdown):
        if not ref.is_local:
            continue
        raw = ref.path[len("file://"):] if ref.path.startswith("file://") else ref.path
        file = Path(raw) if os.path.isabs(raw) else deck_dir / raw
        file = Path(os.path.normpath(file))
        why = _unusable(file)
        if why:
            problems.append(_problem(deck, markdown, ref, f"image '{ref.url}' {why} (looked for {rel(file)})"))
            continue
        if _inside(file, out_dir):
            html_url, copy_to = url_of(posixpath.relpath(file.as_posix(), slides_dir.as_posix())), None
        elif _inside(file, deck_dir) and not os.path.isabs(raw):
            inside = file.relative_to(deck_dir).as_posix()
            html_url, copy_to = (ref.url if posixpath.normpath(raw) == inside else url_of(inside)), inside
        else:
            digest = hashlib.sha256(file.as_posix().encode()).hexdigest()[:8]
            copy_to = f"{deck.name}.files/{digest}-{file.name}"
            html_url = url_of(copy_to)
        assets.append(Asset(ref, file, html_url, copy_to))
    if problems:
        raise InputError(problems)
    return assets


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _unusable(file: Path) -> str | None:
    if not file.exists():
        return "not found"
    if not file.is_file():
        return "is a folder, not an image file"
    if not os.access(file, os.R_OK):
        return "is not readable (check its permissions)"
    if file.suffix.lower() in RASTER:
        try:
            with Image.open(file) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as err:
            return f"is not a readable image ({err.__class__.__name__})"
    return None


def _problem(deck: Deck, markdown: str, ref: Ref, message: str):
    """Locate a reference in the deck file: exact for plain decks, by its text for templated ones."""
    if not deck.templated:
        return deck.problem(ref.line, message, slide=ref.slide)
    line = source_line_of(deck, ref.url)
    if line is None:
        return deck.problem(None, message + f" [line {ref.line} of the rendered deck]", slide=ref.slide)
    return deck.problem(line, message, slide=ref.slide)


def source_line_of(deck: Deck, needle: str) -> int | None:
    """The line of the deck's text holding `needle`, if exactly one does."""
    hits = [i + 1 for i, line in enumerate(deck.text.splitlines()) if needle in line]
    return hits[0] if len(hits) == 1 else None


def rewrite(markdown: str, replacements: dict[Ref, str]) -> str:
    """`markdown` with each reference's URL replaced (positions from find_refs)."""
    out = markdown
    for ref, url in sorted(replacements.items(), key=lambda kv: kv[0].start, reverse=True):
        out = out[:ref.start] + url + out[ref.end:]
    return out
