"""The reference docs (docs/props.md with its pictures, docs/trace.md) are what the code generates,
and the trace's field list (live_demo/trace_fields.py) names every field real runs write, no more."""
from __future__ import annotations

import json
import shutil

import pytest

from live_demo.spec import AttentionSpec, DemoSpec
from live_demo.trace_fields import FIELDS, trace_paths
from renderer import reference
from renderer.props import REGISTRY

# a ChatML-style template on GPT-2's own end-of-text token: the tiny model then runs as a chat model
CHAT_TEMPLATE = ("{% for m in messages %}<|endoftext|>{{ m['role'] }}\n{{ m['content'] }}<|endoftext|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|endoftext|>assistant\n{% endif %}")


def test_the_shipped_reference_docs_are_what_the_code_generates():
    assert reference.main(["--check"]) == 0, "run: python -m renderer.reference"


def test_props_md_has_every_prop_its_parameters_and_its_picture():
    text = (reference.DOCS / "props.md").read_text(encoding="utf-8")
    for name, ptype in REGISTRY.items():
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"](props/{name}.png)" in section and (reference.DOCS / "props" / f"{name}.png").exists()
        for key in ptype.params.model_fields:
            assert f"| `{key}` |" in section, f"{name}.{key} is not documented"


@pytest.fixture(scope="module")
def chat_model(tiny_gpt2_dir, tmp_path_factory):
    from live_demo.loading import load_model
    from live_demo.models import resolve_model

    folder = tmp_path_factory.mktemp("tiny-chat") / "model"
    shutil.copytree(tiny_gpt2_dir, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps(config | {"chat_template": CHAT_TEMPLATE}))
    return load_model(resolve_model(str(folder), None, fallback=False))


def test_every_trace_field_is_documented_and_every_documented_field_occurs(tiny_gpt2, chat_model):
    from live_demo.trace import run_demo

    everything = DemoSpec(prompt="How does AI work?", max_new_tokens=3, num_beams=2, timing=True,
                          attention=AttentionSpec(layer=1, head=0), batch_with=("Hi!",),
                          compare_tokenizers=("gpt2", "smollm2"))
    traces = [run_demo(tiny_gpt2, "everything", everything, seed=1),
              run_demo(tiny_gpt2, "pooled", DemoSpec(prompt="A longer prompt, so that every layer is pooled to "
                                                            "fewer cells than it has tokens.", max_new_tokens=2,
                                                     num_beams=2, attention=AttentionSpec(layers="all")), seed=1),
              run_demo(chat_model, "chat", DemoSpec(prompt="Why is the sky blue?", max_new_tokens=3, num_beams=2,
                                                    attention=(0, 1), batch_with=("Hi!",)), seed=1)]
    assert traces[2]["chat"] is not None and traces[1]["attention_heads"]["pooled"]
    seen = set().union(*(trace_paths(t) for t in traces))
    assert sorted(seen - set(FIELDS)) == [], "fields a trace holds that live_demo/trace_fields.py does not describe"
    assert sorted(set(FIELDS) - seen) == [], "fields described in live_demo/trace_fields.py that no trace holds"
    assert all(meaning.strip() for meaning in FIELDS.values())
