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

from .errors import InputError, Problem, rel, suggest
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


TEXT_KINDS = ("speech", "thought", "narration", "label", "caption")


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

    @field_validator("panels")
    @classmethod
    def _unique_ids(cls, panels: list[Panel]) -> list[Panel]:
        seen = set()
        for p in panels:
            if p.id in seen:
                raise ValueError(f"panel id '{p.id}' is used twice; ids must be unique on a page")
            seen.add(p.id)
        return panels


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
    from . import cast as cast_art

    problems = []
    for member_id, member in cast.items():
        if member.art not in cast_art.CHARACTERS:
            problems.append(src.problem(("cast", member_id, "art"),
                                        f"unknown character art '{member.art}'{suggest(member.art, cast_art.CHARACTERS)}"))
    if problems:
        raise InputError(problems)
    return cast, src


def load_storyboard(path: Path, *, cast: dict[str, CastMember], demos: dict[str, Any]) -> LoadedStoryboard:
    """Parse and fully check one storyboard. Raises InputError with every problem found."""
    data, src = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(Problem(src.file, 1, 1, "a storyboard must be a mapping (page:, title:, layout:, panels:)"))
    try:
        board = Storyboard.model_validate(data)
    except ValidationError as err:
        problems = validation_problems(err, src, Storyboard)
        # semantic checks still run on what parsed, so authors see everything at once
        problems += _semantic_problems_raw(data, src, cast, demos)
        raise InputError(_dedupe(problems)) from None
    loaded = LoadedStoryboard(path, board, src)
    problems = check_storyboard(loaded, cast, demos)
    if problems:
        raise InputError(problems)
    return loaded


def _dedupe(problems: list[Problem]) -> list[Problem]:
    out, seen = [], set()
    for p in sorted(problems, key=lambda p: (p.line or 0, p.col or 0)):
        if (p.line, p.col, p.message) not in seen:
            seen.add((p.line, p.col, p.message))
            out.append(p)
    return out


