"""Probability charts as props: the next-token top-k as bars (`prob_bars`; at several
temperatures side by side, `temperature_bars`) and one attention head's weights
(`attention_heatmap`).

Where the top-k probabilities become bars in a panel: `prob_bars` takes the trace's
next_token rows (`next_token_rows`) and `bar_rows` draws one bar per token. Bars are
holographic slabs with a neon edge; each row names its token (visible leading space, cut
with "…" when very long) and its probability. The chosen (most likely) token glows most.
Every bar is drawn on one absolute scale, 0 to 100%.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from live_demo.formatting import elide, pct, printable, token_display

from ..geometry import Rect
from .base import PropContext, PropError, prop
from .data import DataParams, need
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import glass, ink, mono_line
from .svg import lighten, mix, num

MAX_SIZE_U = 20          # largest bar text, in page units
ROW_GAP = 0.35           # between bars, of the row height
TRACK = 0.62             # bar thickness, of the row height


def next_token_rows(trace: dict, temperature: float | None, k: int) -> list[dict]:
    """The k likeliest next tokens of the trace (at `temperature`, or as trained when None)."""
    nt = need(trace, "next_token", "re-run the demo")
    if temperature is None:
        rows = nt["top"]
    else:
        found = [t for t in nt.get("temperatures", []) if math.isclose(t["t"], temperature)]
        if not found:
            have = ", ".join(str(t["t"]) for t in nt.get("temperatures", []))
            raise PropError(f"the trace has no bars at temperature {temperature} (it has: {have}); "
                            f"add it to the demo's temperatures in novapress.yaml")
        rows = found[0]["top"]
    return rows[:k]


LABEL_SHARE = 0.42       # the token labels take at most this much of a chart's width; longer ones are cut with "…"
STUB_U = 2.2             # a non-zero probability too small to see still gets a bar this wide (page units)


def _label_fit(label: str, family: str, size: float, room: float) -> str:
    """A token label cut with "…" to fit `room` px at `size` (the whole label when it fits)."""
    if text_width(label, family, size) <= room:
        return label
    for n in range(len(label) - 1, 0, -1):
        cut = elide(label, n)
        if text_width(cut, family, size) <= room:
            return cut
    return elide(label, 1)


def _labels(rows: list[dict], family: str, size: float, width: float) -> list[str]:
    room = max(size, width * LABEL_SHARE - size * 0.4)
    return [_label_fit(token_display(r), family, size, room / 1.04) for r in rows]


def bar_length(prob: float, track_w: float, stub: float) -> float:
    """A bar on the one absolute scale every chart shares (0 to 100%): exactly 0 draws nothing, and a
    probability too small to see still shows a thin stub, so it never looks like zero."""
    p = min(1.0, max(0.0, float(prob)))
    if p <= 0:
        return 0.0
    return min(track_w, max(stub, track_w * p))


def columns(rows: list[dict], family: str, size: float, width: float) -> tuple[float, float]:
    """(label column, percent column) widths for bars of `rows` in a chart `width` wide."""
    label_w = max(text_width(t, family, size) for t in _labels(rows, family, size, width)) * 1.04 + size * 0.4
    pct_w = max(text_width(pct(r["prob"]), family, size) for r in rows) * 1.04 + size * 0.3
    return label_w, pct_w


def bar_rows(c: Canvas, rows: list[dict], area: Rect, color: str, *, size: int, name: str,
             cols: tuple[float, float] | None = None) -> None:
    """Draw labelled bars for `rows` (dicts with display/text and prob) filling `area` top to bottom.

    Every bar is measured against 100%, in every chart: charts put side by side (given the same
    `cols`, so their tracks are equally long) compare honestly, and a flat distribution of tiny
    probabilities reads as tiny."""
    family = c.theme.fonts.mono
    n = len(rows)
    row_h = area.h / (n + (n - 1) * ROW_GAP)
    labels = _labels(rows, family, size, area.w)
    label_w, pct_w = cols or columns(rows, family, size, area.w)
    track_x = area.x + label_w
    track_w = max(1.0, area.w - label_w - pct_w)
    for i, (row, label) in enumerate(zip(rows, labels)):
        y = area.y + i * row_h * (1 + ROW_GAP)
        th = row_h * TRACK
        ty = y + (row_h - th) / 2
        first = i == 0
        accent = color if first else mix(color, c.theme.palette["muted"], 0.25)
        # track and bar
        c.svg.el("rect", x=track_x, y=ty, width=track_w, height=th, rx=th * 0.2, fill=mix(color, ink(c), 0.85),
                 opacity="0.7", stroke=mix(color, ink(c), 0.5), stroke_width=0.6 * c.u)
        bw = bar_length(row["prob"], track_w, STUB_U * c.u)
        if bw > 0:
            rx = min(th * 0.2, bw / 2)
            fill = c.svg.linear([(0, mix(accent, ink(c), 0.35), 0.95), (1, lighten(accent, 0.25), 1)], x2=1, y2=0)
            c.svg.el("rect", x=track_x, y=ty, width=bw, height=th, rx=rx, fill=fill, data_prob=f"{row['prob']:.6g}")
            c.svg.el("rect", x=track_x, y=ty, width=bw, height=th * 0.35, rx=min(th * 0.15, bw / 2), fill="#ffffff",
                     opacity="0.18")
            c.svg.el("path", d=f"M{num(track_x + bw)},{num(ty + th * 0.1)} V{num(ty + th * 0.9)}",
                     stroke=lighten(accent, 0.8), stroke_width=1.4 * c.u)
            c.glow.el("rect", x=track_x, y=ty, width=bw, height=th, rx=rx, fill=accent,
                      opacity="0.9" if first else "0.45")
        text_box = Rect(area.x, y, label_w - size * 0.3, row_h)
        mono_line(c, label, text_box, size, color="#ffffff" if first else lighten(c.theme.palette["muted"], 0.4),
                  glow=accent if first else None, align="right", name=f"{name} token {i + 1}")
        c.text(pct(row["prob"]), Rect(track_x + track_w + size * 0.15, y, pct_w - size * 0.15, row_h), role="mono",
               size=size, align="left", color=lighten(accent, 0.5), name=f"{name} percent {i + 1}")


def _fit_size(c: Canvas, rows: list[dict], area: Rect, *, max_u: float = MAX_SIZE_U) -> int | None:
    family = c.theme.fonts.mono
    n = len(rows)
    lo = math.ceil(c.min_text)
    for s in range(max(lo, int(max_u * c.u)), lo - 1, -1):
        row_h = area.h / (n + (n - 1) * ROW_GAP)
        label_w = max(text_width(t, family, s) for t in _labels(rows, family, s, area.w)) * 1.04 + s * 0.4
        pct_w = max(text_width(pct(r["prob"]), family, s) for r in rows) * 1.04 + s * 0.3
        if s * LINE_HEIGHT <= row_h and label_w + pct_w + area.w * 0.18 <= area.w:
            return s
    return None


class ProbBars(DataParams):
    k: int = Field(5, ge=1, le=20, description="How many of the most likely next tokens to show.")
    temperature: float | None = Field(None, gt=0, description="Show the bars at this temperature (one of the demo's).")
    title: str | None = Field("next token", description="Heading over the bars ('' for none).")
    color: str | None = Field(None, description="Palette name or hex; default: station 4's accent (decoding).")
    frame: bool = Field(True, description="A holographic glass panel behind the chart.")


def chart_frame(c: Canvas, color: str, title: str | None, frame: bool) -> tuple[Rect, int]:
    """The chart's glass panel and heading; returns the area left for the bars and the title size."""
    box = c.box
    if frame:
        glass(c, box, color, tint=0.84, opacity=0.8)
    pad = max(6 * c.u, c.min_text * 0.6) if frame else 0.0
    inner = box.inset(pad)
    title_size = 0
    if title:
        title_size = int(max(c.min_text, min(inner.h * 0.12, 20 * c.u)))
        th = title_size * LINE_HEIGHT
        c.text(title, Rect(inner.x, inner.y, inner.w, th), role="label", size=title_size, weight=700,
               color=lighten(color, 0.5), glow=color, align="left", name="chart title")
        inner = Rect(inner.x, inner.y + th * 1.25, inner.w, inner.h - th * 1.25)
    return inner, title_size


