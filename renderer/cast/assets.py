"""A character's editable assets: `art/<id>/character.yaml` (rig, palette, poses) and
`art/<id>/parts.svg.j2` (the drawings, one Jinja macro per part).

The YAML holds every number that places things (shoulders, limb lengths, where a hand goes in
each pose, the face box); the SVG macros hold the shapes. Python only combines them.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .kinematics import capsule_path, circle_path, curvy_path

ART_DIR = Path(__file__).parent / "art"

Pt = tuple[float, float]
Box = tuple[float, float, float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lines(_Strict):
    outline: float             # the ink contour around every shape (art units)
    detail: float              # inner lines: folds, seams, features


class Light(_Strict):
    shade_shift: Pt            # a shape shifted this way covers its lit side; what stays uncovered is shade
    rim_color: str             # neon rim light along the silhouette's back edge
    rim_width: float           # art units
    rim_from: Pt               # direction the rim light comes from (the rim sits on that side)
    glow_radius: float = 14.0  # blur of emissive parts (art units)


class Limb(_Strict):
    """One arm, leg or robot arm: root joint, two segments, their thickness, how it is dressed."""

    root: Pt                   # shoulder or hip, body coordinates
    lengths: tuple[float, float]
    radii: tuple[float, float, float]   # at root, middle joint, end
    material: str              # palette name of the sleeve / trouser leg / metal
    kind: Literal["hand", "foot", "gripper"] = "hand"   # which macro draws its end
    z: float = 1.0             # paint order: torso is 0, head 0.5; negative = behind the body
    joint: str | None = None   # macro drawn over the middle joint (robot ball joints)
    cuff: str | None = None    # macro drawn at the end of the segment (sleeve cuff)
    root_cap: str | None = None  # macro drawn over the root joint (shoulder ball)
    side: Literal["near", "far"] = "near"   # far limbs may be drawn a tone darker


class Head(_Strict):
    pivot: Pt                  # where the head's origin sits on the body
    scale: float = 1.0         # head size relative to how the macro draws it (comic proportions)
    z: float = 0.5
    box: Box                   # head-local: the whole head with hair (x, y, w, h)
    face: Box                  # head-local: the face (balloons keep clear of it)
    mouth: Pt
    eyes: Pt


class End(_Strict):
    """A hand/foot/gripper shape: named points in its own coordinates (wrist at 0,0, pointing +x)."""

    points: dict[str, Pt] = Field(default_factory=dict)


class LimbPose(_Strict):
    to: Pt                     # where the wrist/ankle goes, body coordinates
    bend: Literal[1, -1] = 1   # which side the elbow/knee goes (+1: clockwise of root->end)
    end: str = "relaxed"       # the hand/foot/gripper macro's shape name
    angle: float = 0.0         # extra turn of the hand relative to the forearm (degrees)
    absolute: bool = False     # angle is absolute (0 = pointing right) instead of relative
    flip: bool = False         # mirror the hand across the forearm axis (thumb to the other side)
    z: float | None = None     # paint order override for this pose


class HeadPose(_Strict):
    tilt: float = 0.0          # degrees, positive = chin toward the back
    shift: Pt = (0.0, 0.0)


class Pose(_Strict):
    body: str = ""             # passed to the torso/back/front macros (empty: the pose name)
    head: HeadPose = HeadPose()
    limbs: dict[str, LimbPose]
    anchors: dict[str, str] = Field(default_factory=dict)   # name -> "limb.point" / "head.point"
    lean: float = 0.0          # whole-figure rotation about the base point (degrees)
    lift: float = 0.0          # whole-figure vertical offset (art units, negative = up)


class Character(_Strict):
    name: str
    relative_height: float     # standing height relative to Dr. Nova, to size the cast together
    hover: bool = False        # floats: its base point is the bottom of its thruster glow
    frame: Box                 # art-space window every pose fits in: (left, top, width, height)
    base: Pt                   # the point that stands on the floor (or the bottom of the hover glow)
    ink: str
    lines: Lines
    light: Light
    palette: dict[str, str]
    head: Head
    limbs: dict[str, Limb]
    ends: dict[str, End]
    default_anchors: dict[str, str]
    expressions: list[str]
    poses: dict[str, Pose]


@lru_cache(maxsize=None)
def character(art: str) -> Character:
    path = ART_DIR / art / "character.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    try:
        return Character.model_validate(data)
    except ValidationError as err:  # an asset bug, not user input: say exactly where
        raise RuntimeError(f"{path}: invalid character asset:\n{err}") from None


@lru_cache(maxsize=None)
def parts(art: str) -> jinja2.environment.TemplateModule:
    """The character's drawing macros (torso, head, hand, ...), as a Jinja module."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ART_DIR)),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True)
    # drawing helpers the macros may call, e.g. d="{{ capsule(36, -10, 7.5, 96, -8, 6.5) }}"
    env.globals["capsule"] = lambda x1, y1, r1, x2, y2, r2: capsule_path((x1, y1), r1, (x2, y2), r2)
    env.globals["circle"] = lambda x, y, r: circle_path((x, y), r)
    env.globals["curvy"] = curvy_path
    return env.get_template(f"{art}/parts.svg.j2").module


def available() -> list[str]:
    return sorted(p.name for p in ART_DIR.iterdir() if (p / "character.yaml").exists())
