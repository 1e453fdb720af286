"""A stand-in for the Hugging Face hub on loopback, serving model folders as hub repos.

    with HubStub({"gpt2": folder}) as hub:
        env["HF_ENDPOINT"] = hub.url          # then from_pretrained("gpt2") downloads from it
        ...
        hub.stop()                            # the hub goes away; the port stays watched
        ...
        assert hub.attempts_after_stop == 0   # nothing even tried to reach it

It answers what huggingface_hub 2.4 and transformers 5.25 ask while downloading a
model (see NOTES.md, "Chat models and serving"), with the headers they read:
- HEAD/GET /<repo>/resolve/<rev>/<file>: the file, with `ETag`, `X-Repo-Commit`, and
  for weight files (stored in LFS on the real hub) `X-Linked-Etag` (sha256) and
  `X-Linked-Size`; an absent file is 404 `X-Error-Code: EntryNotFound`;
- GET /api/models/<repo>/revision/<rev> and /api/models/<repo>: {"id", "sha", "siblings", "tags"};
- GET /api/models/<repo>/tree/<rev>: the files as {"type", "path", "size", "oid"};
  a sub-folder (e.g. additional_chat_templates) is 404 EntryNotFound;
- an unknown repo is 404 RepoNotFound, an unknown revision 404 RevisionNotFound,
  anything else 404 without a hub error code;
- a private repo (`private={repo: token}`) answers only to `Authorization: Bearer
  <token>`; to anyone else it is 401 RepoNotFound, as the hub hides private repos.
A revision is "main" or the repo's commit, derived from the files' contents, so the
same folder always has the same commit. Every request is recorded in `requests`.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

# Files the real hub keeps in LFS: their etag is the content's sha256, not a git blob id.
LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".h5", ".msgpack", ".onnx")


@dataclass(frozen=True)
class RepoFile:
    path: str        # inside the repo, with "/"
    source: Path
    size: int
    git_oid: str     # sha1 of the git blob
    sha256: str
    lfs: bool


class Repo:
    def __init__(self, repo_id: str, folder: Path):
        self.id = repo_id
        self.files: dict[str, RepoFile] = {}
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                data = p.read_bytes()
                rel = p.relative_to(folder).as_posix()
                self.files[rel] = RepoFile(
                    path=rel, source=p, size=len(data),
                    git_oid=hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                    sha256=hashlib.sha256(data).hexdigest(), lfs=rel.endswith(LFS_SUFFIXES))
        listing = "".join(f"{f.path} {f.git_oid}\n" for f in self.files.values())
        self.commit = hashlib.sha1(f"{repo_id}\n{listing}".encode()).hexdigest()

    def knows(self, revision: str) -> bool:
        return urllib.parse.unquote(revision) in ("main", self.commit)

    def info(self) -> dict:
        return {"id": self.id, "modelId": self.id, "sha": self.commit, "private": False, "tags": [],
                "siblings": [{"rfilename": p} for p in self.files]}

    def tree(self) -> list[dict]:
        out = []
        for f in self.files.values():
            entry = {"type": "file", "path": f.path, "size": f.size, "oid": f.git_oid}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": 134}
            out.append(entry)
        return out


class HubStub:
    """The hub on 127.0.0.1, serving {repo id: folder}. A context manager."""

    def __init__(self, repos: dict[str, Path], private: dict[str, str] | None = None):
        self.repos = {repo_id: Repo(repo_id, Path(folder)) for repo_id, folder in repos.items()}
        self.private = dict(private or {})          # repo id -> the token that may see it
        self.requests: list[tuple[str, str]] = []   # (method, path) of every request served
        self.attempts_after_stop = 0                # connections to the port once stopped
        self._server: http.server.ThreadingHTTPServer | None = None
        self._watch: socket.socket | None = None
        self._watching = threading.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HubStub":
        stub = self

        class Handler(_HubHandler):
            hub = stub

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="hubstub", daemon=True).start()
        return self

    def stop(self) -> None:
        """The hub goes away. Its port stays bound and counts connection attempts,
        which it drops at once (as a closed port would refuse them)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        watch = socket.socket()
        watch.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        watch.bind(("127.0.0.1", self.port))
        watch.listen(16)
        watch.settimeout(0.2)
        self._watch = watch
        self._watching.set()
        threading.Thread(target=self._count_attempts, name="hubstub-watch", daemon=True).start()

    def _count_attempts(self) -> None:
        watch = self._watch
        while self._watching.is_set():
            try:
                conn, _addr = watch.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.attempts_after_stop += 1
            conn.close()

    def close(self) -> None:
        self.stop()
        self._watching.clear()
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def __enter__(self) -> "HubStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def downloads(self) -> list[str]:
        """Paths of the files sent with GET .../resolve/... (HEADs excluded)."""
        return [path for method, path in self.requests if method == "GET" and "/resolve/" in path]


