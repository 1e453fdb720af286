"""`novapress serve --classroom`: the lesson site for a whole class at once, on Starlette and uvicorn.

Questions that arrive together are generated together, the way inference servers batch: the
scheduler thread waits a moment (`window`) after the first waiting question, takes up to
`max_batch` of them, and runs them as one left-padded batch through the model, streaming each
visitor's tokens as they are chosen. Each row samples with its own random generator seeded with
the server's seed, with the same processing as transformers' top-p sampling, so a question gets
the same answer in a batch as alone. Waiting questions form a bounded queue: each visitor is
told its position ("queued" events) until its batch starts; past `max_queue` waiting, a question
is refused with 429.

Events (server-sent, via sse-starlette): "queued" {position}, then "start", one "token" per
token and "done" as renderer/site/run.py defines them (no "forward": the batch's first pass
serves many questions at once). Everything else (the site's files, /api/info, /api/page and the
personal pages' files) is served as `novapress serve` serves it, with the same loopback-only
and Content-Security-Policy rules.
"""
from __future__ import annotations

import asyncio
import os
import queue
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError, InputError
from . import run as run_events
from .ask import AskEngine, AskRejected
from .server import CSP, LOOPBACK_NAMES, PERSONAL_FILE, TYPES, _is_loopback, site_to_serve

MAX_BATCH = 32
MAX_QUEUE = 64
WINDOW_S = 0.05


@dataclass(eq=False)
class Request:
    prompt: str
    ids: list[int]
    inp: Any
    max_new_tokens: int
    events: queue.Queue = field(default_factory=queue.Queue)    # (kind, data) for the visitor
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: bool = False


def sample_together(model: Any, inputs: list[list[int]], max_new: list[int], seed: int, top_p: float,
                    temperature: float, eos_ids: list[int], pad_id: int, on_token) -> None:
    """Generate for several inputs as one left-padded batch with a KV cache; each row samples with
    its own generator seeded with `seed` (as `torch.manual_seed(seed)` before a lone `generate`)
    after transformers' own temperature and top-p warpers. `on_token(row, token_id, probs_row)`;
    a row stops at an end token or at its max_new tokens (or when on_token returns False)."""
    import torch
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

    n, width = len(inputs), max(len(x) for x in inputs)
    ids = torch.tensor([[pad_id] * (width - len(x)) + x for x in inputs])
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in inputs])
    warpers = LogitsProcessorList(([TemperatureLogitsWarper(temperature)] if temperature != 1.0 else [])
                                  + ([TopPLogitsWarper(top_p)] if top_p < 1.0 else []))
    generators = [torch.Generator().manual_seed(seed) for _ in range(n)]
    active = [True] * n
    made = [0] * n
    past = None
    step_ids = ids
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        while any(active):
            out = model(input_ids=step_ids, attention_mask=mask, position_ids=positions, cache=past, use_cache=True)
            past = out.cache if hasattr(out, "cache") else out.past_key_values
            logits = out.logits[:, -1, :].to(dtype=torch.float32)
            chosen = []
            for row in range(n):
                if not active[row]:
                    chosen.append(pad_id)
                    continue
                scores = warpers(ids[row: row + 1], logits[row: row + 1])
                probs = torch.softmax(scores, dim=-1)
                token = int(torch.multinomial(probs, num_samples=1, generator=generators[row])[0, 0])
                made[row] += 1
                keep = on_token(row, token, torch.softmax(logits[row].double(), dim=-1))
                if token in eos_ids or made[row] >= max_new[row] or keep is False:
                    active[row] = False
                chosen.append(token)
            step_ids = torch.tensor(chosen).unsqueeze(1)
            ids = torch.cat([ids, step_ids], dim=1)
            mask = torch.cat([mask, torch.ones((n, 1), dtype=mask.dtype)], dim=1)
            positions = positions[:, -1:] + 1


