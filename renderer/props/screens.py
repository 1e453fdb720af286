"""Holographic screens: text shown on a floating display, such as the model's decoded answer."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from live_demo.formatting import ELLIPSIS, plural

from ..geometry import Rect
from ..lettering import elide_to_fit
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
    strategies = need(trace, "strategies", "re-run the demo")
    if source not in strategies:
        raise PropError(f"the trace has no '{source}' output (it has: {', '.join(strategies)})")
    run = strategies[source]
    if stream_tokens is not None:
        return "".join(t["text"] for t in run["tokens"][:stream_tokens])
    return run["text"]


def run_ending(trace: dict, source: Source, stream_tokens: int | None) -> tuple[str, int] | None:
    """How a whole decoded output ended: ("length", tokens generated) when the token limit cut it,
    ("eos", answer tokens before the end token) when the model stopped itself; None for the prompt,
    a streaming cut or a trace that does not say."""
    if source == "prompt" or stream_tokens is not None:
        return None
    run = (trace.get("strategies") or {}).get(source) or {}
    tokens = run.get("tokens") or []
    if run.get("stopped") == "length":
        return "length", len(tokens)
    if run.get("stopped") == "eos":
        return "eos", len(tokens) - (1 if tokens and tokens[-1].get("special") else 0)
    return None


def ending_notes(ending: tuple[str, int]) -> list[str]:
    """The small line under a finished output, longest first (the screen takes the first that fits)."""
    how, n = ending
    if how == "length":
        return [f"cut at {plural(n, 'token')} (the limit)", f"cut at {plural(n, 'token')}", f"cut at {n}"]
    if n == 0:
        return ["no answer: it stopped at once", "no answer"]
    return [f"finished \u00b7 {plural(n, 'token')}", "finished"]


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
    rest = " ".join(lines[keep - 1:])     # the last line that shows, and all that does not
    last = elide_to_fit(rest, lambda cand: text_width(cand, family, lo, weight) <= width)
    return lo, lines[:keep - 1] + [last or ELLIPSIS], True


class TextScreen(DataParams):
    text: str | None = Field(None, description="Static text (may use Jinja); default: the demo's output.")
    source: Source = Field("greedy", description="With a demo: which output to show (or the prompt).")
    stream_tokens: int | None = Field(None, ge=0, description="Show only the first N generated tokens, as if streaming.")
    title: str | None = Field("answer", description="Title bar text ('' for no title bar).")
    cursor: bool = Field(True, description="A blinking block cursor after the text (a demo's whole output shows how it "
                         "ended instead, see `ending`).")
    ending: bool = Field(True, description=(
        "For a demo's whole output: show how it ended instead of a cursor. Cut by the token limit: the text ends "
        "with '…' over a small 'cut at N tokens'; stopped by the model's end token: 'finished · N tokens'."))
    font: Literal["narration", "mono"] = Field("narration", description="Body font: screen prose or code.")
    color: str | None = Field(None, description="Palette name or hex; default: station 5's accent.")


@prop("text_screen", TextScreen)
def text_screen(p: TextScreen, ctx: PropContext):
    """A floating holographic screen showing text: the decoded answer, streaming with a cursor."""
    c = Canvas("text_screen", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(5))
    if p.text is not None:
        raw = p.text
    elif ctx.demo is not None:
        raw = screen_text(ctx.demo, p.source, p.stream_tokens)
        c.model = ctx.demo["model"]["display"]
    else:
        raw = "AI learns patterns from lots of text, then predicts the next word, one token at a time."
    text = tidy(raw)
    ending = run_ending(ctx.demo, p.source, p.stream_tokens) if p.text is None and ctx.demo is not None and p.ending \
        else None
    if ending and ending[0] == "length" and not text.endswith(ELLIPSIS):
        text += ELLIPSIS
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
    show_cursor = p.cursor and ending is None
    if ending:
        note_h = lo * LINE_HEIGHT
        note_box = Rect(inner.x, inner.y1 - note_h, inner.w, note_h)
        note = next((n for n in ending_notes(ending) if text_width(n, c.theme.fonts.mono, lo) <= inner.w * 0.98),
                    ending_notes(ending)[-1])
        c.text(note, note_box, role="mono", size=lo, color=mix(color, "#ffffff", 0.35), align="left",
               name=f"screen ending {ending[0]}")
        inner = Rect(inner.x, inner.y, inner.w, inner.h - note_h * 1.25)
    cursor_room = CURSOR_W * hi * 1.6 if show_cursor else 0
    size, lines, cut = fit_lines(text or " ", family, inner.w - cursor_room, inner.h, lo, hi)
    pitch = size * LINE_HEIGHT * LINE_GAP
    body_color = lighten(color, 0.75)
    y = inner.y
    for i, line in enumerate(lines):
        if line:
            c.text(line, Rect(inner.x, y, inner.w, size * LINE_HEIGHT), role=p.font, size=size, color=body_color,
                   align="left", name=f"screen line {i + 1}")
        y += pitch
    if show_cursor and not cut:
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


class ChatWindow(DataParams):
    user: str | None = Field(None, description="The user's message; default: the demo's prompt.")
    answer: str | None = Field(None, description="The assistant's answer; default: the demo's output.")
    source: Source = Field("greedy", description="With a demo: which output is the answer.")
    stream_tokens: int | None = Field(None, ge=0, description="Show only the first N answer tokens, streaming.")
    title: str | None = Field("Chat", description="Window title ('' for none).")
    cursor: bool = Field(True, description="A cursor after the answer (it is still streaming).")


@prop("chat_window", ChatWindow)
def chat_window(p: ChatWindow, ctx: PropContext):
    """A chat app: the user's message on the right, the model's answer streaming in on the left."""
    c = Canvas("chat_window", p, ctx)
    box = c.box
    trace = ctx.demo
    user = p.user if p.user is not None else (trace["prompt"] if trace else "How does AI work?")
    if p.answer is not None:
        answer = p.answer
    elif trace is not None:
        answer = screen_text(trace, p.source, p.stream_tokens)
    else:
        answer = "AI learns patterns from lots of text, then predicts the next word, one token at a time."
    if trace is not None and (p.user is None or p.answer is None):
        c.model = trace["model"]["display"]
    user, answer = tidy(user), tidy(answer)
    frame_color = c.theme.palette["cyan"]
    user_color, bot_color = c.theme.station_color(1), c.theme.station_color(6)
    glass(c, box, frame_color, tint=0.88, opacity=0.9, radius=5 * c.u)
    pad = max(6 * c.u, c.min_text * 0.55)
    top = box.y + pad
    if p.title:
        bar_h = c.min_text * BAR
        c.svg.el("rect", x=box.x, y=box.y, width=box.w, height=bar_h + pad * 0.6, rx=5 * c.u,
                 fill=mix(frame_color, ink(c), 0.7), opacity="0.85")
        c.text(p.title, Rect(box.x + pad, box.y, box.w - 2 * pad, bar_h + pad * 0.6), role="label", weight=700,
               size=int(max(c.min_text, bar_h / LINE_HEIGHT * 0.8)), color=lighten(frame_color, 0.55), align="left",
               name="chat title")
        top = box.y + bar_h + pad * 1.3
    lo = math.ceil(c.min_text)
    family = c.theme.fonts.narration
    bubble_w = (box.w - 2 * pad) * 0.78
    text_w = bubble_w - 2 * pad
    avail = box.y1 - pad - top
    # one size for both bubbles: the largest at which both fit, the answer cut with "…" as a last resort
    chosen = None
    for s in range(max(lo, int(MAX_SIZE_U * c.u)), lo - 1, -1):
        u_lines = wrap(user, family, s, text_w)
        a_lines = wrap(answer, family, s, text_w - (CURSOR_W * s * 1.6 if p.cursor else 0))
        pitch = s * LINE_HEIGHT * LINE_GAP
        need = (len(u_lines) + len(a_lines)) * pitch + 4 * pad * 0.8 + pad
        if need <= avail:
            chosen = (s, u_lines, a_lines, False)
            break
    if chosen is None:
        # the smallest size: the question keeps the lines it needs up to half the room (cut with
        # "…" beyond), the answer the rest (at least one line, cut with "…")
        s = lo
        pitch = s * LINE_HEIGHT * LINE_GAP
        room = avail - 4 * pad * 0.8 - pad
        a_all = wrap(answer, family, s, text_w)
        u_all = wrap(user, family, s, text_w)
        u_keep = max(1, min(len(u_all), int((room - min(len(a_all), max(1, int(room / 2 // pitch))) * pitch)
                                            // pitch)))
        if u_keep < len(u_all):
            _, u_lines, _ = fit_lines(user, family, text_w, u_keep * pitch, lo, lo)
        else:
            u_lines = u_all
        _, a_lines, cut = fit_lines(answer, family, text_w, max(pitch, room - len(u_lines) * pitch), lo, lo)
        chosen = (s, u_lines, a_lines, cut)
    s, u_lines, a_lines, cut = chosen
    pitch = s * LINE_HEIGHT * LINE_GAP
    y = top
    for who, lines, color, right in (("user", u_lines, user_color, True), ("answer", a_lines, bot_color, False)):
        widest = max((text_width(line, family, s) for line in lines), default=0.0)
        if who == "answer" and p.cursor and not cut:
            widest = max(widest, text_width(lines[-1], family, s) + CURSOR_W * s * 1.6)
        bw = min(bubble_w, widest + 2 * pad)
        bh = len(lines) * pitch + 2 * pad * 0.8
        x = box.x1 - pad - bw if right else box.x + pad
        bubble = Rect(x, y, bw, bh)
        c.svg.el("rect", x=bubble.x, y=bubble.y, width=bubble.w, height=bubble.h, rx=min(bh / 2, 3 * pad),
                 fill=mix(color, ink(c), 0.62), stroke=color, stroke_width=1.1 * c.u)
        c.glow.el("rect", x=bubble.x, y=bubble.y, width=bubble.w, height=bubble.h, rx=min(bh / 2, 3 * pad), fill="none",
                  stroke=color, stroke_width=3 * c.u, opacity="0.7")
        ly = bubble.y + pad * 0.8
        for i, line in enumerate(lines):
            if line:
                c.text(line, Rect(bubble.x + pad, ly, bubble.w - 2 * pad, s * LINE_HEIGHT), role="narration", size=s,
                       color="#ffffff", align="left", name=f"{who} line {i + 1}")
            ly += pitch
        if who == "answer" and p.cursor and not cut:
            cx = bubble.x + pad + text_width(lines[-1], family, s) + s * 0.15
            cy = bubble.y + pad * 0.8 + (len(lines) - 1) * pitch + s * 0.12
            c.svg.el("rect", x=cx, y=cy, width=s * CURSOR_W, height=s * LINE_HEIGHT * 0.82, fill=lighten(color, 0.5))
            c.glow.el("rect", x=cx, y=cy, width=s * CURSOR_W, height=s * LINE_HEIGHT * 0.82, fill=color)
        c.anchor(who, bubble.cx, bubble.cy)
        y = bubble.y1 + pad * 0.8
    c.keep_clear(box)
    return c.art()
