"""Descriptions of comic images, read from the page transcripts the comic stage writes.

A transcript (build/comic/pages/page-NN.md) has one "## Panel N (shot)" section per
panel in reading order, holding the panel's description and its lettering. A panel
is matched by its id when the heading names it (e.g. "## Panel 2 (close-up) p2"),
else by the number in an id such as "p2".
"""
from __future__ import annotations

import re
from pathlib import Path

_HEADING = re.compile(r"^##\s+Panel\s+(\d+)\b(.*)$")
_MARKUP = re.compile(r"\*\*|\*|`|__")


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


def sentences(body: str) -> str:
    """Each transcript paragraph as one sentence-ended piece of a single line."""
    parts = []
    for para in re.split(r"\n\s*\n", body):
        line = plain(para)
        if line:
            parts.append(line if line[-1] in ".!?:\u2026\"\u201d)" else line + ".")
    return " ".join(parts)


def panel_body(transcript: str, panel: str) -> str | None:
    """The transcript's section for one panel (its id inside the page, e.g. "p2"), or None.
    A heading that names the id wins; else the number in an id such as "p2"."""
    sections = panel_sections(transcript)
    for _n, head, body in sections:
        if re.search(rf"(?<![\w-]){re.escape(panel)}(?![\w-])", head):
            return body
    m = re.fullmatch(r"p(?:anel)?-?(\d+)", panel)
    if m:
        for n, _head, body in sections:
            if n == int(m.group(1)):
                return body
    return None


def panel_description(transcript: str, panel: str) -> str | None:
    """Everything the transcript says about one panel, as one line of sentences, or None."""
    body = panel_body(transcript, panel)
    return (sentences(body) or None) if body is not None else None


def page_alt(transcript: str) -> str | None:
    """A short alt text for a whole page: which page it is. What its panels show is the
    transcript's job (shown beside the page)."""
    title = page_title(transcript)
    return f"Comic {title[0].lower()}{title[1:]}." if title else None


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
