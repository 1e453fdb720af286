"""The compositor: a validated storyboard (plus live traces) in, panel and page images out.

Per panel, back to front: background (renderer.scene) and props behind the cast with their
neon glow (renderer.prop_art), the cast (renderer.cast), props in front, the props' own
text, then labels, the model tag, narration boxes and balloons (renderer.panel_lettering).
The page: the grid of panels (renderer.layout.panel_rects), borders, title and page number.

Every problem found while drawing (author text too long even for an empty panel, a
template error) is collected with its file and line and raised together. A crowded
panel is not a problem: what has no clean spot degrades (renderer.layout.place_texts)
and is reported as a located warning in PageRender.warnings.
"""
from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from . import cast as cast_art, lettering, scene, workers
from .errors import InputError, Problem
from .geometry import Rect
from .layout import Obstacle, panel_rects
from .panel_lettering import letter_panel
from .prop_art import GLOW_ZOOM, add_art, draw_prop, prop_region
from .rendering import PageRender, PanelRender, Problems, RenderContext, render_text
from .storyboard import LoadedStoryboard, Panel


# --- page ---------------------------------------------------------------------------------------

def page_layout(sb: LoadedStoryboard, ctx: RenderContext) -> dict[str, Rect]:
    w, h = ctx.page_size
    t = ctx.theme.page
    has_header = t.header_height and sb.board.page > 0    # the cover carries its own title
    return panel_rects(w, h, sb.board.layout, margin=ctx.px(t.margin), gutter=ctx.px(t.gutter),
                       header=ctx.px(t.header_height) if has_header else 0.0,
                       footer=ctx.px(t.margin) * 0.35)


