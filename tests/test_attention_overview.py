"""An attention overview: one model run records every head (of a layer, or of every layer at low
resolution) and one chart shows them all, so an author picks `attention: [layer, head]` from a
picture instead of one model run per guess."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from live_demo.spec import AttentionSpec, DemoSpec
from live_demo.trace import OVERVIEW_CELLS, run_demo
from renderer.stages.live import write_charts
from renderer.theme import load_theme

PROMPT = "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun"


def test_one_layer_records_every_head_whole_and_the_chosen_one(tiny_gpt2, tmp_path):
    spec = DemoSpec(prompt=PROMPT, max_new_tokens=1, num_beams=2, attention={"layer": 1, "heads": "all", "head": 1})
    trace = run_demo(tiny_gpt2, "q", spec, seed=0)
    heads = trace["attention_heads"]
    n = len(heads["tokens"])
    assert heads["layers"] == [1] and heads["n_heads"] == 2 and not heads["pooled"]
    assert len(heads["maps"]["1"]) == 2 and len(heads["maps"]["1"][0]) == n == len(heads["maps"]["1"][0][0])
    assert trace["attention"] is not None              # head: 1 is also recorded for a heatmap
    for row in heads["maps"]["1"][0]:
        assert sum(row) == pytest.approx(1, abs=0.02)  # softmax rows (rounded to 3 digits)

    written = write_charts(trace, tmp_path, "q", load_theme("tech"))
    assert tmp_path / "q-attention-heads.png" in written and (tmp_path / "q-attention-heads-light.svg").exists()


def test_every_layer_is_pooled_to_a_small_grid(tiny_gpt2):
    spec = DemoSpec(prompt=PROMPT, max_new_tokens=1, num_beams=2, attention={"layers": "all", "heads": "all"})
    heads = run_demo(tiny_gpt2, "q", spec, seed=0)["attention_heads"]
    assert heads["layers"] == [0, 1] and heads["pooled"]
    assert len(heads["groups"]) == OVERVIEW_CELLS and heads["groups"][-1][1] == len(heads["tokens"])
    assert all(len(m) == OVERVIEW_CELLS for layer in heads["maps"].values() for m in layer)


def test_an_overview_needs_one_scope():
    with pytest.raises(ValidationError, match="either layer"):
        AttentionSpec(heads="all")
    with pytest.raises(ValidationError, match="head: needs layer"):
        AttentionSpec(layers="all", head=1)
