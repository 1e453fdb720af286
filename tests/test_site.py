"""The lesson site's static build: pages, assets, alt text, offline-ness, determinism, warnings,
the tour's windows and pictures, the lesson's real code and numbers."""
from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from live_demo.formatting import pct
from renderer.errors import InputError
from renderer.site import build_site, site_demos
from renderer.site.build import json_for_script, tour_run
from renderer.site.code import CUTS, model_classes, python_path, snippets
from renderer.site.deck import copy_deck, local_refs
from renderer.site.lesson import loop_caption, stepper_stages
from renderer.site.tour import MAX_ALT, load_tour, short_alt
from renderer.site.transcripts import page_alt, panel_description

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPT = """# Page 5: The Inference Pipeline

## Panel 1 (wide)

Dr. Nova projects a holographic conveyor belt across the lab.

**Dr. Nova:** The inference pipeline is a structured sequence.

## Panel 2 (close-up)

Close-up of the first station.

*Label:* 1. PREPROCESSING

*Narration:* Tokenization: breaking text into tokens the model understands.
"""

PANEL_TEXTS = [
    "Dr. Nova projects a holographic conveyor belt across the lab.\n\n"
    "**Dr. Nova:** The inference pipeline is a structured sequence.",
    "Close-up of the first station.\n\n*Label:* 1. PREPROCESSING\n\n"
    "*Narration:* Tokenization: breaking text into tokens the model understands.",
]


def tour_panels() -> list[str]:
    """The first two comic panels the tour shows (whatever pages they are on)."""
    return [sec.picture.panel for sec in load_tour().sections if sec.picture.panel][:2]


def load_traces() -> dict[str, dict]:
    """Real format-3 traces of SmolLM2-135M-Instruct (chat template on the questions, not on "The cat sat")."""
    cat = json.loads((FIXTURES / "site_trace_cat.json").read_text())
    token = json.loads((FIXTURES / "site_trace_ask_token.json").read_text())
    question = json.loads((FIXTURES / "site_trace_question.json").read_text())
    return {"cat": cat, "ask_token": token, "question": question}


def make_comic(folder: Path) -> tuple[dict[str, Path], list[tuple[int, str, Path]]]:
    """The two first panels the tour shows, with their pages and transcripts, as the comic stage lays them out."""
    (folder / "panels").mkdir(parents=True)
    (folder / "pages").mkdir(parents=True)
    panels, pages = {}, []
    for i, (panel_id, text) in enumerate(zip(tour_panels(), PANEL_TEXTS), 1):
        png = folder / "panels" / f"{panel_id}.png"
        Image.new("RGB", (1600, 800), (10, 16, 48 + 40 * i)).save(png)
        panels[panel_id] = png
        page_name, pid = panel_id.rsplit("-", 1)
        page = folder / "pages" / f"{page_name}.png"
        if not page.exists():
            Image.new("RGB", (994, 1528), (3, 5, 12)).save(page)
            page.with_suffix(".md").write_text(f"# Page {int(page_name[5:])}: A page\n\n")
            pages.append((int(page_name[5:]), "A page", page))
        with open(page.with_suffix(".md"), "a") as md:
            md.write(f"## Panel {i} (medium) {{#{pid}}}\n\n{text}\n\n")
    return panels, pages


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    panels, pages = make_comic(out / "comic")
    deck = out / "slides" / "pipeline.html"
    deck.parent.mkdir(parents=True)
    deck.write_text('<!DOCTYPE html><html><body><svg xmlns="http://www.w3.org/2000/svg"></svg>'
                    f'<img src="../comic/panels/{tour_panels()[0]}.png"><a href="#2">next</a></body></html>')
    files = build_site(out, traces=load_traces(), panels=panels, pages=pages, deck_html=deck,
                       book_title="Inside the Inference Pipeline")
    return out / "site", files


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))


def test_site_demos_are_the_lesson_and_the_presets():
    assert site_demos() == {"cat", "question", "ask_sky", "ask_token"}


