"""The tour as data (tour.yaml), checked, with a picture found for every section.

A section's picture is its comic panel; a panel that is not built (its page is still being
written, say) is replaced by the comic prop the section names, drawn with the comic's own art,
and reported as a warning for the caller, never a crash. Each picture carries a short alt
text and, for a comic panel, the panel's whole transcript as its long description.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from live_demo.formatting import elide, one_line

from ..errors import InputError
from ..yamlsrc import load_yaml, validation_problems
from .transcripts import panel_body, read_transcript, sentences, split_panel_id

TOUR_FILE = Path(__file__).parent / "tour.yaml"
MAX_ALT = 150                # an alt text is what the picture shows; the long description goes elsewhere

Window = Literal["app", "msdn", "dialup", "sysprops", "help", "wizard", "devmgr", "notepad", "techref", "paint",
                 "iis", "setup", "steps", "about"]
Live = Literal["application", "tokens", "network", "data-center", "checkpoint", "training", "gpu-rack", "layers",
               "architecture", "gpu-die", "decoding", "return", "thanks"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


class Box(Strict):
    title: str
    text: str


class Expert(Strict):
    title: str
    notes: list[str] = Field(min_length=1, description="'Term: explanation' lines.")

    @property
    def split_notes(self) -> list[tuple[str, str]]:
        """("Term", "explanation") for each note; a note without a colon has an empty term."""
        out = []
        for note in self.notes:
            term, sep, rest = note.partition(":")
            out.append((term.strip(), rest.strip()) if sep and len(term) < 48 else ("", note.strip()))
        return out


class Picture(Strict):
    panel: str | None = Field(None, description="Comic panel id, e.g. page-05-p2.")
    prop: str = Field(description="The comic prop drawn when the panel is not built.")
    alt: str = Field(max_length=MAX_ALT, description="What the prop picture shows.")


class Tab(Strict):
    name: str
    boxes: list[Box] = Field(min_length=1)


class Hop(Strict):
    name: str
    text: str


class TreeNode(Strict):
    name: str
    children: list["TreeNode"] = Field(default_factory=list)


class Key(Strict):
    key: str
    text: str


class Slide(Strict):
    title: str
    text: str
    panel: str | None = None


class Step(Strict):
    n: str
    title: str
    text: str


class Section(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Anchor in tour.html.")
    window: Window
    caption: str = Field(min_length=1, description="The window's title bar.")
    banner: str = ""
    title: str
    text: str = ""
    boxes: list[Box] = Field(default_factory=list)
    expert: Expert | None = None
    status: str = ""
    aside: str = ""
    live: Live | None = None
    waits: Literal["start", "forward", "done"] | None = None
    picture: Picture
    tabs: list[Tab] = Field(default_factory=list)
    hops: list[Hop] = Field(default_factory=list)
    cheat_sheet: list[str] = Field(default_factory=list)
    tree: list[TreeNode] = Field(default_factory=list)
    calculator: list[Key] = Field(default_factory=list)
    slides: list[Slide] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return _paragraphs(self.text)

    @property
    def panels(self) -> list[str]:
        """Every comic panel the section shows (its picture's, its slides')."""
        found = [self.picture.panel] if self.picture.panel else []
        return found + [s.panel for s in self.slides if s.panel and s.panel not in found]


class Tour(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sections: list[Section] = Field(min_length=1)


def load_tour(path: Path = TOUR_FILE) -> Tour:
    data, src = load_yaml(path)
    try:
        tour = Tour.model_validate(data)
    except ValidationError as err:
        raise InputError(validation_problems(err, src, Tour)) from None
    seen: set[str] = set()
    for i, section in enumerate(tour.sections):
        if section.id in seen:
            raise InputError(src.problem(("sections", i, "id"), f"section id '{section.id}' is used twice"))
        seen.add(section.id)
    return tour


# ---------------------------------------------------------------- pictures

@dataclass
class PanelText:
    """What a comic panel's transcript says about it."""

    alt: str                  # short: what the picture shows
    description: str          # the whole transcript of the panel
    live_model: str | None    # "Live data from the model X": the panel shows a model run's data
    page: int | None
    number: str               # the panel's id inside its page (p2)


def short_alt(description: str, limit: int = MAX_ALT) -> str:
    """The first sentence of a description (shortened with "…" past `limit` characters)."""
    text = one_line(description)
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“(])", text, maxsplit=1)[0]
    return elide(first, limit)


def panel_text(panel_id: str, panel_png: Path) -> PanelText:
    parts = split_panel_id(panel_id)
    page_number = int(parts[0].split("-")[1]) if parts and parts[0].split("-")[1].isdigit() else None
    number = parts[1] if parts else panel_id
    body = None
    if parts:
        transcript = read_transcript(panel_png.parent.parent / "pages" / f"{parts[0]}.png")
        body = panel_body(transcript, parts[1]) if transcript else None
    if not body:
        where = f"Comic panel {number} of page {page_number}." if page_number is not None else f"Comic panel {panel_id}."
        return PanelText(where, "", None, page_number, number)
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    live = re.search(r"Live data from the model ([^*\n]+?)\.?\*?\s*$", body, re.M)
    return PanelText(short_alt(sentences(paragraphs[0])), sentences(body), live.group(1).strip() if live else None,
                     page_number, number)


def resolve_panels(tour: Tour, panels: dict[str, Path]) -> tuple[dict[str, tuple[Path, PanelText]], list[str]]:
    """{panel id: (image, its transcript text)} for the panels the tour shows that exist, and a
    warning for each that does not (its section shows its prop instead)."""
    found: dict[str, tuple[Path, PanelText]] = {}
    warnings: list[str] = []
    for section in tour.sections:
        for panel_id in section.panels:
            png = panels.get(panel_id)
            if png is None or not Path(png).is_file():
                warnings.append(f"tour section '{section.id}' shows comic panel '{panel_id}', which is not built "
                                f"(yet); the section shows the comic's '{section.picture.prop}' prop instead")
                continue
            found[panel_id] = (Path(png), panel_text(panel_id, Path(png)))
    return found, warnings
