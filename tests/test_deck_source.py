"""Deck sources without marp: slide splitting, references, themes, opt-in templating, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderer.deck.markdown import find_refs, slide_count, slide_starts, themes_named
from renderer.deck.marp import may_hold_emoji
from renderer.deck.source import inline_text, read_deck, render_deck, token_text
from renderer.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "decks"
SEED_DECK = Path(__file__).parent / "fixtures" / "seed_deck.md"   # the deck the slides began from


def write(tmp_path: Path, text: str, name: str = "deck.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_slides_split_like_marp():
    text = ("---\nmarp: true\n---\n\n# One\n\n---\n\nSetext under text\n---\n\n- item\n---\n"
            "```\n---\n```\n\n***\n<!--\n---\n-->\nlast\n")
    # breaks: line 7 (---), line 13 (--- after a list item), line 18 (***); not the setext
    # underline (line 10), not inside the code fence or the comment. marp-cli 4.5.1 makes
    # the same 4 slides of this text.
    assert slide_starts(text) == [4, 8, 14, 19]


def test_seed_deck_has_thirteen_slides():
    assert slide_count(SEED_DECK.read_text(encoding="utf-8")) == 13  # marp-cli counts 13 too


def test_refs_found_outside_code_with_slide_and_line():
    text = ("---\nmarp: true\nbackgroundImage: url('front.png')\n---\n\n![w:100](a.png) `![x](code.png)`\n\n---\n\n"
            "![bg left](<with space.png> \"title\")\n<img src=\"tag.png\">\n<!-- _backgroundImage: url(dir.png) -->\n"
            "<!-- ![no](commented.png) -->\n```\n![no](fenced.png)\n```\n![remote](https://example.org/x.png)\n")
    refs = [(r.url, r.slide, r.line) for r in find_refs(text)]
    assert refs == [("front.png", 1, 3), ("a.png", 1, 6), ("with space.png", 2, 10), ("tag.png", 2, 11),
                    ("dir.png", 2, 12), ("https://example.org/x.png", 2, 17)]
    assert [r.is_local for r in find_refs(text)][-1] is False


def test_theme_directives_front_matter_and_comments_not_notes():
    text = ("---\ntheme: gaia\n---\n\n<!-- theme: uncover -->\n\n<!--\nA note that says theme: in prose\n"
            "and keeps going.\n-->\n")
    assert [(t.name, t.line) for t in themes_named(text)] == [("gaia", 2), ("uncover", 5)]


def test_plain_deck_passes_through_byte_for_byte(tmp_path):
    raw = b"---\nmarp: true\n---\n\n```js\nconst a = \"{{ user.name }}\";\n```\n\n{% if x %}\r\n"
    path = tmp_path / "plain.md"
    path.write_bytes(raw)
    deck = read_deck(path)
    assert not deck.templated and deck.raw == raw
    assert render_deck(deck, {}) == raw.decode()


def test_opt_in_key_removed_and_lines_mapped(tmp_path):
    path = write(tmp_path, "---\nmarp: true\nnovapress:\n  template: true\n  demos: [q]\ntheme: gaia\n---\n\n"
                           "# {{ model }}\n\n---\n\n{{ missing_name }}\n")
    deck = read_deck(path)
    assert "novapress" not in deck.text and "theme: gaia" in deck.text
    assert deck.options.demos == ["q"]
    assert render_deck(deck, {"model": "M", "demos": {"q": {}}, "missing_name": "x"}).count("# M") == 1
    with pytest.raises(InputError) as err:
        render_deck(deck, {"model": "M", "demos": {"q": {}}})
    problem = err.value.problems[0]
    assert problem.file.endswith("deck.md") and problem.line == 13
    assert "slide 2" in problem.message and "missing_name" in problem.message


def test_raw_block_escapes_jinja(tmp_path):
    path = write(tmp_path, "---\nmarp: true\nnovapress: {}\n---\n\n{% raw %}\n```\n{{ user.name }}\n```\n"
                           "{% endraw %}\n{{ 1 + 1 }}\n")
    out = render_deck(read_deck(path), {})
    assert "{{ user.name }}" in out and "\n2\n" in out


def test_bad_options_and_missing_demo_are_located(tmp_path):
    path = write(tmp_path, "---\nmarp: true\nnovapress:\n  templat: true\n---\n")
    with pytest.raises(InputError) as err:
        read_deck(path)
    assert err.value.problems[0].line == 4 and "did you mean 'template'" in err.value.problems[0].message
    path = write(tmp_path, "---\nmarp: true\nnovapress: {demos: [question, runing]}\n---\n")
    with pytest.raises(InputError) as err:
        render_deck(read_deck(path), {"demos": {"question": {}, "running": {}}})
    assert "runing" in str(err.value) and "did you mean 'running'" in str(err.value)


def test_missing_panel_named_clearly(tmp_path):
    path = write(tmp_path, "---\nmarp: true\nnovapress: {}\n---\n\n![](<{{ panels['page-05-p9'] }}>)\n")
    with pytest.raises(InputError) as err:
        render_deck(read_deck(path), {"panels": {"page-05-p1": "a.png"}})
    message = str(err.value)
    assert "page-05-p9" in message and "page-05-p1" in message and ":6:" in message


def test_sandbox_blocks_unsafe_attributes(tmp_path):
    path = write(tmp_path, "---\nmarp: true\nnovapress: {}\n---\n\n{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(InputError):
        render_deck(read_deck(path), {})


def test_filters_keep_model_text_literal():
    assert inline_text("a|b *c* $x$ <i>") == "a&#124;b &#42;c&#42; &#36;x&#36; &#60;i&#62;"
    assert "\u23ce" in token_text("\u21b5") and 'class="sp"' in token_text("\u2423AI")


def test_emoji_detection():
    assert may_hold_emoji("Hello :smile:") and may_hold_emoji("Hi \U0001F600")
    assert not may_hold_emoji("Text → tokens, 49,152 ids, (B, T, d) ∈ ℝ")


def test_real_deck_opts_in_and_declares_its_demos():
    deck = read_deck(ROOT / "slides" / "llm-inference-pipeline.md")
    assert deck.templated and set(deck.options.demos) == {"question", "running", "subword"}
    traces = {p.stem: json.loads(p.read_text()) for p in (FIXTURES / "traces").glob("*.json")}
    assert set(deck.options.demos) <= set(traces)
