"""`novapress present`: the comic pages served on loopback, redrawn on save (watchfiles) and
reloaded; a broken save shows its located error; `present NAME` opens that page or deck."""
from __future__ import annotations

import os
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from renderer.deck.present import EVENTS_PATH
from renderer.errors import InputError
from renderer.preview.server import serve_preview
from renderer.progress import Reporter
from test_build import PAGE, make_project


def read_event(url: str, action, want: str = "reload") -> str:
    """Open the event stream, do `action`, return the first `want` event (name and data); a
    stream opened while the last redraw failed starts with that failure, which is skipped."""
    with urllib.request.urlopen(url + EVENTS_PATH.lstrip("/"), timeout=60) as stream:
        action()
        lines: list[str] = []
        while True:
            line = stream.readline().decode()
            if line.startswith("event:") or lines:
                lines.append(line)
            if lines and line == "\n":
                if lines[0].startswith(f"event: {want}"):
                    return "".join(lines)
                lines = []


@pytest.fixture
def preview(tmp_path):
    proj = make_project(tmp_path / "proj", {
        "page-01-a.yaml": PAGE.format(page=1, title="First", words="Hello, Kai."),
        "page-02-b.yaml": PAGE.format(page=2, title="Second", words="Tokens next."),
    })
    cwd = os.getcwd()
    os.chdir(proj)
    urls: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    args = SimpleNamespace(host="127.0.0.1", port=0, out="build", strict=False, name="page-02")

    def run():
        try:
            serve_preview(args, reporter=Reporter(quiet=True), on_ready=urls.append, stop=stop)
        except BaseException as err:   # noqa: BLE001 - reported by the test
            failures.append(err)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    for _ in range(600):
        if urls or failures:
            break
        time.sleep(0.1)
    try:
        assert not failures, failures
        yield SimpleNamespace(url=urls[0], proj=proj)
    finally:
        stop.set()
        thread.join(timeout=10)
        os.chdir(cwd)


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as page:
        return page.url, page.read()


def test_present_serves_the_named_page_and_redraws_it_on_save(preview):
    where, body = get(preview.url)                      # `present page-02` opens that page
    assert where.endswith("/page/page-02") and b"/comic/pages/page-02.png" in body and EVENTS_PATH.encode() in body
    _, index = get(preview.url + "index")
    assert b"/page/page-01" in index and b"First" in index
    pages = preview.proj / "build" / "comic" / "pages"
    before_png = (pages / "page-02.png").read_bytes()
    before_01 = (pages / "page-01.png").stat().st_mtime_ns

    board = preview.proj / "storyboards" / "page-02-b.yaml"
    event = read_event(preview.url, lambda: board.write_text(board.read_text().replace("Tokens next.", "Saved!")))
    assert event.startswith("event: reload"), event
    assert "Saved!" in (pages / "page-02.md").read_text() and (pages / "page-02.png").read_bytes() != before_png
    assert (pages / "page-01.png").stat().st_mtime_ns == before_01      # only the saved page is redrawn

    event = read_event(preview.url, lambda: board.write_text(board.read_text().replace("who: nova", "who: novva", 1)),
                       want="failed")
    assert event.startswith("event: failed") and "page-02-b.yaml:9:15:" in event and "did you mean 'nova'" in event
    _, body = get(preview.url + "page/page-02")             # the last good page, under its errors
    assert b"unknown cast member" in body and b"/comic/pages/page-02.png" in body

    event = read_event(preview.url, lambda: board.write_text(board.read_text().replace("novva", "nova")))
    assert event.startswith("event: reload"), event
    _, body = get(preview.url + "page/page-02")
    assert b"unknown cast member" not in body


def test_present_an_unknown_name_suggests_one(tmp_path, monkeypatch):
    proj = make_project(tmp_path / "proj", {"page-01-a.yaml": PAGE.format(page=1, title="A", words="Hi")})
    monkeypatch.chdir(proj)
    args = SimpleNamespace(host="127.0.0.1", port=0, out="build", strict=False, name="page-1")
    with pytest.raises(InputError, match="no deck or page named 'page-1'; did you mean 'page-01'"):
        serve_preview(args, reporter=Reporter(quiet=True), stop=threading.Event())
