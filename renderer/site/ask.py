"""Ask: one prompt in, the model's answer out token by token, each with its top alternatives.

The answer is sampled exactly as a trace's top-p continuation is (live_demo.trace: the same
generation config, `torch.manual_seed(seed)` right before `generate`), so the same prompt
and seed stream the same tokens as the build's trace. The raw logits of every step are
caught with a forward hook on the output layer, which is what the trace's probabilities
are computed from; a streamer hands each new token over as soon as it is chosen.

The question becomes model input through `live_demo.encoding.model_input`, the function the
demos use: with the chat template when the model has one (as a chat server does), so the
answer is the assistant's turn. Generation ends at the model's end-of-turn token, which is
streamed as the last token (marked `special`); "done" says `stopped`: "eos" (the model
ended its answer), "length" (cut by the token limit) or "cancelled".

Events (renderer/site/run.py says what each holds): "start" (the model's facts, the question's
tokens inside the chat template, the request, where it runs), "forward" (caught with forward hooks
during generate's first pass over the whole input: the shape at every stage, a few real values,
the first answer token's top-k), one "token" per generated token, then "done". Each run has an id
(in "start"); `cancel(id)` stops it at the next token and returns once the model is free.

torch and transformers are imported when the engine first loads or runs the model.
"""
from __future__ import annotations

import os
import queue
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from live_demo.spec import DemoSpec

from . import run as run_events

MAX_PROMPT_CHARS = 500
MAX_NEW_TOKENS = 64
DEFAULT_NEW_TOKENS = 24
CANCEL_WAIT_S = 10.0     # how long a cancel waits for the model to finish its current step


