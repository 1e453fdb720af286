"""An author's mistakes, retried as a new user made them: each one gives one located error
(file:line:col) that names the fix, or the right result, never silent garbage.

Templates run against the book's real traces (tests/fixtures/book) without a model; project
errors run through the CLI on small projects in temp folders.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hostile_traces import load_book
from renderer.config import load_config
from renderer.draw import render_page
from renderer.errors import InputError
from renderer.project import Project
from renderer.stages.comic import render_context
from renderer.storyboard import load_cast, load_storyboard
from renderer.theme import load_theme
from test_build import CONFIG, PAGE, make_project, run

ROOT = Path(__file__).resolve().parent.parent

BOARD = """\
page: 30
title: My page
demos: [question]
layout:
  - height: 1
    panels: [intro, data]
panels:
  - id: intro
    cast:
      - {{who: nova, at: [0.3, 0.98], height: 0.8, pose: talking, expression: happy}}
    text:
      - speech: "The tokens."
        who: nova
  - id: data
    text:
      - narration: "Seen."
      - speech: "{speech}"
        who: nova
    cast:
      - {{who: nova, at: [0.5, 0.98], height: 0.8, pose: talking, expression: happy}}
"""


@pytest.fixture(scope="module")
def book():
    config, _ = load_config(ROOT)
    cast, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    project = Project(ROOT, config, load_theme(config.comic.theme), cast, [])
    return project, render_context(project, load_book())


def draw(book, tmp_path: Path, speech: str):
    """Draw a page whose second panel's speech is `speech`: (its error lines, or the render)."""
    project, ctx = book
    path = tmp_path / "page-30-mine.yaml"
    path.write_text(BOARD.format(speech=speech))
    sb = load_storyboard(path, cast=project.cast, demos=project.config.demos)
    try:
        return render_page(sb, ctx, only_panel={"data"})
    except InputError as err:
        return [str(p) for p in err.problems]


def column_of(needle: str, tmp_path: Path) -> str:
    """'line:col' of needle in the page written by draw()."""
    lines = (tmp_path / "page-30-mine.yaml").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if needle in line)
    return f"{row + 1}:{lines[row].index(needle) + 1}"


# --- template results must be text ---------------------------------------------------------

def test_an_unjoined_map_is_a_located_error_naming_the_expression(book, tmp_path):
    errors = draw(book, tmp_path, "Tokens: {{ demos.question.tokens | map('display') }}")
    assert isinstance(errors, list) and len(errors) == 1, errors
    err = errors[0]
    expr = "demos.question.tokens | map('display')"
    assert f"page-30-mine.yaml:{column_of(expr, tmp_path)}:" in err
    assert "{{ " + expr + " }}" in err and "not text" in err
    assert "| join(" in err and "map(attribute='display')" in err
    assert "generator object" not in err and "no room" not in err


def test_the_fixed_expression_draws_the_tokens(book, tmp_path):
    render = draw(book, tmp_path, "Tokens: {{ demos.question.tokens | map(attribute='display') | join(' ') }}")
    assert not isinstance(render, list), render
    spoken = " ".join(e.text for e in render.panels["data"].elements)
    first = load_book()["question"]["tokens"][0]["display"]
    assert first in spoken and "<generator" not in spoken


def test_a_list_printed_as_is_is_an_error_not_its_repr(book, tmp_path):
    errors = draw(book, tmp_path, "{{ demos.question.tokens }}")
    assert len(errors) == 1 and "gives a list of" in errors[0] and "[{" not in errors[0]


def test_a_misspelled_filter_suggests_the_nearest(book, tmp_path):
    errors = draw(book, tmp_path, "{{ demos.question.tokens | map(attribute='display') | joinn(' ') }}")
    assert len(errors) == 1
    assert "no filter named 'joinn'; did you mean 'join'?" in errors[0]
    assert f"page-30-mine.yaml:{column_of('joinn', tmp_path)}:" in errors[0]


def test_pct_on_a_list_names_the_filter_and_the_fix(book, tmp_path):
    errors = draw(book, tmp_path, "{{ demos.question.next_token.top | map(attribute='prob') | list | pct }}")
    assert len(errors) == 1
    assert "filter 'pct' cannot take a list" in errors[0] and "[0] | pct" in errors[0]


