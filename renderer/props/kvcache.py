"""The KV cache: one key slab and one value slab per token, the stacks growing a step at a time."""
from __future__ import annotations

import math
from dataclasses import dataclass

from live_demo.formatting import seconds
from pydantic import Field

from ..geometry import Rect
from .base import PropContext, prop
from .data import DataParams, static_tokens, trace_tokens
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import arrow_head, cube, mono_line
from .svg import lighten, mix, num

SLAB_GAP = 0.18          # between slabs, of the slab height
DEFAULT_TOKENS = ["The", " cat", " sat", " on", " the"]


class KvCache(DataParams):
    steps: int | None = Field(None, ge=1, le=64, description=(
        "Slabs per stack; default: the prompt's tokens plus three generated ones (as many as fit)."))
    tokens: bool = Field(True, description="Name the token each slab row belongs to.")
    timing: bool = Field(True, description="With a demo that measured it: the speed-up the cache buys.")


@dataclass(frozen=True)
class Slab:
    """One row of the stacks: a token, or (folded > 0) a run of chat-template tokens as one slab."""
    display: str
    prompt: bool
    folded: int = 0


def cache_tokens(trace: dict | None) -> list[Slab]:
    """What the cache holds, oldest first: every input token the model read (the chat template's
    tokens before and after the question folded into one '+N template' slab each, so the picture
    counts them without spending a slab on each), then the answer's tokens. The end token that
    stops generation is never fed back, so it has no keys or values."""
    if trace is None:
        return [Slab(t.display, k < 3) for k, t in enumerate(static_tokens(DEFAULT_TOKENS, None))]
    question = [Slab(t.display, True) for t in trace_tokens(trace)]
    chat = trace.get("chat")
    if chat and chat.get("tokens"):
        q0, q1 = chat["question_span"]
        before, after = q0, len(chat["tokens"]) - q1
        question = ([Slab(f"+{before} template", True, before)] if before else []) + question \
            + ([Slab(f"+{after} template", True, after)] if after else [])
    answer = (trace.get("strategies") or {}).get("greedy", {}).get("tokens", [])
    if answer and answer[-1].get("special"):
        answer = answer[:-1]
    return question + [Slab(t.display, False) for t in trace_tokens({"tokens": answer})]


@prop("kv_cache", KvCache)
def kv_cache(p: KvCache, ctx: PropContext):
    """Stacked K and V slabs, one per token: the newest just added, glowing; the measured speed-up below."""
    c = Canvas("kv_cache", p, ctx)
    box = c.box
    trace = ctx.demo
    if trace is not None:
        c.model = trace["model"]["display"]
    toks = cache_tokens(trace)
    n_prompt = sum(t.prompt for t in toks)
    k_color, v_color = c.theme.palette["blue"], c.theme.palette["magenta"]
    family = c.theme.fonts.mono
    lo = math.ceil(c.min_text)
    timing = trace.get("timing") if (trace is not None and p.timing) else None
    caption_h = lo * LINE_HEIGHT * 1.3 if timing else 0.0
    head_h = lo * LINE_HEIGHT * 1.3
    area = Rect(box.x, box.y + head_h, box.w, box.h - head_h - caption_h)
    slab_h = max(lo * LINE_HEIGHT * 1.05, area.h / 12)
    steps = p.steps or min(len(toks), n_prompt + 3)
    fit = max(1, int((area.h + slab_h * SLAB_GAP) / (slab_h * (1 + SLAB_GAP))))
    steps = max(1, min(steps, fit, len(toks)))
    shown = toks[:steps]
    slab_h = min(area.h / (steps * (1 + SLAB_GAP)), lo * LINE_HEIGHT * 2.2)
    size = int(max(lo, min(slab_h / LINE_HEIGHT * 0.8, 18 * c.u)))
    label_w = (max(text_width(t.display, family, size) for t in shown) * 1.05 + size * 0.6) if p.tokens else 0.0
    col_w = min((area.w - label_w) * 0.42, slab_h * 6)
    gap = (area.w - label_w - 2 * col_w) / 3
    xs = [area.x + label_w + gap, area.x + label_w + 2 * gap + col_w]
    depth = (slab_h * 0.35, slab_h * 0.28)
    for col, (x, name, color) in enumerate(zip(xs, ("K", "V"), (k_color, v_color))):
        c.text(name, Rect(x, box.y, col_w, head_h), role="label", size=int(min(head_h / LINE_HEIGHT, 22 * c.u)),
               weight=800, color="#ffffff", glow=color, name=f"{name} heading")
        for i, tok in enumerate(shown):
            y = area.y1 - (i + 1) * slab_h * (1 + SLAB_GAP) + slab_h * SLAB_GAP
            newest = i == steps - 1
            face = Rect(x, y + depth[1], col_w - depth[0], slab_h - depth[1])
            tint = color if i >= n_prompt else mix(color, c.theme.palette["muted"], 0.6 if tok.folded else 0.35)
            c.svg.add(f'<g data-slab="{name}{i}" data-new="{int(newest)}" data-folded="{tok.folded}">')
            cube(c, face, lighten(tint, 0.25) if newest else tint, depth=depth, glow=1.4 if newest else 0.35)
            c.svg.add("</g>")
            # a few cells on the slab: a key/value vector
            cells = 8
            d = " ".join(f"M{num(face.x + face.w * k / cells)},{num(face.y + face.h * 0.2)} v{num(face.h * 0.6)}"
                         for k in range(1, cells))
            c.svg.el("path", d=d, stroke=lighten(tint, 0.5), stroke_width=0.6 * c.u, opacity="0.6", fill="none")
            if newest and col == 1:
                tip = (x + col_w + gap * 0.08, face.cy)
                arrow_head(c, tip, (tip[0] + 10, tip[1]), min(gap * 0.3, 6 * c.u), lighten(color, 0.3))
        if col == 0 and p.tokens:
            for i, tok in enumerate(shown):
                y = area.y1 - (i + 1) * slab_h * (1 + SLAB_GAP) + slab_h * SLAB_GAP + depth[1]
                mono_line(c, tok.display, Rect(area.x, y + (slab_h - depth[1] - size * LINE_HEIGHT) / 2,
                                               label_w - size * 0.4, size * LINE_HEIGHT), size,
                          color="#ffffff" if i >= n_prompt else c.theme.palette["muted"],
                          glow=k_color if i == steps - 1 else None, align="right", name=f"slab token {i + 1}")
    if timing:
        full = (f"with cache {seconds(timing['with_cache_s'])} \u00b7 without {seconds(timing['without_cache_s'])} "
                f"\u00b7 {timing['speedup']:.1f}\u00d7")
        short = f"{timing['speedup']:.1f}\u00d7 faster with the cache"
        text = full if text_width(full, family, lo) <= box.w else short
        c.text(text, Rect(box.x, box.y1 - caption_h, box.w, caption_h), role="mono", size=lo,
               color=c.theme.palette["lime"], glow=None, name="cache timing")
    c.keep_clear(box)
    return c.art()
