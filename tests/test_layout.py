"""Pure layout: page grid and balloon placement, checked without drawing."""
from renderer.geometry import Rect
from renderer.layout import BoxRequest, panel_rects, place_boxes, reading_order, tail_points
from renderer.storyboard import PanelRef, Row, StackRef


def test_grid_inside_margins_even_gutters_no_overlap():
    rows = [Row(height=1.2, panels=["a"]), Row(height=1, panels=["b", PanelRef(id="c", width=2), "d"]),
            Row(height=1, panels=["e"])]
    rects = panel_rects(1988, 3056, rows, margin=90, gutter=48)
    assert set(rects) == set("abcde")
    page = Rect(90, 90, 1988 - 180, 3056 - 180)
    for r in rects.values():
        assert page.contains(r)
    ids = list(rects)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert not rects[a].overlaps(rects[b]), (a, b)
    # gutters are equal between neighbours in a row and between rows
    assert rects["c"].x - rects["b"].x1 == rects["d"].x - rects["c"].x1 == 48
    assert rects["b"].y - rects["a"].y1 == 48
    # relative widths and heights are honoured
    assert abs(rects["c"].w / rects["b"].w - 2) < 0.01
    assert abs(rects["a"].h / rects["e"].h - 1.2) < 0.01
    assert rects["a"].x == 90 and rects["e"].y1 == 3056 - 90


def test_stack_makes_a_tall_panel_beside_two():
    rows = [Row(height=2, panels=[PanelRef(id="tall", width=1), StackRef(stack=["top", "bottom"])])]
    rects = panel_rects(1000, 1000, rows, margin=50, gutter=20)
    assert rects["tall"].h == rects["top"].h + rects["bottom"].h + 20
    assert rects["top"].x == rects["bottom"].x > rects["tall"].x1
    assert reading_order(rects) == ["tall", "top", "bottom"]


def test_balloons_avoid_faces_stay_inside_and_keep_reading_order():
    panel = Rect(0, 0, 1000, 700)
    faces = [Rect(100, 150, 120, 140), Rect(700, 160, 120, 140)]
    reqs = [BoxRequest(300, 140, target=(160, 260)), BoxRequest(300, 140, target=(760, 260))]
    boxes = place_boxes(panel, reqs, blocked=faces, keepout=[], bodies=[], inset=12)
    assert all(b is not None for b in boxes)
    for b in boxes:
        assert panel.inset(12).contains(b)
        assert not any(b.overlaps(f) for f in faces)
    first, second = boxes
    assert not first.overlaps(second)
    assert first.cx < second.cx or first.y < second.y      # first speaker's balloon is read first
    assert first.cy < 260 and second.cy < 260              # balloons sit above the mouths, at the top


def test_no_room_gives_none():
    panel = Rect(0, 0, 300, 200)
    boxes = place_boxes(panel, [BoxRequest(290, 190)], blocked=[Rect(100, 50, 100, 100)], keepout=[], bodies=[], inset=10)
    assert boxes == [None]


def test_tail_points_toward_mouth_and_stops_short_of_face():
    balloon = Rect(100, 50, 400, 200)
    mouth = (600, 500)
    face = Rect(540, 400, 120, 140)
    left, right, tip = tail_points(balloon, mouth, face, width=40)
    # the tip lies on the way to the mouth: same direction from the balloon centre
    vx, vy = mouth[0] - balloon.cx, mouth[1] - balloon.cy
    tx, ty = tip[0] - balloon.cx, tip[1] - balloon.cy
    cos = (vx * tx + vy * ty) / ((vx * vx + vy * vy) ** 0.5 * (tx * tx + ty * ty) ** 0.5)
    assert cos > 0.99
    assert not face.inset(-16).contains_point(*tip)
    # and it leaves the balloon
    assert ((tip[0] - balloon.cx) / 200) ** 2 + ((tip[1] - balloon.cy) / 100) ** 2 > 1
