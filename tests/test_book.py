"""The example book, built for real: every storyboard in storyboards/ with live data from the
model a build would use here (the SmolLM2 fallback offline), through the renderer's own checks.
Slow-ish (the model runs once per demo unless the trace cache has it), so it is one test.
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from pypdf import PdfReader

from renderer.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_whole_book_builds_and_names_its_model(tmp_path, capsys):
    out = tmp_path / "book"
    cwd = os.getcwd()
    try:
        code = main(["-C", str(ROOT), "build", "comic", "-q", "--out", str(out)])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert code == 0, err
    boards = sorted(p for p in (ROOT / "storyboards").glob("page-*.yaml"))
    assert len(boards) >= 12                                     # a cover and at least 11 pages
    pages = sorted((out / "comic" / "pages").glob("page-*.png"))
    assert len(pages) == len(boards)
    reader = PdfReader(out / "comic" / "comic.pdf")
    assert len(reader.pages) == len(pages) and len(reader.outline) == len(pages)
    with zipfile.ZipFile(out / "comic" / "comic.cbz") as z:
        assert len([n for n in z.namelist() if n.endswith(".png")]) == len(pages)
    # every page that shows live data says which model made it, in the picture and in words
    for md in sorted((out / "comic" / "pages").glob("*.md")):
        text = md.read_text()
        board = next(b for b in boards if b.name.startswith(md.stem))
        if re.search(r"^demos: \[.+\]", board.read_text(), re.M):
            assert "*Live data from the model" in text, md.name