class _HubHandler(http.server.BaseHTTPRequestHandler):
    hub: HubStub
    protocol_version = "HTTP/1.1"   # keep-alive, as the hub; every answer has a Content-Length

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        self.hub.requests.append((self.command, self.path))
        path = urllib.parse.urlsplit(self.path).path
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        for repo_id, token in self.hub.private.items():
            named = parts[2:] if parts[:2] == ["api", "models"] else parts
            if "/".join(named).startswith(repo_id + "/") or "/".join(named) == repo_id:
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._error(401, "RepoNotFound", "Repository not found", head)
        if parts[:2] == ["api", "models"]:
            return self._api(parts[2:], head)
        # /<repo id (one or two parts)>/resolve/<rev>/<file...>
        if "resolve" in parts:
            i = parts.index("resolve")
            repo = self.hub.repos.get("/".join(parts[:i]))
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found", head)
            if len(parts) < i + 3:
                return self._error(404, "EntryNotFound", "Entry not found", head)
            if not repo.knows(parts[i + 1]):
                return self._error(404, "RevisionNotFound", "Invalid rev id", head)
            f = repo.files.get("/".join(parts[i + 2:]))
            if f is None:
                return self._error(404, "EntryNotFound", "Entry not found", head)
            return self._file(repo, f, head)
        return self._error(404, None, "Not found", head)

    def _api(self, rest: list[str], head: bool) -> None:
        # <repo id>/revision/<rev>  |  <repo id>/tree/<rev>[/<sub path>]
        for i, word in enumerate(rest):
            if word in ("revision", "tree") and i > 0:
                repo = self.hub.repos.get("/".join(rest[:i]))
                if repo is None:
                    return self._error(404, "RepoNotFound", "Repository not found", head)
                if len(rest) < i + 2 or not repo.knows(rest[i + 1]):
                    return self._error(404, "RevisionNotFound", "Invalid rev id", head)
                if word == "revision":
                    body = repo.info()
                elif len(rest) > i + 2:  # folders are not modelled: every sub-path is absent
                    return self._error(404, "EntryNotFound", "Entry not found", head)
                else:
                    body = repo.tree()
                return self._json(200, body, head, {"X-Repo-Commit": repo.commit})
        repo = self.hub.repos.get("/".join(rest))
        if repo is not None:  # model info (transformers reads its tags)
            return self._json(200, repo.info(), head, {"X-Repo-Commit": repo.commit})
        return self._error(404, "RepoNotFound" if rest else None, "Repository not found", head)

    def _file(self, repo: Repo, f: RepoFile, head: bool) -> None:
        data = f.source.read_bytes()
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng[6:].split("-")[0].isdigit():
            start = min(int(rng[6:].split("-")[0]), len(data))
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("ETag", f'"{f.git_oid}"')
        if f.lfs:
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(f.size))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if not head:
            self.wfile.write(data[start:])

    def _error(self, status: int, code: str | None, message: str, head: bool) -> None:
        self._json(status, {"error": message}, head, {"X-Error-Code": code} if code else {})

    def _json(self, status: int, body: object, head: bool, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)