def test_map_of_a_field_name_hints_at_attribute(book, tmp_path):
    errors = draw(book, tmp_path, "{{ demos.question.tokens | map('text') | join(' ') }}")
    assert len(errors) == 1 and "map(attribute='text')" in errors[0]


def test_a_misspelled_field_suggests_the_nearest(book, tmp_path):
    errors = draw(book, tmp_path, "{{ demos.question.promt }}")
    assert len(errors) == 1 and "did you mean 'prompt'?" in errors[0]
    assert f":{column_of('demos.question.promt', tmp_path)}:" in errors[0]


# --- YAML and storyboard places --------------------------------------------------------------

def test_an_unquoted_colon_in_a_speech_says_quote_the_text(tmp_path, capsys):
    page = PAGE.format(page=1, title="First", words="x").replace(
        '      - speech: "x"\n', "      - speech: Note: the model reads tokens\n")
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": page})
    code, err = run(proj, "build", "comic", "-q", capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert "page-01-a.yaml:11:17:" in err and "must be quoted" in err
    assert 'speech: "Note: the model reads tokens"' in err


def test_places_in_messages_are_one_based_and_name_the_panel(tmp_path, capsys):
    page = PAGE.format(page=1, title="First", words="Hello").replace(
        "        who: nova\n", "        who: nova\n        place: upstairs\n", 1)
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": page})
    code, err = run(proj, "build", "comic", "-q", capsys=capsys)
    assert code == 2 and "page-01-a.yaml:13:" in err
    assert "panel 'a', text 1 (speech), place" in err
    assert "panels.0" not in err and "text.0" not in err


# --- demos: typos where they are, once -------------------------------------------------------

DEMO_CONFIG = CONFIG + """\
main_demo: question
demos:
  question: {prompt: "What is the capital of France?"}
  other: {prompt: "Say hello."}
"""

DEMO_PAGE = """\
page: 1
title: Data
demos: [{listed}]
layout:
  - height: 1
    panels: [a]
panels:
  - id: a
    scene:
      props:
        - {{type: prob_bars, at: [0.05, 0.3, 0.9, 0.5], demo: {used}}}
    text:
      - narration: "The tokens."
"""


def demo_project(tmp_path, listed: str, used: str) -> Path:
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": DEMO_PAGE.format(listed=listed, used=used)})
    (proj / "novapress.yaml").write_text(DEMO_CONFIG)
    return proj


def test_a_typo_in_the_pages_demos_is_one_error_there(tmp_path, capsys):
    code, err = run(demo_project(tmp_path, "questoin", "question"), "build", "comic", "-q", capsys=capsys)
    assert code == 2
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1, err
    assert "page-01-a.yaml:3:" in errors[0] and "did you mean 'question'?" in errors[0]


def test_a_typo_in_a_props_demo_suggests_the_pages_demo(tmp_path, capsys):
    code, err = run(demo_project(tmp_path, "question", "questoin"), "build", "comic", "-q", capsys=capsys)
    assert code == 2 and "page-01-a.yaml:11:" in err
    assert "did you mean 'question'?" in err and "add it to" not in err


def test_a_prop_showing_a_demo_the_page_does_not_list_says_add_it_there(tmp_path, capsys):
    code, err = run(demo_project(tmp_path, "question", "other"), "build", "comic", "-q", capsys=capsys)
    assert code == 2 and "page-01-a.yaml:11:" in err
    assert "add it there (demos: [question, other])" in err


# --- novapress.yaml ---------------------------------------------------------------------------

def test_a_misspelled_demo_setting_in_the_config_suggests_the_right_one(tmp_path, capsys):
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": PAGE.format(page=1, title="A", words="Hi")})
    (proj / "novapress.yaml").write_text(CONFIG + "demos:\n  question:\n    prompt: Hi\n    attenton: [0, 1]\n")
    code, err = run(proj, "build", "comic", "-q", capsys=capsys)
    assert code == 2 and "novapress.yaml:9:5:" in err and "did you mean 'attention'?" in err


def test_an_attention_head_the_model_lacks_is_located_before_it_loads(tmp_path, capsys, tiny_gpt2_dir,
                                                                       monkeypatch):
    import live_demo.cache

    def no_loading(*_args, **_kwargs):
        raise AssertionError("the model was loaded")
    monkeypatch.setattr(live_demo.cache, "_load", no_loading)
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": PAGE.format(page=1, title="A", words="Hi")})
    config = json.loads((tiny_gpt2_dir / "config.json").read_text())
    (proj / "novapress.yaml").write_text(
        CONFIG.replace("model: {id: gpt2}", f"model: {{id: '{tiny_gpt2_dir}', fallback: false}}")
        + "main_demo: q\ndemos:\n  q:\n    prompt: Hi\n    max_new_tokens: 2\n    attention: [0, 7]\n")
    code, err = run(proj, "build", "live", "-q", capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert "novapress.yaml:11:" in err
    assert "attention head 7 does not exist" in err and f"choose a head from 0 to {config['n_head'] - 1}" in err


# --- cast members on top of each other --------------------------------------------------------

OVERLAP = PAGE.replace(
    "      - {{who: nova, at: [0.3, 0.98], height: 0.8, pose: talking, expression: happy}}\n",
    "      - {{who: nova, at: [0.3, 0.98], height: 0.8, pose: talking, expression: happy}}\n"
    "      - {{who: kai, at: [{kai_x}, 0.98], height: 0.8, pose: watching, expression: happy}}\n")


def test_cast_members_on_the_same_spot_warn_and_fail_under_strict(tmp_path, capsys):
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": OVERLAP.format(
        page=1, title="A", words="Hi", kai_x=0.32)})
    code, err = run(proj, "build", "comic", "-q", capsys=capsys)
    assert code == 0 and re.search(r"page-01-a\.yaml:10:\d+: .*Kai and Dr\. Nova overlap", err), err
    assert "move one of them apart" in err
    code, err = run(proj, "build", "comic", "-q", "--strict", "--force", capsys=capsys)
    assert code == 2 and "overlap" in err


