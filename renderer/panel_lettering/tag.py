"""The model tag: "live data: <model>" on a panel that shows a demo's data."""
from __future__ import annotations

import math

from .. import balloons, lettering
from ..geometry import Rect
from ..layout import Obstacle, hides_least
from ..rendering import Element, PanelRender, RenderContext


def model_tag(size: tuple[int, int], out: PanelRender, ctx: RenderContext, model: str,
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