@prop("prob_bars", ProbBars, needs_demo=True)
def prob_bars(p: ProbBars, ctx: PropContext):
    """The model's top-k next tokens as glowing bars with their probabilities."""
    c = Canvas("prob_bars", p, ctx)
    trace = c.trace()
    color = c.accent(c.theme.station_color(4))
    rows = next_token_rows(trace, p.temperature, p.k)
    title = p.title
    if title and p.temperature is not None:
        title = f"{title} \u00b7 T = {p.temperature:g}"
    area, _ = chart_frame(c, color, title, p.frame)
    size = _fit_size(c, rows, area)
    if size is None:
        raise PropError(f"{len(rows)} bars do not fit a {c.box.w:.0f}x{c.box.h:.0f} px box at the smallest "
                        f"legible text; make the prop larger or lower k")
    bar_rows(c, rows, area, color, size=size, name="bar")
    c.keep_clear(c.box)
    c.anchor("in", c.box.x, c.box.cy)
    c.anchor("out", c.box.x1, c.box.cy)
    return c.art()


class TemperatureBars(DataParams):
    k: int = Field(5, ge=1, le=12, description="Top tokens per temperature.")
    title: str | None = Field("softmax temperature", description="Heading over the charts ('' for none).")
    frame: bool = Field(True, description="A holographic glass panel behind each chart.")