def render_page(sb: LoadedStoryboard, ctx: RenderContext, only_panel: str | set[str] | None = None,
                reuse: dict[str, PanelRender] | None = None) -> PageRender:
    """Draw the whole page (or, with only_panel, just that panel, or those panels, on an otherwise
    empty page). `reuse`: panels drawn before with the same inputs, placed as they are (a
    process that draws the same page for many questions redraws only the panels with data)."""
    reuse = reuse or {}
    theme = ctx.theme
    w, h = ctx.page_size
    rects = page_layout(sb, ctx)
    problems = Problems(sb)
    page = Image.new("RGBA", (w, h), theme.page.background)
    renders: dict[str, PanelRender] = {}
    only = {only_panel} if isinstance(only_panel, str) else only_panel
    wanted = [(pi, panel) for pi, panel in enumerate(sb.board.panels) if only is None or panel.id in only]
    jobs = [(sb, pi, panel, (int(rects[panel.id].w), int(rects[panel.id].h)), ctx)
            for pi, panel in wanted if panel.id not in reuse]
    done = [(reuse[panel.id], [], []) for _pi, panel in wanted if panel.id in reuse]
    for pr, items, warnings in done + workers.run_all(_panel_job, jobs):
        problems.items += items
        problems.warnings += warnings
        renders[pr.id] = pr
        rect = rects[pr.id]
        page.alpha_composite(pr.image, (int(rect.x), int(rect.y)))
    if problems.items:
        raise InputError(problems.items)
    renders = {panel.id: renders[panel.id] for _pi, panel in wanted}     # in the storyboard's order
    draw = ImageDraw.Draw(page)
    border = max(1, round(ctx.px(theme.page.border_width)))
    for pid in renders:
        x0, y0, x1, y1 = rects[pid].box()
        draw.rectangle((x0 - border // 2, y0 - border // 2, x1 + (border - 1) // 2, y1 + (border - 1) // 2),
                       outline=theme.page.border_color, width=border)
    _draw_header_footer(page, sb, ctx)
    return PageRender(page.convert("RGB"), renders, rects, problems.warnings)


def shows_data(panel: Panel) -> bool:
    """Whether a panel's pixels can depend on the traces: a prop that shows a demo, or any text
    that is a template (every other panel is the same for every question)."""
    if any(getattr(p, "demo", None) for p in panel.scene.props):
        return True
    text = json.dumps(panel.model_dump(mode="json"), ensure_ascii=False)
    return "{{" in text or "{%" in text


# Panels of a page are independent, and most of their time is resvg: they are drawn in worker
# processes (renderer.workers), side by side on a multi-core machine.

def _panel_job(job: tuple) -> tuple[PanelRender, list[Problem], list[Problem]]:
    sb, pi, panel, size, ctx = job
    problems = Problems(sb)
    return render_panel(sb, pi, panel, size, ctx, problems), problems.items, problems.warnings


def _draw_header_footer(page: Image.Image, sb: LoadedStoryboard, ctx: RenderContext) -> None:
    theme = ctx.theme
    margin = ctx.px(theme.page.margin)
    draw = ImageDraw.Draw(page)
    if theme.page.header_height and sb.board.page > 0:
        head = Rect(margin, margin * 0.35, page.width - 2 * margin, ctx.px(theme.page.header_height) + margin * 0.5)
        title = sb.board.title.upper()
        block = lettering.fit_block(title, theme.fonts.title, head.w * 0.8, head.h * 0.8,
                                    max_size=head.h * 0.8, min_size=ctx.px(theme.lettering.small_print),
                                    wrap_lines=False)
        if block is not None:
            x, y = lettering.place_block(block, head, "left", "middle")
            lettering.draw_glow_text(page, block, x, y, theme.palette["text"], theme.palette["cyan"], "left",
                                     radius=max(2, block.size / 7))
    if sb.board.page > 0:
        size = int(ctx.px(theme.lettering.small_print))
        block = lettering.make_block([str(sb.board.page)], theme.fonts.label, size, weight=700)
        foot = Rect(0, page.height - margin * 0.9, page.width, margin * 0.8)
        x, y = lettering.place_block(block, foot, "center", "middle")
        lettering.draw_block(draw, block, x, y, theme.palette["muted"])


# --- panel --------------------------------------------------------------------------------------

def render_panel(sb: LoadedStoryboard, pi: int, panel: Panel, size: tuple[int, int], ctx: RenderContext,
                 problems: Problems) -> PanelRender:
    theme, unit = ctx.theme, ctx.unit
    w, h = size
    base = ("panels", pi)
    seed = ctx.seed * 1000 + sb.board.page * 37 + pi
    tctx = _template_context(sb, ctx)
    out = PanelRender(panel.id, Image.new("RGBA", size))
    out.description = render_text(panel.description.strip(), tctx, base + ("description",), problems) or ""

    # 1. background and props (as art), behind and in front of the cast
    image, glow = scene.scene_layers(w, h, theme, background=panel.scene.background, floor=panel.scene.floor,
                                     horizon=panel.scene.horizon, particles=panel.scene.particles, seed=seed,
                                     unit=unit, glow_zoom=GLOW_ZOOM)
    back, front = [], []
    anchors: dict[str, tuple[float, float]] = {}
    keepout: list[Rect] = []
    data_texts: list = []
    texts = []
    for ri, spec in enumerate(panel.scene.props):
        art = draw_prop(spec, base + ("scene", "props", ri), Rect(0, 0, w, h), ctx, tctx, seed + ri, problems)
        if art is None:
            continue
        (front if spec.front else back).append((art, prop_region(spec, w, h, unit)))
        keepout += art.keepout
        if spec.demo:   # the text of model data (tokens, ids, numbers) is never covered by a balloon
            data_texts += art.texts
        texts += art.texts
        if spec.id:
            for name, point in art.anchors.items():
                anchors[f"{spec.id}.{name}"] = point
        if art.model and art.model not in out.models:
            out.models.append(art.model)
    add_art(image, glow, back, theme, unit)

    # 2. the cast
    figures = []
    for ci, c in enumerate(panel.cast):
        member = ctx.cast[c.who]
        # `height` is a scale shared by the cast: Kai and Tensor keep their size relative to Dr. Nova
        px = max(16, round(c.height * h * cast_art.relative_height(member.art)))
        fig = cast_art.render_figure(member.art, c.pose, c.expression, c.facing, px)
        # `at` is where the figure stands (or hovers): its base point, not its image's corner
        bx, by = fig.anchors.get("base", (fig.image.width / 2, fig.image.height))
        x = round(c.at[0] * w - bx)
        y = round(c.at[1] * h - by)
        figures.append((c, fig, x, y))
        out.faces[c.who] = fig.face.offset(x, y)
        head = fig.head.offset(x, y)
        out.heads[c.who] = Rect(min(head.x, out.faces[c.who].x), min(head.y, out.faces[c.who].y),
                                max(head.x1, out.faces[c.who].x1) - min(head.x, out.faces[c.who].x),
                                max(head.y1, out.faces[c.who].y1) - min(head.y, out.faces[c.who].y))
        out.bodies[c.who] = Rect(x, y, fig.image.width, fig.image.height)
        out.mouths[c.who] = (fig.mouth[0] + x, fig.mouth[1] + y)
    for (ci, a), (cj, b), share in cast_overlaps(figures):
        who_a, who_b = panel.cast[ci].who, panel.cast[cj].who
        problems.warn(base + ("cast", cj, "at"), (
            f"page {sb.board.page}, panel '{panel.id}': {ctx.cast[who_b].name} and {ctx.cast[who_a].name} overlap "
            f"({share:.0%} of the smaller figure is hidden behind the other); move one of them apart (at:), or make "
            f"one smaller (height:)"))
    for c, fig, x, y in figures:
        if not c.front:
            _paste(image, fig.image, x, y)
    if front:
        add_art(image, Image.new("RGBA", glow.size), front, theme, unit)
    for c, fig, x, y in figures:
        if c.front:
            _paste(image, fig.image, x, y)

    # 3. the props' own text (token text, ids, signs)
    shortened: list = []
    try:
        out.prop_texts = lettering.draw_text_items(image, texts, theme, f"page {sb.board.page}, panel '{panel.id}'",
                                                   min_text=ctx.px(theme.lettering.small_print),
                                                   file=sb.file, line=sb.where(*base)[0], shortened=shortened)
    except InputError as err:
        problems.items += err.problems
    cut = {id(item): shown for item, shown in shortened}
    out.prop_items = [(cut.get(id(item), item.text), r) for item, r in zip(texts, out.prop_texts)]
    out.shortened = [item.text for item, _ in shortened]

    # what no balloon or box may cover: faces, the model's data, the props' own lettering (signs
    # such as "GPU NODE"), the model tag and labels (added below). Balloons keep a tail's length
    # away from every head (face, hair, antenna).
    blocked = [Obstacle(hd.inset(-unit * 3), "face") for hd in out.heads.values()]
    for item, r in zip(texts, out.prop_texts):
        if r.area > 0:
            kind = "data" if any(item is d for d in data_texts) else "lettering"
            blocked.append(Obstacle(r.inset(-unit * 6), kind))   # with a little air around it
    # text that quotes a demo (a balloon with the real answer, a card with the real sizes) is
    # model data too: the panel names the model like one with a data prop
    for name in _demos_quoted(panel, sb.board.demos):
        model = ctx.traces[name]["model"]["display"] if name in ctx.traces else None
        if model and model not in out.models:
            out.models.append(model)

    # 4. lettering: labels, the model tag, narration, captions, balloons, in the author's order
    letter_panel(sb, pi, panel, image, out, ctx, tctx, anchors, keepout, blocked, problems)
    out.image = image
    return out


OVERLAP_SHARE = 0.35   # a figure hidden this much behind another reads as one body on top of the other


def cast_overlaps(figures: list) -> list[tuple[tuple[int, Any], tuple[int, Any], float]]:
    """Pairs of cast members whose drawn bodies (opaque pixels) overlap by more than OVERLAP_SHARE of
    the smaller one: (index and figure of the first, of the second, the share). Figures that stand
    side by side, or one a little in front of the other, stay below it."""
    found = []
    masks = [np.asarray(fig.image.getchannel("A")) > 32 for _c, fig, _x, _y in figures]
    for i in range(len(figures)):
        for j in range(i + 1, len(figures)):
            (_, fa, xa, ya), (_, fb, xb, yb) = figures[i], figures[j]
            x0, y0 = max(xa, xb), max(ya, yb)
            x1, y1 = min(xa + fa.image.width, xb + fb.image.width), min(ya + fa.image.height, yb + fb.image.height)
            if x1 <= x0 or y1 <= y0:
                continue
            both = (masks[i][y0 - ya:y1 - ya, x0 - xa:x1 - xa] & masks[j][y0 - yb:y1 - yb, x0 - xb:x1 - xb]).sum()
            smaller = min(masks[i].sum(), masks[j].sum())
            share = float(both) / smaller if smaller else 0.0
            if share > OVERLAP_SHARE:
                found.append(((i, fa), (j, fb), share))
    return found


def _demos_quoted(panel: Panel, demos: list[str]) -> list[str]:
    """The page's demos that the panel's drawn text or prop parameters refer to (descriptions don't draw)."""
    drawn = [t.text for t in panel.text] + [json.dumps(p.model_extra or {}) for p in panel.scene.props]
    text = "\n".join(s for s in drawn if "{" in s)
    if "demos" not in text:
        return []
    return [d for d in demos if re.search(rf"demos(\.{re.escape(d)}\b|\[\W*{re.escape(d)}\W*\])", text)]


def _template_context(sb: LoadedStoryboard, ctx: RenderContext) -> dict[str, Any]:
    demos = {name: ctx.traces[name] for name in sb.board.demos if name in ctx.traces}
    return {"demos": demos, "book": ctx.book, "page": sb.board.page, "title": sb.board.title}


def _paste(image: Image.Image, fig: Image.Image, x: int, y: int) -> None:
    """alpha_composite with negative offsets (figures may be cropped by the panel edge)."""
    sx, sy = max(0, -x), max(0, -y)
    if sx >= fig.width or sy >= fig.height or x >= image.width or y >= image.height:
        return
    image.alpha_composite(fig, (max(0, x), max(0, y)), (sx, sy))
