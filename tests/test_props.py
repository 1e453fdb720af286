"""The scene props library: every prop draws, stays in its box, shows the trace's data exactly."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from renderer.geometry import Rect
from renderer.props import REGISTRY, PropContext, PropError
from renderer.props.batch import batch_cells
from live_demo.formatting import SPACE_MARK as VISIBLE_SPACE
from renderer.props.tokens import layout_cubes
from renderer.props.data import Token
from renderer.theme import load_theme

FIXTURE = Path(__file__).parent / "fixtures" / "trace_question.json"
UNIT = 1.988                     # the default 1988 px wide page
MIN_TEXT = 0.0125 * 1988         # the theme's small print


@pytest.fixture(scope="module")
def theme():
    return load_theme("tech")


@pytest.fixture(scope="module")
def trace():
    return json.loads(FIXTURE.read_text())


def draw(name, params, theme, trace=None, box=Rect(40, 30, 880, 500), seed=7):
    ptype = REGISTRY[name]
    ctx = PropContext(box=box, theme=theme, unit=UNIT, demo=trace, seed=seed, min_text=MIN_TEXT)
    return ptype.draw(ptype.params.model_validate(params), ctx)


def long_trace(trace, n=60):
    """The fixture with a prompt of n tokens (ids and texts made up, the shape real)."""
    t = copy.deepcopy(trace)
    words = ["How", " does", " attention", " work", " in", " a", " transformer", "?"]
    t["tokens"] = [{"id": 1000 + i, "text": words[i % len(words)],
                    "display": words[i % len(words)].replace(" ", VISIBLE_SPACE, 1)} for i in range(n)]
    return t


BOXES = [Rect(40, 30, 880, 500), Rect(10, 10, 1700, 420)]
SMALL = Rect(20, 20, 520, 640)   # a quarter-page panel: a busy chart may say it needs more room


def test_the_seed_props_are_registered():
    needed = {"conveyor_belt", "station", "token_cubes", "char_stream", "padding_cube", "batch_grid", "tensor_grid",
              "neural_network", "shape_flow", "prob_bars", "text_screen", "user_icon", "hologram_projector",
              "neon_path"}
    assert needed <= set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_prop_draws_with_defaults_inside_its_box(name, theme, trace):
    for box in BOXES + [SMALL]:
        try:
            art = draw(name, {}, theme, trace, box=box)
        except PropError as err:
            assert box is SMALL and "larger" in str(err), f"{name} in {box}: {err}"
            continue
        assert art.svg, f"{name} drew nothing"
        assert "<text" not in art.svg and "<filter" not in art.svg and "filter=" not in art.svg
        for item in art.texts:
            assert box.contains(item.box), f"{name}: text '{item.text}' at {item.box} leaves {box}"
            assert item.text.strip(), f"{name}: empty text item {item.name}"
            assert item.min_size >= MIN_TEXT - 1e-6 or item.min_size == 0
        for rect in art.keepout:
            assert box.contains(rect), f"{name}: keepout {rect} leaves {box}"
        for anchor, (x, y) in art.anchors.items():
            assert box.inset(-1).contains_point(x, y), f"{name}: anchor {anchor} at {(x, y)} outside {box}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_prop_svg_rasterises(name, theme, trace):
    from renderer.raster import rasterize, svg_document
    art = draw(name, {}, theme, trace, box=Rect(10, 10, 900, 520))
    for layer in (art.svg, art.glow):
        img = rasterize(svg_document(920, 540, layer), zoom=0.25)
        assert img.size == (230, 135)
        assert img.getchannel("A").getbbox() is not None, f"{name}: nothing visible"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_prop_letters_without_overflow(name, theme, trace):
    """The real lettering fits every text item at or above the smallest legible size."""
    from renderer import lettering

    for box in BOXES[:2]:
        art = draw(name, {}, theme, trace, box=box)
        image = Image.new("RGBA", (int(box.x1) + 20, int(box.y1) + 20))
        shortened = []
        drawn = lettering.draw_text_items(image, art.texts, theme, f"test {name}", min_text=MIN_TEXT,
                                          shortened=shortened)
        assert len(drawn) == len(art.texts)
        for item, rect in zip(art.texts, drawn):       # every text lands inside its own box
            assert item.box.contains(rect, tol=1), (name, item.name, item.text, rect, item.box)
        assert [item.name for item, shown in shortened if not shown] == [], name   # none cut to nothing
        if any(t.text.strip() for t in art.texts):     # and nothing is lettered below the small print
            assert float(image.info[lettering.MIN_TEXT_KEY]) >= int(MIN_TEXT), name   # sizes are whole px


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_params_reject_unknown_fields(name):
    with pytest.raises(ValidationError):
        REGISTRY[name].params.model_validate({"no_such_field": 1})


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_drawing_is_deterministic(name, theme, trace):
    a = draw(name, {}, theme, trace)
    b = draw(name, {}, theme, trace)
    assert a.svg == b.svg and a.glow == b.glow
    assert [(t.text, t.box) for t in a.texts] == [(t.text, t.box) for t in b.texts]
    assert a.keepout == b.keepout and a.anchors == b.anchors


def test_data_props_name_the_model(theme, trace):
    for name, ptype in REGISTRY.items():
        if ptype.needs_demo:
            assert draw(name, {}, theme, trace).model == trace["model"]["display"], name


def test_data_props_without_a_demo_say_how_to_fix_it(theme):
    for name, ptype in REGISTRY.items():
        if ptype.needs_demo:
            with pytest.raises(PropError, match="demo"):
                draw(name, {}, theme, None)


def _cube_tokens(art):
    """(index, kind) of each drawn cube, in drawing order, from the SVG's markers."""
    return [(int(i), k) for i, k in re.findall(r'data-token="(-?\d+)" data-kind="(\w+)"', art.svg)]


