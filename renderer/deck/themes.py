"""The theme set: Marp theme CSS files in a folder, their names, and the files they load.

A theme's `url(...)` (fonts, textures) is written relative to the CSS file, as in any
stylesheet. Marp, however, inlines the CSS into the slide document, where a relative
URL resolves against the document instead. So novapress hands marp a copy of each
theme with its URLs rewritten for where the document is:
- for the HTML deck, `themes/<path>` next to the HTML, where the files are copied;
- for PDF, PNG and PPTX (rendered from a scratch folder), absolute paths.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError, Problem, rel
from .markdown import is_local_url

_THEME_NAME = re.compile(r"/\*[\s\S]*?@theme\s+([^\s*]+)[\s\S]*?\*/")
_CSS_URL = re.compile(r"url\(\s*(?P<q>[\"']?)(?P<url>[^\"')]*)(?P=q)\s*\)", re.I)

ASSETS_FOLDER = "themes"  # next to the HTML deck


@dataclass(frozen=True)
class ThemeFile:
    path: Path
    name: str
    css: str

    def assets(self) -> list[Path]:
        """Local files the CSS loads (fonts, images), resolved against the CSS file."""
        out = []
        for m in _CSS_URL.finditer(self.css):
            url = m.group("url").strip()
            if is_local_url(url) and not url.startswith("/"):
                out.append((self.path.parent / _path_part(url)).resolve())
        return out

    def rewritten(self, to_url: Callable[[Path], str]) -> str:
        """The CSS with each local relative url(...) replaced by to_url(absolute file)."""
        def swap(m: re.Match) -> str:
            url = m.group("url").strip()
            if not is_local_url(url) or url.startswith("/"):
                return m.group(0)
            target = (self.path.parent / _path_part(url)).resolve()
            suffix = url[len(_path_part(url)):]  # keep '#iefix', '?v=2'
            return f'url("{to_url(target)}{suffix}")'
        return _CSS_URL.sub(swap, self.css)


def _path_part(url: str) -> str:
    return re.split(r"[?#]", url, maxsplit=1)[0]


def load_theme_set(theme_dir: Path | None) -> list[ThemeFile]:
    """Every `*.css` theme in `theme_dir` (not recursive), sorted by file name."""
    if theme_dir is None or not Path(theme_dir).is_dir():
        return []
    themes = []
    for path in sorted(Path(theme_dir).glob("*.css")):
        css = path.read_text(encoding="utf-8")
        m = _THEME_NAME.search(css)
        if not m:
            raise InputError(Problem(rel(path), 1, 1, "a Marp theme must start with a comment naming it, "
                                     "for example /* @theme novapress */"))
        themes.append(ThemeFile(path, m.group(1), css))
    return themes


def check_assets(themes: list[ThemeFile]) -> None:
    """Every file a theme loads exists (a missing font would silently fall back)."""
    problems = []
    for theme in themes:
        for asset in theme.assets():
            if not asset.is_file():
                line = theme.css[:theme.css.find(asset.name)].count("\n") + 1 if asset.name in theme.css else None
                problems.append(Problem(rel(theme.path), line, None,
                                        f"theme '{theme.name}' loads {asset.name}, which does not exist "
                                        f"(looked for {rel(asset)})"))
    if problems:
        raise InputError(problems)


def html_asset_url(theme_dir: Path, asset: Path) -> str:
    """Where the HTML deck finds a theme file: themes/<path inside the theme folder>."""
    try:
        inside = asset.relative_to(Path(theme_dir).resolve())
    except ValueError:
        inside = Path("_external") / asset.name
    return f"{ASSETS_FOLDER}/{inside.as_posix()}"
