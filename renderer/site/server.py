"""`novapress serve`: the lesson site with a live Ask box, safe to leave running on a laptop.

- Binds 127.0.0.1 unless --host says otherwise; on loopback it also refuses requests
  whose Host header is not a loopback name (a web page elsewhere cannot reach it
  through DNS rebinding).
- Serves only regular files under build/site/: no path traversal, no symlink escape,
  no directory listings; GET and HEAD only.
- GET /api/info: the model and limits. GET /api/ask?prompt=...: server-sent events ("start",
  "forward", one "token" per generated token, "done"; renderer/site/run.py). Prompt length,
  new tokens and concurrent answers are limited: a question waits a few seconds for the one
  before it to finish, then gets 429. POST /api/stop?run=<id from "start">: stops that answer
  and returns once the model is free, so the next question starts at once.
- GET /api/page?prompt=...: "Make my comic page": the visitor's question drawn as a personal
  comic page (renderer.personal), answered as JSON when the page is ready: the URLs of its PNG,
  PDF and transcript under /personal/<key>/, the transcript's text, the answer. The same question
  again is read back from the cache. A few pages wait for the model at once; more get 429.
- Every page is sent with a Content-Security-Policy allowing only the site's own files.
"""
from __future__ import annotations

import json
import mimetypes
import re
import posixpath
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from live_demo.models import fallback_warning, resolve_model
from live_demo.spec import DemoSpec

from ..config import ProjectConfig, load_config
from ..errors import BuildError, InputError
from .ask import AskEngine, AskRejected

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".png": "image/png",
         ".jpg": "image/jpeg", ".svg": "image/svg+xml", ".ttf": "font/ttf", ".woff2": "font/woff2",
         ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8", ".pdf": "application/pdf"}
