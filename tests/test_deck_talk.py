"""The deck as a talk: legible from the back row, animated on screen, editable in PowerPoint.

Legibility is measured twice, independently: by the build (renderer.deck.legibility, Chromium
--dump-dom) and here through Playwright, from the text boxes of the real rendered slides and
from the font sizes matplotlib draws the charts with. A planted tiny label must be caught.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from renderer import trace_charts as charts
from renderer.cli import main as novapress
from renderer.config import ProjectConfig, load_config
from renderer.deck import build_deck
from renderer.deck.bench import sample_context
from renderer.deck.legibility import MIN_TEXT_KEY
from renderer.deck.marp import find_browser, find_marp, find_soffice
from renderer.deck.pptx import slide_texts
from renderer.deck.source import reflow_notes
from renderer.errors import BuildError, InputError
from renderer.theme import load_theme

from conftest import playwright_chromium

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "slides" / "llm-inference-pipeline.md"
THEMES = ROOT / "slides" / "themes"
CHROMIUM = playwright_chromium()
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MIN_PX = 18.0
THEME = load_theme("tech")


def _tools_or_skip():
    try:
        find_marp(ROOT)
        find_browser()
    except BuildError as err:
        pytest.skip(str(err))
    if CHROMIUM is None:
        pytest.skip("no Chromium or Chrome on PATH for Playwright (apt install chromium, or set CHROME_PATH)")


class Collect:
    def __init__(self):
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def info(self, _message):
        pass

    def step(self, _message):
        pass


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """The book's deck from the fixture traces, HTML + PNG, with the real slide chart."""
    _tools_or_skip()
    out = tmp_path_factory.mktemp("talk") / "build"
    context = sample_context(out)
    q = context["demos"]["question"]
    charts.temperature_slide_chart(q, out / context["charts"]["question"]["temperatures_slide"], THEME)
    reporter = Collect()
    written = build_deck(DECK, out, context=context, formats=["html", "png"], theme_dir=THEMES, timeout=300,
                         reporter=reporter, strict=False)
    return out, context, written, reporter


def measure_in_playwright(html: Path, reduced_motion: bool = True) -> list[dict]:
    """Per slide: every text element's size in 1280x720 px, and each image's shown box."""
    from playwright.sync_api import sync_playwright

    script = """() => Array.from(document.querySelectorAll('svg[data-marpit-svg]')).map((svg, i) => {
      const out = {slide: i + 1, texts: [], images: []};
      for (const section of svg.querySelectorAll(':scope > foreignObject > section')) {
        const sr = section.getBoundingClientRect();
        if (!section.offsetHeight || !sr.height) continue;
        const perSlidePx = sr.height / section.offsetHeight;          // page px per slide px
        const to720 = 720 / section.offsetHeight;
        for (const el of section.querySelectorAll('*')) {
          const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.nodeValue.trim());
          if (!own || el.closest('svg:not([data-marpit-svg])') || !el.getClientRects().length) continue;
          let ref = el;   // a wide block above it: its shown/laid-out width is every scale applied
          while (ref !== section && (ref.offsetWidth < 200 || getComputedStyle(ref).display === 'inline')) ref = ref.parentElement;
          const scale = ref.getBoundingClientRect().width / ref.offsetWidth / perSlidePx;
          out.texts.push({text: el.textContent.trim().slice(0, 40),
                          px: parseFloat(getComputedStyle(el).fontSize) * scale * to720});
        }
        for (const el of section.querySelectorAll('img, figure')) {
          const r = el.getBoundingClientRect();
          const bg = getComputedStyle(el).backgroundImage.match(/url\\("?([^")]+)"?\\)/);
          const src = el.tagName === 'IMG' ? el.currentSrc : (bg ? bg[1] : '');
          if (src) out.images.push({src, w: r.width / perSlidePx * to720, h: r.height / perSlidePx * to720});
        }
      }
      return out;
    })"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720},
                                    reduced_motion="reduce" if reduced_motion else "no-preference")
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            page.add_style_tag(content="svg[data-marpit-svg]{content-visibility:visible!important}")
            return page.evaluate(script)
        finally:
            browser.close()


# --- legibility --------------------------------------------------------------------------------

def test_book_deck_text_is_at_least_18px_on_every_slide(talk):
    out, _, written, reporter = talk
    assert written.warnings == [] and not [w for w in reporter.warnings if "px high" in w], reporter.warnings
    measured = measure_in_playwright(out / "slides" / "llm-inference-pipeline.html")
    assert len(measured) == 35
    small = [(s["slide"], t["text"], round(t["px"], 1)) for s in measured for t in s["texts"] if t["px"] < MIN_PX - 0.25]
    assert small == []
    assert sum(len(s["texts"]) for s in measured) > 300      # really measured every slide


def test_slide_chart_labels_are_large_and_declared(talk):
    out, context, _, _ = talk
    q = context["demos"]["question"]
    fig = charts.temperature_slide_figure(q, THEME)
    import matplotlib.text
    smallest_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
                      if t.get_visible() and t.get_text().strip())
    # a figure inch is 100 slide px: points -> slide px at the width the slide shows it
    assert smallest_pt * 100 / 72 >= charts.SLIDE_MIN_PX - 0.01
    png = out / context["charts"]["question"]["temperatures_slide"]
    with Image.open(png) as im:
        declared = float(im.text[MIN_TEXT_KEY])
        assert declared == pytest.approx(charts.min_text_px(fig), abs=0.1)
        width = im.width
    # shown on its slide: the Playwright box of the image gives the scale
    measured = measure_in_playwright(out / "slides" / "llm-inference-pipeline.html")
    chart = next(i for s in measured for i in s["images"] if i["src"].endswith("temperatures_slide.png"))
    assert declared * chart["w"] / width >= MIN_PX
    # the old all-purpose chart would not be legible at the same width
    assert charts.min_text_px(charts.steps_figure(q, "top_p", THEME)) * chart["w"] / (9 * charts.DPI) < MIN_PX


PLANTED = """---
marp: true
theme: novapress
---

