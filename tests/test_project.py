"""The project's settings as the stages read them: the site's demos from novapress.yaml, the
decks `present` serves, and --force on some targets keeping the record of the others."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from live_demo.spec import DemoSpec
from renderer.config import ProjectConfig, load_config
from renderer.errors import InputError
from renderer.site import site_demos
from renderer.site.server import engine_from_config
from renderer.stages import slides

from test_build import PAGE, make_project, run


def config_from(tmp_path: Path, text: str) -> ProjectConfig:
    (tmp_path / "novapress.yaml").write_text(text)
    return load_config(tmp_path)[0]


def test_the_site_demos_come_from_novapress_yaml(tmp_path):
    config = config_from(tmp_path, "demos:\n  q: {prompt: \"Why?\"}\n  walk: {prompt: The dog ran}\n"
                                   "  preset: {prompt: Hi, max_new_tokens: 7}\nmain_demo: q\n"
                                   "site:\n  lesson_demo: walk\n  ask_demos: [preset, q]\n")
    assert site_demos(config) == {"walk", "q", "preset"}
    assert engine_from_config(config).template == config.demos["preset"]   # Ask samples as its first preset


def test_the_site_defaults_and_the_false_switch(tmp_path):
    assert site_demos() == site_demos(ProjectConfig()) == {"cat", "question", "ask_sky", "ask_token"}
    assert config_from(tmp_path, "site: false\n").site.build is False
    assert config_from(tmp_path, "site: true\n").site.build is True
    with pytest.raises(InputError) as err:
        config_from(tmp_path, "site:\n  lesson_demos: cat\n")
    assert "novapress.yaml:2" in str(err.value.problems[0])
    assert engine_from_config(ProjectConfig(demos={"x": DemoSpec(prompt="?")}, main_demo="x")).template.prompt == "?"


def test_present_serves_the_decks_of_slides_sources(tmp_path, monkeypatch):
    (tmp_path / "novapress.yaml").write_text("slides: {sources: talks, theme_dir: talks/css}\n"
                                            "comic: {storyboards: pages}\n")
    seen = {}
    monkeypatch.setattr(slides, "present", lambda args, **kw: seen.update(kw) or 0)
    monkeypatch.chdir(tmp_path)
    assert slides.present_decks(object()) == 0
    assert seen == {"decks_dir": Path("talks"), "theme_dir": Path("talks/css"),
                    "watch": (Path("pages"), Path("novapress.yaml"))}


def test_force_on_one_page_keeps_the_record_of_the_others(tmp_path, capsys):
    project = make_project(tmp_path / "proj", {
        "page-01-a.yaml": PAGE.format(page=1, title="First", words="Hello, Kai."),
        "page-02-b.yaml": PAGE.format(page=2, title="Second", words="Tokens next."),
    })
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    assert run(project, "build", "page-01", "--force", "-q", capsys=capsys)[0] == 0
    steps = json.loads((project / "build" / "manifest.json").read_text())["steps"]
    assert {"page:page-01-a", "page:page-02-b", "comic:package"} <= set(steps)
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 0 and "nothing to rebuild" in err