MAX_CONCURRENT_ASKS = 1
MAX_WAITING_PAGES = 8     # personal pages being made or waiting for the model; more are refused
PERSONAL_FILE = re.compile(r"/personal/([0-9a-f]{32})/page\.(png|pdf|md)")
ASK_WAIT_S = 5.0          # how long a question waits for the answer before it to end


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site_dir: Path, engine: AskEngine,
                 max_concurrent: int = MAX_CONCURRENT_ASKS, log=None, ask_wait: float = ASK_WAIT_S,
                 pages=None, max_waiting_pages: int = MAX_WAITING_PAGES):
        self.site_dir = Path(site_dir).resolve()
        self.pages = pages                       # renderer.personal.PersonalPages, or None: no personal pages
        self.page_slots = threading.BoundedSemaphore(max_waiting_pages)
        self.ask_wait = ask_wait
        self.engine = engine
        self.asks = threading.BoundedSemaphore(max_concurrent)
        self.loopback_only = _is_loopback(address[0])
        self.log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SiteHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "novapress"
    sys_version = ""

    # ------------------------------------------------------------ routing

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_POST(self) -> None:
        if self.server.loopback_only and not self._host_is_loopback():
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "this server only answers requests for localhost"})
            return
        parts = urlsplit(self.path)
        if parts.path != "/api/stop":
            self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "only /api/stop takes POST"})
            return
        run_id = _one(parse_qs(parts.query), "run")
        stopped = self.server.engine.cancel(run_id)
        self._send_json(HTTPStatus.OK, {"stopped": stopped})
        self.close_connection = True     # any request body is left unread

    def _route(self, head: bool) -> None:
        if self.server.loopback_only and not self._host_is_loopback():
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "this server only answers requests for localhost"})
            return
        parts = urlsplit(self.path)
        if parts.path == "/api/info":
            self._send_json(HTTPStatus.OK, self.server.engine.info() | {"personal_pages": self.server.pages is not None},
                            head=head)
        elif parts.path == "/api/ask":
            if head:
                self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET"})
            else:
                self._ask(parse_qs(parts.query, keep_blank_values=True))
        elif parts.path == "/api/page":
            if head:
                self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET"})
            else:
                self._page(parse_qs(parts.query, keep_blank_values=True))
        elif parts.path.startswith("/personal/"):
            self._send_personal(parts.path, head)
        elif parts.path.startswith("/api/"):
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {parts.path}"})
        else:
            self._send_file(parts.path, head)

    def _host_is_loopback(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):
            name = host[: host.find("]") + 1]
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return _is_loopback(name)

    # ------------------------------------------------------------ files

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names inside the site folder, or None (outside, missing, special)."""
        path = unquote(url_path, errors="strict") if "%" in url_path else url_path
        if "\x00" in path or "\\" in path:
            return None
        clean = posixpath.normpath("/" + path.lstrip("/"))
        if clean.endswith("/") or clean == "/" or url_path.endswith("/"):
            clean = clean.rstrip("/") + "/index.html"
        candidate = (self.server.site_dir / clean.lstrip("/"))
        try:
            real = candidate.resolve(strict=True)   # follows symlinks: the target must be inside too
        except (OSError, RuntimeError):
            return None
        if real != self.server.site_dir and self.server.site_dir not in real.parents:
            return None
        return real if real.is_file() else None

    def _send_file(self, url_path: str, head: bool) -> None:
        try:
            file = self.resolve(url_path)
        except UnicodeDecodeError:
            file = None
        if file is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"}, head=head)
            return
        try:
            data = file.read_bytes()
        except OSError:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"}, head=head)
            return
        ctype = TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self._security_headers(deck="deck" in file.relative_to(self.server.site_dir).parts[:1])
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _send_personal(self, url_path: str, head: bool) -> None:
        """A personal page's file: only the three names a page has, inside the pages' cache."""
        match = PERSONAL_FILE.fullmatch(url_path)
        pages = self.server.pages
        file = pages.cache_dir / match.group(1) / f"page.{match.group(2)}" if match and pages else None
        try:
            data = file.read_bytes() if file else None
        except OSError:
            data = None
        if data is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"}, head=head)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", TYPES[f".{match.group(2)}"])
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private, max-age=3600")     # a page's key names its content
        self._security_headers()
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _security_headers(self, deck: bool = False) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        if not deck:   # the Marp deck runs its own inline scripts and styles
            self.send_header("Content-Security-Policy", CSP)

    def _send_json(self, status: int, body: dict, head: bool = False) -> None:
        data = json.dumps(body, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self._security_headers()
        self.end_headers()
        if not head:
            self.wfile.write(data)

    # ------------------------------------------------------------ ask

    def _ask(self, query: dict[str, list[str]]) -> None:
        engine = self.server.engine
        try:
            prompt = engine.check_prompt(_one(query, "prompt"))
            new_tokens = engine.new_tokens(_one(query, "max_new_tokens"))
        except AskRejected as err:
            self._send_json(err.status, {"error": err.message})
            return
        if not self.server.asks.acquire(timeout=self.server.ask_wait):
            self._send_json(HTTPStatus.TOO_MANY_REQUESTS,
                            {"error": "the model is busy answering another question; try again in a moment"})
            return
        cancelled = threading.Event()
        events = engine.stream(prompt, new_tokens, cancelled)
        try:
            try:
                first = next(events)          # load errors and prompts too long fail here, before any bytes
            except AskRejected as err:
                self._send_json(err.status, {"error": err.message})
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self._security_headers()
            self.end_headers()
            self._event(*first)
            for kind, data in events:
                self._event(kind, data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            cancelled.set()                    # the reader went away: stop generating
        finally:
            events.close()
            self.server.asks.release()
        self.close_connection = True

    def _page(self, query: dict[str, list[str]]) -> None:
        pages = self.server.pages
        if pages is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "this server makes no personal pages"})
            return
        from ..personal import check_question   # the page maker: only where pages are asked for
        try:
            question = check_question(_one(query, "prompt"), pages.max_chars)
        except AskRejected as err:
            self._send_json(err.status, {"error": err.message})
            return
        if not self.server.page_slots.acquire(blocking=False):
            self._send_json(HTTPStatus.TOO_MANY_REQUESTS,
                            {"error": "too many pages are being made right now; try again in a minute"})
            return
        try:
            pages.use_model(self.server.engine.load())    # the Ask box's model: loaded once for both
            page = pages.make(question)
        except AskRejected as err:
            self._send_json(err.status, {"error": err.message})
            return
        except Exception as err:  # noqa: BLE001 - a page that cannot be drawn is reported, not a dropped connection
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"the page could not be made: "
                                                                        f"{type(err).__name__}: {err}"})
            return
        finally:
            self.server.page_slots.release()
        base = f"personal/{page.folder.name}/page"
        self._send_json(HTTPStatus.OK, {
            "question": page.question, "title": page.meta.get("title"), "model": page.meta.get("model"),
            "answer": page.answer, "stopped": page.meta.get("stopped"), "cached": page.cached,
            "png": f"{base}.png", "pdf": f"{base}.pdf", "transcript_url": f"{base}.md",
            "transcript": page.transcript.read_text(encoding="utf-8")})

    def _event(self, kind: str, data: dict) -> None:
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
        self.wfile.write(f"event: {kind}\ndata: {payload}\n\n".encode("utf-8"))
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


# ---------------------------------------------------------------- the command

def engine_from_config(config: ProjectConfig) -> AskEngine:
    """An engine for the project's model, loaded lazily through live_demo. It samples as the first of
    the Ask box's preset demos does (novapress.yaml `site: ask_demos:`)."""
    presets = [config.demos[d] for d in config.site.ask_demos if d in config.demos]
    template = (presets[0] if presets else None) or config.demos.get(config.main_demo) or DemoSpec(prompt="?")

    def load():
        from live_demo.loading import load_model   # imports torch: only when the model is wanted

        choice = resolve_model(config.model.id, config.model.revision, config.model.fallback)
        warning = fallback_warning(choice)
        if warning:
            print(f"warning: {warning}", file=sys.stderr, flush=True)
        loaded = load_model(choice, on_progress=lambda m: print(f"novapress: {m}", file=sys.stderr, flush=True))
        print(f"novapress: {loaded.choice.display} loaded; Ask is live", file=sys.stderr, flush=True)
        return loaded

    return AskEngine(seed=config.seed, template=template, loader=load)


