"""Measuring text the way the lettering will draw it, so props can size boxes to fit.

Props never draw text; they hand TextItems to the lettering. But a row of token
cubes must know how wide "␣understanding" is before it places the next cube, so
this module measures with the same shipped fonts and the same runs
(renderer.fonts.runs): characters a font lacks (the mono font has no U+2423 '␣')
are measured in the fallback font the lettering draws them in.
"""
from __future__ import annotations

from functools import lru_cache

from ..fonts import font, runs
from ..theme import Theme

LINE_HEIGHT = 1.32             # a single line needs this many times the font size
CODE_FEATURES = ["-liga", "-calt"]   # tokens and code: no ligatures ('->' stays two glyphs)


def family_for(theme: Theme, role: str) -> str:
    return getattr(theme.fonts, role)


@lru_cache(maxsize=4096)
def text_width(text: str, family: str, size: float, weight: int | None = None) -> float:
    """Advance width in px of one line of `text` at `size` px."""
    if size <= 0 or not text:
        return 0.0
    # measure at a fixed large size and scale: sizes are fractional, fonts are not
    ref = 100
    total = 0.0
    # the same runs the lettering draws: fallback fonts, and a replacement mark for what no font has
    for run, fam in runs(text, family, replace=True):
        f = font(fam, ref, weight if fam == family else None)
        features = CODE_FEATURES if fam == "JetBrains Mono" else None
        total += f.getlength(run, features=features)
    return total * size / ref


def fit_size(text: str, family: str, width: float, height: float, weight: int | None = None,
             max_size: float | None = None) -> float:
    """Largest font size (px) at which one line of text fits width x height."""
    by_height = height / LINE_HEIGHT
    if max_size is not None:
        by_height = min(by_height, max_size)
    w = text_width(text, family, 100, weight)
    by_width = width * 100 / w if w else by_height
    return max(0.0, min(by_height, by_width))


def wrap(text: str, family: str, size: float, width: float, weight: int | None = None) -> list[str]:
    """Greedy word wrap into lines no wider than `width` (a too-long word is split)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = word if not line else f"{line} {word}"
            if text_width(candidate, family, size, weight) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while text_width(line, family, size, weight) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and text_width(line[:cut], family, size, weight) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


@lru_cache(maxsize=512)
def ink_metrics(family: str, size: int, weight: int | None = None) -> tuple[float, float]:
    """(cap, desc): ink above and below the baseline, as the lettering measures a text block."""
    f = font(family, size, weight)
    return -f.getbbox("HÅdlk", anchor="ls")[1], f.getbbox("gjpqy,", anchor="ls")[3]


def baseline_in(box_y: float, box_h: float, family: str, size: int, weight: int | None = None) -> float:
    """Where the lettering puts the baseline of one line vertically centred in a box."""
    cap, desc = ink_metrics(family, size, weight)
    return box_y + (box_h - cap - desc) / 2 + cap
