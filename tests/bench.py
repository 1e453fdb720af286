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
  personal "Make my comic page" over HTTP: a new question, then the same one cached, to the image
  classroom 30 simultaneous askers of `serve --classroom`: time to first token, tokens/s per visitor
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
SECTIONS = ("cli", "preview", "render", "rebuild", "cold", "live", "deck", "ask", "personal", "classroom")
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


PERSONAL_QUESTIONS = ("Why do cats purr?", "¿Por qué el cielo es azul?", "How do rainbows form?")


def bench_personal() -> list[tuple[str, float, str]]:
    """Seconds from pressing "Make my comic page" to the image fetched, as a browser would (the
    model loaded, as in a running server): new questions, then the same questions again (cached)."""
    import threading
    import urllib.request
    from urllib.parse import quote

    from renderer.config import load_config
    from renderer.personal import PersonalPages
    from renderer.site.server import engine_from_config, make_server

    config, _ = load_config(ROOT)
    engine = engine_from_config(config)
    loaded = engine.load()
    with tempfile.TemporaryDirectory(prefix="novapress-bench-personal-") as tmp:
        (Path(tmp) / "site").mkdir()
        (Path(tmp) / "site" / "index.html").write_text("bench")
        pages = PersonalPages(config, cache_dir=Path(tmp) / "pages", loader=engine.load, lock=engine._run_lock)
        server = make_server(Path(tmp) / "site", engine, "127.0.0.1", 0, pages=pages)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        def page_to_image(question: str) -> float:
            start = time.perf_counter()
            with urllib.request.urlopen(f"{server.url}api/page?prompt={quote(question)}", timeout=600) as r:
                import json
                made = json.loads(r.read())
            with urllib.request.urlopen(server.url + made["png"], timeout=600) as r:
                r.read()
            return time.perf_counter() - start

        try:
            new = [page_to_image(q) for q in PERSONAL_QUESTIONS]
            cached = [page_to_image(q) for q in PERSONAL_QUESTIONS]
        finally:
            server.shutdown()
            server.server_close()
    tag = f"[{loaded.choice.display}, {config.demos[pages.demo].max_new_tokens} new tokens]"
    return [(f"personal page, new question, Ask to image {tag} (median of {len(new)})", statistics.median(new), "s"),
            (f"personal page, new question, slowest of {len(new)}", max(new), "s"),
            (f"personal page, cached question, Ask to image (median of {len(cached)})", statistics.median(cached), "s")]


def bench_classroom(askers: int = 30, new_tokens: int = 24) -> list[tuple[str, float, str]]:
    """`novapress serve --classroom` on loopback, `askers` visitors asking at the same moment."""
    import http.client
    import threading
    from urllib.parse import quote

    import uvicorn

    from renderer.config import load_config
    from renderer.site.classroom import Classroom, make_app
    from renderer.site.server import engine_from_config

    config, _ = load_config(ROOT)
    engine = engine_from_config(config)
    loaded = engine.load()
    questions = ["Why is the sky blue?", "What is a token?", "How do rainbows form?", "Hi!",
                 "¿Qué es un modelo de lenguaje?", "Explain attention in one sentence."]
    with tempfile.TemporaryDirectory(prefix="novapress-bench-classroom-") as site:
        (Path(site) / "index.html").write_text("bench")
        room = Classroom(engine, max_batch=askers, max_queue=2 * askers)
        server = uvicorn.Server(uvicorn.Config(make_app(Path(site), engine, classroom=room), host="127.0.0.1",
                                               port=0, log_level="warning", backlog=2048))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        go = threading.Barrier(askers)
        results: list = [None] * askers

        def asker(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            go.wait()
            start = time.perf_counter()
            conn.request("GET", f"/api/ask?prompt={quote(questions[i % len(questions)])}&max_new_tokens={new_tokens}")
            resp = conn.getresponse()
            first = last = None
            n = 0
            for raw in resp:
                if raw.startswith(b"event: token"):
                    last = time.perf_counter() - start
                    first = last if first is None else first
                    n += 1
                elif raw.startswith(b"event: done") or raw.startswith(b"event: error"):
                    break
            results[i] = (resp.status, first, last, n)
            conn.close()

        start = time.perf_counter()
        threads = [threading.Thread(target=asker, args=(i,)) for i in range(askers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        server.should_exit = True
    answered = [r for r in results if r and r[0] == 200 and r[3]]
    firsts = [r[1] for r in answered]
    rates = [r[3] / r[2] for r in answered if r[2]]
    tag = f"[{loaded.choice.display}, {askers} askers x up to {new_tokens} tokens]"
    return [(f"classroom: askers answered {tag}", len(answered), "of " + str(askers)),
            ("classroom: batches run (sizes)", len(room.batches), str(room.batches)),
            ("classroom: time to first token, median", statistics.median(firsts), "s"),
            ("classroom: time to first token, slowest", max(firsts), "s"),
            ("classroom: tokens per second per visitor, median", statistics.median(rates), "tok/s"),
            ("classroom: tokens per second in all", sum(r[3] for r in answered) / wall, "tok/s"),
            ("classroom: wall time for all", wall, "s")]


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
