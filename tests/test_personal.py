"""Personal pages: a question in, page 5 drawn from the model's run on it out (PNG, PDF,
transcript), cached by question; the Ask box's limits apply."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from renderer.config import load_config
from renderer.personal import PersonalPages
from renderer.site.ask import AskRejected

ROOT = Path(__file__).resolve().parent.parent


def personal_config(model_dir: Path):
    config, _ = load_config(ROOT)
    model = config.model.model_copy(update={"id": str(model_dir), "fallback": False})
    return config.model_copy(update={"model": model})


@pytest.fixture(scope="module")
def pages(tiny_gpt2_dir, tiny_gpt2, tmp_path_factory):
    pp = PersonalPages(personal_config(tiny_gpt2_dir), root=ROOT, cache_dir=tmp_path_factory.mktemp("personal"))
    pp.use_model(tiny_gpt2)
    return pp


@pytest.fixture(scope="module")
def made(pages):
    return pages.make('Why is the "sky" {{ blue }}?')


def test_a_question_becomes_a_page_png_pdf_and_transcript(made, pages):
    from pypdf import PdfReader

    assert not made.cached
    with Image.open(made.png) as im:
        assert im.size == tuple(pages.config.comic.page_size)
    reader = PdfReader(made.pdf)
    assert len(reader.pages) == 1
    assert 'Why is the "sky" {{ blue }}?' in reader.metadata.title
    words = made.transcript.read_text(encoding="utf-8")
    assert words.startswith("# Page 5: The Inference Pipeline")
    assert '*Asked:* Why is the "sky" {{ blue }}?' in words
    meta = json.loads(made.file("json").read_text(encoding="utf-8"))
    assert meta["question"] == 'Why is the "sky" {{ blue }}?'
    assert meta["model"] == "GPT-2 3.4M (local)"
    assert meta["answer"] == made.answer and meta["key"] == made.key


def test_the_page_shows_the_answer_the_model_gives_to_that_question(made, pages):
    trace = pages.trace(made.question)
    assert trace["prompt"] == made.question
    assert made.answer == trace["strategies"]["greedy"]["text"]
    assert set(trace["strategies"]) == {"greedy"}


def test_asked_again_it_is_read_back_not_redrawn(made, pages):
    before = {ext: made.file(ext).stat().st_mtime_ns for ext in ("png", "pdf", "md", "json")}
    again = pages.make(made.question)
    assert again.cached and again.key == made.key
    assert {ext: again.file(ext).stat().st_mtime_ns for ext in before} == before


def test_same_question_same_bytes_in_another_folder(made, pages, tmp_path):
    other = pages.make(made.question, folder=tmp_path, name="mine")
    assert not other.cached
    for ext in ("png", "pdf", "md", "json"):
        assert other.file(ext).read_bytes() == made.file(ext).read_bytes(), ext


def test_a_different_question_is_a_different_page(made, pages):
    assert pages.key("Why is the sky green?") != made.key


@pytest.mark.parametrize("question, status", [("", 400), ("   ", 400), ("x" * 501, 413), ("a\x00b", 400)])
def test_the_ask_boxs_limits(pages, question, status):
    with pytest.raises(AskRejected) as err:
        pages.make(question)
    assert err.value.status == status


def test_panels_without_data_are_drawn_once_and_reused_to_the_same_pixels(made, pages):
    from renderer.comic_files import png_bytes
    from renderer.draw import render_page, shows_data
    from renderer.rendering import RenderContext

    assert [p.id for p in pages.sb.board.panels if not shows_data(p)] == ["p1"]
    assert set(pages._static[0]) == {"p1"}
    c = pages.config
    ctx = RenderContext(theme=pages.theme, cast=pages.cast, traces={pages.demo: pages.trace(made.question)},
                        page_size=tuple(c.comic.page_size), seed=c.seed, book=c.book.model_dump())
    whole = render_page(pages.sb, ctx)          # every panel drawn anew
    assert png_bytes(whole.image, c.comic.dpi) == made.png.read_bytes()
