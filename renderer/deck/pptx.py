"""PPTX files as reproducible bytes: the same deck gives the same file.

marp-cli (and LibreOffice behind --pptx-editable) stamp every zip entry with the time of the
build, and the document properties with its date. The content is otherwise the same, so the
zip is written again with fixed times (SOURCE_DATE_EPOCH when set, else 1980-01-01) and the
entries in their original order.
"""
from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path

_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def fixed_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        t = time.gmtime(max(int(epoch), 315532800))   # a zip cannot hold dates before 1980
        return t[:6]
    return (1980, 1, 1, 0, 0, 0)


def iso_time() -> str:
    y, mo, d, h, mi, s = fixed_time()
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def normalize_pptx(path: Path) -> None:
    """Rewrite `path` in place with fixed entry times and document dates."""
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    stamp = fixed_time()
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as out:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _DATES.sub(lambda m: m.group(1) + iso_time().encode() + m.group(2), data)
            fresh = zipfile.ZipInfo(info.filename, date_time=stamp)
            fresh.compress_type = zipfile.ZIP_DEFLATED if info.compress_type != zipfile.ZIP_STORED else zipfile.ZIP_STORED
            fresh.external_attr = 0o644 << 16
            out.writestr(fresh, data)
    os.replace(tmp, path)


def slide_texts(path: Path) -> list[list[str]]:
    """The text runs (<a:t>) of each slide, in slide order: what an editor can edit."""
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
        names.sort(key=lambda n: int(re.search(r"(\d+)", n.rsplit("/", 1)[1]).group(1)))
        out = []
        for n in names:
            xml = z.read(n).decode("utf-8")
            out.append([_unescape(t) for t in re.findall(r"<a:t>([^<]*)</a:t>", xml)])
    return out


def _unescape(text: str) -> str:
    import html
    return html.unescape(text)