# A title

---

## Planted

<style scoped>.tiny { font-size: 11px; }</style>

Normal text and <span class="tiny">a planted tiny label</span>

![chart](chart.png)
"""


def _planted(tmp_path: Path) -> Path:
    deck = tmp_path / "planted.md"
    deck.write_text(PLANTED, encoding="utf-8")
    # a "chart" that declares 20 px text, 2000 px wide: Marp shows it at most slide-wide, so under 18 px
    img = Image.new("RGB", (2000, 400), (20, 20, 60))
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text(MIN_TEXT_KEY, "20.0")
    img.save(tmp_path / "chart.png", pnginfo=info)
    return deck


def test_a_planted_tiny_label_and_chart_warn_located(tmp_path):
    _tools_or_skip()
    deck = _planted(tmp_path)
    reporter = Collect()
    written = build_deck(deck, tmp_path / "build", context={}, formats=["html"], theme_dir=THEMES, timeout=120,
                         reporter=reporter, strict=False)
    messages = [str(w) for w in written.warnings]
    label = next(m for m in messages if "a planted tiny label" in m)
    line = PLANTED.splitlines().index("Normal text and <span class=\"tiny\">a planted tiny label</span>") + 1
    assert re.match(rf".*planted\.md:{line}:\d+: slide 2: text 'a planted tiny label' is 11 px high", label), label
    chart = next(m for m in messages if "chart.png" in m)
    assert "slide 2" in chart and "its smallest text is 20 px in the image" in chart
    assert any("a planted tiny label" in w for w in reporter.warnings)    # printed too


def test_strict_makes_a_tiny_label_an_error_and_writes_nothing(tmp_path):
    _tools_or_skip()
    deck = _planted(tmp_path)
    out = tmp_path / "build"
    with pytest.raises(InputError) as err:
        build_deck(deck, out, context={}, formats=["html"], theme_dir=THEMES, timeout=120, reporter=Collect(),
                   strict=True)
    assert any("a planted tiny label" in str(p) for p in err.value.problems)
    assert not (out / "slides" / "planted.html").exists()


def test_build_strict_fails_on_an_illegible_deck_even_when_it_is_up_to_date(tmp_path, monkeypatch, capsys):
    """`novapress build --strict` reaches the deck builder; a deck built before with the warning,
    now up to date, still fails --strict (its warnings were kept with the build)."""
    _tools_or_skip()
    (tmp_path / "decks").mkdir()
    _planted(tmp_path / "decks")
    (tmp_path / "novapress.yaml").write_text(f"slides:\n  sources: decks\n  theme_dir: {THEMES}\n"
                                             "  formats: [html]\nsite: false\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert novapress(["build", "slides", "-q", "--strict"]) == 2
    assert "a planted tiny label" in capsys.readouterr().err
    assert not (tmp_path / "build" / "slides" / "planted.html").exists()
    assert novapress(["build", "slides", "-q"]) == 0                  # a warning without --strict
    assert "a planted tiny label" in capsys.readouterr().err
    assert novapress(["build", "slides", "-q", "--strict"]) == 2      # up to date, and still an error
    assert "a planted tiny label" in capsys.readouterr().err


# --- the animation -----------------------------------------------------------------------------

def _visible_tokens(page) -> int:
    return page.evaluate("""() => {
      const slide = document.querySelector('svg.bespoke-marp-active');
      return Array.from(slide.querySelectorAll('.gen .gt')).filter(e => parseFloat(getComputedStyle(e).opacity) > 0.5).length;
    }""")


def _generation_slide(measured_html: str) -> int:
    slides = measured_html[measured_html.find("<body"):].split("<svg data-marpit-svg")[1:]
    return next(i for i, s in enumerate(slides, 1) if 'class="gen"' in s)


def test_generation_plays_token_by_token_and_respects_reduced_motion(talk):
    from playwright.sync_api import sync_playwright

    out, context, _, _ = talk
    html = out / "slides" / "llm-inference-pipeline.html"
    n = _generation_slide(html.read_text(encoding="utf-8"))
    total = min(len(context["demos"]["question"]["strategies"]["top_p"]["steps"]), 24)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720}, reduced_motion="no-preference")
            page.goto(f"{html.as_uri()}#{n}")
            page.wait_for_timeout(1200)
            early = _visible_tokens(page)
            page.wait_for_timeout(1500)
            later = _visible_tokens(page)
            assert 0 < early < later < total + 1, (early, later, total)
            page.wait_for_timeout(int(0.5 * 1000 * total))
            assert _visible_tokens(page) == total

            still = browser.new_page(viewport={"width": 1280, "height": 720}, reduced_motion="reduce")
            still.goto(f"{html.as_uri()}#{n}")
            still.wait_for_timeout(300)
            assert _visible_tokens(still) == total            # the final frame at once
        finally:
            browser.close()


def test_pictures_show_the_final_frame_and_an_animated_webp_is_written(talk):
    out, context, written, _ = talk
    steps = context["demos"]["question"]["strategies"]["top_p"]["steps"]
    webp = out / "slides" / "llm-inference-pipeline.generation-question-top_p.webp"
    assert webp in written
    with Image.open(webp) as im:
        assert im.format == "WEBP" and getattr(im, "n_frames", 1) == min(len(steps), 32) + 1
    # the PNG of the slide (a browser export, rendered for print) has every token: no animation in it
    printed = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    assert "np-gen-token" in printed                           # the HTML deck animates...
    n = _generation_slide(printed)
    assert (out / "slides" / "llm-inference-pipeline" / f"{n:03d}.png").is_file()


# --- the editable PPTX -------------------------------------------------------------------------

EDITABLE = """---
marp: true
theme: novapress
---

