"""Tensors and the network: a 3D block of cells, the real shapes through the model, layers of nodes."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from live_demo.formatting import shape_text

from ..errors import suggest
from ..geometry import Rect
from .base import PropContext, PropError, PropParams, prop
from .data import DataParams, need
from .kit import Canvas
from .measure import LINE_HEIGHT, text_width
from .paint import arrow_head, glass, ink, neon, particle
from .svg import darken, lighten, mix, num, path_d

# Tensor block proportions.
SKEW = 0.45             # depth direction: how far right each depth step goes, relative to up


class TensorGrid(DataParams):
    rows: int = Field(4, ge=1, le=32, description="Cells down the front face.")
    cols: int = Field(6, ge=1, le=48, description="Cells across the front face.")
    depth: int = Field(4, ge=1, le=32, description="Cells going back.")
    label: str | None = Field(None, description="Shape label; default '(B, T, d)' or the demo's real shape.")
    stage: str | None = Field(None, description="With a demo: label with the real shape at this stage ('embeddings').")
    color: str | None = Field(None, description="Palette name or hex; default: station 2's accent.")


@prop("tensor_grid", TensorGrid)
def tensor_grid(p: TensorGrid, ctx: PropContext):
    """A glowing 3D block of cells (a tensor) with its shape label underneath."""
    c = Canvas("tensor_grid", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(2))
    label = p.label
    caption = None
    if label is None and ctx.demo is not None:
        stage = p.stage or "embeddings"
        shapes = {s["stage"]: s["shape"] for s in need(ctx.demo, "shapes", "re-run the demo")}
        if stage not in shapes:
            raise PropError(f"the trace has no stage '{stage}'{suggest(stage, shapes)}")
        label = shape_text(shapes[stage])
        caption = stage
        c.model = ctx.demo["model"]["display"]
    if label is None:
        label = "(B, T, d)"
    # one line "embeddings (1, 5, 768)" if it fits, else the stage's name above its shape
    lines = [f"{caption} {label}"] if caption else [label]
    size = int(max(c.min_text, min(box.h * 0.11, 22 * c.u)))
    while size > c.min_text and text_width(lines[0], c.theme.fonts.mono, size) > box.w * 0.98:
        size -= 1
    if caption and text_width(lines[0], c.theme.fonts.mono, size) > box.w * 0.98:
        lines = [caption, label]
    label_h = size * LINE_HEIGHT * len(lines)
    area = Rect(box.x, box.y, box.w, box.h - label_h - size * 0.4)
    # cell size so that front (cols x rows) plus the receding depth fits the area
    k = SKEW
    cell = min(area.w / (p.cols + p.depth * k * 1.0), area.h / (p.rows + p.depth * k * 0.8))
    dxs, dys = cell * k, cell * k * 0.8       # one depth step
    fw, fh = p.cols * cell, p.rows * cell
    bw, bh = fw + p.depth * dxs, fh + p.depth * dys
    x0 = area.x + (area.w - bw) / 2
    y0 = area.y + (area.h - bh) / 2 + p.depth * dys     # front face top-left
    front = Rect(x0, y0, fw, fh)
    ddx, ddy = p.depth * dxs, p.depth * dys
    top = [(front.x, front.y), (front.x + ddx, front.y - ddy), (front.x1 + ddx, front.y - ddy), (front.x1, front.y)]
    side = [(front.x1, front.y), (front.x1 + ddx, front.y - ddy), (front.x1 + ddx, front.y1 - ddy), (front.x1, front.y1)]
    c.svg.el("path", d=path_d(top, True), fill=c.svg.linear([(0, lighten(color, 0.3), 0.55), (1, color, 0.35)]))
    c.svg.el("path", d=path_d(side, True), fill=c.svg.linear([(0, darken(color, 0.3), 0.55), (1, darken(color, 0.6), 0.45)], x2=1, y2=0))
    # front cells: values of different brightness, like activations
    for r in range(p.rows):
        for q in range(p.cols):
            v = c.rng.random()
            cx, cy = front.x + q * cell, front.y + r * cell
            c.svg.el("rect", x=cx + cell * 0.06, y=cy + cell * 0.06, width=cell * 0.88, height=cell * 0.88, rx=cell * 0.1,
                     fill=mix(mix(color, ink(c), 0.65), lighten(color, 0.3), v), opacity="0.92")
            if v > 0.75:
                c.glow.el("rect", x=cx, y=cy, width=cell, height=cell, fill=color, opacity=f"{v * 0.6:.2f}")
    grid = []
    for q in range(p.cols + 1):     # top face lines going back, front verticals
        x = front.x + q * cell
        grid.append(f"M{num(x)},{num(front.y1)} V{num(front.y)} l{num(ddx)},{num(-ddy)}")
    for r in range(p.rows + 1):
        y = front.y + r * cell
        grid.append(f"M{num(front.x)},{num(y)} H{num(front.x1)} l{num(ddx)},{num(-ddy)}")
    for d in range(1, p.depth + 1):
        ox, oy = d * dxs, d * dys
        grid.append(f"M{num(front.x + ox)},{num(front.y - oy)} H{num(front.x1 + ox)} V{num(front.y1 - oy)}")
    c.svg.el("path", d=" ".join(grid), fill="none", stroke=lighten(color, 0.5), stroke_width=0.8 * c.u, opacity="0.75")
    outline = [(front.x, front.y1), (front.x, front.y), (front.x + ddx, front.y - ddy), (front.x1 + ddx, front.y - ddy),
               (front.x1 + ddx, front.y1 - ddy), (front.x1, front.y1)]
    neon(c, path_d(outline, True), color, 1.6 * c.u)
    neon(c, f"M{num(front.x1)},{num(front.y)} l{num(ddx)},{num(-ddy)} M{num(front.x1)},{num(front.y)} V{num(front.y1)}",
         color, 1.2 * c.u, halo=0.5)
    for i, line in enumerate(lines):
        lab = Rect(box.x, box.y1 - label_h + i * size * LINE_HEIGHT, box.w, size * LINE_HEIGHT)
        c.text(line, lab, role="mono", size=size, color="#ffffff" if line == label else lighten(color, 0.5),
               glow=color if line == label else None, name="tensor shape" if line == label else "tensor stage")
    c.anchor("in", front.x, front.cy)
    c.anchor("out", front.x1 + ddx, front.cy - ddy / 2)
    c.anchor("top", front.cx + ddx / 2, front.y - ddy)
    c.keep_clear(Rect(x0, y0 - ddy, bw, box.y1 - (y0 - ddy)))
    return c.art()


class NeuralNetwork(PropParams):
    layers: list[int] = Field([4, 6, 6, 6, 3], min_length=2, max_length=16,
                              description="Nodes per layer, input to output.")
    color: str | None = Field(None, description="Palette name or hex; default: station 3's accent.")
    plates: bool = Field(True, description="Each layer on a translucent holographic plate.")
    pulses: int = Field(10, ge=0, le=100, description="Energy pulses travelling along connections.")

    def model_post_init(self, __context) -> None:
        if any(n < 1 or n > 32 for n in self.layers):
            raise ValueError("layers: each layer needs 1 to 32 nodes")


@prop("neural_network", NeuralNetwork)
def neural_network(p: NeuralNetwork, ctx: PropContext):
    """Layers of glowing nodes, densely connected, pulsing with energy: the model's forward pass."""
    c = Canvas("neural_network", p, ctx)
    box = c.box
    color = c.accent(c.theme.station_color(3))
    n = len(p.layers)
    biggest = max(p.layers)
    col_gap = box.w / n
    pitch = min(box.h * 0.9 / biggest, col_gap * 0.7)    # node spacing within a layer
    node_r = pitch * 0.32
    skew = col_gap * 0.06                                  # plates lean back: x shifts this much top to bottom
    xs = [box.x + col_gap * (i + 0.5) for i in range(n)]
    plate_half = [(count - 1) * pitch / 2 + node_r * 1.8 for count in p.layers]

    def lean(i: int, y: float) -> float:
        """x of layer i's plate at height y (the plate leans, so nodes follow it)."""
        return xs[i] - skew * (y - box.cy) / max(1.0, box.h / 2)

    layers = []
    for i, count in enumerate(p.layers):
        ys = [box.cy - (count - 1) * pitch / 2 + j * pitch for j in range(count)]
        layers.append([(lean(i, y), y) for y in ys])
    if p.plates:
        for i in range(n):
            top, bottom = box.cy - plate_half[i], box.cy + plate_half[i]
            w = node_r * 3.4
            shape = [(lean(i, top) - w / 2, top), (lean(i, top) + w / 2, top), (lean(i, bottom) + w / 2, bottom),
                     (lean(i, bottom) - w / 2, bottom)]
            c.svg.el("path", d=path_d(shape, True), fill=c.svg.linear([(0, mix(color, ink(c), 0.6), 0.55),
                                                                       (1, mix(color, ink(c), 0.85), 0.35)]),
                     stroke=color, stroke_width=0.9 * c.u, stroke_opacity="0.6")
            c.glow.el("path", d=path_d(shape, True), fill="none", stroke=color, stroke_width=2.5 * c.u, opacity="0.4")
    # connections: every node to every node of the next layer, faint; some bright
    faint, bright = [], []
    for i in range(n - 1):
        for a in layers[i]:
            for b in layers[i + 1]:
                seg = f"M{num(a[0])},{num(a[1])} L{num(b[0])},{num(b[1])}"
                (bright if c.rng.random() < 0.12 else faint).append(seg)
    c.svg.el("path", d=" ".join(faint), stroke=lighten(color, 0.2), stroke_width=0.6 * c.u, opacity="0.28", fill="none")
    if bright:
        neon(c, " ".join(bright), color, 1.1 * c.u, opacity=0.8, halo=0.6)
    for _ in range(p.pulses):
        i = c.rng.randrange(n - 1)
        a, b = c.rng.choice(layers[i]), c.rng.choice(layers[i + 1])
        t = c.rng.random()
        particle(c, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, node_r * 0.28, lighten(color, 0.3))
    for i, pts in enumerate(layers):
        for x, y in pts:
            energy = c.rng.random()
            fill = c.svg.radial([(0, "#ffffff", 1), (0.45, lighten(color, 0.35), 1), (1, mix(color, ink(c), 0.3), 1)],
                                cx=0.4, cy=0.35, r=0.65)
            c.svg.el("circle", cx=x, cy=y, r=node_r, fill=fill, stroke=lighten(color, 0.7), stroke_width=0.8 * c.u)
            c.glow.el("circle", cx=x, cy=y, r=node_r * (1.1 + 0.4 * energy), fill=color, opacity=f"{0.25 + 0.45 * energy:.2f}")
    c.anchor("in", box.x, box.cy)
    c.anchor("out", box.x1, box.cy)
    c.anchor("center", box.cx, box.cy)
    for i in range(n):
        c.anchor(f"layer{i + 1}", lean(i, box.cy - plate_half[i]), box.cy - plate_half[i])
    return c.art()


