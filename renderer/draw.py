"""The compositor: a validated storyboard (plus live traces) in, panel and page images out.

Per panel, back to front: background (SVG) and props behind the cast, their neon glow
(rasterised small, blurred with Pillow, added underneath), the cast, props in front,
the props' own text, then labels, narration boxes and balloons placed by
renderer.layout, and a model tag on panels that show live data.

Every problem found while drawing (author text too long even for an empty panel, a
template error) is collected with its file and line and raised together. A crowded
panel is not a problem: what has no clean spot degrades (renderer.layout.place_texts)
and is reported as a located warning in PageRender.warnings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter
from pydantic import ValidationError

from . import balloons, cast as cast_art, lettering, scene, workers
from .errors import InputError, Problem, suggest
from .geometry import Rect
from .layout import (PLACES, BoxRequest, Obstacle, TextRequest, first_clear, hides_least, label_room, label_spots,
                     panel_rects, place_texts, tail_points)
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
    prop_items: list[tuple[str, Rect]] = field(default_factory=list)   # each prop text as drawn, and where
    shortened: list[str] = field(default_factory=list)        # data drawn shortened with "…", in full


@dataclass
class PageRender:
    image: Image.Image
    panels: dict[str, PanelRender]
    rects: dict[str, Rect]
    warnings: list[Problem] = field(default_factory=list)    # located, in panel order


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
    """Errors (the page cannot be drawn as written) and warnings (it was drawn, but something had
    to give: a balloon out of reading order, over a face, set as a caption strip), each located."""

    def __init__(self, sb: LoadedStoryboard):
        self.sb = sb
        self.items: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: tuple, message: str) -> None:
        line, col = self.sb.source.locate(path)
        self.items.append(Problem(self.sb.file, line, col, message))

    def warn(self, path: tuple, message: str) -> None:
        line, col = self.sb.source.locate(path)
        self.warnings.append(Problem(self.sb.file, line, col, message))


# --- page ---------------------------------------------------------------------------------------

def page_layout(sb: LoadedStoryboard, ctx: RenderContext) -> dict[str, Rect]:
    w, h = ctx.page_size
    t = ctx.theme.page
    has_header = t.header_height and sb.board.page > 0    # the cover carries its own title
    return panel_rects(w, h, sb.board.layout, margin=ctx.px(t.margin), gutter=ctx.px(t.gutter),
                       header=ctx.px(t.header_height) if has_header else 0.0,
                       footer=ctx.px(t.margin) * 0.35)


def render_page(sb: LoadedStoryboard, ctx: RenderContext, only_panel: str | set[str] | None = None) -> PageRender:
    """Draw the whole page (or, with only_panel, just that panel, or those panels, on an otherwise
    empty page)."""
    theme = ctx.theme
    w, h = ctx.page_size
    rects = page_layout(sb, ctx)
    problems = _Problems(sb)
    page = Image.new("RGBA", (w, h), theme.page.background)
    renders: dict[str, PanelRender] = {}
    only = {only_panel} if isinstance(only_panel, str) else only_panel
    jobs = [(sb, pi, panel, (int(rects[panel.id].w), int(rects[panel.id].h)), ctx)
            for pi, panel in enumerate(sb.board.panels) if only is None or panel.id in only]
    for pr, items, warnings in workers.run_all(_panel_job, jobs):
        problems.items += items
        problems.warnings += warnings
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
    return PageRender(page.convert("RGB"), renders, rects, problems.warnings)


# Panels of a page are independent, and most of their time is resvg: they are drawn in worker
# processes (renderer.workers), side by side on a multi-core machine.

def _panel_job(job: tuple) -> tuple[PanelRender, list[Problem], list[Problem]]:
    sb, pi, panel, size, ctx = job
    problems = _Problems(sb)
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

    overlay: list[str] = []
    pending: list[tuple] = []
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
    given = dict(spec.model_extra or {})
    raw = _render_params(given, tctx, path, problems)
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
        if demo is not None or _has_template(given):
            # text that comes from the model (or from a template over its data) may be shortened
            # with "…" to fit; what the author typed must fit as typed
            literal = {x.strip().casefold() for x in _literals(given)}
            for item in art.texts:
                item.data = item.text.strip().casefold() not in literal
        return art
    except InputError as err:
        problems.items += err.problems
    except ValueError as err:
        problems.add(path, f"prop '{spec.type}': {err}")
    return None


def _literals(value: Any):
    """The plain strings (no template) among a prop's parameters: the author's own words."""
    if isinstance(value, str):
        if "{" not in value:
            yield value
    elif isinstance(value, list):
        for v in value:
            yield from _literals(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _literals(v)


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    return False


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
                  keepout: list[Rect], blocked: list[Obstacle], problems: _Problems, overlay: list[str],
                  pending: list[tuple]) -> None:
    """Place and draw every text element. `overlay` collects box shapes (SVG) and `pending` the
    text drawn on top of them, so all shapes rasterise in one pass.

    Crowding never fails a page: an element with no clean spot tries other sizes, line breaks,
    sides and a caption strip, and at last goes where it hides least, with a located warning.
    Only text too long for the panel itself is an error (shortened with "…" when it quotes data).
    """
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

    def quotes_data(ti: int) -> bool:
        return "{" in panel.text[ti].text

    def shortened_warning(ti: int) -> None:
        t = panel.text[ti]
        problems.warn(base + ("text", ti), f"{where}: the {t.kind} '{lettering._short(rendered[ti])}' is too long "
                                           f"for the panel with this data, so it is shortened with '…' (the "
                                           f"transcript has it whole); shorten the words around the data or give "
                                           f"the panel more room")

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
        shown = rendered[ti]
        if block is None and quotes_data(ti):
            shown = lettering.elide_to_fit(rendered[ti], lambda c: _fit_label(c, family, max_w, h * 0.3, size, ctx)
                                           is not None)
            block = _fit_label(shown, family, max_w, h * 0.3, size, ctx) if shown else None
            if block is not None:
                shortened_warning(ti)
        if block is None:
            problems.add(base + ("text", ti), f"{where}: label '{rendered[ti]}' does not fit the panel; shorten it")
            continue
        fitted[ti] = (block, family, max_w, glow, shown)
    # signs on the same prop (a row of stations) share one size, the smallest, so they read as a set
    groups: dict[str, list[int]] = {}
    for ti in fitted:
        anchor = panel.text[ti].anchor
        if anchor:
            groups.setdefault(anchor.split(".")[0], []).append(ti)
    for members in groups.values():
        smallest = min(fitted[ti][0].size for ti in members)
        for ti in members:
            block, family, max_w, glow, shown = fitted[ti]
            if block.size > smallest:
                block = _fit_label(shown, family, max_w, h * 0.3, smallest, ctx) or block
                fitted[ti] = (block, family, max_w, glow, shown)
    area = pr.inset(inset)
    for ti, (block, family, max_w, glow, shown) in fitted.items():
        t = panel.text[ti]
        color = theme.palette["text"]
        if t.anchor and t.anchor in anchors:
            point = anchors[t.anchor]
        elif t.anchor:
            problems.add(base + ("text", ti, "anchor"), f"{where}: the prop has no anchor '{t.anchor.split('.', 1)[1]}'"
                         f"; it offers: {', '.join(sorted(a.split('.', 1)[1] for a in anchors if a.startswith(t.anchor.split('.')[0] + '.'))) or 'none'}")
            continue
        elif t.at:
            point = (t.at[0] * w, t.at[1] * h + block.h / 2 + unit * 4)
        else:
            fx, fy = PLACES[t.place or "top"]
            point = (inset + block.w / 2 + fx * (w - 2 * inset - block.w),
                     inset + block.h + unit * 4 + fy * (h - 2 * inset - block.h))
        # the sign's own spot first; then other sides of its anchor, then smaller; never over a
        # face, the model's data, a prop's lettering or another label
        options = [block] + [b for b in (_fit_label(shown, family, max_w, h * 0.3, block.size * f, ctx)
                                         for f in (0.85, 0.7)) if b is not None and b.size < block.size]
        r = None
        for b in options:
            r = first_clear(label_spots(point, b.w, b.h, area, unit * 4), [o.rect for o in blocked])
            if r is not None:
                block = b
                break
        if r is None:
            block = options[-1]
            r, covers = hides_least(label_spots(point, block.w, block.h, area, unit * 4), blocked)
            problems.warn(base + ("text", ti), f"{where}: no clear spot for the label '{lettering._short(shown)}'; "
                                               f"placed where it hides least, over {_covers(covers)}; move its "
                                               f"anchor, the props or the cast, or give it at:")
        lettering.draw_glow_text(image, block, r.x, r.y, color, glow, "center", radius=max(2, block.size / 5))
        blocked.append(Obstacle(r.inset(-unit * 4), "label"))   # balloons never cover a label
        out.elements.append(Element("label", rendered[ti], r, r, index=ti))

    # a small tag naming the model whose data the panel shows: placed before the narration and
    # balloons (they then keep clear of it), where it hides least of the art, never on a label or face
    if out.models:
        tag, covers = _model_tag(image.size, out, ctx, " + ".join(out.models), overlay, pending,
                                 hard=[o.rect for o in blocked], soft=keepout + list(out.bodies.values()))
        if covers:
            problems.warn(base, f"{where}: no clear spot for the model tag; placed where it hides least, over "
                                f"{_covers(covers)}; make room in a corner of the panel")
        blocked.append(Obstacle(tag, "tag"))

    # narration, captions and balloons: sized first (each in several shapes), then placed together
    # in reading order
    requests, jobs = [], []
    for ti, t in enumerate(panel.text):
        if t.kind == "label" or rendered[ti] is None:
            continue
        options = _options(t, ti, rendered[ti], pr, ctx, out)
        if not options and quotes_data(ti):
            shown = lettering.elide_to_fit(rendered[ti], lambda c: bool(_options(t, ti, c, pr, ctx, out, only_min=True)))
            if shown is not None:
                options = _options(t, ti, shown, pr, ctx, out)
                for job in options:
                    job["full"] = _shown(t, rendered[ti], theme)
                shortened_warning(ti)
        if not options:
            problems.add(base + ("text", ti), f"{where}: {t.kind} '{lettering._short(rendered[ti])}' is too long to fit "
                                              f"the panel even at the smallest text size; shorten it or split it")
            continue
        strip = _strip_job(t, ti, options[0].get("full", rendered[ti]), pr, ctx)
        jobs.append((options, strip))
        requests.append(TextRequest(tuple(j["request"] for j in options), strip["request"] if strip else None,
                                    name=t.kind))
    placed = place_texts(pr, requests, obstacles=blocked, keepout=keepout, bodies=list(out.bodies.values()),
                         inset=inset)
    for (options, strip), spot in zip(jobs, placed):
        job = strip if spot.option < 0 else options[spot.option]
        t, ti = job["element"], job["index"]
        short = lettering._short(job.get("full", job["text"]))
        if spot.rect is None:
            problems.add(base + ("text", ti), f"{where}: {t.kind} '{short}' is too long to fit the panel even at the "
                                              f"smallest text size; shorten it or split it")
            continue
        if spot.fallback == "order":
            problems.warn(base + ("text", ti), f"{where}: the {t.kind} '{short}' has room only where it is read "
                                               f"before the one above it; make room after it (move the cast or "
                                               f"props), or give it place:/at:")
        elif spot.fallback == "strip":
            problems.warn(base + ("text", ti), f"{where}: no room for the {t.kind} '{short}' in the scene, so it is "
                                               f"set as a caption strip along the panel's edge; make room (move the "
                                               f"cast or props), shorten it, or give it place:/at:")
        elif spot.fallback == "covering":
            problems.warn(base + ("text", ti), f"{where}: no clear spot for the {t.kind} '{short}'; placed where it "
                                               f"hides least, over {_covers(spot.covers)}; make room (move the cast "
                                               f"or props), shorten it, or give it place:/at:")
        _draw_box(job, spot.rect, out, ctx, overlay, pending)

    if overlay:
        region = _union_region(out.elements, w, h, unit * 20)
        image.alpha_composite(rasterize_region("".join(overlay), region), region[:2])
    d = ImageDraw.Draw(image)
    for block, x, y, color, align in pending:
        lettering.draw_block(d, block, x, y, color, align)


_COVER_NAMES = {"face": "a face", "data": "the model's data", "lettering": "a prop's lettering", "label": "a label",
                "balloon": "another balloon", "tag": "the model tag"}


def _covers(kinds) -> str:
    names = [_COVER_NAMES.get(k, k) for k in kinds]
    if not names:
        return "only scenery"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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


def _shown(t, text: str, theme: Theme) -> str:
    """The words as lettered: balloons in capitals when the theme letters that way."""
    return text.upper() if theme.lettering.uppercase and t.kind in ("speech", "thought") else text


def _options(t, ti: int, text: str, panel: Rect, ctx: RenderContext, out: PanelRender, *,
             only_min: bool = False) -> list[dict]:
    """The shapes a balloon or box for `text` may take, preferred first: the largest text size that
    fits with the usual line breaks, then narrower and wider line breaks, then smaller text down to
    the minimum lettering size. Each is a job dict (a BoxRequest + how to draw it). [] when the
    text cannot fit the panel at all. only_min: just the smallest size (is there any way to fit?)."""
    theme, unit = ctx.theme, ctx.unit
    size = ctx.px(theme.lettering.size) * (t.size or 1.0)
    min_size = ctx.px(theme.lettering.min_size)
    kind = t.kind
    text = _shown(t, text, theme)
    at = (t.at[0] * panel.w, t.at[1] * panel.h) if t.at else None
    jobs: list[dict] = []
    seen: set[tuple[int, int]] = set()

    def add(job: dict) -> None:
        r = job["request"]
        key = (round(r.w), round(r.h))
        if key in seen:
            return
        seen.add(key)
        jobs.append(job)

    if kind in ("narration", "caption"):
        style = theme.narration
        pad = ctx.px(style.padding)
        # narration boxes take about half a wide panel, most of a narrow one
        usual = (panel.w * 0.96 if kind == "caption" else min(panel.w * 0.9, max(panel.w * 0.5, unit * 540)))
        usual -= 2 * pad + unit * 24
        widest = panel.w * 0.96 - 2 * pad - unit * 24
        if t.width:
            usual = min(usual, panel.w * t.width - 2 * pad - unit * 6)
            widest = min(widest, panel.w * t.width - 2 * pad - unit * 6)
        shapes = [(usual, False), (widest, False), (usual * 0.7, False), (usual, True), (widest, True)]
        if only_min:
            shapes = [(widest, True)]
        for max_w, smallest in shapes:
            block = lettering.fit_block(text, theme.fonts.narration, max_w, panel.h * 0.45,
                                        max_size=(min_size if smallest else size) * 0.92,
                                        min_size=min_size * 0.92, wrap_lines=True, weight=600)
            if block is None:
                continue
            bw, bh = block.w + 2 * pad + unit * 6, block.h + 2 * pad
            if kind == "caption":
                req = BoxRequest(panel.w - unit * 24, bh, place=t.place or "bottom", corner=True, name=kind)
            else:
                req = BoxRequest(bw, bh, place=t.place or "top-left", at=at, corner=at is None, name=kind)
            add({"element": t, "index": ti, "kind": kind, "block": block, "pad": pad, "request": req, "text": text})
    else:
        member = ctx.cast[t.who]
        robot = member.balloon == "robot" and kind == "speech"
        family = theme.fonts.lettering
        pad = ctx.px(theme.balloon.padding)
        shape = "rect" if robot else "ellipse"
        usual = panel.w * (t.width or 0.9) - unit * 24
        widest = panel.w * max(t.width or 0.9, 0.96) - unit * 24 if not t.width else usual

        def balloon(s: float, max_w: float):
            return lettering.balloon_text(text, family, int(s), pad, line_spacing=theme.lettering.line_spacing,
                                          max_w=max_w, max_h=panel.h * 0.6, shape=shape)

        sizes = []
        s = size
        while s > min_size + 0.5:
            sizes.append(s)
            s *= 0.94
        sizes.append(min_size)
        if only_min:
            sizes = [min_size]
        first = None
        for k, s in enumerate(sizes):
            bt = balloon(s, usual)
            if bt is None:
                continue
            if first is None:
                first = k
                # the same size with other line breaks: narrower (taller) or wider (flatter)
                shapes = [bt, balloon(s, bt.w * 0.72), balloon(s, widest)]
            elif k in (first + 2, first + 4) or s == min_size:
                shapes = [bt, balloon(s, widest)]
            else:
                continue
            for b in shapes:
                if b is None:
                    continue
                if kind == "thought":
                    b = lettering.BalloonText(b.block, b.rx * 1.14, b.ry * 1.22)
                req = BoxRequest(b.w, b.h, target=out.mouths.get(t.who), place=t.place, at=at, name=kind,
                                 clearance=unit * 18)
                add({"element": t, "index": ti, "kind": kind, "block": b.block, "balloon": b, "robot": robot,
                     "request": req, "text": text})
    if at is not None and jobs:
        # an author's spot that is taken: the same shapes anywhere else, as close to it as there is room
        jobs += [dict(j, request=replace(j["request"], at=None, near=at, corner=False, place=None))
                 for j in list(jobs)]
    return jobs


def _strip_job(t, ti: int, text: str, panel: Rect, ctx: RenderContext) -> dict | None:
    """The element as a caption strip across the panel (a speaker's words prefixed with the name)."""
    theme, unit = ctx.theme, ctx.unit
    style = theme.narration
    pad = ctx.px(style.padding)
    min_size = ctx.px(theme.lettering.min_size)
    words = _shown(t, text, theme)
    if t.kind in ("speech", "thought"):
        words = f"{ctx.cast[t.who].name.upper() if theme.lettering.uppercase else ctx.cast[t.who].name}: {words}"
    block = lettering.fit_block(words, theme.fonts.narration, panel.w - 2 * unit * 12 - 2 * pad - unit * 6,
                                panel.h * 0.3, max_size=min_size, min_size=min_size * 0.92, wrap_lines=True, weight=600)
    if block is None:
        return None
    req = BoxRequest(panel.w - 2 * unit * 12, block.h + 2 * pad, strip=True, name="strip")
    return {"element": t, "index": ti, "kind": t.kind, "block": block, "pad": pad, "request": req,
            "text": words, "strip": True, "full": _shown(t, text, theme)}


def _draw_box(job: dict, box: Rect, out: PanelRender, ctx: RenderContext, overlay: list[str], pending: list) -> None:
    theme, unit = ctx.theme, ctx.unit
    t, kind, block = job["element"], job["kind"], job["block"]
    if kind in ("narration", "caption") or job.get("strip"):
        style = theme.narration
        overlay.append(balloons.narration_svg(box, fill=style.fill, stroke=style.stroke,
                                              width=ctx.px(style.stroke_width), accent=style.stroke))
        inner = box.inset(job["pad"])
        inner = Rect(inner.x + unit * 6, inner.y, inner.w - unit * 6, inner.h)
        x, y = lettering.place_block(block, inner, "left", "middle")
        pending.append((block, x, y, style.text, "left"))
        out.elements.append(Element(kind, job.get("full", job["text"]), box, Rect(x, y, block.w, block.h),
                                    who=t.who, index=job["index"]))
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
    out.elements.append(Element(kind, job.get("full", job["text"]), box, Rect(x, y, block.w, block.h), who=t.who,
                                tail=tail,
                                index=job["index"], trail=trail if kind == "thought" else None))


def _toward(box: Rect, mouth, face: Rect | None):
    """Where a thought trail heads: the top of the thinker's head, not the mouth."""
    if face is not None:
        return face.cx, face.y
    return mouth


def _model_tag(size: tuple[int, int], out: PanelRender, ctx: RenderContext, model: str,
               overlay: list[str], pending: list[tuple], hard: list[Rect], soft: list[Rect]) -> tuple[Rect, tuple]:
    """The model tag in a corner, or slid along the top or bottom edge: never over a face, label or
    the props' lettering (`hard`), and over as little art (`soft`) as possible. Returns the area it
    takes and, when no spot was clear, what it had to cover."""
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

    def cost(k: int, c: Rect) -> float:
        if any(c.overlaps(r) for r in hard):
            return math.inf
        return sum((c.intersect(a) or Rect(0, 0, 0, 0)).area for a in soft) + k * 0.5

    k, box = min(enumerate(spots), key=lambda ks: cost(*ks))
    covers: tuple = ()
    if cost(k, box) == math.inf:
        box, covers = hides_least(spots, [Obstacle(r, "lettering") for r in hard])
    overlay.append(balloons.tag_svg(box, fill=theme.model_tag.fill))
    x, y = lettering.place_block(block, box, "center", "middle")
    pending.append((block, x, y, theme.model_tag.text, "center"))
    out.elements.append(Element("tag", text, box, Rect(x, y, block.w, block.h)))
    return box.inset(-unit * 4), covers or ()
