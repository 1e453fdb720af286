"""The shipped JSON Schemas (schemas/*.schema.json) are what the pydantic models say, accept every
storyboard and the config in the repo, and reject the mistakes the build rejects, so an editor
with the YAML extension flags them while the author types."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from renderer import schema
from renderer.config import load_config
from renderer.errors import InputError
from renderer.storyboard import load_cast, load_storyboard

ROOT = Path(__file__).resolve().parent.parent
MODELINE = "# yaml-language-server: $schema=../schemas/storyboard.schema.json"
STORYBOARDS = sorted((ROOT / "storyboards").glob("page-*.yaml"))

GOOD = """\
page: 30
title: Mine
layout:
  - height: 1
    panels: [a]
panels:
  - id: a
    scene:
      props:
        - {type: conveyor_belt, at: [0.05, 0.4, 0.9, 0.35], stations: 4}
    text:
      - narration: "Hello."
"""

BAD = {
    "unknown top-level key": GOOD.replace("title: Mine", "titel: Mine"),
    "text kind misspelled": GOOD.replace("narration:", "naration:"),
    "page is not a number": GOOD.replace("page: 30", "page: thirty"),
    "unknown prop type": GOOD.replace("type: conveyor_belt", "type: conveyer_belt"),
    "prop parameter misspelled": GOOD.replace("stations: 4", "statons: 4"),
    "prop parameter of the wrong type": GOOD.replace("stations: 4", "stations: many"),
    "unknown background": GOOD.replace("    scene:\n", "    scene:\n      background: moon\n"),
}


def validator(name: str) -> jsonschema.Draft202012Validator:
    data = json.loads((schema.SCHEMA_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(data)
    return jsonschema.Draft202012Validator(data)


def test_the_shipped_schemas_are_what_the_code_generates():
    assert schema.main(["--check"]) == 0, "run: python -m renderer.schema"


@pytest.mark.parametrize("path", STORYBOARDS, ids=lambda p: p.stem)
def test_every_storyboard_validates_and_names_the_schema(path):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    assert (path.parent / MODELINE.split("=", 1)[1]).resolve() == schema.SCHEMA_DIR / "storyboard.schema.json"
    errors = [e.message for e in validator("storyboard.schema.json").iter_errors(yaml.safe_load(text))]
    assert errors == []


def test_the_config_validates_and_a_misspelled_demo_setting_does_not():
    config = yaml.safe_load((ROOT / "novapress.yaml").read_text(encoding="utf-8"))
    check = validator("novapress.schema.json")
    assert list(check.iter_errors(config)) == []
    config["demos"]["question"]["attenton"] = [0, 1]
    assert any("attenton" in e.message for e in check.iter_errors(config))


def test_a_good_page_validates():
    assert list(validator("storyboard.schema.json").iter_errors(yaml.safe_load(GOOD))) == []


@pytest.mark.parametrize("what", BAD)
def test_the_schema_rejects_what_the_build_rejects(what, tmp_path):
    data = yaml.safe_load(BAD[what])
    assert list(validator("storyboard.schema.json").iter_errors(data)), f"the schema accepted: {what}"
    path = tmp_path / "page-30-mine.yaml"
    path.write_text(BAD[what])
    config, _ = load_config(ROOT)
    cast, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    with pytest.raises(InputError):
        load_storyboard(path, cast=cast, demos=config.demos)
