"""Just enough of Marp's Markdown to locate things: slides, image references, the theme.

marp-cli never says which slide or line a problem is on, so novapress finds the
places itself. This is a line scanner, not a full CommonMark parser; it follows
the rules that decide where Marp splits slides and what it loads:
- front matter is a YAML block between `---` lines at the very top;
- a slide ends at a thematic break (`---`, `***`, `___`) that is not inside a
  code fence, an HTML comment, and (for `---`) not the underline of a
  setext heading (a `---` right under a paragraph line);
- images are `![alt](url)`, `<img src="url">` and CSS `url(...)` (in `<style>`,
  in `backgroundImage` directives), never inside code.
`headingDivider` (slides split at headings) is not followed: slide numbers in
messages then count `---` breaks only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import yaml

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_MD_IMAGE = re.compile(
    r"!\[(?:[^\[\]\\]|\\.|\[[^\]]*\])*\]\(\s*(?:<(?P<angled>[^>\n]*)>|(?P<plain>[^\s()]+(?:\([^\s()]*\)[^\s()]*)*))"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_IMG_TAG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))", re.I)
_CSS_URL = re.compile(r"url\(\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^)\s]*))\s*\)", re.I)
_BG_DIRECTIVE = re.compile(r"^\s*_?backgroundImage\s*:", re.M)
_THEME_DIRECTIVE = re.compile(r"^\s*theme\s*:\s*(?P<name>.*?)\s*$", re.M)


@dataclass(frozen=True)
class Ref:
    """A resource the deck loads: `url` as written, at `start:end` of the text."""

    url: str
    line: int    # 1-based line in the text
    start: int   # offsets of the url itself in the whole text (for rewriting)
    end: int
    slide: int   # 1-based slide number

    @property
    def is_local(self) -> bool:
        return is_local_url(self.url)

    @property
    def path(self) -> str:
        """The file path the URL names (percent-decoding applied, query/fragment dropped)."""
        return unquote(urlsplit(self.url).path) if "://" not in self.url else self.url


@dataclass(frozen=True)
class ThemeDirective:
    """A deck's `theme:` directive: the theme it names, and its line."""

    name: str
    line: int


def is_local_url(url: str) -> bool:
    u = url.strip()
    if not u or u.startswith(("#", "data:", "//")):
        return False
    scheme = urlsplit(u).scheme
    return scheme in ("", "file") or (len(scheme) == 1)  # 'c:' is a Windows drive


@dataclass
class _Line:
    number: int       # 1-based
    offset: int       # offset of the line start in the text
    text: str
    kind: str         # "front" | "fence" | "comment" | "text"


