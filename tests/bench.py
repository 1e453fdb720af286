"""`make bench`: the numbers the issues ask for, measured on this machine, printed as a table.

    make bench                      # everything (several minutes)
    make bench ARGS="cli preview"   # only some sections: cli preview render rebuild cold live deck ask

Sections:
  cli      whole-process `novapress render PAGE` (page 5), traces cached: what an author waits for
  preview  `novapress present`: from saving a storyboard to the page redrawn (the browser's reload event)
  render   median time and peak memory to render page 5 (in a fresh process, traces cached)
  rebuild  a second `novapress build` with nothing changed
  cold     a full build into an empty folder with the traces cached, and with --refresh (model runs)
  live     traced generation vs plain model.generate, with/without KV cache; model load times
  deck     deck build via novapress vs bare marp-cli on the same Markdown
  ask      the served Ask box: time to first token, tokens per second
Nothing here asserts: timings vary with the machine's load; tests never depend on them.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOVAPRESS = [sys.executable, "-m", "renderer.cli"]
SECTIONS = ("cli", "preview", "render", "rebuild", "cold", "live", "deck", "ask")
PAGE = Path("storyboards/page-05-inference-pipeline.yaml")

RENDER_SCRIPT = r"""
import json, resource, statistics, sys, time
from pathlib import Path
from renderer.comic_files import png_bytes
from renderer.config import load_config
from renderer.draw import render_page
from renderer.project import load_project
from renderer.stages.comic import render_context
config, _ = load_config(Path("."))
project = load_project(config)
sb = next(s for s in project.storyboards if s.board.page == 5)
traces = {d: json.loads((Path(sys.argv[1]) / "live" / f"{d}.json").read_text()) for d in sb.board.demos}
ctx = render_context(project, traces)
times, writes = [], []
for i in range(int(sys.argv[2])):
    t = time.perf_counter(); r = render_page(sb, ctx); times.append(time.perf_counter() - t)
    t = time.perf_counter(); png_bytes(r.image, 300); writes.append(time.perf_counter() - t)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from renderer import workers
workers.shutdown()              # panel workers: their peak memory counts once they have exited
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"first": times[0], "median": statistics.median(times[1:] or times),
                  "png": statistics.median(writes), "rss": rss, "workers": workers}))