class Classroom:
    """The bounded queue and the scheduler thread that batches what waits in it."""

    def __init__(self, engine: AskEngine, max_batch: int = MAX_BATCH, max_queue: int = MAX_QUEUE,
                 window: float = WINDOW_S):
        self.engine = engine
        self.max_batch, self.max_queue, self.window = max_batch, max_queue, window
        self.waiting: deque[Request] = deque()
        self.cond = threading.Condition()
        self.batches: list[int] = []        # sizes of the batches run (for tests and the bench)
        threading.Thread(target=self._loop, name="novapress-classroom", daemon=True).start()

    def submit(self, prompt: str, max_new_tokens: int) -> Request:
        # the model's code (torch) only once a question comes: serving files needs none of it
        from live_demo.encoding import model_input
        from live_demo.errors import DemoInputError
        from live_demo.model_facts import context_length

        loaded = self.engine.load()
        try:
            inp = model_input(loaded.tokenizer, prompt, self.engine.template.chat, who=loaded.choice.display)
        except DemoInputError as err:
            raise AskRejected(400, err.message) from None
        if not inp.tokens:
            raise AskRejected(400, "the question encodes to no tokens; type some text")
        limit = context_length(loaded.model.config)
        if len(inp.ids) + max_new_tokens > limit:
            raise AskRejected(413, f"the question makes an input of {len(inp.ids)} tokens; with {max_new_tokens} new "
                                   f"tokens that is more than the {limit} {loaded.choice.display} can read")
        req = Request(prompt, inp.ids, inp, max_new_tokens)
        with self.cond:
            if len(self.waiting) >= self.max_queue:
                raise AskRejected(429, f"{len(self.waiting)} questions are waiting, the most this server queues; "
                                       f"try again in a moment")
            self.waiting.append(req)
            self.cond.notify()
        return req

    def position(self, req: Request) -> int:
        """1 for the next batch's first place, ...; 0 once its batch runs."""
        with self.cond:
            try:
                return self.waiting.index(req) + 1
            except ValueError:
                return 0

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.waiting:
                    self.cond.wait()
            time.sleep(self.window)           # let the questions asked at the same moment arrive
            with self.cond:
                batch = [self.waiting.popleft() for _ in range(min(self.max_batch, len(self.waiting)))]
            batch = [r for r in batch if not r.cancelled.is_set()]
            if batch:
                try:
                    self._run(batch)
                except Exception as err:  # noqa: BLE001 - every visitor of the batch hears of it
                    for r in batch:
                        r.events.put(("error", {"message": f"{type(err).__name__}: {err}"}))

    def _run(self, batch: list[Request]) -> None:
        # the model's code (torch) only once a batch runs
        from live_demo.encoding import special_ids, token_entry
        from live_demo.model_facts import stop_ids
        from live_demo.trace import ALTERNATIVES, rounded

        engine = self.engine
        loaded = engine.load()
        model, tokenizer = loaded.model, loaded.tokenizer
        facts = engine.model_facts(loaded)
        eos_ids = stop_ids(model, tokenizer)
        special = special_ids(tokenizer)
        pad = model.generation_config.pad_token_id
        pad = pad if pad is not None else eos_ids[0]
        t = engine.template
        self.batches.append(len(batch))
        ids: list[list[int]] = [[] for _ in batch]
        texts = [""] * len(batch)
        for r in batch:
            r.started = True
            r.events.put(("start", run_events.start_event(
                prompt=r.prompt, model=facts, tokens=r.inp.tokens, chat=r.inp.chat, n_input=len(r.ids),
                max_new_tokens=r.max_new_tokens, temperature=t.sample_temperature, top_p=t.sample_top_p,
                seed=engine.seed, strategy=engine.strategy_label(),
                device={"device": model.device.type, "cpu_cores": os.cpu_count(), "batch": len(batch)},
                source="live", run=None)))

        def on_token(row: int, token_id: int, probs) -> bool:
            import torch
            r = batch[row]
            ids[row].append(token_id)
            text = tokenizer.decode(ids[row], clean_up_tokenization_spaces=False)
            if text.endswith("\ufffd"):
                piece = ""
            else:
                piece = text[len(texts[row]):] if text.startswith(texts[row]) else tokenizer.decode([token_id])
                texts[row] = text
            ranked = torch.topk(probs, ALTERNATIVES + 1).indices.tolist()
            alts = [j for j in ranked if j != token_id][:ALTERNATIVES]
            step = rounded({"token": token_entry(token_id, piece, token_id in special), "prob": float(probs[token_id]),
                            "alternatives": [token_entry(j, tokenizer.decode([j]), j in special)
                                             | {"prob": float(probs[j])} for j in alts]})
            r.events.put(("token", run_events.token_event(len(ids[row]) - 1, step["token"], step["prob"],
                                                          step["alternatives"])))
            return not r.cancelled.is_set()

        with engine._run_lock:               # the personal pages take turns with the batches
            sample_together(model, [r.ids for r in batch], [r.max_new_tokens for r in batch], engine.seed,
                            t.sample_top_p, t.sample_temperature, eos_ids, pad, on_token)
        for row, r in enumerate(batch):
            done = ids[row]
            stopped = "eos" if done and done[-1] in eos_ids else ("cancelled" if r.cancelled.is_set() else "length")
            last = token_entry(done[-1], tokenizer.decode([done[-1]]), done[-1] in special) if done else None
            r.events.put(("done", run_events.done_event(
                stopped=stopped, n_tokens=len(done), model=facts, n_input=len(r.ids), max_new_tokens=r.max_new_tokens,
                last_token=last, text=tokenizer.decode(done, skip_special_tokens=True,
                                                        clean_up_tokenization_spaces=False))))