TEMPERATURE_COLORS = ("blue", "magenta", "amber", "red", "lime")   # cool to hot


@prop("temperature_bars", TemperatureBars, needs_demo=True)
def temperature_bars(p: TemperatureBars, ctx: PropContext):
    """The same next-token top-k at several temperatures, side by side on one 0-100% scale: low T sharpens, high T flattens."""
    c = Canvas("temperature_bars", p, ctx)
    trace = c.trace()
    temps = need(trace, "next_token", "re-run the demo").get("temperatures") or []
    if not temps:
        raise PropError("temperature_bars: the trace has no temperatures; list some in the demo's `temperatures:`")
    box = c.box
    title_h = 0.0
    if p.title:
        ts = int(max(c.min_text, min(box.h * 0.08, 20 * c.u)))
        title_h = ts * LINE_HEIGHT * 1.2
        c.text(p.title, Rect(box.x, box.y, box.w, ts * LINE_HEIGHT), role="label", size=ts, weight=700,
               color=c.theme.palette["text"], glow=c.theme.palette["cyan"], name="chart title")
    n = len(temps)
    rows_all = [t["top"][:p.k] for t in temps]
    body = Rect(box.x, box.y + title_h, box.w, box.h - title_h)
    best = None
    for across in (True, False):      # charts side by side, else stacked
        c_try = Canvas("temperature_bars", p, ctx)    # measure on a scratch canvas
        cells = _cells(body, n, across)
        areas = [_chart_area(c_try, cell, p.frame, c_try.min_text) for cell in cells]
        size = min((_fit_size(c_try, rows, area) or 0) for rows, area in zip(rows_all, areas))
        if size and (best is None or size > best[0]):
            best = (size, across)
    if best is None:
        raise PropError(f"{n} charts of {p.k} bars do not fit a {box.w:.0f}x{box.h:.0f} px box at "
                        f"the smallest legible text; make the prop larger or lower k")
    size, across = best
    areas, colors = [], []
    for i, (t, cell) in enumerate(zip(temps, _cells(body, n, across))):
        color = c.theme.color(TEMPERATURE_COLORS[i % len(TEMPERATURE_COLORS)])
        if p.frame:
            glass(c, cell, color, tint=0.85, opacity=0.78)
        area = _chart_area(c, cell, p.frame, c.min_text, heading=f"T = {t['t']:g}", color=color, index=i)
        areas.append(area)
        colors.append(color)
    # one label and one percent column width for every chart, so every track has the same length
    family = c.theme.fonts.mono
    widths = [columns(rows, family, size, area.w) for rows, area in zip(rows_all, areas)]
    cols = (max(w[0] for w in widths), max(w[1] for w in widths))
    for i, (rows, area, color) in enumerate(zip(rows_all, areas, colors)):
        bar_rows(c, rows, area, color, size=size, name=f"T{i + 1}", cols=cols)
    c.keep_clear(box)
    return c.art()


