"""The files the site ships beside its pages: fonts with their licenses, the theme's
colours as CSS, web-sized copies of comic images, the static CSS and JS.

Everything is written into the staging folder by plain copies or deterministic
encodes, so the same inputs give the same bytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from PIL import Image

from ..fonts import FAMILIES, font_path, package_dir
from ..theme import Theme

STATIC_DIR = Path(__file__).parent / "static"

# CSS family -> font family in renderer/fonts.py. The site uses three of the comic's fonts.
SITE_FONTS = {"Exo 2": "Exo 2", "Orbitron": "Orbitron", "JetBrains Mono": "JetBrains Mono"}

PANEL_WIDTH = 1200      # web copies of panels: sharp on a 2x screen at 600 CSS px
PAGE_WIDTH = 1400       # full comic pages in the reader
THUMB_WIDTH = 360       # page thumbnails on the index


def copy_fonts(dest: Path) -> tuple[list[Path], str]:
    """Copy the site's fonts and each package's license into dest; return (files, @font-face CSS)."""
    dest.mkdir(parents=True, exist_ok=True)
    written, css = [], []
    for css_name, family in SITE_FONTS.items():
        src = font_path(family)
        target = dest / src.name.replace("[", "-").replace("]", "").replace(",", "-")
        shutil.copyfile(src, target)
        written.append(target)
        package = FAMILIES[family][0]
        license_src = package_dir(package) / "LICENSE"
        if license_src.exists():   # the OFL asks that the license travels with the font
            lic = dest / f"{target.stem}-LICENSE.txt"
            shutil.copyfile(license_src, lic)
            written.append(lic)
        css.append(
            "@font-face {\n"
            f"  font-family: \"{css_name}\";\n"
            f"  src: url(\"fonts/{target.name}\") format(\"truetype\");\n"
            "  font-weight: 100 900;\n"
            "  font-style: normal;\n"
            "  font-display: swap;\n"
            "}\n")
    return written, "".join(css)


def theme_css(theme: Theme) -> str:
    """The comic's palette and station colours as CSS custom properties."""
    lines = [":root {"]
    lines.append(f"  --page-bg: {theme.page.background};")
    lines.append(f"  --sky-top: {theme.scene.sky_top};")
    lines.append(f"  --sky-bottom: {theme.scene.sky_bottom};")
    lines.append(f"  --grid: {theme.scene.grid_color};")
    for name, value in sorted(theme.palette.items()):
        lines.append(f"  --{name.replace('_', '-')}: {value};")
    for i, station in enumerate(theme.stations, 1):
        lines.append(f"  --station-{i}: {station.color};")
    lines.append(f"  --narration-fill: {theme.narration.fill};")
    lines.append(f"  --narration-stroke: {theme.narration.stroke};")
    lines.append("}")
    return "\n".join(lines) + "\n"


WEB_IMAGE_CACHE = Path(".novapress") / "cache" / "web-images"


def web_image(src: Path, target: Path, max_width: int) -> tuple[int, int]:
    """A PNG no wider than max_width (never enlarged). Returns its size.

    Scaled copies are cached by the source's content, so a site rebuild after one
    changed panel re-encodes that panel only.
    """
    digest = hashlib.sha256(Path(src).read_bytes() + str(max_width).encode()).hexdigest()
    cached = WEB_IMAGE_CACHE / f"{digest}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        shutil.copyfile(cached, target)
        with Image.open(target) as im:
            return im.size
    size = _scaled_png(src, target, max_width)
    WEB_IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.part")
    shutil.copyfile(target, tmp)
    os.replace(tmp, cached)
    return size


PROP_ART_SIZE = (960, 600)   # a panel-shaped picture of one prop on the comic's background


def prop_art(name: str, target: Path, theme: Theme) -> tuple[int, int]:
    """One of the comic's props drawn alone on the comic's background (the picture of a tour
    section whose comic panel is not built). Cached by prop, theme and the props' code."""
    # the comic's drawing code only when a prop picture is drawn: serving the site needs none of it
    from ..props import sheet

    props_code = [*sorted(Path(sheet.__file__).parent.glob("*.py")), Path(sheet.__file__).parents[1] / "prop_art.py"]
    h = hashlib.sha256(name.encode())
    h.update(json.dumps(theme.model_dump(mode="json"), sort_keys=True).encode())
    for path in props_code:
        h.update(path.read_bytes())
    cached = WEB_IMAGE_CACHE / f"prop-{h.hexdigest()}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        shutil.copyfile(cached, target)
        with Image.open(target) as im:
            return im.size
    image, _problems = sheet.render_prop(name, {}, theme, None, size=PROP_ART_SIZE)
    image.convert("RGB").save(target, format="PNG", optimize=False, compress_level=6)
    WEB_IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.part")
    shutil.copyfile(target, tmp)
    os.replace(tmp, cached)
    return PROP_ART_SIZE


def _scaled_png(src: Path, target: Path, max_width: int) -> tuple[int, int]:
    with Image.open(src) as im:
        im.load()
        image = im.convert("RGB") if im.mode not in ("RGB", "L") else im.copy()
    if image.width > max_width:
        height = round(image.height * max_width / image.width)
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, format="PNG", optimize=False, compress_level=6)
    return image.size


def copy_static(dest: Path) -> list[Path]:
    """The hand-written CSS and JS."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(STATIC_DIR.iterdir()):
        if src.suffix in (".css", ".js"):
            shutil.copyfile(src, dest / src.name)
            written.append(dest / src.name)
    return written
