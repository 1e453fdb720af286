"""The example book, built for real, the way a user builds it: every storyboard in storyboards/
becomes a page, with live data from a real model run.

- the default question, under --strict, with no warning at all;
- questions nobody laid the pages out for (long, one word, Spanish, arithmetic, quotes and emoji,
  text that looks like a template, a question a chat model answers and stops): every page is
  there, and the words that quote data stay true;
- a GPT-2-architecture model made here (random weights, the real GPT-2 tokenizer): no chat markers,
  no tokenizer compared with itself, no probability printed as 0%.

Slow (a real model run and the whole comic per case), so each case builds only the comic. The
traces of the demos the questions share are cached once for the whole module.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from live_demo.formatting import pct
from renderer.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOARDS = sorted((ROOT / "storyboards").glob("page-*.yaml"))

# a probability written as zero ("0%", "0.0%"): never right for a softmax output
ZERO_PERCENT = re.compile(r"(?<![\d.,])0(?:\.0+)?%")
# a storyboard's own Jinja left unrendered ("{{ q.prompt", "{% if"); a question may hold "{{ 7*7 }}"
# and its tokens "␣{{", which are data
UNRENDERED = re.compile(r"\{\{-?\s*[A-Za-z_(]|\{%-?\s*(?:if|for|set|elif|else|end\w*|macro|include)\b")


def project(folder: Path, cache: Path, **model) -> Path:
    """A project that builds the repo's storyboards with its own trace cache (and model)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "novapress.yaml").read_text())
    config["live"]["cache_dir"] = str(cache)
    config["model"].update(model)
    (folder / "novapress.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    (folder / "storyboards").symlink_to(ROOT / "storyboards")
    return folder


def build(folder: Path, *args: str, capsys) -> tuple[int, str]:
    cwd = os.getcwd()
    try:
        code = main(["-C", str(folder), "build", "comic", "-q", *args])
    finally:
        os.chdir(cwd)
    return code, capsys.readouterr().err


def transcripts(out: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted((out / "comic" / "pages").glob("page-*.md"))}


def check_complete(out: Path) -> dict[str, str]:
    """Every storyboard became a page (PNG, transcript, in the PDF and the CBZ); returns the
    transcripts."""
    pages = sorted((out / "comic" / "pages").glob("page-*.png"))
    assert [p.stem for p in pages] == [f"page-{yaml.safe_load(b.read_text())['page']:02d}" for b in BOARDS]
    reader = PdfReader(out / "comic" / "comic.pdf")
    assert len(reader.pages) == len(pages) and len(reader.outline) == len(pages)
    with zipfile.ZipFile(out / "comic" / "comic.cbz") as z:
        assert len([n for n in z.namelist() if n.endswith(".png")]) == len(pages)
    texts = transcripts(out)
    assert len(texts) == len(pages)
    for name, text in texts.items():
        assert not ZERO_PERCENT.search(text), f"{name}: a probability printed as zero: {ZERO_PERCENT.search(text)[0]}"
        assert not UNRENDERED.search(text), f"{name}: unrendered template {UNRENDERED.search(text)[0]!r}"
    return texts


def check_numbers_match_trace(texts: dict[str, str], trace: dict) -> None:
    """The percentages a page prints are the trace's, by the one formatting rule."""
    top = trace["next_token"]["top"]
    assert pct(top[0]["prob"]) in texts["page-07"] and pct(top[0]["prob"]) in texts["page-08"]
    greedy = trace["strategies"]["greedy"]
    step1 = greedy["steps"][0]
    assert f"STEP 1: {step1['token']['display']}, {pct(step1['prob'])}".upper() in texts["page-08"].upper()


def check_answer_story(texts: dict[str, str], trace: dict) -> None:
    """Pages 9 and 12 tell how the answer ended, as the trace says it did."""
    greedy = trace["strategies"]["greedy"]
    if greedy["stopped"] == "length":
        assert "Cut off at our" in texts["page-12"] and "whole answer" not in texts["page-12"]
    elif greedy["text"].strip():
        assert "until it picked the stop token" in texts["page-12"] and "whole answer" in texts["page-12"]
        assert "the last one the stop token" in texts["page-09"]
    n = len(greedy["tokens"])
    assert f"MODEL + PICK × {n}" in texts["page-09"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("book-trace-cache")


def test_the_default_book_builds_strict_with_no_warning(tmp_path, cache, capsys):
    folder = project(tmp_path / "book", cache)
    code, err = build(folder, "--strict", capsys=capsys)
    assert code == 0, err
    assert not [line for line in err.splitlines() if line.startswith("warning:") and "fallback" not in line], err
    out = folder / "build"
    texts = check_complete(out)
    trace = json.loads((out / "live" / "question.json").read_text())
    check_numbers_match_trace(texts, trace)
    check_answer_story(texts, trace)
    # every page that shows live data says which model made it, in words (the picture: test_comic)
    for board in BOARDS:
        name = f"page-{yaml.safe_load(board.read_text())['page']:02d}"
        if yaml.safe_load(board.read_text()).get("demos"):
            assert f"*Live data from the model {trace['model']['display']}" in texts[name], name


QUESTIONS = {
    "long": "Explain quantum computing in simple terms to a ten year old, please, and keep it short; then "
            "tell me why the sky looks blue at noon but red at sunset, and what a transformer has to do with it",
    "one-word": "Photosynthesis",
    "spanish": "¿Cómo funciona la inteligencia artificial?",
    "arithmetic": "What is 17 * 23?",
    "quotes-emoji": "My friend said \"AI is magic\" 🤖✨ — is that 'true'?",
    "template": "What does {{ 7*7 }} print in Jinja, and what about {% raw %}?",
    "stops": "What is the capital of France?",
}


@pytest.mark.parametrize("case", sorted(QUESTIONS))
def test_any_question_gives_a_complete_book_whose_words_hold(case, tmp_path, cache, capsys):
    question = QUESTIONS[case]
    folder = project(tmp_path / "book", cache)
    code, err = build(folder, "--prompt", question, capsys=capsys)
    assert code == 0, err
    texts = check_complete(folder / "build")
    trace = json.loads((folder / "build" / "live" / "question.json").read_text())
    assert trace["prompt"] == question
    assert f'"{question}"' in texts["page-01"]                  # quoted as typed, never evaluated
    check_numbers_match_trace(texts, trace)
    check_answer_story(texts, trace)
    if case == "stops":     # a chat model answers and stops, and the pages say so
        greedy = trace["strategies"]["greedy"]
        assert greedy["stopped"] == "eos" and "Paris" in greedy["text"]
        assert "Paris" in texts["page-12"] and "Token by token, until it picked the stop token." in texts["page-12"]


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory, gpt2_tokenizer_dir) -> Path:
    """A GPT-2 with random weights, 4 layers (the book's attention map reads layer 3), the real
    GPT-2 tokenizer: the architecture and vocabulary of the default model."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    folder = tmp_path_factory.mktemp("gpt2-arch")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=4, n_embd=64, n_head=2, vocab_size=50257, n_positions=1024)).save_pretrained(folder)
    GPT2TokenizerFast.from_pretrained(str(gpt2_tokenizer_dir)).save_pretrained(folder)
    return folder


def test_a_gpt2_architecture_model_gives_a_true_book(tmp_path, gpt2_folder, capsys):
    folder = project(tmp_path / "book", tmp_path / "cache", id=str(gpt2_folder), fallback=False)
    code, err = build(folder, capsys=capsys)
    assert code == 0, err
    assert "fallback" not in err
    out = folder / "build"
    texts = check_complete(out)
    trace = json.loads((out / "live" / "question.json").read_text())
    model = trace["model"]
    assert model["display"].startswith("GPT-2") and "(local)" in model["display"] and str(gpt2_folder) not in model["display"]
    assert trace["chat"] is None and not model["chat_template"]
    everything = "\n".join(texts.values())
    assert "<|im_start|>" not in everything and "<|im_end|>" not in everything
    assert str(gpt2_folder) not in everything                    # a local folder is never named by its path
    assert "no chat template" in texts["page-01"] and "no chat template" in texts["page-03"]
    assert "learned vector for each position" in texts["page-04"] and "two-layer GELU MLP" in texts["page-06"]
    # the tokenizer comparison compares GPT-2's vocabulary with another one, never with itself
    compared = json.loads((out / "live" / "tokenizers.json").read_text())["tokenizers"]
    assert compared and all(r["name"] != "gpt2" and r["vocab_size"] != model["vocab_size"] for r in compared)
    # random weights: every probability is tiny, and still never reads as zero
    assert trace["next_token"]["top"][0]["prob"] < 0.01
    check_numbers_match_trace(texts, trace)
    check_answer_story(texts, trace)