def _token_text(art, i):
    """What cube i says: its lettered text, with each vector ␣ mark put back in place."""
    parts = [t.text for t in art.texts if t.name == f"token {i + 1}"]
    return "".join(parts)


def test_token_cubes_show_exactly_the_trace_tokens_in_order(theme, trace):
    art = draw("token_cubes", {}, theme, trace)
    tokens = trace["tokens"]
    assert _cube_tokens(art) == [(i, "token") for i in range(len(tokens))]
    ids = [t.text for t in art.texts if t.name.startswith("token id")]
    assert ids == [str(t["id"]) for t in tokens]
    for i, tok in enumerate(tokens):
        # the leading-space mark is drawn as a vector bracket (the mono font has no ␣); the rest is lettered
        assert _token_text(art, i) == tok["display"].lstrip(VISIBLE_SPACE)
    marks = art.svg.count("data-space-mark")
    assert marks == sum(t["display"].count(VISIBLE_SPACE) for t in tokens)
    assert art.model == trace["model"]["display"]


def test_token_cubes_accept_a_static_list(theme):
    art = draw("token_cubes", {"tokens": ["The", " cat", " sat"], "ids": [464, 3797, 3332]}, theme)
    assert [t.text for t in art.texts if t.name.startswith("token id")] == ["464", "3797", "3332"]
    assert art.model is None
    with pytest.raises(PropError, match="one id per token"):
        draw("token_cubes", {"tokens": ["a", "b"], "ids": [1]}, theme)


@pytest.mark.parametrize("box", [Rect(40, 30, 880, 500), Rect(40, 30, 880, 140), Rect(0, 0, 400, 900)])
def test_a_60_token_prompt_wraps_or_ends_in_an_ellipsis_cube_inside_the_box(theme, trace, box):
    t = long_trace(trace, 60)
    art = draw("token_cubes", {}, theme, t, box=box)
    cubes = _cube_tokens(art)
    shown = [i for i, k in cubes if k == "token"]
    assert shown == list(range(len(shown))), "tokens are shown in order, from the first"
    more = [t_.text for t_ in art.texts if t_.name == "token ellipsis"]
    if len(shown) < 60:
        assert more == [f"\u2026+{60 - len(shown)}"]
        assert cubes[-1] == (-1, "more")
    else:
        assert more == []
    for item in art.texts:
        assert box.contains(item.box)
        assert item.size >= MIN_TEXT - 1
    for rect in art.keepout:
        assert box.contains(rect)


