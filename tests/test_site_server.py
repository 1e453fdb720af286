"""`novapress serve`: only files under build/site, loopback by default, limits, and Ask streaming
tokens that match a trace of the same prompt and seed (tiny GPT-2 from conftest)."""
from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from live_demo.spec import DemoSpec
from renderer.errors import InputError
from renderer.site.ask import AskEngine
from renderer.site.server import make_server, serve

SPEC = DemoSpec(prompt="Why is the sky blue?", max_new_tokens=10)
SEED = 42


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("served")
    site = root / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>home</title>")
    (site / "assets" / "site.css").write_text("body{}")
    (root / "secret.txt").write_text("outside the site")
    (site / "leak.txt").symlink_to(root / "secret.txt")
    (site / "leakdir").symlink_to(root, target_is_directory=True)
    return site


@pytest.fixture(scope="module")
def server(site_dir, tiny_gpt2):
    engine = AskEngine(seed=SEED, template=SPEC, loaded=tiny_gpt2)
    srv = make_server(site_dir, engine, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(server, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host or f"127.0.0.1:{server.server_address[1]}")
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), body


def sse(body: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_serves_site_files_with_a_strict_policy(server):
    status, headers, body = get(server, "/")
    assert status == 200 and b"home" in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = get(server, "/assets/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt",
                                  "/leak.txt", "/leakdir/secret.txt", "/assets/", "/assets", "//etc/passwd",
                                  "/%00index.html", "/nothing.html", "/..\\secret.txt", "/%ff"])
def test_nothing_outside_the_site_and_no_listings(server, path):
    status, _, body = get(server, path)
    assert status == 404, path
    assert b"outside the site" not in body


def test_refuses_foreign_host_names_on_loopback(server):
    status, _, _ = get(server, "/", host="evil.example:80")
    assert status == 403
    assert get(server, "/", host="localhost")[0] == 200


def test_info_names_the_model_and_limits(server):
    status, _, body = get(server, "/api/info")
    info = json.loads(body)
    assert status == 200 and info["status"] == "ready" and info["model"] and info["seed"] == SEED
    assert info["max_prompt_chars"] == 500


def test_ask_streams_the_traces_tokens_for_the_same_prompt_and_seed(server, tiny_gpt2):
    from live_demo.trace import run_demo

    trace = run_demo(tiny_gpt2, "ask", SPEC, SEED)
    status, headers, body = get(server, "/api/ask?prompt=Why%20is%20the%20sky%20blue%3F")
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse(body)
    kinds = [k for k, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and set(kinds[1:-1]) == {"token"}
    tokens = [d for k, d in events if k == "token"]
    steps = trace["strategies"]["top_p"]["steps"]
    assert [t["id"] for t in tokens] == [s["token"]["id"] for s in steps]
    assert [t["text"] for t in tokens] == [s["token"]["text"] for s in steps]
    assert [t["prob"] for t in tokens] == [s["prob"] for s in steps]
    assert [[a["id"] for a in t["alternatives"]] for t in tokens] == [[a["id"] for a in s["alternatives"]] for s in steps]
    assert events[-1][1]["n_tokens"] == len(steps)
    assert events[0][1]["prompt_tokens"] == [{"display": t["display"], "id": t["id"]} for t in trace["tokens"]]


@pytest.mark.parametrize("query,status", [("prompt=", 400), ("", 400), ("prompt=" + "a" * 501, 413),
                                          ("prompt=hi&max_new_tokens=1000", 400), ("prompt=hi&max_new_tokens=x", 400)])
def test_ask_limits(server, query, status):
    got, headers, body = get(server, "/api/ask?" + query)
    assert got == status and "error" in json.loads(body)


def test_prompt_longer_than_the_context_is_refused(server):
    status, _, body = get(server, "/api/ask?prompt=" + "%20a" * 250 + "&max_new_tokens=64")
    assert status == 200   # 250 tokens + 64 fit GPT-2's 1024 positions
    engine = server.engine
    saved = engine.max_prompt_chars
    engine.max_prompt_chars = 5000
    try:
        status, _, body = get(server, "/api/ask?prompt=" + "%20a" * 1000 + "&max_new_tokens=64")
    finally:
        engine.max_prompt_chars = saved
    assert status == 413 and "1024" in json.loads(body)["error"]


def test_busy_server_answers_429(server):
    server.asks.acquire()
    try:
        status, _, body = get(server, "/api/ask?prompt=hello")
    finally:
        server.asks.release()
    assert status == 429 and "busy" in json.loads(body)["error"]
    assert get(server, "/api/ask?prompt=hello&max_new_tokens=2")[0] == 200


def test_a_model_that_fails_to_load_is_reported_not_crashed(site_dir):
    def broken():
        raise RuntimeError("weights missing")

    engine = AskEngine(seed=1, template=SPEC, loader=broken)
    srv = make_server(site_dir, engine)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        status, _, body = get(srv, "/api/ask?prompt=hi")
        assert status == 503 and "weights missing" in json.loads(body)["error"]
        assert json.loads(get(srv, "/api/info")[2])["status"] == "error"
    finally:
        srv.shutdown()
        srv.server_close()


def test_serve_without_a_built_site_says_how_to_build_it(tmp_path):
    with pytest.raises(InputError) as err:
        serve(SimpleNamespace(out=str(tmp_path), host="127.0.0.1", port=0))
    assert "novapress build site" in str(err.value)