def personal_pages(config: ProjectConfig, engine: AskEngine):
    """The maker of "Make my comic page" pages, sharing the Ask box's model and its lock (one model
    run at a time); None, with a warning, when the project cannot draw them."""
    from ..personal import PersonalPages   # the drawing code: only for a server that runs
    try:
        return PersonalPages(config, loader=engine.load, lock=engine._run_lock)
    except InputError as err:
        for problem in err.problems:
            print(f"warning: no personal pages: {problem}", file=sys.stderr)
        return None


def make_server(site_dir: Path, engine: AskEngine, host: str = "127.0.0.1", port: int = 0, **kw) -> SiteServer:
    return SiteServer((host, port), site_dir, engine, **kw)


def site_to_serve(args) -> tuple[Path, object, AskEngine, object]:
    """(site folder, config, engine, personal pages) of `serve`, plain or classroom."""
    site_dir = Path(args.out) / "site"
    if not (site_dir / "index.html").is_file():
        raise InputError(f"no site in {site_dir}/: build it first with 'novapress build site' (or 'make build')")
    config, _ = load_config(Path.cwd())
    engine = engine_from_config(config)
    return site_dir, config, engine, personal_pages(config, engine)


def serve(args) -> int:
    """`novapress serve [--host H] [--port P] [--out build]`."""
    site_dir, _config, engine, pages = site_to_serve(args)
    try:
        server = make_server(site_dir, engine, args.host, args.port, pages=pages)
    except OSError as err:
        raise BuildError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}; "
                         f"choose another port with --port") from None
    engine.load_in_background()
    if not server.loopback_only:
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the model",
              file=sys.stderr)
    print(f"novapress: serving {site_dir}/ at {server.url} (Ctrl+C to stop)", file=sys.stderr, flush=True)
    print(f"novapress: loading the model for Ask in the background", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("novapress: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0

