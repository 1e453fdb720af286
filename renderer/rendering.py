"""What drawing a page needs and gives back.

- RenderContext: what every panel is drawn with (theme, cast, traces, page size, seed).
- PanelRender, PageRender, Element: the images, and where every face, mouth, balloon, label
  and prop text landed (tests, transcripts and the site read these).
- Problems: errors (the page cannot be drawn as written) and warnings (it was drawn, but
  something had to give), each located at its line of the storyboard.

renderer.draw composes a page from these; renderer.prop_art and renderer.panel_lettering
fill them in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .errors import Problem
from .geometry import Rect
from .storyboard import CastMember, LoadedStoryboard
from .templating import TemplateProblem, render as render_template
from .theme import Theme


@dataclass
class RenderContext:
    theme: Theme
    cast: dict[str, CastMember]
    traces: dict[str, dict]          # demo name -> trace
    page_size: tuple[int, int]
    seed: int = 42
    book: dict[str, Any] = field(default_factory=dict)

    @property
    def unit(self) -> float:
        """1/1000 of the page width: stroke widths and sizes scale with the page."""
        return self.page_size[0] / 1000

    def px(self, fraction_of_page_width: float) -> float:
        return fraction_of_page_width * self.page_size[0]


@dataclass
class Element:
    """One lettered thing, where it landed (panel pixels). Tests and transcripts read these."""

    kind: str                    # speech, thought, narration, label, caption, tag
    text: str
    box: Rect                    # the balloon or box
    text_box: Rect               # the text block inside it
    who: str | None = None
    tail: tuple | None = None    # (base_left, base_right, tip) of a speech tail
    index: int = -1              # position in the panel's text list (-1: added by the renderer)
    trail: tuple[float, float] | None = None   # where a thought balloon's bubble trail ends
    size: int = 0                # lettering size in px (0: not recorded)


@dataclass
class PanelRender:
    id: str
    image: Image.Image
    faces: dict[str, Rect] = field(default_factory=dict)      # who -> face box
    heads: dict[str, Rect] = field(default_factory=dict)      # who -> head box (face, hair, antenna)
    mouths: dict[str, tuple[float, float]] = field(default_factory=dict)
    bodies: dict[str, Rect] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    prop_texts: list[Rect] = field(default_factory=list)
    models: list[str] = field(default_factory=list)           # models whose data this panel shows
    description: str = ""                                     # the panel described in words (alt text)
    prop_items: list[tuple[str, Rect]] = field(default_factory=list)   # each prop text as drawn, and where
    shortened: list[str] = field(default_factory=list)        # data drawn shortened with "…", in full


@dataclass
class PageRender:
    image: Image.Image
    panels: dict[str, PanelRender]
    rects: dict[str, Rect]
    warnings: list[Problem] = field(default_factory=list)    # located, in panel order


class Problems:
    """Errors (the page cannot be drawn as written) and warnings (it was drawn, but something had
    to give: a balloon out of reading order, over a face, set as a caption strip), each located."""

    def __init__(self, sb: LoadedStoryboard):
        self.sb = sb
        self.items: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: tuple, message: str) -> None:
        line, col = self.sb.source.locate(path)
        self.items.append(Problem(self.sb.file, line, col, message))

    def add_template(self, path: tuple, err: TemplateProblem) -> None:
        """A template's problem, pointed at the expression (or misspelled name) inside the field."""
        if err.needle:
            line, col = self.sb.source.locate_text(path, err.needle, err.occurrence, err.line)
        else:
            line, col = self.sb.source.locate(path)
        self.items.append(Problem(self.sb.file, line, col, err.message))

    def warn(self, path: tuple, message: str) -> None:
        line, col = self.sb.source.locate(path)
        self.warnings.append(Problem(self.sb.file, line, col, message))


def render_text(text: str, tctx: dict, path: tuple, problems: Problems) -> str | None:
    """A storyboard text as its template renders it; None (with the problem located) when it fails."""
    try:
        return render_template(text, tctx)
    except TemplateProblem as err:
        problems.add_template(path, err)
        return None
