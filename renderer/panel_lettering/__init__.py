"""Panel lettering: every text element of a panel measured, placed and drawn.

In this order, so what comes later keeps clear of what came first:
1. labels (signage; labels.py): fitted and placed one by one;
2. the model tag on a panel that shows live data (tag.py);
3. narration, captions and balloons: each measured in several shapes (jobs.py: LetterJob),
   then placed together in reading order by renderer.layout.place_texts, then drawn
   (boxes.py: boxes, and balloons with their tails).

Crowding never fails a page: an element with no clean spot tries other sizes, line breaks,
sides and a caption strip, and at last goes where it hides least, with a located warning
(wording.py). Only text too long for the panel itself is an error (shortened with "…" when
it quotes data).
"""
from __future__ import annotations

from PIL import Image, ImageDraw

from .. import lettering
from ..fonts import MissingGlyph, runs
from ..geometry import Rect
from ..layout import Obstacle, TextRequest, place_texts
from ..raster import rasterize_region
from ..rendering import PanelRender, Problems, RenderContext, render_text
from ..storyboard import LoadedStoryboard, Panel
from . import wording
from .boxes import draw_box, union_region
from .labels import letter_labels
from .jobs import box_options, shown_text, strip_option
from .tag import model_tag


def letter_panel(sb: LoadedStoryboard, pi: int, panel: Panel, image: Image.Image, out: PanelRender,
                 ctx: RenderContext, tctx: dict, anchors: dict[str, tuple[float, float]], keepout: list[Rect],
                 blocked: list[Obstacle], problems: Problems) -> None:
    """Letter the panel's text elements onto `image`, in the author's order; record each in
    `out.elements`. `blocked` is what no element may cover (faces, the model's data, a prop's
    lettering); `keepout` is art better left uncovered."""
    theme, unit = ctx.theme, ctx.unit
    w, h = image.size
    pr = Rect(0, 0, w, h)
    inset = unit * 12
    base = ("panels", pi)
    where = f"page {sb.board.page}, panel '{panel.id}'"
    overlay: list[str] = []      # box and balloon shapes (SVG), rasterised in one pass
    pending: list[tuple] = []    # the text drawn on top of them afterwards

    fonts = {"label": theme.fonts.label, "narration": theme.fonts.narration, "caption": theme.fonts.narration}
    rendered = []
    for ti, t in enumerate(panel.text):
        text = render_text(t.text, tctx, base + ("text", ti, t.kind), problems)
        try:   # what the author wrote must be letterable; model output in it is drawn whatever it holds
            family = theme.fonts.title if t.font == "title" else fonts.get(t.kind, theme.fonts.lettering)
            runs(t.text, family)
        except MissingGlyph as err:
            problems.add(base + ("text", ti, t.kind), f"{where}: {err}")
            text = None
        rendered.append(text)

    letter_labels(panel, rendered, image, out, ctx, anchors, blocked, problems, base, where, inset)

    # a small tag naming the model whose data the panel shows: placed before the narration and
    # balloons (they then keep clear of it), where it hides least of the art, never on a label or face
    if out.models:
        tag, covers = model_tag(image.size, out, ctx, " + ".join(out.models), overlay, pending,
                                hard=[o.rect for o in blocked], soft=keepout + list(out.bodies.values()))
        if covers:
            problems.warn(base, wording.tag_covering(where, covers))
        blocked.append(Obstacle(tag, "tag"))

    # narration, captions and balloons: sized first (each in several shapes), then placed together
    # in reading order
    requests, jobs = [], []
    for ti, t in enumerate(panel.text):
        if t.kind == "label" or rendered[ti] is None:
            continue
        options = box_options(t, ti, rendered[ti], pr, ctx, out)
        if not options and "{" in t.text:   # words around quoted data: shortened with "…", not an error
            shown = lettering.elide_to_fit(rendered[ti],
                                           lambda c: bool(box_options(t, ti, c, pr, ctx, out, only_min=True)))
            if shown is not None:
                options = box_options(t, ti, shown, pr, ctx, out)
                for job in options:
                    job.full = shown_text(t, rendered[ti], theme)
                problems.warn(base + ("text", ti), wording.shortened(where, t.kind, rendered[ti]))
        if not options:
            problems.add(base + ("text", ti), wording.too_long(where, t.kind, rendered[ti]))
            continue
        strip = strip_option(t, ti, options[0].full if options[0].full is not None else rendered[ti], pr, ctx)
        jobs.append((options, strip))
        requests.append(TextRequest(tuple(j.request for j in options), strip.request if strip else None,
                                    name=t.kind))
    placed = place_texts(pr, requests, obstacles=blocked, keepout=keepout, bodies=list(out.bodies.values()),
                         inset=inset)
    for (options, strip), spot in zip(jobs, placed):
        job = strip if spot.option < 0 else options[spot.option]
        t, ti = job.element, job.index
        if spot.rect is None:
            problems.add(base + ("text", ti), wording.too_long(where, t.kind, job.whole_text))
            continue
        if spot.fallback == "order":
            problems.warn(base + ("text", ti), wording.out_of_order(where, t.kind, job.whole_text))
        elif spot.fallback == "strip":
            problems.warn(base + ("text", ti), wording.as_strip(where, t.kind, job.whole_text))
        elif spot.fallback == "covering":
            problems.warn(base + ("text", ti), wording.covering(where, t.kind, job.whole_text, spot.covers))
        draw_box(job, spot.rect, out, ctx, overlay, pending)

    if overlay:
        region = union_region(out.elements, w, h, unit * 20)
        image.alpha_composite(rasterize_region("".join(overlay), region), region[:2])
    d = ImageDraw.Draw(image)
    for block, x, y, color, align in pending:
        lettering.draw_block(d, block, x, y, color, align)
