"""Comic themes as data (renderer/themes/<name>.yaml), validated by a schema."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, Problem, suggest
from .yamlsrc import load_yaml, validation_problems

THEMES_DIR = Path(__file__).parent / "themes"
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageStyle(_Strict):
    background: str
    margin: float
    gutter: float
    border_color: str
    border_width: float
    header_height: float = 0.0


class SceneStyle(_Strict):
    sky_top: str
    sky_bottom: str
    floor_top: str
    floor_bottom: str
    horizon: float = Field(ge=0, le=1)
    grid_color: str
    grid_opacity: float
    grid_columns: int
    grid_rows: int
    particles: int
    particle_colors: list[str]
    glow_radius: float
    glow_strength: float = 1.0


class Station(_Strict):
    name: str
    color: str


class Fonts(_Strict):
    lettering: str
    title: str
    label: str
    narration: str
    mono: str


class LetteringStyle(_Strict):
    size: float
    min_size: float
    small_print: float
    line_spacing: float = 1.15
    uppercase: bool = False


class BoxStyle(_Strict):
    fill: str
    stroke: str
    text: str
    stroke_width: float
    padding: float


class LabelStyle(_Strict):
    text: str
    glow: str


class TagStyle(_Strict):
    fill: str
    text: str
    size: float


class ChartColors(_Strict):
    """Colours of a matplotlib chart of live data (renderer.trace_charts): palette names or #rrggbb."""

    background: str
    text: str
    muted: str
    grid: str
    bar: str                   # a candidate token's bar
    accent: str                # the chosen token's bar
    alternatives: list[str]    # runner-up tokens' segments, in turn
    on_alternative: str        # text on a runner-up's segment


class Theme(_Strict):
    name: str
    page: PageStyle
    scene: SceneStyle
    palette: dict[str, str]
    stations: list[Station]
    fonts: Fonts
    lettering: LetteringStyle
    balloon: BoxStyle
    narration: BoxStyle
    label: LabelStyle
    model_tag: TagStyle
    charts: dict[Literal["dark", "light"], ChartColors]

    def chart_colors(self, variant: str) -> dict:
        """The chart colours of `variant` with every palette name resolved to its colour."""
        resolve = self.color
        return {role: [resolve(v) for v in value] if isinstance(value, list) else resolve(value)
                for role, value in self.charts[variant]}

    def color(self, name_or_hex: str) -> str:
        """A palette name ('cyan') or a literal colour ('#12ab34')."""
        if name_or_hex.startswith("#"):
            if not _HEX.fullmatch(name_or_hex):
                raise KeyError(name_or_hex)
            return name_or_hex
        if name_or_hex in self.palette:
            return self.palette[name_or_hex]
        raise KeyError(name_or_hex)

    def station_color(self, index: int) -> str:
        """Accent of pipeline station `index` (1-based, as the storyboards' station labels count)."""
        return self.stations[(index - 1) % len(self.stations)].color


def available_themes() -> list[str]:
    return sorted(p.stem for p in THEMES_DIR.glob("*.yaml"))


def theme_file(name_or_path: str) -> Path:
    """The file of a theme given by name ('tech': renderer/themes/tech.yaml) or by path."""
    path = Path(name_or_path)
    return path if path.suffix in (".yaml", ".yml") else THEMES_DIR / f"{name_or_path}.yaml"


def load_theme(name_or_path: str) -> Theme:
    path = theme_file(name_or_path)
    if Path(name_or_path).suffix not in (".yaml", ".yml") and not path.exists():   # a name, not a path
        raise InputError(Problem("novapress.yaml", None, None,
                                 f"unknown comic theme '{name_or_path}'{suggest(name_or_path, available_themes())}"))
    data, src = load_yaml(path)
    try:
        theme = Theme.model_validate(data)
    except ValidationError as err:
        raise InputError(validation_problems(err, src, Theme)) from None
    problems = []
    for variant, colors in theme.charts.items():
        for role, value in colors:
            named = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for i, name in named:
                try:
                    theme.color(name)
                except KeyError:
                    where = ("charts", variant, role) + (() if i is None else (i,))
                    problems.append(src.problem(where, f"unknown colour '{name}'{suggest(name, theme.palette)} "
                                                       f"(or give a #rrggbb colour)"))
    if problems:
        raise InputError(problems)
    return theme
