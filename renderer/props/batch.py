"""The padded batch: several prompts as one rectangular grid of token cells.

Rows are prompts, columns positions. Cells whose attention mask is 0 are padding
and drawn as dim, see-through cubes, so the reader sees why the grid is
rectangular. `batch_cells` is the pure part the tests check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from live_demo.formatting import elide, printable, shape_text
from pydantic import Field

from ..geometry import Rect
from .base import PropContext, PropError, prop
from .data import DataParams, need
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import cube, glass, mono_line
from .people import user_glyph
from .svg import mix

# Proportions, as multiples of the cell text size s.
PAD_X = 0.35
PAD_Y = 0.28
ID_SCALE = 0.72
GAP = 0.30               # between cells
DEPTH = 0.10             # cube depth, of the cell height: a flat tile, the grid reads as one slab
HEADER = 2.0             # row header (user icon) width, in cell heights... of text size
FRAME_PAD = 0.6          # glass frame around the grid
MAX_SIZE_U = 20          # largest cell text in page units
MAX_CHARS = 10           # longer token texts are shortened with "…"


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    display: str
    id: int | None
    pad: bool
    elided: int = 0        # > 0: one cell standing for this many chat-template tokens


def batch_cells(batch: dict, part: str = "all") -> list[list[Cell]]:
    """The trace's batch as rows of cells; a cell is padding exactly when its attention mask is 0.

    part="question" (for a batch of chat-template inputs) keeps the padding and each question's
    tokens and folds the template's tokens before and after the question into one cell each.
    Every row's template is the same length, so the rows stay equally long."""
    spans = batch.get("question_spans") if part == "question" and batch.get("chat") else None
    rows = []
    for r, (ids, mask, toks) in enumerate(zip(batch["input_ids"], batch["attention_mask"], batch["tokens"])):
        cells = [Cell(r, k, printable(toks[k]), ids[k], mask[k] == 0) for k in range(len(ids))]
        if spans:
            q0, q1 = spans[r]
            pads = [cell for cell in cells[:q0] if cell.pad]
            before, after = q0 - len(pads), len(cells) - q1
            folded = pads + ([Cell(r, 0, f"\u2026{before}", None, False, before)] if before else []) + cells[q0:q1] \
                + ([Cell(r, 0, f"\u2026{after}", None, False, after)] if after else [])
            cells = [Cell(r, k, c.display, c.id, c.pad, c.elided) for k, c in enumerate(folded)]
        rows.append(cells)
    return rows


def tokens_in(cells: list[Cell]) -> int:
    """How many of the input's tokens these cells stand for (a folded cell stands for many)."""
    return sum(cell.elided or 1 for cell in cells)


def more_label(row: list[Cell], cols: int) -> str:
    """The cell that ends a row cut after `cols` cells: how many TOKENS the row hides, so that the
    row's shown tokens and this count add up to the sequence length in the shape caption."""
    return f"\u2026+{tokens_in(row[cols:])}"


class BatchGrid(DataParams):
    part: Literal["question", "all"] = Field("question", description=(
        "'question': padding and each prompt's own tokens, the chat template's tokens around them folded "
        "into one '…N' cell each; 'all': every column of the padded input."))
    show_ids: bool = Field(False, description="Show each cell's token id under its text.")
    pad_label: str = Field("PAD", description="What padding cells say (the pad token's text is usually long).")
    users: bool = Field(True, description="A user icon at the start of each row: every row is someone's request.")
    shape: bool = Field(True, description="Caption the grid with its tensor shape, e.g. 'input_ids (4, 6)'.")
    color: str | None = Field(None, description="Cell colour (palette name or hex); default: station 2's accent.")


@dataclass(frozen=True)
class GridPlan:
    size: int                  # cell text px
    id_size: int
    cell_h: float
    col_w: list[float]         # shown columns (plus the "…" column when columns are cut)
    cols: int                  # how many of the batch's columns are shown
    header: float              # row header (user icon) width, 0 for none
    labels: list[list[str]]
    width: float
    height: float

    @property
    def frame(self) -> float:
        return FRAME_PAD * self.size

    @property
    def gap(self) -> float:
        return GAP * self.size


def plan_grid(cells: list[list[Cell]], box: Rect, *, family: str, min_size: float, max_size: float, pad_label: str,
              show_ids: bool, users: bool, caption_h: float) -> GridPlan | None:
    """The largest legible grid in `box`. When it cannot fit, give up in this order: long token
    texts ("…"), the user icons, then the last columns (replaced by one "…" column)."""
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    lo, hi = math.ceil(min_size), max(math.ceil(min_size), int(max_size))
    tries = [(limit, users, n_cols) for limit in (MAX_CHARS, 6, 4)]
    tries += [(4, False, n_cols)] + [(4, False, k) for k in range(n_cols - 1, 0, -1)]
    for limit, with_users, cols in tries:
        labels = [[pad_label if cell.pad else elide(cell.display, limit) for cell in row[:cols]] for row in cells]
        for s in range(hi, lo - 1, -1):
            id_s = max(lo, int(s * ID_SCALE))
            cell_h = s * (2 * PAD_Y) + s * LINE_HEIGHT + ((id_s * LINE_HEIGHT + s * 0.05) if show_ids else 0)
            col_w = []
            for k in range(cols):
                w = max(text_width(row[k], family, s) for row in labels if k < len(row))
                if show_ids:
                    w = max(w, max(text_width("" if row[k].id is None else str(row[k].id), family, id_s)
                                   for row in cells if k < len(row)))
                col_w.append(w * 1.04 + 2 * PAD_X * s)
            if cols < n_cols:
                col_w.append(max(text_width(more_label(row, cols), family, s) for row in cells) * 1.04 + 2 * PAD_X * s)
            header = cell_h * 0.9 if with_users else 0.0
            width = header + sum(col_w) + GAP * s * (len(col_w) - 1) + cell_h * DEPTH + 2 * FRAME_PAD * s
            height = n_rows * cell_h + (n_rows - 1) * GAP * s + cell_h * DEPTH + 2 * FRAME_PAD * s + caption_h
            if width <= box.w and height <= box.h:
                return GridPlan(s, id_s, cell_h, col_w, cols, header, labels, width, height)
    return None


