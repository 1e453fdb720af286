"""`novapress present`: serve the HTML decks, rebuild on change, reload the browser.

    present(args, rebuild=..., deck_context=...)

- Serves the output folder (build/) on 127.0.0.1 (the decks in build/slides load comic
  panels and charts from build/comic and build/live); `/` opens the first deck.
- Watches the deck sources, their themes, the storyboards and novapress.yaml by polling
  (no extra dependency, works on every filesystem).
- A changed deck or theme rebuilds only the HTML of the decks, with marp directly,
  when the caller gives `deck_context(deck_path) -> dict`; anything else (and every
  change when it does not) calls `rebuild(changed_paths)`, by default
  `novapress build slides` in a subprocess.
- Reloads the browser through Server-Sent Events. The small reload script is added to
  the HTML as it is served; the files in build/ are never modified. A failed rebuild
  shows its error over the slides until the next good build.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable

from ..config import load_config
from ..errors import BuildError, InputError, rel
from ..progress import Reporter
from .build import build_deck

EVENTS_PATH = "/__novapress/events"

RELOAD_SCRIPT = """<script>/* novapress present: live reload (not part of the built file) */
(function () {
  var box = null;
  function show(msg) {
    if (!box) {
      box = document.createElement("pre");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;margin:0;padding:12px 16px;z-index:99999;" +
        "background:#3a0b1f;color:#ffd6e6;font:14px/1.4 monospace;white-space:pre-wrap;border-top:3px solid #ff3ea5";
      document.body.appendChild(box);
    }
    box.textContent = "novapress: the last rebuild failed, showing the previous deck\\n" + msg;
  }
  var source = new EventSource("%s");
  source.addEventListener("reload", function () { location.reload(); });
  source.addEventListener("failed", function (e) { show(JSON.parse(e.data)); });
})();
</script>""" % EVENTS_PATH


class Changes:
    """Polls files for changes (mtime and size), so it works without inotify."""

    def __init__(self, roots: Iterable[Path], suffixes=(".md", ".css", ".yaml", ".yml", ".png", ".jpg", ".jpeg",
                                                         ".gif", ".svg", ".webp", ".ttf", ".otf", ".woff", ".woff2")):
        self.roots = [Path(r) for r in roots]
        self.suffixes = suffixes
        self.state = self.snapshot()

    def snapshot(self) -> dict[Path, tuple[float, int]]:
        state = {}
        for root in self.roots:
            files = [root] if root.is_file() else (root.rglob("*") if root.is_dir() else [])
            for f in files:
                if f.is_file() and f.suffix.lower() in self.suffixes and not f.name.startswith("."):
                    st = f.stat()
                    state[f] = (st.st_mtime, st.st_size)
        return state

    def poll(self) -> list[Path]:
        """Files added, changed or removed since the last poll."""
        now = self.snapshot()
        changed = [f for f in now.keys() | self.state.keys() if now.get(f) != self.state.get(f)]
        self.state = now
        return sorted(changed)


class Hub:
    """The build version and last error, with waiting for the next change (one per browser tab)."""

    def __init__(self):
        self.version = 0
        self.error: str | None = None
        self.cond = threading.Condition()

    def publish(self, error: str | None) -> None:
        with self.cond:
            self.version += 1
            self.error = error
            self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[int, str | None]:
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version, self.error


class Handler(SimpleHTTPRequestHandler):
    """Static files from the output folder, the reload script in HTML, and the event stream."""

    hub: Hub
    first_deck: str | None = None

    def log_message(self, format, *args):  # quiet: the terminal shows rebuilds, not requests
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == EVENTS_PATH:
            return self._events()
        if path == "/" and self.first_deck:
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", self.first_deck)
            self.end_headers()
            return None
        if path.endswith(".html"):
            return self._html()
        return super().do_GET()

    def _html(self):
        file = Path(self.translate_path(self.path))
        if not file.is_file():
            return self.send_error(HTTPStatus.NOT_FOUND, "no such deck (has it been built?)")
        body = inject_reload(file.read_bytes())
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self):
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = self.hub.version
        try:
            if self.hub.error:
                self._send("failed", json.dumps(self.hub.error))
            while True:
                version, error = self.hub.wait(seen, timeout=15)
                if version == seen:
                    self.wfile.write(b": keep-alive\n\n")
                elif error:
                    self._send("failed", json.dumps(error))
                else:
                    self._send("reload", str(version))
                self.wfile.flush()
                seen = version
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send(self, event: str, data: str) -> None:
        self.wfile.write(f"event: {event}\ndata: {data}\n\n".encode())


def inject_reload(html: bytes) -> bytes:
    """The served page: the built HTML with the reload script before </body>."""
    marker = b"</body>"
    at = html.rfind(marker)
    script = RELOAD_SCRIPT.encode()
    return html[:at] + script + html[at:] if at >= 0 else html + script


def default_rebuild(out_dir: Path) -> Callable[[list[Path]], None]:
    """Rebuild through the novapress CLI (incremental: only what the change touches)."""
    def rebuild(_changed: list[Path]) -> None:
        proc = subprocess.run([sys.executable, "-m", "renderer.cli", "build", "slides", "--out", str(out_dir),
                               "--quiet"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError((proc.stderr or proc.stdout).strip() or f"novapress build exited {proc.returncode}")
    return rebuild


def present(args, rebuild: Callable[[list[Path]], None] | None = None,
            deck_context: Callable[[Path], dict] | None = None, *, decks_dir: Path = Path("slides"),
            theme_dir: Path = Path("slides/themes"), watch: Iterable[Path] = (Path("storyboards"), Path("novapress.yaml")),
            reporter: Reporter | None = None, on_ready: Callable[[str], None] | None = None,
            stop: threading.Event | None = None, poll_interval: float = 0.5) -> int:
    """Serve <args.out> on args.host:args.port until Ctrl-C (or `stop` is set)."""
    reporter = reporter or Reporter()
    out_dir = Path(args.out)
    rebuild = rebuild or default_rebuild(out_dir)
    decks_dir, theme_dir = Path(decks_dir), Path(theme_dir)
    hub = Hub()
    if not any((out_dir / "slides").glob("*.html")):
        reporter.info("present: no deck built yet, building")
        _run_rebuild(rebuild, [], hub, reporter)

    handler = type("DeckHandler", (Handler,), {"hub": hub, "first_deck": _first_deck(out_dir)})
    try:
        server = ThreadingHTTPServer((args.host, args.port), partial(handler, directory=str(out_dir)))
    except OSError as err:
        raise InputError(f"present: cannot listen on {args.host}:{args.port} ({err.strerror}); "
                         "choose another with --port") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://{args.host}:{server.server_address[1]}/"
    reporter.info(f"present: serving {rel(out_dir)} at {url} (Ctrl-C to stop); watching "
                  f"{rel(decks_dir)}, {', '.join(rel(p) for p in watch)}")
    if on_ready is not None:
        on_ready(url)

    changes = Changes([decks_dir, theme_dir, *watch])
    stop = stop or threading.Event()
    try:
        while not stop.wait(poll_interval):
            changed = changes.poll()
            if not changed:
                continue
            reporter.info("present: changed: " + ", ".join(rel(p) for p in changed[:4])
                          + (" ..." if len(changed) > 4 else ""))
            only_decks = all(_is_deck_file(p, decks_dir) for p in changed)
            if only_decks and deck_context is not None:
                _run_deck_rebuild(changed, decks_dir, theme_dir, out_dir, deck_context, hub, reporter)
            else:
                _run_rebuild(rebuild, changed, hub, reporter)
            handler.first_deck = _first_deck(out_dir)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


def _first_deck(out_dir: Path) -> str | None:
    decks = sorted((out_dir / "slides").glob("*.html"))
    return f"/slides/{decks[0].name}" if decks else None


def _is_deck_file(path: Path, decks_dir: Path) -> bool:
    try:
        path.resolve().relative_to(decks_dir.resolve())
        return True
    except ValueError:
        return False


def _run_rebuild(rebuild, changed, hub: Hub, reporter: Reporter) -> None:
    started = time.perf_counter()
    try:
        rebuild(changed)
    except (InputError, BuildError) as err:
        message = str(err)
        reporter.warn(f"present: rebuild failed: {message}")
        hub.publish(message)
        return
    reporter.info(f"present: rebuilt in {time.perf_counter() - started:.1f} s, reloading")
    hub.publish(None)


def _run_deck_rebuild(changed, decks_dir: Path, theme_dir: Path, out_dir: Path, deck_context, hub: Hub,
                      reporter: Reporter) -> None:
    """HTML only, with marp directly: what a speaker editing a slide waits for."""
    config, _ = load_config(Path.cwd())
    decks = [p for p in changed if p.suffix == ".md" and p.exists()]
    if any(p.suffix != ".md" for p in changed):  # a theme, font or image: every deck may use it
        decks = sorted(decks_dir.glob("*.md"))

    def rebuild(_changed):
        for deck in decks:
            build_deck(deck, out_dir, context=deck_context(deck), formats=["html"], theme_dir=theme_dir,
                       timeout=config.slides.timeout, reporter=Reporter(quiet=True))

    _run_rebuild(rebuild, changed, hub, reporter)
