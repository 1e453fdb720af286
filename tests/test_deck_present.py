"""`novapress present`: serves the decks, reloads the browser after a rebuild, never edits build/."""
from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from renderer.deck.present import EVENTS_PATH, Changes, inject_reload, present
from renderer.errors import InputError
from renderer.progress import Reporter

BUILT = b"<!DOCTYPE html><html><body><p>deck v1</p></body></html>"


@pytest.fixture
def served(tmp_path):
    out = tmp_path / "build"
    (out / "slides").mkdir(parents=True)
    (out / "slides" / "talk.html").write_bytes(BUILT)
    decks = tmp_path / "slides"
    (decks / "themes").mkdir(parents=True)
    (decks / "talk.md").write_text("---\nmarp: true\n---\n\n# v1\n")
    storyboards = tmp_path / "storyboards"
    storyboards.mkdir()
    calls: list[list[Path]] = []

    def rebuild(changed):
        calls.append(changed)
        if any("broken" in p.name for p in changed):
            raise InputError("slides/broken.md:3: slide 1: undefined name 'modl'")
        (out / "slides" / "talk.html").write_bytes(BUILT.replace(b"v1", b"v2"))

    urls: list[str] = []
    stop = threading.Event()
    args = SimpleNamespace(host="127.0.0.1", port=0, out=str(out))
    thread = threading.Thread(target=present, args=(args, rebuild), daemon=True, kwargs=dict(
        decks_dir=decks, theme_dir=decks / "themes", watch=[storyboards], reporter=Reporter(quiet=True),
        on_ready=urls.append, stop=stop, poll_interval=0.05))
    thread.start()
    for _ in range(100):
        if urls:
            break
        time.sleep(0.05)
    yield SimpleNamespace(url=urls[0], out=out, decks=decks, storyboards=storyboards, calls=calls)
    stop.set()
    thread.join(timeout=5)


def read_event(url: str, action) -> str:
    """Open the event stream, do `action`, return the first real event."""
    with urllib.request.urlopen(url + EVENTS_PATH.lstrip("/"), timeout=10) as stream:
        action()
        lines = []
        while True:
            line = stream.readline().decode()
            if line.startswith("event:") or lines:
                lines.append(line)
            if lines and line == "\n":
                return "".join(lines)


def test_serves_the_deck_with_reload_script_but_leaves_the_file(served):
    with urllib.request.urlopen(served.url, timeout=5) as page:  # / redirects to the deck
        body = page.read()
        assert page.url.endswith("/slides/talk.html")
    assert b"deck v1" in body and EVENTS_PATH.encode() in body
    assert (served.out / "slides" / "talk.html").read_bytes() == BUILT


def test_a_changed_source_rebuilds_and_reloads(served):
    event = read_event(served.url, lambda: (served.storyboards / "page-05.yaml").write_text("page: 5\n"))
    assert event.startswith("event: reload")
    assert served.calls and served.calls[-1][0].name == "page-05.yaml"
    with urllib.request.urlopen(served.url + "slides/talk.html", timeout=5) as page:
        assert b"deck v2" in page.read()


def test_a_failed_rebuild_is_shown_in_the_browser(served):
    event = read_event(served.url, lambda: (served.decks / "broken.md").write_text("# {{ modl }}\n"))
    assert event.startswith("event: failed") and "modl" in event


def test_no_access_outside_the_output_folder(served):
    """Paths that climb out of build/ (raw, percent-encoded, through a subfolder) find nothing:
    404, never the file, never a server error."""
    secret = served.out.parent / "secret.txt"
    secret.write_text("not for the browser")
    host, port = urllib.parse.urlsplit(served.url).netloc.rsplit(":", 1)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/slides/../../secret.txt", "/..%2fsecret.txt",
                 "/../slides/talk.md", "/slides/%2e%2e/%2e%2e/slides/talk.md", "/../secret.html"):
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)   # sent as written, not normalised
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == 404, (path, response.status)
        assert b"not for the browser" not in body and b"marp: true" not in body, path
    with urllib.request.urlopen(served.url + "slides/talk.html", timeout=5) as page:   # inside: served
        assert page.status == 200 and b"deck v1" in page.read()


def test_changes_polling(tmp_path):
    watched = tmp_path / "w"
    watched.mkdir()
    changes = Changes([watched])
    assert changes.poll() == []
    (watched / "a.md").write_text("x")
    assert changes.poll() == [watched / "a.md"]
    (watched / "a.md").unlink()
    assert changes.poll() == [watched / "a.md"]


def test_inject_reload_only_adds_the_script():
    page = inject_reload(BUILT)
    assert page.replace(page[page.find(b"<script>"):page.find(b"</body>")], b"") == BUILT
