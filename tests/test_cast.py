"""The cast as vector art: every pose and expression renders, boxes and points are where a page
layout needs them, facing mirrors, sizes scale, output is deterministic, bad names are refused."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from renderer import cast
from renderer.cast import CHARACTERS, expressions, poses, relative_height, render_figure

ROOT = Path(__file__).resolve().parents[1]
SMALL = 120          # px: small enough to keep the whole matrix quick

ALL = [(art, pose, expr) for art in CHARACTERS for pose in poses(art) for expr in expressions(art)]


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_required_poses_and_expressions_exist():
    assert set(CHARACTERS) == {"nova", "kai", "tensor"}
    assert {"presenting", "pointing", "talking", "watching", "thinking"} <= set(poses("nova"))
    assert {"watching", "talking", "pointing", "thinking", "asking", "excited"} <= set(poses("kai"))
    assert {"hovering", "working", "pointing", "carrying", "waving"} <= set(poses("tensor"))
    for art in CHARACTERS:
        assert {"neutral", "happy", "surprised", "fascinated", "thinking", "talking"} <= set(expressions(art))


@pytest.mark.parametrize("art,pose,expr", ALL)
def test_every_pose_and_expression_renders(art, pose, expr):
    fig = render_figure(art, pose, expr, "right", SMALL)
    img = fig.image
    assert img.mode == "RGBA" and img.height == SMALL
    alpha = np.asarray(img.getchannel("A"))
    assert (alpha > 200).sum() > SMALL * SMALL * 0.04, "the figure is (almost) empty"
    # tight: the first and last columns hold part of the figure
    assert alpha[:, 0].max() > 0 and alpha[:, -1].max() > 0
    # nothing cut off by the character's frame at the top or the bottom
    assert alpha[0].max() < 24 and alpha[-1].max() < 24
    w, h = img.size
    # the face box lies inside the image, inside the head box, and above the hips
    assert 0 <= fig.face.x and fig.face.x1 <= w and 0 <= fig.face.y and fig.face.y1 <= h
    assert fig.head.contains(fig.face, tol=1.0)
    assert fig.face.y1 < 0.5 * h
    # the face box is really on the drawing
    fx0, fy0, fx1, fy1 = (int(v) for v in fig.face.box())
    assert alpha[fy0:fy1, fx0:fx1].mean() > 150
    # named points
    for name in ("hand", "eyes", "mouth", "base"):
        assert name in fig.anchors
    for name, (x, y) in fig.anchors.items():
        assert -2 <= x <= w + 2 and -2 <= y <= h + 2, f"anchor {name} outside the image"
    assert fig.face.inset(-2).contains_point(*fig.anchors["eyes"])
    assert fig.head.inset(-2).contains_point(*fig.mouth)
    assert fig.hover == (art == "tensor")


@pytest.mark.parametrize("art", CHARACTERS)
def test_facing_left_mirrors_the_picture_and_the_boxes(art):
    pose = poses(art)[0]
    right = render_figure(art, pose, "happy", "right", 300)
    left = render_figure(art, pose, "happy", "left", 300)
    w = right.image.width
    assert left.image.size == right.image.size
    assert np.array_equal(np.asarray(left.image), np.asarray(right.image)[:, ::-1])
    assert left.face.x == pytest.approx(w - right.face.x1, abs=0.01)
    assert left.face.y == pytest.approx(right.face.y, abs=0.01)
    assert left.face.w == pytest.approx(right.face.w, abs=0.01)
    assert left.mouth[0] == pytest.approx(w - right.mouth[0], abs=0.01)
    hx_r, hy_r = right.anchors["hand"]
    hx_l, hy_l = left.anchors["hand"]
    assert (hx_l, hy_l) == pytest.approx((w - hx_r, hy_r), abs=0.01)


def test_the_presenting_hand_is_on_the_side_she_faces():
    fig = render_figure("nova", "presenting", "neutral", "right", 400)
    assert fig.anchors["hand"][0] > fig.face.cx
    fig = render_figure("nova", "pointing", "neutral", "left", 400)
    assert fig.anchors["hand"][0] < fig.face.cx


def test_same_arguments_give_the_same_bytes():
    first = _png(render_figure("kai", "asking", "surprised", "left", 333).image)
    cast._render.cache_clear()
    cast._drawing.cache_clear()
    second = _png(render_figure("kai", "asking", "surprised", "left", 333).image)
    assert first == second


def test_callers_cannot_spoil_the_cache():
    fig = render_figure("tensor", "hovering", "neutral", "right", 200)
    fig.image.paste((255, 0, 0, 255), (0, 0, fig.image.width, fig.image.height))
    again = render_figure("tensor", "hovering", "neutral", "right", 200)
    assert again.image.getpixel((0, 0)) != (255, 0, 0, 255)


@pytest.mark.parametrize("art", CHARACTERS)
def test_sizes_scale(art):
    pose = poses(art)[1]
    small = render_figure(art, pose, "neutral", "right", 250)
    big = render_figure(art, pose, "neutral", "right", 1000)
    assert big.image.height == 4 * small.image.height
    assert big.image.width == pytest.approx(4 * small.image.width, abs=12)
    assert big.face.h == pytest.approx(4 * small.face.h, rel=0.01)
    assert big.face.x == pytest.approx(4 * small.face.x, abs=10)
    assert big.anchors["hand"][1] == pytest.approx(4 * small.anchors["hand"][1], abs=8)


def test_a_character_keeps_its_size_between_poses():
    """height_px is the character's frame, not the pose's bounding box: heads match in every pose."""
    for art in CHARACTERS:
        sizes = []
        for p in poses(art):
            fig = render_figure(art, p, "neutral", "right", 400)
            (ex, ey), (bx, by) = fig.anchors["eyes"], fig.anchors["base"]
            sizes.append(((ex - bx) ** 2 + (ey - by) ** 2) ** 0.5)   # eyes to floor: leaning keeps it
        assert max(sizes) / min(sizes) < 1.05, (art, sizes)


def test_tensor_floats_and_its_base_is_the_bottom_of_the_glow():
    fig = render_figure("tensor", "hovering", "neutral", "right", 400)
    bx, by = fig.anchors["base"]
    alpha = np.asarray(fig.image.getchannel("A"))
    rows = np.flatnonzero(alpha[:, int(bx)] > 40)
    assert abs(rows[-1] - by) < 0.04 * fig.image.height   # the visible glow ends at the base point
    assert fig.image.height - by < 0.06 * fig.image.height


def test_relative_heights():
    assert relative_height("nova") == 1.0
    assert 0.8 < relative_height("kai") < 1.0
    assert 0.4 < relative_height("tensor") < 0.9


@pytest.mark.parametrize("call,words", [
    (lambda: render_figure("kia", "watching", "neutral"), ["kia", "nova", "kai", "tensor"]),
    (lambda: render_figure("kai", "presenting", "neutral"), ["presenting", "asking", "excited"]),
    (lambda: render_figure("tensor", "hovering", "angry"), ["angry", "neutral", "happy"]),
    (lambda: render_figure("nova", "pointing", "happy", "up"), ["up", "left", "right"]),
    (lambda: render_figure("nova", "pointing", "happy", "right", 0), ["height_px"]),
    (lambda: poses("robot"), ["robot", "tensor"]),
])
def test_unknown_names_raise_value_error_listing_valid_ones(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for word in words:
        assert word in str(err.value)


def test_cast_yaml_names_every_member():
    from renderer.storyboard import load_cast
    members, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    assert {m: members[m].art for m in members} == {"nova": "nova", "kai": "kai", "tensor": "tensor"}
    assert members["nova"].name == "Dr. Nova" and members["tensor"].balloon == "robot"
    assert members["kai"].balloon == "normal"


def test_contact_sheet(tmp_path):
    from PIL import Image

    from renderer.cast.sheet import main
    out = tmp_path / "sheet.png"
    assert main([str(out), "--height", "60", "--art", "tensor"]) == 0
    img = Image.open(out)
    n = len(poses("tensor"))
    assert img.height > n * 60
    assert img.getpixel((1, 1))[:3] == (0x0a, 0x10, 0x30)