def test_the_cube_layout_never_leaves_its_box():
    family = "JetBrains Mono"
    toks = [Token(f"{VISIBLE_SPACE}word{i}", i) for i in range(60)]
    for box in (Rect(0, 0, 900, 120), Rect(0, 0, 900, 600), Rect(0, 0, 300, 300)):
        layout = layout_cubes(toks, box, family=family, min_size=25, max_size=48)
        assert box.contains(layout.bounds())
        assert layout.size >= 25
        assert len([s for s in layout.slots if s.kind == "token"]) + layout.hidden == 60


def test_a_short_prompt_stays_on_one_row_when_it_can(theme, trace):
    art = draw("token_cubes", {}, theme, trace, box=Rect(0, 0, 900, 400))
    ys = {round(t.box.y) for t in art.texts if t.name.startswith("token id")}
    assert len(ys) == 1


def test_batch_grid_marks_exactly_the_mask_zero_cells_as_padding(theme, trace):
    art = draw("batch_grid", {}, theme, trace)
    drawn = {(int(r), int(c)): pad == "1" for r, c, pad in re.findall(r'data-cell="(\d+),(\d+)" data-pad="(\d)"', art.svg)}
    mask = trace["batch"]["attention_mask"]
    expected = {(r, c): m == 0 for r, row in enumerate(mask) for c, m in enumerate(row)}
    assert drawn == expected
    assert any(expected.values()) and not all(expected.values())
    pads = [t for t in art.texts if t.name.startswith("batch cell") and t.text == "PAD"]
    assert len(pads) == sum(expected.values())


def test_batch_cells_follow_the_mask_not_the_pad_id():
    batch = {"input_ids": [[5, 0, 0], [7, 8, 0]], "attention_mask": [[1, 0, 0], [1, 1, 1]],
             "tokens": [["a", "!", "!"], ["b", "c", "!"]]}
    cells = batch_cells(batch)
    assert [[c.pad for c in row] for row in cells] == [[False, True, True], [False, False, False]]


def test_batch_cells_fold_the_chat_template_around_each_question():
    # two chat inputs padded on the left: 2-token template head, the question, 1-token tail
    batch = {"chat": True, "question_spans": [[2, 5], [3, 5]],
             "input_ids": [[1, 9, 20, 21, 22, 2], [0, 1, 9, 30, 31, 2]],
             "attention_mask": [[1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]],
             "tokens": [["<s>", "user", "How", "do", "?", "</s>"], ["PAD", "<s>", "user", "Hi", "!", "</s>"]]}
    rows = batch_cells(batch, "question")
    assert [[c.display for c in row] for row in rows] == [["\u20262", "How", "do", "?", "\u20261"],
                                                       ["PAD", "\u20262", "Hi", "!", "\u20261"]]
    assert [[c.pad for c in row] for row in rows][1] == [True, False, False, False, False]
    assert [c.elided for c in rows[0]] == [2, 0, 0, 0, 1] and rows[0][0].id is None
    assert [c.col for c in rows[1]] == list(range(5))
    assert len(batch_cells(batch, "all")[0]) == 6 and len(batch_cells(dict(batch, chat=False), "question")[0]) == 6


def test_batch_grid_shows_ids_when_asked(theme, trace):
    art = draw("batch_grid", {"show_ids": True}, theme, trace, box=Rect(0, 0, 1200, 700))
    ids = [t.text for t in art.texts if t.name.startswith("batch id")]
    assert ids == [str(i) for row in trace["batch"]["input_ids"] for i in row]


def test_batch_grid_without_a_batch_says_how_to_get_one(theme, trace):
    t = dict(trace, batch=None)
    with pytest.raises(PropError, match="batch_with"):
        draw("batch_grid", {}, theme, t)