"""


def _timed(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, **kw)
    return time.perf_counter() - start


def bench_cli(runs: int = 5) -> list[tuple[str, float, str]]:
    """The real command in a new process each time, as an author runs it between edits."""
    with tempfile.TemporaryDirectory(prefix="novapress-bench-") as out:
        cmd = NOVAPRESS + ["render", str(PAGE), "-q", "--out", out]
        first = _timed(cmd)     # writes the page's traces and charts into the fresh build folder
        times = [_timed(cmd) for _ in range(runs)]
    return [("novapress render page 5, first run (writes build/live/ too)", first, "s"),
            (f"novapress render page 5, traces cached (median of {runs})", statistics.median(times), "s"),
            (f"novapress render page 5, traces cached (fastest of {runs})", min(times), "s")]


def bench_preview(runs: int = 5) -> list[tuple[str, float, str]]:
    """`novapress present` on a copy of page 5 (the repo's files are never touched): the time from
    writing the storyboard to the reload event the browser gets once the page is redrawn."""
    import json
    import os
    import shutil
    import threading
    import urllib.request
    from types import SimpleNamespace

    import yaml

    from renderer.deck.present import EVENTS_PATH
    from renderer.preview.server import serve_preview
    from renderer.progress import Reporter

    with tempfile.TemporaryDirectory(prefix="novapress-bench-") as tmp:
        proj = Path(tmp)
        (proj / "storyboards").mkdir()
        (proj / "slides" / "themes").mkdir(parents=True)
        shutil.copy(ROOT / "storyboards" / "cast.yaml", proj / "storyboards")
        board = proj / PAGE
        shutil.copy(ROOT / PAGE, board)
        config = yaml.safe_load((ROOT / "novapress.yaml").read_text(encoding="utf-8"))
        config["live"]["cache_dir"] = str((ROOT / config["live"]["cache_dir"]).resolve())  # the stored traces
        config["site"] = False
        (proj / "novapress.yaml").write_text(json.dumps(config))
        os.chdir(proj)
        urls: list[str] = []
        stop = threading.Event()
        args = SimpleNamespace(host="127.0.0.1", port=0, out="build", strict=False, name=None)
        start = time.perf_counter()
        server = threading.Thread(target=serve_preview, args=(args,), daemon=True,
                                  kwargs={"reporter": Reporter(quiet=True), "on_ready": urls.append, "stop": stop})
        server.start()
        while not urls:
            if not server.is_alive():
                raise RuntimeError("the preview server stopped before it served")
            time.sleep(0.05)
        ready = time.perf_counter() - start
        times = []
        try:
            original = board.read_text(encoding="utf-8")
            for i in range(runs):
                with urllib.request.urlopen(urls[0] + EVENTS_PATH.lstrip("/"), timeout=120) as stream:
                    saved = time.perf_counter()
                    board.write_text(original.replace("The inference pipeline is", f"The inference pipeline ({i}) is"),
                                     encoding="utf-8")
                    event = ""
                    while not event.startswith("event: reload"):
                        line = stream.readline().decode()
                        if line.startswith("event: failed"):
                            raise RuntimeError("the saved page failed to draw")
                        event = line if line.startswith("event:") else event
                    times.append(time.perf_counter() - saved)
        finally:
            stop.set()
            server.join(timeout=10)
            os.chdir(ROOT)
    return [("present: start until serving (page 5 drawn)", ready, "s"),
            (f"present: storyboard saved -> page 5 redrawn, reload (median of {runs})", statistics.median(times), "s"),
            (f"present: storyboard saved -> page 5 redrawn, reload (slowest of {runs})", max(times), "s")]


def bench_render(runs: int = 6) -> list[tuple[str, float, str]]:
    subprocess.run(NOVAPRESS + ["build", "live", "-q"], check=True, cwd=ROOT)
    import json

    out = subprocess.run([sys.executable, "-c", RENDER_SCRIPT, "build", str(runs)], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return [("render page 5, first in a process", r["first"], "s"),
            (f"render page 5, median of {runs - 1} more", r["median"], "s"),
            ("encode page 5 PNG (300 dpi)", r["png"], "s"),
            ("peak memory of the render process", r["rss"], "MB"),
            ("peak memory of the largest panel worker (NOVAPRESS_JOBS=1: none)", r["workers"], "MB")]


def bench_rebuild(runs: int = 3) -> list[tuple[str, float, str]]:
    subprocess.run(NOVAPRESS + ["build", "-q"], check=True, cwd=ROOT)
    times = [_timed(NOVAPRESS + ["build", "-q"]) for _ in range(runs)]
    return [(f"no-change rebuild (median of {runs})", statistics.median(times), "s")]


def bench_cold() -> list[tuple[str, float, str]]:
    with tempfile.TemporaryDirectory(prefix="novapress-bench-") as tmp:
        cold = _timed(NOVAPRESS + ["build", "-q", "--out", str(Path(tmp) / "a")])
        refresh = _timed(NOVAPRESS + ["build", "-q", "--refresh", "--out", str(Path(tmp) / "b")])
    return [("full build, empty build folder, traces cached", cold, "s"),
            ("full build, empty build folder, every demo re-run (--refresh)", refresh, "s")]


def bench_live() -> list[tuple[str, float, str]]:
    from live_demo.bench import bench_live as run
    from renderer.config import load_config

    config, _ = load_config(ROOT)
    return run(config.model.id, config.model.revision, config.model.fallback)


def bench_deck() -> list[tuple[str, float, str]]:
    from renderer.deck.bench import bench_deck as run
    return run()


def bench_ask() -> list[tuple[str, float, str]]:
    from renderer.site.bench import bench_ask as run
    return run(project=ROOT)


def main(argv: list[str]) -> int:
    import os

    os.chdir(ROOT)
    chosen = [a for a in argv if a in SECTIONS] or list(SECTIONS)
    unknown = [a for a in argv if a not in SECTIONS]
    if unknown:
        print(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    print(f"novapress bench on {os.cpu_count()} CPU cores ({time.strftime('%Y-%m-%d %H:%M')})")
    for name in chosen:
        print(f"\n[{name}]", flush=True)
        try:
            rows = globals()[f"bench_{name}"]()
        except Exception as err:  # one failing section should not hide the others' numbers
            print(f"  failed: {type(err).__name__}: {err}")
            continue
        for label, value, unit in rows:
            print(f"  {label:<66} {value:10.3f} {unit}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
