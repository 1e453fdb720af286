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
    assert kinds[0] == "start" and kinds[1] == "forward" and kinds[-1] == "done" and set(kinds[2:-1]) == {"token"}
    tokens = [d for k, d in events if k == "token"]
    steps = trace["strategies"]["top_p"]["steps"]
    assert [t["id"] for t in tokens] == [s["token"]["id"] for s in steps]
    assert [t["text"] for t in tokens] == [s["token"]["text"] for s in steps]
    assert [t["prob"] for t in tokens] == [s["prob"] for s in steps]
    assert [[a["id"] for a in t["alternatives"]] for t in tokens] == [[a["id"] for a in s["alternatives"]] for s in steps]
    assert events[-1][1]["n_tokens"] == len(steps)
    assert events[-1][1]["stopped"] == trace["strategies"]["top_p"]["stopped"]
    start = events[0][1]
    assert [(t["id"], t["display"]) for t in start["tokens"]] == [(t["id"], t["display"]) for t in trace["tokens"]]
    assert start["chat"] is None and start["n_input"] == len(trace["tokens"])      # GPT-2: no chat template
    assert start["model"]["classes"] == trace["model"]["classes"] and start["run"]
    assert start["device"]["device"] == "cpu"
    forward = events[1][1]
    # the forward pass inside generate: the same stages and values as the trace's own forward pass
    assert [s["stage"] for s in forward["shapes"]] == [s["stage"] for s in trace["shapes"]]
    assert forward["shapes"][:-1] == trace["shapes"][:-1]
    from live_demo.formatting import pct, value
    assert forward["samples"]["values"] == [{"stage": v["stage"], "values": [value(x) for x in v["values"]]}
                                            for v in trace["samples"]["values"]]
    assert [t["id"] for t in forward["top"]] == [t["id"] for t in trace["next_token"]["top"]][:len(forward["top"])]
    assert tokens[0]["pct"] == pct(steps[0]["prob"])


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


def test_busy_server_answers_429_after_waiting_a_little(server):
    server.asks.acquire()
    saved, server.ask_wait = server.ask_wait, 0.2
    try:
        status, _, body = get(server, "/api/ask?prompt=hello")
    finally:
        server.asks.release()
        server.ask_wait = saved
    assert status == 429 and "busy" in json.loads(body)["error"]
    assert get(server, "/api/ask?prompt=hello&max_new_tokens=2")[0] == 200


def post(server, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    conn.request("POST", path, headers={"Host": f"127.0.0.1:{server.server_address[1]}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def test_stop_frees_the_model_at_once_for_the_next_question(site_dir, tiny_gpt2_dir):
    """Stop ends the answer at its next token and returns once the model is free: asking again
    right after is answered, never "busy"."""
    from live_demo.loading import load_model
    from live_demo.models import resolve_model

    slow = load_model(resolve_model(str(tiny_gpt2_dir), None, fallback=False))
    gate = threading.Event()
    # each forward pass waits a little, so the answer is still running when Stop comes
    slow.model.register_forward_hook(lambda *_: None if gate.wait(0.05) else None)
    engine = AskEngine(seed=SEED, template=SPEC, loaded=slow)
    srv = make_server(site_dir, engine, "127.0.0.1", 0, ask_wait=0)   # no grace: busy means busy
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=60)
        conn.request("GET", "/api/ask?prompt=Tell%20me%20a%20story&max_new_tokens=64",
                     headers={"Host": f"127.0.0.1:{srv.server_address[1]}"})
        resp = conn.getresponse()
        first = b""
        while b"event: token" not in first:
            chunk = resp.read1(4096)
            assert chunk, first.decode()
            first += chunk
        run_id = json.loads(first.split(b"event: start\ndata: ")[1].split(b"\n")[0])["run"]
        status, body = post(srv, f"/api/stop?run={run_id}")
        assert status == 200 and json.loads(body) == {"stopped": True}
        rest = resp.read()
        conn.close()
        done = sse(first + rest)[-1]
        assert done[0] == "done" and done[1]["stopped"] == "cancelled" and done[1]["n_tokens"] < 64
        status, _, body = get(srv, "/api/ask?prompt=hello&max_new_tokens=2")
        assert status == 200 and sse(body)[-1][0] == "done"
        assert post(srv, "/api/stop?run=nope") == (200, b'{"stopped": false}')
        assert post(srv, "/api/ask")[0] == 405
    finally:
        srv.shutdown()
        srv.server_close()


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