class AskRejected(Exception):
    """The request cannot be served as asked; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class AskEngine:
    """Holds the model (loaded once, lazily or up front) and runs one answer at a time."""

    seed: int
    template: DemoSpec                        # sampling settings of the preset demos (prompt ignored)
    loader: Callable[[], Any] | None = None   # returns a live_demo LoadedModel
    loaded: Any = None
    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_new_tokens: int = MAX_NEW_TOKENS
    error: str | None = None
    _load_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _run_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _runs: dict = field(default_factory=dict, repr=False)          # run id -> (cancel event, finished event)
    _facts: dict | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.loaded is not None:
            self._ready.set()

    # ------------------------------------------------------------ the model

    def load(self) -> Any:
        """Load the model once (thread-safe); raises AskRejected(503) if it cannot be loaded."""
        with self._load_lock:
            if self.loaded is None and self.error is None:
                try:
                    self.loaded = self.loader()
                except Exception as err:  # noqa: BLE001 - any load failure becomes one message
                    self.error = getattr(err, "message", None) or f"{type(err).__name__}: {err}"
                finally:
                    self._ready.set()
        if self.loaded is None:
            raise AskRejected(503, f"the model could not be loaded: {self.error}")
        return self.loaded

    def load_in_background(self) -> None:
        threading.Thread(target=lambda: self._quiet_load(), name="novapress-model-load", daemon=True).start()

    def _quiet_load(self) -> None:
        try:
            self.load()
        except AskRejected:
            pass

    @property
    def status(self) -> str:
        if self.loaded is not None:
            return "ready"
        return "error" if self.error else "loading"

    def info(self) -> dict:
        model = self.loaded.choice.display if self.loaded is not None else None
        return {"status": self.status, "model": model, "error": self.error, "seed": self.seed,
                "strategy": self.strategy_label(), "max_prompt_chars": self.max_prompt_chars,
                "max_new_tokens": self.max_new_tokens}

    def strategy_label(self) -> str:
        t = self.template
        return run_events.strategy_label("top_p", {"p": t.sample_top_p, "temperature": t.sample_temperature},
                                         self.seed)

    def model_facts(self, loaded: Any) -> dict:
        """The trace's model facts for the loaded model (computed once)."""
        if self._facts is None:
            # torch comes with them: only once a model is loaded
            from live_demo.model_facts import model_info
            from live_demo.trace import rounded
            self._facts = rounded(model_info(loaded))
        return self._facts

    def cancel(self, run_id: str | None, wait: float = CANCEL_WAIT_S) -> bool:
        """Stop the run with this id at its next token; return once the model is free (True),
        or False for an unknown (already finished) run."""
        entry = self._runs.get(run_id) if run_id else None
        if entry is None:
            return False
        cancelled, finished = entry
        cancelled.set()
        finished.wait(wait)
        return True

    # ------------------------------------------------------------ checks

    def check_prompt(self, prompt: str | None) -> str:
        if prompt is None or not prompt.strip():
            raise AskRejected(400, "the question is empty; type something to ask")
        if len(prompt) > self.max_prompt_chars:
            raise AskRejected(413, f"the question is {len(prompt)} characters; at most {self.max_prompt_chars} "
                                   f"are accepted")
        if "\x00" in prompt:
            raise AskRejected(400, "the question holds a NUL character")
        return prompt

    def new_tokens(self, asked: str | None) -> int:
        if asked in (None, ""):
            return min(self.template.max_new_tokens or DEFAULT_NEW_TOKENS, self.max_new_tokens)
        try:
            n = int(asked)
        except ValueError:
            raise AskRejected(400, "max_new_tokens must be a whole number") from None
        if not 1 <= n <= self.max_new_tokens:
            raise AskRejected(400, f"max_new_tokens must be between 1 and {self.max_new_tokens}")
        return n

    # ------------------------------------------------------------ generation

    def stream(self, prompt: str, max_new_tokens: int, cancelled: threading.Event | None = None) -> Iterator[tuple[str, dict]]:
        """Yield ("start", {...}), then ("token", {...}) per generated token, then ("done", {...}).

        Raises AskRejected before the first event when the prompt does not fit the model.
        """
        loaded = self.load()
        cancelled = cancelled or threading.Event()
        run_id = secrets.token_urlsafe(12)
        finished = threading.Event()
        self._runs[run_id] = (cancelled, finished)
        try:
            with self._run_lock:   # one generation at a time: the seeded RNG is process-wide
                yield from self._generate(loaded, prompt, max_new_tokens, cancelled, run_id)
        finally:
            self._runs.pop(run_id, None)
            finished.set()

    def _generate(self, loaded: Any, prompt: str, max_new_tokens: int, cancelled: threading.Event, run_id: str):
        # torch and transformers only when the model runs: serving the site's pages needs neither
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        from live_demo.encoding import model_input, special_ids, token_entry
        from live_demo.errors import DemoInputError
        from live_demo.model_facts import context_length, stop_ids
        from live_demo.trace import (ALTERNATIVES, ForwardRecorder, generation_config, rounded, strategy_settings,
                                     top_tokens)

        model, tokenizer = loaded.model, loaded.tokenizer
        try:   # the very function the build's demos use: same template, same tokens
            inp = model_input(tokenizer, prompt, self.template.chat, who=loaded.choice.display)
        except DemoInputError as err:
            raise AskRejected(400, err.message) from None
        if not inp.tokens:
            raise AskRejected(400, "the question encodes to no tokens; type some text")
        limit = context_length(model.config)
        if len(inp.ids) + max_new_tokens > limit:
            raise AskRejected(413, f"the question makes an input of {len(inp.ids)} tokens; with {max_new_tokens} new "
                                   f"tokens that is more than the {limit} {loaded.choice.display} can read")
        spec = self.template.model_copy(update={"prompt": prompt, "max_new_tokens": max_new_tokens})
        settings = strategy_settings(spec)["top_p"]
        eos_ids = stop_ids(model, tokenizer)
        special = special_ids(tokenizer)
        config = generation_config(model, eos_ids, max_new_tokens=max_new_tokens, use_cache=True, **settings)
        input_ids = torch.tensor([inp.ids])

        events: queue.Queue = queue.Queue()
        last_logits: list[torch.Tensor] = []
        ids: list[int] = []
        done_text = [""]
        facts = self.model_facts(loaded)
        first = inp.question_span[0]
        sample_token = {"id": inp.tokens[0]["id"], "display": inp.tokens[0]["display"]}
        recorder = None          # hooks on every stage, registered just before generate runs

        def catch_logits(_module, _inputs, output):
            last_logits[:] = [output[0, -1].detach()]
            if "logits" not in recorder.shapes:
                # generate's first pass over the whole input has just ended
                recorder.shapes["logits"] = list(output.shape)
                recorder.remove()
                shapes = [{"stage": "input_ids", "shape": list(input_ids.shape)}, *recorder.stage_shapes(),
                          {"stage": "logits", "shape": list(output.shape)}]
                top = rounded(top_tokens(tokenizer, output[0, -1], run_events.PREVIEW_K, special=special))
                samples = rounded(recorder.samples(sample_token))
                events.put(("forward", run_events.forward_event(shapes, samples, top, facts)))

        class Streamer(BaseStreamer):
            prompt_seen = False

            def put(self, value):
                if not self.prompt_seen:       # generate hands over the prompt first
                    self.prompt_seen = True
                    return
                for token_id in value.reshape(-1).tolist():
                    events.put(("token", step_event(token_id)))

            def end(self):
                pass

        def step_event(token_id: int) -> dict:
            # the same arithmetic as live_demo.trace.traced_generate, step by step
            probs = torch.softmax(last_logits[0].double(), dim=-1)
            ranked = torch.topk(probs, ALTERNATIVES + 1).indices.tolist()
            alts = [j for j in ranked if j != token_id][:ALTERNATIVES]
            ids.append(token_id)
            text = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
            if text.endswith("\ufffd"):        # a character split over byte tokens: shown with the last one
                piece = ""
            else:
                piece = text[len(done_text[0]):] if text.startswith(done_text[0]) else tokenizer.decode([token_id])
                done_text[0] = text
            step = rounded({"token": token_entry(token_id, piece, token_id in special), "prob": float(probs[token_id]),
                            "alternatives": [token_entry(j, tokenizer.decode([j]), j in special)
                                             | {"prob": float(probs[j])} for j in alts]})
            return run_events.token_event(len(ids) - 1, step["token"], step["prob"], step["alternatives"])

        class StopWhenCancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        def run():
            hook = model.get_output_embeddings().register_forward_hook(catch_logits)
            try:
                with torch.inference_mode():
                    torch.manual_seed(self.seed)
                    model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config,
                                   streamer=Streamer(), stopping_criteria=StoppingCriteriaList([StopWhenCancelled()]))
                events.put(("end", {}))
            except Exception as err:  # noqa: BLE001 - reported to the client as an error event
                events.put(("error", {"message": f"{type(err).__name__}: {err}"}))
            finally:
                hook.remove()

        yield "start", run_events.start_event(
            prompt=prompt, model=facts, tokens=inp.tokens, chat=inp.chat, n_input=len(inp.ids),
            max_new_tokens=max_new_tokens, temperature=self.template.sample_temperature,
            top_p=self.template.sample_top_p, seed=self.seed, strategy=self.strategy_label(),
            device={"device": model.device.type, "cpu_cores": os.cpu_count()}, source="live", run=run_id)
        recorder = ForwardRecorder(model, first)
        worker = threading.Thread(target=run, name="novapress-ask", daemon=True)
        worker.start()
        try:
            while True:
                kind, data = events.get()
                if kind == "token":
                    yield kind, data
                elif kind == "error":
                    yield kind, data
                    return
                elif kind == "forward":
                    yield kind, data
                else:
                    # the model ended its turn (its end token is the last one streamed), or the limit cut it
                    stopped = "eos" if ids and ids[-1] in eos_ids else ("cancelled" if cancelled.is_set() else "length")
                    last = token_entry(ids[-1], tokenizer.decode([ids[-1]]), ids[-1] in special) if ids else None
                    yield "done", run_events.done_event(
                        stopped=stopped, n_tokens=len(ids), model=facts, n_input=len(inp.ids),
                        max_new_tokens=max_new_tokens, last_token=last,
                        text=tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False))
                    return
        finally:
            cancelled.set()          # the client went away or we finished: stop generating
            worker.join()
            recorder.remove()

