"""The build command from the outside: exit codes, error lines, untouched outputs on bad input,
and incremental rebuilds proven from build/manifest.json. Uses small projects in temp folders
whose pages need no model run.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from renderer.cli import main

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
model: {id: gpt2}
comic:
  page_size: [800, 1230]
  formats: [png, pdf, cbz]
site: false
"""

PAGE = """\
page: {page}
title: {title}
layout:
  - height: 1
    panels: [a, b]
panels:
  - id: a
    cast:
      - {{who: nova, at: [0.3, 0.98], height: 0.8, pose: talking, expression: happy}}
    text:
      - speech: "{words}"
        who: nova
  - id: b
    scene:
      props:
        - {{type: station, at: [0.2, 0.3, 0.6, 0.5], number: 2}}
    text:
      - narration: "Station two."
"""


def make_project(folder: Path, pages: dict[str, str]) -> Path:
    (folder / "storyboards").mkdir(parents=True)
    shutil.copy(ROOT / "storyboards" / "cast.yaml", folder / "storyboards" / "cast.yaml")
    (folder / "novapress.yaml").write_text(CONFIG)
    for name, text in pages.items():
        (folder / "storyboards" / name).write_text(text)
    return folder


def run(folder: Path, *args: str, capsys=None) -> tuple[int, str]:
    cwd = os.getcwd()
    try:
        code = main(["-C", str(folder), *args])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err if capsys else ""
    return code, err


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "proj", {
        "page-01-a.yaml": PAGE.format(page=1, title="First", words="Hello, Kai."),
        "page-02-b.yaml": PAGE.format(page=2, title="Second", words="Tokens next."),
    })


def test_build_incremental_from_the_manifest(project, capsys):
    code, _ = run(project, "build", "comic", "-q", capsys=capsys)
    assert code == 0
    comic = project / "build" / "comic"
    assert sorted(p.name for p in (comic / "pages").iterdir()) == ["page-01.md", "page-01.png", "page-02.md", "page-02.png"]
    assert (comic / "comic.pdf").exists() and (comic / "comic.cbz").exists()
    first = json.loads((project / "build" / "manifest.json").read_text())
    # every output is listed with the hashes it was made from
    assert first["outputs"]["comic/pages/page-01.png"]["inputs"]["storyboard"]
    before = tree(project / "build")

    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 0 and "nothing to rebuild" in err
    assert tree(project / "build") == before

    # touch one storyboard: only its page and what contains it (PDF, CBZ) are rebuilt
    sb = project / "storyboards" / "page-02-b.yaml"
    sb.write_text(sb.read_text().replace("Tokens next.", "Batches next."))
    stamp = (comic / "pages" / "page-01.png").stat().st_mtime_ns
    code, _ = run(project, "build", "comic", "-q", capsys=capsys)
    assert code == 0
    second = json.loads((project / "build" / "manifest.json").read_text())
    changed = {s for s in second["steps"] if second["steps"][s]["key"] != first["steps"][s]["key"]}
    assert changed == {"page:page-02-b", "comic:package"}
    assert (comic / "pages" / "page-01.png").stat().st_mtime_ns == stamp
    assert "Batches next." in (comic / "pages" / "page-02.md").read_text()