def _cells(body: Rect, n: int, across: bool) -> list[Rect]:
    gap = (body.w if across else body.h) * 0.025
    if across:
        w = (body.w - gap * (n - 1)) / n
        return [Rect(body.x + i * (w + gap), body.y, w, body.h) for i in range(n)]
    h = (body.h - gap * (n - 1)) / n
    return [Rect(body.x, body.y + i * (h + gap), body.w, h) for i in range(n)]


def _chart_area(c: Canvas, cell: Rect, frame: bool, min_text: float, *, heading: str | None = None,
                color: str = "#ffffff", index: int = 0) -> Rect:
    """The bars' area inside one temperature's cell, below its 'T = …' heading (lettered when given)."""
    pad = max(5 * c.u, min_text * 0.5) if frame else 0.0
    inner = cell.inset(pad)
    hs = int(max(min_text, min(inner.h * 0.1, 18 * c.u)))
    if heading:
        c.text(heading, Rect(inner.x, inner.y, inner.w, hs * LINE_HEIGHT), role="mono", size=hs,
               color=lighten(color, 0.5), glow=color, name=f"temperature {index + 1}")
    return Rect(inner.x, inner.y + hs * LINE_HEIGHT * 1.2, inner.w, inner.h - hs * LINE_HEIGHT * 1.2)


class AttentionHeatmap(DataParams):
    part: Literal["question", "all"] = Field("question", description=(
        "'question': rows and columns of the question's own tokens (the trace's question_span; a chat "
        "template's tokens around it left out); 'all': every token the model read (the last ones when "
        "they do not all fit)."))
    values: bool = Field(True, description="Write each weight in its cell when the cells are big enough.")
    title: str | None = Field(None, description="Heading; default 'attention · layer L, head H'.")
    color: str | None = Field(None, description="Palette name or hex; default: station 3's accent.")


def _heatmap_plan(labels: list[str], area: Rect, family: str, lo: int, hi: int):
    """(text size, shortened labels, row-label width, cell size, rows of column labels), or None."""
    n = len(labels)
    for limit in (12, 8, 5, 3):
        short = [elide(x, limit) for x in labels]
        for s in range(max(lo, hi), lo - 1, -1):
            widest = max(text_width(x, family, s) for x in short) * 1.05
            label_w = widest + s * 0.4
            for rows_top in (1, 2):
                cell = min((area.w - label_w) / n, (area.h - rows_top * s * LINE_HEIGHT) / n)
                if cell >= s * 0.9 and widest <= cell * (0.95 if rows_top == 1 else 1.9):
                    return s, short, label_w, cell, rows_top
    return None


