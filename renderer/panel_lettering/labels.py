"""Labels: holographic signage at a prop's anchor, an `at:` spot or a `place:` of the panel.

Fitted on one line where they can (shrinking a little before breaking), signs on the same
prop share one size, and each takes the first clear spot around its point: never over a
face, the model's data, a prop's lettering or another label. Labels are lettered before
anything else, and what comes after keeps clear of them.
"""
from __future__ import annotations

from PIL import Image

from .. import lettering
from ..errors import suggest
from ..geometry import Rect
from ..layout import PLACES, Obstacle, first_clear, hides_least, label_room, label_spots
from ..rendering import Element, PanelRender, Problems, RenderContext
from ..storyboard import Panel
from . import wording


def fit_label(text: str, family: str, max_w: float, max_h: float, size: float, ctx: RenderContext):
    """Signage reads best on one line: shrink a little (to 70%) before breaking it into lines."""
    block = lettering.fit_block(text, family, max_w, max_h, max_size=size, min_size=size * 0.7, wrap_lines=False,
                                weight=800)
    if block is None:
        block = lettering.fit_block(text, family, max_w, max_h, max_size=size,
                                    min_size=ctx.px(ctx.theme.lettering.small_print), wrap_lines=True, weight=800)
    return block


def letter_labels(panel: Panel, rendered: list[str | None], image: Image.Image, out: PanelRender,
                  ctx: RenderContext, anchors: dict[str, tuple[float, float]], blocked: list[Obstacle],
                  problems: Problems, base: tuple, where: str, inset: float) -> None:
    """Fit, place and draw every label of the panel; each drawn label joins `blocked`."""
    theme, unit = ctx.theme, ctx.unit
    w, h = image.size
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
        block = fit_label(rendered[ti], family, max_w, h * 0.3, size, ctx)
        shown = rendered[ti]
        if block is None and "{" in t.text:   # words around quoted data: shortened with "…", not an error
            shown = lettering.elide_to_fit(rendered[ti], lambda c: fit_label(c, family, max_w, h * 0.3, size, ctx)
                                           is not None)
            block = fit_label(shown, family, max_w, h * 0.3, size, ctx) if shown else None
            if block is not None:
                problems.warn(base + ("text", ti), wording.shortened(where, t.kind, rendered[ti]))
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
                block = fit_label(shown, family, max_w, h * 0.3, smallest, ctx) or block
                fitted[ti] = (block, family, max_w, glow, shown)
    area = Rect(0, 0, w, h).inset(inset)
    for ti, (block, family, max_w, glow, shown) in fitted.items():
        t = panel.text[ti]
        color = theme.palette["text"]
        if t.anchor and t.anchor in anchors:
            point = anchors[t.anchor]
        elif t.anchor:
            prop_id, name = t.anchor.split(".", 1)[0], t.anchor.split(".", 1)[1]
            offered = sorted(a.split(".", 1)[1] for a in anchors if a.startswith(prop_id + "."))
            problems.add(base + ("text", ti, "anchor"), f"{where}: the prop has no anchor '{name}'"
                         f"; it offers: {', '.join(offered) or 'none'}")
            continue
        elif t.at:
            point = (t.at[0] * w, t.at[1] * h + block.h / 2 + unit * 4)
        else:
            fx, fy = PLACES[t.place or "top"]
            point = (inset + block.w / 2 + fx * (w - 2 * inset - block.w),
                     inset + block.h + unit * 4 + fy * (h - 2 * inset - block.h))
        # the sign's own spot first; then other sides of its anchor, then smaller; never over a
        # face, the model's data, a prop's lettering or another label
        options = [block] + [b for b in (fit_label(shown, family, max_w, h * 0.3, block.size * f, ctx)
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
            problems.warn(base + ("text", ti), wording.label_covering(where, shown, covers))
        lettering.draw_glow_text(image, block, r.x, r.y, color, glow, "center", radius=max(2, block.size / 5))
        blocked.append(Obstacle(r.inset(-unit * 4), "label"))   # balloons never cover a label
        out.elements.append(Element("label", rendered[ti], r, r, index=ti))