def test_prob_bars_show_the_top_k_in_order_with_percentages(theme, trace):
    art = draw("prob_bars", {"k": 4}, theme, trace)
    top = trace["next_token"]["top"][:4]
    percents = [t.text for t in art.texts if "percent" in t.name]
    assert len(percents) == 4
    for text, row in zip(percents, top):
        assert abs(float(text.rstrip("%")) - row["prob"] * 100) < 0.6
    hot = draw("prob_bars", {"temperature": 1.5}, theme, trace)
    assert "T = 1.5" in [t.text for t in hot.texts if t.name == "chart title"][0]
    with pytest.raises(PropError, match="temperature 0.7"):
        draw("prob_bars", {"temperature": 0.7}, theme, trace)


def _bars(svg: str) -> list[tuple[float, float]]:
    """(probability, bar width) of every bar drawn."""
    return [(float(p), float(w)) for w, p in re.findall(r'<rect[^>]*width="([0-9.]+)"[^>]*data-prob="([^"]+)"', svg)]


def _with_probs(trace, probs):
    t = copy.deepcopy(trace)
    for rows in [t["next_token"]["top"]] + [x["top"] for x in t["next_token"]["temperatures"]]:
        for row, p in zip(rows, probs):
            row["prob"] = p
    return t


def test_bars_share_one_absolute_scale_with_a_stub_for_tiny_probabilities(theme, trace):
    from renderer.props.prob_charts import bar_length

    assert bar_length(0.0, 500, 4) == 0 and bar_length(0.5, 500, 4) == 250 and bar_length(1.0, 500, 4) == 500
    assert bar_length(2e-5, 500, 4) == 4                          # visible, never read as zero
    # a random-weights model: every probability about 2e-5. No bar is drawn long.
    flat = draw("prob_bars", {"k": 5}, theme, _with_probs(trace, [2.1e-5, 2.0e-5, 1.9e-5, 1.8e-5, 1.7e-5]))
    widths = [w for _, w in _bars(flat.svg)]
    assert len(widths) == 5 and max(widths) == min(widths) and 0 < max(widths) < 10
    assert [t.text for t in flat.texts if "percent" in t.name][0] == "0.0021%"
    # peaked: the top bar nearly fills the track, the rest are stubs of the same width
    peaked = draw("prob_bars", {"k": 5}, theme, _with_probs(trace, [0.999, 2e-5, 1e-6, 1e-7, 0.0]))
    bars = _bars(peaked.svg)
    assert bars[0][1] > 50 * bars[1][1] and bars[1][1] == bars[2][1] == bars[3][1] and len(bars) == 4   # 0: no bar
    # temperature charts side by side: the same probability is the same length in every chart
    temps = draw("temperature_bars", {"k": 3}, theme, trace, box=Rect(0, 0, 1700, 500))
    track = max(w / p for p, w in _bars(temps.svg) if p > 0.05)
    for p, w in _bars(temps.svg):
        if p > 0.05:
            assert abs(w - track * p) < 1.0                      # length proportional to p on 0-100%


def test_long_token_labels_are_cut_with_an_ellipsis_not_an_error(theme, trace):
    t = copy.deepcopy(trace)
    t["next_token"]["top"][0]["display"] = "\u2423" + "=" * 80
    art = draw("prob_bars", {"k": 4}, theme, t, box=Rect(0, 0, 700, 400))
    label = "".join(x.text for x in art.texts if x.name == "bar token 1")
    assert label.endswith("\u2026") and len(label) < 40


def test_shape_flow_shows_the_real_shapes(theme, trace):
    art = draw("shape_flow", {}, theme, trace, box=Rect(0, 0, 1700, 300))
    shapes = [t.text for t in art.texts if t.name.startswith("shape ")]
    assert shapes[0] == "(1, 5)" and shapes[-1] == "(1, 5, 50257)"
    stages = [t.text for t in art.texts if t.name.startswith("stage ")]
    assert "12 blocks" in stages


