"""The lesson site in a real browser (Playwright driving Debian's Chromium): the stepper by
keys, clicks and swipes, the quiz, keyboard-only use, phone layout; the tour's walk-through from
disk (a cached trace) and against the server, pausing, scrolling by hand, Stop and ask again."""
from __future__ import annotations

import copy
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
from conftest import playwright_chromium

CHROMIUM = playwright_chromium()
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SPEC = DemoSpec(prompt="Why is the sky blue?", max_new_tokens=12)
SEED = 42

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium or Chrome on PATH (apt install chromium, or set CHROME_PATH)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
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
    """Wait for the model's answer to end (a locator wait: page scripts are blocked by the served CSP)."""
    from playwright.sync_api import expect

    expect(pg.locator("[data-run-state]")).to_have_text(re.compile(r"^Model: (done|stopped)"), timeout=60000)


def wait_until_toured(pg) -> None:
    from playwright.sync_api import expect

    expect(pg.locator("[data-status]")).to_have_text(re.compile(r"^Tour finished"), timeout=90000)


def fill_texts(pg, name: str) -> list[str]:
    return pg.locator(f'[data-fill="{name}"]').all_text_contents()


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


def test_offline_pages_load_nothing_from_the_network_and_images_have_short_alt(page, site):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for name in ("index.html", "lesson.html", "tour.html", "comic.html"):
        page.goto((site / name).as_uri())
        page.wait_for_load_state("load")
        imgs = page.evaluate("""Promise.all(Array.from(document.images).map(i => {
            i.loading = "eager";   // lazy images below the fold: load them now
            const inLink = !!i.closest("a") && i.closest("a").textContent.trim().length > 0;
            const described = i.getAttribute("aria-describedby");
            return i.decode().then(() => [i.alt, i.naturalWidth > 0, inLink, described],
                                   () => [i.alt, false, inLink, described]);
        }))""")
        for alt, loaded, in_link, described in imgs:
            assert loaded, (name, alt)
            assert alt.strip() or in_link, (name, "an image without alt text outside a labelled link")
            assert len(alt) <= 150, (name, alt)
            if described:
                assert page.locator(f"#{described}").count() == 1
        assert page.evaluate("document.fonts.check('16px \"Exo 2\"')")
    assert requests and all(u.startswith(("file://", "data:")) for u in requests), requests


def test_steady_stepper_and_arrow_keys_scroll_a_focused_scroller(browser, site):
    context = browser.new_context(viewport={"width": 560, "height": 800})
    page = context.new_page()
    page.goto((site / "lesson.html").as_uri())
    tops = []
    for i in range(6):
        tops.append(page.evaluate("document.querySelector('[data-next]').getBoundingClientRect().top + scrollY"))
        if i < 5:
            page.click("[data-next]")
    assert len(set(tops)) == 1, tops                     # Next never moves
    page.click('.stage-button[data-stage="raw"]')
    scroller = page.locator(".loop-scroll")
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", scroller.element_handle())
    assert page.locator("[data-scroll-hint] .on-keys").is_visible()
    scroller.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=scroller.element_handle(), timeout=5000)   # keys scroll smoothly
    assert visible_stage(page) == "raw"                  # the arrows scrolled the diagram, not the stepper
    context.close()


