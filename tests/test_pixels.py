"""What the reader sees, checked in the pixels rather than in the layout records.

A record can be right while the drawing is wrong (a tail mirrored, a tag recorded but never
drawn, a bar drawn at the wrong length): these tests look at the rendered image.

Reference images: a few small, deterministic panels of page 5 (drawn with the fixture trace) are
kept in tests/reference/ at a third of their size. A panel that drifts past the tolerance fails, and the
rendered panel and a diff image (changed pixels in red over a faded copy) are written to
.novapress/test-diffs/ to look at. When a change to the drawing is meant, rewrite them with
    NOVAPRESS_UPDATE_REFERENCES=1 python -m pytest tests/test_pixels.py
look at the new PNGs, and commit them with the change (README "Tests").
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageColor, ImageDraw

from renderer import lettering
from renderer.config import load_config
from renderer.draw import page_layout, render_page, render_panel
from renderer.geometry import Rect
from renderer.panel_lettering import boxes
from renderer.project import Project
from renderer.props import REGISTRY, PropContext
from renderer.rendering import Problems
from renderer.raster import rasterize, svg_document
from renderer.stages.comic import render_context
from renderer.storyboard import load_cast, load_storyboard
from renderer.theme import load_theme

ROOT = Path(__file__).resolve().parent.parent
PAGE5 = ROOT / "storyboards" / "page-05-inference-pipeline.yaml"
TRACE = json.loads((ROOT / "tests" / "fixtures" / "trace_question.json").read_text())
REFERENCES = ROOT / "tests" / "reference"
DIFFS = ROOT / ".novapress" / "test-diffs"
UPDATE = os.environ.get("NOVAPRESS_UPDATE_REFERENCES") == "1"


def _load():
    config, _ = load_config(ROOT)
    cast, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    sb = load_storyboard(PAGE5, cast=cast, demos=config.demos)
    project = Project(ROOT, config, load_theme(config.comic.theme), cast, [sb])
    return sb, render_context(project, {"question": TRACE})


@pytest.fixture(scope="module")
def page5():
    sb, ctx = _load()
    return sb, ctx, render_page(sb, ctx)


def _panel_here(sb, ctx, pid):
    """One panel drawn in this process (the page's worker pool would not see a monkeypatch)."""
    rects = page_layout(sb, ctx)
    pi, panel = next((i, p) for i, p in enumerate(sb.board.panels) if p.id == pid)
    return render_panel(sb, pi, panel, (int(rects[pid].w), int(rects[pid].h)), ctx, Problems(sb))


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


# --- balloon tails ----------------------------------------------------------------------------------

def _distance_to_triangle(xs: np.ndarray, ys: np.ndarray, tri) -> np.ndarray:
    """Distance of each point to the filled triangle `tri` (0 inside)."""
    (ax, ay), (bx, by), (cx, cy) = tri
    def side(px, py, qx, qy):
        return (qx - px) * (ys - py) - (qy - py) * (xs - px)
    s1, s2, s3 = side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
    inside = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))

    def to_segment(px, py, qx, qy):
        vx, vy = qx - px, qy - py
        t = np.clip(((xs - px) * vx + (ys - py) * vy) / (vx * vx + vy * vy), 0, 1)
        return np.hypot(xs - (px + t * vx), ys - (py + t * vy))
    d = np.minimum(np.minimum(to_segment(ax, ay, bx, by), to_segment(bx, by, cx, cy)), to_segment(cx, cy, ax, ay))
    return np.where(inside, 0.0, d)