def test_text_screen_shows_the_decoded_answer(theme, trace):
    art = draw("text_screen", {}, theme, trace)
    body = " ".join(t.text for t in art.texts if t.name.startswith("screen line"))
    assert body.startswith("AI is a new way")
    streamed = draw("text_screen", {"stream_tokens": 4}, theme, trace)
    lines = " ".join(t.text for t in streamed.texts if t.name.startswith("screen line"))
    expected = "".join(t["text"] for t in trace["strategies"]["greedy"]["tokens"][:4]).strip()
    assert lines == expected


def test_conveyor_belt_has_a_station_anchor_and_colour_per_station(theme):
    art = draw("conveyor_belt", {"stations": 4}, theme, box=Rect(0, 0, 1700, 600))
    assert {f"station{i}" for i in range(1, 5)} <= set(art.anchors)
    for i in range(1, 5):
        assert theme.station_color(i) in art.svg
    later = draw("conveyor_belt", {"stations": 3, "first": 4}, theme, box=Rect(0, 0, 1700, 600))
    assert {"station4", "station5", "station6"} <= set(later.anchors)
    with pytest.raises(ValidationError):
        REGISTRY["conveyor_belt"].params.model_validate({"stations": 2, "labels": ["a", "b", "c"]})


def test_conveyor_labels_fit_as_signs(theme):
    labels = ["1. PREPROCESSING", "2. BATCHING & PADDING", "3. MODEL FORWARD PASS", "4. DECODING",
              "5. POSTPROCESSING", "6. SERVING"]
    art = draw("conveyor_belt", {"labels": labels}, theme, box=Rect(0, 0, 1800, 700))
    signs = [t for t in art.texts if t.name.startswith("station label")]
    assert [t.text for t in signs] == labels
    for a in signs:
        for b in signs:
            if a is not b:
                assert not a.box.overlaps(b.box), f"signs '{a.text}' and '{b.text}' overlap"


