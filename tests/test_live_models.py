"""Model resolution (live_demo.models): no torch, no waiting for the hub."""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from live_demo import models
from live_demo.errors import ModelUnavailable
from live_demo.models import fallback_warning, model_status, probe_hub, resolve_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def offline_and_private_cache(monkeypatch, tmp_path):
    """No test here talks to the hub, and the HF cache is an empty private folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-hub"))


def fake_hub_cache(root: Path, repo: str, commit: str, weights: bytes) -> str:
    """A download laid out as huggingface_hub does: blobs named by hash, symlinked snapshots."""
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    blobs, snap = repo_dir / "blobs", repo_dir / "snapshots" / commit
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    sha = hashlib.sha256(weights).hexdigest()
    (blobs / sha).write_bytes(weights)
    (blobs / "cfg").write_text('{"model_type": "gpt2"}')
    (snap / "model.safetensors").symlink_to(Path("../../blobs") / sha)
    (snap / "config.json").symlink_to(Path("../../blobs/cfg"))
    return sha


def test_local_folder_is_used_with_its_weights_hash(tiny_gpt2_dir):
    choice = resolve_model(str(tiny_gpt2_dir), None, fallback=False)
    assert choice.source == "local" and choice.available_offline
    assert choice.path == str(tiny_gpt2_dir)
    assert choice.weights_sha256 == hashlib.sha256((tiny_gpt2_dir / "model.safetensors").read_bytes()).hexdigest()


def test_model_in_hf_cache_counts_as_available_with_commit_and_hash(tmp_path, monkeypatch):
    commit = "0123456789abcdef0123456789abcdef01234567"
    sha = fake_hub_cache(tmp_path / "hf-hub", "acme/tiny", commit, b"weights")
    choice = resolve_model("acme/tiny", None, fallback=False)
    assert (choice.source, choice.revision, choice.weights_sha256) == ("hub", commit, sha)
    assert choice.available_offline and choice.path.endswith(commit)


def test_hf_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    fake_hub_cache(tmp_path / "home" / "hub", "acme/tiny", "a" * 40, b"w")
    assert resolve_model("acme/tiny", None, fallback=False).revision == "a" * 40


def test_offline_never_asks_the_hub(monkeypatch):
    monkeypatch.setattr(models, "probe_hub", lambda *a, **k: pytest.fail("asked the hub while HF_HUB_OFFLINE=1"))
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        resolve_model("acme/absent", None, fallback=False)


def test_missing_model_falls_back_to_smollm2_and_says_so_naming_both():
    choice = resolve_model("acme/absent", None, fallback=True)
    assert (choice.source, choice.display, choice.requested) == ("fallback", "SmolLM2-135M-Instruct", "acme/absent")
    assert choice.path.endswith(".gguf") and len(choice.weights_sha256) == 64
    line = fallback_warning(choice)
    assert "acme/absent" in line and "SmolLM2-135M" in line and "\n" not in line


@pytest.mark.parametrize("model_id, words", [("./no/such/folder", "no folder"),
                                              ("not a valid id!", "valid Hugging Face model id")])
def test_bad_ids_say_what_is_wrong(model_id, words):
    with pytest.raises(ModelUnavailable, match=words):
        resolve_model(model_id, None, fallback=False)


def test_a_hub_that_never_answers_is_given_up_on_at_the_deadline(monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # connections queue up but nobody ever answers
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        status, _detail = probe_hub("acme/tiny", None, timeout=0.5)
    finally:
        silent.close()
    assert status == "unreachable"


class FakeHub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/api/models/acme/tiny/"):
            body = json.dumps({"id": "acme/tiny"}).encode()
            self.send_response(200)
        else:
            body = b'{"error": "Repository not found"}'
            self.send_response(404)
            if "/acme/" in self.path:  # the real hub labels its 404s; a proxy's do not count
                self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield
    server.shutdown()


def test_hub_answers_are_read_only_when_they_are_the_hubs(fake_hub):
    assert probe_hub("acme/tiny", None)[0] == "found"
    assert probe_hub("acme/absent", None)[0] == "missing"
    assert probe_hub("other/absent", None)[0] == "unreachable"  # a bare 404 is not the hub speaking


def test_unknown_model_on_a_reachable_hub_is_an_error_without_fallback(fake_hub, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ModelUnavailable, match="the hub has no model 'acme/absent'"):
        resolve_model("acme/absent", None, fallback=False)
    online = resolve_model("acme/tiny", None, fallback=False)
    assert (online.source, online.available_offline, online.path) == ("hub", False, None)


def test_unknown_model_with_fallback_off_fails_fast_without_torch(tmp_path):
    """The user's build must stop at once, not after transformers' minutes of retries."""
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"} | {"HF_HUB_CACHE": str(tmp_path)}
    code = ("import sys\nfrom live_demo.models import resolve_model\nfrom live_demo.errors import ModelUnavailable\n"
            "try:\n    resolve_model('acme/no-such-model-xyz', None, fallback=False)\n"
            "except ModelUnavailable as err:\n    print(err.message)\n    print('torch' in sys.modules)\n")
    # the generous timeout is the assertion: resolution answers in seconds (the probe's deadline is 4 s)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=20)
    lines = out.stdout.splitlines()
    assert "not available" in lines[0] and "acme/no-such-model-xyz" in lines[0], out.stderr
    assert lines[1] == "False"


def test_model_status_for_doctor():
    on = model_status("acme/absent", None, fallback=True)
    assert on["ok"] and on["source"] == "fallback" and on["display"] == "SmolLM2-135M-Instruct" and on["where"]
    off = model_status("acme/absent", None, fallback=False)
    assert not off["ok"] and "not available" in off["error"]
