"""Token cubes: a prompt's tokens as a row of glowing cubes, each with its text and id.

The layout is a pure function (layout_cubes) so tests can check it: cubes are
as wide as their text, rows wrap inside the box, and when even the smallest
legible text cannot hold every token the row ends in an ellipsis cube "…+N".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from live_demo.formatting import visible

from ..geometry import Rect
from .base import PropContext, PropParams, prop
from .data import DataParams, Token, model_name, static_tokens, trace_tokens
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import cube, cube_depth, mono_line, particle
from .svg import mix

# Proportions, as multiples of the token text size s.
ID_SCALE = 0.72         # id text size
PAD_X = 0.42            # padding left/right of the text on the cube face
PAD_Y = 0.30            # padding above/below
ID_GAP = 0.06           # between token text and id
CUBE_GAP = 0.38         # between neighbouring cubes (plus the cube's side face)
ROW_GAP = 0.55          # between rows
MIN_ASPECT = 0.82       # short tokens still look like cubes: width >= this * height
MAX_SIZE_U = 24         # largest token text, in page units (a few tokens should not shout)
WIDTH_SLACK = 1.04      # text boxes a little wider than the measured text


@dataclass(frozen=True)
class Slot:
    face: Rect                     # the cube's front face
    text: str
    id_text: str | None
    kind: Literal["token", "more"]
    index: int                     # position in the token list (-1 for the ellipsis cube)


@dataclass(frozen=True)
class CubeLayout:
    slots: list[Slot]
    size: int                      # token text px
    id_size: int                   # id text px
    depth: tuple[float, float]     # side/top face offset (dx, dy)
    hidden: int                    # tokens not shown (in the ellipsis cube)
    rows: int

    @property
    def text_h(self) -> float:
        return self.size * LINE_HEIGHT

    def bounds(self) -> Rect:
        dx, dy = self.depth
        x0 = min(s.face.x for s in self.slots)
        y0 = min(s.face.y for s in self.slots) - dy
        x1 = max(s.face.x1 for s in self.slots) + dx
        y1 = max(s.face.y1 for s in self.slots)
        return Rect(x0, y0, x1 - x0, y1 - y0)


def _metrics(s: int, min_size: float, show_ids: bool) -> tuple[int, float, tuple[float, float]]:
    id_size = max(math.ceil(min_size), int(s * ID_SCALE))
    face_h = s * (2 * PAD_Y) + s * LINE_HEIGHT
    if show_ids:
        face_h += s * ID_GAP + id_size * LINE_HEIGHT
    return id_size, face_h, cube_depth(face_h)


def _face_width(label: str, id_text: str | None, s: float, id_size: float, face_h: float, family: str) -> float:
    w = text_width(label, family, s) * WIDTH_SLACK
    if id_text:
        w = max(w, text_width(id_text, family, id_size) * WIDTH_SLACK)
    return max(w + 2 * PAD_X * s, face_h * MIN_ASPECT)


def _rows(widths: list[float], avail: float, gap: float, max_rows: int) -> list[list[int]] | None:
    """Greedy rows of slot indices; None when a slot alone is too wide or rows run out."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, w in enumerate(widths):
        if w > avail:
            return None
        need = w if not rows[-1] else used + gap + w
        if need <= avail:
            rows[-1].append(i)
            used = need
        else:
            if len(rows) == max_rows:
                return None
            rows.append([i])
            used = w
    return rows


ROW_PENALTY = 0.7       # a second row must buy text this much larger to be preferred


def layout_cubes(tokens: list[Token], box: Rect, *, family: str, min_size: float, max_size: float,
                 show_ids: bool = True, max_rows: int | None = None,
                 align: str = "center") -> CubeLayout:
    """Place token cubes in `box`: large text in few rows, wrapping, else an ellipsis cube.

    Sizes are whole pixels (the lettering draws whole-pixel sizes). Among the sizes
    that fit every token, the largest wins, but each extra row must pay for itself.
    """
    labels = [(t.display, str(t.id) if (show_ids and t.id is not None) else None) for t in tokens]
    lo = max(1, math.ceil(min_size))
    hi = max(lo, int(max_size))
    best: CubeLayout | None = None
    for s in range(hi, lo - 1, -1):
        layout = _try(labels, box, s, min_size, show_ids, max_rows, family, align, ellipsize=False)
        if layout is None:
            continue
        if best is None or _score(layout) > _score(best):
            best = layout
        if layout.rows == 1:
            break      # smaller text in one row only gets worse
    if best is not None:
        return best
    return _try(labels, box, lo, min_size, show_ids, max_rows, family, align, ellipsize=True)