@prop("batch_grid", BatchGrid, needs_demo=True)
def batch_grid(p: BatchGrid, ctx: PropContext):
    """The demo's padded batch: rows of token cells, padding (mask 0) dim, with the tensor's shape."""
    c = Canvas("batch_grid", p, ctx)
    batch = need(c.trace(), "batch",
                 "give the demo other prompts to batch with: `batch_with: [...]` in novapress.yaml")
    cells = batch_cells(batch, p.part)
    n_rows, n_cols = len(cells), max(len(r) for r in cells)
    color = c.accent(c.theme.station_color(2))
    family = c.theme.fonts.mono
    box = c.box
    muted = c.theme.palette["muted"]
    caption_h = c.min_text * LINE_HEIGHT * 1.1 if p.shape else 0.0
    plan = plan_grid(cells, box, family=family, min_size=c.min_text, max_size=MAX_SIZE_U * c.u, pad_label=p.pad_label,
                     show_ids=p.show_ids, users=p.users, caption_h=caption_h)
    if plan is None:
        raise PropError(f"{n_rows} prompts do not fit a {box.w:.0f}x{box.h:.0f} px box at the smallest "
                        f"legible text; make the prop larger or batch fewer prompts")
    s, cell_h = plan.size, plan.cell_h
    dx = dy = cell_h * DEPTH
    x0 = box.x + (box.w - plan.width) / 2
    y0 = box.y + (box.h - plan.height) / 2
    grid_rect = Rect(x0, y0, plan.width, plan.height - caption_h)
    glass(c, grid_rect, color, tint=0.86, opacity=0.55, radius=3 * c.u)
    users = [c.theme.station_color(i) for i in (1, 5, 6, 4, 3, 2)]
    for r, row in enumerate(cells):
        y = y0 + plan.frame + dy + r * (cell_h + plan.gap)
        x = x0 + plan.frame
        if plan.header:
            user_glyph(c, x + plan.header * 0.45, y + cell_h * 0.08, cell_h * 0.84, users[r % len(users)],
                       device="none", detail=False)
            x += plan.header
        for k, cell in enumerate(row[:plan.cols]):
            face = Rect(x, y, plan.col_w[k], cell_h)
            c.svg.add(f'<g data-cell="{r},{k}" data-pad="{int(cell.pad)}">')
            cube(c, face, color, depth=(dx, dy * 0.8), dim=cell.pad, glow=0.6)
            c.svg.add("</g>")
            text_box = Rect(face.x + 1, face.y + PAD_Y * s, face.w - 2, s * LINE_HEIGHT)
            if not p.show_ids:
                text_box = Rect(face.x + 1, face.cy - s * LINE_HEIGHT / 2, face.w - 2, s * LINE_HEIGHT)
            quiet = cell.pad or bool(cell.elided)
            mono_line(c, plan.labels[r][k], text_box, s, color=muted if quiet else "#ffffff",
                      glow=None if quiet else color, name=f"batch cell {r + 1},{k + 1}")
            if p.show_ids and cell.id is not None:
                c.text(str(cell.id), Rect(face.x + 1, text_box.y1 + s * 0.05, face.w - 2, plan.id_size * LINE_HEIGHT),
                       role="mono", size=plan.id_size, color=muted if cell.pad else mix(color, "#ffffff", 0.55),
                       name=f"batch id {r + 1},{k + 1}")
            x += plan.col_w[k] + plan.gap
        if plan.cols < n_cols:
            face = Rect(x, y, plan.col_w[-1], cell_h)
            cube(c, face, color, depth=(dx, dy * 0.8), dim=True, glow=0.3)
            c.text(more_label(row, plan.cols), Rect(face.x + 1, face.cy - s * LINE_HEIGHT / 2, face.w - 2, s * LINE_HEIGHT),
                   role="mono", size=s, color=muted, name=f"batch row {r + 1} more")
    if p.shape:
        cap = Rect(x0, grid_rect.y1 + caption_h * 0.08, plan.width, caption_h * 0.92)
        size = int(max(c.min_text, min(s * 0.8, cap.h / LINE_HEIGHT)))
        shape = f"input_ids {shape_text(batch.get('shape') or [n_rows, n_cols])}"
        long = f"{shape}  \u00b7  dim = padding (mask 0)"
        text = long if text_width(long, family, size) <= cap.w else shape
        c.text(text, cap, role="mono", size=size, color=mix(color, "#ffffff", 0.5), name="batch shape")
    c.anchor("in", grid_rect.x, grid_rect.cy)
    c.anchor("out", grid_rect.x1, grid_rect.cy)
    c.anchor("top", grid_rect.cx, grid_rect.y)
    c.keep_clear(Rect(x0, y0, plan.width, plan.height))
    return c.art()
