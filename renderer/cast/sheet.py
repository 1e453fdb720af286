"""Contact sheet of the cast: every character x pose x expression, facing right then left,
on the comic's dark background. For judging the art by eye.

    python -m renderer.cast.sheet build/cast-sheet.png [--height 250] [--art nova] [--boxes]

--boxes outlines the face box (yellow), the head box (orange) and marks the anchors (red).
"""
from __future__ import annotations

import argparse
import io
import sys

from PIL import Image, ImageDraw

from ..atomic import write_bytes
from ..fonts import font
from . import CHARACTERS, FACINGS, assets, expressions, poses, render_figure

BACKGROUND = "#0a1030"
TEXT = "#eaf4ff"
MUTED = "#8ea3cc"


def contact_sheet(height: int = 250, arts: list[str] | None = None, boxes: bool = False) -> Image.Image:
    arts = list(arts or CHARACTERS)
    pad = max(8, height // 14)
    label_w = max(150, height * 3 // 5)
    header = font("Orbitron", max(14, height // 9), 700)
    small = font("Inter", max(11, height // 16), 500)
    rows = []   # (art, pose, [figures])
    for art in arts:
        for pose in poses(art):
            rows.append((art, pose, [render_figure(art, pose, e, f, height)
                                     for f in FACINGS for e in expressions(art)]))
    cell_w = {art: max(f.image.width for a, _, figs in rows if a == art for f in figs) + pad for art in arts}
    title_h = height // 5
    width = label_w + max(cell_w[art] * len(figs) for art, _, figs in rows) + pad
    total = sum(title_h * 2 + pad for _ in arts) + len(rows) * (height + pad) + pad
    sheet = Image.new("RGBA", (width, total), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = pad
    for art in arts:
        ch = assets.character(art)
        draw.text((pad, y), f"{ch.name}  ({art})", font=header, fill=TEXT)
        y += title_h
        for i, f in enumerate(FACINGS):
            for j, e in enumerate(expressions(art)):
                x = label_w + (i * len(expressions(art)) + j) * cell_w[art]
                draw.text((x, y), f"{e} / {f}", font=small, fill=MUTED)
        y += title_h
        for row_art, pose, figs in rows:
            if row_art != art:
                continue
            draw.text((pad, y + height // 2), pose, font=small, fill=TEXT)
            for k, fig in enumerate(figs):
                x = label_w + k * cell_w[art] + (cell_w[art] - pad - fig.image.width) // 2
                sheet.alpha_composite(fig.image, (x, y))
                if boxes:
                    _boxes(draw, fig, x, y)
            y += height + pad
        y += pad
    return sheet


def _boxes(draw: ImageDraw.ImageDraw, fig, x: int, y: int) -> None:
    for rect, color in ((fig.face, "#ffe66d"), (fig.head, "#ffb627")):
        draw.rectangle((x + rect.x, y + rect.y, x + rect.x1, y + rect.y1), outline=color)
    for ax, ay in fig.anchors.values():
        draw.ellipse((x + ax - 3, y + ay - 3, x + ax + 3, y + ay + 3), outline="#ff5a5a")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m renderer.cast.sheet", description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="PNG file to write")
    ap.add_argument("--height", type=int, default=250, help="figure height in px (default 250)")
    ap.add_argument("--art", action="append", choices=CHARACTERS, help="only this character (repeatable)")
    ap.add_argument("--boxes", action="store_true", help="outline face/head boxes and mark anchors")
    args = ap.parse_args(argv)
    img = contact_sheet(args.height, args.art, args.boxes)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=False)
    write_bytes(args.out, buf.getvalue())
    print(f"{args.out}: {img.width}x{img.height}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
