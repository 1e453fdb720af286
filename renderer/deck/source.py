"""A deck source: Marp Markdown that may opt in to Jinja templating.

A deck opts in with a `novapress:` key in its front matter:

    ---
    marp: true
    theme: novapress
    novapress:
      template: true          # render the deck with Jinja (default when the key is there)
      demos: [question, running]   # the live demos it shows (checked before rendering)
    ---

The key is removed before marp sees the deck. A deck without it is passed to marp
byte for byte, so any existing Marp deck builds exactly as bare marp-cli builds it,
`{{ }}` in its code blocks included. Inside an opted-in deck, text that must reach
the slides literally (a code block showing Jinja or Vue syntax) goes in
`{% raw %} ... {% endraw %}`.

Templates run sandboxed with undefined names as errors (renderer.templating);
errors name the deck file, the slide and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from live_demo import formatting
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, Problem, rel, suggest
from ..templating import TemplateProblem, make_env, render
from ..yamlsrc import load_yaml_text, validation_problems
from .markdown import front_matter_end, slide_of, slide_starts

OPT_IN_KEY = "novapress"

# trim_blocks/lstrip_blocks: a `{% for %}` line leaves no blank line behind, which
# would end a Markdown table or list in the middle.
_DECK_ENV = make_env(trim_blocks=True, lstrip_blocks=True)

# Characters that mean something to Markdown, Marp's math, or a table cell, written as
# entities so model output (which may hold any of them) shows as typed.
_INLINE_ESCAPES = {c: f"&#{ord(c)};" for c in "|*_`[]\\~$#<>&"}


def inline_text(value: Any) -> str:
    """Text safe anywhere in a Markdown line or table cell, shown exactly as it is."""
    return "".join(_INLINE_ESCAPES.get(c, c) for c in str(value))


def token_text(value: Any) -> str:
    """A token's display text for a slide: inline-safe; the newline mark as ⏎, which the
    theme's fonts have (the trace's ↵ is in none of them); the space mark ␣ in a span
    the theme colours, as it is small."""
    text = inline_text(str(value).replace("\u21b5", "\u23ce"))
    return text.replace("\u2423", '<span class="sp">\u2423</span>')


_DECK_ENV.filters["inline"] = inline_text
_DECK_ENV.filters["tok"] = token_text
_DECK_ENV.filters["code"] = lambda v: f"<code>{token_text(v)}</code>"
_DECK_ENV.filters["num"] = formatting.count  # 49152 -> 49,152


class DeckOptions(BaseModel):
    """The `novapress:` front-matter key of a deck."""

    model_config = ConfigDict(extra="forbid")

    template: bool = Field(True, description="Render the deck with Jinja before marp.")
    demos: list[str] = Field(default_factory=list, description="Live demos the deck uses (names in novapress.yaml).")
    min_text_px: float = Field(18, gt=0, description="Smallest text on a slide, in px at 1280x720 "
                                                     "(legibility check; smaller text warns).")


class _FrontMatter(BaseModel):
    model_config = ConfigDict(extra="allow")  # marp's own directives live here too
    novapress: DeckOptions


@dataclass(frozen=True)
class Deck:
    path: Path
    raw: bytes                 # the file as it is on disk
    text: str                  # what marp (or Jinja) reads: `raw` minus the novapress key
    options: DeckOptions | None  # None: the deck did not opt in (plain Marp)
    removed: tuple[int, int] | None  # (first line, number of lines) of the novapress key

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def templated(self) -> bool:
        return self.options is not None and self.options.template

    def source_line(self, line: int) -> int:
        """Line in the file on disk of `line` of `text`."""
        if self.removed and line >= self.removed[0]:
            return line + self.removed[1]
        return line

    def problem(self, line: int | None, message: str, *, slide: int | None = None) -> Problem:
        """A problem at `line` of `text`, reported as file:line with the slide number."""
        if line is not None and slide is None:
            slide = slide_of(line, slide_starts(self.text))
        where = f"slide {slide}: " if slide else ""
        return Problem(rel(self.path), self.source_line(line) if line else None, None, where + message)


def read_deck(path: str | Path) -> Deck:
    """Read a deck and its opt-in options (without rendering anything)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(rel(path), None, None, "deck not found")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(Problem(rel(path), None, None, f"not UTF-8 text ({err.reason})")) from None
    lines = text.splitlines(keepends=True)
    front = front_matter_end([ln.rstrip("\r\n") for ln in lines])
    if not front or not any(ln.startswith(f"{OPT_IN_KEY}:") for ln in lines[1:front - 1]):
        return Deck(path, raw, text, None, None)

    # Only the novapress block is read here: the rest of the front matter may itself be a
    # template (footer: {{ book|tojson }}) that is YAML only after rendering.
    first, count = _key_block(lines, 1, front - 1)
    data, src = load_yaml_text("".join(lines[first:first + count]), rel(path))
    src.marks = {k: (ln + first, col) for k, (ln, col) in src.marks.items()}
    src.key_marks = {k: (ln + first, col) for k, (ln, col) in src.key_marks.items()}
    if not isinstance(data, dict) or not isinstance(data.get(OPT_IN_KEY) or {}, dict):
        line, col = src.locate((OPT_IN_KEY,))
        raise InputError(Problem(rel(path), line, col, f"'{OPT_IN_KEY}:' must be a mapping, "
                                 "for example: novapress: {template: true, demos: [question]}"))
    try:
        options = _FrontMatter.model_validate({OPT_IN_KEY: data.get(OPT_IN_KEY) or {}}).novapress
    except ValidationError as err:
        raise InputError(validation_problems(err, src, _FrontMatter)) from None

    kept = lines[:first] + lines[first + count:]
    return Deck(path, raw, "".join(kept), options, (first + 1, count))


