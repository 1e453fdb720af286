"""Lettering jobs: the shapes a balloon, narration box or caption may take for its words.

Each shape is a LetterJob: the text block at one size and line breaking, the box it needs
(a renderer.layout.BoxRequest) and what drawing it takes. A text element gets several,
preferred first; renderer.layout.place_texts picks the one that lands best.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import lettering
from ..geometry import Rect
from ..layout import BoxRequest
from ..lettering import BalloonText, TextBlock
from ..rendering import PanelRender, RenderContext
from ..storyboard import TextElement
from ..theme import Theme


@dataclass
class LetterJob:
    """One way to letter a text element of the panel."""

    element: TextElement         # the storyboard's text entry
    index: int                   # its position in the panel's text list
    kind: str                    # speech, thought, narration or caption (a strip keeps its element's kind)
    text: str                    # the words as lettered (capitals when the theme letters that way)
    block: TextBlock             # the words set at one size, broken into lines
    request: BoxRequest          # the room it needs, for renderer.layout
    pad: float = 0.0             # narration boxes and strips: padding around the text
    balloon: BalloonText | None = None   # balloons: the ellipse (or rectangle) around the block
    robot: bool = False          # a robot's speech: a rounded rectangle instead of an ellipse
    strip: bool = False          # set as a caption strip along the panel's edge (a crowding fallback)
    full: str | None = None      # the whole words, when `text` is shortened with "…" or prefixed

    @property
    def whole_text(self) -> str:
        """What the element says in full (transcripts and messages quote this)."""
        return self.full if self.full is not None else self.text


def shown_text(t: TextElement, text: str, theme: Theme) -> str:
    """The words as lettered: balloons in capitals when the theme letters that way."""
    return text.upper() if theme.lettering.uppercase and t.kind in ("speech", "thought") else text


def box_options(t: TextElement, ti: int, text: str, panel: Rect, ctx: RenderContext, out: PanelRender, *,
                only_min: bool = False) -> list[LetterJob]:
    """The shapes a balloon or box for `text` may take, preferred first: the largest text size that
    fits with the usual line breaks, then narrower and wider line breaks, then smaller text down to
    the minimum lettering size. [] when the text cannot fit the panel at all. only_min: just the
    smallest size (is there any way to fit?)."""
    theme, unit = ctx.theme, ctx.unit
    size = ctx.px(theme.lettering.size) * (t.size or 1.0)
    min_size = ctx.px(theme.lettering.min_size)
    kind = t.kind
    text = shown_text(t, text, theme)
    at = (t.at[0] * panel.w, t.at[1] * panel.h) if t.at else None
    jobs: list[LetterJob] = []
    seen: set[tuple[int, int]] = set()

    def add(job: LetterJob) -> None:
        r = job.request
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
            add(LetterJob(t, ti, kind, text, block, req, pad=pad))
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
                    b = BalloonText(b.block, b.rx * 1.14, b.ry * 1.22)
                req = BoxRequest(b.w, b.h, target=out.mouths.get(t.who), place=t.place, at=at, name=kind,
                                 clearance=unit * 18)
                add(LetterJob(t, ti, kind, text, b.block, req, balloon=b, robot=robot))
    if at is not None and jobs:
        # an author's spot that is taken: the same shapes anywhere else, as close to it as there is room
        jobs += [replace(j, request=replace(j.request, at=None, near=at, corner=False, place=None))
                 for j in list(jobs)]
    return jobs


def strip_option(t: TextElement, ti: int, text: str, panel: Rect, ctx: RenderContext) -> LetterJob | None:
    """The element as a caption strip across the panel (a speaker's words prefixed with the name)."""
    theme, unit = ctx.theme, ctx.unit
    style = theme.narration
    pad = ctx.px(style.padding)
    min_size = ctx.px(theme.lettering.min_size)
    words = shown_text(t, text, theme)
    if t.kind in ("speech", "thought"):
        words = f"{ctx.cast[t.who].name.upper() if theme.lettering.uppercase else ctx.cast[t.who].name}: {words}"
    block = lettering.fit_block(words, theme.fonts.narration, panel.w - 2 * unit * 12 - 2 * pad - unit * 6,
                                panel.h * 0.3, max_size=min_size, min_size=min_size * 0.92, wrap_lines=True, weight=600)
    if block is None:
        return None
    req = BoxRequest(panel.w - 2 * unit * 12, block.h + 2 * pad, strip=True, name="strip")
    return LetterJob(t, ti, t.kind, words, block, req, pad=pad, strip=True, full=shown_text(t, text, theme))
