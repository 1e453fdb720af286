"""Comic-style charts of live data: next-token probability bars (at one or several temperatures).

Bars are holographic slabs with a neon edge; each row names its token (visible
leading space) and its probability. The chosen (most likely) token glows most.
"""
from __future__ import annotations

import math

from pydantic import Field

from ..geometry import Rect
from .base import PropContext, PropError, prop
from .data import DataParams, need, printable, visible
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import glass, ink, mono_line
from .svg import lighten, mix, num

MAX_SIZE_U = 20          # largest bar text, in page units
ROW_GAP = 0.35           # between bars, of the row height
TRACK = 0.62             # bar thickness, of the row height


def pct(p: float) -> str:
    """A probability as a percentage a reader can compare: one decimal below 10 %."""
    v = p * 100
    return f"{v:.1f}%" if v < 10 else f"{v:.0f}%"


def top_tokens(trace: dict, temperature: float | None, k: int) -> list[dict]:
    nt = need(trace, "next_token", "prob_bars", "re-run the demo")
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


def _display(row: dict) -> str:
    return printable(row.get("display") or visible(row["text"]))


def bar_rows(c: Canvas, rows: list[dict], area: Rect, color: str, *, size: int, name: str, scale: float | None = None) -> None:
    """Draw labelled bars for `rows` (dicts with display/text and prob) filling `area` top to bottom."""
    family = c.theme.fonts.mono
    n = len(rows)
    row_h = area.h / (n + (n - 1) * ROW_GAP)
    labels = [_display(r) for r in rows]
    label_w = max(text_width(t, family, size) for t in labels) * 1.04 + size * 0.4
    pct_w = text_width("100%", family, size) * 1.04 + size * 0.3
    track_x = area.x + label_w
    track_w = max(1.0, area.w - label_w - pct_w)
    top = scale or max(r["prob"] for r in rows) or 1.0
    for i, (row, label) in enumerate(zip(rows, labels)):
        y = area.y + i * row_h * (1 + ROW_GAP)
        th = row_h * TRACK
        ty = y + (row_h - th) / 2
        first = i == 0
        accent = color if first else mix(color, c.theme.palette["muted"], 0.25)
        # track and bar
        c.svg.el("rect", x=track_x, y=ty, width=track_w, height=th, rx=th * 0.2, fill=mix(color, ink(c), 0.85),
                 opacity="0.7", stroke=mix(color, ink(c), 0.5), stroke_width=0.6 * c.u)
        bw = max(th * 0.3, track_w * row["prob"] / top)
        fill = c.svg.linear([(0, mix(accent, ink(c), 0.35), 0.95), (1, lighten(accent, 0.25), 1)], x2=1, y2=0)
        c.svg.el("rect", x=track_x, y=ty, width=bw, height=th, rx=th * 0.2, fill=fill)
        c.svg.el("rect", x=track_x, y=ty, width=bw, height=th * 0.35, rx=th * 0.15, fill="#ffffff", opacity="0.18")
        c.svg.el("path", d=f"M{num(track_x + bw)},{num(ty + th * 0.1)} V{num(ty + th * 0.9)}", stroke=lighten(accent, 0.8),
                 stroke_width=1.4 * c.u)
        c.glow.el("rect", x=track_x, y=ty, width=bw, height=th, rx=th * 0.2, fill=accent,
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
        label_w = max(text_width(_display(r), family, s) for r in rows) * 1.04 + s * 0.4
        pct_w = text_width("100%", family, s) * 1.04 + s * 0.3
        if s * LINE_HEIGHT <= row_h and label_w + pct_w + area.w * 0.25 <= area.w:
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
    trace = c.trace("prob_bars")
    color = c.theme.color(p.color) if p.color else c.theme.station_color(4)
    rows = top_tokens(trace, p.temperature, p.k)
    title = p.title
    if title and p.temperature is not None:
        title = f"{title} \u00b7 T = {p.temperature:g}"
    area, _ = chart_frame(c, color, title, p.frame)
    size = _fit_size(c, rows, area)
    if size is None:
        raise PropError(f"prob_bars: {len(rows)} bars do not fit a {c.box.w:.0f}x{c.box.h:.0f} px box at the smallest "
                        f"legible text; make the prop larger or lower k")
    bar_rows(c, rows, area, color, size=size, name="bar")
    c.keep_clear(c.box)
    c.anchor("in", c.box.x, c.box.cy)
    c.anchor("out", c.box.x1, c.box.cy)
    return c.art()
