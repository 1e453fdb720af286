"""Trace values read the same everywhere: the site's script formats a probability exactly as
live_demo.formatting.pct does (panels, charts, slides, the site's pages)."""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from live_demo.formatting import pct

TOUR_JS = Path(__file__).resolve().parent.parent / "renderer" / "site" / "static" / "tour.js"


def _function(source: str, name: str) -> str:
    """The text of `function name(...) { ... }` in a script (its braces balanced)."""
    start = source.index(f"function {name}(")
    depth, i = 0, source.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        i += 1
        if depth == 0:
            return source[start:i]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_tour_script_formats_percentages_as_formatting_pct():
    rng = random.Random(7)
    values = [0, 1, 1e-9, 9.9e-7, 1e-6, 2.1e-5, 0.00042, 0.000995, 0.001, 0.0123, 0.0996, 0.1, 0.125, 0.42,
              0.4449, 0.9, 0.99, 0.995, 0.9996, 0.99999, 1.0, -0.1, 0.5]
    values += [rng.random() ** rng.choice([1, 3, 6, 12]) for _ in range(400)]
    source = TOUR_JS.read_text()
    script = "\n".join([_function(source, "fixed"), _function(source, "pct"),
                        f"console.log(JSON.stringify({json.dumps(values)}.map(pct)));"])
    shown = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)
    expected = [pct(v) for v in values]
    assert [(v, s) for v, s, e in zip(values, shown, expected) if s != e] == []
    assert not re.search(r"\b0\.0+%", " ".join(shown))      # never a zero that is not zero