class ShapeFlow(DataParams):
    direction: Literal["auto", "horizontal", "vertical"] = Field("auto", description="Chips left to right or top to bottom.")
    blocks: Literal["collapse", "ends"] = Field("collapse", description=(
        "'collapse': all transformer blocks as one chip ('12 blocks'); 'ends': first block, '…', last block."))
    color: str | None = Field(None, description="Palette name or hex; default: station 3's accent.")


def shape_stages(shapes: list[dict], blocks: str) -> list[tuple[str, str]]:
    """(stage name, shape text) chips: the blocks collapsed so the flow stays short."""
    block_items = [s for s in shapes if s["stage"].startswith("block ")]
    out: list[tuple[str, str]] = []
    inserted = False
    for s in shapes:
        if s["stage"].startswith("block "):
            if inserted:
                continue
            inserted = True
            if blocks == "collapse" or len(block_items) <= 2:
                name = f"{len(block_items)} blocks" if len(block_items) > 1 else block_items[0]["stage"]
                out.append((name, shape_text(block_items[0]["shape"])))
            else:
                out.append((block_items[0]["stage"], shape_text(block_items[0]["shape"])))
                out.append(("\u2026", f"\u00d7{len(block_items) - 2}"))
                out.append((block_items[-1]["stage"], shape_text(block_items[-1]["shape"])))
            continue
        out.append((s["stage"], shape_text(s["shape"])))
    return out


