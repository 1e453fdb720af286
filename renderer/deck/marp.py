"""A thin wrapper around the project's pinned marp-cli (a Node program run as a subprocess).

What it adds to calling `marp` by hand, each for a failure seen on this kind of machine:
- it uses the marp-cli installed by `npm ci` in the project, never a global one;
- it picks the browser itself (CHROME_PATH, then Chromium/Chrome on PATH, then
  Firefox) and names the fix in one line when there is none;
- it always passes `--allow-local-files` (else local images silently vanish from
  PDF/PNG/PPTX), the theme set, and a config that keeps emoji as text (else they
  become images from a CDN that is unreachable offline);
- every run gets its own TMPDIR, deleted afterwards (each browser export leaves a
  browser profile of up to 36 MB there), and a timeout that kills marp and its browser;
- on failure it reports marp's `[ ERROR ]` line, not kilobytes of minified JavaScript.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError

BUILTIN_THEMES = ("default", "gaia", "uncover")
# "pptx-editable": a PPTX of text boxes and shapes (marp-cli --pptx-editable, through LibreOffice)
# instead of one picture per slide
FORMATS = ("html", "pdf", "pptx", "pptx-editable", "png")
NEEDS_BROWSER = ("pdf", "pptx", "pptx-editable", "png")

# Emoji stay Unicode text (drawn by the local colour emoji font); shortcodes such as
# :smile: become Unicode too. The default turns both into twemoji images from a CDN.
# It is only passed for decks that may hold emoji: for the others marp's output then
# stays byte for byte what bare marp-cli writes (the option also drops a CSS rule).
MARP_CONFIG = {"options": {"emoji": {"shortcode": True, "unicode": False}}}
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_EMOJI_PARTS = {"\u203c", "\u2049", "\u20e3", "\ufe0f"}

_CHROMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_NO_BROWSER_FIX = ("install Chromium (Debian/Ubuntu: apt-get install chromium) "
                   "or set CHROME_PATH to a Chrome, Chromium or Firefox executable")


@dataclass(frozen=True)
class Browser:
    path: str
    kind: str  # "chrome" or "firefox", as marp's --browser option names them


def find_marp(project: Path | None = None) -> Path:
    """marp-cli from the project's node_modules (installed by `npm ci`)."""
    project = Path(project or Path.cwd())
    for folder in (project, *project.resolve().parents):
        exe = folder / "node_modules" / ".bin" / "marp"
        if exe.exists():
            return exe
        if (folder / "package.json").exists():
            break
    else:
        # a project without Node packages of its own uses the marp-cli novapress installed
        exe = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "marp"
        if exe.exists():
            return exe
    raise BuildError(f"marp-cli is not installed in {project / 'node_modules'}; "
                     "run 'make deps' (or 'npm ci' in the project folder)")


def find_browser(env: dict[str, str] | None = None) -> Browser:
    """The browser marp-cli should drive: CHROME_PATH, else Chromium/Chrome, else Firefox on PATH."""
    env = os.environ if env is None else env
    path_var = env.get("PATH", "")
    chosen = env.get("CHROME_PATH")
    if chosen:
        exe = shutil.which(chosen, path=path_var) if os.sep not in chosen else chosen
        if not exe or not os.access(exe, os.X_OK) or not os.path.isfile(exe):
            raise BuildError(f"CHROME_PATH={chosen} is not an executable browser; unset it or point it at "
                             "Chrome, Chromium or Firefox (marp-cli needs one for PDF, PNG and PPTX)")
        return Browser(exe, "firefox" if "firefox" in Path(exe).name.lower() else "chrome")
    for name in _CHROMES:
        exe = shutil.which(name, path=path_var)
        if exe:
            return Browser(exe, "chrome")
    exe = shutil.which("firefox", path=path_var)
    if exe:
        return Browser(exe, "firefox")
    raise BuildError(f"no browser for marp-cli (needed for PDF, PNG and PPTX): {_NO_BROWSER_FIX}")


def find_soffice(env: dict[str, str] | None = None) -> str | None:
    """LibreOffice's soffice, as marp-cli looks for it (SOFFICE_PATH, then PATH); None without one."""
    env = os.environ if env is None else env
    chosen = env.get("SOFFICE_PATH")
    if chosen and os.path.isfile(chosen) and os.access(chosen, os.X_OK):
        return chosen
    for name in ("soffice", "libreoffice"):
        exe = shutil.which(name, path=env.get("PATH", ""))
        if exe:
            return exe
    return None


def soffice_version(exe: str) -> str:
    """'LibreOffice 7.4.7.2 40(Build:2)' (for `novapress doctor`)."""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if lines else "version unknown"


def may_hold_emoji(markdown: str) -> bool:
    """Could marp turn something in this deck into a twemoji image? (Errs on the side of yes.)"""
    if _SHORTCODE.search(markdown):
        return True
    return any(ord(c) >= 0xA9 and (unicodedata.category(c) == "So" or c in _EMOJI_PARTS) for c in markdown)


