"""Fonts shipped as pip packages (fontpkg-*), so every machine letters identically.

A font role ("lettering", "title", ...) maps to a family and a file inside its
package; never to whatever the system happens to have installed.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from .errors import BuildError

# family -> (package, file name inside files/)
FAMILIES: dict[str, tuple[str, str]] = {
    "Kalam": ("fontpkg_kalam", "Kalam-Regular.ttf"),
    "Kalam Bold": ("fontpkg_kalam", "Kalam-Bold.ttf"),
    "Luckiest Guy": ("fontpkg_luckiest_guy", "LuckiestGuy-Regular.ttf"),
    "Orbitron": ("fontpkg_orbitron", "Orbitron[wght].ttf"),
    "Exo 2": ("fontpkg_exo_2", "Exo2[wght].ttf"),
    "JetBrains Mono": ("fontpkg_jetbrains_mono", "JetBrainsMono[wght].ttf"),
    "Inter": ("fontpkg_inter", "Inter[opsz,wght].ttf"),
}


# Tried in order for characters a font lacks (arrows in Orbitron, Greek in Kalam, ...).
# DejaVu comes with matplotlib, a dependency, and covers most symbols.
FALLBACKS = ("Inter", "JetBrains Mono", "DejaVu Sans")


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(f"font package '{package}' is not installed; run 'make deps' (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=None)
def font_path(family: str) -> Path:
    if family == "DejaVu Sans":
        import matplotlib

        return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    if family not in FAMILIES:
        raise BuildError(f"unknown font family '{family}'; known: {', '.join(sorted(FAMILIES))}")
    package, name = FAMILIES[family]
    files = package_dir(package) / "files"
    path = files / name
    if not path.exists():
        found = sorted(p.name for p in files.glob("*.ttf"))
        raise BuildError(f"font file {name} not in {package} (has: {', '.join(found)})")
    return path


@lru_cache(maxsize=None)
def coverage(family: str) -> frozenset[int]:
    """The code points a font has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path(family)), lazy=True) as tt:
        return frozenset(tt.getBestCmap() or {})


class MissingGlyph(ValueError):
    """A character no shipped font can draw."""

    def __init__(self, char: str):
        super().__init__(f"the character '{char}' (U+{ord(char):04X}) is in none of the comic's fonts; "
                         f"remove it or replace it")
        self.char = char


# Glyphs a font has but draws too unlike the usual shape to read (Orbitron's parentheses look like l).
AVOID = {"Orbitron": frozenset("()[]{}")}


REPLACEMENT = "\ufffd"   # drawn for a character of model output that no shipped font has


def runs(text: str, family: str, *, replace: bool = False) -> list[tuple[str, str]]:
    """Split text into (segment, family) runs: the font itself where it has the glyphs, else a fallback.

    A character no font has raises MissingGlyph, or with `replace` becomes U+FFFD: model output
    may hold any character, and must not make a build fail.
    """
    out: list[tuple[str, str]] = []
    avoid = AVOID.get(family, frozenset())
    for ch in text:
        fam = family
        if (ord(ch) not in coverage(family) or ch in avoid) and not ch.isspace():
            fam = next((f for f in FALLBACKS if ord(ch) in coverage(f)), None)
            if fam is None:
                if not replace:
                    raise MissingGlyph(ch)
                ch, fam = REPLACEMENT, "DejaVu Sans"
        if out and out[-1][1] == fam:
            out[-1] = (out[-1][0] + ch, fam)
        else:
            out.append((ch, fam))
    # spaces between two runs of one fallback font join them: a phrase in a script the font lacks
    # (Arabic, Hebrew) is then shaped as one run, its words in their right-to-left order
    merged: list[tuple[str, str]] = []
    for seg, fam in out:
        if (len(merged) >= 2 and merged[-2][1] == fam and fam != family and not merged[-1][0].strip()):
            gap, _ = merged.pop()
            merged[-1] = (merged[-1][0] + gap + seg, fam)
        elif merged and merged[-1][1] == fam:
            merged[-1] = (merged[-1][0] + seg, fam)
        else:
            merged.append((seg, fam))
    return merged


def font_dirs() -> list[str]:
    """Folders holding every shipped font, for resvg and for CSS @font-face."""
    return sorted({str(font_path(f).parent) for f in FAMILIES})


@lru_cache(maxsize=512)
def font(family: str, size: int, weight: int | None = None) -> ImageFont.FreeTypeFont:
    f = ImageFont.truetype(str(font_path(family)), size=size, layout_engine=ImageFont.Layout.RAQM)
    if weight is not None:
        try:
            axes = f.get_variation_axes()
        except OSError:  # not a variable font: it has one weight
            return f
        f.set_variation_by_axes([
            max(a["minimum"], min(a["maximum"], weight)) if a["name"] == b"Weight" else a["default"]
            for a in axes])
    return f
