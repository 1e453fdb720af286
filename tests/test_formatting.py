"""Trace values read the same everywhere: every percentage the tour shows is
live_demo.formatting.pct's (panels, charts, slides and the site's pages use it too).

The tour's script formats no probability itself: the events it plays (renderer/site/run.py, the
same whether replayed from a cached trace or streamed by `novapress serve`) carry each one
already formatted, so the page and the book cannot disagree on a number."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from live_demo.formatting import (count, data_size, elide, elide_line, megabytes, one_line, params, pct, plural,
                                    printable, seconds, shape_text, token_display, value, visible, words)
from renderer.site import run

ROOT = Path(__file__).resolve().parent.parent
TOUR_JS = ROOT / "renderer" / "site" / "static" / "tour.js"
FIXTURES = ROOT / "tests" / "fixtures"


def _percentages(value, found):
    """(probability, text shown) for every dict of an event that has both."""
    if isinstance(value, dict):
        if "pct" in value and "prob" in value:
            found.append((value["prob"], value["pct"]))
        for v in value.values():
            _percentages(v, found)
    elif isinstance(value, list):
        for v in value:
            _percentages(v, found)
    return found


def test_the_tour_events_carry_percentages_as_formatting_pct():
    shown = []
    for name in ("site_trace_question", "site_trace_ask_token", "site_trace_cat"):
        events = run.trace_events(json.loads((FIXTURES / f"{name}.json").read_text()))
        shown += _percentages(events, [])
    # the live path builds its token events with the same function
    rng = random.Random(7)
    values = [0, 1, 1e-9, 9.9e-7, 1e-6, 2.1e-5, 0.00042, 0.000995, 0.001, 0.0123, 0.0996, 0.1, 0.125, 0.42,
              0.4449, 0.9, 0.99, 0.995, 0.9996, 0.99999, 1.0, 0.5]
    values += [rng.random() ** rng.choice([1, 3, 6, 12]) for _ in range(400)]
    for v in values:
        event = run.token_event(0, {"id": 1, "text": "a", "display": "a"}, v, [{"id": 2, "display": "b", "prob": v}])
        shown += [(v, event["pct"])]
    assert len(shown) > 400
    assert [(p, s) for p, s in shown if s != pct(p)] == []
    assert not re.search(r"\b0\.0+%", " ".join(s for _, s in shown))      # never a zero that is not zero


def _function_bodies(source: str) -> dict[str, str]:
    """name -> text of every `function name(...) { ... }` in a script (braces balanced)."""
    bodies = {}
    for m in re.finditer(r"function (\w+)\(", source):
        depth, i = 0, source.index("{", m.end())
        start = i
        while True:
            depth += {"{": 1, "}": -1}.get(source[i], 0)
            i += 1
            if depth == 0:
                break
        bodies[m.group(1)] = source[start:i]
    return bodies


def test_the_tour_script_formats_no_probability_itself():
    source = TOUR_JS.read_text()
    bodies = _function_bodies(source)
    assert "pct" not in bodies and "fixed" not in bodies     # no second percentage rule to drift from pct
    # a raw probability only sizes a bar; any text it becomes was formatted by run.py
    rest = source.replace(bodies["barSvg"], "")
    raw = [line.strip() for line in rest.splitlines()
           if re.search(r"\bprob\b", re.sub(r"barSvg\([\w.]*\bprob\)", "", line))]
    assert raw == [], f"lines of tour.js that use a raw probability: {raw}"


# ---------------------------------------------------------------- each rule, value by value
# Exact texts, at and around every threshold the rules have, so a changed bound, digit or mark fails.

@pytest.mark.parametrize("p, digits, text", [
    (0, None, "0%"), (-0.1, None, "0%"), (float("nan"), None, "0%"), (float("inf"), None, "0%"),
    (1, None, "100%"), (1.5, None, "100%"),
    (0.45, None, "45%"), (0.034, None, "3.4%"), (0.0042, None, "0.42%"), (0.000021, None, "0.0021%"),
    (0.01, None, "1.0%"), (0.1, None, "10%"), (0.0996, None, "10%"), (0.00999, None, "1.0%"),
    (2e-6, None, "0.00020%"), (9e-7, None, "<0.0001%"), (0.997, None, ">99%"), (0.9949, None, "99%"),
    (0.45, 1, "45.0%"), (0.034, 2, "3.40%"), (0.0042, 1, "0.42%"), (0.0042, 3, "0.420%"),
    (0.45, 0, "45%"), (0.45, -2, "45%"), (0.9996, 1, ">99.9%"), (0.01, 0, "1%"),
])
def test_pct_reads_two_significant_digits_and_never_zero_or_a_hundred_by_rounding(p, digits, text):
    assert pct(p, digits) == text


def test_pct_accepts_numbers_given_as_text():
    assert pct("0.5") == "50%"


@pytest.mark.parametrize("n, text", [(0, "0"), (999, "999"), (49152, "49,152"), (1234567, "1,234,567"), (12.9, "12")])
def test_count_separates_thousands(n, text):
    assert count(n) == text


@pytest.mark.parametrize("n, text", [
    (134515008, "135M"), (3403264, "3.4M"), (1.5e9, "1.5B"), (1e9, "1B"), (999, "999"), (1000, "1K"),
    (12345, "12K"), (1500, "1.5K"), (9.96e6, "10M"), (10.4e6, "10M"), (999999, "1000K"), (1e6, "1M"), (0, "0"),
])
def test_params_reads_as_people_say_it(n, text):
    assert params(n) == text


@pytest.mark.parametrize("n, text", [
    (538053632, "538 MB"), (1.6e6, "1.6 MB"), (10e6, "10 MB"), (9.99e6, "10.0 MB"),
    (10e9, "10 GB"), (13.4e9, "13 GB"), (1e12, "1000 GB"), (9.9e9, "9900 MB"), (0, "0.0 MB"),
])
def test_megabytes_switch_to_gigabytes_from_ten(n, text):
    assert megabytes(n) == text


@pytest.mark.parametrize("n, text", [
    (0, "0 bytes"), (512, "512 bytes"), (999, "999 bytes"), (1000, "1.0 KB"), (46000, "46 KB"),
    (9999, "10.0 KB"), (10000, "10 KB"), (999999, "1000 KB"), (1e6, "1.0 MB"), (538053632, "538 MB"),
])
def test_data_size_picks_the_unit_that_reads_best(n, text):
    assert data_size(n) == text


@pytest.mark.parametrize("s, text", [
    (0.012, "12 ms"), (0, "0 ms"), (0.9994, "999 ms"), (1, "1.00 s"), (1.234, "1.23 s"),
    (9.99, "9.99 s"), (10, "10.0 s"), (12.345, "12.3 s"),
])
def test_seconds_are_milliseconds_under_one(s, text):
    assert seconds(s) == text


@pytest.mark.parametrize("x, digits, text", [
    (0.012345, 3, "0.0123"), (-1.2345, 3, "\u22121.23"), (123.456, 3, "123"), (4321.5, 3, "4322"),
    (0, 3, "0"), (9.996, 3, "10.0"), (-9.996, 3, "\u221210.0"), (0.0009996, 3, "0.00100"),
    (99.96, 3, "100"), (999.6, 3, "1000"), (-0.4, 0, "0"),     # rounded up a digit; rounded to nothing: no "\u22120"
    (1.2345, 2, "1.2"), (1.2345, 5, "1.2345"), (5, 1, "5"), (float("inf"), 3, "inf"),
    (float("nan"), 3, "nan"),
])
def test_value_has_significant_digits_and_a_true_minus(x, digits, text):
    assert value(x, digits) == text


def test_value_defaults_to_three_digits_and_a_value_that_rounds_to_zero_reads_zero():
    assert value(3.14159) == "3.14"
    assert value(-0.0) == "0"


@pytest.mark.parametrize("dims, brackets, text", [
    ((1, 7, 576), "()", "(1, 7, 576)"), ([1, 7, 576], "[]", "[1, 7, 576]"), ((), "()", ""), ((3,), "()", "(3)"),
])
def test_shape_text(dims, brackets, text):
    assert shape_text(dims, brackets) == text


def test_shape_text_uses_round_brackets_by_default():
    assert shape_text((2, 3)) == "(2, 3)"


@pytest.mark.parametrize("n, word, many, text", [
    (1, "token", None, "1 token"), (7, "token", None, "7 tokens"), (0, "token", None, "0 tokens"),
    (1, "child", "children", "1 child"), (3, "child", "children", "3 children"),
])
def test_plural(n, word, many, text):
    assert plural(n, word, many) == text


def test_visible_marks_the_leading_space_and_control_characters_only():
    assert visible(" the") == "\u2423the"
    assert visible("a b") == "a b"
    assert visible("  x") == "\u2423 x"
    assert visible("a\nb\rc\td") == "a\u21b5b\u21b5c\u21e5d"
    assert printable("\u2423x\n\t") == "\u2423x\u21b5\u21e5"


def test_token_display_prefers_the_recorded_display_then_the_text():
    assert token_display({"display": "\u2423hi\n", "text": " other"}) == "\u2423hi\u21b5"
    assert token_display({"display": "", "text": " hi"}) == "\u2423hi"
    assert token_display({"text": "\t"}) == "\u21e5"
    assert token_display({}) == ""


def test_one_line_joins_whitespace_runs():
    assert one_line("  a \n\n b\tc  ") == "a b c"
    assert one_line(12) == "12"


@pytest.mark.parametrize("text, limit, out", [
    ("hello", 5, "hello"), ("hello", 0, ""), ("hello", -1, ""), ("hello", 1, "\u2026"), ("hello", 2, "h\u2026"),
    ("hello", 4, "hel\u2026"), ("the FAX machine", 8, "the FAX\u2026"),   # only spaces and punctuation are trimmed
    ("the quick brown fox", 12, "the quick\u2026"),         # cut at the word boundary
    ("the quick, brown", 12, "the quick\u2026"),             # and without the comma before it
    ("a verylongwordthatgoeson", 12, "a verylongw\u2026"),   # the boundary is too far back: cut the word
    ("abcdef ghij", 10, "abcdef\u2026"),                     # a space at exactly two thirds counts
    ("ab cdefghij", 10, "ab cdefgh\u2026"),
    ("abcde fghijk", 10, "abcde fgh\u2026"),                  # one short of two thirds: the word is cut
    (12345, 3, "12\u2026"),
])
def test_elide_cuts_with_a_visible_ellipsis_at_a_word_boundary(text, limit, out):
    assert elide(text, limit) == out
    assert len(elide(text, limit)) <= max(limit, 0)


def test_elide_line_puts_text_on_one_line_first():
    assert elide_line("a\n b", 10) == "a b"
    assert elide_line("one two\nthree four", 12) == "one two\u2026"


@pytest.mark.parametrize("text, n, out", [
    ("one two three", 2, "one two\u2026"), ("one two", 2, "one two"), ("one  two\nthree", 3, "one two three"),
    ("one", 0, "\u2026"), ("", 2, ""),
])
def test_words(text, n, out):
    assert words(text, n) == out