# Inside the Inference Pipeline

Editable text

<!--
A speaker note
over two lines.
-->

---

## Tokenize Input Context

- Text to token ids
"""


def test_editable_pptx_has_the_titles_as_text(tmp_path):
    _tools_or_skip()
    if find_soffice() is None:
        pytest.skip("LibreOffice is not installed (make deps installs it as root)")
    deck = tmp_path / "talk.md"
    deck.write_text(EDITABLE, encoding="utf-8")
    build_deck(deck, tmp_path / "build", context={}, formats=["pptx-editable"], theme_dir=THEMES, timeout=300,
               reporter=Collect())
    pptx = tmp_path / "build" / "slides" / "talk.pptx"
    texts = slide_texts(pptx)
    assert len(texts) == 2
    assert "Inside the Inference Pipeline" in texts[0] and "Tokenize Input Context" in texts[1]
    # once each: the theme's glow would otherwise come out as more copies of the heading
    assert texts[0].count("Inside the Inference Pipeline") == 1 and texts[1].count("Tokenize Input Context") == 1
    with zipfile.ZipFile(pptx) as z:                           # reproducible: no build time inside
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_without_libreoffice_the_pptx_is_pictures_with_one_line(tmp_path, monkeypatch):
    _tools_or_skip()
    monkeypatch.setattr("renderer.deck.build.find_soffice", lambda: None)
    deck = tmp_path / "talk.md"
    deck.write_text(EDITABLE, encoding="utf-8")
    reporter = Collect()
    build_deck(deck, tmp_path / "build", context={}, formats=["pptx-editable"], theme_dir=THEMES, timeout=300,
               reporter=reporter)
    lines = [w for w in reporter.warnings if "LibreOffice" in w]
    assert len(lines) == 1 and "slide pictures" in lines[0]
    texts = slide_texts(tmp_path / "build" / "slides" / "talk.pptx")
    assert len(texts) == 2 and "Tokenize Input Context" not in sum(texts, [])


def test_pptx_setting_and_command_line(tmp_path):
    (tmp_path / "novapress.yaml").write_text("slides:\n  pptx: editable\n", encoding="utf-8")
    config, _ = load_config(tmp_path)
    assert config.slides.formats == ["html", "pdf", "pptx-editable", "png"]
    (tmp_path / "novapress.yaml").write_text("slides:\n  formats: [html, pptx]\n", encoding="utf-8")
    assert load_config(tmp_path)[0].slides.formats == ["html", "pptx"]
    # `--pptx editable` is applied before the file is validated, so the format follows it
    assert load_config(tmp_path, {"slides.pptx": "editable"})[0].slides.formats == ["html", "pptx-editable"]
    assert load_config(tmp_path, {"slides.pptx": None})[0].slides.formats == ["html", "pptx"]
    assert ProjectConfig().slides.pptx == "image"


def test_doctor_shows_libreoffice(tmp_path, monkeypatch):
    from renderer import doctor

    monkeypatch.chdir(tmp_path)
    row = doctor._libreoffice_row()
    assert row[0] == "LibreOffice (editable PPTX)"
    if find_soffice():
        assert row[1] and "LibreOffice" in row[2]
    monkeypatch.setattr(doctor, "find_soffice", lambda env=None: None)
    (tmp_path / "novapress.yaml").write_text("slides:\n  pptx: editable\n", encoding="utf-8")
    assert doctor._libreoffice_row()[1] is False


# --- notes -------------------------------------------------------------------------------------

def test_notes_become_paragraphs_but_directives_and_code_stay():
    text = ("<!-- _class: title -->\n\nSlide\n\n<!--\nOne sentence\nwrapped in the source.\n\nSecond paragraph\n"
            "- a list item\n- another\n-->\n\n```\n<!--\nkept\nas is\n-->\n```\n")
    out = reflow_notes(text)
    assert "<!-- _class: title -->" in out
    assert "One sentence wrapped in the source.\n\nSecond paragraph\n- a list item\n- another" in out
    assert "<!--\nkept\nas is\n-->" in out


def test_text_pushed_off_the_slide_or_under_the_footer_warns(tmp_path):
    """A long answer can push text off the slide, where marp clips it: that is unreadable too."""
    _tools_or_skip()
    lines = "\n".join(f"- answer line {i}" for i in range(1, 31))
    deck = tmp_path / "long.md"
    deck.write_text(f"---\nmarp: true\ntheme: novapress\nfooter: a footer\n---\n\n## Long\n\n{lines}\n",
                    encoding="utf-8")
    written = build_deck(deck, tmp_path / "build", context={}, formats=["html"], theme_dir=THEMES, timeout=120,
                         reporter=Collect(), strict=False)
    messages = [str(w) for w in written.warnings]
    assert any("runs past the slide's edge" in m and "slide 1" in m for m in messages), messages
    assert not any("answer line 1'" in m for m in messages)    # the lines that fit are not blamed
