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

from live_demo.formatting import pct
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
