"""`novapress new page NAME`: a storyboard that names its schema, takes the next free page number
and renders as is under --strict; it never overwrites, and a bad name is one error with the fix."""
from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from PIL import Image

from renderer import schema
from test_build import PAGE, make_project, run


@pytest.fixture
def project(tmp_path, tiny_gpt2_dir):
    proj = make_project(tmp_path / "proj", {"page-03-old.yaml": PAGE.format(page=3, title="Old", words="Hi.")})
    (proj / "novapress.yaml").write_text(json.dumps({
        "model": {"id": str(tiny_gpt2_dir), "fallback": False},
        "live": {"cache_dir": str(tmp_path / "cache")},
        "main_demo": "question",
        "demos": {"question": {"prompt": "How does AI work?", "max_new_tokens": 4}},
        "site": False,
    }))
    return proj


def test_new_page_renders_as_is_under_strict(project, capsys):
    code, err = run(project, "new", "page", "my-page", capsys=capsys)
    assert code == 0, err
    path = project / "storyboards" / "page-04-my-page.yaml"       # after page 3, the last one
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("=", 1)[1]).resolve() == schema.SCHEMA_DIR / "storyboard.schema.json"
    board = yaml.safe_load(text)
    assert board["page"] == 4 and board["demos"] == ["question"] and len(board["panels"]) == 2
    assert {c["who"] for c in board["panels"][0]["cast"]} == {"nova", "kai"}
    validator = jsonschema.Draft202012Validator(json.loads((schema.SCHEMA_DIR / "storyboard.schema.json").read_text()))
    assert [e.message for e in validator.iter_errors(board)] == []

    code, err = run(project, "render", str(path), "--strict", capsys=capsys)
    assert code == 0, err
    assert "warning" not in err and "error" not in err
    with Image.open(project / "build" / "comic" / "pages" / "page-04.png") as page:
        page.load()
        assert page.size == (1988, 3056)        # the default page, as a new project has it
    transcript = (project / "build" / "comic" / "pages" / "page-04.md").read_text()
    assert "How does AI work?" in transcript and "{{" not in transcript


def test_new_page_never_overwrites(project, capsys):
    assert run(project, "new", "page", "mine", capsys=capsys)[0] == 0
    path = project / "storyboards" / "page-04-mine.yaml"
    path.write_text(path.read_text() + "# my edits\n")
    code, err = run(project, "new", "page", "mine", capsys=capsys)
    assert code == 2
    assert err.count("error:") == 1 and "page-04-mine.yaml: a page named 'mine' already exists" in err
    assert path.read_text().endswith("# my edits\n")
    assert sorted(p.name for p in (project / "storyboards").iterdir()) == ["cast.yaml", "page-03-old.yaml",
                                                                           "page-04-mine.yaml"]


@pytest.mark.parametrize("name, fix", [("My Page!", "try 'my-page'"), ("page-07-intro", "try 'novapress new page intro'"),
                                       ("under_score", "try 'under-score'")])
def test_a_bad_name_is_one_error_with_the_fix(project, capsys, name, fix):
    code, err = run(project, "new", "page", name, capsys=capsys)
    assert code == 2
    assert err.count("error:") == 1 and f"novapress new page '{name}'" in err and fix in err
    assert "Traceback" not in err
    assert sorted(p.name for p in (project / "storyboards").iterdir()) == ["cast.yaml", "page-03-old.yaml"]
