"""The prop contract: a prop turns validated YAML parameters and a box into art.

A prop returns PropArt: SVG for its shapes, an optional SVG glow layer (blurred
by the compositor, so neon glows cost almost nothing), the text it wants
lettered (fitted and checked by renderer.lettering, never drawn in SVG), the
areas balloons must keep clear of, and named anchor points.

Props are registered with @prop("name") and looked up by the storyboard's
`type:` field. Each prop declares its parameters as a pydantic model, so a
storyboard typo is reported with file and line like any other field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

from ..geometry import Rect
from ..theme import Theme


class PropError(ValueError):
    """A prop cannot draw what it was given (its params or its demo's trace).

    The message says what is missing and how to fix it; the compositor reports
    it as an input error at the prop's place in the storyboard.
    """


class PropParams(BaseModel):
    """Base for every prop's parameters. Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


FontRole = Literal["lettering", "title", "label", "narration", "mono"]


@dataclass
class TextItem:
    """Text a prop wants drawn: fitted inside `box`, shrunk down to `min_size`; then model data is
    shortened with "…" and an author's text is an error."""

    text: str
    box: Rect
    role: FontRole = "label"
    color: str = "#ffffff"
    size: float = 0.0            # preferred size in px (0: as large as fits, up to the box height)
    min_size: float = 0.0        # smallest acceptable size in px (0: theme's minimum for small print)
    align: Literal["left", "center", "right"] = "center"
    valign: Literal["top", "middle", "bottom"] = "middle"
    glow: str | None = None      # neon glow colour behind the text
    wrap: bool = False           # may break into lines
    weight: int | None = None    # for variable fonts (Orbitron, Exo 2, Inter, JetBrains Mono)
    name: str = ""               # how errors name it ("station label 3")
    data: bool = False           # model data (or text made from it): shortened with "…" rather than an error


@dataclass
class PropArt:
    svg: str = ""
    glow: str = ""
    texts: list[TextItem] = field(default_factory=list)
    keepout: list[Rect] = field(default_factory=list)
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)
    model: str | None = None     # the model that produced data shown here (adds a model tag)


@dataclass
class PropContext:
    box: Rect                    # where to draw, in panel pixels
    theme: Theme
    unit: float                  # 1/1000 of the page width, in px: stroke widths and sizes scale with it
    demo: dict[str, Any] | None = None   # the live trace, for data-bearing props (token cubes, bars, ...)
    seed: int = 0                # for deterministic decoration (particles, sparkle)
    min_text: float = 0.0        # theme's smallest legible text size, px


DrawFn = Callable[[Any, PropContext], PropArt]


@dataclass(frozen=True)
class PropType:
    name: str
    params: type[PropParams]
    draw: DrawFn
    needs_demo: bool = False     # True: the storyboard must give `demo:`, the trace is passed in
    doc: str = ""


REGISTRY: dict[str, PropType] = {}


def prop(name: str, params: type[PropParams], *, needs_demo: bool = False):
    """Register a prop drawing function under `name`."""

    def register(fn: DrawFn) -> DrawFn:
        if name in REGISTRY:
            raise ValueError(f"prop '{name}' registered twice")
        REGISTRY[name] = PropType(name, params, fn, needs_demo, (fn.__doc__ or "").strip())
        return fn

    return register
