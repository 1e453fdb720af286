"""Alt text for comic images, read from the page transcripts the comic stage writes.

A transcript (build/comic/pages/page-NN.md) has one "## Panel N (shot)" section per
panel in reading order, holding the panel's description and its lettering. A panel
is matched by its id when the heading names it (e.g. "## Panel 2 (close-up) p2"),
else by the number in an id such as "p2".
"""
from __future__ import annotations

import re
from pathlib import Path

from live_demo.formatting import elide

_HEADING = re.compile(r"^##\s+Panel\s+(\d+)\b(.*)$")
_MARKUP = re.compile(r"\*\*|\*|`|__")
MAX_ALT = 600          # screen readers read every character; keep alt text to a paragraph


def plain(markdown: str) -> str:
    """Markdown-ish transcript text as one plain line: no emphasis marks, single spaces."""
    text = _MARKUP.sub("", markdown)
    return re.sub(r"\s+", " ", text).strip()


def page_title(transcript: str) -> str | None:
    for line in transcript.splitlines():
        if line.startswith("# "):
            return plain(line[2:])
    return None


def panel_sections(transcript: str) -> list[tuple[int, str, str]]:
    """(panel number, rest of the heading, body text) for each panel section."""
    sections: list[tuple[int, str, list[str]]] = []
    for line in transcript.splitlines():
        m = _HEADING.match(line)
        if m:
            sections.append((int(m.group(1)), m.group(2), []))
        elif line.startswith("#"):
            sections.append((-1, "", []))   # another heading ends the panel's section
        elif sections:
            sections[-1][2].append(line)
    return [(n, head, "\n".join(body)) for n, head, body in sections if n >= 0]


def _sentences(body: str) -> str:
    """Each transcript paragraph as one sentence-ended piece of a single line."""
    parts = []
    for para in re.split(r"\n\s*\n", body):
        line = plain(para)
        if line:
            parts.append(line if line[-1] in ".!?:\u2026\"\u201d)" else line + ".")
    return " ".join(parts)


def panel_alt(transcript: str, panel: str) -> str | None:
    """The transcript's text for one panel (its id inside the page, e.g. "p2"), or None."""
    sections = panel_sections(transcript)
    for n, head, body in sections:
        if re.search(rf"(?<![\w-]){re.escape(panel)}(?![\w-])", head):
            return elide(_sentences(body), MAX_ALT) or None
    m = re.fullmatch(r"p(?:anel)?-?(\d+)", panel)
    if m:
        for n, head, body in sections:
            if n == int(m.group(1)):
                return elide(_sentences(body), MAX_ALT) or None
    return None


def page_alt(transcript: str) -> str | None:
    """A short alt text for a whole page: its title and what its panels show (each panel's first paragraph)."""
    title = page_title(transcript)
    firsts = []
    for _n, _head, body in panel_sections(transcript):
        paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
        if paragraphs:
            firsts.append(_sentences(paragraphs[0]))
    joined = " ".join(firsts)
    if title and joined:
        return elide(f"Comic {title[0].lower()}{title[1:]}. {joined}", MAX_ALT)
    return title


def read_transcript(png: Path) -> str | None:
    """The transcript written next to a page PNG (page-05.png -> page-05.md), if any."""
    md = Path(png).with_suffix(".md")
    try:
        return md.read_text(encoding="utf-8")
    except OSError:
        return None


def split_panel_id(panel_id: str) -> tuple[str, str] | None:
    """"page-05-p1" -> ("page-05", "p1")."""
    m = re.fullmatch(r"(page-\d+)-(.+)", panel_id)
    return (m.group(1), m.group(2)) if m else None