def test_pages_assets_and_fonts_with_licenses(site):
    root, files = site
    for name in ("index.html", "lesson.html", "tour.html", "comic.html", "assets/site.css", "assets/lesson.js",
                 "assets/tour.js", "assets/theme.css", "assets/fonts.css"):
        assert (root / name).is_file(), name
    fonts = sorted(p.name for p in (root / "assets" / "fonts").iterdir())
    for family in ("Exo2", "Orbitron", "JetBrainsMono"):
        assert any(f.startswith(family) and f.endswith(".ttf") for f in fonts), fonts
        assert any(f.startswith(family) and f.endswith("-LICENSE.txt") for f in fonts), fonts
    assert "SIL Open Font License" in (root / "assets" / "fonts" / "Orbitron-wght-LICENSE.txt").read_text()
    css = (root / "assets" / "fonts.css").read_text()
    assert 'url("fonts/Orbitron-wght.ttf")' in css
    assert "#2de2e6" in (root / "assets" / "theme.css").read_text()          # the comic's cyan
    assert set(files) == {p for p in root.rglob("*") if p.is_file()}         # every file reported
    assert files.warnings  # ask_sky is missing from the fixtures, and so are panels p3..p5


def test_real_shapes_tokens_and_model_name_from_the_trace(site):
    root, _ = site
    cat = load_traces()["cat"]
    lesson = (root / "lesson.html").read_text()
    for entry in cat["shapes"]:
        if not entry["stage"].startswith("block "):
            assert "[" + ", ".join(map(str, entry["shape"])) + "]" in lesson, entry
    for token in cat["tokens"]:
        assert f"id {token['id']}" in lesson
    top = cat["next_token"]["top"][0]
    assert pct(top['prob']) in lesson
    for page in ("index.html", "lesson.html", "tour.html", "comic.html"):
        assert cat["model"]["display"] in (root / page).read_text(), page


