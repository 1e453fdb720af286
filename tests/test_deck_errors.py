"""Broken decks and missing tools: one clear error naming deck, slide and cause; outputs kept."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from renderer.deck import build_deck
from renderer.deck.marp import Browser, MarpRun, find_browser, find_marp, marp_error
from renderer.errors import BuildError, InputError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "decks"
THEMES = ROOT / "slides" / "themes"


@pytest.fixture
def built(tmp_path):
    """A copy of the plain fixture deck, built once (HTML), and a snapshot of its outputs."""
    try:
        find_marp(ROOT)
    except BuildError as err:
        pytest.skip(str(err))
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "plain", src)
    out = tmp_path / "build"
    build_deck(src / "plain.md", out, context={}, formats=["html"], theme_dir=THEMES, timeout=120)
    return src / "plain.md", out


def snapshot(out: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*")) if p.is_file()}


def break_deck(deck: Path, old: str, new: str) -> None:
    text = deck.read_text(encoding="utf-8")
    assert old in text
    deck.write_text(text.replace(old, new, 1), encoding="utf-8")


def build_fails(deck: Path, out: Path, error=InputError, **kwargs):
    before = snapshot(out)
    options = dict(context={}, formats=["html", "pdf"], theme_dir=THEMES, timeout=120) | kwargs
    with pytest.raises(error) as err:
        build_deck(deck, out, **options)
    assert snapshot(out) == before, "a failed build changed the previous outputs"
    return err.value


def test_missing_image(built):
    deck, out = built
    break_deck(deck, "img/red.png", "img/nope.png")
    err = build_fails(deck, out)
    assert len(err.problems) == 1
    problem = err.problems[0]
    assert problem.file.endswith("plain.md") and problem.line == 22
    assert "slide 2" in problem.message and "img/nope.png" in problem.message and "not found" in problem.message


def test_image_that_is_not_an_image(built):
    deck, out = built
    (deck.parent / "img" / "red.png").write_bytes(b"not a png")
    err = build_fails(deck, out)
    assert "slide 2" in str(err) and "not a readable image" in str(err)


def test_unknown_theme(built):
    deck, out = built
    break_deck(deck, "theme: gaia", "theme: gaiaa")
    err = build_fails(deck, out)
    problem = err.problems[0]
    assert problem.line == 3 and "slide 1" in problem.message
    assert "unknown theme 'gaiaa'" in problem.message and "did you mean 'gaia'" in problem.message


def test_unknown_theme_in_a_comment_directive(built):
    deck, out = built
    break_deck(deck, "<!-- _class: lead -->", "<!-- theme: novapres -->")
    err = build_fails(deck, out)
    assert err.problems[0].line == 10 and "did you mean 'novapress'" in err.problems[0].message


def test_undefined_template_variable(built):
    deck, out = built
    break_deck(deck, "math: mathjax\n", "math: mathjax\nnovapress: {}\n")
    break_deck(deck, "## Math and tables", "## Math for {{ modl }}")  # line 42, 43 after the insert
    err = build_fails(deck, out, context={"model": "SmolLM2-135M"})
    problem = err.problems[0]
    assert problem.file.endswith("plain.md") and problem.line == 43 and "slide 4" in problem.message
    assert "modl" in problem.message and "did you mean 'model'" in problem.message


def test_hidden_browser_is_one_clear_line(built, monkeypatch):
    deck, out = built
    monkeypatch.setenv("CHROME_PATH", "/nowhere/chrome")
    err = build_fails(deck, out, error=BuildError)
    assert "CHROME_PATH=/nowhere/chrome" in str(err) and "\n" not in str(err)
    monkeypatch.delenv("CHROME_PATH")
    monkeypatch.setenv("PATH", "/nonexistent")
    err = build_fails(deck, out, error=BuildError)
    assert "no browser" in str(err) and "apt-get install chromium" in str(err) and "CHROME_PATH" in str(err)


def test_find_browser_order(tmp_path):
    def fake(name):
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
        return exe

    firefox = fake("firefox")
    assert find_browser({"PATH": str(tmp_path)}) == Browser(str(firefox), "firefox")
    chromium = fake("chromium")
    assert find_browser({"PATH": str(tmp_path)}) == Browser(str(chromium), "chrome")
    assert find_browser({"PATH": "", "CHROME_PATH": str(firefox)}).kind == "firefox"
    with pytest.raises(BuildError, match="CHROME_PATH"):
        find_browser({"PATH": str(tmp_path), "CHROME_PATH": str(tmp_path / "missing")})


def test_missing_marp_names_the_fix(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(BuildError, match=r"make deps.*npm ci"):
        find_marp(tmp_path)


def test_marp_error_is_the_error_line_not_the_javascript():
    log = ("[  INFO ] Converting 1 markdown...\n"
           "[ ERROR ] Failed converting Markdown. (Failed to launch the browser process:\n"
           "          Code: 1\n          \n          stderr:\n          boom\n"
           "          TROUBLESHOOTING: https://pptr.dev/troubleshooting\n          )\n"
           "/work/main/node_modules/@puppeteer/browsers/lib/cjs/launch.js:350\n"
           + "!function(e){var t=" * 500)
    message = marp_error(log)
    assert message.startswith("Failed converting Markdown. (Failed to launch the browser process: Code: 1")
    assert "boom" in message and "function" not in message and len(message) <= 400


def test_timeout_stops_marp_and_cleans_up(tmp_path):
    marp = find_marp(ROOT)
    deck = tmp_path / "d.md"
    deck.write_text("---\nmarp: true\n---\n\n# hi\n")
    run = MarpRun(marp, None, timeout=0.05, label="d.md")
    with run:
        scratch = run.dir
        with pytest.raises(BuildError, match="took more than"):
            run.convert(deck, tmp_path / "d.html", "html")
    assert not scratch.exists()
    leftovers = subprocess.run(["pgrep", "-f", str(deck)], capture_output=True, text=True).stdout.split()
    assert leftovers == [] or all(int(pid) == os.getpid() for pid in leftovers)
