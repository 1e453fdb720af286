"""The compositor: a validated storyboard (plus live traces) in, panel and page images out.

Per panel, back to front: background (SVG) and props behind the cast, their neon glow
(rasterised small, blurred with Pillow, added underneath), the cast, props in front,
the props' own text, then labels, narration boxes and balloons placed by
renderer.layout, and a model tag on panels that show live data.

Every problem found while drawing (text that cannot fit, a balloon with no room, a
template error) is collected with its file and line and raised together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter
from pydantic import ValidationError

from . import balloons, cast as cast_art, lettering, scene, workers
from .errors import InputError, Problem, suggest
from .geometry import Rect
from .layout import PLACES, BoxRequest, label_room, panel_rects, place_boxes, tail_points
from .props import REGISTRY, PropArt, PropContext
from .raster import rasterize_region
from .storyboard import CastMember, LoadedStoryboard, Panel
from .templating import TemplateProblem, render as render_template
from .theme import Theme

GLOW_ZOOM = 0.25   # the glow layer is rasterised at a quarter size: it is blurred anyway


@dataclass
class Element:
    """One lettered thing, where it landed (panel pixels). Tests and transcripts read these."""

    kind: str                    # speech, thought, narration, label, caption, tag
    text: str
    box: Rect                    # the balloon or box
    text_box: Rect               # the text block inside it
    who: str | None = None
    tail: tuple | None = None    # (base_left, base_right, tip) of a speech tail
    index: int = -1              # position in the panel's text list (-1: added by the renderer)
    trail: tuple[float, float] | None = None   # where a thought balloon's bubble trail ends


@dataclass
class PanelRender:
    id: str
    image: Image.Image
    faces: dict[str, Rect] = field(default_factory=dict)      # who -> face box
    heads: dict[str, Rect] = field(default_factory=dict)      # who -> head box (face, hair, antenna)
    mouths: dict[str, tuple[float, float]] = field(default_factory=dict)
    bodies: dict[str, Rect] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    prop_texts: list[Rect] = field(default_factory=list)
    models: list[str] = field(default_factory=list)           # models whose data this panel shows
    description: str = ""                                     # the panel described in words (alt text)


@dataclass
class PageRender:
    image: Image.Image
    panels: dict[str, PanelRender]
    rects: dict[str, Rect]


@dataclass
class RenderContext:
    theme: Theme
    cast: dict[str, CastMember]
    traces: dict[str, dict]          # demo name -> trace
    page_size: tuple[int, int]
    seed: int = 42
    book: dict[str, Any] = field(default_factory=dict)

    @property
    def unit(self) -> float:
        """1/1000 of the page width: stroke widths and sizes scale with the page."""
        return self.page_size[0] / 1000

    def px(self, fraction_of_page_width: float) -> float:
        return fraction_of_page_width * self.page_size[0]


class _Problems:
    def __init__(self, sb: LoadedStoryboard):
        self.sb = sb
        self.items: list[Problem] = []

    def add(self, path: tuple, message: str) -> None:
        line, col = self.sb.source.locate(path)
        self.items.append(Problem(self.sb.file, line, col, message))


# --- page ---------------------------------------------------------------------------------------

def page_layout(sb: LoadedStoryboard, ctx: RenderContext) -> dict[str, Rect]:
    w, h = ctx.page_size
    t = ctx.theme.page
    has_header = t.header_height and sb.board.page > 0    # the cover carries its own title
    return panel_rects(w, h, sb.board.layout, margin=ctx.px(t.margin), gutter=ctx.px(t.gutter),
                       header=ctx.px(t.header_height) if has_header else 0.0,
                       footer=ctx.px(t.margin) * 0.35)


def render_page(sb: LoadedStoryboard, ctx: RenderContext, only_panel: str | None = None) -> PageRender:
    """Draw the whole page (or, with only_panel, just that panel on an otherwise empty page)."""
    theme = ctx.theme
    w, h = ctx.page_size
    rects = page_layout(sb, ctx)
    problems = _Problems(sb)
    page = Image.new("RGBA", (w, h), theme.page.background)
    renders: dict[str, PanelRender] = {}
    jobs = [(sb, pi, panel, (int(rects[panel.id].w), int(rects[panel.id].h)), ctx)
            for pi, panel in enumerate(sb.board.panels) if only_panel is None or panel.id == only_panel]
    for pr, items in workers.run_all(_panel_job, jobs):
        problems.items += items
        renders[pr.id] = pr
        rect = rects[pr.id]
        page.alpha_composite(pr.image, (int(rect.x), int(rect.y)))
    if problems.items:
        raise InputError(problems.items)
    draw = ImageDraw.Draw(page)
    border = max(1, round(ctx.px(theme.page.border_width)))
    for pid in renders:
        x0, y0, x1, y1 = rects[pid].box()
        draw.rectangle((x0 - border // 2, y0 - border // 2, x1 + (border - 1) // 2, y1 + (border - 1) // 2),
                       outline=theme.page.border_color, width=border)
    _draw_header_footer(page, sb, ctx)
    return PageRender(page.convert("RGB"), renders, rects)


# Panels of a page are independent, and most of their time is resvg: they are drawn in worker
# processes (renderer.workers), side by side on a multi-core machine.

def _panel_job(job: tuple) -> tuple[PanelRender, list[Problem]]:
    sb, pi, panel, size, ctx = job
    problems = _Problems(sb)
    return render_panel(sb, pi, panel, size, ctx, problems), problems.items


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
                 problems: _Problems) -> PanelRender:
    theme, unit = ctx.theme, ctx.unit
    w, h = size
    base = ("panels", pi)
    seed = ctx.seed * 1000 + sb.board.page * 37 + pi
    tctx = _template_context(sb, ctx)
    out = PanelRender(panel.id, Image.new("RGBA", size))
    out.description = _render_text(panel.description.strip(), tctx, base + ("description",), problems) or ""

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
        art = _draw_prop(spec, base + ("scene", "props", ri), Rect(0, 0, w, h), ctx, tctx, seed + ri, problems)
        if art is None:
            continue
        (front if spec.front else back).append((art, _prop_box(spec, w, h, unit)))
        keepout += art.keepout
        if spec.demo:   # the text of model data (tokens, ids, numbers) is never covered by a balloon
            data_texts += art.texts
        texts += art.texts
        if spec.id:
            for name, point in art.anchors.items():
                anchors[f"{spec.id}.{name}"] = point
        if art.model and art.model not in out.models:
            out.models.append(art.model)
    _add_art(image, glow, back, theme, unit)

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
    for c, fig, x, y in figures:
        if not c.front:
            _paste(image, fig.image, x, y)
    if front:
        _add_art(image, Image.new("RGBA", glow.size), front, theme, unit)
    for c, fig, x, y in figures:
        if c.front:
            _paste(image, fig.image, x, y)

    # 3. the props' own text (token text, ids, signs)
    try:
        out.prop_texts = lettering.draw_text_items(image, texts, theme, f"page {sb.board.page}, panel '{panel.id}'",
                                                   min_text=ctx.px(theme.lettering.small_print),
                                                   file=sb.file, line=sb.where(*base)[0])
    except InputError as err:
        problems.items += err.problems

    overlay: list[str] = []
    pending: list[tuple] = []
    # what no balloon or box may cover: faces, the model tag (and, below, labels)
    # balloons keep a tail's length away from every head (face, hair, antenna)
    blocked = [hd.inset(-unit * 3) for hd in out.heads.values()]
    blocked += [r for item, r in zip(texts, out.prop_texts) if any(item is d for d in data_texts)]
    # text that quotes a demo (a balloon with the real answer, a card with the real sizes) is
    # model data too: the panel names the model like one with a data prop
    for name in _demos_quoted(panel, sb.board.demos):
        model = ctx.traces[name]["model"]["display"] if name in ctx.traces else None
        if model and model not in out.models:
            out.models.append(model)

    # 4. lettering: labels, the model tag, narration, captions, balloons, in the author's order
    _letter_panel(sb, pi, panel, image, out, ctx, tctx, anchors, keepout, blocked, problems, overlay, pending)
    out.image = image
    return out


def _demos_quoted(panel: Panel, demos: list[str]) -> list[str]:
    """The page's demos that the panel's drawn text or prop parameters refer to (descriptions don't draw)."""
    import json
    import re

    drawn = [t.text for t in panel.text] + [json.dumps(p.model_extra or {}) for p in panel.scene.props]
    text = "\n".join(s for s in drawn if "{" in s)
    if "demos" not in text:
        return []
    return [d for d in demos if re.search(rf"demos(\.{re.escape(d)}\b|\[\W*{re.escape(d)}\W*\])", text)]


def _template_context(sb: LoadedStoryboard, ctx: RenderContext) -> dict[str, Any]:
    demos = {name: ctx.traces[name] for name in sb.board.demos if name in ctx.traces}
    return {"demos": demos, "book": ctx.book, "page": sb.board.page, "title": sb.board.title}


def _render_text(text: str, tctx: dict, path: tuple, problems: _Problems) -> str | None:
    try:
        return render_template(text, tctx)
    except TemplateProblem as err:
        problems.add(path, err.message)
        return None


def _render_params(value: Any, tctx: dict, path: tuple, problems: _Problems) -> Any:
    """Prop parameters may hold templates too (a screen showing the sampled answer)."""
    if isinstance(value, str):
        return _render_text(value, tctx, path, problems)
    if isinstance(value, list):
        return [_render_params(v, tctx, path + (i,), problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _render_params(v, tctx, path + (k,), problems) for k, v in value.items()}
    return value


def _draw_prop(spec, path: tuple, panel: Rect, ctx: RenderContext, tctx: dict, seed: int,
               problems: _Problems) -> PropArt | None:
    ptype = REGISTRY[spec.type]
    before = len(problems.items)
    raw = _render_params(dict(spec.model_extra or {}), tctx, path, problems)
    if len(problems.items) > before:      # a template in its parameters failed (reported)
        return None
    try:
        params = ptype.params.model_validate(raw)
    except ValidationError as err:        # a template rendered into a value of the wrong kind
        for e in err.errors():
            problems.add(path + tuple(e["loc"]), f"prop '{spec.type}': {'.'.join(map(str, e['loc']))}: {e['msg']}")
        return None
    x, y, w, h = spec.at
    box = Rect(panel.x + x * panel.w, panel.y + y * panel.h, w * panel.w, h * panel.h)
    demo = ctx.traces.get(spec.demo) if spec.demo else None
    if ptype.needs_demo and demo is None:
        problems.add(path, f"no live data for demo '{spec.demo}'")
        return None
    pctx = PropContext(box=box, theme=ctx.theme, unit=ctx.unit, demo=demo, seed=seed,
                       min_text=ctx.px(ctx.theme.lettering.small_print))
    try:
        art = ptype.draw(params, pctx)
        if demo is not None and art.model is None:   # whatever shows a demo's data names its model
            art.model = demo["model"]["display"]
        return art
    except InputError as err:
        problems.items += err.problems
    except ValueError as err:
        problems.add(path, f"prop '{spec.type}': {err}")
    return None


def _prop_box(spec, w: int, h: int, unit: float) -> tuple[int, int, int, int]:
    """The region a prop draws in (its box plus room for strokes and glow), clipped to the panel."""
    x, y, bw, bh = spec.at
    m = unit * 30
    return (max(0, int(x * w - m)), max(0, int(y * h - m)),
            min(w, int((x + bw) * w + m) + 1), min(h, int((y + bh) * h + m) + 1))


def _add_art(image: Image.Image, glow: Image.Image, arts: list[tuple[PropArt, tuple]], theme: Theme,
             unit: float) -> None:
    """Add props' glow (blurred, screened: light adds) and then their art onto `image`, in place."""
    for art, region in arts:
        if art.glow:
            x0, y0, x1, y1 = region
            g = rasterize_region(art.glow, region, zoom=GLOW_ZOOM)
            glow.alpha_composite(g, (int(x0 * GLOW_ZOOM), int(y0 * GLOW_ZOOM)))
    if glow.getbbox() is not None:
        radius = max(1.0, theme.scene.glow_radius * 1000 * unit * GLOW_ZOOM)
        halo = glow.filter(ImageFilter.GaussianBlur(radius)).resize(image.size, Image.BILINEAR)
        a = halo.getchannel("A").point(lambda v: min(255, int(v * theme.scene.glow_strength)))
        halo.putalpha(a)
        lit = ImageChops.screen(image.convert("RGB"), _premultiply(halo))
        image.paste(lit, (0, 0))
    for art, region in arts:
        if art.svg:
            image.alpha_composite(rasterize_region(art.svg, region), region[:2])


def _premultiply(img: Image.Image) -> Image.Image:
    black = Image.new("RGB", img.size)
    return Image.composite(img.convert("RGB"), black, img.getchannel("A"))


def _paste(image: Image.Image, fig: Image.Image, x: int, y: int) -> None:
    """alpha_composite with negative offsets (figures may be cropped by the panel edge)."""
    sx, sy = max(0, -x), max(0, -y)
    if sx >= fig.width or sy >= fig.height or x >= image.width or y >= image.height:
        return
    image.alpha_composite(fig, (max(0, x), max(0, y)), (sx, sy))


# --- lettering ------------------------------------------------------------------------------------

def _letter_panel(sb, pi, panel: Panel, image, out: PanelRender, ctx: RenderContext, tctx, anchors,
                  keepout: list[Rect], blocked: list[Rect], problems: _Problems, overlay: list[str],
                  pending: list[tuple]) -> None:
    """Place and draw every text element. `overlay` collects box shapes (SVG) and `pending` the
    text drawn on top of them, so all shapes rasterise in one pass."""
    theme, unit = ctx.theme, ctx.unit
    w, h = image.size
    pr = Rect(0, 0, w, h)
    inset = unit * 12
    base = ("panels", pi)
    where = f"page {sb.board.page}, panel '{panel.id}'"

    fonts = {"label": theme.fonts.label, "narration": theme.fonts.narration, "caption": theme.fonts.narration}
    rendered = []
    for ti, t in enumerate(panel.text):
        text = _render_text(t.text, tctx, base + ("text", ti, t.kind), problems)
        try:   # what the author wrote must be letterable; model output in it is drawn whatever it holds
            family = theme.fonts.title if t.font == "title" else fonts.get(t.kind, theme.fonts.lettering)
            lettering.runs(t.text, family)
        except lettering.MissingGlyph as err:
            problems.add(base + ("text", ti, t.kind), f"{where}: {err}")
            text = None
        rendered.append(text)

    # labels first: they belong to the scene, and balloons must keep clear of them
    label_anchors = [u.anchor for u in panel.text if u.kind == "label"]
    fitted: dict[int, tuple] = {}
    for ti, t in enumerate(panel.text):
        if t.kind != "label" or rendered[ti] is None:
            continue
        try:
            glow = theme.color(t.color) if t.color else theme.label.glow
        except KeyError:
            problems.add(base + ("text", ti, "color"), f"{where}: unknown colour '{t.color}'"
                                                       f"{suggest(t.color, theme.palette)} (or give a #rrggbb colour)")
            continue
        max_w = label_room(t.anchor, anchors, label_anchors, w - 2 * inset, gap=unit * 16)
        family = theme.fonts.title if t.font == "title" else theme.fonts.label
        size = ctx.px(theme.lettering.size) * (t.size or 1.0)
        block = _fit_label(rendered[ti], family, max_w, h * 0.3, size, ctx)
        if block is None:
            problems.add(base + ("text", ti), f"{where}: label '{rendered[ti]}' does not fit the panel; shorten it")
            continue
        fitted[ti] = (block, family, max_w, glow)
    # signs on the same prop (a row of stations) share one size, the smallest, so they read as a set
    groups: dict[str, list[int]] = {}
    for ti in fitted:
        anchor = panel.text[ti].anchor
        if anchor:
            groups.setdefault(anchor.split(".")[0], []).append(ti)
    for members in groups.values():
        smallest = min(fitted[ti][0].size for ti in members)
        for ti in members:
            block, family, max_w, glow = fitted[ti]
            if block.size > smallest:
                block = _fit_label(rendered[ti], family, max_w, h * 0.3, smallest, ctx) or block
                fitted[ti] = (block, family, max_w, glow)
    for ti, (block, family, max_w, glow) in fitted.items():
        t = panel.text[ti]
        color = theme.palette["text"]
        if t.anchor and t.anchor in anchors:
            ax, ay = anchors[t.anchor]
            cx, cy = ax, ay - block.h / 2 - unit * 4
        elif t.anchor:
            problems.add(base + ("text", ti, "anchor"), f"{where}: the prop has no anchor '{t.anchor.split('.', 1)[1]}'"
                         f"; it offers: {', '.join(sorted(a.split('.', 1)[1] for a in anchors if a.startswith(t.anchor.split('.')[0] + '.'))) or 'none'}")
            continue
        elif t.at:
            cx, cy = t.at[0] * w, t.at[1] * h
        else:
            fx, fy = PLACES[t.place or "top"]
            cx = inset + block.w / 2 + fx * (w - 2 * inset - block.w)
            cy = inset + block.h / 2 + fy * (h - 2 * inset - block.h)
        x = min(max(cx - block.w / 2, inset), w - inset - block.w)
        y = min(max(cy - block.h / 2, inset), h - inset - block.h)
        lettering.draw_glow_text(image, block, x, y, color, glow, "center", radius=max(2, block.size / 5))
        r = Rect(x, y, block.w, block.h)
        blocked.append(r.inset(-unit * 4))   # balloons never cover a label (same rule as faces)
        out.elements.append(Element("label", rendered[ti], r, r, index=ti))

    # a small tag naming the model whose data the panel shows: placed before the narration and
    # balloons (they then keep clear of it), where it hides least of the art, never on a label or face
    if out.models:
        blocked.append(_model_tag(image.size, out, ctx, " + ".join(out.models), overlay, pending,
                                  hard=[e.box for e in out.elements] + list(out.heads.values()),
                                  soft=keepout + out.prop_texts * 5 + list(out.bodies.values())).inset(-unit * 4))

    # narration, captions and balloons: sized first, then placed together in reading order
    requests, jobs = [], []
    for ti, t in enumerate(panel.text):
        if t.kind == "label" or rendered[ti] is None:
            continue
        job = _measure(t, ti, rendered[ti], pr, ctx, out)
        if job is None:
            problems.add(base + ("text", ti), f"{where}: {t.kind} '{lettering._short(rendered[ti])}' is too long to fit "
                                              f"the panel even at the smallest text size; shorten it or split it")
            continue
        jobs.append(job)
        requests.append(job["request"])
    boxes = place_boxes(pr, requests, blocked=blocked, keepout=keepout,
                        bodies=list(out.bodies.values()), inset=inset)
    for k, (job, box) in enumerate(zip(jobs, boxes)):
        t, ti = job["element"], job["index"]
        if box is None and job.get("smaller") is not None:
            # retry this one element at its minimum size before giving up
            job = job["smaller"]
            taken = [b.inset(-inset / 2) for b in boxes if b is not None] + [e.box for e in out.elements]
            box = boxes[k] = place_boxes(pr, [job["request"]], blocked=blocked + taken, keepout=keepout,
                                         bodies=[], inset=inset)[0]
        if box is None:
            problems.add(base + ("text", ti), f"{where}: no room for the {t.kind} '{lettering._short(rendered[ti])}' "
                                              f"without covering a face, a label, model data or another balloon; "
                                              f"shorten the text, make room (move the cast or props), or give it "
                                              f"place:/at:")
            continue
        _draw_box(job, box, out, ctx, overlay, pending)

    if overlay:
        region = _union_region(out.elements, w, h, unit * 20)
        image.alpha_composite(rasterize_region("".join(overlay), region), region[:2])
    d = ImageDraw.Draw(image)
    for block, x, y, color, align in pending:
        lettering.draw_block(d, block, x, y, color, align)


def _union_region(elements: list[Element], w: int, h: int, margin: float) -> tuple[int, int, int, int]:
    """Pixel region covering every element's box and tail (where the overlay draws)."""
    xs, ys = [], []
    for e in elements:
        xs += [e.box.x, e.box.x1]
        ys += [e.box.y, e.box.y1]
        for px, py in list(e.tail or ()) + ([e.trail] if e.trail else []):
            xs.append(px)
            ys.append(py)
    if not xs:
        return 0, 0, 1, 1
    return (max(0, int(min(xs) - margin)), max(0, int(min(ys) - margin)),
            min(w, int(max(xs) + margin) + 1), min(h, int(max(ys) + margin) + 1))


def _fit_label(text: str, family: str, max_w: float, max_h: float, size: float, ctx: RenderContext):
    """Signage reads best on one line: shrink a little (to 70%) before breaking it into lines."""
    block = lettering.fit_block(text, family, max_w, max_h, max_size=size, min_size=size * 0.7, wrap_lines=False,
                                weight=800)
    if block is None:
        block = lettering.fit_block(text, family, max_w, max_h, max_size=size,
                                    min_size=ctx.px(ctx.theme.lettering.small_print), wrap_lines=True, weight=800)
    return block


def _measure(t, ti: int, text: str, panel: Rect, ctx: RenderContext, out: PanelRender, *, shrink: bool = False):
    """Size a balloon or box for `text`; returns a job dict (request + how to draw) or None."""
    theme, unit = ctx.theme, ctx.unit
    size = ctx.px(theme.lettering.size) * (t.size or 1.0)
    min_size = ctx.px(theme.lettering.min_size)
    if shrink:
        size = min_size
    kind = t.kind
    if theme.lettering.uppercase and kind in ("speech", "thought"):
        text = text.upper()
    if kind in ("narration", "caption"):
        style = theme.narration
        pad = ctx.px(style.padding)
        # narration boxes take about half a wide panel, most of a narrow one
        max_w = (panel.w * 0.96 if kind == "caption" else min(panel.w * 0.9, max(panel.w * 0.5, unit * 540)))
        max_w -= 2 * pad + unit * 24
        # (shrink: the smallest size, and as wide as the panel allows, for the fewest lines)
        if shrink:
            max_w = panel.w * 0.96 - 2 * pad - unit * 24
        if t.width:
            max_w = min(max_w, panel.w * t.width - 2 * pad - unit * 6)
        block = lettering.fit_block(text, theme.fonts.narration, max_w, panel.h * 0.45, max_size=size * 0.92,
                                    min_size=min_size * 0.92, wrap_lines=True, weight=600)
        if block is None:
            return None
        bw, bh = block.w + 2 * pad + unit * 6, block.h + 2 * pad
        if kind == "caption":
            req = BoxRequest(panel.w - unit * 24, bh, place=t.place or "bottom", corner=True, name=kind)
        else:
            at = (t.at[0] * panel.w, t.at[1] * panel.h) if t.at else None
            req = BoxRequest(bw, bh, place=t.place or "top-left", at=at, corner=at is None, name=kind)
        job = {"element": t, "index": ti, "kind": kind, "block": block, "pad": pad, "request": req, "text": text}
        if not shrink and block.size > min_size * 0.92 + 0.5:
            job["smaller"] = _measure(t, ti, text, panel, ctx, out, shrink=True)
        return job

    member = ctx.cast[t.who]
    robot = member.balloon == "robot" and kind == "speech"
    family = theme.fonts.lettering
    pad = ctx.px(theme.balloon.padding)
    shape = "rect" if robot else "ellipse"
    bt = None
    s = size
    while s >= min_size - 0.01:
        bt = lettering.balloon_text(text, family, int(s), pad, line_spacing=theme.lettering.line_spacing,
                                    max_w=panel.w * (t.width or 0.9) - unit * 24, max_h=panel.h * 0.6, shape=shape)
        if bt is not None:
            break
        s = s * 0.94 if s * 0.94 >= min_size else (min_size if s > min_size else min_size - 1)
    if bt is None:
        return None
    if kind == "thought":
        bt = lettering.BalloonText(bt.block, bt.rx * 1.14, bt.ry * 1.22)
    mouth = out.mouths.get(t.who)
    at = (t.at[0] * panel.w, t.at[1] * panel.h) if t.at else None
    req = BoxRequest(bt.w, bt.h, target=mouth, place=t.place, at=at, name=kind, clearance=unit * 18)
    job = {"element": t, "index": ti, "kind": kind, "block": bt.block, "balloon": bt, "robot": robot,
           "request": req, "text": text}
    if not shrink and bt.block.size > min_size + 0.5:
        job["smaller"] = _measure(t, ti, text, panel, ctx, out, shrink=True)
    return job


def _draw_box(job: dict, box: Rect, out: PanelRender, ctx: RenderContext, overlay: list[str], pending: list) -> None:
    theme, unit = ctx.theme, ctx.unit
    t, kind, block = job["element"], job["kind"], job["block"]
    if kind in ("narration", "caption"):
        style = theme.narration
        overlay.append(balloons.narration_svg(box, fill=style.fill, stroke=style.stroke,
                                              width=ctx.px(style.stroke_width), accent=style.stroke))
        inner = box.inset(job["pad"])
        inner = Rect(inner.x + unit * 6, inner.y, inner.w - unit * 6, inner.h)
        x, y = lettering.place_block(block, inner, "left", "middle")
        pending.append((block, x, y, style.text, "left"))
        out.elements.append(Element(kind, job["text"], box, Rect(x, y, block.w, block.h), index=job["index"]))
        return
    style = theme.balloon
    stroke_w = ctx.px(style.stroke_width)
    mouth = out.mouths.get(t.who)
    face = out.heads.get(t.who)
    tail = trail = None
    if kind == "speech":
        reach = 1 / 3
        if mouth is None:   # off-panel speaker: the tail runs out through the nearer side border
            w = out.image.width
            mouth = (w + unit * 40, box.cy + box.h * 0.6) if box.cx > w / 2 else (-unit * 40, box.cy + box.h * 0.6)
            reach = 1.0
        tail = tail_points(box, mouth, face, width=max(box.h * 0.22, unit * 14), min_len=unit * 16, reach=reach)
        fn = balloons.robot_svg if job["robot"] else balloons.speech_svg
        overlay.append(fn(box, tail, fill=style.fill, stroke=style.stroke, width=stroke_w))
    elif kind == "thought":
        trail = _toward(box, mouth, face)
        overlay.append(balloons.thought_svg(box, trail, fill=style.fill, stroke=style.stroke, width=stroke_w))
    else:
        overlay.append(balloons.speech_svg(box, None, fill=style.fill, stroke=style.stroke, width=stroke_w))
    x, y = box.cx - block.w / 2, box.cy - block.h / 2
    pending.append((block, x, y, style.text, "center"))
    out.elements.append(Element(kind, job["text"], box, Rect(x, y, block.w, block.h), who=t.who, tail=tail,
                                index=job["index"], trail=trail if kind == "thought" else None))


def _toward(box: Rect, mouth, face: Rect | None):
    """Where a thought trail heads: the top of the thinker's head, not the mouth."""
    if face is not None:
        return face.cx, face.y
    return mouth


def _model_tag(size: tuple[int, int], out: PanelRender, ctx: RenderContext, model: str,
               overlay: list[str], pending: list[tuple], hard: list[Rect], soft: list[Rect]) -> Rect:
    """The model tag in a corner, or slid along the top or bottom edge: never over a balloon,
    box or face (`hard`), and over as little art and data (`soft`) as possible."""
    theme, unit = ctx.theme, ctx.unit
    px = int(ctx.px(theme.model_tag.size))
    text = f"live data: {model}"
    block = lettering.make_block([text], theme.fonts.mono, px, mono=True)
    pad = px * 0.45
    w, h = block.w + 2 * pad, block.h + pad
    m = unit * 8
    spots = []
    for y in (size[1] - h - m, m):                    # bottom edge first, then top
        for k in range(9):                            # from the right corner to the left one
            spots.append(Rect(size[0] - w - m - (size[0] - w - 2 * m) * k / 8, y, w, h))
    for j in range(1, 16):                            # then anywhere, if the edges are all lettered
        for k in range(9):
            spots.append(Rect(size[0] - w - m - (size[0] - w - 2 * m) * k / 8,
                              size[1] - h - m - (size[1] - h - 2 * m) * j / 16, w, h))

    def cost(c: Rect) -> float:
        if any(c.overlaps(r) for r in hard):
            return math.inf
        return sum((c.intersect(a) or Rect(0, 0, 0, 0)).area for a in soft) + spots.index(c) * 0.5

    box = min(spots, key=cost)
    overlay.append(balloons.tag_svg(box, fill=theme.model_tag.fill))
    x, y = lettering.place_block(block, box, "center", "middle")
    pending.append((block, x, y, theme.model_tag.text, "center"))
    out.elements.append(Element("tag", text, box, Rect(x, y, block.w, block.h)))
    return box.inset(-unit * 4)