def big_batch(trace, rows=3, n=40):
    t = copy.deepcopy(trace)
    lengths = [n, n // 3, n // 2][:rows]
    t["batch"] = {"prompts": ["p"] * rows, "pad_token": {"id": 50256, "text": "<|endoftext|>"}, "padding_side": "right",
                  "input_ids": [[100 + k for k in range(L)] + [50256] * (n - L) for L in lengths],
                  "attention_mask": [[1] * L + [0] * (n - L) for L in lengths],
                  "tokens": [[f"{VISIBLE_SPACE}tok{k}" for k in range(L)] + ["<|endoftext|>"] * (n - L) for L in lengths]}
    return t


def big_attention(trace, n=20):
    t = long_trace(trace, n)
    t["attention"] = {"layer": 3, "head": 1, "tokens": [x["display"] for x in t["tokens"]],
                      "weights": [[(1 / (i + 1) if j <= i else 0.0) for j in range(n)] for i in range(n)]}
    return t


LONG_TEXT = " ".join(["Tokens flow through every layer of the network, and each layer refines them."] * 30)
STRESS = [
    ("conveyor_belt", {"stations": 12, "labels": [f"{i}. A RATHER LONG STATION NAME" for i in range(1, 13)]}, None),
    ("text_screen", {"text": LONG_TEXT}, None),
    ("text_screen", {"source": "prompt", "font": "mono"}, "long"),
    ("chat_window", {"user": LONG_TEXT[:300], "answer": LONG_TEXT}, None),
    ("batch_grid", {"show_ids": True}, "batch"),
    ("attention_heatmap", {}, "attention"),
    ("tokenizer_compare", {}, "long"),
    ("kv_cache", {"steps": 40}, "long"),
    ("shape_flow", {"blocks": "ends"}, "trace"),
    ("char_stream", {"text": LONG_TEXT[:200]}, None),
    ("token_cubes", {"rainbow": True, "max_rows": 1}, "long"),
    ("neural_network", {"layers": [32, 2, 32]}, None),
    ("user_icon", {"count": 24}, None),
]


@pytest.mark.parametrize("name,params,data", STRESS, ids=[f"{s[0]}-{i}" for i, s in enumerate(STRESS)])
def test_props_under_stress_stay_in_their_box_and_letter(name, params, data, theme, trace):
    from renderer import lettering

    t = {"long": long_trace(trace, 60), "batch": big_batch(trace), "attention": big_attention(trace),
         "trace": trace, None: None}[data]
    box = Rect(30, 30, 1500, 600)
    art = draw(name, params, theme, t, box=box)
    for item in art.texts:
        assert box.contains(item.box), f"{name}: '{item.text}' leaves the box"
    for rect in art.keepout:
        assert box.contains(rect)
    image = Image.new("RGBA", (1600, 700))
    lettering.draw_text_items(image, art.texts, theme, f"stress {name}", min_text=MIN_TEXT)


def test_a_long_answer_is_cut_with_an_ellipsis_not_overflowing(theme):
    art = draw("text_screen", {"text": LONG_TEXT}, theme, box=Rect(0, 0, 700, 400))
    lines = [t for t in art.texts if t.name.startswith("screen line")]
    assert lines[-1].text.endswith("\u2026")
    assert all(Rect(0, 0, 700, 400).contains(t.box) for t in lines)


def book_trace(name="question"):
    return json.loads((Path(__file__).parent / "fixtures" / "book" / f"{name}.json").read_text())


def ended_by_eos(trace, source, n):
    """The trace with `source` answering its first n tokens, then the model's end token."""
    t = copy.deepcopy(trace)
    run = t["strategies"][source]
    eos = {"id": 2, "text": "<|im_end|>", "display": "<|im_end|>", "special": True}
    run["tokens"] = run["tokens"][:n] + [eos]
    run["text"] = "".join(tok["text"] for tok in run["tokens"][:n])
    run["stopped"] = "eos"
    return t


@pytest.mark.parametrize("source", ["greedy", "beam", "top_k", "top_p"])
def test_a_screen_says_how_the_answer_ended(theme, source):
    """Cut by the token limit: the text ends with '…' and a small line says where; stopped by the
    model: no '…', no blinking cursor (it is not still typing), and the count of answer tokens."""
    trace = book_trace()
    assert trace["strategies"][source]["stopped"] == "length"
    box = Rect(0, 0, 1200, 600)
    cut = draw("text_screen", {"source": source}, theme, trace, box=box)
    lines = [t for t in cut.texts if t.name.startswith("screen line")]
    assert lines[-1].text.endswith("\u2026")
    n = len(trace["strategies"][source]["tokens"])
    assert [t.text for t in cut.texts if t.name == "screen ending length"] == [f"cut at {n} tokens (the limit)"]

    done = draw("text_screen", {"source": source}, theme, ended_by_eos(trace, source, 5), box=box)
    lines = [t for t in done.texts if t.name.startswith("screen line")]
    assert not lines[-1].text.endswith("\u2026")
    assert [t.text for t in done.texts if t.name.startswith("screen ending")] == ["finished \u00b7 5 tokens"]
    cursor = draw("text_screen", {"source": source, "ending": False}, theme, ended_by_eos(trace, source, 5), box=box)
    assert cursor.svg.count("<rect") == done.svg.count("<rect") + 1, "only the unfinished look has a cursor"
    for art in (cut, done):
        assert all(box.contains(t.box) for t in art.texts)
        notes = [t for t in art.texts if t.name.startswith("screen ending")]
        assert all(not t.box.overlaps(n.box) for t in art.texts if t.name.startswith("screen line") for n in notes)


def test_a_streaming_screen_keeps_its_cursor_and_no_ending(theme):
    art = draw("text_screen", {"stream_tokens": 3}, theme, book_trace())
    assert not [t for t in art.texts if t.name.startswith("screen ending")]


def test_the_kv_cache_holds_the_chat_template_the_model_read(theme, trace):
    """A chat model caches the template's tokens too: the stack counts them ('+N template' slabs)
    so the prompt's slabs add up to every token the model read; a bare prompt has no such slab."""
    from renderer.props.kvcache import cache_tokens

    chat = book_trace()
    slabs = cache_tokens(chat)
    read = chat["shapes"][0]["shape"][-1]
    assert sum(s.folded or 1 for s in slabs if s.prompt) == read == len(chat["chat"]["tokens"])
    art = draw("kv_cache", {}, theme, chat, box=Rect(0, 0, 800, 1100))
    labels = [t.text for t in art.texts if t.name.startswith("slab token")]
    q0, q1 = chat["chat"]["question_span"]
    assert labels[0] == f"+{q0} template" and f"+{read - q1} template" in labels
    assert 'data-folded="0"' in art.svg and f'data-folded="{q0}"' in art.svg
    assert not any(s.folded for s in cache_tokens(trace)), "a bare prompt has no template"


def test_a_long_batch_cuts_columns_into_a_more_cell(theme, trace):
    art = draw("batch_grid", {}, theme, big_batch(trace, n=40), box=Rect(0, 0, 900, 500))
    more = [t.text for t in art.texts if t.name.startswith("batch row") and t.name.endswith("more")]
    assert more and all(m.startswith("\u2026+") for m in more)
    shown = {int(c) for c in re.findall(r'data-cell="0,(\d+)"', art.svg)}
    assert len(shown) + int(more[0][2:]) == 40


@pytest.mark.parametrize("name", ["question", "questions/quantum"])
@pytest.mark.parametrize("width", [380, 480, 1400])
def test_every_batch_row_adds_up_to_the_sequence_length(theme, name, width):
    """A chat batch folds the template into '…N' cells and cuts long rows into '…+N': in every row
    the tokens shown, the folded counts and the hidden count add up to the shape's sequence length."""
    trace = json.loads((Path(__file__).parent / "fixtures" / "book" / f"{name}.json").read_text())
    art = draw("batch_grid", {"users": False}, theme, trace, box=Rect(0, 0, width, 420))
    cells = batch_cells(trace["batch"], "question")
    length = trace["batch"]["shape"][1]
    more = {int(t.name.split()[2]) - 1: int(t.text[2:]) for t in art.texts
            if t.name.startswith("batch row") and t.name.endswith("more")}
    for r, row in enumerate(cells):
        shown = sorted(int(k) for k in re.findall(rf'data-cell="{r},(\d+)"', art.svg))
        assert sum(row[k].elided or 1 for k in shown) + more.get(r, 0) == length, f"row {r + 1}"
    assert more or width == 1400, "the narrow boxes should cut columns"


def test_prob_bars_elide_long_tokens_only_when_they_cannot_fit_whole(theme, trace):
    """A model with random weights (or any model's rare tokens) puts long tokens at tiny
    probabilities in the top k: the bars still draw, shortening those labels with "…"."""
    t = copy.deepcopy(trace)
    words = ["?", " genomes", " waterfall", " Shay"]
    t["next_token"]["top"] = [{"id": 100 + i, "text": w, "display": w.replace(" ", VISIBLE_SPACE, 1),
                               "prob": 4.5e-5 - i * 3e-6, "logit": 1.0} for i, w in enumerate(words)]
    box = Rect(20, 20, 362, 336)                     # page 5's next-token box
    art = draw("prob_bars", {"k": 4}, theme, t, box=box)
    labels = [x.text for x in art.texts if " token " in x.name]   # the ␣ marks are drawn, not lettered
    assert labels[0] == "?" and any(x.endswith("\u2026") for x in labels)
    for shown, word in zip(labels, words):        # each label whole, or a prefix of it cut with "…"
        assert shown == word.strip() or (shown.endswith("\u2026") and word.strip().startswith(shown[:-1]))
    assert all(box.contains(x.box) for x in art.texts)
    roomy = draw("prob_bars", {"k": 4}, theme, t, box=Rect(20, 20, 880, 500))
    assert [x.text for x in roomy.texts if " token " in x.name] == [w.strip() for w in words]
