"""The incremental build, proven input by input: for every kind of input (each storyboard, the cast,
the theme, novapress.yaml settings, a demo, the fonts, novapress's own code, an output deleted or
edited), change it and check that exactly the steps that depend on it run again, and that every
other output is left as it was (same bytes, not even rewritten). And a build target pulls in what
it needs: a deck asked for by name redraws the out-of-date page whose panel it shows first.

One small project (two pages, a deck, the site) with the tiny GPT-2 as its model, built once; the
changes are applied one after another to the same project, each followed by a build.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from renderer import steps
from renderer.cli import main

ROOT = Path(__file__).resolve().parent.parent

PAGE_1 = """\
page: 1
title: Hello
layout:
  - panels: [a, b]
panels:
  - id: a
    cast:
      - {who: nova, at: [0.35, 0.98], height: 0.75, pose: talking, expression: happy}
    text:
      - speech: "Welcome to the lab."
        who: nova
  - id: b
    text:
      - narration: "Station one."
"""

PAGE_2 = """\
page: 2
title: Tokens
demos: [q]
layout:
  - panels: [robot, data]
panels:
  - id: robot
    cast:
      - {who: tensor, at: [0.5, 0.97], height: 0.6, pose: pointing, expression: happy}
    text:
      - speech: "Beep. Tokens ahead."
        who: tensor
  - id: data
    scene:
      props:
        - {type: token_cubes, at: [0.05, 0.35, 0.9, 0.35], demo: q}
    text:
      - narration: "{{ demos.q.tokens | length }} tokens."
"""

DECK = """\
---
marp: true
novapress: {demos: [q]}
---

# {{ demos.q.prompt }}

![panel]({{ panels["page-01-a"] }})
"""

CONFIG = {
    "book": {"title": "Graph"},
    "demos": {"q": {"prompt": "The cat sat", "max_new_tokens": 3, "top_k": 3, "temperatures": [0.5, 1.0]}},
    "main_demo": "q",
    "comic": {"page_size": [560, 860], "formats": ["png", "pdf", "cbz"], "theme": "themes/mine.yaml"},
    "slides": {"formats": ["html"]},
    "site": {"lesson_demo": "q", "ask_demos": ["q"]},
}

PAGES = {"page:page-01-hello", "page:page-02-tokens"}
ALL = PAGES | {"live:q", "comic:package", "slides:talk", "site"}


def run(folder: Path, *args: str) -> int:
    cwd = os.getcwd()
    try:
        return main(["-C", str(folder), *args])
    finally:
        os.chdir(cwd)


class Recorder:
    """The steps a build ran (renderer.steps.BuildState.done), in order."""

    def __init__(self, monkeypatch):
        self.ran: list[str] = []
        done = steps.BuildState.done

        def recording(state, step, *args, **kwargs):
            self.ran.append(step)
            return done(state, step, *args, **kwargs)

        monkeypatch.setattr(steps.BuildState, "done", recording)


def outputs(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of build/ but the build's own records: its bytes and when it was last written."""
    out = folder / "build"
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (steps.MANIFEST, steps.STAT_CACHE)}


