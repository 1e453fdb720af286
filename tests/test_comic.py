"""The comic renderer on the real page-5 storyboard, with a fixture trace (no model run).

Checks what a reader would: panels inside the margins, text inside its balloon, tails
pointing at speakers, balloons clear of faces, pixels where they belong, and files that
open. Rendering is done once per module.
"""
from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from renderer.comic_files import png_bytes, write_cbz, write_page, write_pdf
from renderer.config import load_config
from renderer.draw import render_page
from renderer.project import Project
from renderer.stages.comic import render_context
from renderer.storyboard import load_cast, load_storyboard
from renderer.theme import load_theme

ROOT = Path(__file__).resolve().parent.parent
PAGE5 = ROOT / "storyboards" / "page-05-inference-pipeline.yaml"
TRACE = json.loads((ROOT / "tests" / "fixtures" / "trace_question.json").read_text())


@pytest.fixture(scope="module")
def page5():
    config, _ = load_config(ROOT)
    cast, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    sb = load_storyboard(PAGE5, cast=cast, demos=config.demos)
    project = Project(ROOT, config, load_theme(config.comic.theme), cast, [sb])
    ctx = render_context(project, {"question": TRACE})
    return sb, ctx, render_page(sb, ctx)


def test_page_size_and_panels_inside_margins(page5):
    sb, ctx, render = page5
    assert render.image.size == tuple(ctx.page_size)
    margin = ctx.px(ctx.theme.page.margin)
    w, h = ctx.page_size
    ids = [p.id for p in sb.board.panels]
    assert set(render.rects) == set(ids)
    for pid, r in render.rects.items():
        assert r.x >= margin - 1 and r.y >= margin - 1 and r.x1 <= w - margin + 1 and r.y1 <= h - margin + 1, pid
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert not render.rects[a].overlaps(render.rects[b])


def _inside_ellipse(box, x, y) -> bool:
    return ((x - box.cx) / (box.w / 2)) ** 2 + ((y - box.cy) / (box.h / 2)) ** 2 <= 1.0001


def test_every_text_fits_its_balloon_or_box(page5):
    _, _, render = page5
    count = 0
    for pr in render.panels.values():
        panel = Image.new("RGB", pr.image.size)
        for e in pr.elements:
            count += 1
            assert e.box.x >= 0 and e.box.y >= 0 and e.box.x1 <= panel.width and e.box.y1 <= panel.height, e.text
            t = e.text_box
            if e.kind == "speech" and e.who != "tensor" or e.kind == "thought":
                for x, y in ((t.x, t.y), (t.x1, t.y), (t.x, t.y1), (t.x1, t.y1)):
                    assert _inside_ellipse(e.box, x, y), (e.text, (x, y), e.box)
            else:
                assert e.box.contains(t, tol=1), (e.kind, e.text)
    assert count >= 14  # the seed's balloons, labels, narration, plus model tags


def test_tails_point_at_speakers_and_balloons_avoid_faces(page5):
    _, _, render = page5
    tails = 0
    for pr in render.panels.values():
        for e in pr.elements:
            for head in list(pr.faces.values()) + list(pr.heads.values()):
                assert not e.box.overlaps(head), (e.kind, e.text)
            if e.kind != "speech":
                continue
            assert e.tail is not None, e.text
            tails += 1
            (lx, ly), (rx, ry), (tx, ty) = e.tail
            mx, my = pr.mouths[e.who]
            base = ((lx + rx) / 2, (ly + ry) / 2)
            v = (mx - base[0], my - base[1])
            u = (tx - base[0], ty - base[1])
            cos = (v[0] * u[0] + v[1] * u[1]) / (math.hypot(*v) * math.hypot(*u))
            assert cos > 0.98, e.text                     # toward the mouth
            assert math.hypot(*u) < math.hypot(*v) * 0.6  # ends well short of it
            assert not pr.heads[e.who].contains_point(tx, ty)
            assert math.hypot(*u) > 20                    # and is long enough to see
    assert tails == 2  # Dr. Nova in panel 1, Kai in panel 5


