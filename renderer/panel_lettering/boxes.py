"""Drawing a placed box: a narration box, caption or caption strip, or a balloon with its tail
(speech, pointing at the speaker's mouth, or out through the border for an off-panel speaker)
or its bubble trail (thought, toward the top of the thinker's head).

Shapes go to `overlay` (SVG, rasterised in one pass for the whole panel) and their words to
`pending` (drawn on top afterwards); the Element records where everything landed.
"""
from __future__ import annotations

from .. import balloons, lettering
from ..geometry import Rect
from ..rendering import Element, PanelRender, RenderContext
from .jobs import LetterJob


def draw_box(job: LetterJob, box: Rect, out: PanelRender, ctx: RenderContext, overlay: list[str],
             pending: list) -> None:
    theme, unit = ctx.theme, ctx.unit
    t, kind, block = job.element, job.kind, job.block
    if kind in ("narration", "caption") or job.strip:
        style = theme.narration
        overlay.append(balloons.narration_svg(box, fill=style.fill, stroke=style.stroke,
                                              width=ctx.px(style.stroke_width), accent=style.stroke))
        inner = box.inset(job.pad)
        inner = Rect(inner.x + unit * 6, inner.y, inner.w - unit * 6, inner.h)
        x, y = lettering.place_block(block, inner, "left", "middle")
        pending.append((block, x, y, style.text, "left"))
        out.elements.append(Element(kind, job.whole_text, box, Rect(x, y, block.w, block.h),
                                    who=t.who, index=job.index, size=block.size))
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
        tail = balloons.tail_points(box, mouth, face, width=max(box.h * 0.22, unit * 14), min_len=unit * 16,
                                    reach=reach, shape="rect" if job.robot else "ellipse")
        fn = balloons.robot_svg if job.robot else balloons.speech_svg
        overlay.append(fn(box, tail, fill=style.fill, stroke=style.stroke, width=stroke_w))
    elif kind == "thought":
        trail = thought_target(mouth, face)
        overlay.append(balloons.thought_svg(box, trail, fill=style.fill, stroke=style.stroke, width=stroke_w))
    else:
        overlay.append(balloons.speech_svg(box, None, fill=style.fill, stroke=style.stroke, width=stroke_w))
    x, y = box.cx - block.w / 2, box.cy - block.h / 2
    pending.append((block, x, y, style.text, "center"))
    out.elements.append(Element(kind, job.whole_text, box, Rect(x, y, block.w, block.h), who=t.who,
                                tail=tail,
                                index=job.index, trail=trail if kind == "thought" else None, size=block.size))


def thought_target(mouth, face: Rect | None):
    """Where a thought trail heads: the top of the thinker's head, not the mouth."""
    if face is not None:
        return face.cx, face.y
    return mouth


def union_region(elements: list[Element], w: int, h: int, margin: float) -> tuple[int, int, int, int]:
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
