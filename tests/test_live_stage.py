"""The live stage hands later stages the traces it stores."""
import json


def test_later_stages_see_a_fresh_trace_as_the_cache_would_give_it(monkeypatch, tmp_path):
    """A trace straight from a model run holds tuples (shapes); read back from the cache they are
    lists, and a template prints them differently. The stages after live see the stored form, so
    the build after a model run does not differ from (and rebuild after) the one that ran it."""
    from types import SimpleNamespace

    from renderer.stages import live

    fresh = {"shapes": {"input_ids": (1, 7)}, "prob": 0.1 + 0.2}
    monkeypatch.setattr(live, "demo_traces", lambda demos, config, **kw: {"question": fresh})
    done = []
    state = SimpleNamespace(project=SimpleNamespace(config=SimpleNamespace(demos={"question": None}), theme=None),
                            out=tmp_path, traces={}, trace_hashes={}, theme_hash="t",
                            reporter=SimpleNamespace(step=lambda *a: None),
                            up_to_date=lambda step, inputs: False, done=lambda *a: done.append(a))
    live.live_stage(state, ["question"])
    assert state.traces["question"]["shapes"]["input_ids"] == [1, 7]
    assert state.traces["question"] == json.loads((tmp_path / "live" / "question.json").read_text())
    assert [a[0] for a in done] == ["live:question"]
