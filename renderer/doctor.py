"""`novapress doctor`: a truthful table of what this machine has for a build.

Every row is checked, not assumed: versions come from the installed packages and from
running the tools, fonts from their files, the model from live_demo's own resolution.
"""
from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from live_demo.models import model_status

from .config import load_config
from .deck.marp import find_browser, find_marp, find_soffice, marp_version, soffice_version
from .errors import BuildError, InputError
from .fonts import FAMILIES, font_path


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _run(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if out.returncode == 0 and text else None


def rows() -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for each check."""
    out: list[tuple[str, bool, str]] = []
    out.append(("Python", sys.version_info >= (3, 11), f"{platform.python_version()} ({sys.executable})"))
    for dist in ("torch", "transformers", "Pillow", "pydantic", "matplotlib", "resvg-py", "pypdf"):
        v = _version(dist)
        out.append((dist, v is not None, v or "not installed: run 'make deps'"))
    out.append(_marp_row())
    out.append(_browser_row())
    out.append(_libreoffice_row())

    missing = []
    for family in FAMILIES:
        try:
            font_path(family)
        except Exception:
            missing.append(family)
    out.append(("fonts", not missing, "missing: " + ", ".join(missing) if missing
                else f"{len(FAMILIES)} families from fontpkg packages"))
    emoji = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
    out.append(("emoji font (slides)", emoji.exists(), str(emoji) if emoji.exists() else
                "not found: install fonts-noto-color-emoji (emoji in slides would be blank)"))

    config, _ = load_config(Path.cwd())
    status = model_status(config.model.id, config.model.revision, config.model.fallback)
    out += _model_rows(status)
    cache = Path(config.live.cache_dir)
    n = len(list(cache.rglob("*.json"))) if cache.exists() else 0
    out.append(("live trace cache", True, f"{cache} ({n} cached traces)"))
    return out


def _libreoffice_row() -> tuple[str, bool, str]:
    """LibreOffice, for the editable PPTX; optional (without it the PPTX is slide pictures)."""
    try:
        config, _ = load_config(Path.cwd())
        wanted = config.slides.pptx == "editable"
    except InputError:        # a broken novapress.yaml is reported by the rows below
        wanted = False
    exe = find_soffice()
    if exe:
        return ("LibreOffice (editable PPTX)", True, f"{soffice_version(exe)} ({exe})"
                + ("; slides.pptx: editable" if wanted else "; slides.pptx: image, --pptx editable to use it"))
    detail = "not found: the deck's PPTX is slide pictures (apt-get install libreoffice-impress, or set SOFFICE_PATH)"
    # only missing when the project asks for an editable PPTX
    return ("LibreOffice (editable PPTX)", not wanted, detail + ("; slides.pptx: editable asks for it" if wanted else ""))


def _marp_row() -> tuple[str, bool, str]:
    try:
        marp = find_marp()
        return ("marp-cli", True, f"{marp_version(marp)} ({marp})")
    except (BuildError, OSError) as err:
        return ("marp-cli", False, str(err))


def _browser_row() -> tuple[str, bool, str]:
    try:
        b = find_browser()
    except BuildError as err:
        return ("browser (marp PDF/PNG/PPTX)", False, str(err))
    try:
        version = subprocess.run([b.path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "version unknown"
    return ("browser (marp PDF/PNG/PPTX)", True, f"{version} ({b.path})")


def _model_rows(status: dict) -> list[tuple[str, bool, str]]:
    """What live_demo says a build would use, in a few readable rows."""
    if not status.get("ok"):
        return [("model for a build", False, status.get("error") or "unavailable")]
    rows = [("model configured", True, f"{status['requested']}" + (f" @ {status['revision']}" if status.get("revision") else "")),
            ("model a build uses", True, f"{status['display']} ({status['model']}, {status['source']})")]
    if status["source"] == "fallback":
        rows.append(("why the fallback", True, status.get("reason") or ""))
    rows.append(("available offline", bool(status.get("available_offline")), status.get("where") or ""))
    if status.get("note"):
        rows.append(("note", True, status["note"]))
    return rows


def doctor() -> int:
    table = rows()
    if sys.stdout.isatty():
        from rich.console import Console   # rich only for a terminal
        from rich.table import Table

        t = Table(title="novapress doctor")
        t.add_column("check")
        t.add_column("")
        t.add_column("detail")
        for what, ok, detail in table:
            t.add_row(what, "[green]ok[/]" if ok else "[red]missing[/]", detail)
        Console().print(t)
    else:
        width = max(len(w) for w, _, _ in table)
        for what, ok, detail in table:
            print(f"{what:<{width}}  {'ok     ' if ok else 'MISSING'}  {detail}")
    return 0 if all(ok for what, ok, _ in table if what != "emoji font (slides)") else 1


def doctor_command(_args) -> int:
    """`novapress doctor` (it takes no options)."""
    return doctor()
