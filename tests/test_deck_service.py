"""Part 2 of the talk deck (the pipeline as a service) follows the trace it is given.

HTML only (no browser), built from the fixture traces with the optional parts of a trace
(timing, batch) filled in or left out, and with model output that holds newlines.
"""
from __future__ import annotations

import copy
import html as htmllib
import re
from pathlib import Path

import pytest

from renderer.deck import build_deck
from renderer.deck.bench import sample_context
from renderer.deck.marp import find_marp
from renderer.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "slides" / "llm-inference-pipeline.md"
THEMES = ROOT / "slides" / "themes"

TIMING = {"new_tokens": 24, "with_cache_s": 0.8, "without_cache_s": 2.0, "speedup": 2.5,
          "device": "cpu", "cpu_cores": 2}
BATCH = {"prompts": ["How does AI work?", "Hi!"], "pad_token": {"id": 2, "text": "<|im_end|>", "is_eos": True},
         "padding_side": "left", "shape": [2, 5],
         "input_ids": [[2020, 1072, 5646, 746, 47], [2, 2, 2, 26843, 17]],
         "attention_mask": [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]],
         "tokens": [["How", "\u2423does", "\u2423AI", "\u2423work", "?"], ["<|im_end|>", "<|im_end|>", "<|im_end|>", "Hi", "!"]]}


def slides_of(page: str) -> list[str]:
    body = page[page.find("<body"):]
    return [c.split('<div class="bespoke-marp-note"')[0].split("<script")[0]
            for c in body.split("<svg data-marpit-svg")[1:]]


def text_of(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


def slide(page: str, heading: str) -> str:
    found = [s for s in slides_of(page) if re.search(rf"<h[23][^>]*>{re.escape(heading)}</h[23]>", s)]
    assert len(found) == 1, heading
    return found[0]


def build(context: dict, out: Path) -> str:
    build_deck(DECK, out, context=context, formats=["html"], theme_dir=THEMES, timeout=120)
    return (out / "slides" / "llm-inference-pipeline.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """The deck twice: the fallback model with timing, a batch and a multi-line answer; and a
    hub model whose trace has neither timing nor batch."""
    try:
        find_marp(ROOT)
    except BuildError as err:
        pytest.skip(str(err))
    out = tmp_path_factory.mktemp("service") / "build"
    base = sample_context(out)
    full = copy.deepcopy(base)
    q = full["demos"]["question"]
    q["timing"], q["batch"] = TIMING, BATCH
    q["strategies"]["top_k"]["text"] = " Line one.\n\nLine | two"
    bare = copy.deepcopy(base)
    bare["demos"]["question"]["model"]["source"] = "hub"
    bare["demos"]["question"]["timing"] = bare["demos"]["question"]["batch"] = None
    return full, build(full, out), bare, build(bare, out)


def test_kv_cache_slide_shows_the_measured_speedup(decks):
    full, page, _, bare_page = decks
    kv = text_of(slide(page, "KV Caching"))
    assert "×2.5 faster" in kv and "2.00 s" in kv and "800 ms" in kv
    assert "measured on 2 CPU cores" in kv
    assert "bar fast w40" in slide(page, "KV Caching")  # 0.8 s of 2.0 s
    assert "faster" not in text_of(slide(bare_page, "KV Caching"))  # nothing measured, nothing claimed


def test_batching_slide_shows_the_padded_batch(decks):
    _, page, _, bare_page = decks
    batching = slide(page, "Batching")
    rows = re.findall(r'<div class="tokens">(.*?)</div>', batching, flags=re.S)
    assert len(rows) == 2
    # left-padded: the padding first, counted in one cube, then the prompt's own tokens
    assert re.findall(r'<span class="i">(\d+)</span>', rows[1]) == ["2", "26843", "17"]
    assert "PAD×3" in text_of(rows[1]) and 'class="tok pad"' not in rows[0]
    assert "[2, 5]" in text_of(batching)
    assert 'class="tok' not in slide(bare_page, "Batching")


def test_quantization_names_the_4bit_file_only_for_the_fallback(decks):
    _, page, _, bare_page = decks
    assert "4-bit file" in text_of(slide(page, "Quantization"))
    assert "4-bit file" not in text_of(slide(bare_page, "Quantization"))
    assert "GGUF" not in text_of(slide(bare_page, "Quantization"))
    assert "GGUF" not in text_of(bare_page)


def test_decoding_slide_shows_each_strategy_and_survives_newlines(decks):
    full, page, _, _ = decks
    q = full["demos"]["question"]
    decoding = slide(page, "Decoding Strategies")
    assert decoding.count("<tr>") == 5  # header + four methods: a newline in model output ended no row
    shown = text_of(decoding)
    assert "Line one.\u23ce\u23ceLine | two" in shown
    for name in ("greedy", "beam", "top_p"):       # shortened with "…" when long
        assert " ".join(q["strategies"][name]["text"].split())[:50] in " ".join(shown.split())