def test_a_tails_pixels_lie_between_its_balloon_and_the_speakers_mouth(page5, monkeypatch):
    """The panels drawn again with every tail left out of the drawing (the records unchanged): the
    pixels that differ are the tails. Each lies inside its recorded wedge, reaches its tip, and is
    on the mouth's side of the balloon; a tail drawn mirrored or elsewhere lands outside."""
    sb, ctx, render = page5
    speaking = {pid for pid, pr in render.panels.items() if any(e.kind == "speech" for e in pr.elements)}
    assert speaking == {"p1", "p5"}
    for name in ("speech_svg", "robot_svg"):
        real = getattr(boxes.balloons, name)
        monkeypatch.setattr(boxes.balloons, name, lambda box, tail, _real=real, **kw: _real(box, None, **kw))
    tailless = {pid: _panel_here(sb, ctx, pid) for pid in speaking}
    slack = ctx.px(ctx.theme.balloon.stroke_width) + 3      # the outline is stroked around the wedge
    for pid in sorted(speaking):
        pr, bare = render.panels[pid], tailless[pid]
        ys, xs = np.nonzero(np.abs(_rgb(pr.image) - _rgb(bare.image)).max(axis=2) > 24)
        speech = [e for e in pr.elements if e.kind == "speech"]
        assert len(speech) == 1 and speech[0].tail is not None
        e = speech[0]
        base_l, base_r, tip = e.tail
        assert len(xs) > 300, f"{pid}: the tail is not drawn ({len(xs)} pixels differ)"
        away = _distance_to_triangle(xs.astype(float), ys.astype(float), e.tail)
        assert (away > slack).sum() == 0, \
            f"{pid}: {(away > slack).sum()} tail pixels outside the recorded wedge (e.g. at {xs[away.argmax()]},{ys[away.argmax()]})"
        near_tip = np.hypot(xs - tip[0], ys - tip[1]).min()
        assert near_tip <= slack, f"{pid}: the drawn tail stops {near_tip:.0f} px short of its tip"
        mouth = np.array(pr.mouths[e.who])
        centre = np.array([e.box.cx, e.box.cy])
        drawn = np.array([xs.mean(), ys.mean()])
        assert np.linalg.norm(drawn - mouth) < np.linalg.norm(centre - mouth), f"{pid}: tail not toward the mouth"
        # and the tail is balloon-white inside: the wedge's middle, outside the ellipse, is the fill
        mid = ((base_l[0] + base_r[0] + tip[0] * 2) / 4, (base_l[1] + base_r[1] + tip[1] * 2) / 4)
        fill = ImageColor.getrgb(ctx.theme.balloon.fill)[:3]
        assert pr.image.getpixel((int(mid[0]), int(mid[1])))[:3] == fill, pid


# --- the model tag -------------------------------------------------------------------------------

def test_the_model_tags_words_are_drawn_where_the_record_says(page5):
    """Each tag's text, drawn alone on the tag's fill at the recorded spot, matches the panel's
    pixels there: the words are in the picture, in the tag's colours, at that place."""
    _, ctx, render = page5
    theme = ctx.theme
    px = int(ctx.px(theme.model_tag.size))
    fill, ink = ImageColor.getrgb(theme.model_tag.fill)[:3], ImageColor.getrgb(theme.model_tag.text)[:3]
    tags = [(pid, e) for pid, pr in render.panels.items() for e in pr.elements if e.kind == "tag"]
    assert sorted(pid for pid, _ in tags) == ["p2", "p3", "p4", "p5"]
    for pid, e in tags:
        image = render.panels[pid].image.convert("RGB")
        block = lettering.make_block([e.text], theme.fonts.mono, px, mono=True)
        expected = Image.new("RGB", image.size, fill)
        lettering.draw_block(ImageDraw.Draw(expected), block, e.text_box.x, e.text_box.y, theme.model_tag.text, "center")
        area = tuple(int(v) for v in (e.text_box.x - 2, e.text_box.y - 2, e.text_box.x1 + 2, e.text_box.y1 + 2))
        got, want = _rgb(image.crop(area)), _rgb(expected.crop(area))
        inked = np.abs(want - np.array(fill)).max(axis=2) > 60          # where the letters are
        assert inked.sum() > 20 * len(e.text), f"{pid}: the reference has too little ink to judge"
        assert (np.abs(got - want).max(axis=2)[inked] <= 24).mean() > 0.97, \
            f"{pid}: the tag's words '{e.text}' are not drawn at {e.text_box}"
        assert (np.abs(got - np.array(ink)).max(axis=2) <= 24).sum() > 0.5 * (np.abs(want - np.array(ink)).max(axis=2) <= 24).sum()
        # the tag's own box around the words darkens the art behind it by the fill's opacity
        shade = ImageColor.getrgb(theme.model_tag.fill)
        opacity = shade[3] / 255 if len(shade) == 4 else 1.0
        ceiling = np.array(fill) * opacity + 255 * (1 - opacity) + 4
        strip = _rgb(image.crop((int(e.box.x + e.box.h * 0.4), int(e.box.y + 2),
                                 int(e.box.x1 - e.box.h * 0.4), int(e.text_box.y - 1))))
        assert strip.size and (strip <= ceiling).all(), f"{pid}: no tag box behind the words"


# --- probability bars ------------------------------------------------------------------------------

def _bars_image(probs: list[float]) -> tuple[Image.Image, list]:
    theme = load_theme("tech")
    trace = copy.deepcopy(TRACE)
    for row, p in zip(trace["next_token"]["top"], probs):
        row["prob"] = p
    ptype = REGISTRY["prob_bars"]
    box = Rect(0, 0, 900, 400)
    art = ptype.draw(ptype.params.model_validate({"k": len(probs), "frame": False, "title": ""}),
                     PropContext(box=box, theme=theme, unit=1.988, demo=trace, seed=7, min_text=0.0125 * 1988))
    rows = [t.box for t in art.texts if t.name.startswith("bar percent")]
    return rasterize(svg_document(box.w, box.h, art.svg)), rows