def front_matter_end(lines: list[str]) -> int:
    """Number of lines the front matter takes (0 when the deck has none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _classify(text: str) -> list[_Line]:
    raw = text.splitlines(keepends=True)
    bare = [r.rstrip("\r\n") for r in raw]
    front = front_matter_end(bare)
    out: list[_Line] = []
    offset = 0
    fence: str | None = None
    in_comment = False
    for i, line in enumerate(bare):
        if i < front:
            kind = "front"
        elif fence is not None:
            kind = "fence"
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
        elif in_comment:
            kind = "comment"
            if "-->" in line:
                in_comment = False
        else:
            m = _FENCE.match(line)
            if m:
                fence, kind = m.group(1), "fence"
            elif line.lstrip().startswith("<!--"):
                kind = "comment"
                in_comment = "-->" not in line.split("<!--", 1)[1]
            else:
                kind = "text"
        out.append(_Line(i + 1, offset, line, kind))
        offset += len(raw[i])
    return out


def slide_starts(text: str) -> list[int]:
    """1-based line where each slide starts (slide 1 starts after the front matter)."""
    lines = _classify(text)
    first = next((ln.number for ln in lines if ln.kind != "front"), len(lines) + 1)
    starts = [first]
    previous = ""
    for ln in lines:
        if ln.kind == "text" and _BREAK.match(ln.text):
            setext = ln.text.strip().startswith("-") and _is_paragraph_line(previous)
            if not setext:
                starts.append(ln.number + 1)
        if ln.kind != "front":
            previous = ln.text if ln.kind == "text" else ""
    return starts


_NOT_PARAGRAPH = re.compile(r"^(?:\s|#|>|\||[-*+]\s|\d{1,9}[.)]\s|<)")


def _is_paragraph_line(line: str) -> bool:
    """Could `line` be the text of a top-level paragraph (so a `---` under it makes a heading)?

    Lines of lists, quotes, tables, headings and HTML are not: a `---` after them
    is a slide break.
    """
    return line.strip() != "" and not _NOT_PARAGRAPH.match(line) and not _BREAK.match(line)


def slide_of(line: int, starts: list[int]) -> int:
    """Slide number (1-based) holding `line`."""
    n = 1
    for i, start in enumerate(starts):
        if line >= start:
            n = i + 1
    return n


def slide_count(text: str) -> int:
    return len(slide_starts(text))


def find_refs(text: str) -> list[Ref]:
    """Every image/CSS resource reference outside code, in order."""
    lines = _classify(text)
    starts = slide_starts(text)
    refs: list[Ref] = []

    def add(url: str, line: _Line, col: int) -> None:
        start = line.offset + col
        refs.append(Ref(url, line.number, start, start + len(url), slide_of(line.number, starts)))

    for ln in lines:
        if ln.kind == "fence":
            continue
        if ln.kind == "front":
            if _BG_DIRECTIVE.match(ln.text):
                _css_urls(ln, add)
            continue
        if ln.kind == "comment":
            # directives inside comments: only backgroundImage loads anything
            if _BG_DIRECTIVE.match(ln.text.replace("<!--", "", 1)):
                _css_urls(ln, add)
            continue
        visible = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), ln.text)
        visible = re.sub(r"<!--.*?-->", lambda m: " " * len(m.group(0)), visible)
        for m in _MD_IMAGE.finditer(visible):
            group = "angled" if m.group("angled") is not None else "plain"
            add(m.group(group), ln, m.start(group))
        for m in _IMG_TAG.finditer(visible):
            group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
            add(m.group(group), ln, m.start(group))
        _css_urls(ln, add, visible)
    return refs


def _css_urls(ln: _Line, add, visible: str | None = None) -> None:
    for m in _CSS_URL.finditer(visible if visible is not None else ln.text):
        group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
        if m.group(group):
            add(m.group(group), ln, m.start(group))


def themes_named(text: str) -> list[ThemeDirective]:
    """Every `theme:` global directive (front matter or an HTML comment), with its line.

    Marp reads a comment as directives when its body is YAML with directive keys
    (loosely: a one-line `theme: x` also counts), so a speaker note that merely
    mentions the word theme in prose is not taken for one.
    """
    found: list[ThemeDirective] = []
    lines = _classify(text)
    for ln in lines:
        if ln.kind == "front":
            m = _THEME_DIRECTIVE.match(ln.text)
            if m and _clean(m.group("name")):
                found.append(ThemeDirective(_clean(m.group("name")), ln.number))
    for first, body in _comments(lines):
        name = None
        try:
            data = yaml.safe_load(body)
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("theme"), str):
            name = data["theme"].strip()
        elif "\n" not in body.strip():
            m = _THEME_DIRECTIVE.match(body)
            name = _clean(m.group("name")) if m else None
        if name:
            offset = next((i for i, b in enumerate(body.split("\n")) if _THEME_DIRECTIVE.match(b)), 0)
            found.append(ThemeDirective(name, first + offset))
    return sorted(found, key=lambda t: t.line)


def _clean(value: str) -> str:
    return value.split(" #", 1)[0].strip().strip("\"'")


def _comments(lines: list[_Line]):
    """(first line, body) of each HTML comment that starts a line outside code."""
    current: list[str] | None = None
    first = 0
    for ln in lines:
        if ln.kind != "comment":
            continue
        if current is None:
            first, current = ln.number, []
            body = ln.text.split("<!--", 1)[1]
        else:
            body = ln.text
        if "-->" in body:
            current.append(body.split("-->", 1)[0])
            yield first, "\n".join(current)
            current = None
        else:
            current.append(body)