def _score(layout: CubeLayout) -> float:
    return layout.size * ROW_PENALTY ** (layout.rows - 1)


def _try(labels, box: Rect, s: int, min_size: float, show_ids: bool, max_rows: int | None, family: str,
         align: str, *, ellipsize: bool) -> CubeLayout | None:
    id_size, face_h, (dx, dy) = _metrics(s, min_size, show_ids)
    row_h = face_h + dy
    row_gap = ROW_GAP * s
    fit_rows = int((box.h + row_gap + 1e-6) // (row_h + row_gap))
    rows_allowed = min(fit_rows, max_rows) if max_rows else fit_rows
    if rows_allowed < 1:
        if not ellipsize:
            return None
        rows_allowed = 1   # the box is smaller than one cube: one row, the lettering reports what does not fit
    gap = CUBE_GAP * s + dx
    widths = [_face_width(text, id_text, s, id_size, face_h, family) + dx for text, id_text in labels]
    shown = len(labels)
    rows = _rows(widths, box.w, gap, rows_allowed)
    if rows is None:
        if not ellipsize:
            return None
        # drop tokens from the end until the rest plus an ellipsis cube "…+N" fit
        for keep in range(len(labels) - 1, -1, -1):
            more_w = _face_width(f"\u2026+{len(labels) - keep}", None, s, id_size, face_h, family) + dx
            rows = _rows(widths[:keep] + [more_w], box.w, gap, rows_allowed)
            if rows is not None:
                shown = keep
                widths = widths[:keep] + [more_w]
                break
        if rows is None:
            return None
    hidden = len(labels) - shown
    total_h = len(rows) * row_h + (len(rows) - 1) * row_gap
    y = box.y + (box.h - total_h) / 2
    slots: list[Slot] = []
    for row in rows:
        row_w = sum(widths[i] for i in row) + gap * (len(row) - 1)
        x = box.x + {"left": 0.0, "center": (box.w - row_w) / 2, "right": box.w - row_w}[align]
        for i in row:
            face = Rect(x, y + dy, widths[i] - dx, face_h)
            if i < shown:
                text, id_text = labels[i]
                slots.append(Slot(face, text, id_text, "token", i))
            else:
                slots.append(Slot(face, f"\u2026+{hidden}", None, "more", -1))
            x += widths[i] + gap
        y += row_h + row_gap
    return CubeLayout(slots, s, id_size, (dx, dy), hidden, len(rows))


class TokenCubes(DataParams):
    tokens: list[str] | None = Field(None, description="Static token texts (when not showing a demo).")
    ids: list[int] | None = Field(None, description="Ids for the static tokens.")
    show_ids: bool = Field(True, description="Show each token's id under its text.")
    color: str | None = Field(None, description="Cube colour (palette name or hex); default: station 1's accent.")
    rainbow: bool = Field(False, description="Give neighbouring tokens different accents, as tokenizer demos do.")
    max_rows: int | None = Field(None, ge=1, description="At most this many rows; the rest goes into a '…+N' cube.")
    align: Literal["left", "center", "right"] = Field("center", description="Where the rows sit across the box.")
    sparkles: bool = Field(True, description="Light motes drifting off the cubes.")


DEFAULT_TOKENS = ["How", " does", " AI", " work", "?"]


def token_list(params: TokenCubes, trace: dict | None) -> list[Token]:
    if params.tokens is not None:
        return static_tokens(params.tokens, params.ids)
    if trace is not None:
        return trace_tokens(trace)
    return static_tokens(DEFAULT_TOKENS, None)


def draw_cubes(c: Canvas, layout: CubeLayout, colors: list[str], *, name: str = "token", dim: bool = False) -> None:
    """Draw laid-out cubes and queue their lettering (shared by token rows, padding and tokenizer rows).

    `dim` draws every cube as a see-through ghost (padding); the ellipsis cube is always dim.
    """
    muted = c.theme.palette["muted"]
    for n, slot in enumerate(layout.slots):
        color = colors[n % len(colors)]
        faded = dim or slot.kind == "more"
        f = slot.face
        c.svg.add(f'<g data-token="{slot.index}" data-kind="{slot.kind}">')
        cube(c, f, color, depth=layout.depth, dim=faded)
        c.svg.add("</g>")
        text_box = Rect(f.x + 1, f.y + PAD_Y * layout.size, f.w - 2, layout.text_h)
        if slot.kind == "more" or not slot.id_text:
            text_box = Rect(f.x + 1, f.cy - layout.text_h / 2, f.w - 2, layout.text_h)
        label = f"{name} {slot.index + 1}" if slot.kind == "token" else f"{name} ellipsis"
        mono_line(c, slot.text, text_box, layout.size, color=muted if faded else "#ffffff",
                  glow=None if faded else color, name=label)
        if slot.id_text:
            id_box = Rect(f.x + 1, text_box.y1 + ID_GAP * layout.size, f.w - 2, layout.id_size * LINE_HEIGHT)
            c.text(slot.id_text, id_box, role="mono", size=layout.id_size,
                   color=muted if faded else mix(color, "#ffffff", 0.55), name=f"{name} id {slot.index + 1}")


@prop("token_cubes", TokenCubes)
def token_cubes(p: TokenCubes, ctx: PropContext):
    """A row of glowing cubes, one per token: visible text and id. Wraps, or ends in '…+N'."""
    c = Canvas("token_cubes", p, ctx)
    data_bound = p.tokens is None and ctx.demo is not None
    tokens = token_list(p, ctx.demo)
    if data_bound:
        c.model = model_name(ctx.demo)
    family = c.theme.fonts.mono
    inner = c.box.inset(2 * c.u)
    layout = layout_cubes(tokens, inner, family=family, min_size=c.min_text,
                          max_size=max(c.min_text, MAX_SIZE_U * c.u), show_ids=p.show_ids,
                          max_rows=p.max_rows, align=p.align)
    base = c.accent(c.theme.station_color(1))
    colors = [c.theme.station_color(i + 1) for i in range(len(c.theme.stations))] if p.rainbow else [base]
    draw_cubes(c, layout, colors)
    if p.sparkles:
        b = layout.bounds()
        for _ in range(max(3, len(layout.slots))):
            x = c.rng.uniform(b.x, b.x1)
            y = b.y - c.rng.uniform(0.5, 3.0) * layout.depth[1]
            if c.box.contains_point(x, y):
                particle(c, x, y, c.rng.uniform(0.6, 1.2) * c.u, base, opacity=c.rng.uniform(0.4, 0.9))
    if layout.slots:
        first, last = layout.slots[0].face, layout.slots[-1].face
        c.anchor("first", first.cx, first.cy)
        c.anchor("last", last.cx, last.cy)
        c.anchor("in", first.x, first.cy)
        c.anchor("out", last.x1 + layout.depth[0], last.cy)
        c.keep_clear(layout.bounds())
    return c.art()


class PaddingCube(PropParams):
    text: str = Field("PAD", description="What the dim cube says (e.g. the pad token).")
    id: int | None = Field(None, description="Optional id under the text.")
    color: str | None = Field(None, description="Colour (palette name or hex); default: station 2's accent.")


@prop("padding_cube", PaddingCube)
def padding_cube(p: PaddingCube, ctx: PropContext):
    """One dim, see-through cube: the padding that fills a short sequence to the batch's length."""
    c = Canvas("padding_cube", p, ctx)
    # one cube alone may be big: as large as a third of the box height allows
    layout = layout_cubes([Token(p.text, p.id)], c.box.inset(2 * c.u), family=c.theme.fonts.mono,
                          min_size=c.min_text, max_size=max(c.min_text, c.box.h / 4.2), show_ids=p.id is not None)
    draw_cubes(c, layout, [c.accent(c.theme.station_color(2))], dim=True, name="padding")
    c.keep_clear(layout.bounds())
    return c.art()


class TokenizerRow(PropParams):
    name: str = Field(description="Which tokenizer ('GPT-2').")
    tokens: list[str] = Field(description="Its tokens of the text, in order.")
    ids: list[int] | None = Field(None, description="Their ids.")


class TokenizerCompare(DataParams):
    rows: list[TokenizerRow] | None = Field(None, description=(
        "Static rows. With a demo, its own tokenization comes first (and the trace's 'tokenizers', if any)."))
    show_ids: bool = Field(False, description="Show ids under the tokens.")
    counts: bool = Field(True, description="Say how many tokens each row has.")


def compare_rows(p: TokenizerCompare, trace: dict | None) -> list[tuple[str, list[Token]]]:
    rows: list[tuple[str, list[Token]]] = []
    if trace is not None:
        rows.append((trace["model"]["display"], trace_tokens(trace)))
        for extra in trace.get("tokenizers") or []:   # optional: other tokenizers of the same text
            rows.append((extra.get("display") or extra["name"], trace_tokens(extra)))
    for row in p.rows or []:
        rows.append((row.name, static_tokens(row.tokens, row.ids)))
    if len(rows) < 2:
        # the simplest other tokenizer of the same text: one token per character (its code point as id)
        text = trace["prompt"] if trace is not None else "How does AI work?"
        if not rows:
            rows.append(("GPT-2", static_tokens(DEFAULT_TOKENS, [2437, 857, 9552, 670, 30])))
        rows.append(("characters", [Token(visible(ch), ord(ch)) for ch in text]))
    return rows


@prop("tokenizer_compare", TokenizerCompare)
def tokenizer_compare(p: TokenizerCompare, ctx: PropContext):
    """The same text under two tokenizers: one row of cubes each, and how many tokens each needs."""
    c = Canvas("tokenizer_compare", p, ctx)
    rows = compare_rows(p, ctx.demo)
    if ctx.demo is not None:
        c.model = model_name(ctx.demo)
    box = c.box
    label_family, family = c.theme.fonts.label, c.theme.fonts.mono
    name_size = math.ceil(c.min_text)
    name_w = max(text_width(name, label_family, name_size, 700) for name, _ in rows) * 1.06 + name_size * 0.6
    count_w = (max(text_width(f"{len(t)} tokens", family, name_size) for _, t in rows) * 1.06 + name_size * 0.6
               if p.counts else 0.0)
    gap = box.h * 0.06
    row_h = (box.h - gap * (len(rows) - 1)) / len(rows)
    areas = [Rect(box.x + name_w, box.y + i * (row_h + gap), box.w - name_w - count_w, row_h) for i in range(len(rows))]
    max_size = max(c.min_text, MAX_SIZE_U * c.u)
    # one text size for all rows, so the rows compare fairly
    size = min(layout_cubes(t, a, family=family, min_size=c.min_text, max_size=max_size, show_ids=p.show_ids).size
               for (_, t), a in zip(rows, areas))
    palette = [c.theme.station_color(i + 1) for i in range(len(c.theme.stations))]
    for i, ((name, toks), area) in enumerate(zip(rows, areas)):
        layout = layout_cubes(toks, area, family=family, min_size=c.min_text, max_size=size, show_ids=p.show_ids,
                              align="left")
        draw_cubes(c, layout, palette[i::2] or palette, name=f"row {i + 1} token")
        accent_color = palette[(i * 3) % len(palette)]
        c.text(name, Rect(box.x, area.cy - name_size * LINE_HEIGHT / 2, name_w - name_size * 0.4, name_size * LINE_HEIGHT),
               role="label", size=name_size, weight=700, color="#ffffff", glow=accent_color, align="right",
               name=f"tokenizer {i + 1}")
        if p.counts:
            c.text(f"{len(toks)} tokens", Rect(area.x1 + name_size * 0.3, area.cy - name_size * LINE_HEIGHT / 2,
                                               count_w - name_size * 0.3, name_size * LINE_HEIGHT),
                   role="mono", size=name_size, color=mix(accent_color, "#ffffff", 0.5), align="left",
                   name=f"count {i + 1}")
    c.keep_clear(box)
    return c.art()
