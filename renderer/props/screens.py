"""Holographic screens: text shown on a floating display, such as the model's decoded answer."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from ..geometry import Rect
from .base import PropContext, PropError, prop
from .data import DataParams, need
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width, wrap
from .paint import corner_brackets, glass, ink
from .svg import lighten, mix

MAX_SIZE_U = 19          # largest body text, in page units
LINE_GAP = 1.12          # line pitch, of the line height (a little air between lines)
CURSOR_W = 0.55          # block cursor width, of the text size
BAR = 1.55               # title bar height, of the smallest legible text


Source = Literal["greedy", "top_k", "top_p", "beam", "prompt"]


def screen_text(trace: dict, source: Source, stream_tokens: int | None) -> str:
    if source == "prompt":
        return trace["prompt"]
    strategies = need(trace, "strategies", "text_screen", "re-run the demo")
    if source not in strategies:
        raise PropError(f"text_screen: the trace has no '{source}' output (it has: {', '.join(strategies)})")
    run = strategies[source]
    if stream_tokens is not None:
        return "".join(t["text"] for t in run["tokens"][:stream_tokens])
    return run["text"]


def tidy(text: str) -> str:
    """Generated text as a reader sees it on screen: no leading blank lines, single blank lines between paragraphs."""
    paras = [" ".join(p.split()) for p in text.strip().split("\n")]
    out: list[str] = []
    for para in paras:
        if para or (out and out[-1]):
            out.append(para)
    return "\n".join(out).strip()


def fit_lines(text: str, family: str, width: float, height: float, lo: int, hi: int,
              weight: int | None = None) -> tuple[int, list[str], bool]:
    """Largest size whose wrapped lines fit; at the smallest size, the lines that fit and an ellipsis."""
    for s in range(hi, lo - 1, -1):
        lines = wrap(text, family, s, width, weight)
        if len(lines) * s * LINE_HEIGHT * LINE_GAP <= height:
            return s, lines, False
    lines = wrap(text, family, lo, width, weight)
    keep = max(1, int(height // (lo * LINE_HEIGHT * LINE_GAP)))
    lines = lines[:keep]
    last = lines[-1]
    while last and text_width(last + " \u2026", family, lo, weight) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + " \u2026"
    return lo, lines, True


class TextScreen(DataParams):
    text: str | None = Field(None, description="Static text (may use Jinja); default: the demo's output.")
    source: Source = Field("greedy", description="With a demo: which output to show (or the prompt).")
    stream_tokens: int | None = Field(None, ge=0, description="Show only the first N generated tokens, as if streaming.")
    title: str | None = Field("answer", description="Title bar text ('' for no title bar).")
    cursor: bool = Field(True, description="A blinking block cursor after the text.")
    font: Literal["narration", "mono"] = Field("narration", description="Body font: screen prose or code.")
    color: str | None = Field(None, description="Palette name or hex; default: station 5's accent.")


@prop("text_screen", TextScreen)
def text_screen(p: TextScreen, ctx: PropContext):
    """A floating holographic screen showing text: the decoded answer, streaming with a cursor."""
    c = Canvas("text_screen", p, ctx)
    box = c.box
    color = c.theme.color(p.color) if p.color else c.theme.station_color(5)
    if p.text is not None:
        raw = p.text
    elif ctx.demo is not None:
        raw = screen_text(ctx.demo, p.source, p.stream_tokens)
        c.model = ctx.demo["model"]["display"]
    else:
        raw = "AI learns patterns from lots of text, then predicts the next word, one token at a time."
    text = tidy(raw)
    glass(c, box, color, tint=0.86, opacity=0.88, radius=4 * c.u)
    pad = max(6 * c.u, c.min_text * 0.55)
    inner = box.inset(pad)
    if p.title:
        bar_h = c.min_text * BAR
        bar = Rect(box.x, box.y, box.w, bar_h + pad * 0.6)
        c.svg.el("rect", x=bar.x, y=bar.y, width=bar.w, height=bar.h, rx=4 * c.u, fill=mix(color, ink(c), 0.6), opacity="0.8")
        c.svg.el("path", d=f"M{bar.x:.1f},{bar.y1:.1f} H{bar.x1:.1f}", stroke=color, stroke_width=1.0 * c.u, opacity="0.8")
        r = bar_h * 0.16
        for k, dot in enumerate((c.theme.palette["red"], c.theme.palette["amber"], c.theme.palette["lime"])):
            c.svg.el("circle", cx=bar.x + pad + r + k * r * 3, cy=bar.cy, r=r, fill=dot, opacity="0.9")
        title_x = bar.x + pad + r * 9
        c.text(p.title, Rect(title_x, bar.y, bar.x1 - pad - title_x, bar.h), role="label", weight=700,
               size=int(max(c.min_text, bar_h / LINE_HEIGHT * 0.8)), min_size=c.min_text, color=lighten(color, 0.55),
               align="left", name="screen title")
        inner = Rect(inner.x, bar.y1 + pad * 0.6, inner.w, box.y1 - pad - (bar.y1 + pad * 0.6))
    family = getattr(c.theme.fonts, p.font)
    lo = math.ceil(c.min_text)
    hi = max(lo, int(MAX_SIZE_U * c.u))
    cursor_room = CURSOR_W * hi * 1.6 if p.cursor else 0
    size, lines, cut = fit_lines(text or " ", family, inner.w - cursor_room, inner.h, lo, hi)
    pitch = size * LINE_HEIGHT * LINE_GAP
    body_color = lighten(color, 0.75)
    y = inner.y
    for i, line in enumerate(lines):
        if line:
            c.text(line, Rect(inner.x, y, inner.w, size * LINE_HEIGHT), role=p.font, size=size, color=body_color,
                   align="left", name=f"screen line {i + 1}")
        y += pitch
    if p.cursor and not cut:
        last = lines[-1] if lines else ""
        cx = inner.x + text_width(last, family, size) + size * 0.15
        cy = inner.y + (len(lines) - 1) * pitch
        cur = Rect(cx, cy + size * 0.12, size * CURSOR_W, size * LINE_HEIGHT * 0.82)
        c.svg.el("rect", x=cur.x, y=cur.y, width=cur.w, height=cur.h, fill=lighten(color, 0.5))
        c.glow.el("rect", x=cur.x, y=cur.y, width=cur.w, height=cur.h, fill=color)
    corner_brackets(c, box.inset(2 * c.u), color, width=1.2 * c.u)
    c.anchor("in", box.x, box.cy)
    c.anchor("out", box.x1, box.cy)
    c.anchor("top", box.cx, box.y)
    c.keep_clear(box)
    return c.art()
