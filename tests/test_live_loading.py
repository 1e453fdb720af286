"""Loading (live_demo.loading): a tokenizer is checked, not trusted."""
from __future__ import annotations

import shutil

import pytest

from live_demo.errors import ModelLoadError, ModelUnavailable
from live_demo.loading import check_tokenizer, load_model
from live_demo.models import resolve_model


def test_loaded_model_is_float32_in_eval_mode(tiny_gpt2):
    assert not tiny_gpt2.model.training
    assert {p.dtype for p in tiny_gpt2.model.parameters()} == {__import__("torch").float32}
    assert len(tiny_gpt2.tokenizer) == 50257


def test_an_empty_tokenizer_is_rejected(tiny_gpt2):
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from transformers import GPT2TokenizerFast

    # what a folder with missing or empty tokenizer files loads as (transformers 5 builds one
    # from vocab_file/merges_file this way): a tokenizer with (almost) no entries
    empty = GPT2TokenizerFast(tokenizer_object=Tokenizer(BPE(vocab={"a": 0, "b": 1}, merges=[])))
    assert len(empty) < 256
    with pytest.raises(ModelLoadError, match="only .* entries"):
        check_tokenizer(empty, tiny_gpt2.model, "tiny")


def test_a_tokenizer_larger_than_the_model_is_rejected(tiny_gpt2):
    from transformers import GPT2Config, GPT2LMHeadModel

    small = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=1, vocab_size=1000))
    with pytest.raises(ModelLoadError, match="do not belong together"):
        check_tokenizer(tiny_gpt2.tokenizer, small, "small")


def test_a_folder_without_weights_is_not_a_model(tiny_gpt2_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_gpt2_dir, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match="no complete model"):
        resolve_model(str(broken), None, fallback=False)


def test_corrupt_weights_are_a_load_error_not_a_traceback(tiny_gpt2_dir, tmp_path):
    broken = tmp_path / "corrupt"
    shutil.copytree(tiny_gpt2_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="could not load"):
        load_model(resolve_model(str(broken), None, fallback=False))
