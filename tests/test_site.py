"""The lesson site's static build: pages, assets, alt text, offline-ness, determinism, warnings."""
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
from renderer.site.build import json_for_script, preset
from renderer.site.deck import copy_deck, local_refs
from renderer.site.lesson import stepper_stages
from renderer.site.tour import load_tour
from renderer.site.transcripts import page_alt, panel_alt

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
    return [sec.panel for sec in load_tour().sections if sec.panel][:2]


def load_traces() -> dict[str, dict]:
    cat = json.loads((FIXTURES / "site_trace_cat.json").read_text())
    token = json.loads((FIXTURES / "site_trace_ask_token.json").read_text())
    question = json.loads((FIXTURES / "trace_question.json").read_text())
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


def test_every_image_has_alt_text_and_exists(site):
    root, _ = site
    count = 0
    for page in root.glob("*.html"):
        parser = Images()
        parser.feed(page.read_text())
        for img in parser.imgs:
            count += 1
            assert img.get("alt", "").strip(), (page.name, img)
            assert (root / img["src"]).is_file(), img["src"]
    assert count >= 4   # 2 tour panels, a page thumbnail and the page itself


def test_panel_alt_text_comes_from_the_page_transcript(site):
    root, _ = site
    tour = (root / "tour.html").read_text()
    assert 'alt="Close-up of the first station. Label: 1. PREPROCESSING. Narration: Tokenization: breaking' in tour
    assert "Dr. Nova: The inference pipeline is a structured sequence." in tour


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
    assert tour_panels()[0] in text and "not built" in text
    assert "nope.html" in text
    assert "<img" not in (tmp_path / "site" / "tour.html").read_text()
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
    blob = tour.split('<script type="application/json" id="ask-presets">')[1].split("</script>")[0]
    assert any(p["prompt"] == evil["prompt"] for p in json.loads(blob))
    assert json.loads(json_for_script({"a": "</script>"})) == {"a": "</script>"}


def test_preset_is_the_top_p_continuation_step_by_step():
    trace = load_traces()["ask_token"]
    p = preset(trace)
    steps = trace["strategies"]["top_p"]["steps"]
    assert [s["text"] for s in p["steps"]] == [s["token"]["text"] for s in steps]
    assert p["steps"][0]["alternatives"][0]["prob"] == steps[0]["alternatives"][0]["prob"]
    assert p["model"] == trace["model"]["display"] and "seed 42" in p["strategy"]


def test_stepper_stages_follow_the_seed():
    stages = stepper_stages(load_traces()["cat"])
    assert [s.id for s in stages] == ["raw", "ids", "embeddings", "layers", "logits", "chosen"]
    assert [s.owner for s in stages] == ["app", "tokenizer", "graph", "graph", "graph", "policy"]
    assert [s.loop for s in stages][:2] == ["once", "once"] and {s.loop for s in stages[2:]} == {"repeats"}
    assert stages[2].shape == [1, 3, 576] and stages[4].shape == [1, 3, 49152]


def test_transcript_lookup_by_heading_id_then_by_number():
    assert panel_alt(TRANSCRIPT, "p2").startswith("Close-up of the first station.")
    named = "# Page 9: X\n\n## Panel 1 (wide) p7\n\nThe seventh.\n\n## Panel 2 (wide) p1\n\nThe first.\n"
    assert panel_alt(named, "p1") == "The first." and panel_alt(named, "p7") == "The seventh."
    assert panel_alt(TRANSCRIPT, "p9") is None
    assert page_alt(TRANSCRIPT).startswith("Comic page 5: The Inference Pipeline. Dr. Nova projects")


def test_tour_sections_are_valid_and_cover_the_stack():
    ids = [s.id for s in load_tour().sections]
    for needed in ("application", "tokenization", "network", "data-center", "transformer-layer", "gpu-die",
                   "decoding", "fab", "euv", "back-up"):
        assert needed in ids
    assert ids.index("application") < ids.index("fab") < ids.index("euv") < ids.index("back-up")


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