class Tags(HTMLParser):
    """Every start tag with its attributes (and whether it sits inside a link), and every id."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a":
            self.depth += 1
        attrs["_in_link"] = self.depth > 0
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "a" and self.depth:
            self.depth -= 1


def test_every_image_has_a_short_alt_text_and_exists(site):
    root, _ = site
    count = 0
    for page in root.glob("*.html"):
        parser = Tags()
        parser.feed(page.read_text())
        for tag, img in parser.tags:
            if tag != "img":
                continue
            count += 1
            assert (root / img["src"]).is_file(), img["src"]
            alt = img.get("alt")
            assert alt is not None, (page.name, img)
            if not alt:   # only a thumbnail inside a link whose text names the page
                assert img["_in_link"] and "thumb" in img["src"], (page.name, img)
                continue
            assert len(alt) <= MAX_ALT and not alt.endswith("\u2026"), (page.name, alt)
            if img.get("aria-describedby"):
                assert img["aria-describedby"] in parser.ids, img
    assert count >= 17   # a picture in every tour section, the slides, a page thumbnail and the page


def test_panel_pictures_have_a_short_alt_and_the_transcript_as_description(site):
    root, _ = site
    tour = (root / "tour.html").read_text()
    m = re.search(r'alt="Close-up of the first station\." loading="lazy" aria-describedby="([^"]+)"', tour)
    assert m, "the panel picture has a short alt text and a long description"
    desc = tour.split(f'id="{m.group(1)}">')[1].split("</p>")[0]
    assert "Label: 1. PREPROCESSING" in desc and "Narration: Tokenization: breaking text into tokens" in desc
    comic = (root / "comic.html").read_text()
    assert re.search(r'aria-describedby="(page-\d+)-transcript"', comic)
    assert re.search(r'<details class="transcript" id="page-\d+-transcript">', comic)


def test_no_network_urls_in_the_site(site):
    root, _ = site
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".ttf") or path.name.endswith("-LICENSE.txt"):
            continue   # font licenses are kept verbatim (the OFL asks so); their URLs are text, not loads
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "slides":   # the copied deck: only what it would fetch counts
            assert not re.search(r"""(src=|url\()["']?https?://""", text), path
            continue
        assert not re.search(r"https?://", text), path


def test_the_deck_is_copied_with_the_files_it_loads(site):
    root, _ = site
    assert (root / "deck" / "slides" / "pipeline.html").is_file()
    assert (root / "deck" / "comic" / "panels" / f"{tour_panels()[0]}.png").is_file()
    assert 'href="deck/slides/pipeline.html"' in (root / "index.html").read_text()


def test_same_inputs_same_bytes(tmp_path):
    def build(out: Path) -> dict[str, bytes]:
        panels, pages = make_comic(out / "comic")
        build_site(out, traces=load_traces(), panels=panels, pages=pages, deck_html=None, book_title="B")
        return {p.relative_to(out / "site").as_posix(): p.read_bytes() for p in (out / "site").rglob("*") if p.is_file()}

    a, b = build(tmp_path / "a"), build(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_missing_panels_and_deck_are_warnings_not_errors(tmp_path):
    files = build_site(tmp_path, traces=load_traces(), panels={}, pages=[], deck_html=tmp_path / "nope.html",
                       book_title="B")
    text = "\n".join(files.warnings)
    assert tour_panels()[0] in text and "not built" in text and "prop instead" in text
    assert "nope.html" in text
    tour = (tmp_path / "site" / "tour.html").read_text()
    # every section still has a picture: the comic's own prop art stands in for a missing panel
    for section in load_tour().sections:
        block = tour.split(f'data-section="{section.id}"')[1].split('<section class="tour-section')[0]
        assert "<img" in block and f"assets/art/{section.picture.prop}.png" in block, section.id
    assert (tmp_path / "site" / "assets" / "art" / "wafer.png").is_file()
    assert not (tmp_path / "site" / "comic.html").exists()


def test_a_missing_lesson_demo_is_an_input_error(tmp_path):
    traces = load_traces()
    del traces["cat"]
    with pytest.raises(InputError) as err:
        build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    assert "novapress.yaml" in str(err.value) and "'cat'" in str(err.value)
    assert not (tmp_path / "site").exists()


def test_model_text_cannot_escape_the_embedded_json(tmp_path):
    traces = load_traces()
    evil = copy.deepcopy(traces["ask_token"])
    evil["prompt"] = "</script><script>alert(1)</script> & <!--"
    traces["ask_token"] = evil
    build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    tour = (tmp_path / "site" / "tour.html").read_text()
    assert "<script>alert(1)" not in tour
    blob = tour.split('<script type="application/json" id="tour-runs">')[1].split("</script>")[0]
    assert any(r["prompt"] == evil["prompt"] for r in json.loads(blob))
    assert json.loads(json_for_script({"a": "</script>"})) == {"a": "</script>"}


def test_a_tour_run_is_the_trace_as_the_events_a_live_run_streams():
    trace = load_traces()["question"]
    r = tour_run(trace)
    steps = trace["strategies"]["top_p"]["steps"]
    assert [t["text"] for t in r["tokens"]] == [s["token"]["text"] for s in steps]
    assert [t["pct"] for t in r["tokens"]] == [pct(s["prob"]) for s in steps]
    assert r["tokens"][0]["alternatives"][0]["pct"] == pct(steps[0]["alternatives"][0]["prob"])
    start = r["start"]
    assert start["model"]["display"] == trace["model"]["display"] and "seed 42" in start["strategy"]
    assert start["n_input"] == trace["shapes"][0]["shape"][1] == len(trace["chat"]["tokens"])
    assert start["chat"]["question_span"] == trace["chat"]["question_span"]
    assert start["request"]["messages"] == [{"role": "user", "content": trace["prompt"]}]
    assert start["request"]["model"] == trace["model"]["name"]
    assert r["forward"]["shapes"] == trace["shapes"]
    assert r["forward"]["top"][0]["pct"] == pct(trace["next_token"]["top"][0]["prob"])
    assert [v["stage"] for v in r["forward"]["samples"]["values"]] == ["embeddings", "block 0", "final norm"]
    assert r["done"]["stopped"] == trace["strategies"]["top_p"]["stopped"]
    # every answer the trace holds, labelled by how it was decoded
    assert [a["name"] for a in r["strategies"]] == ["greedy", "top_k", "top_p", "beam"]
    assert r["strategies"][0]["label"].startswith("greedy") and r["strategies"][3]["label"].startswith("beam search")
    # a bare prompt (no template) is a request with a prompt, not messages
    cat = tour_run(load_traces()["cat"])
    assert cat["start"]["chat"] is None and cat["start"]["request"]["prompt"] == "The cat sat"


def test_stepper_stages_follow_the_seed():
    stages = stepper_stages(load_traces()["cat"])
    assert [s.id for s in stages] == ["raw", "ids", "embeddings", "layers", "logits", "chosen"]
    assert [s.owner for s in stages] == ["app", "tokenizer", "graph", "graph", "graph", "policy"]
    assert [s.loop for s in stages][:2] == ["once", "once"] and {s.loop for s in stages[2:]} == {"repeats"}
    assert stages[2].shape == [1, 3, 576] and stages[4].shape == [1, 3, 49152]
    # real values beside the shapes: the embedding and the layers stages
    assert any("first 4 of 576" in label for label, _ in stages[2].rows)
    assert any(label.startswith("after block 0") for label, _ in stages[3].rows)
    assert any(label.startswith("after final norm") for label, _ in stages[3].rows)


def test_stepper_counts_the_chat_template_where_the_shapes_do():
    question = load_traces()["question"]
    ids = stepper_stages(question)[1]
    n_input = question["shapes"][0]["shape"][1]
    assert f"{n_input} in all" in ids.text and f"{n_input - len(question['tokens'])} more tokens" in ids.text


def test_transcript_lookup_by_heading_id_then_by_number():
    assert panel_description(TRANSCRIPT, "p2").startswith("Close-up of the first station.")
    named = "# Page 9: X\n\n## Panel 1 (wide) p7\n\nThe seventh.\n\n## Panel 2 (wide) p1\n\nThe first.\n"
    assert panel_description(named, "p1") == "The first." and panel_description(named, "p7") == "The seventh."
    assert panel_description(TRANSCRIPT, "p9") is None
    assert page_alt(TRANSCRIPT) == "Comic page 5: The Inference Pipeline."
    assert short_alt("Kai types. He waits.") == "Kai types."
    assert len(short_alt("word " * 100)) <= MAX_ALT


TOUR_WINDOWS = [   # the tour's sections, in order, with the window each lives in
    ("application", "app", "Ask AI Assistant"),
    ("tokenization", "msdn", "MSDN \u2014 Text pipeline (LLM edition)"),
    ("network", "dialup", "Network \u2014 Dial-up to Fiber Highways"),
    ("data-center", "sysprops", "System Properties \u2014 Regional Compute Site"),
    ("checkpoint", "help", "Help \u2014 About the neural network file"),
    ("training", "wizard", "Training Wizard \u2014 How the checkpoint was born"),
    ("gpu-rack", "devmgr", "Device Manager \u2014 Accelerators"),
    ("transformer-layer", "notepad", "READ_ME.TXT \u2014 Notepad"),
    ("architecture", "techref", "Technical Reference \u2014 Transformer internals"),
    ("gpu-die", "paint", "untitled \u2014 Paint"),
    ("decoding", "iis", "IIS Manager \u2014 Inference stack (simulated)"),
    ("fab", "setup", "Fab Setup Wizard"),
    ("euv", "paint", "euv_schematic.bmp \u2014 Paint"),
    ("back-up", "steps", "Now the response races back up through every layer"),
    ("thanks", "about", "About \u2014 Prompt \u2192 Inference"),
]


def test_tour_sections_are_their_windows_in_order():
    sections = load_tour().sections
    assert [(s.id, s.window, s.caption) for s in sections] == TOUR_WINDOWS
    by_id = {s.id: s for s in sections}
    assert [t.name for t in by_id["data-center"].tabs] == ["General", "Cooling", "Power"]
    assert [h.name for h in by_id["network"].hops] == ["POTS / last mile", "Metro fiber", "Submarine & backbone"]
    assert len(by_id["network"].cheat_sheet) == 2
    assert [st.n for st in by_id["back-up"].steps] == ["07", "06", "05", "04", "03", "02", "01"]
    assert len(by_id["fab"].slides) == 4 and [k.key for k in by_id["gpu-die"].calculator] == [
        "KV cache", "Bandwidth bound?", "Mixed precision"]
    assert {s.id for s in sections if s.expert} >= {"application", "checkpoint", "gpu-rack", "decoding"}
    assert all(s.status for s in sections if s.id != "thanks")       # each window's status line


def section_html(tour: str, sid: str) -> str:
    return tour.split(f'data-section="{sid}"')[1].split('<section class="tour-section')[0]


def test_tour_page_has_every_window_its_parts_and_a_picture_each(site):
    root, _ = site
    tour = (root / "tour.html").read_text()
    for sid, window, caption in TOUR_WINDOWS:
        assert f'class="tour-section win-{window}" id="{sid}"' in tour, sid
        block = section_html(tour, sid)
        assert caption.replace("&", "&amp;") in block, sid
        assert "<img" in block, sid
    assert tour.count('role="tab"') == 3 and "data-slide-next" in tour and tour.count('data-step="') == 7
    assert "Latency cheat sheet" in tour and "Calculator \u2014 rough intuition (not exact)" in tour
    assert "IRQ not shown" in tour and "Coffee: not included" in tour        # the status-line jokes
    assert tour.count('class="expert"') >= 4


def test_a_panel_that_shows_an_answer_says_which_decoding_made_it(tmp_path):
    """Two answers to one question on one screen: each is labelled by how it was decoded."""
    traces = load_traces()
    question = traces["question"]
    comic = tmp_path / "comic"
    (comic / "panels").mkdir(parents=True)
    (comic / "pages").mkdir(parents=True)
    decoding = next(s for s in load_tour().sections if s.id == "decoding").picture.panel
    page, pid = decoding.rsplit("-", 1)
    Image.new("RGB", (800, 400), (9, 9, 30)).save(comic / "panels" / f"{decoding}.png")
    Image.new("RGB", (400, 600)).save(comic / "pages" / f"{page}.png")
    (comic / "pages" / f"{page}.md").write_text(
        f"# Page 5: Pipe\n\n## Panel 5 (wide) {{#{pid}}}\n\nKai asks \"{question['prompt']}\"; the answer "
        f"(\"{question['strategies']['greedy']['text']}\") streams out.\n\n"
        f"*Live data from the model {question['model']['display']}.*\n")
    build_site(tmp_path, traces=traces, panels={decoding: comic / "panels" / f"{decoding}.png"},
               pages=[(5, "Pipe", comic / "pages" / f"{page}.png")], deck_html=None, book_title="B")
    block = section_html((tmp_path / "site" / "tour.html").read_text(), "decoding")
    assert "The answer in this picture is the book&#39;s greedy decoding answer." in block
    assert f"drawn with {question['model']['display']}&#39;s run on the book&#39;s question" in block


def test_lesson_shows_real_code_from_the_source_with_paths():
    cuts = snippets()
    assert [c.step for c in cuts] == ["tokenize", "forward", "pick", "pick", "detokenize"]
    # tokenizing and detokenizing are the encoding's, the forward pass and the pick the run's
    assert {c.function: c.file for c in cuts} == {
        "encode_prompt": "live_demo/encoding.py", "forward_with_shapes": "live_demo/trace.py",
        "strategy_settings": "live_demo/trace.py", "traced_generate": "live_demo/trace.py",
        "token_pieces": "live_demo/encoding.py"}
    for c in cuts:
        source = (Path(__file__).parent.parent / c.file).read_text().splitlines()
        assert c.code.splitlines()[0].strip() == source[c.first_line - 1].strip()
        assert c.code.splitlines()[-1].strip() == source[c.last_line - 1].strip()
    whole = {c.function: c.whole for c in cuts}
    assert whole["encode_prompt"] and not whole["traced_generate"]
    assert "model.generate(" in next(c.code for c in cuts if c.function == "traced_generate")


def test_the_site_step_rebuilds_when_the_code_the_lesson_shows_changes(monkeypatch, tmp_path):
    """The lesson cuts live_demo's own functions at build time: the site step's inputs hash every
    file it cuts from, so an edit there rebuilds the site instead of leaving stale code on the page."""
    from types import SimpleNamespace

    from renderer.config import ProjectConfig
    from renderer.stages import site as site_stage

    hashed, seen = [], []
    real = site_stage.code_hash
    monkeypatch.setattr(site_stage, "code_hash", lambda *parts: hashed.append(parts) or real(*parts))
    project = SimpleNamespace(config=ProjectConfig(), storyboards=[], theme=None)
    state = SimpleNamespace(project=project, out=tmp_path, trace_hashes={}, theme_hash="theme",
                            up_to_date=lambda step, inputs: seen.append((step, inputs)) or True)
    site_stage.site_stage(state)
    assert [step for step, _ in seen] == ["site"]
    for cut in CUTS:
        assert any(part in cut.file for parts in hashed for part in parts), f"{cut.file} is not among the site's inputs"
    assert seen[0][1]["live_demo"] == real(*sorted({cut.file for cut in CUTS}))


def test_lesson_page_code_classes_numbers_and_caption(site):
    root, _ = site
    lesson = (root / "lesson.html").read_text()
    cat = load_traces()["cat"]
    for c in snippets():
        assert c.where in lesson
    assert "shortened" in lesson                    # the cut of traced_generate says so
    for row in model_classes(cat):
        assert f"<code>{row['name']}</code>" in lesson and row["path"] in lesson
    assert cat["model"]["classes"]["block"]["file"] in lesson
    from live_demo.formatting import value
    assert value(cat["samples"]["values"][0]["values"][0]) in lesson       # real numbers beside the shapes
    cap = loop_caption(cat)
    assert cap["shortened"] and f"the first {cap['shown']} of its {cap['total']} tokens shown" in lesson


def test_python_path_of_a_module():
    assert python_path("transformer.h.0.attn") == "model.transformer.h[0].attn"
    assert python_path("") == "model"
    assert {c.function for c in CUTS} >= {"encode_prompt", "forward_with_shapes", "token_pieces"}


def test_a_trace_from_an_older_novapress_builds_with_a_warning(tmp_path):
    traces = load_traces()
    traces["question"] = json.loads((FIXTURES / "trace_question.json").read_text())   # no classes, no samples
    files = build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    assert any("'question'" in w and "--refresh" in w for w in files.warnings)
    assert (tmp_path / "site" / "tour.html").is_file()


def test_deck_reference_scanner():
    html = ('<img src="../comic/a%20b.png"><div style="background-image:url(&quot;../live/c.png&quot;)"></div>'
            '<a href="https://example.org">x</a><a href="#3">y</a><img src="data:image/png;base64,AA">')
    assert local_refs(html) == {"../comic/a b.png", "../live/c.png"}


def test_deck_files_outside_the_build_are_warned_about(tmp_path):
    (tmp_path / "build" / "slides").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(b"x")
    deck = tmp_path / "build" / "slides" / "d.html"
    deck.write_text('<img src="../../outside.png"><link rel="stylesheet" href="https://cdn.example/x.css">')
    entry, written, warnings = copy_deck(deck, tmp_path / "build", tmp_path / "site" / "deck")
    assert entry == "slides/d.html" and len(written) == 1
    assert any("outside" in w for w in warnings) and any("network" in w for w in warnings)


def test_gpt2_traces_tell_the_story_that_ran(tmp_path, tiny_gpt2):
    """A GPT-2-architecture model (no chat template, learned positions, LayerNorm): the lesson
    and the tour's data say what this model did, never what another one would have."""
    from live_demo.spec import DemoSpec
    from live_demo.trace import run_demo

    traces = {
        "cat": run_demo(tiny_gpt2, "cat", DemoSpec(prompt="The cat sat", chat=False, max_new_tokens=12, top_k=5), 42),
        "question": run_demo(tiny_gpt2, "question", DemoSpec(prompt="Why do cats purr?", max_new_tokens=8), 42),
        "ask_token": run_demo(tiny_gpt2, "ask_token", DemoSpec(prompt="¿Qué es un token?", max_new_tokens=8), 42),
    }
    files = build_site(tmp_path, traces=traces, panels={}, pages=[], deck_html=None, book_title="B")
    assert not [w for w in files.warnings if "older novapress" in w]
    lesson = (tmp_path / "site" / "lesson.html").read_text()
    for name in ("GPT2LMHeadModel", "GPT2Block", "GPT2Attention", "GPT2MLP", "LayerNorm"):
        assert f"<code>{name}</code>" in lesson, name
    assert "model.transformer.h[0].attn" in lesson and "transformers/models/gpt2/modeling_gpt2.py:" in lesson
    assert "chat template" not in lesson.split('id="stage-ids"')[1].split("</section>")[0]
    assert "first 4 of 64 numbers" in lesson
    tour = (tmp_path / "site" / "tour.html").read_text()
    runs = json.loads(tour.split('<script type="application/json" id="tour-runs">')[1].split("</script>")[0])
    for run in runs:
        start = run["start"]
        assert start["chat"] is None and start["n_input"] == len(start["tokens"])      # no template: nothing added
        assert start["model"]["positions"] == "learned" and start["model"]["norm"] == "LayerNorm"
        assert start["model"]["chat_template"] is False and "prompt" in start["request"]
        assert run["done"]["stopped"] in ("eos", "length") and run["done"]["max_new_tokens"] == 8
        assert start["model"]["kv_per_token_text"] == "1.0 KB"      # 2 x 2 layers x 2 heads x 32 x 4 bytes
