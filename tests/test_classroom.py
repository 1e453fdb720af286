"""`novapress serve --classroom`: questions asked together are generated together, each answer the
same as the question asked alone; a bounded queue with positions; 30 simultaneous askers on
loopback all answered."""
from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import quote

import pytest

from live_demo.spec import DemoSpec
from renderer.site.ask import AskEngine, AskRejected

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("sse_starlette")

from renderer.site.classroom import Classroom, make_app  # noqa: E402

SPEC = DemoSpec(prompt="?", max_new_tokens=12)
SEED = 42
PROMPTS = ["Why is the sky blue?", "Hi", "Tell me about tokens, embeddings and attention in one go.",
           "¿Qué es un modelo?", "A", "Is 2+2 four?"]


def alone(engine: AskEngine, prompt: str) -> str:
    """The answer of the stdlib server's engine: transformers' generate, one question at a time."""
    return next(d for k, d in engine.stream(prompt, SPEC.max_new_tokens) if k == "done")["text"]


def collect(req) -> dict:
    while True:
        kind, data = req.events.get(timeout=120)
        if kind in ("done", "error"):
            return {"kind": kind, **data}


@pytest.fixture(scope="module")
def engine(tiny_gpt2):
    return AskEngine(seed=SEED, template=SPEC, loaded=tiny_gpt2)


@pytest.fixture(scope="module")
def answers_alone(engine):
    return {p: alone(engine, p) for p in PROMPTS}


def test_questions_asked_together_get_the_answers_they_get_alone(engine, answers_alone):
    room = Classroom(engine, window=0.3)
    reqs = [room.submit(p, SPEC.max_new_tokens) for p in PROMPTS]
    done = [collect(r) for r in reqs]
    assert room.batches == [len(PROMPTS)]              # one padded batch
    assert [d["text"] for d in done] == [answers_alone[p] for p in PROMPTS]


def test_the_queue_is_bounded_and_tells_positions(engine):
    room = Classroom(engine, max_queue=2, window=0.01)
    with engine._run_lock:                                 # the model is busy: questions wait
        first = room.submit("one", 4)
        deadline = time.monotonic() + 30
        while room.waiting and time.monotonic() < deadline:   # the scheduler took it, and waits for the model
            time.sleep(0.01)
        second, third = room.submit("two", 4), room.submit("three", 4)
        assert (room.position(first), room.position(second), room.position(third)) == (0, 1, 2)
        with pytest.raises(AskRejected) as err:
            room.submit("four", 4)
        assert err.value.status == 429 and "2 questions are waiting" in err.value.message
    assert [collect(r)["kind"] for r in (first, second, third)] == ["done"] * 3


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    import uvicorn

    site = tmp_path_factory.mktemp("classroom-site")
    (site / "index.html").write_text("<!doctype html><title>class</title>")
    app = make_app(site, engine, classroom=Classroom(engine, max_batch=32, max_queue=64, window=0.2))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", backlog=128))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, port
    server.should_exit = True
    thread.join(10)


def ask_over_http(port: int, prompt: str) -> tuple[int, list[tuple[str, dict]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", f"/api/ask?prompt={quote(prompt)}&max_new_tokens={SPEC.max_new_tokens}")
    resp = conn.getresponse()
    if resp.status != 200:
        return resp.status, []
    events, kind = [], None
    for raw in resp:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:") and kind:
            events.append((kind, json.loads(line[5:].strip())))
            if kind in ("done", "error"):
                break
    conn.close()
    return resp.status, events


def test_thirty_simultaneous_askers_are_all_answered_as_alone(served, answers_alone):
    app, port = served
    results: list = [None] * 30
    go = threading.Barrier(30)

    def asker(i: int) -> None:
        go.wait()
        results[i] = ask_over_http(port, PROMPTS[i % len(PROMPTS)])

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert all(status == 200 for status, _ in results), [s for s, _ in results]
    for i, (_, events) in enumerate(results):
        kinds = [k for k, _ in events]
        assert kinds[-1] == "done" and "start" in kinds and "token" in kinds, kinds
        assert events[-1][1]["text"] == answers_alone[PROMPTS[i % len(PROMPTS)]]
    assert max(app.state.classroom.batches) > 1         # they were generated together


def test_the_classroom_serves_the_site_with_the_same_rules(served):
    _, port = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.status == 200 and b"class" in resp.read()
    assert "default-src 'self'" in resp.getheader("Content-Security-Policy")
    conn.request("GET", "/api/info", headers={"Host": "evil.example"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 403
    conn.request("GET", "/api/ask?prompt=")
    resp = conn.getresponse()
    assert resp.status == 400 and "empty" in json.loads(resp.read())["error"]


try:                                   # the built site and the browser of the personal page's tests
    from .test_personal_browser import browser, page, site  # noqa: F401
except ImportError:
    from test_personal_browser import browser, page, site  # noqa: F401


def test_the_tour_tells_a_waiting_visitor_its_place_in_line(page, site, engine):  # noqa: F811
    import re

    import uvicorn
    from playwright.sync_api import expect

    room = Classroom(engine, window=0.01)
    server = uvicorn.Server(uvicorn.Config(make_app(site, engine, classroom=room), host="127.0.0.1", port=0,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/"
    try:
        page.goto(url + "tour.html?dwell=60000")
        page.wait_for_selector('[data-ask][data-mode="live"]')
        with engine._run_lock:                          # a batch holds the model: the next question waits
            ahead = room.submit("Someone asked first", 4)
            while room.waiting:
                time.sleep(0.01)
            page.fill("[data-ask-input]", "And me?")
            page.click("[data-ask-go]")
            expect(page.locator("[data-run-state]")).to_have_text("Model: waiting in line, position 1", timeout=30000)
            assert "number 1 in line" in page.locator("[data-status]").inner_text()
        collect(ahead)
        expect(page.locator("[data-run-state]")).to_have_text(re.compile(r"^Model: done"), timeout=60000)
    finally:
        server.should_exit = True
