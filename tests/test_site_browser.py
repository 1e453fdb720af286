"""The lesson site in a real browser (Playwright driving Debian's Chromium): the stepper by
keys and clicks, the quiz, keyboard-only use, offline Ask replays, and Ask against the server."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from live_demo.formatting import pct

from live_demo.spec import DemoSpec
from renderer.site import build_site
from renderer.site.ask import AskEngine
from renderer.site.server import make_server

try:                                   # tests/ as a package or as plain folder on sys.path
    from .test_site import load_traces, make_comic
except ImportError:
    from test_site import load_traces, make_comic

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SPEC = DemoSpec(prompt="Why is the sky blue?", max_new_tokens=12)
SEED = 42

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)   # CSP violations, 404s
    pg.js_errors = errors
    yield pg
    context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser-build")
    panels, pages = make_comic(out / "comic")
    build_site(out, traces=load_traces(), panels=panels, pages=pages, deck_html=None, book_title="Inside")
    return out / "site"


@pytest.fixture(scope="module")
def server(site, tiny_gpt2):
    srv = make_server(site, AskEngine(seed=SEED, template=SPEC, loaded=tiny_gpt2), "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def visible_stage(pg) -> str:
    return pg.locator(".stage:visible").get_attribute("data-stage")


def shape_of(trace: dict, stage: str) -> str:
    shape = next(s["shape"] for s in trace["shapes"] if s["stage"] == stage)
    return "[" + ", ".join(map(str, shape)) + "]"


def wait_until_done(pg) -> None:
    """Wait for the Ask status to say Done (a locator wait: page scripts are blocked by the served CSP)."""
    from playwright.sync_api import expect

    expect(pg.locator("[data-ask-status]")).to_have_text(re.compile(r"^Done"), timeout=30000)


def tab_to(pg, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching selector has the focus (keyboard only)."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_stepper_through_every_stage_by_clicks_and_keys(page, site):
    cat = load_traces()["cat"]
    page.goto((site / "lesson.html").as_uri())
    expected = [("raw", None), ("ids", shape_of(cat, "input_ids")), ("embeddings", shape_of(cat, "embeddings")),
                ("layers", shape_of(cat, f"block {cat['model']['n_layers'] - 1}")), ("logits", shape_of(cat, "logits")),
                ("chosen", None)]
    assert page.locator(".stage:visible").count() == 1
    for i, (stage, shape) in enumerate(expected):
        assert visible_stage(page) == stage
        assert page.locator("[data-position]").inner_text().startswith(f"Stage {i + 1} of 6")
        assert page.locator(f'.loop .node.current[data-stage="{stage}"]').count() == 1
        if shape:
            assert page.locator(".stage:visible [data-shape]").inner_text() == shape
        if i < len(expected) - 1:
            page.click("[data-next]")
    assert page.locator("[data-next]").is_disabled()
    chosen = cat["strategies"]["greedy"]["steps"][0]
    assert chosen["token"]["display"] in page.locator(".stage:visible").inner_text()
    assert pct(chosen['prob']) in page.locator(".stage:visible").inner_text()

    page.locator("body").click(position={"x": 5, "y": 300})   # focus outside any control
    for stage, _ in reversed(expected[:-1]):
        page.keyboard.press("ArrowLeft")
        assert visible_stage(page) == stage
    assert page.locator("[data-prev]").is_disabled()
    page.keyboard.press("ArrowRight")
    assert visible_stage(page) == "ids"
    ids_text = page.locator(".stage:visible").inner_text()
    for token in cat["tokens"]:
        assert f"id {token['id']}" in ids_text

    page.click('.stage-button[data-stage="logits"]')
    assert visible_stage(page) == "logits"
    top = cat["next_token"]["top"][0]
    assert top["display"] in page.locator(".stage:visible").inner_text()
    page.click('.loop .node[data-stage="embeddings"]')
    assert visible_stage(page) == "embeddings"
    assert cat["model"]["display"] in page.locator("main").inner_text()


def test_quiz_feedback_for_wrong_and_right_answers(page, site):
    page.goto((site / "lesson.html").as_uri())
    feedback = page.locator("[data-order-feedback]")
    page.click("[data-check-order]")
    assert "Not yet" in feedback.inner_text() and "Tokenization" in feedback.inner_text()
    assert page.locator(".order-list li.wrong").count() > 0
    # the seed's order is Embedding, Tokenization, Output Logits, Transformer Layers
    page.click('button[aria-label="Move Tokenization up"]')
    page.click('button[aria-label="Move Transformer Layers up"]')
    page.click("[data-check-order]")
    assert page.locator(".order-list li").evaluate_all("els => els.map(e => e.dataset.item)") == [
        "Tokenization", "Embedding", "Transformer Layers", "Output Logits"]
    assert feedback.inner_text().startswith("Right!")
    assert page.locator(".order-list li.right").count() == 4

    choice = page.locator("[data-choice-feedback]")
    page.click("#q-choice button[type=submit]")
    assert "Pick one" in choice.inner_text()
    page.check('input[value="graph"]')
    page.click("#q-choice button[type=submit]")
    assert choice.inner_text().startswith("No:") and "wrong" in choice.get_attribute("class")
    page.check('input[value="policy"]')
    page.click("#q-choice button[type=submit]")
    assert choice.inner_text().startswith("Right:") and "right" in choice.get_attribute("class")


def test_keyboard_only(page, site):
    page.goto((site / "lesson.html").as_uri())
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    tab_to(page, '.stage-button[data-stage="raw"]')
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"                                   # the focus is visible
    page.keyboard.press("ArrowRight")
    assert visible_stage(page) == "ids"
    assert page.evaluate("document.activeElement.dataset.stage") == "ids"   # focus follows the stage list
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")                               # the third stage button
    assert visible_stage(page) == "layers"
    tab_to(page, "[data-next]")
    page.keyboard.press("Enter")
    assert visible_stage(page) == "logits"

    tab_to(page, 'button[aria-label="Move Tokenization up"]')
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move Tokenization down"
    tab_to(page, 'button[aria-label="Move Transformer Layers up"]')
    page.keyboard.press("Space")
    tab_to(page, "[data-check-order]")
    page.keyboard.press("Enter")
    assert page.locator("[data-order-feedback]").inner_text().startswith("Right!")

    tab_to(page, 'input[name="stage"]')
    page.keyboard.press("ArrowDown")                            # radios: arrows move within the group
    page.keyboard.press("ArrowDown")
    assert visible_stage(page) == "logits"                      # ...and do not move the stepper
    page.keyboard.press("Enter")                                # submits the form
    assert page.locator("[data-choice-feedback]").inner_text().startswith("Right:")


def test_offline_pages_load_nothing_from_the_network_and_images_have_alt(page, site):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for name in ("index.html", "lesson.html", "tour.html", "comic.html"):
        page.goto((site / name).as_uri())
        page.wait_for_load_state("load")
        imgs = page.evaluate("""Promise.all(Array.from(document.images).map(i => {
            i.loading = "eager";   // lazy images below the fold: load them now
            return i.decode().then(() => [i.alt, i.naturalWidth > 0], () => [i.alt, false]);
        }))""")
        assert all(alt.strip() and loaded for alt, loaded in imgs), (name, imgs)
        assert page.evaluate("document.fonts.check('16px \"Exo 2\"')")
    assert requests and all(u.startswith(("file://", "data:")) for u in requests), requests


def test_offline_ask_replays_a_cached_answer(page, site):
    trace = load_traces()["ask_token"]
    page.goto((site / "tour.html").as_uri())
    page.wait_for_selector('[data-ask][data-mode="offline"]')
    assert "Opened as files" in page.locator("[data-ask-status]").inner_text()
    page.fill("[data-ask-input]", "What is the meaning of life?")
    page.click("[data-ask-go]")
    assert "only the cached questions" in page.locator("[data-ask-status]").inner_text()
    page.get_by_role("button", name=trace["prompt"]).click()
    wait_until_done(page)
    steps = trace["strategies"]["top_p"]["steps"]
    assert page.locator(".tok-out").evaluate_all("els => els.map(e => e.textContent)") == [
        s["token"]["text"] for s in steps]
    assert page.locator("[data-steps] tr").count() == len(steps)
    assert trace["model"]["display"] in page.locator("[data-answer-meta]").inner_text()


def test_served_ask_streams_tokens_matching_a_trace(page, server, tiny_gpt2):
    from live_demo.trace import run_demo

    trace = run_demo(tiny_gpt2, "ask", SPEC, SEED)
    page.goto(server.url + "tour.html")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    assert page.locator("[data-ask-status]").inner_text().startswith("Live:")
    page.fill("[data-ask-input]", SPEC.prompt)
    page.keyboard.press("Enter")
    wait_until_done(page)
    steps = trace["strategies"]["top_p"]["steps"]
    assert page.locator(".tok-out").evaluate_all("els => els.map(e => e.textContent)") == [
        s["token"]["text"] for s in steps]
    first_row = page.locator("[data-steps] tr").first.text_content()   # inside a closed <details>
    assert steps[0]["alternatives"][0]["display"] in first_row
    assert tiny_gpt2.choice.display in page.locator("[data-answer-meta]").inner_text()


def test_a_prompt_holding_script_is_shown_as_text(page, server):
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    page.goto(server.url + "tour.html")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    page.fill("[data-ask-input]", evil)
    page.click("[data-ask-go]")
    wait_until_done(page)
    assert page.locator("[data-answer-prompt]").text_content() == evil
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-answer-box] script, [data-answer-box] img").count() == 0
