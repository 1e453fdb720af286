"""Pure layout: page grid and balloon placement, checked without drawing."""
from renderer.balloons import tail_points
from renderer.geometry import Rect
from renderer.layout import BoxRequest, panel_rects, place_boxes, reading_order
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


def test_a_robot_balloon_tail_leaves_its_box_even_toward_a_corner():
    """A rounded-rectangle balloon with the speaker off its corner: the tail starts on the side that
    faces the mouth, off the rounded corner, and its tip is outside the box, short of the head."""
    balloon = Rect(100, 100, 320, 200)
    for mouth, face in [((470, 290), Rect(440, 250, 90, 90)), ((520, 420), Rect(480, 380, 100, 100)),
                        ((260, 520), Rect(210, 470, 100, 100)), ((30, 120), None)]:
        left, right, tip = tail_points(balloon, mouth, face, width=40, min_len=30, shape="rect")
        assert not balloon.contains_point(*tip), (mouth, tip)
        assert face is None or not face.contains_point(*tip)
        # the tip is on the way to the mouth
        base = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)
        assert (tip[0] - base[0]) * (mouth[0] - base[0]) + (tip[1] - base[1]) * (mouth[1] - base[1]) > 0
        # the base sits on the box's edge, away from its rounded corners
        r = min(balloon.w, balloon.h) * 0.18
        for x, y in (left, right):
            assert balloon.inset(-1).contains_point(x, y)
            on_side = min(abs(x - balloon.x), abs(x - balloon.x1)) < 20 or min(abs(y - balloon.y), abs(y - balloon.y1)) < 20
            assert on_side
            assert not (min(abs(x - balloon.x), abs(x - balloon.x1)) < r and min(abs(y - balloon.y), abs(y - balloon.y1)) < r)
    assert tail_points(balloon, (200, 150), None, width=40, shape="rect") is None


# --- crowding: placement degrades step by step instead of failing -------------------------------

from renderer.layout import (COVER_WEIGHT, Obstacle, TextRequest, first_clear, hides_least, label_spots,  # noqa: E402
                             place_texts)

PANEL = Rect(0, 0, 1000, 700)


def _place(requests, obstacles=(), **kw):
    return place_texts(PANEL, list(requests), obstacles=list(obstacles), keepout=kw.get("keepout", []),
                       bodies=kw.get("bodies", []), inset=12)


def test_a_clean_spot_is_taken_as_it_is():
    [spot] = _place([TextRequest((BoxRequest(300, 140, target=(500, 600)),))])
    assert spot.fallback == "" and spot.option == 0 and PANEL.inset(12).contains(spot.rect)


def test_no_room_at_full_size_takes_the_next_option():
    # a wall of lettering leaves a 200 px band at the top: the 300 px tall box cannot go anywhere
    wall = Obstacle(Rect(0, 220, 1000, 480), "lettering")
    big, small = BoxRequest(400, 300), BoxRequest(400, 180)
    [spot] = _place([TextRequest((big, small))], [wall])
    assert spot.fallback == "" and spot.option == 1
    assert not spot.rect.overlaps(wall.rect)


def test_out_of_reading_order_only_when_nothing_after_the_previous_balloon_is_free():
    # the first balloon takes the lower half's only gap; the second fits only above it
    wall = Obstacle(Rect(0, 200, 1000, 300), "data")
    first = TextRequest((BoxRequest(900, 170, at=(500, 600)),))
    second = TextRequest((BoxRequest(400, 150),))
    one, two = _place([first, second], [wall])
    assert one.fallback == "" and two.fallback == "order"
    assert two.rect.y1 <= one.rect.y


def test_a_caption_strip_when_no_balloon_shape_fits_the_scene():
    # faces everywhere but a band along the bottom edge: a balloon cannot fit, a flat strip can
    faces = [Obstacle(Rect(0, 0, 1000, 600), "face")]
    balloon = BoxRequest(500, 200, clearance=20)
    strip = BoxRequest(976, 80, strip=True)
    [spot] = _place([TextRequest((balloon,), strip)], faces)
    assert spot.fallback == "strip" and spot.option == -1
    assert spot.rect.y1 >= PANEL.y1 - 12 - 0.5 and not spot.rect.overlaps(faces[0].rect)


def test_last_resort_hides_least_and_never_prefers_a_face():
    # nowhere is clear: the left half is a face, the right half data text. The box goes over the data.
    face = Obstacle(Rect(0, 0, 500, 700), "face")
    data = Obstacle(Rect(500, 0, 500, 700), "data")
    [spot] = _place([TextRequest((BoxRequest(300, 200),))], [face, data])
    assert spot.fallback == "covering" and spot.covers == ("data",)
    assert not spot.rect.overlaps(face.rect)
    assert COVER_WEIGHT["face"] > COVER_WEIGHT["data"] > COVER_WEIGHT["tag"]


def test_only_a_box_bigger_than_the_panel_gets_no_place():
    [spot] = _place([TextRequest((BoxRequest(2000, 100),))])
    assert spot.rect is None


def test_earlier_boxes_are_never_covered_by_a_clean_later_one():
    reqs = [TextRequest((BoxRequest(600, 300),)) for _ in range(3)]
    spots = _place(reqs)
    rects = [s.rect for s in spots]
    clean = [s for s in spots if s.fallback in ("", "order")]
    for i, a in enumerate(clean):
        for b in rects[:rects.index(a.rect)]:
            assert not a.rect.overlaps(b)
    assert any(s.fallback == "covering" and "balloon" in s.covers for s in spots)   # the third cannot fit


def test_a_label_goes_to_another_side_of_its_anchor_when_its_spot_is_taken():
    area = PANEL.inset(12)
    spots = label_spots((500, 300), 200, 40, area, gap=8)
    above = spots[0]
    assert above.y1 <= 300 and abs(above.cx - 500) < 1
    sign = Rect(350, 240, 300, 55)          # a prop's own lettering right above the anchor
    r = first_clear(spots, [sign])
    assert r is not None and r.y >= 300     # below the anchor
    assert all(area.contains(s) for s in spots)


def test_a_label_with_no_free_side_covers_least():
    area = PANEL.inset(12)
    spots = label_spots((500, 300), 200, 40, area, gap=8)
    face = Obstacle(Rect(300, 200, 400, 96), "face")
    lettering = Obstacle(Rect(0, 0, 1000, 700), "lettering")
    r, covers = hides_least(spots, [face, lettering])
    assert "face" not in covers and not r.overlaps(face.rect)
