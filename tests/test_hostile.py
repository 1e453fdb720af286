"""Hostile input: templates, YAML and storyboards built to hurt. Each is one clear error, fast."""
from __future__ import annotations

import pytest

from renderer.errors import InputError
from renderer.templating import TemplateProblem, render
from renderer.yamlsrc import load_yaml_text


@pytest.mark.parametrize("template, why", [
    ("{{ 'x' * 10**9 }}", "too many times"),
    ("{{ [1] * 10**8 }}", "too many times"),
    ("{{ 2 ** 100000000 }}", "exponent too large"),
    ("{{ range(10**9) | list }}", "Range too big"),
    ("{{ ().__class__.__mro__ }}", "unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "unsafe"),
    ("{{ nothing_here }}", "undefined name 'nothing_here'"),
    ("{% for %}", "syntax error"),
])
def test_templates_cannot_escape_or_exhaust(template, why):
    with pytest.raises(TemplateProblem) as err:
        render(template, {"demos": {}})
    assert why in err.value.message


def test_yaml_alias_bomb_is_refused():
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(8):
        prev, name = chr(97 + i), chr(98 + i)
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(InputError) as err:
        load_yaml_text("\n".join(rows) + "\n", "bomb.yaml")
    assert "more than 100000 values" in str(err.value)


def test_deep_nesting_is_refused():
    with pytest.raises(InputError) as err:
        load_yaml_text("a: " + "[" * 200 + "]" * 200 + "\n", "deep.yaml")
    assert "nests" in str(err.value)


def test_duplicate_keys_are_errors():
    with pytest.raises(InputError) as err:
        load_yaml_text("page: 1\ntitle: a\ntitle: b\n", "dup.yaml")
    assert "dup.yaml:3:1: duplicate key 'title' (first given on line 2)" in str(err.value)


def test_model_output_with_unknown_characters_draws_author_text_does_not():
    from PIL import Image

    from renderer.fonts import MissingGlyph, runs
    from renderer.geometry import Rect
    from renderer.lettering import draw_text_items
    from renderer.props import TextItem
    from renderer.theme import load_theme

    theme = load_theme("tech")
    image = Image.new("RGBA", (400, 100))
    drawn = draw_text_items(image, [TextItem("AI 你好", Rect(0, 0, 400, 100), role="mono")], theme, "test")
    assert len(drawn) == 1 and image.getbbox() is not None       # drawn, with a replacement mark
    with pytest.raises(MissingGlyph):
        runs("你好", "Kalam Bold")                                   # an author's balloon text: an error


def test_model_data_too_long_for_its_box_is_shortened_author_text_is_an_error():
    from PIL import Image

    from renderer.geometry import Rect
    from renderer.lettering import draw_text_items
    from renderer.props import TextItem
    from renderer.theme import load_theme

    theme = load_theme("tech")
    image = Image.new("RGBA", (400, 100))
    long = "after “" + "Explain quantum computing in simple terms " * 5 + "”"
    shortened: list = []
    drawn = draw_text_items(image, [TextItem(long, Rect(0, 0, 400, 40), data=True, name="chart title")], theme,
                            "test", min_text=25, shortened=shortened)
    assert len(drawn) == 1 and 0 < drawn[0].w <= 400
    [(item, shown)] = shortened
    assert item.text == long and shown.endswith("…") and shown.startswith("after “Explain")
    with pytest.raises(InputError, match="chart title does not fit"):
        draw_text_items(image, [TextItem(long, Rect(0, 0, 400, 40), name="chart title")], theme, "test", min_text=25)


def test_a_question_that_looks_like_a_template_is_drawn_as_typed():
    from renderer.templating import render

    trace = {"prompt": "{{ 7*7 }} {% raw %}"}
    assert render("after “{{ demos.q.prompt }}”", {"demos": {"q": trace}}) == "after “{{ 7*7 }} {% raw %}”"