@prop("shape_flow", ShapeFlow, needs_demo=True)
def shape_flow(p: ShapeFlow, ctx: PropContext):
    """The real tensor shapes through the model, stage by stage, as holographic chips on a neon path."""
    c = Canvas("shape_flow", p, ctx)
    box = c.box
    shapes = need(c.trace(), "shapes", "re-run the demo (its trace has no shapes)")
    stages = shape_stages(shapes, p.blocks)
    color = c.accent(c.theme.station_color(3))
    n = len(stages)
    family_label, family_mono = c.theme.fonts.label, c.theme.fonts.mono
    lo = math.ceil(c.min_text)
    gap_x, gap_y = 0.30, 0.45     # gaps between chips, of the chip's width / height

    def chip_size(s: int, inline: bool = False) -> tuple[float, float]:
        """Chip size: the stage's name above its shape, or (inline) both on one line."""
        name_w = max(text_width(a, family_label, s, 600) for a, _ in stages)
        shape_w = max(text_width(b, family_mono, s) for _, b in stages)
        if inline:
            return (name_w + shape_w) * 1.05 + s * 1.6, s * LINE_HEIGHT + s * 0.4
        return max(name_w, shape_w) * 1.05 + s * 1.0, s * LINE_HEIGHT * 2 + s * 0.7

    if p.direction == "horizontal":
        grids = [(1, n)]
    elif p.direction == "vertical":
        grids = [(n, 1)]
    else:   # one line if it fits, else the chips wrap in reading order
        grids = [(1, n), (n, 1)] + [(r, math.ceil(n / r)) for r in range(2, n)]
    best = None
    for inline in (False, True):
        for rows, cols in grids:
            for s in range(max(lo, int(22 * c.u)), lo - 1, -1):
                w, h = chip_size(s, inline)
                gy = gap_y * (0.45 if inline else 1.0)
                if cols * w + (cols - 1) * w * gap_x <= box.w and rows * h + (rows - 1) * h * gy <= box.h:
                    if best is None or s > best[0]:
                        best = (s, rows, cols, inline)
                    break
        if best is not None:
            break
    if best is None:
        w, h = chip_size(lo, True)
        raise PropError(f"{n} stages need chips of {w:.0f}x{h:.0f} px at the smallest legible text; "
                        f"the box ({box.w:.0f}x{box.h:.0f} px) holds too few: make it larger")
    size, rows, cols, inline = best
    w, h = chip_size(size, inline)
    xs = [box.x + w / 2 + (k * (box.w - w) / (cols - 1) if cols > 1 else (box.w - w) / 2) for k in range(cols)]
    ys = [box.y + h / 2 + (k * (box.h - h) / (rows - 1) if rows > 1 else (box.h - h) / 2) for k in range(rows)]
    centres = [(xs[i % cols], ys[i // cols]) for i in range(n)]
    # the path from chip to chip: straight along a row, a Z back to the start of the next row
    for i in range(n - 1):
        (x0, y0), (x1, y1) = centres[i], centres[i + 1]
        if abs(y1 - y0) < 1:
            a0, a1 = (x0 + w / 2, y0), (x1 - w / 2 - 1.5 * c.u, y1)
            d = f"M{num(a0[0])},{num(a0[1])} L{num(a1[0])},{num(a1[1])}"
            towards = (a1[0] - 10, a1[1])
        elif abs(x1 - x0) < 1:
            a0, a1 = (x0, y0 + h / 2), (x1, y1 - h / 2 - 1.5 * c.u)
            d = f"M{num(a0[0])},{num(a0[1])} L{num(a1[0])},{num(a1[1])}"
            towards = (a1[0], a1[1] - 10)
        else:
            mid = (y0 + h / 2 + y1 - h / 2) / 2
            a0, a1 = (x0, y0 + h / 2), (x1, y1 - h / 2 - 1.5 * c.u)
            d = f"M{num(a0[0])},{num(a0[1])} V{num(mid)} H{num(x1)} V{num(a1[1])}"
            towards = (a1[0], a1[1] - 10)
        neon(c, d, color, 1.8 * c.u, opacity=0.85)
        arrow_head(c, a1, towards, 5 * c.u, color)
        particle(c, (a0[0] + a1[0]) / 2, (a0[1] + a1[1]) / 2, 1.2 * c.u, lighten(color, 0.3))
    for i, ((name, shape), (cx, cy)) in enumerate(zip(stages, centres)):
        chip = Rect(cx - w / 2, cy - h / 2, w, h)
        accent = mix(color, c.theme.station_color(4), i / max(1, n - 1) * 0.6)
        glass(c, chip, accent, tint=0.8, opacity=0.85, radius=2.5 * c.u)
        inner = chip.inset(size * 0.4, size * (0.2 if inline else 0.3))
        if inline:
            name_w = text_width(name, family_label, size, 600) * 1.05
            c.text(name, Rect(inner.x, inner.y, name_w, inner.h), role="label", size=size, weight=600,
                   color=lighten(accent, 0.55), align="left", name=f"stage {i + 1}")
            c.text(shape, Rect(inner.x + name_w, inner.y, inner.w - name_w, inner.h), role="mono", size=size,
                   color="#ffffff", glow=accent, align="right", name=f"shape {i + 1}")
        else:
            c.text(name, Rect(inner.x, inner.y, inner.w, size * LINE_HEIGHT), role="label", size=size, weight=600,
                   color=lighten(accent, 0.55), name=f"stage {i + 1}")
            c.text(shape, Rect(inner.x, inner.y1 - size * LINE_HEIGHT, inner.w, size * LINE_HEIGHT), role="mono",
                   size=size, color="#ffffff", glow=accent, name=f"shape {i + 1}")
        c.anchor(f"stage{i + 1}", cx, chip.y)
    c.anchor("in", centres[0][0] - w / 2, centres[0][1])
    c.anchor("out", centres[-1][0] + w / 2, centres[-1][1])
    c.keep_clear(box)
    return c.art()