def _key_block(lines: list[str], start: int, stop: int) -> tuple[int, int]:
    """(index, line count) of the `novapress:` key and its indented value among lines[start:stop]."""
    first = next(i for i in range(start, stop) if lines[i].startswith(f"{OPT_IN_KEY}:"))
    end = first + 1
    while end < stop and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "#")):
        end += 1
    while end - 1 > first and not lines[end - 1].strip():  # blank lines after it stay
        end -= 1
    return first, end - first


def render_deck(deck: Deck, context: dict[str, Any], *, target: str = "html") -> str:
    """The Markdown marp should read: the deck rendered with `context` if it opted in.

    `target` is what the Markdown becomes: "html" (the HTML deck, which may animate) or "print"
    (PDF, PNG, PPTX: still pictures); the template sees it as `target`.
    """
    if not deck.templated:
        return deck.text
    context = {**context, "target": target}
    missing = [d for d in deck.options.demos if d not in context.get("demos", {})]
    if missing:
        known = sorted(context.get("demos", {}))
        raise InputError([deck.problem(None, f"the deck needs demo '{d}', which novapress.yaml does not define"
                                       f"{suggest(d, known)}; add it under 'demos:'") for d in missing])
    try:
        return reflow_notes(render(deck.text, context, _DECK_ENV))
    except TemplateProblem as err:
        message = _explain(err.message, context)
        raise InputError(deck.problem(err.line, message)) from None


_NOTE = re.compile(r"<!--(?P<body>(?:(?!-->).)*?)-->", re.S)
_KEEP_LINE = re.compile(r"^\s*(?:[-*+]\s|\d{1,3}[.)]\s|#|>|```|\|)")


def reflow_notes(markdown: str) -> str:
    """Speaker notes as paragraphs: a note's lines are joined into one line per paragraph
    (a blank line, a list item or a heading starts a new one), so the presenter view and the
    PPTX do not break lines where the source file happened to wrap. Directive comments
    (`_class: title`) and code are left alone."""
    def one(m: re.Match) -> str:
        body = m.group("body")
        if "\n" not in body.strip() or _is_directive(body):
            return m.group(0)
        paragraphs, current = [], []
        for line in body.strip("\n").split("\n"):
            if not line.strip():
                if current:
                    paragraphs.append(" ".join(current))
                    current = []
                paragraphs.append("")
            elif _KEEP_LINE.match(line) and current:
                paragraphs.append(" ".join(current))
                current = [line.strip()]
            else:
                current.append(line.strip())
        if current:
            paragraphs.append(" ".join(current))
        text = "\n".join(paragraphs)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        return f"<!--\n{text}\n-->"

    out, pos = [], 0
    for start, end in _code_spans(markdown):       # never inside a fenced code block
        out.append(_NOTE.sub(one, markdown[pos:start]))
        out.append(markdown[start:end])
        pos = end
    out.append(_NOTE.sub(one, markdown[pos:]))
    return "".join(out)


def _is_directive(body: str) -> bool:
    import yaml
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and all(isinstance(k, str) and " " not in k for k in data)


def _code_spans(markdown: str) -> list[tuple[int, int]]:
    spans, start, fence, offset = [], None, None, 0
    for line in markdown.splitlines(keepends=True):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and m:
            fence, start = m.group(1), offset
        elif fence is not None and line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
            spans.append((start, offset + len(line)))
            fence = None
        offset += len(line)
    if fence is not None:
        spans.append((start, len(markdown)))
    return spans


def _explain(message: str, context: dict[str, Any]) -> str:
    """Make "'dict object' has no attribute 'x'" say which panel, chart or demo is missing."""
    marker = "has no attribute '"
    if marker not in message:
        return message
    name = message.split(marker, 1)[1].split("'", 1)[0]
    for group in ("panels", "charts", "demos"):
        names = context.get(group)
        if isinstance(names, dict):
            hint = suggest(name, names)
            if hint.startswith("; did you mean"):
                return f"no {group[:-1]} named '{name}'{hint}"
    if name.startswith("page-"):
        built = ", ".join(sorted(context.get("panels") or {})) or "none"
        return (f"no comic panel '{name}' (panels built: {built}); build the comic first "
                "or fix the panel id (page-NN-<panel id>)")
    return message