def marp_version(marp: Path) -> str:
    """'4.5.1' (for `novapress doctor`)."""
    out = subprocess.run([str(marp), "--version"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    words = out.stdout.split()
    return next((w.lstrip("v") for w in words if w[:1] == "v" and w[1:2].isdigit()), out.stdout.strip())


class MarpRun:
    """One scratch folder (the TMPDIR of every marp call made through it), deleted on exit.

        with MarpRun(marp, browser, timeout) as run:
            run.convert(markdown, output, "pdf", theme_set=[...])
    """

    def __init__(self, marp: Path, browser: Browser | None, timeout: float, label: str = "deck",
                 lang: str | None = None, soffice: str | None = None):
        self.marp = Path(marp)
        self.browser = browser
        self.timeout = timeout
        self.label = label
        self.lang = lang          # <html lang> of the outputs, unless the deck sets its own
        self.soffice = soffice    # LibreOffice, for the editable PPTX
        self.dir: Path | None = None
        self.warnings: list[str] = []

    def __enter__(self) -> "MarpRun":
        self.dir = _short_temp_dir()
        (self.dir / "tmp").mkdir()
        # Two configs: with emoji kept as text, and without (the marp default, so a deck without
        # emoji builds as bare marp-cli builds it). Both carry the language when one is given;
        # otherwise marp takes it from the locale (LANG=C gives lang="C").
        lang = {"lang": self.lang} if self.lang else {}
        self.config = self.dir / "marp.config.json"
        self.config.write_text(json.dumps({**MARP_CONFIG, **lang}), encoding="utf-8")
        self.plain_config = self.dir / "marp.plain.json" if lang else None
        if self.plain_config:
            self.plain_config.write_text(json.dumps(lang), encoding="utf-8")
        return self

    def __exit__(self, *exc) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def command(self, markdown: Path, output: Path, fmt: str, *, theme_set: list[Path] = (),
                notes: bool = True, emoji_as_text: bool = True) -> list[str]:
        """The marp-cli command line (the input comes first: --theme-set takes every later path).

        Never a config file from the user's folders: the same deck builds the same everywhere.
        """
        if fmt not in FORMATS:
            raise ValueError(f"unknown deck format {fmt!r}")
        if emoji_as_text:
            config = ["--config-file", str(self.config)]
        else:
            config = ["--config-file", str(self.plain_config)] if self.plain_config else ["--no-config-file"]
        cmd = [str(self.marp), str(markdown), *config, "--allow-local-files", "--output", str(output)]
        for theme in theme_set:
            cmd.append(f"--theme-set={theme}")
        if fmt in NEEDS_BROWSER:
            if self.browser is None:
                raise BuildError(f"no browser for marp-cli (needed for {fmt.upper()}): {_NO_BROWSER_FIX}")
            cmd += ["--browser", self.browser.kind, "--browser-path", self.browser.path,
                    "--browser-timeout", str(max(30, int(self.timeout)))]
        if fmt == "pdf":
            cmd += ["--pdf"] + (["--pdf-notes", "--pdf-outlines"] if notes else [])
        elif fmt == "pptx":
            cmd.append("--pptx")
        elif fmt == "pptx-editable":
            cmd += ["--pptx", "--pptx-editable"]
        elif fmt == "png":
            cmd += ["--images", "png"]
        return cmd

    def convert(self, markdown: Path, output: Path, fmt: str, *, theme_set: list[Path] = (),
                notes: bool = True, emoji_as_text: bool = True) -> None:
        """Run marp once; raise BuildError with marp's own error line when it fails."""
        assert self.dir is not None, "use MarpRun as a context manager"
        cmd = self.command(markdown, output, fmt, theme_set=theme_set, notes=notes, emoji_as_text=emoji_as_text)
        env = dict(os.environ, TMPDIR=str(self.dir / "tmp"), NO_COLOR="1")
        env.pop("CHROME_PATH", None)  # the browser is chosen above and passed explicitly
        if self.soffice:
            env["SOFFICE_PATH"] = self.soffice
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise BuildError(f"{self.label}: marp-cli took more than {self.timeout:g} s making the "
                             f"{fmt.upper()} and was stopped; raise slides.timeout in novapress.yaml "
                             "if the deck is very large") from None
        log = stdout.decode("utf-8", "replace") + stderr.decode("utf-8", "replace")
        self.warnings += [w for w in marp_warnings(log) if not _expected_warning(w)]
        produced = output.exists() or (fmt == "png" and any(output.parent.glob(f"{output.stem}.*.png")))
        if proc.returncode != 0 or not produced:
            raise BuildError(f"{self.label}: marp-cli failed making the {fmt.upper()}: {marp_error(log)}")


def _expected_warning(text: str) -> bool:
    """marp-cli's notices about what novapress asked for on purpose (local files, the
    experimental editable PPTX) and LibreOffice's note that it runs without Java."""
    return ("Insecure local file accessing" in text or "pptx-editable" in text.lower()
            or "editable PPTX" in text or "javaldx" in text)


def _short_temp_dir() -> Path:
    """A scratch folder with a short path: Chromium puts a UNIX socket in TMPDIR, and a
    socket path over 107 bytes makes it exit at start ("Socket path too long")."""
    folder = Path(tempfile.mkdtemp(prefix="novapress-marp-"))
    if len(str(folder)) > 50 and os.access("/tmp", os.W_OK):
        shutil.rmtree(folder, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix="np-marp-", dir="/tmp"))
    return folder


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop marp and the browser it started (they share the session we gave marp)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _blocks(log: str, tag: str) -> list[str]:
    """The messages marp printed under `[ TAG ]`, each with its indented continuation lines."""
    out: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("[") and line.split("]", 1)[0].strip("[ ") == tag:
            parts = [line.split("]", 1)[1].strip()]
            for cont in lines[i + 1:]:
                if not cont.startswith(" " * 10) or cont.strip().startswith("TROUBLESHOOTING"):
                    break
                parts.append(cont.strip())
            out.append(" ".join(p for p in parts if p))
    return out


def marp_error(log: str) -> str:
    """One readable line for a failed marp run: its `[ ERROR ]` message, else its last warning."""
    errors = _blocks(log, "ERROR")
    if errors:
        text = errors[0]
    else:
        warnings = marp_warnings(log)
        text = warnings[-1] if warnings else "no output was written and marp printed no error"
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def marp_warnings(log: str) -> list[str]:
    return [" ".join(w.split()) for w in _blocks(log, "WARN")]