@prop("attention_heatmap", AttentionHeatmap, needs_demo=True)
def attention_heatmap(p: AttentionHeatmap, ctx: PropContext):
    """The demo's attention map: which earlier token each token looks at, tokens on both axes."""
    c = Canvas("attention_heatmap", p, ctx)
    att = need(c.trace(), "attention",
               "record one with `attention: [layer, head]` in the demo (novapress.yaml)")
    box = c.box
    color = c.accent(c.theme.station_color(3))
    all_labels = [printable(t) for t in att["tokens"]]
    weights_all = att["weights"]
    if p.part == "question" and att.get("question_span"):
        q0, q1 = att["question_span"]
        all_labels = all_labels[q0:q1]
        weights_all = [row[q0:q1] for row in weights_all[q0:q1]]
    family = c.theme.fonts.mono
    lo = math.ceil(c.min_text)
    title = p.title if p.title is not None else f"attention \u00b7 layer {att['layer']}, head {att['head']}"
    ts = int(max(lo, min(box.h * 0.07, 18 * c.u)))
    title_h = ts * LINE_HEIGHT * 1.25 if title else 0.0
    area = Rect(box.x, box.y + title_h, box.w, box.h - title_h)
    # all tokens if they fit legibly, else the last ones (the most recent queries and keys)
    plan, start = None, 0
    for start in range(max(1, len(all_labels) - 1)):
        plan = _heatmap_plan(all_labels[start:], area, family, lo, int(18 * c.u))
        if plan:
            break
    if plan is None:
        raise PropError(f"the tokens do not fit a {box.w:.0f}x{box.h:.0f} px box at the smallest "
                        f"legible text; make the prop larger")
    n = len(all_labels) - start
    weights = [row[start:] for row in weights_all[start:]]
    if title:
        if start:
            title = f"{title} \u00b7 last {n} of {len(all_labels)} tokens"
        c.text(title, Rect(box.x, box.y, box.w, ts * LINE_HEIGHT), role="label", size=ts, weight=700,
               color=lighten(color, 0.5), glow=color, align="left", name="chart title")
    s, short, label_w, cell, rows_top = plan
    top_h = s * LINE_HEIGHT * rows_top
    grid_w = cell * n
    x0 = area.x + (area.w - label_w - grid_w) / 2 + label_w
    y0 = area.y + top_h + (area.h - top_h - cell * n) / 2
    ink_c = c.theme.palette["ink"]
    for i in range(n):           # query rows
        for j in range(n):       # key columns
            w = weights[i][j]
            fill = mix(mix(color, ink_c, 0.85), lighten(color, 0.35), min(1.0, w ** 0.6))
            x, y = x0 + j * cell, y0 + i * cell
            c.svg.el("rect", x=x + cell * 0.04, y=y + cell * 0.04, width=cell * 0.92, height=cell * 0.92, rx=cell * 0.08,
                     fill=fill, stroke=mix(color, ink_c, 0.4), stroke_width=0.5 * c.u,
                     data_weight=f"{w:.4f}", data_cell=f"{i},{j}")
            if w > 0.3:
                c.glow.el("rect", x=x, y=y, width=cell, height=cell, fill=color, opacity=f"{min(1.0, w):.2f}")
            if p.values and cell >= text_width("0.00", family, lo) * 1.15 and j <= i:
                vs = int(max(lo, min(s, cell * 0.3)))
                c.text(f"{w:.2f}", Rect(x, y + (cell - vs * LINE_HEIGHT) / 2, cell, vs * LINE_HEIGHT), role="mono", size=vs,
                       color="#ffffff" if w > 0.35 else lighten(color, 0.55), name=f"weight {i + 1},{j + 1}")
    # row (query) labels sit right next to the grid, as long as the room on the left allows
    room = x0 - area.x - s * 0.3
    row_labels = short
    for limit in (12, 8, 5):
        longer = [elide(x, limit) for x in all_labels[start:]]
        if max(text_width(x, family, s) for x in longer) * 1.05 <= room:
            row_labels = longer
            break
    for i, lab in enumerate(short):
        mono_line(c, row_labels[i], Rect(area.x, y0 + i * cell + (cell - s * LINE_HEIGHT) / 2, room, s * LINE_HEIGHT),
                  s, color=c.theme.palette["text"], align="right", name=f"query {i + 1}")
        row = i % rows_top
        ty = y0 - top_h + row * s * LINE_HEIGHT
        cx = x0 + i * cell + cell / 2
        tw = cell * (0.98 if rows_top == 1 else 1.95)
        tx = min(max(cx - tw / 2, box.x), box.x1 - tw)
        mono_line(c, lab, Rect(tx, ty, tw, s * LINE_HEIGHT), s, color=c.theme.palette["text"], name=f"key {i + 1}")
    c.keep_clear(box)
    c.anchor("grid", x0 + grid_w / 2, y0 + grid_w / 2)
    return c.art()