@pytest.mark.parametrize("probs", [[0.8, 0.4, 0.2, 0.1], [0.97, 0.02, 0.01], [0.35, 0.33, 0.31]])
def test_a_bars_drawn_length_is_its_probability_of_the_track(probs):
    """On each bar's row the coloured bar covers its probability of the drawn track (0 to 100%),
    to within two pixels; measured on the rasterised chart, not on the numbers in its SVG."""
    image, rows = _bars_image(probs)
    assert len(rows) == len(probs)
    pixels = np.asarray(image, dtype=np.int16)
    for p, row in zip(probs, rows):
        y = int(row.y + row.h * 0.62)                 # below the bar's highlight, inside the track
        alpha = pixels[y, :int(row.x), 3]             # left of the percentage
        # the track is translucent glass, the bar over it opaque: the track is the longest run
        # of drawn pixels on the row, the bar the opaque part of it
        runs, start = [], None
        for x, on in enumerate(list(alpha > 128) + [False]):
            if on and start is None:
                start = x
            elif not on and start is not None:
                runs.append((start, x))
                start = None
        start, end = max(runs, key=lambda r: r[1] - r[0])
        opaque = np.nonzero(alpha[start:end] >= 240)[0]
        length = opaque.max() + 1 if len(opaque) else 0
        assert end - start > 400, f"the track is {end - start} px long"
        assert abs(length - p * (end - start)) <= 2.5, (p, length, end - start)


# --- reference images ------------------------------------------------------------------------------

SCALE = 3               # references are kept at a third of the panel's size: small files
TOLERANCE = 40          # a pixel channel may move this much (anti-aliasing, a font hinting release)
MAX_CHANGED = 0.0005    # and at most this share of the pixels may move more (a mirrored tail moves 0.17%)


def _compare(name: str, image: Image.Image) -> None:
    image = image.convert("RGB")
    image = image.resize((image.width // SCALE, image.height // SCALE), Image.LANCZOS)
    path = REFERENCES / f"{name}.png"
    if UPDATE:
        REFERENCES.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
        return
    assert path.exists(), f"{path.relative_to(ROOT)} missing: create it with NOVAPRESS_UPDATE_REFERENCES=1"
    with Image.open(path) as ref:
        ref = ref.convert("RGB")
    if ref.size != image.size:
        changed = 1.0
    else:
        delta = np.abs(_rgb(image) - _rgb(ref)).max(axis=2)
        changed = float((delta > TOLERANCE).mean())
    if changed > MAX_CHANGED:
        DIFFS.mkdir(parents=True, exist_ok=True)
        image.save(DIFFS / f"{name}-actual.png")
        if ref.size == image.size:
            faded = Image.blend(ref, Image.new("RGB", ref.size, "white"), 0.7)
            mask = Image.fromarray(((delta > TOLERANCE) * 255).astype(np.uint8))
            faded.paste(Image.new("RGB", ref.size, (255, 0, 0)), mask=mask)
            faded.save(DIFFS / f"{name}-diff.png")
        pytest.fail(f"{name}: {changed:.2%} of the pixels differ from {path.relative_to(ROOT)} by more than "
                    f"{TOLERANCE}; see {DIFFS / name}-*.png (meant? NOVAPRESS_UPDATE_REFERENCES=1)")


@pytest.mark.parametrize("panel", ["p1", "p4"])
def test_panels_match_their_reference_images(page5, panel):
    _, _, render = page5
    _compare(f"page-05-{panel}", render.panels[panel].image)


def test_the_reference_comparison_fails_and_writes_a_diff_on_a_real_change(page5, monkeypatch, tmp_path):
    """The comparison can fail: a change the size of a mirrored balloon tail (about 3,600 pixels
    of the full panel) is refused, and the diff image is written."""
    _, _, render = page5
    monkeypatch.setattr(f"{__name__}.DIFFS", tmp_path)
    monkeypatch.setattr(f"{__name__}.UPDATE", False)
    changed = render.panels["p1"].image.copy()
    changed.paste((255, 255, 255, 255), (200, 200, 260, 260))
    with pytest.raises(pytest.fail.Exception, match="differ from"):
        _compare("page-05-p1", changed)
    assert (tmp_path / "page-05-p1-diff.png").exists() and (tmp_path / "page-05-p1-actual.png").exists()
    # while the same panel drawn again passes, byte for byte the same picture
    _compare("page-05-p1", render_page(*_load(), only_panel="p1").panels["p1"].image)
