"""Comic outputs: page and panel PNGs, the transcript, the comic PDF and the CBZ archive.

All outputs are deterministic (no timestamps but SOURCE_DATE_EPOCH) and written atomically.
"""
from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, PngImagePlugin

from . import workers
from .atomic import atomic_path, write_bytes, write_text
from .layout import reading_order
from .lettering import MIN_TEXT_KEY
from .rendering import PageRender
from .storyboard import LoadedStoryboard

DEFAULT_EPOCH = 315532800  # 1980-01-01, the earliest date a ZIP can hold


def source_date_epoch() -> int:
    try:
        return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    except ValueError:
        return DEFAULT_EPOCH


def png_bytes(image: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    # the smallest text lettered on it, for what shows the image smaller (a panel on a slide)
    info = None
    if image.info.get(MIN_TEXT_KEY) is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(MIN_TEXT_KEY, f"{float(image.info[MIN_TEXT_KEY]):.1f}")
    # compress_level 3: most of the size win of 6 at a fraction of the time on 6-megapixel pages
    image.save(buf, "PNG", dpi=(dpi, dpi), compress_level=3, pnginfo=info)
    return buf.getvalue()


def write_page(sb: LoadedStoryboard, render: PageRender, comic_dir: Path, dpi: int,
               names: dict[str, str] | None = None) -> list[Path]:
    """page-NN.png, page-NN.md (transcript) and one PNG per panel. Returns the paths written."""
    name = sb.page_name
    pages, panels = comic_dir / "pages", comic_dir / "panels"
    targets = [pages / f"{name}.png"] + [panels / f"{name}-{pid}.png" for pid in render.panels]
    images = [render.image] + [pr.image.convert("RGB") for pr in render.panels.values()]
    # PNG encoding is a third of a page's time: the page and its panels are encoded side by side
    encoded = workers.run_all(_png_job, [(image, dpi) for image in images])
    written = [write_bytes(target, data) for target, data in zip(targets, encoded)]
    written.append(write_text(pages / f"{name}.md", transcript(sb, render, names or {})))
    return written


def _png_job(job: tuple[Image.Image, int]) -> bytes:
    return png_bytes(*job)


def transcript(sb: LoadedStoryboard, render: PageRender, names: dict[str, str]) -> str:
    """The page in words, panel by panel in reading order: the page's alt text."""
    board = sb.board
    lines = [f"# Page {board.page}: {board.title}", ""]
    order = [pid for pid in reading_order(render.rects) if pid in render.panels]
    panels = {p.id: p for p in board.panels}
    for n, pid in enumerate(order, 1):
        panel, pr = panels[pid], render.panels[pid]
        lines.append(f"## Panel {n} ({panel.shot}) {{#{pid}}}")
        lines.append("")
        if pr.description:
            lines.append(pr.description)
            lines.append("")
        if panel.cast:
            who = ", ".join(f"{names.get(c.who, c.who)} ({c.pose}, {c.expression})" for c in panel.cast)
            lines.append(f"*In the panel:* {who}.")
            lines.append("")
        for el in sorted((e for e in pr.elements if e.index >= 0), key=lambda e: e.index):
            if el.kind == "speech":
                lines.append(f"**{names.get(el.who, el.who)}:** {el.text}")
            elif el.kind == "thought":
                lines.append(f"**{names.get(el.who, el.who)}** (thinking): {el.text}")
            elif el.kind == "label":
                lines.append(f"*Label:* {el.text}")
            else:
                lines.append(f"*{el.kind.capitalize()}:* {el.text}")
            lines.append("")
        for full in dict.fromkeys(pr.shortened):   # data the panel had to cut with "…", whole here
            lines.append(f"*Shown shortened:* {full}")
            lines.append("")
        for model in pr.models:
            lines.append(f"*Live data from the model {model}.*")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_pdf(pages: list[tuple[str, Path]], target: Path, dpi: int, title: str, author: str) -> Path:
    """All pages in order, one bookmark per page. pages: (bookmark title, png path)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _, png in pages:
        with Image.open(png) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "PDF", resolution=dpi)
        writer.append(io.BytesIO(buf.getvalue()))
    for i, (bookmark, _) in enumerate(pages):
        writer.add_outline_item(title=bookmark, page_number=i)
    stamp = time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime(source_date_epoch()))
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "novapress",
                         "/Producer": "novapress", "/CreationDate": stamp, "/ModDate": stamp})
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            writer.write(f)
    return target


def write_cbz(pages: list[tuple[int, str, Path]], target: Path, *, title: str, author: str, language: str) -> Path:
    """A comic-reader archive: the pages in order plus ComicInfo.xml. pages: (number, title, png)."""
    epoch = max(source_date_epoch(), DEFAULT_EPOCH)
    date_time = time.gmtime(epoch)[:6]
    info = ['<?xml version="1.0" encoding="utf-8"?>',
            '<ComicInfo xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">',
            f"  <Title>{escape(title)}</Title>",
            f"  <Writer>{escape(author)}</Writer>",
            f"  <PageCount>{len(pages)}</PageCount>",
            f"  <LanguageISO>{escape(language)}</LanguageISO>",
            "  <Manga>No</Manga>",
            "  <Pages>"]
    for i, (number, page_title, _) in enumerate(pages):
        kind = ' Type="FrontCover"' if number == 0 else ""
        info.append(f'    <Page Image="{i}"{kind} Bookmark="{escape(page_title)}"/>')
    info += ["  </Pages>", "</ComicInfo>", ""]
    with atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            for i, (number, _, png) in enumerate(pages):
                zi = zipfile.ZipInfo(f"{i:03d}-page-{number:02d}.png", date_time)
                zi.compress_type = zipfile.ZIP_STORED   # PNGs are already compressed
                zi.external_attr = 0o644 << 16
                z.writestr(zi, png.read_bytes())
            zi = zipfile.ZipInfo("ComicInfo.xml", date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, "\n".join(info))
    return target
