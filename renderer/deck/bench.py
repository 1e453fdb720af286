"""Deck build time: novapress against bare marp-cli on the same rendered Markdown, same run.

    bench_deck() -> [(name, value, unit), ...]

novapress = build_deck (template, checks, four marp runs two at a time, PDF image
check, moving outputs into place); also measured with one marp run at a time, which
isolates novapress's own overhead from the gain of overlapping the runs. Bare = the same four marp-cli commands a user would type, one after
the other, on the Markdown novapress rendered (images and theme fonts at absolute
paths, so both load the same files). Rounds alternate so machine load hits both alike;
medians are reported. Without a context it uses the test traces and placeholder panels
and charts.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from ..progress import Reporter
from . import build as deck_build
from .build import build_deck, prepare
from .marp import find_browser, find_marp

ROOT = Path(__file__).resolve().parents[2]
DECK = ROOT / "slides" / "llm-inference-pipeline.md"
THEMES = ROOT / "slides" / "themes"
TRACES = ROOT / "tests" / "fixtures" / "decks" / "traces"
FORMATS = ["html", "pdf", "pptx", "png"]


def sample_context(out_dir: Path) -> dict[str, Any]:
    """Context from the test traces, with placeholder panels and charts written into `out_dir`."""
    demos = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(TRACES.glob("*.json"))}
    panels, charts = {}, {}
    for i in range(1, 6):
        rel = f"comic/panels/page-05-p{i}.png"
        _placeholder(out_dir / rel, (1800, 820) if i in (1, 5) else (600, 900))
        panels[f"page-05-p{i}"] = rel
    for name in demos:
        charts[name] = {}
        for key in ("topk", "temperatures", "temperatures_slide", "steps_greedy", "steps_top_k", "steps_top_p",
                    "steps_beam"):
            rel = f"live/charts/{name}-{key}.png"
            _placeholder(out_dir / rel, (1600, 900))
            charts[name][key] = rel
    model = demos["question"]["model"]["display"]
    return {"demos": demos, "charts": charts, "panels": panels, "model": model,
            "book": _Book("Inside the Inference Pipeline")}


class _Book(str):
    """The book as a deck template sees it: `{{ book }}` is the title; also .language etc."""

    author = "novapress"
    language = "en"

    @property
    def title(self) -> str:
        return str(self)


def _placeholder(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (22, 28, 70)).save(path)


def bare_commands(markdown: Path, themes: list[Path], out: Path) -> list[list[str]]:
    """The marp-cli commands for the four outputs, as a user would run them."""
    marp, browser = str(find_marp(ROOT)), find_browser()
    base = [marp, str(markdown), "--allow-local-files", "--no-config-file"] + [f"--theme-set={t}" for t in themes]
    chrome = ["--browser-path", browser.path, "--browser", browser.kind]
    return [base + ["-o", str(out / "deck.html")],
            base + chrome + ["--pdf", "--pdf-notes", "--pdf-outlines", "-o", str(out / "deck.pdf")],
            base + chrome + ["--pptx", "-o", str(out / "deck.pptx")],
            base + chrome + ["--images", "png", "-o", str(out / "deck.png")]]


def bench_deck(context: dict[str, Any] | None = None, rounds: int = 2) -> list[tuple[str, float, str]]:
    work = Path(tempfile.mkdtemp(prefix="novapress-bench-deck-"))
    try:
        out = work / "build"
        context = context or sample_context(out)
        prepared = prepare(DECK, out, context=context, theme_dir=THEMES)
        bare_md = work / "bare" / "deck.md"
        bare_md.parent.mkdir()
        bare_md.write_text(prepared.browser_md, encoding="utf-8")
        themes = []
        for theme in prepared.themes:  # fonts at absolute paths, as novapress gives the browser
            copy = work / "bare" / theme.path.name
            copy.write_text(theme.rewritten(lambda f: f.as_posix()), encoding="utf-8")
            themes.append(copy)
        commands = bare_commands(bare_md, themes, work / "bare")
        env_tmp = work / "tmp"
        env_tmp.mkdir()

        def run_bare(cmds):
            for cmd in cmds:
                subprocess.run(cmd, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin",
                                                                       "TMPDIR": str(env_tmp), "HOME": str(work)})

        def run_novapress(formats, parallel=deck_build.PARALLEL_EXPORTS):
            saved, deck_build.PARALLEL_EXPORTS = deck_build.PARALLEL_EXPORTS, parallel
            try:
                build_deck(DECK, out, context=context, formats=formats, theme_dir=THEMES, timeout=600,
                           reporter=Reporter(quiet=True))
            finally:
                deck_build.PARALLEL_EXPORTS = saved

        results: dict[str, list[float]] = {k: [] for k in ("np_all", "bare_all", "np_serial", "np_html",
                                                            "bare_html")}
        for _ in range(rounds):
            for key, fn in (("np_all", lambda: run_novapress(FORMATS)), ("bare_all", lambda: run_bare(commands)),
                            ("np_serial", lambda: run_novapress(FORMATS, parallel=1)),
                            ("np_html", lambda: run_novapress(["html"])), ("bare_html", lambda: run_bare(commands[:1]))):
                started = time.perf_counter()
                fn()
                results[key].append(time.perf_counter() - started)
        med = {k: statistics.median(v) for k, v in results.items()}
        return [
            ("deck build, novapress (HTML+PDF+PPTX+PNG)", round(med["np_all"], 2), "s"),
            ("deck build, bare marp-cli (same Markdown, 4 commands)", round(med["bare_all"], 2), "s"),
            ("novapress overhead, full deck (target <= 15%)",
             round(100 * (med["np_all"] / med["bare_all"] - 1), 1), "%"),
            ("deck build, novapress one marp run at a time", round(med["np_serial"], 2), "s"),
            ("novapress overhead, one marp run at a time", round(100 * (med["np_serial"] / med["bare_all"] - 1), 1), "%"),
            ("deck HTML only, novapress (what 'present' rebuilds)", round(med["np_html"], 2), "s"),
            ("deck HTML only, bare marp-cli", round(med["bare_html"], 2), "s"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    for name, value, unit in bench_deck():
        print(f"{name:60s} {value:>8} {unit}")