def test_phone_lesson_says_tap_and_swipe_and_swipes(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "lesson.html").as_uri())
    hint = page.locator("#stepper-hint")
    assert "swipe" in hint.inner_text() and "Tap" in hint.inner_text()
    assert "arrow keys" not in hint.inner_text()
    assert page.locator("[data-scroll-hint]").is_visible()                 # the diagram is wider than the phone
    assert "Swipe the diagram sideways" in page.locator("[data-scroll-hint]").inner_text()
    box = page.locator(".stage-panels").bounding_box()
    y = box["y"] + 60
    page.evaluate("""([x0, x1, y]) => {
        const area = document.querySelector(".stage-panels");
        const ev = (type, x) => area.dispatchEvent(new PointerEvent(type, {pointerType: "touch", clientX: x, clientY: y,
                                                                           bubbles: true}));
        ev("pointerdown", x0); ev("pointerup", x1);
    }""", [box["x"] + box["width"] - 20, box["x"] + 20, y])
    assert visible_stage(page) == "ids"
    page.screenshot(path=str(site.parent / "phone-lesson.png"))
    for name in ("lesson.html", "tour.html", "index.html", "comic.html"):   # nothing wider than the phone
        page.goto((site / name).as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.goto((site / "tour.html").as_uri())
    bar = page.locator("[data-statusbar]").bounding_box()
    assert bar["y"] + bar["height"] == pytest.approx(844, abs=1)            # the status bar sits at the bottom
    context.close()
    assert errors == []


def test_tour_walks_itself_from_disk_with_a_cached_trace(page, site):
    """Ask a cached question from disk: the page walks every section, app to fab and back up,
    and every section shows that question's real data."""
    trace = load_traces()["ask_token"]
    page.goto((site / "tour.html").as_uri() + "?dwell=150")
    page.wait_for_selector('[data-ask][data-mode="offline"]')
    page.evaluate("""() => {
        window.__visited = [];
        new MutationObserver(() => window.__visited.push(document.querySelector("[data-where]").textContent))
            .observe(document.querySelector("[data-where]"), {childList: true, characterData: true, subtree: true});
    }""")
    page.fill("[data-ask-input]", "What is the meaning of life?")
    page.click("[data-ask-go]")
    assert "only the cached questions" in page.locator("[data-status]").inner_text()
    page.get_by_role("button", name=trace["prompt"]).click()
    assert page.locator("[data-walk-toggle]").is_enabled()
    wait_until_toured(page)
    visited = page.evaluate("window.__visited")
    n = len(SECTIONS)
    assert [v for v in visited if v.startswith("Section")] == [
        f"Section {i + 1} of {n}: {title}" for i, title in enumerate(SECTIONS)]
    assert page.evaluate("scrollY") > 3000                   # it scrolled itself down the page
    steps = trace["strategies"]["top_p"]["steps"]
    assert page.locator(".tok-out").all_text_contents() == [s["token"]["text"] for s in steps
                                                             if not s["token"].get("special")]
    assert page.locator('[data-fill="decoding-rows"] tr').count() == len(steps)
    chips = page.locator('[data-fill="tokens-chips"] .tok-id').all_text_contents()
    assert chips == [f"id {t['id']}" for t in trace["tokens"]]
    n_input = trace["shapes"][0]["shape"][1]
    assert f"{n_input} tokens in all" in fill_texts(page, "tokens-template")[0]
    assert fill_texts(page, "thanks-question") == [f"\u201c{trace['prompt']}\u201d"]
    assert trace["model"]["display"] in page.locator("[data-answer-meta]").inner_text()
    assert "top-p sampling" in page.locator("[data-answer-meta]").inner_text()
    assert page.locator("[data-tour-progress]").get_attribute("value") == "100"
    assert page.locator('[data-fill="layers-rows"] tr').count() >= 5
    shape = "[" + ", ".join(map(str, trace["shapes"][-1]["shape"])) + "]"
    assert shape in page.locator('[data-fill="layers-rows"]').inner_text()
    # two or more answers on the page: each labelled by how it was decoded
    labels = page.locator('[data-fill="strategies"] dt').all_text_contents()
    assert [lab.split(" (")[0] for lab in labels][:4] == ["greedy decoding", "top-k sampling", "top-p sampling",
                                                          "beam search"]
    page.screenshot(path=str(site.parent / "walk-offline-end.png"))


SECTIONS = ["Application layer", "Tokenization and API", "Network layer", "Data center", "Model checkpoint",
            "Training and alignment", "GPU rack", "Transformer mechanics", "Deep architecture", "GPU die and HBM",
            "Decoding and serving", "Semiconductor fab", "EUV lithography", "Back up to your screen",
            "Not magic, just engineering"]


def test_walk_pauses_for_a_hand_scroll_and_resumes(page, site):
    page.goto((site / "tour.html").as_uri() + "?dwell=1200")
    page.get_by_role("button", name="What is a token?").click()
    from playwright.sync_api import expect

    expect(page.locator("[data-where]")).to_have_text(re.compile(r"^Section 2 of"), timeout=20000)
    page.mouse.wheel(0, 600)
    expect(page.locator("[data-walk-toggle]")).to_have_text("Resume")
    assert page.locator("[data-status]").inner_text().startswith("Paused")
    where = page.locator("[data-where]").inner_text()
    page.wait_for_timeout(2500)                              # longer than a section's dwell: it stays put
    assert page.locator("[data-where]").inner_text() == where
    page.click("[data-walk-toggle]")                          # Resume
    expect(page.locator("[data-walk-toggle]")).to_have_text("Pause")
    expect(page.locator("[data-where]")).not_to_have_text(where, timeout=20000)
    page.click("[data-walk-toggle]")                          # Pause by the button
    expect(page.locator("[data-walk-toggle]")).to_have_text("Resume")


def test_tabs_and_the_fab_slideshow_by_keyboard(page, site):
    page.goto((site / "tour.html").as_uri())
    page.get_by_role("tab", name="General").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Cooling").get_attribute("aria-selected") == "true"
    assert page.get_by_role("tabpanel", name="Cooling").is_visible()
    assert not page.get_by_role("tabpanel", name="General").is_visible()
    page.locator("[data-slide-next]").focus()
    page.keyboard.press("Enter")
    assert page.locator("[data-slide-position]").inner_text().startswith("Step 2 of 4")
    assert page.locator("[data-slide]:visible").count() == 1


def test_served_walkthrough_with_ctrl_enter_shows_the_question_that_ran(page, server, tiny_gpt2):
    """Against novapress serve: Ctrl+Enter asks, the walk follows the live run, and every section
    shows that run (GPT-2: no chat template) instead of the cached book question."""
    from live_demo.trace import run_demo

    question = "Why do cats purr?"
    trace = run_demo(tiny_gpt2, "ask", SPEC.model_copy(update={"prompt": question}), SEED)
    page.goto(server.url + "tour.html?dwell=120")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    page.fill("[data-ask-input]", question)
    page.locator("[data-ask-input]").press("Control+Enter")
    wait_until_toured(page)
    steps = trace["strategies"]["top_p"]["steps"]
    assert page.locator(".tok-out").all_text_contents() == [s["token"]["text"] for s in steps
                                                             if not s["token"].get("special")]
    display = tiny_gpt2.choice.display
    assert set(fill_texts(page, "model-name")) == {display}
    assert "has no chat template" in fill_texts(page, "template-h")[0]
    assert "No chat template" in fill_texts(page, "tokens-template")[0]
    assert "bare text" in fill_texts(page, "training")[0]
    assert fill_texts(page, "thanks-question") == [f"\u201c{question}\u201d"]
    chips = page.locator('[data-fill="tokens-chips"] .tok-id').all_text_contents()
    assert chips == [f"id {t['id']}" for t in trace["tokens"]]
    assert "loopback" in fill_texts(page, "packet-note")[0]
    ending = fill_texts(page, "decoding-end")[0]
    assert ("ended its answer itself" in ending) == (trace["strategies"]["top_p"]["stopped"] == "eos")
    assert "How does AI work?" not in page.locator("main").inner_text().replace(
        page.locator("[data-preset-list]").inner_text(), "")
    page.screenshot(path=str(server.site_dir.parent / "walk-served-end.png"))


def test_stop_frees_the_model_so_asking_again_answers_at_once(page, site, tiny_gpt2_dir):
    from live_demo.loading import load_model
    from live_demo.models import resolve_model
    from playwright.sync_api import expect

    slow = load_model(resolve_model(str(tiny_gpt2_dir), None, fallback=False))
    wait = threading.Event()
    slow.model.register_forward_hook(lambda *_: None if wait.wait(0.08) else None)
    srv = make_server(site, AskEngine(seed=SEED, template=SPEC.model_copy(update={"max_new_tokens": 64}),
                                      loaded=slow), "127.0.0.1", 0, ask_wait=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        page.goto(srv.url + "tour.html?dwell=60000")
        page.wait_for_selector('[data-ask][data-mode="live"]')
        page.fill("[data-ask-input]", "Tell me a long story")
        page.click("[data-ask-go]")
        expect(page.locator("[data-run-state]")).to_have_text(re.compile(r"decoding"), timeout=30000)
        page.click("[data-ask-stop]")
        expect(page.locator("[data-run-state]")).to_have_text("Model: stopped", timeout=30000)
        assert "You stopped it after" in fill_texts(page, "decoding-end")[0]
        page.fill("[data-ask-input]", "And now?")
        page.click("[data-ask-go]")                       # at once: no "busy"
        expect(page.locator("[data-run-state]")).to_have_text(re.compile(r"^Model: (decoding|done)"), timeout=30000)
        assert "busy" not in page.locator("[data-status]").inner_text()
        page.click("[data-ask-stop]")
        wait_until_done(page)
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_prompt_holding_script_is_shown_as_text(page, server):
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    page.goto(server.url + "tour.html?dwell=50")
    page.wait_for_selector('[data-ask][data-mode="live"]')
    page.fill("[data-ask-input]", evil)
    page.click("[data-ask-go]")
    wait_until_done(page)
    assert page.locator("[data-answer-prompt]").text_content() == evil
    assert fill_texts(page, "thanks-question") == [f"\u201c{evil}\u201d"]
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-answer-box] script, [data-answer-box] img, main script:not([type])").count() == 0


def test_an_answer_the_model_ended_itself_is_told_apart_from_one_the_limit_cut(page, tmp_path):
    """Words that stay true: an answer that ends with the model's end token says so (and the end
    token is listed with the steps but is no part of the text); one cut by the limit says that."""
    traces = load_traces()
    trace = copy.deepcopy(traces["ask_token"])
    run = trace["strategies"]["top_p"]
    eos = next(t for t in trace["model"]["special_tokens"] if t["role"] == "eos")
    end = {"id": eos["id"], "text": eos["text"], "display": eos["display"], "special": True}
    run["steps"] = run["steps"][:4] + [dict(run["steps"][4], token=end)]
    run["tokens"] = [s["token"] for s in run["steps"]]
    run["text"] = "".join(s["token"]["text"] for s in run["steps"][:4])
    run["stopped"] = "eos"
    traces["ask_token"] = trace
    build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    page.goto((tmp_path / "site" / "tour.html").as_uri() + "?dwell=60")
    page.get_by_role("button", name=trace["prompt"]).click()
    wait_until_toured(page)
    said = fill_texts(page, "decoding-end")[0]
    assert said == f"The model ended its answer itself with its end token {eos['display']} after 5 tokens " \
                   "(the end token is not part of the text)."
    assert page.locator('[data-fill="decoding-rows"] tr').count() == 5
    assert page.locator(".tok-out").all_text_contents() == [s["token"]["text"] for s in run["steps"][:4]]
    assert "Cut at the limit" not in page.locator("main").inner_text().split("decoded 4 ways")[0]
    # the book's question (shown first) was cut by the limit, and said so
    page.goto((tmp_path / "site" / "tour.html").as_uri())
    question = traces["question"]["strategies"]["top_p"]
    assert question["stopped"] == "length"
    assert fill_texts(page, "decoding-end")[0] == \
        f"Cut at the limit of {traces['question']['params']['max_new_tokens']} new tokens: the model had not ended its answer."


HOSTILE_TOKENS = ['<img src=x onerror="window.__pwned = 3">', "</textarea><script>window.__pwned = 4</script>",
                  "{{ 7 * 7 }}", ' "quoted" \u202eevil\u202c', "<b>bold</b>"]


def test_model_tokens_holding_markup_are_shown_as_text(page, tmp_path):
    """What the model said reaches the page as text: answer tokens (and the alternatives beside
    them) holding markup, a closing textarea, template braces, quotes and a right-to-left override
    are shown exactly as written, in the answer and the decoding table, and run nothing."""
    traces = load_traces()
    trace = copy.deepcopy(traces["ask_token"])
    run = trace["strategies"]["top_p"]
    for step, text in zip(run["steps"], HOSTILE_TOKENS):
        step["token"] = dict(step["token"], text=text, display=text, special=False)
        step["alternatives"][0] = dict(step["alternatives"][0], text=text[::-1], display=text[::-1])
    run["steps"] = run["steps"][:len(HOSTILE_TOKENS)]
    run["tokens"] = [s["token"] for s in run["steps"]]
    run["text"] = "".join(HOSTILE_TOKENS)
    run["stopped"] = "length"
    traces["ask_token"] = trace
    build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    page.goto((tmp_path / "site" / "tour.html").as_uri() + "?dwell=60")
    page.get_by_role("button", name=trace["prompt"]).click()
    wait_until_toured(page)
    assert page.locator(".tok-out").all_text_contents() == HOSTILE_TOKENS
    rows = page.locator('[data-fill="decoding-rows"] tr')
    assert rows.count() == len(HOSTILE_TOKENS)
    for i, text in enumerate(HOSTILE_TOKENS):
        row = rows.nth(i).inner_text()
        assert text.strip() in row and text[::-1].strip() in row, (text, row)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img[src='x'], main b, main textarea:not([data-ask-input])").count() == 0
    assert page.locator("main script:not([type])").count() == 0


def test_stop_during_an_offline_replay(page, site):
    from playwright.sync_api import expect

    page.goto((site / "tour.html").as_uri() + "?dwell=60000")
    page.get_by_role("button", name="What is a token?").click()
    expect(page.locator("[data-run-state]")).to_have_text(re.compile(r"decoding"), timeout=20000)
    page.click("[data-ask-stop]")
    expect(page.locator("[data-run-state]")).to_have_text("Model: stopped")
    assert fill_texts(page, "decoding-end")[0].startswith("You stopped it after")
    assert page.locator("[data-ask-go]").is_enabled()