# ---------------------------------------------------------------- the web application

def make_app(site_dir: Path, engine: AskEngine, pages=None, classroom: Classroom | None = None,
             loopback_only: bool = True):
    """The Starlette application: the site's files, /api/info, /api/ask (batched), /api/page."""
    import json

    from sse_starlette.sse import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    classroom = classroom or Classroom(engine)

    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            host = (request.headers.get("host") or "").strip().lower()
            name = host[: host.find("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0]
            if loopback_only and not (name in LOOPBACK_NAMES or _is_loopback(name)):
                return JSONResponse({"error": "this server only answers requests for localhost"}, status_code=403)
            response = await call_next(request)
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Frame-Options"] = "DENY"
            if not request.url.path.startswith("/deck/"):
                response.headers["Content-Security-Policy"] = CSP
            return response

    async def info(request):
        return JSONResponse(engine.info() | {"personal_pages": pages is not None, "classroom": {
            "max_batch": classroom.max_batch, "max_queue": classroom.max_queue, "waiting": len(classroom.waiting)}})

    async def ask(request):
        try:
            prompt = engine.check_prompt(request.query_params.get("prompt"))
            new_tokens = engine.new_tokens(request.query_params.get("max_new_tokens"))
            req = await run_in_threadpool(classroom.submit, prompt, new_tokens)
        except AskRejected as err:
            return JSONResponse({"error": err.message}, status_code=err.status)

        async def events():
            told = None
            try:
                while True:
                    try:
                        kind, data = req.events.get_nowait()
                    except queue.Empty:
                        if not req.started:
                            where = classroom.position(req)
                            if where and where != told:
                                told = where
                                yield {"event": "queued", "data": json.dumps({"position": where})}
                        await asyncio.sleep(0.02)
                        continue
                    yield {"event": kind, "data": json.dumps(data, ensure_ascii=False, sort_keys=True)}
                    if kind in ("done", "error"):
                        return
            finally:
                req.cancelled.set()       # the visitor went away, or the answer is complete

        # "\n" line ends, as the stdlib server sends them (the site's reader splits events on "\n\n")
        return EventSourceResponse(events(), ping=15, sep="\n", headers={"Cache-Control": "no-store",
                                                               "X-Accel-Buffering": "no"})

    async def page(request):
        if pages is None:
            return JSONResponse({"error": "this server makes no personal pages"}, status_code=404)
        from ..personal import check_question   # the page maker: only where pages are asked for
        try:
            question = check_question(request.query_params.get("prompt"), pages.max_chars)
            pages.use_model(await run_in_threadpool(engine.load))
            made = await run_in_threadpool(pages.make, question)
        except AskRejected as err:
            return JSONResponse({"error": err.message}, status_code=err.status)
        base = f"personal/{made.folder.name}/page"
        return JSONResponse({"question": made.question, "title": made.meta.get("title"), "model": made.meta.get("model"),
                             "answer": made.answer, "stopped": made.meta.get("stopped"), "cached": made.cached,
                             "png": f"{base}.png", "pdf": f"{base}.pdf", "transcript_url": f"{base}.md",
                             "transcript": made.transcript.read_text(encoding="utf-8")})

    async def personal_file(request):
        match = PERSONAL_FILE.fullmatch(request.url.path)
        file = pages.cache_dir / match.group(1) / f"page.{match.group(2)}" if match and pages else None
        if file is None or not file.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(file.read_bytes(), media_type=TYPES[f".{match.group(2)}"])

    routes = [Route("/api/info", info), Route("/api/ask", ask), Route("/api/page", page),
              Route("/personal/{rest:path}", personal_file),
              Mount("/", app=StaticFiles(directory=str(site_dir), html=True))]
    app = Starlette(routes=routes, middleware=[Middleware(Guard)])
    app.state.classroom = classroom
    return app


def serve_classroom(args) -> int:
    """`novapress serve --classroom`: the same site on Starlette and uvicorn, questions batched."""
    import uvicorn

    site_dir, _config, engine, pages = site_to_serve(args)
    if args.max_batch < 1 or args.queue < 1:
        raise InputError("--max-batch and --queue must be at least 1")
    loopback = _is_loopback(args.host)
    app = make_app(site_dir, engine, pages=pages, classroom=Classroom(engine, args.max_batch, args.queue),
                   loopback_only=loopback)
    engine.load_in_background()
    if not loopback:
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the model",
              file=sys.stderr)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"novapress: serving {site_dir}/ for a classroom at http://{host}:{args.port}/ (up to {args.max_batch} "
          f"questions generated together, {args.queue} waiting; Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", backlog=2048)
    except OSError as err:
        raise BuildError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}; "
                         f"choose another port with --port") from None
    return 0
