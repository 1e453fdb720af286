"""The freeze cache (live_demo.cache): content keys, no torch when cached, committed traces."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import live_demo.cache as cache_mod
import live_demo.trace
from live_demo.cache import TraceCache, cache_key, get_traces, key_parts
from live_demo.models import ModelChoice
from live_demo.spec import DemoSpec

ROOT = Path(__file__).resolve().parent.parent
SPEC = DemoSpec(prompt="The cat sat", max_new_tokens=3, top_k=4, num_beams=2)
CHOICE = ModelChoice(id="gpt2", display="GPT-2", requested="gpt2", source="hub", revision="c" * 40,
                     weights_sha256="a" * 64, available_offline=True, reason="test", path="/nowhere")
VERSIONS = {"torch": "2.13.0+cpu", "transformers": "5.23.0"}


def test_cache_key_changes_when_any_part_changes(monkeypatch):
    base = cache_key(key_parts(SPEC, 42, CHOICE, None, VERSIONS))
    assert base == cache_key(key_parts(SPEC, 42, CHOICE, None, dict(VERSIONS)))  # stable
    variants = [
        key_parts(SPEC.model_copy(update={"prompt": "The cat sat."}), 42, CHOICE, None, VERSIONS),
        key_parts(SPEC, 43, CHOICE, None, VERSIONS),
        key_parts(SPEC, 42, dataclasses.replace(CHOICE, id="distilgpt2"), None, VERSIONS),
        key_parts(SPEC, 42, dataclasses.replace(CHOICE, requested="gpt2-medium"), None, VERSIONS),
        key_parts(SPEC, 42, dataclasses.replace(CHOICE, revision="d" * 40), None, VERSIONS),
        key_parts(SPEC, 42, dataclasses.replace(CHOICE, weights_sha256="b" * 64), None, VERSIONS),
        key_parts(SPEC, 42, CHOICE, "v2", VERSIONS),
        key_parts(SPEC, 42, CHOICE, None, VERSIONS | {"torch": "2.12.0"}),
        key_parts(SPEC, 42, CHOICE, None, VERSIONS | {"transformers": "5.22.0"}),
    ]
    for field, value in [("max_new_tokens", 4), ("top_k", 5), ("temperatures", (0.7,)), ("sample_top_k", 40),
                         ("sample_top_p", 0.8), ("sample_temperature", 0.7), ("num_beams", 3),
                         ("attention", (0, 0)), ("batch_with", ("x",)), ("timing", True)]:
        variants.append(key_parts(SPEC.model_copy(update={field: value}), 42, CHOICE, None, VERSIONS))
    monkeypatch.setattr(cache_mod, "TRACE_FORMAT", cache_mod.TRACE_FORMAT + 1)
    variants.append(key_parts(SPEC, 42, CHOICE, None, VERSIONS))
    keys = [cache_key(v) for v in variants]
    assert base not in keys and len(set(keys)) == len(keys)


@pytest.fixture
def counted_runs(monkeypatch):
    """Counts real model runs (get_traces imports run_demo from live_demo.trace on a miss)."""
    calls = []
    real = live_demo.trace.run_demo

    def run(loaded, name, spec, seed):
        calls.append(name)
        return real(loaded, name, spec, seed)

    monkeypatch.setattr(live_demo.trace, "run_demo", run)
    return calls


def test_second_build_is_served_from_cache_and_refresh_reruns(tiny_gpt2_dir, tmp_path, counted_runs):
    demos = {"cat": SPEC, "same": SPEC, "dog": SPEC.model_copy(update={"prompt": "The dog ran"})}
    args = (demos, str(tiny_gpt2_dir), None, False, 42, tmp_path)
    first = get_traces(*args, on_warning=pytest.fail)
    assert counted_runs == ["cat", "same", "dog"] and len(list(tmp_path.glob("*.json"))) == 2
    assert first["same"]["demo"] == "same" and first["same"]["tokens"] == first["cat"]["tokens"]
    assert get_traces(*args, on_warning=pytest.fail) == first and len(counted_runs) == 3
    get_traces(*args, refresh=True, on_warning=pytest.fail)
    assert len(counted_runs) == 6


def test_a_cached_build_never_imports_torch(tiny_gpt2_dir, tmp_path):
    demos = {"cat": SPEC}
    expected = get_traces(demos, str(tiny_gpt2_dir), None, False, 42, tmp_path)
    code = ("import json, sys\nfrom live_demo.cache import get_traces\nfrom live_demo.spec import DemoSpec\n"
            f"spec = DemoSpec.model_validate_json({SPEC.model_dump_json()!r})\n"
            f"out = get_traces({{'cat': spec}}, {str(tiny_gpt2_dir)!r}, None, False, 42, {str(tmp_path)!r})\n"
            "print(json.dumps(out, sort_keys=True))\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=os.environ | {"HF_HUB_OFFLINE": "1"})
    lines = out.stdout.splitlines()
    assert lines, out.stderr
    assert json.loads(lines[0]) == expected
    assert lines[1] == "[]"


def test_committed_trace_of_an_absent_model_wins_over_the_fallback(tmp_path, monkeypatch):
    """Rule 3: the configured model is not here, but the cache holds its trace of this demo."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf"))
    absent = dataclasses.replace(CHOICE, id="acme/absent", requested="acme/absent")
    committed = {"demo": "cat", "model": {"display": "absent", "source": "hub"}, "tokens": ["made elsewhere"]}
    TraceCache(tmp_path / "live").put(key_parts(SPEC, 42, absent, None, {"torch": "0.1", "transformers": "0.1"}),
                                      committed)
    def no_loading(*_args):
        raise LookupError("loaded a model although a trace was committed")

    monkeypatch.setattr(cache_mod, "_load", no_loading)
    got = get_traces({"cat": SPEC}, "acme/absent", None, True, 42, tmp_path / "live", on_warning=pytest.fail)
    assert got["cat"]["tokens"] == ["made elsewhere"]
    # a different seed is a different demo: no committed trace, so the model is needed
    with pytest.raises(LookupError):
        get_traces({"cat": SPEC}, "acme/absent", None, True, 7, tmp_path / "live", on_warning=lambda m: None)


def test_unreadable_entry_is_a_miss(tiny_gpt2_dir, tmp_path, counted_runs):
    args = ({"cat": SPEC}, str(tiny_gpt2_dir), None, False, 42, tmp_path)
    get_traces(*args)
    for f in tmp_path.glob("*.json"):
        f.write_text("{ half written")
    get_traces(*args)
    assert counted_runs == ["cat", "cat"]
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["trace"]["prompt"] == "The cat sat"