BROKEN = {
    "bad yaml": ("page: 1\ntitle: [unclosed\n", ["page-01-a.yaml:2", "invalid YAML"]),
    "unknown cast member": (PAGE.format(page=1, title="T", words="Hi").replace("who: nova, at", "who: kia, at"),
                            ["page-01-a.yaml:9:", "unknown cast member 'kia'; did you mean 'kai'?"]),
    "unknown pose": (PAGE.format(page=1, title="T", words="Hi").replace("pose: talking", "pose: talkin"),
                     ["page-01-a.yaml:9:", "unknown pose 'talkin' for nova; did you mean 'talking'?"]),
    "missing text": (PAGE.format(page=1, title="T", words="Hi").replace('speech: "Hi"', 'speech: ""'),
                     ["page-01-a.yaml:11:", "the speech text is empty"]),
    "text too long": (PAGE.format(page=1, title="T", words=" ".join(["tokens"] * 400)),
                      ["page-01-a.yaml:", "panel 'a'", "too long"]),
    "unknown field": (PAGE.format(page=1, title="T", words="Hi").replace("narration:", "narator:"),
                      ["page-01-a.yaml:18:9:", "unknown field 'narator'; did you mean 'narration'?"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_storyboard_is_one_clear_error_and_build_untouched(project, capsys, case):
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    before = tree(project / "build")
    text, expected = BROKEN[case]
    (project / "storyboards" / "page-01-a.yaml").write_text(text)
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for part in expected:
        assert part in lines[0], (part, lines[0])
    assert tree(project / "build") == before


def test_every_problem_reported_at_once(project, capsys):
    text = PAGE.format(page=1, title="T", words="Hi").replace("who: nova, at", "who: kia, at").replace(
        "narration:", "narator:").replace("number: 2", "number: two")
    (project / "storyboards" / "page-01-a.yaml").write_text(text)
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 2
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 3, err


def test_bad_config_and_bad_usage_exit_2_in_one_line(project, capsys):
    (project / "novapress.yaml").write_text(CONFIG + "seed: many\n")
    code, err = run(project, "build", capsys=capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "novapress.yaml:6:7:" in err and "seed" in err
    (project / "novapress.yaml").write_text(CONFIG)
    code, err = run(project, "build", "--frobnicate", capsys=capsys)
    assert code == 2 and "unrecognized arguments: --frobnicate" in err and err.count("\n") == 1
    code, err = run(project, "build", "nosuchtarget", capsys=capsys)
    assert code == 2 and "unknown build target 'nosuchtarget'" in err


def test_no_browser_fails_with_one_line_and_keeps_outputs(project, capsys, monkeypatch):
    slides = project / "slides"
    slides.mkdir()
    (slides / "deck.md").write_text("---\nmarp: true\n---\n\n# Hello\n")
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    before = tree(project / "build")
    monkeypatch.setenv("CHROME_PATH", str(project / "no-such-browser"))
    code, err = run(project, "build", capsys=capsys)
    assert code == 1
    assert err.count("\n") == 1 and "CHROME_PATH" in err and "Chromium" in err
    monkeypatch.delenv("CHROME_PATH")
    monkeypatch.setenv("PATH", "/nonexistent")
    code, err = run(project, "build", capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "install Chromium" in err
    assert tree(project / "build") == before


def test_doctor_reports_what_is_there(project, capsys, monkeypatch):
    import importlib.metadata

    code, _ = run(project, "doctor", capsys=None)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"torch                        ok       {importlib.metadata.version('torch')}" in out
    assert "marp-cli                     ok       4.5." in out
    assert "model a build uses" in out
    monkeypatch.setenv("CHROME_PATH", "/nowhere/chrome")
    code, _ = run(project, "doctor", capsys=None)
    out = capsys.readouterr().out
    assert code == 1
    assert "browser (marp PDF/PNG/PPTX)  MISSING  CHROME_PATH=/nowhere/chrome is not an executable browser" in out


def test_two_builds_are_byte_identical_and_honour_source_date_epoch(project, capsys, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run(project, "build", "comic", "-q", "--out", "one", capsys=capsys)[0] == 0
    assert run(project, "build", "comic", "-q", "--out", "two", capsys=capsys)[0] == 0
    monkeypatch.setenv("NOVAPRESS_JOBS", "1")                    # all in one process: the same bytes
    assert run(project, "build", "comic", "-q", "--out", "three", capsys=capsys)[0] == 0
    one, two, three = tree(project / "one"), tree(project / "two"), tree(project / "three")
    for t in (one, two, three):
        t.pop(".stat-cache.json")                                  # a cache of file times, not an output
    assert one == two == three
    assert PdfReader(project / "one" / "comic" / "comic.pdf").metadata["/CreationDate"] == "D:20231114221320Z"


def test_render_one_page_or_one_panel(project, capsys):
    sb = str(project / "storyboards" / "page-02-b.yaml")
    assert run(project, "render", sb, "--panel", "b", "-q", capsys=capsys)[0] == 0
    assert [p.name for p in (project / "build" / "comic").rglob("*.png")] == ["page-02-b.png"]
    assert run(project, "render", sb, "-q", capsys=capsys)[0] == 0
    names = sorted(p.name for p in (project / "build" / "comic").rglob("*") if p.is_file())
    assert names == ["page-02-a.png", "page-02-b.png", "page-02.md", "page-02.png"]
    code, err = run(project, "render", sb, "--panel", "c", capsys=capsys)
    assert code == 2 and "no panel 'c'" in err


def test_unknown_colours_are_located_input_errors(project, capsys):
    sb = project / "storyboards" / "page-02-b.yaml"
    text = sb.read_text().replace("{type: station, at: [0.2, 0.3, 0.6, 0.5], number: 2}",
                                  "{type: station, at: [0.2, 0.3, 0.6, 0.5], number: 2, color: magneta}")
    sb.write_text(text + '      - label: "SIGN"\n        color: "#12x"\n')
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "Traceback" not in err
    assert "unknown colour 'magneta'; did you mean 'magenta'?" in err      # a near miss is named
    assert "unknown colour '#12x'" in err


def test_removed_panels_and_pages_leave_no_stale_files(project, capsys):
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    panels = project / "build" / "comic" / "panels"
    assert (panels / "page-02-b.png").exists()
    sb = project / "storyboards" / "page-02-b.yaml"
    sb.write_text(sb.read_text().replace("panels: [a, b]", "panels: [a]").split("  - id: b")[0])
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    assert not (panels / "page-02-b.png").exists() and (panels / "page-02-a.png").exists()
    (project / "storyboards" / "page-01-a.yaml").unlink()
    code, err = run(project, "build", "-q", capsys=capsys)
    assert code == 0, err
    assert sorted(p.name for p in (project / "build" / "comic" / "pages").iterdir()) == ["page-02.md", "page-02.png"]


def test_a_broken_description_template_is_a_located_error(project, capsys):
    sb = project / "storyboards" / "page-02-b.yaml"
    sb.write_text(sb.read_text().replace("  - id: a\n", "  - id: a\n    description: \"{{ demos.nothing }}\"\n", 1))
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 2 and "page-02-b.yaml:8:" in err and "undefined" in err
