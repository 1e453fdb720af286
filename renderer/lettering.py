"""Lettering: measuring, breaking and fitting text, and drawing it.

Everything that puts words on a page goes through here, so one set of rules
decides whether text fits: text is shrunk down to its minimum size; model data
that still does not fit is shortened with a visible "…" (the transcript keeps it
whole), and an author's text that still does not fit stops the build with an
error naming the page, panel and element. Nothing is ever clipped or allowed to
overflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter

from live_demo.formatting import elide, elide_line, one_line

from .errors import InputError, Problem
from .fonts import font, runs
from .geometry import Rect

# Code-like text (tokens, ids, shapes) must not turn "->" into an arrow.
NO_LIGATURES = ["-liga", "-calt"]


@dataclass(frozen=True)
class TextBlock:
    """Lines of text at one size, measured. Coordinates are relative to the block's top-left."""

    lines: tuple[str, ...]
    family: str
    size: int
    weight: int | None
    widths: tuple[float, ...]
    cap: float      # height from the top of the block to the first baseline
    pitch: float    # baseline to baseline
    desc: float     # below the last baseline
    mono: bool = False

    @property
    def w(self) -> float:
        return max(self.widths, default=0.0)

    @property
    def h(self) -> float:
        return self.cap + self.pitch * (len(self.lines) - 1) + self.desc

    def line_top(self, i: int) -> float:
        return self.pitch * i


@lru_cache(maxsize=256)
def _metrics(family: str, size: int, weight: int | None) -> tuple[float, float]:
    f = font(family, size, weight)
    top = f.getbbox("HÅdlk", anchor="ls")[1]      # highest ink above the baseline (negative)
    bottom = f.getbbox("gjpqy,", anchor="ls")[3]  # lowest ink below it
    return -top, bottom


@lru_cache(maxsize=20000)
def text_width(text: str, family: str, size: int, weight: int | None = None, mono: bool = False) -> float:
    """Advance width of a line, with fallback fonts for the characters `family` lacks."""
    width = 0.0
    for segment, fam in runs(text, family, replace=True):
        f = font(fam, size, weight if fam == family else None)
        width += f.getlength(segment, features=NO_LIGATURES if mono else None)
    return width


def make_block(lines: list[str] | tuple[str, ...], family: str, size: int, *, weight: int | None = None,
               line_spacing: float = 1.15, mono: bool = False) -> TextBlock:
    cap, desc = _metrics(family, size, weight)
    widths = tuple(text_width(line, family, size, weight, mono) for line in lines)
    return TextBlock(tuple(lines), family, size, weight, widths, cap, size * line_spacing, desc, mono)


def _words(text: str) -> list[list[str]]:
    """Paragraphs (split on explicit newlines) of words."""
    return [para.split() for para in text.strip().split("\n")]


def wrap(text: str, family: str, size: int, max_width: float, *, weight: int | None = None,
         mono: bool = False) -> list[str] | None:
    """Greedy word wrap; explicit newlines are kept. None if a single word is wider than max_width."""
    lines: list[str] = []
    space = text_width(" ", family, size, weight, mono)
    for words in _words(text):
        line, width = "", 0.0
        for word in words:
            ww = text_width(word, family, size, weight, mono)
            if ww > max_width + 0.01:
                return None
            if line and width + space + ww <= max_width:
                line, width = f"{line} {word}", width + space + ww
            else:
                if line:
                    lines.append(line)
                line, width = word, ww
        lines.append(line)
    return lines


def balanced_wrap(text: str, family: str, size: int, n_lines: int, *, weight: int | None = None) -> list[str] | None:
    """Break text into about n_lines lines of even length (the narrowest width that gives n lines)."""
    full = text_width(" ".join(" ".join(p) for p in _words(text)), family, size, weight)
    longest = max((text_width(w, family, size, weight) for p in _words(text) for w in p), default=0)
    lo, hi = max(longest, full / n_lines), full + 1
    best = wrap(text, family, size, hi, weight=weight)
    for _ in range(18):
        mid = (lo + hi) / 2
        lines = wrap(text, family, size, mid, weight=weight)
        if lines is not None and len(lines) <= n_lines:
            best, hi = lines, mid
        else:
            lo = mid
    return best


# --- balloons ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalloonText:
    block: TextBlock
    rx: float   # ellipse radii that hold the block plus padding
    ry: float

    @property
    def w(self) -> float:
        return 2 * self.rx

    @property
    def h(self) -> float:
        return 2 * self.ry


