"""End to end with a real model run: a project whose model is the tiny GPT-2 (built in the test
with the real GPT-2 tokenizer). A new prompt redraws what shows the question's data and nothing
else; bad prompts and unknown models are clear input errors.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from renderer.cli import main

ROOT = Path(__file__).resolve().parent.parent

PAGE_DATA = """\
page: 2
title: Tokens
demos: [question]
layout:
  - panels: [plain, data]
panels:
  - id: plain
    cast:
      - {who: kai, at: [0.5, 0.98], height: 0.8, pose: asking, expression: happy}
    text:
      - speech: "What does the model see?"
        who: kai
  - id: data
    scene:
      props:
        - {type: token_cubes, at: [0.05, 0.3, 0.9, 0.4], demo: question}
    text:
      - narration: "{{ demos.question.tokens | length }} tokens."
"""

PAGE_PLAIN = """\
page: 1
title: Hello
layout:
  - panels: [a]
panels:
  - id: a
    cast:
      - {who: nova, at: [0.5, 0.98], height: 0.8, pose: talking, expression: happy}
    text:
      - speech: "Welcome."
        who: nova
"""


@pytest.fixture
def live_project(tmp_path, tiny_gpt2_dir):
    folder = tmp_path / "proj"
    (folder / "storyboards").mkdir(parents=True)
    shutil.copy(ROOT / "storyboards" / "cast.yaml", folder / "storyboards")
    (folder / "storyboards" / "page-01.yaml").write_text(PAGE_PLAIN)
    (folder / "storyboards" / "page-02.yaml").write_text(PAGE_DATA)
    (folder / "novapress.yaml").write_text(f"""\
model: {{id: "{tiny_gpt2_dir}", fallback: false}}
demos:
  question: {{prompt: "How does AI work?", max_new_tokens: 3, top_k: 3}}
comic: {{page_size: [700, 1000], formats: [png]}}
site: false
""")
    return folder


def run(folder: Path, *args: str) -> int:
    cwd = os.getcwd()
    try:
        return main(["-C", str(folder), *args])
    finally:
        os.chdir(cwd)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "build" / "manifest.json").read_text())["steps"]


def test_new_prompt_redraws_only_what_shows_it(live_project, capsys):
    assert run(live_project, "build", "comic", "-q") == 0
    trace = json.loads((live_project / "build" / "live" / "question.json").read_text())
    assert [t["id"] for t in trace["tokens"]] == [2437, 857, 9552, 670, 30]
    panels = live_project / "build" / "comic" / "panels"
    before = {p.name: p.read_bytes() for p in panels.iterdir()}
    first = manifest(live_project)

    assert run(live_project, "build", "comic", "-q", "--prompt", "Why is the sky blue?") == 0
    trace = json.loads((live_project / "build" / "live" / "question.json").read_text())
    assert trace["prompt"] == "Why is the sky blue?"
    after = {p.name: p.read_bytes() for p in panels.iterdir()}
    second = manifest(live_project)
    changed = {s for s in second if second[s]["key"] != first[s]["key"]}
    assert changed == {"live:question", "page:page-02", "comic:package"}
    assert after["page-02-data.png"] != before["page-02-data.png"]      # the tokens panel shows the new prompt
    assert after["page-02-plain.png"] == before["page-02-plain.png"]    # the panel without data is the same
    assert after["page-01-a.png"] == before["page-01-a.png"]
    md = (live_project / "build" / "comic" / "pages" / "page-02.md").read_text()
    assert f"{len(trace['tokens'])} tokens." in md


def test_bad_prompts_and_unknown_model_are_input_errors(live_project, capsys):
    assert run(live_project, "build", "comic", "--prompt", "   ") == 2
    assert "prompt is empty" in capsys.readouterr().err
    long_prompt = "tokens " * 1100                                  # tiny GPT-2 reads 1024 positions
    assert run(live_project, "build", "comic", "--prompt", long_prompt) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: --prompt: ") and "1024" in errors[0]
    cfg = live_project / "novapress.yaml"
    cfg.write_text(cfg.read_text().replace(str(Path(cfg.read_text().split('"')[1])), "no-such-org/no-such-model"))
    assert run(live_project, "build", "comic", "--no-fallback") == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no-such-org/no-such-model" in errors[0]
    assert not (live_project / "build" / "comic").exists()