def test_pixels_where_they_belong(page5):
    sb, ctx, render = page5
    img = render.image
    # the margin is the page's paper colour; a balloon's middle is the balloon fill
    paper = Image.new("RGB", (1, 1), ctx.theme.page.background).getpixel((0, 0))
    assert img.getpixel((5, img.height // 2)) == paper
    p1 = render.panels["p1"]
    speech = next(e for e in p1.elements if e.kind == "speech")
    # between two lines of text, inside the balloon, there is only balloon white
    x, y = int(speech.box.x + speech.box.w * 0.12), int(speech.box.cy)
    assert p1.image.getpixel((x, y))[:3] == (255, 255, 255)
    # the panel border is drawn in the border colour just outside each panel
    r = render.rects["p1"]
    border = Image.new("RGB", (1, 1), ctx.theme.page.border_color).getpixel((0, 0))
    assert img.getpixel((int(r.cx), int(r.y) - 1)) == border


def test_live_data_tagged_and_tokens_from_the_trace(page5):
    _, _, render = page5
    tagged = {pid for pid, pr in render.panels.items() if any(e.kind == "tag" for e in pr.elements)}
    assert tagged == {"p2", "p3", "p4", "p5"}          # every data-bearing panel names its model
    model = TRACE["model"]["display"]
    for pid in tagged:
        assert any(model in e.text for e in render.panels[pid].elements if e.kind == "tag")
    assert not any(e.kind == "tag" for e in render.panels["p1"].elements)


def test_outputs_open_and_repeat_byte_for_byte(page5, tmp_path):
    sb, ctx, render = page5
    written = write_page(sb, render, tmp_path / "comic", 300, {"kai": "Kai", "nova": "Dr. Nova"})
    page_png = tmp_path / "comic" / "pages" / "page-05.png"
    assert page_png in written
    with Image.open(page_png) as im:
        assert im.size == (1988, 3056)
        assert round(im.info["dpi"][0]) == 300
    assert sorted(p.name for p in (tmp_path / "comic" / "panels").iterdir()) == \
        [f"page-05-{pid}.png" for pid in ("p1", "p2", "p3", "p4", "p5")]
    md = (tmp_path / "comic" / "pages" / "page-05.md").read_text()
    assert "**Kai:** So the pipeline takes my question" in md
    assert TRACE["prompt"] in md                                    # descriptions rendered with live data
    # a second render of the same storyboard gives the same bytes
    again = render_page(sb, ctx)
    assert png_bytes(again.image, 300) == page_png.read_bytes()


def test_pdf_and_cbz(page5, tmp_path):
    from pypdf import PdfReader

    sb, ctx, render = page5
    pngs = []
    for n in (5, 6):
        p = tmp_path / f"page-{n:02d}.png"
        p.write_bytes(png_bytes(render.image, 300))
        pngs.append(p)
    pdf = write_pdf([("5. The Inference Pipeline", pngs[0]), ("6. Next", pngs[1])], tmp_path / "c.pdf", 300, "T", "A")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    assert [o.title for o in reader.outline] == ["5. The Inference Pipeline", "6. Next"]
    assert abs(float(reader.pages[0].mediabox.width) - 1988 / 300 * 72) < 1
    cbz = write_cbz([(5, "a", pngs[0]), (6, "b", pngs[1])], tmp_path / "c.cbz", title="T", author="A", language="en")
    with zipfile.ZipFile(cbz) as z:
        names = z.namelist()
        assert names == ["000-page-05.png", "001-page-06.png", "ComicInfo.xml"]
        assert "<PageCount>2</PageCount>" in z.read("ComicInfo.xml").decode()
        Image.open(io.BytesIO(z.read(names[0]))).verify()
    first = cbz.read_bytes()
    write_cbz([(5, "a", pngs[0]), (6, "b", pngs[1])], cbz, title="T", author="A", language="en")
    assert cbz.read_bytes() == first
    pdf_bytes = pdf.read_bytes()
    write_pdf([("5. The Inference Pipeline", pngs[0]), ("6. Next", pngs[1])], pdf, 300, "T", "A")
    assert pdf.read_bytes() == pdf_bytes