def check_storyboard(sb: LoadedStoryboard, cast: dict[str, CastMember], demos: dict[str, Any]) -> list[Problem]:
    """Checks that need more than one field: layout vs panels, cast, poses, props, demos, anchors."""
    from . import cast as cast_art
    from .props import REGISTRY

    board, src = sb.board, sb.source
    problems: list[Problem] = []

    def add(path: tuple, message: str, at_key: bool = False) -> None:
        problems.append(src.problem(path, message, at_key=at_key))

    for i, name in enumerate(board.demos):
        if name not in demos:
            add(("demos", i), f"unknown demo '{name}'{suggest(name, demos)}; define it under demos: in novapress.yaml")

    panel_ids = [p.id for p in board.panels]
    placed: dict[str, tuple] = {}
    for r, row in enumerate(board.layout):
        for c, ref in enumerate(row.panels):
            refs = [(("layout", r, "panels", c), ref)]
            if isinstance(ref, StackRef):
                refs = [(("layout", r, "panels", c, "stack", k), s) for k, s in enumerate(ref.stack)]
            for path, item in refs:
                pid = item if isinstance(item, str) else item.id
                if pid not in panel_ids:
                    add(path, f"layout names panel '{pid}', which is not among the panels{suggest(pid, panel_ids)}")
                elif pid in placed:
                    add(path, f"panel '{pid}' appears twice in the layout")
                placed[pid] = path
    for i, pid in enumerate(panel_ids):
        if pid not in placed:
            add(("panels", i, "id"), f"panel '{pid}' is not placed in the layout; add it to a row")

    for pi, panel in enumerate(board.panels):
        base = ("panels", pi)
        prop_ids: dict[str, str] = {}
        for ci, c in enumerate(panel.cast):
            path = base + ("cast", ci)
            if c.who not in cast:
                add(path + ("who",), f"unknown cast member '{c.who}'{suggest(c.who, cast)}")
                continue
            art = cast[c.who].art
            if c.pose not in cast_art.poses(art):
                add(path + ("pose",), f"unknown pose '{c.pose}' for {c.who}{suggest(c.pose, cast_art.poses(art))}")
            if c.expression not in cast_art.expressions(art):
                add(path + ("expression",),
                    f"unknown expression '{c.expression}' for {c.who}{suggest(c.expression, cast_art.expressions(art))}")
        for ri, prop in enumerate(panel.scene.props):
            path = base + ("scene", "props", ri)
            if prop.type not in REGISTRY:
                add(path + ("type",), f"unknown prop type '{prop.type}'{suggest(prop.type, REGISTRY)}")
                continue
            ptype = REGISTRY[prop.type]
            try:
                ptype.params.model_validate(prop.model_extra or {})
            except ValidationError as err:
                for p in validation_problems(err, _Shifted(src, path), ptype.params):
                    problems.append(p)
            if ptype.needs_demo and not prop.demo:
                add(path, f"prop '{prop.type}' shows model data: give it 'demo:' (one of: {', '.join(board.demos) or 'none declared'})")
            if prop.demo:
                if prop.demo not in board.demos:
                    add(path + ("demo",), f"demo '{prop.demo}' is not declared in this page's demos: list"
                                          f"{suggest(prop.demo, board.demos)}; add it to 'demos:' at the top")
            if prop.id:
                if prop.id in prop_ids:
                    add(path + ("id",), f"prop id '{prop.id}' is used twice in panel '{panel.id}'")
                prop_ids[prop.id] = prop.type
            x, y, w, h = prop.at
            if w <= 0 or h <= 0:
                add(path + ("at",), "a prop's width and height (3rd and 4th numbers of at:) must be positive")
        speakers = {c.who for c in panel.cast}
        for ti, t in enumerate(panel.text):
            path = base + ("text", ti)
            if t.who is not None:
                if t.who not in cast:
                    add(path + ("who",), f"unknown cast member '{t.who}'{suggest(t.who, cast)}")
                elif t.kind in ("speech", "thought") and t.who not in speakers:
                    add(path + ("who",), f"{t.who} speaks in panel '{panel.id}' but is not in its cast; "
                                         "add them to cast: (off-panel speakers are not supported yet)")
            if t.anchor is not None:
                pid, _, anchor = t.anchor.partition(".")
                if pid not in prop_ids:
                    add(path + ("anchor",), f"anchor '{t.anchor}': no prop with id '{pid}' in this panel"
                                            f"{suggest(pid, prop_ids)}")
                elif not anchor:
                    add(path + ("anchor",), f"anchor '{t.anchor}' needs the form '<prop id>.<anchor name>'")
    return _dedupe(problems)


class _Shifted(Source):
    """A Source view whose paths are relative to `prefix` (for nested schemas like prop params)."""

    def __init__(self, src: Source, prefix: tuple):
        super().__init__(src.file, src.marks, src.key_marks)
        self._prefix = prefix

    def locate(self, path):
        return super().locate(self._prefix + tuple(path))

    def locate_key(self, path):
        return super().locate_key(self._prefix + tuple(path))


def _semantic_problems_raw(data: dict, src: Source, cast: dict, demos: dict) -> list[Problem]:
    """The cast/pose checks on raw data, used when the schema itself failed (best effort)."""
    from . import cast as cast_art

    problems = []
    for pi, panel in enumerate(data.get("panels") or []):
        if not isinstance(panel, dict):
            continue
        for ci, c in enumerate(panel.get("cast") or []):
            if not isinstance(c, dict) or not isinstance(c.get("who"), str):
                continue
            path = ("panels", pi, "cast", ci)
            who = c["who"]
            if who not in cast:
                problems.append(src.problem(path + ("who",), f"unknown cast member '{who}'{suggest(who, cast)}"))
                continue
            art = cast[who].art
            pose = c.get("pose")
            if isinstance(pose, str) and pose not in cast_art.poses(art):
                problems.append(src.problem(path + ("pose",), f"unknown pose '{pose}' for {who}{suggest(pose, cast_art.poses(art))}"))
    return problems
