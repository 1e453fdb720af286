"""`novapress present [NAME]` (also `novapress preview`): the comic pages and the decks served on
loopback, redrawn when a file is saved and reloaded in the browser.

- `/` lists the pages and decks; `/page/<page-NN>` shows one page (its PNG, refreshed on every
  redraw) with links to the pages before and after; decks are served from build/slides with
  the reload script added as they are served (the files are not modified).
- Saved files are noticed by watchfiles (inotify where the system has it, else polling) in the
  storyboards and deck folders; novapress.yaml and a comic theme outside them are checked by
  their modification time between events, since an editor that saves by renaming would end
  a watch on the file itself.
- What a change redraws is AuthorSession.update's business: a storyboard, its page; a deck, its
  HTML (decks are only built as HTML here); the cast, a theme or the config, everything.
- A failed redraw shows its located errors over the page until the next good one.
"""
from __future__ import annotations

import html
import threading
from functools import partial
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from ..deck.present import EVENTS_PATH, Handler, Hub, inject_reload
from ..errors import InputError, rel, suggest
from ..progress import Reporter
from .session import AuthorSession, Update

PAGE_PREFIX = "/page/"


def present_command(args) -> int:
    return serve_preview(args, reporter=Reporter(quiet=args.quiet))


def serve_preview(args, *, reporter: Reporter, on_ready: Callable[[str], None] | None = None,
                  stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until `stop` is set)."""
    import watchfiles   # only this command watches files

    session = AuthorSession(Path(args.out), reporter, strict=getattr(args, "strict", False))
    first = session.load()
    if not first.ok:
        raise InputError(first.errors)
    start = _start_path(session, getattr(args, "name", None))
    hub = Hub()
    update = session.draw_missing()
    missing_decks = [d for d in session.decks() if not (session.out / "slides" / f"{d.stem}.html").exists()]
    if missing_decks:
        session.deck_html(missing_decks, update)
    _report(update, hub, reporter, quiet_success=True)

    handler = type("PreviewHandler", (PreviewHandler,), {"hub": hub, "session": session, "start": start})
    try:
        server = ThreadingHTTPServer((args.host, args.port), partial(handler, directory=str(session.out)))
    except OSError as err:
        raise InputError(f"present: cannot listen on {args.host}:{args.port} ({err.strerror}); "
                         "choose another with --port") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{args.host}:{server.server_address[1]}/"
    watched = session.watched()
    reporter.info(f"present: serving {url}{start.lstrip('/')} (Ctrl-C to stop); watching "
                  f"{', '.join(rel(p) for p in watched)}")
    if on_ready is not None:
        on_ready(url)

    stop = stop or threading.Event()
    folders = [p for p in watched if p.is_dir()]
    files = {p: _mtime(p) for p in watched if p.is_file()}
    try:
        for events in watchfiles.watch(*folders, stop_event=stop, debounce=150, step=50, rust_timeout=400,
                                       yield_on_timeout=True, watch_filter=_source_file):
            changed = sorted({Path(path) for _change, path in events})
            for f, seen in list(files.items()):
                if _mtime(f) != seen:
                    files[f] = _mtime(f)
                    changed.append(f)
            if not changed:
                continue
            reporter.info("present: changed: " + ", ".join(rel(p) for p in changed[:4])
                          + (" ..." if len(changed) > 4 else ""))
            _report(session.update(changed), hub, reporter)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


def _source_file(_change, path: str) -> bool:
    name = Path(path).name
    return not name.startswith(".") and not name.endswith(("~", ".swp", ".tmp"))


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _report(update: Update, hub: Hub, reporter: Reporter, *, quiet_success: bool = False) -> None:
    for w in update.warnings:
        reporter.warn(str(w))
    if update.errors:
        message = "\n".join(str(e) for e in update.errors)
        for e in update.errors:
            reporter.warn(f"present: {e}")
        hub.publish(message)
        return
    if update.written and not quiet_success:
        reporter.info(f"present: redrawn in {update.seconds:.1f} s ({len(update.written)} files), reloading")
    hub.publish(None)


def _start_path(session: AuthorSession, name: str | None) -> str:
    """Where `/` leads: the named deck or page, else the index."""
    if not name:
        return "/index"
    decks = [d.stem for d in session.decks()]
    if name in decks:
        return f"/slides/{name}.html"
    for sb in session.pages():
        if name in (sb.page_name, sb.path.stem):
            return f"{PAGE_PREFIX}{sb.page_name}"
    choices = decks + [sb.page_name for sb in session.pages()]
    raise InputError(f"present: no deck or page named '{name}'{suggest(name, choices)}")


class PreviewHandler(Handler):
    """The deck server's handler plus the index and the page views."""

    session: AuthorSession
    start: str = "/index"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", self.start)
            self.end_headers()
            return None
        if path == "/index":
            return self._send_html(self._index())
        if path.startswith(PAGE_PREFIX):
            return self._page(path[len(PAGE_PREFIX):])
        return super().do_GET()

    def _send_html(self, body: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        data = inject_reload(body.encode("utf-8"))
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _index(self) -> str:
        pages = "".join(f'<li><a href="{PAGE_PREFIX}{sb.page_name}">{sb.board.page}. {html.escape(sb.board.title)}'
                        f'</a></li>' for sb in self.session.pages())
        decks = "".join(f'<li><a href="/slides/{d.stem}.html">{html.escape(d.stem)}</a></li>'
                        for d in self.session.decks())
        return _shell("novapress preview", f"<h1>Pages</h1><ol>{pages}</ol><h1>Decks</h1><ul>{decks}</ul>")

    def _page(self, name: str) -> None:
        pages = self.session.pages()
        names = [sb.page_name for sb in pages]
        if name not in names:
            return self.send_error(HTTPStatus.NOT_FOUND, f"no page {name}")
        i = names.index(name)
        sb = pages[i]
        nav = " ".join(filter(None, [
            f'<a href="{PAGE_PREFIX}{names[i - 1]}">&larr; {names[i - 1]}</a>' if i > 0 else "",
            '<a href="/index">all pages</a>',
            f'<a href="{PAGE_PREFIX}{names[i + 1]}">{names[i + 1]} &rarr;</a>' if i + 1 < len(names) else ""]))
        problems = self.session.page_errors.get(name, []) + self.session.page_warnings.get(name, [])
        notes = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
        body = (f'<nav>{nav}</nav><h1>{html.escape(sb.board.title)} <small>{html.escape(sb.file)}</small></h1>'
                + (f'<ul class="problems">{notes}</ul>' if notes else "")
                + f'<img src="/comic/pages/{name}.png?v={self.hub.version}" alt="page {sb.board.page}">')
        return self._send_html(_shell(f"{name}: {sb.board.title}", body))


def _shell(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>"
            "body{background:#0b1233;color:#e8ecff;font:15px/1.45 system-ui,sans-serif;margin:16px 24px}"
            "a{color:#ff7ac8}img{max-width:100%;max-height:calc(100vh - 120px);display:block;margin:8px auto}"
            "small{color:#9aa6d8;font-size:60%}.problems{color:#ffd6e6;font-family:monospace}"
            f"</style></head><body>{body}</body></html>")


__all__ = ["present_command", "serve_preview", "EVENTS_PATH"]
