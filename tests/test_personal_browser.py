""""Make my comic page" in a real browser against `novapress serve`: the visitor's question becomes
their page on screen, with PNG and PDF downloads and the transcript as its long description; a
hostile question stays text; the server's /api/page limits and files."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from renderer.personal import PersonalPages
from renderer.site import build_site
from renderer.site.ask import AskEngine
from renderer.site.server import make_server

try:                                   # tests/ as a package or as plain folder on sys.path
    from .test_personal import ROOT, personal_config
    from .test_site import load_traces, make_comic
    from .test_site_browser import CHROMIUM, LAUNCH_ARGS, SEED, SPEC
except ImportError:
    from test_personal import ROOT, personal_config
    from test_site import load_traces, make_comic
    from test_site_browser import CHROMIUM, LAUNCH_ARGS, SEED, SPEC

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "quotes"'


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("personal-site")
    panels, pages = make_comic(out / "comic")
    build_site(out, traces=load_traces(), panels=panels, pages=pages, deck_html=None, book_title="Inside")
    return out / "site"


@pytest.fixture(scope="module")
def server(site, tiny_gpt2, tiny_gpt2_dir, tmp_path_factory):
    engine = AskEngine(seed=SEED, template=SPEC, loaded=tiny_gpt2)
    pages = PersonalPages(personal_config(tiny_gpt2_dir), root=ROOT, cache_dir=tmp_path_factory.mktemp("pages"),
                          loader=engine.load, lock=engine._run_lock)
    srv = make_server(site, engine, "127.0.0.1", 0, pages=pages)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
    # the panel workers were forked while the browser's driver ran and hold its pipes open: the
    # driver would wait for them forever when the browser closes
    from renderer import workers
    workers.shutdown()


def fetch(server, path: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=600) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert errors == [], errors


def test_make_my_comic_page_shows_the_visitors_page_with_downloads(page, server):
    from playwright.sync_api import expect

    question = "Why do cats purr?"
    page.goto(server.url + "tour.html?dwell=60000")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    button = page.get_by_role("button", name="Make my comic page")
    expect(button).to_be_visible()
    page.fill("[data-ask-input]", question)
    button.click()
    img = page.locator("[data-personal-img]")
    expect(img).to_be_visible(timeout=300_000)
    assert page.evaluate("document.querySelector('[data-personal-img]').naturalWidth") == 1988
    assert img.get_attribute("aria-describedby") == "personal-transcript"
    transcript = page.locator("#personal-transcript").text_content()
    assert transcript.startswith("# Page 5: The Inference Pipeline") and f"*Asked:* {question}" in transcript
    assert "is ready" in page.locator("[data-personal-status]").text_content()
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    png = page.get_by_role("link", name="Download PNG").get_attribute("href")
    status, headers, body = fetch(server, "/" + png)
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    page.screenshot(path=str(server.site_dir.parent / "personal-page.png"), full_page=False)


def test_a_hostile_question_is_text_on_the_page_and_in_its_transcript(page, server):
    from playwright.sync_api import expect

    page.goto(server.url + "tour.html?dwell=60000")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    page.fill("[data-ask-input]", EVIL)
    page.get_by_role("button", name="Make my comic page").click()
    expect(page.locator("[data-personal-img]")).to_be_visible(timeout=300_000)
    assert EVIL in page.locator("#personal-transcript").text_content()
    assert EVIL in page.locator("[data-personal-status]").text_content()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-personal] script, [data-personal] img:not([data-personal-img])").count() == 0


def test_api_page_limits_and_files(server):
    assert fetch(server, "/api/page?prompt=")[0] == 400
    assert fetch(server, "/api/page?prompt=" + "x" * 501)[0] == 413
    status, _, body = fetch(server, "/api/page?prompt=" + quote("Hi"))
    made = json.loads(body)
    assert status == 200 and made["question"] == "Hi"
    again = json.loads(fetch(server, "/api/page?prompt=" + quote("Hi"))[2])
    assert again["cached"] and again["png"] == made["png"]
    assert fetch(server, "/" + made["transcript_url"])[2].decode().startswith("# Page 5")
    for bad in ("/personal/../secret.txt", "/personal/" + "0" * 32 + "/page.png",
                "/" + made["png"].replace("page.png", "page.json"), "/" + made["png"].replace("page.png", "trace.png")):
        assert fetch(server, bad)[0] == 404, bad
    info = json.loads(fetch(server, "/api/info")[2])
    assert info["personal_pages"] is True
