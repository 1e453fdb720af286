"""Benchmark of the served Ask box for `make bench`: time to the first streamed token and
tokens per second, measured over HTTP like a browser sees them, with the model already loaded."""
from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from ..config import load_config
from .server import engine_from_config, make_server

# an open request (inside the chat template, as Ask sends it): the answer runs long enough to time
PROMPT = "Explain the inference pipeline of a language model step by step."


def _ask_once(host: str, port: int, prompt: str, new_tokens: int) -> tuple[float, float, int]:
    """(seconds to the first token event, seconds to the last, number of tokens) of one answer."""
    conn = http.client.HTTPConnection(host, port, timeout=300)
    start = time.perf_counter()
    conn.request("GET", f"/api/ask?prompt={quote(prompt)}&max_new_tokens={new_tokens}")
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"Ask answered HTTP {resp.status}: {resp.read()[:200]!r}")
    first = last = None
    count = 0
    while True:
        line = resp.readline()
        if not line:
            break
        if line.startswith(b"event: token"):
            last = time.perf_counter() - start
            first = last if first is None else first
            count += 1
        elif line.startswith(b"event: error"):
            raise RuntimeError(f"Ask failed: {resp.readline().decode().strip()}")
    conn.close()
    if first is None:
        raise RuntimeError("Ask streamed no token")
    return first, last, count


def bench_ask(prompt: str = PROMPT, new_tokens: int = 32, repeats: int = 3,
              project: Path | None = None) -> list[tuple[str, float, str]]:
    """[(name, value, unit)] for the project's model behind a local `novapress serve`."""
    config, _ = load_config(Path(project) if project else Path.cwd())
    engine = engine_from_config(config)
    load_start = time.perf_counter()
    loaded = engine.load()
    load_s = time.perf_counter() - load_start
    tag = f"ask [{loaded.choice.display}]"
    with tempfile.TemporaryDirectory(prefix="novapress-bench-site-") as site:
        (Path(site) / "index.html").write_text("bench")
        server = make_server(Path(site), engine, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            host, port = server.server_address[:2]
            _ask_once(host, port, prompt, 4)                  # warm-up: first-call allocations
            runs = [_ask_once(host, port, prompt, new_tokens) for _ in range(repeats)]
        finally:
            server.shutdown()
            server.server_close()
    firsts = [first for first, _last, _n in runs]
    rates = [(n - 1) / (last - first) for first, last, n in runs if n > 1 and last > first]
    results = [(f"{tag} model load (once, at serve start)", load_s, "s"),
               (f"{tag} time to first streamed token (median of {repeats})", statistics.median(firsts), "s")]
    if rates:
        results.append((f"{tag} streamed tokens per second after the first (median of {len(rates)})",
                        statistics.median(rates), "tokens/s"))
    results.append((f"{tag} tokens per answer (max {new_tokens})", float(statistics.median(n for *_x, n in runs)),
                    "tokens"))
    return results


if __name__ == "__main__":
    for name, value, unit in bench_ask():
        print(f"{name}: {value:.3f} {unit}")