def ellipse_around(block: TextBlock, pad: float) -> tuple[float, float]:
    """The smallest-area ellipse holding every line's box (plus padding), centred on the block.

    Lines are centred, so a lens-shaped block (short first and last lines) gets a tight,
    round balloon, as a letterer would draw it.
    """
    half_h = block.h / 2
    corners = []
    for i, w in enumerate(block.widths):
        top = block.line_top(i) - half_h
        bottom = top + block.cap + block.desc
        yy = max(abs(top), abs(bottom)) + pad
        corners.append((w / 2 + pad, yy))
    best = None
    ry = half_h + pad + 1
    while ry < (half_h + pad) * 4 + 10:
        rx = max(cx / math.sqrt(max(1e-6, 1 - (cy / ry) ** 2)) for cx, cy in corners)
        if best is None or rx * ry < best[0] * best[1]:
            best = (rx, ry)
        ry *= 1.02
    assert best is not None
    return best


def balloon_text(text: str, family: str, size: int, pad: float, *, line_spacing: float,
                 max_w: float, max_h: float, shape: str = "ellipse") -> BalloonText | None:
    """Choose line breaks for a balloon: rounded (about 1.4-2.2 : 1), within max_w x max_h."""
    best: BalloonText | None = None
    best_score = math.inf
    word_count = sum(len(p) for p in _words(text))
    explicit = text.count("\n") + 1
    for n in range(explicit, max(explicit, min(word_count, 12)) + 1):
        lines = balanced_wrap(text, family, size, n)
        if lines is None:
            continue
        block = make_block(lines, family, size, line_spacing=line_spacing)
        if shape == "ellipse":
            rx, ry = ellipse_around(block, pad)
        else:  # rectangular balloons (robot voice, narration) just pad the block
            rx, ry = block.w / 2 + pad, block.h / 2 + pad
        cand = BalloonText(block, rx, ry)
        if cand.w > max_w or cand.h > max_h:
            continue
        ratio = cand.w / cand.h
        score = abs(math.log(ratio / 1.7)) + 0.002 * cand.w * cand.h / (size * size)
        if score < best_score:
            best, best_score = cand, score
    return best


# --- fitting text into boxes ----------------------------------------------------------------

def fit_block(text: str, family: str, box_w: float, box_h: float, *, max_size: float, min_size: float,
              wrap_lines: bool, line_spacing: float = 1.15, weight: int | None = None,
              mono: bool = False) -> TextBlock | None:
    """The largest size in [min_size, max_size] at which `text` fits in box_w x box_h, else None."""
    hi, lo = int(max_size), max(1, int(math.ceil(min_size)))
    if hi < lo:
        if max_size < min_size:
            return None
        lo = hi     # both round into the same whole pixel size


    def attempt(size: int) -> TextBlock | None:
        if wrap_lines:
            lines = wrap(text, family, size, box_w, weight=weight, mono=mono)
            if lines is None:
                return None
        else:
            lines = text.split("\n")
        block = make_block(lines, family, size, weight=weight, line_spacing=line_spacing, mono=mono)
        return block if block.w <= box_w + 0.5 and block.h <= box_h + 0.5 else None

    best = attempt(hi)
    if best is not None:
        return best
    # binary search the largest fitting size (fit is monotone enough in size)
    found = attempt(lo)
    if found is None:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        b = attempt(mid)
        if b is not None:
            lo, found = mid, b
        else:
            hi = mid
    return found


# --- drawing --------------------------------------------------------------------------------

# The image remembers the smallest text lettered on it (px, in image.info), so what shows it
# smaller (a panel on a slide) can tell whether it stays legible; PNGs carry it as a text chunk.
MIN_TEXT_KEY = "novapress:min-text-px"


def draw_block(draw: ImageDraw.ImageDraw, block: TextBlock, x: float, y: float, fill: str,
               align: str = "center", stroke: tuple[int, str] | None = None) -> None:
    """Draw the block with its top-left at (x, y)."""
    image = getattr(draw, "_image", None)
    if image is not None and any(line.strip() for line in block.lines):
        known = image.info.get(MIN_TEXT_KEY)
        image.info[MIN_TEXT_KEY] = min(float(known), block.size) if known is not None else float(block.size)
    features = NO_LIGATURES if block.mono else None
    kwargs = {"stroke_width": stroke[0], "stroke_fill": stroke[1]} if stroke else {}
    for i, (line, w) in enumerate(zip(block.lines, block.widths)):
        lx = x + _offset(block.w - w, align)
        baseline = y + block.cap + block.pitch * i
        for segment, fam in runs(line, block.family, replace=True):
            f = font(fam, block.size, block.weight if fam == block.family else None)
            draw.text((lx, baseline), segment, font=f, fill=fill, anchor="ls", features=features, **kwargs)
            lx += f.getlength(segment, features=features)


