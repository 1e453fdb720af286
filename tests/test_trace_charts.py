"""Charts of a trace (renderer.trace_charts): deterministic bytes, model named, tokens shown as on cubes,
in the theme's chart colours."""
from __future__ import annotations

import pytest
from PIL import Image

from live_demo.spec import DemoSpec
from live_demo.trace import run_demo
from renderer import trace_charts as charts
from renderer.theme import THEMES_DIR, load_theme

THEME = load_theme("tech")


@pytest.fixture(scope="module")
def trace(tiny_gpt2):
    return run_demo(tiny_gpt2, "q", DemoSpec(prompt="How does AI work?", max_new_tokens=5, top_k=6, num_beams=2),
                    seed=3)


CHARTS = [("topk", lambda t, p, v: charts.topk_chart(t, p, THEME, v)),
          ("temperatures", lambda t, p, v: charts.temperature_chart(t, p, THEME, v)),
          ("steps", lambda t, p, v: charts.steps_chart(t, "top_p", p, THEME, v))]


@pytest.mark.parametrize("name, draw", CHARTS)
@pytest.mark.parametrize("variant", ["dark", "light"])
def test_charts_are_deterministic_png_and_svg(trace, tmp_path, name, draw, variant):
    for ext in ("png", "svg"):
        a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
        draw(trace, a, variant)
        draw(trace, b, variant)
        assert a.read_bytes() == b.read_bytes(), f"{name} {variant} {ext} differs between two renders"
    with Image.open(tmp_path / "a.png") as img:
        assert img.width >= 1200 and img.format == "PNG" and "Software" not in img.info
    svg = (tmp_path / "a.svg").read_text()
    assert svg.startswith("<?xml") and "<dc:date>" not in svg


def test_variants_use_their_own_background(trace, tmp_path):
    charts.topk_chart(trace, tmp_path / "dark.png", THEME, "dark")
    charts.topk_chart(trace, tmp_path / "light.png", THEME, "light")
    dark = Image.open(tmp_path / "dark.png").convert("RGB").getpixel((2, 2))
    light = Image.open(tmp_path / "light.png").convert("RGB").getpixel((2, 2))
    assert dark == (0x0b, 0x12, 0x33) and light == (255, 255, 255)


def texts(fig) -> list[str]:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts] + [t.get_text() for t in ax.get_yticklabels()]
        found.append(ax.get_title(loc="left"))
    return found


def test_every_chart_names_the_model_and_labels_tokens_visibly(trace):
    model_line = f"model: {trace['model']['display']}"
    figures = [charts.topk_figure(trace, THEME), charts.temperature_figure(trace, THEME, "light"),
               charts.steps_figure(trace, "greedy", THEME)]
    for fig in figures:
        assert model_line in texts(fig)
    top = trace["next_token"]["top"]
    shown = texts(figures[0])
    assert all(t["display"] in shown for t in top)
    assert any(s.endswith("%") for s in shown)
    assert [f"T = {p['t']:g}" in " ".join(texts(figures[1])) for p in trace["next_token"]["temperatures"]] == \
        [True] * len(trace["next_token"]["temperatures"])


def test_bad_requests_are_refused(trace, tmp_path):
    with pytest.raises(ValueError, match=".png or .svg"):
        charts.topk_chart(trace, tmp_path / "chart.jpg", THEME)
    with pytest.raises(ValueError, match="variant"):
        charts.topk_chart(trace, tmp_path / "chart.png", THEME, "sepia")
    with pytest.raises(ValueError, match="no strategy"):
        charts.steps_chart(trace, "typical", tmp_path / "chart.png", THEME)


def test_chart_colours_are_the_themes(trace, tmp_path):
    charts_of = dict(THEME.charts)
    charts_of["dark"] = charts_of["dark"].model_copy(update={"background": "#102030"})
    other = THEME.model_copy(update={"charts": charts_of})
    charts.topk_chart(trace, tmp_path / "other.png", other, "dark")
    assert Image.open(tmp_path / "other.png").convert("RGB").getpixel((2, 2)) == (0x10, 0x20, 0x30)


def test_an_unknown_chart_colour_is_a_located_theme_error(tmp_path):
    from renderer.errors import InputError

    text = (THEMES_DIR / "tech.yaml").read_text().replace("bar: cyan", "bar: cyann")
    (tmp_path / "mine.yaml").write_text(text)
    with pytest.raises(InputError) as err:
        load_theme(str(tmp_path / "mine.yaml"))
    assert "unknown colour 'cyann'" in str(err.value) and "did you mean 'cyan'" in str(err.value)
