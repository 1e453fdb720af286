"""The tour as data (tour.yaml), checked, with each section's comic panel found.

A panel that is not built (its page is still being written, say) is left out of the
page with a warning for the caller, never a crash.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..yamlsrc import load_yaml, validation_problems
from .transcripts import panel_alt, read_transcript, split_panel_id

TOUR_FILE = Path(__file__).parent / "tour.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Anchor in tour.html.")
    title: str
    layer: str = Field("", description="The small label above the heading.")
    text: str = Field(min_length=1)
    notes: list[str] = Field(default_factory=list, description="Expert notes, 'Term: explanation'.")
    panel: str | None = Field(None, description="Comic panel id, e.g. page-05-p2.")
    live: Literal["tokens", "model", "next_token", "answer"] | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [" ".join(p.split()) for p in self.text.strip().split("\n\n") if p.strip()]

    @property
    def split_notes(self) -> list[tuple[str, str]]:
        """("Term", "explanation") for each note; a note without a colon has an empty term."""
        out = []
        for note in self.notes:
            term, sep, rest = note.partition(":")
            out.append((term.strip(), rest.strip()) if sep and len(term) < 40 else ("", note.strip()))
        return out


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


def panel_description(panel_id: str, panel_png: Path) -> str:
    """The panel's words from its page transcript, else a plain description."""
    parts = split_panel_id(panel_id)
    if parts:
        page, pid = parts
        transcript = read_transcript(panel_png.parent.parent / "pages" / f"{page}.png")
        if transcript:
            text = panel_alt(transcript, pid)
            if text:
                return text
        number = page.split("-")[1].lstrip("0") or "0"
        return f"Comic panel {pid} of page {number}."
    return f"Comic panel {panel_id}."


def resolve_panels(tour: Tour, panels: dict[str, Path]) -> tuple[dict[str, tuple[Path, str]], list[str]]:
    """{section id: (panel image, alt text)} for the panels that exist, and a warning for each that does not."""
    found: dict[str, tuple[Path, str]] = {}
    warnings: list[str] = []
    for section in tour.sections:
        if not section.panel:
            continue
        png = panels.get(section.panel)
        if png is None or not Path(png).is_file():
            warnings.append(f"site: tour section '{section.id}' shows comic panel '{section.panel}', which is not "
                            f"built (yet); the section has no image")
            continue
        found[section.id] = (Path(png), panel_description(section.panel, Path(png)))
    return found, warnings