def test_cast_members_side_by_side_do_not_warn(tmp_path, capsys):
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": OVERLAP.format(
        page=1, title="A", words="Hi", kai_x=0.75)})
    code, err = run(proj, "build", "comic", "-q", "--strict", capsys=capsys)
    assert code == 0 and "overlap" not in err


# --- --prompt and --demo -----------------------------------------------------------------------

def test_prompt_for_a_page_that_does_not_show_the_main_demo_names_the_demo_to_replace(tmp_path, capsys):
    proj = demo_project(tmp_path, "other", "other")
    code, err = run(proj, "build", "page-01-a", "--prompt", "Why?", capsys=capsys)
    assert code == 2 and "--prompt replaces the prompt of demo 'question'" in err
    assert "--demo other" in err


def test_demo_without_prompt_and_an_unknown_demo_are_errors(tmp_path, capsys):
    proj = demo_project(tmp_path, "other", "other")
    code, err = run(proj, "build", "page-01-a", "--demo", "other", capsys=capsys)
    assert code == 2 and "give --prompt too" in err
    code, err = run(proj, "build", "page-01-a", "--prompt", "Why?", "--demo", "othr", capsys=capsys)
    assert code == 2 and "no demo named 'othr'" in err and "did you mean 'other'?" in err


def test_prompt_with_demo_replaces_that_demos_prompt(tmp_path, capsys, monkeypatch):
    """`build page-01 --prompt ... --demo other` asks the model for `other` with the new prompt
    (the run itself is replaced here: the demo it was given is what matters)."""
    import renderer.stages.live as live

    asked = {}

    def fake_traces(demos, config, **_kwargs):
        asked.update({name: spec.prompt for name, spec in demos.items()})
        raise InputError("stop here")
    monkeypatch.setattr(live, "demo_traces", fake_traces)
    monkeypatch.setattr(live, "get_traces", lambda demos, *a, **k: fake_traces(demos, None))
    proj = demo_project(tmp_path, "other", "other")
    code, err = run(proj, "build", "page-01-a", "--prompt", "Why is the sky blue?", "--demo", "other",
                    capsys=capsys)
    assert asked == {"other": "Why is the sky blue?"}, err
