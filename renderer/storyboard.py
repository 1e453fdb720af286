"""The storyboard format: a comic page as YAML, and its validation.

A storyboard is one page: a layout (rows of panels), and for each panel a scene
(background and props), the cast in it, and its text in reading order. Every
problem in a file is reported at once, as file:line:col with a suggestion for
near misses; nothing is drawn until the whole page is valid.

Schema summary (see README "Storyboard format" for the author's guide):

    page: 5
    title: The Inference Pipeline
    demos: [question]                # live model runs this page shows (from novapress.yaml)
    layout:
      - height: 1.2                  # rows, top to bottom, relative heights
        panels: [p1]                 # panels left to right: id, {id, width}, or {stack: [...], width}
    panels:
      - id: p1
        shot: establishing
        description: Dr. Nova projects a holographic conveyor belt ...
        scene: {background: lab, props: [{type: conveyor_belt, at: [x, y, w, h], ...}]}
        cast: [{who: nova, at: [x, y], height: 0.8, pose: presenting, expression: happy, facing: right}]
        text:
          - speech: "The inference pipeline is ..."
            who: nova
          - narration: "..."
          - label: "1. PREPROCESSING"
            anchor: belt.station1
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import cast as cast_art
from .errors import InputError, Problem, nearest, suggest
from .props import REGISTRY
from .board_paths import TEXT_KINDS, describe
from .yamlsrc import Source, load_yaml, validation_problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- cast definition (storyboards/cast.yaml) -------------------------------------------------

class CastMember(_Strict):
    name: str = Field(description="The name readers see (transcripts, credits).")
    art: str = Field(description="Which character art draws this member (renderer/cast).")
    description: str = ""
    balloon: Literal["normal", "robot"] = "normal"


class CastFile(_Strict):
    cast: dict[str, CastMember]


# --- storyboard --------------------------------------------------------------------------------

Frac = float
Placement = Literal["top-left", "top", "top-right", "left", "center", "right",
                    "bottom-left", "bottom", "bottom-right"]


class PanelRef(_Strict):
    id: str
    width: float = Field(1.0, gt=0)


class StackRef(_Strict):
    stack: list[Union[str, PanelRef]] = Field(min_length=1)
    width: float = Field(1.0, gt=0)


class Row(_Strict):
    height: float = Field(1.0, gt=0, description="Relative height of this row.")
    panels: list[Union[str, PanelRef, StackRef]] = Field(min_length=1)


class PropSpec(BaseModel):
    """A prop in a scene. `type` picks the prop; its other fields are checked against that prop."""

    model_config = ConfigDict(extra="allow")
    type: str
    at: tuple[Frac, Frac, Frac, Frac] = Field((0.1, 0.1, 0.8, 0.8), description="x, y, w, h in panel fractions.")

    @field_validator("at")
    @classmethod
    def _sane_box(cls, v):
        x, y, w, h = v
        if not (-1 <= x <= 2 and -1 <= y <= 2 and 0 < w <= 3 and 0 < h <= 3):
            raise ValueError("at: [x, y, w, h] are panel fractions: x and y from -1 to 2, w and h above 0 and "
                             "at most 3")
        return v
    id: str | None = Field(None, description="Name for anchors: labels can attach to '<id>.<anchor>'.")
    demo: str | None = Field(None, description="The live demo whose data this prop shows.")
    front: bool = Field(False, description="Draw in front of the cast instead of behind.")


class Scene(_Strict):
    background: Literal["lab", "void", "city", "datacenter", "fab", "screen"] = "lab"
    floor: bool = True
    horizon: float | None = Field(None, ge=0, le=1, description="Where the floor starts (panel fraction).")
    particles: int | None = Field(None, ge=0, le=400)
    props: list[PropSpec] = Field(default_factory=list)


class CastPlacement(_Strict):
    who: str
    at: tuple[Frac, Frac] = Field(description="Where the figure stands (Tensor: the bottom of its thruster glow), "
                                              "x and y in panel fractions.")
    height: float = Field(0.7, gt=0, le=4, description="Scale: the fraction of the panel height Dr. Nova would fill "
                                                       "(Kai is 0.9 of her, Tensor 0.68).")
    pose: str = "watching"
    expression: str = "neutral"
    facing: Literal["left", "right"] = "right"
    front: bool = Field(True, description="Draw in front of the props (false: behind them).")




class TextElement(_Strict):
    speech: str | None = None
    thought: str | None = None
    narration: str | None = None
    label: str | None = None
    caption: str | None = None
    who: str | None = Field(None, description="The speaker of a speech or thought balloon.")
    place: Placement | None = Field(None, description="Where in the panel (balloons, narration).")
    at: tuple[Frac, Frac] | None = Field(None, description="Centre in panel fractions (overrides place).")
    anchor: str | None = Field(None, description="'<prop id>.<anchor>' a label attaches to.")
    color: str | None = Field(None, description="Label colour (palette name or #hex).")
    size: float | None = Field(None, gt=0, description="Text size relative to the theme's (1 = normal).")
    width: float | None = Field(None, gt=0, le=1, description="Widest the balloon or box may be, as a fraction "
                                                              "of the panel width.")
    font: Literal["label", "title"] | None = Field(None, description="Labels: signage font (default) or the "
                                                                    "title font, for covers and big headings.")

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in TEXT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"a text element needs exactly one of {', '.join(TEXT_KINDS)} (found: {found})")
        if not getattr(self, given[0]).strip():
            raise ValueError(f"the {given[0]} text is empty; write the words or remove the element")
        if given[0] in ("speech", "thought") and not self.who:
            raise ValueError(f"a {given[0]} balloon needs 'who:' (the speaker)")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in TEXT_KINDS if getattr(self, k) is not None)

    @property
    def text(self) -> str:
        return getattr(self, self.kind)


class Panel(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    shot: Literal["establishing", "wide", "medium", "closeup", "extreme-closeup", "insert"] = "medium"
    description: str = Field("", description="What the panel shows, for the transcript (alt text).")
    scene: Scene = Scene()
    cast: list[CastPlacement] = Field(default_factory=list)
    text: list[TextElement] = Field(default_factory=list)


class Storyboard(_Strict):
    page: int = Field(ge=0, description="Page number (0 = cover).")
    title: str
    demos: list[str] = Field(default_factory=list, description="Live demos (from novapress.yaml) this page uses.")
    layout: list[Row] = Field(min_length=1)
    panels: list[Panel] = Field(min_length=1)


@dataclass
class LoadedStoryboard:
    path: Path
    board: Storyboard
    source: Source

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def file(self) -> str:
        return self.source.file

    @property
    def page_name(self) -> str:
        return f"page-{self.board.page:02d}"

    def panel_index(self, panel_id: str) -> int:
        return next(i for i, p in enumerate(self.board.panels) if p.id == panel_id)

    def where(self, *path: Any) -> tuple[int | None, int | None]:
        return self.source.locate(tuple(path))


# --- loading and checking ---------------------------------------------------------------------

def load_cast(path: Path) -> tuple[dict[str, CastMember], Source]:
    data, src = load_yaml(path)
    try:
        cast = CastFile.model_validate(data).cast
    except ValidationError as err:
        raise InputError(validation_problems(err, src, CastFile)) from None
    problems = []
    for member_id, member in cast.items():
        if member.art not in cast_art.CHARACTERS:
            problems.append(src.problem(("cast", member_id, "art"),
                                        f"unknown character art '{member.art}'{suggest(member.art, cast_art.CHARACTERS)}"))
    if problems:
        raise InputError(problems)
    return cast, src


def load_storyboard(path: Path, *, cast: dict[str, CastMember], demos: dict[str, Any]) -> LoadedStoryboard:
    """Parse and fully check one storyboard. Raises InputError with every problem found.

    The schema and the cross-field checks (cast, poses, props, demos, layout) both run on
    every file, even a partly broken one, so authors see all their mistakes at once.
    """
    data, src = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(Problem(src.file, 1, 1, "a storyboard must be a mapping (page:, title:, layout:, panels:)"))
    problems = cross_checks(data, src, cast, demos)
    try:
        board = Storyboard.model_validate(data)
    except ValidationError as err:
        problems += validation_problems(err, src, Storyboard, describe=lambda loc: describe(loc, data))
        board = None
    if problems:
        raise InputError(_dedupe(problems))
    return LoadedStoryboard(path, board, src)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    out, seen = [], set()
    for p in sorted(problems, key=lambda p: (p.line or 0, p.col or 0)):
        if (p.line, p.col, p.message) not in seen:
            seen.add((p.line, p.col, p.message))
            out.append(p)
    return out


def _items(value) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _dicts(value) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in _items(value) if isinstance(v, dict)]


def cross_checks(data: dict, src: Source, cast: dict[str, CastMember], demos: dict[str, Any]) -> list[Problem]:
    """Checks that need more than one field: layout vs panels, cast, poses, props, demos, anchors.

    Works on the raw YAML data and skips whatever is malformed (the schema reports that).
    """
    problems: list[Problem] = []

    def add(path: tuple, message: str) -> None:
        problems.append(src.problem(path, message))

    page_demos = [d for _, d in _items(data.get("demos")) if isinstance(d, str)]
    misspelled: set[str] = set()        # defined demos the page's list seems to mean (reported once, there)
    for i, name in _items(data.get("demos")):
        if isinstance(name, str) and name not in demos:
            meant = nearest(name, demos)
            if meant:
                misspelled.add(meant)
                add(("demos", i), f"unknown demo '{name}'; did you mean '{meant}'?")
            else:
                add(("demos", i), f"unknown demo '{name}'{suggest(name, demos)}; define it under demos: in "
                                  f"novapress.yaml")

    panels = _dicts(data.get("panels"))
    panel_ids = [p.get("id") for _, p in panels if isinstance(p.get("id"), str)]
    seen_ids: set[str] = set()
    for i, p in panels:
        pid = p.get("id")
        if isinstance(pid, str) and pid in seen_ids:
            add(("panels", i, "id"), f"panel id '{pid}' is used twice; ids must be unique on a page")
        seen_ids.add(pid)
    placed: set[str] = set()
    for r, row in _dicts(data.get("layout")):
        for c, ref in _items(row.get("panels")):
            refs = [(("layout", r, "panels", c), ref)]
            if isinstance(ref, dict) and "stack" in ref:
                refs = [(("layout", r, "panels", c, "stack", k), s) for k, s in _items(ref["stack"])]
            for path, item in refs:
                pid = item.get("id") if isinstance(item, dict) else item
                if not isinstance(pid, str):
                    continue
                if pid not in panel_ids:
                    add(path, f"layout names panel '{pid}', which is not among the panels{suggest(pid, panel_ids)}")
                elif pid in placed:
                    add(path, f"panel '{pid}' appears twice in the layout")
                placed.add(pid)
    if isinstance(data.get("layout"), list):
        for i, p in panels:
            if isinstance(p.get("id"), str) and p["id"] not in placed:
                add(("panels", i, "id"), f"panel '{p['id']}' is not placed in the layout; add it to a row")

    for pi, panel in panels:
        base = ("panels", pi)
        pname = panel.get("id", pi)
        prop_ids: dict[str, str] = {}
        for ci, c in _dicts(panel.get("cast")):
            path = base + ("cast", ci)
            who = c.get("who")
            if not isinstance(who, str):
                continue
            if who not in cast:
                add(path + ("who",), f"unknown cast member '{who}'{suggest(who, cast)}")
                continue
            art = cast[who].art
            for field, valid in (("pose", cast_art.poses(art)), ("expression", cast_art.expressions(art))):
                value = c.get(field)
                if isinstance(value, str) and value not in valid:
                    add(path + (field,), f"unknown {field} '{value}' for {who}{suggest(value, valid)}")
        scene = panel.get("scene") if isinstance(panel.get("scene"), dict) else {}
        for ri, prop in _dicts(scene.get("props")):
            path = base + ("scene", "props", ri)
            ptype = prop.get("type")
            if not isinstance(ptype, str):
                continue
            if ptype not in REGISTRY:
                add(path + ("type",), f"unknown prop type '{ptype}'{suggest(ptype, REGISTRY)}")
                continue
            spec = REGISTRY[ptype]
            params = {k: v for k, v in prop.items() if k not in PropSpec.model_fields}
            try:
                spec.params.model_validate(params)
            except ValidationError as err:
                problems += validation_problems(err, _Shifted(src, path), spec.params)
            demo = prop.get("demo")
            if spec.needs_demo and not demo:
                add(path, f"prop '{ptype}' shows model data: give it 'demo:' (one of: {', '.join(page_demos) or 'none declared'})")
            if isinstance(demo, str) and demo not in page_demos and demo not in misspelled:
                add(path + ("demo",), _prop_demo_problem(demo, page_demos, demos))
            if isinstance(prop.get("id"), str):
                if prop["id"] in prop_ids:
                    add(path + ("id",), f"prop id '{prop['id']}' is used twice in panel '{pname}'")
                prop_ids[prop["id"]] = ptype
        for ti, t in _dicts(panel.get("text")):
            path = base + ("text", ti)
            who = t.get("who")
            # a speaker not in the panel's cast speaks from off-panel (tail to the border)
            if isinstance(who, str) and who not in cast:
                add(path + ("who",), f"unknown cast member '{who}'{suggest(who, cast)}")
            anchor = t.get("anchor")
            if isinstance(anchor, str):
                pid, _, name = anchor.partition(".")
                if pid not in prop_ids:
                    add(path + ("anchor",), f"anchor '{anchor}': no prop with id '{pid}' in this panel{suggest(pid, prop_ids)}")
                elif not name:
                    add(path + ("anchor",), f"anchor '{anchor}' needs the form '<prop id>.<anchor name>'")
    return problems


def _prop_demo_problem(demo: str, page_demos: list[str], demos: dict[str, Any]) -> str:
    """A prop's `demo:` that the page does not declare: a misspelling of one it does, a demo the
    page should declare, or no demo at all."""
    meant = nearest(demo, page_demos)
    if meant:
        return f"unknown demo '{demo}'; did you mean '{meant}'?"
    if demo in demos:
        listed = ", ".join([*page_demos, demo])
        return f"demo '{demo}' is not in this page's demos: list; add it there (demos: [{listed}])"
    return f"unknown demo '{demo}'{suggest(demo, demos)}; the page's demos are: {', '.join(page_demos) or 'none'}"


class _Shifted(Source):
    """A Source view whose paths are relative to `prefix` (for nested schemas like prop params)."""

    def __init__(self, src: Source, prefix: tuple):
        super().__init__(src.file, src.marks, src.key_marks, src.text)
        self._prefix = prefix

    def locate(self, path):
        return super().locate(self._prefix + tuple(path))

    def locate_key(self, path):
        return super().locate_key(self._prefix + tuple(path))