def place_block(block: TextBlock, box: Rect, align: str = "center", valign: str = "middle") -> tuple[float, float]:
    """Top-left at which `block` sits in `box` with the given alignment."""
    return box.x + _offset(box.w - block.w, align), box.y + _offset(box.h - block.h, valign)


def _offset(room: float, align: str) -> float:
    """How far into `room` spare pixels something aligned `align` starts."""
    return {"center": room / 2, "middle": room / 2, "right": room, "bottom": room}.get(align, 0.0)


def draw_glow_text(image: Image.Image, block: TextBlock, x: float, y: float, fill: str, glow: str,
                   align: str = "center", radius: float = 6) -> None:
    """Neon text: a blurred copy in the glow colour under crisp text."""
    pad = int(radius * 3)
    box = Rect(x - pad, y - pad, block.w + 2 * pad, block.h + 2 * pad)
    x0, y0, x1, y1 = box.box()
    layer = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    draw_block(d, block, x - x0, y - y0, glow, align, stroke=(max(1, int(radius / 2)), glow))
    layer = layer.filter(ImageFilter.GaussianBlur(radius))
    # alpha_composite cannot take negative offsets: crop the part that lies on the image
    sx, sy = max(0, -x0), max(0, -y0)
    image.alpha_composite(layer, (max(0, x0), max(0, y0)), (sx, sy))
    draw_block(ImageDraw.Draw(image), block, x, y, fill, align)


def elide_to_fit(text: str, fits) -> str | None:
    """The longest `elide(text, n)` (ending in a visible "…") for which `fits(candidate)` is true,
    or None when not even "…" fits. `fits` must be monotone in length, as text width is."""
    flat = one_line(text)
    if not flat:
        return None
    lo, hi, best = 1, len(flat) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        cand = elide(flat, mid)
        if fits(cand):
            best, lo = cand, mid + 1
        else:
            hi = mid - 1
    return best


def fit_item(item, family: str, min_text: float) -> tuple[TextBlock | None, str]:
    """Fit a prop TextItem: shrink down to its minimum size; model data (`item.data`) that still
    does not fit is shortened with a visible "…" instead. Returns (block or None, the text shown)."""
    mono = item.role == "mono"
    min_size = item.min_size or min_text
    max_size = item.size or item.box.h

    def attempt(text: str) -> TextBlock | None:
        return fit_block(text, family, item.box.w, item.box.h, max_size=max_size,
                         min_size=min(min_size, max_size), wrap_lines=item.wrap, weight=item.weight, mono=mono,
                         line_spacing=1.1)

    block = attempt(item.text)
    if block is not None or not item.data:
        return block, item.text
    shown = elide_to_fit(item.text, lambda cand: attempt(cand) is not None)
    return (attempt(shown), shown) if shown is not None else (None, item.text)


def draw_text_items(image: Image.Image, items, theme, where: str, *, min_text: float = 12.0,
                    file: str = "", line: int | None = None, shortened: list | None = None) -> list[Rect]:
    """Fit and draw prop TextItems (renderer.props.TextItem). Returns the rectangles drawn.

    Model data that cannot fit even at its minimum size is shortened with "…" (appended to
    `shortened` as (item, text shown)); an author's text that cannot fit raises InputError naming
    `where` and the item.
    """
    drawn = []
    draw = ImageDraw.Draw(image)
    problems = []
    for item in items:
        family = getattr(theme.fonts, item.role)
        block, shown = fit_item(item, family, min_text)
        if block is None:
            if item.data:      # not even "…" fits its box: nothing to show, and nothing to stop for
                if shortened is not None:
                    shortened.append((item, ""))
                drawn.append(Rect(item.box.x, item.box.y, 0, 0))
                continue
            min_size = item.min_size or min_text
            problems.append(Problem(file or where, line, None,
                                    f"{where}: text '{elide_line(item.text, 40)}' of {item.name or 'a prop'} does not fit "
                                    f"its {item.box.w:.0f}x{item.box.h:.0f} px box even at {min_size:.0f} px; "
                                    f"shorten it or make the prop larger"))
            continue
        if shown != item.text and shortened is not None:
            shortened.append((item, shown))
        x, y = place_block(block, item.box, item.align, item.valign)
        if item.glow:
            draw_glow_text(image, block, x, y, item.color, item.glow, item.align, radius=max(2, block.size / 6))
        else:
            draw_block(draw, block, x, y, item.color, item.align)
        drawn.append(Rect(x, y, block.w, block.h))
    if problems:
        raise InputError(problems)
    return drawn