def step_outputs(folder: Path) -> dict[str, set[str]]:
    import json

    manifest = json.loads((folder / "build" / steps.MANIFEST).read_text())
    return {step: set(rec["outputs"]) for step, rec in manifest["steps"].items()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def edit_config(folder: Path, change) -> None:
    edit_yaml(folder / "novapress.yaml", change)


@pytest.fixture
def graph_project(tmp_path, tiny_gpt2_dir):
    folder = tmp_path / "graph"
    (folder / "storyboards").mkdir(parents=True)
    shutil.copy(ROOT / "storyboards" / "cast.yaml", folder / "storyboards")
    (folder / "storyboards" / "page-01-hello.yaml").write_text(PAGE_1)
    (folder / "storyboards" / "page-02-tokens.yaml").write_text(PAGE_2)
    (folder / "themes").mkdir()
    shutil.copy(ROOT / "renderer" / "themes" / "tech.yaml", folder / "themes" / "mine.yaml")
    (folder / "slides").mkdir()
    (folder / "slides" / "talk.md").write_text(DECK)
    config = dict(CONFIG, model={"id": str(tiny_gpt2_dir), "fallback": False}, live={"cache_dir": str(tmp_path / "cache")})
    (folder / "novapress.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def code_copy(tmp_path: Path) -> Path:
    """novapress's source, copied where a test may edit it (the code that runs stays the repo's)."""
    root = tmp_path / "code"
    for pkg in steps.PACKAGE_DIRS:
        shutil.copytree(ROOT / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_each_input_rebuilds_exactly_what_depends_on_it(graph_project, tmp_path, monkeypatch, capsys):
    folder = graph_project
    build = folder / "build"
    rec = Recorder(monkeypatch)
    code = code_copy(tmp_path)
    monkeypatch.setattr(steps, "CODE_ROOT", code)
    steps.code_hash.cache_clear()
    assert run(folder, "build", "-q") == 0, capsys.readouterr().err
    assert set(rec.ran) == ALL

    real_font_path = steps.font_path
    kalam = tmp_path / "fonts" / real_font_path("Kalam").name

    def font_copy():
        kalam.parent.mkdir(exist_ok=True)
        shutil.copy(real_font_path("Kalam"), kalam)
        monkeypatch.setattr(steps, "font_path", lambda family: kalam if family == "Kalam" else real_font_path(family))
        steps.fonts_hash.cache_clear()

    def new_font_release():
        kalam.write_bytes(kalam.read_bytes() + b"\0")    # another release of the font: other bytes
        steps.fonts_hash.cache_clear()

    site_script = str(next((code / "renderer" / "site").rglob("*.js")).relative_to(code))

    def edit_code(rel_path: str, line: str):
        def change():
            with open(code / rel_path, "a", encoding="utf-8") as f:
                f.write(line)
            steps.code_hash.cache_clear()
        return change

    # (what changes, the change, the steps that must run again: no more, no fewer)
    cases = [
        ("nothing", lambda: None, set()),
        ("storyboard of page 1 (its panel is in the deck)",
         lambda: edit(folder / "storyboards" / "page-01-hello.yaml", "Welcome to the lab.", "Welcome, Kai."),
         {"page:page-01-hello", "comic:package", "slides:talk", "site"}),
        ("storyboard of page 2",
         lambda: edit(folder / "storyboards" / "page-02-tokens.yaml", "Beep. Tokens ahead.", "Beep. Tokens!"),
         {"page:page-02-tokens", "comic:package", "site"}),
        ("the cast: Tensor's balloon (only page 2 shows Tensor)",
         lambda: edit(folder / "storyboards" / "cast.yaml", "balloon: robot", "balloon: normal"),
         {"page:page-02-tokens", "comic:package", "site"}),
        ("the cast: a member no page shows",
         lambda: edit(folder / "storyboards" / "cast.yaml", "name: Kai", "name: Kai Jr."), set()),
        ("the theme's balloon colour",
         lambda: edit_yaml(folder / "themes" / "mine.yaml", lambda t: t["balloon"].update(fill="#fffbe6")),
         PAGES | {"live:q", "comic:package", "slides:talk", "site"}),
        ("novapress.yaml: the comic's formats",
         lambda: edit_config(folder, lambda c: c["comic"].update(formats=["png", "pdf"])), {"comic:package"}),
        ("novapress.yaml: the page size",
         lambda: edit_config(folder, lambda c: c["comic"].update(page_size=[580, 860])),
         PAGES | {"comic:package", "slides:talk", "site"}),
        ("novapress.yaml: the book's title",
         lambda: edit_config(folder, lambda c: c["book"].update(title="Graph II")),
         PAGES | {"comic:package", "site"}),
        ("a demo's prompt",
         lambda: edit_config(folder, lambda c: c["demos"]["q"].update(prompt="The dog ran")),
         {"live:q", "page:page-02-tokens", "comic:package", "slides:talk", "site"}),
        ("the fonts (the same files: what letters with them runs again, nothing downstream changes)",
         font_copy, set()),
        ("the fonts (a new release)", new_font_release, PAGES | {"live:q", "site"}),
        ("code: how a balloon's shape is drawn", edit_code("renderer/balloons.py", "\n# changed\n"), PAGES),
        ("code: the site's script", edit_code(site_script, "\n// changed\n"), {"site"}),
        ("code: the deck builder", edit_code("renderer/deck/marp.py", "\n# changed\n"), {"slides:talk"}),
        ("code: the charts", edit_code("renderer/trace_charts.py", "\n# changed\n"), {"live:q"}),
        ("code: how every value reads", edit_code("live_demo/formatting.py", "\n# changed\n"),
         PAGES | {"live:q", "comic:package", "slides:talk", "site"}),
        ("a deleted panel", lambda: (build / "comic" / "panels" / "page-01-b.png").unlink(), {"page:page-01-hello"}),
        ("an edited page", lambda: (build / "comic" / "pages" / "page-02.png").write_bytes(b"not a png"),
         {"page:page-02-tokens"}),
        ("an edited trace", lambda: (build / "live" / "q.json").write_text("{}"), {"live:q"}),
        ("an edited deck", lambda: (build / "slides" / "talk.html").write_text("<p>old</p>"), {"slides:talk"}),
        ("a deleted transcript", lambda: (build / "comic" / "pages" / "page-01.md").unlink(), {"page:page-01-hello"}),
    ]
    wrong = []
    for name, change, expected in cases:
        before, made_by = outputs(folder), step_outputs(folder)
        change()
        rec.ran.clear()
        code_ = run(folder, "build", "-q")
        err = capsys.readouterr().err
        assert code_ == 0, f"{name}: {err}"
        if set(rec.ran) != expected:
            wrong.append(f"{name}: ran {sorted(rec.ran)}, expected {sorted(expected)}")
            continue
        after = outputs(folder)
        kept = {path for step, paths in made_by.items() if step not in expected for path in paths}
        for path in sorted(kept):
            if path in before and after.get(path) != before[path]:
                wrong.append(f"{name}: {path} was rewritten, but no step that makes it depended on the change")
        # and a second build right after has nothing to do
        rec.ran.clear()
        assert run(folder, "build", "-q") == 0
        if rec.ran:
            wrong.append(f"{name}: a second build ran {rec.ran} again")
    assert wrong == []


def test_a_deck_target_redraws_the_page_it_shows_first(graph_project, monkeypatch, capsys):
    """`novapress build talk` after a storyboard edit: the page whose panel the deck shows is
    redrawn, then the deck; `novapress build slides` (what `novapress present` runs) too."""
    folder = graph_project
    rec = Recorder(monkeypatch)
    assert run(folder, "build", "-q") == 0, capsys.readouterr().err
    panel = folder / "build" / "comic" / "panels" / "page-01-a.png"
    old_panel = panel.read_bytes()

    edit(folder / "storyboards" / "page-01-hello.yaml", "Welcome to the lab.", "Welcome, Kai.")
    rec.ran.clear()
    assert run(folder, "build", "talk", "-q") == 0, capsys.readouterr().err
    assert rec.ran == ["page:page-01-hello", "slides:talk"]           # the page first, then the deck
    assert panel.read_bytes() != old_panel      # the deck's HTML links it; its PDF and PNGs would show it

    # a page the deck does not show is not its business
    edit(folder / "storyboards" / "page-02-tokens.yaml", "Beep. Tokens ahead.", "Beep. Tokens!")
    rec.ran.clear()
    capsys.readouterr()
    assert run(folder, "build", "talk") == 0
    assert rec.ran == []
    assert "nothing to rebuild" in capsys.readouterr().err

    edit(folder / "storyboards" / "page-01-hello.yaml", "Welcome, Kai.", "Welcome back.")
    rec.ran.clear()
    assert run(folder, "build", "slides", "-q") == 0
    assert rec.ran == ["page:page-01-hello", "slides:talk"]

    # the site shows every page and the deck: asked for alone, it brings them up to date
    rec.ran.clear()
    assert run(folder, "build", "site", "-q") == 0
    assert rec.ran == ["page:page-02-tokens", "site"]
