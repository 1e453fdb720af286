"""One demo run, recorded: the trace every comic panel, chart and slide shows.

Everything in a trace comes from the real run of the loaded model: tokens and their
character spans from the tokenizer, tensor shapes from forward hooks, probabilities
from the logits, continuations from transformers' own `generate` (asked to return its
per-step logits, so tracing costs next to nothing over a plain call).

What the model reads comes from live_demo.encoding, the model's facts from
live_demo.model_facts; this module runs the model and assembles the trace.
"""
from __future__ import annotations

import os
import time
from typing import Any

import torch
from transformers import GenerationConfig

from .encoding import model_input, padded_batch, special_ids, token_entry, token_pieces
from .errors import DemoInputError
from .loading import LoadedModel
from .model_facts import as_ids, context_length, model_info, model_stages, stop_ids, versions
from .spec import DemoSpec, attention_layers, attention_pair, attention_problem
from .tokenizers import compare

ALTERNATIVES = 5          # runner-up tokens recorded per generated step
SIGNIFICANT = 6           # digits kept in every float, so the JSON is stable


# ---------------------------------------------------------------- forward pass with shapes

SAMPLED_STAGES = ("embeddings", "block 0", "final norm")   # where a few real values are recorded
SAMPLE_VALUES = 4                                           # how many: the first numbers of one token's vector


class ForwardRecorder:
    """Forward hooks on every stage that keep the FIRST call's output shape, and the first
    SAMPLE_VALUES numbers of one position's vector at SAMPLED_STAGES. The first call is the
    forward pass over the whole input (generate's prefill too); later calls are ignored."""

    def __init__(self, model: Any, position: int = 0):
        self.position = position
        self.shapes: dict[str, list[int]] = {}
        self.values: dict[str, list[float]] = {}
        self.order = [stage for stage, _m in model_stages(model)]
        self._hooks = [module.register_forward_hook(self._hook(stage)) for stage, module in model_stages(model)]

    def _hook(self, stage: str):
        def hook(_m, _inp, out):
            if stage in self.shapes:
                return
            tensor = out if torch.is_tensor(out) else next(t for t in out if torch.is_tensor(t))
            self.shapes[stage] = list(tensor.shape)
            if stage in SAMPLED_STAGES and tensor.dim() == 3 and tensor.shape[1] > self.position:
                self.values[stage] = [float(v) for v in tensor[0, self.position, :SAMPLE_VALUES].tolist()]
        return hook

    def remove(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def stage_shapes(self) -> list[dict]:
        return [{"stage": s, "shape": self.shapes[s]} for s in self.order if s in self.shapes]

    def samples(self, token: dict | None) -> dict:
        """The trace's `samples`: which token, and its first numbers at each sampled stage."""
        return {"position": self.position, "token": token, "count": SAMPLE_VALUES,
                "values": [{"stage": s, "values": self.values[s]} for s in SAMPLED_STAGES if s in self.values]}


def forward_with_shapes(model: Any, input_ids: torch.Tensor, sample_at: int = 0,
                        sample_token: dict | None = None) -> tuple[list[dict], torch.Tensor, dict]:
    """One forward pass; returns the shape at every stage, the last position's logits, and
    a few real values of position `sample_at` at the sampled stages."""
    recorder = ForwardRecorder(model, sample_at)
    try:
        out = model(input_ids, use_cache=False)
    finally:
        recorder.remove()
    shapes = [{"stage": "input_ids", "shape": list(input_ids.shape)}, *recorder.stage_shapes(),
              {"stage": "logits", "shape": list(out.logits.shape)}]
    return shapes, out.logits[0, -1], recorder.samples(sample_token)


# ---------------------------------------------------------------- next token

def top_tokens(tokenizer: Any, logits: torch.Tensor, k: int, temperature: float = 1.0,
               special: set[int] | None = None) -> list[dict]:
    """The k likeliest next tokens with their raw logit and softmax(logits / T) probability."""
    special = special_ids(tokenizer) if special is None else special
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    values, ids = torch.topk(logits, k)
    return [token_entry(i, tokenizer.decode([i]), i in special) | {"logit": float(v), "prob": float(probs[i])}
            for v, i in zip(values.tolist(), ids.tolist())]


def next_token(tokenizer: Any, logits: torch.Tensor, spec: DemoSpec) -> dict:
    return {"top": top_tokens(tokenizer, logits, spec.top_k),
            "temperatures": [{"t": t, "top": top_tokens(tokenizer, logits, spec.top_k, t)} for t in spec.temperatures]}


# ---------------------------------------------------------------- decoding strategies

def generation_config(model: Any, eos_ids: list[int] | None = None, **settings: Any) -> GenerationConfig:
    """A config that says every decoding knob explicitly, so a model's own defaults
    (a hub generation_config with top_k=20, say) cannot change a strategy. `eos_ids`
    (see stop_ids) end generation; default: the model's own."""
    own = model.generation_config
    eos = list(eos_ids) if eos_ids else own.eos_token_id
    pad = own.pad_token_id if own.pad_token_id is not None else (as_ids(eos) or [None])[0]
    base = {"eos_token_id": eos, "bos_token_id": own.bos_token_id, "pad_token_id": pad,
            "num_beams": 1, "do_sample": False, "repetition_penalty": 1.0}
    if settings.get("do_sample"):
        base |= {"top_k": 0, "top_p": 1.0, "temperature": 1.0}
    return GenerationConfig(**(base | settings))


def strategy_settings(spec: DemoSpec) -> dict[str, dict]:
    floor = {"min_new_tokens": min(spec.min_new_tokens, spec.max_new_tokens)} if spec.min_new_tokens else {}
    return {
        "greedy": {"do_sample": False} | floor,
        "top_k": {"do_sample": True, "top_k": spec.sample_top_k, "temperature": spec.sample_temperature} | floor,
        "top_p": {"do_sample": True, "top_p": spec.sample_top_p, "temperature": spec.sample_temperature} | floor,
        "beam": {"do_sample": False, "num_beams": spec.num_beams} | floor,
    }


def until_stop(new_ids: list[int], eos_ids: list[int]) -> list[int]:
    """The generated ids up to and including the first end token (beam search pads after it)."""
    for i, token_id in enumerate(new_ids):
        if token_id in eos_ids:
            return new_ids[: i + 1]
    return new_ids


def traced_generate(model: Any, tokenizer: Any, input_ids: torch.Tensor, settings: dict, seed: int,
                    max_new_tokens: int, use_cache: bool = True, eos_ids: list[int] | None = None) -> dict:
    """Run one strategy through model.generate and record every step."""
    eos_ids = list(eos_ids) if eos_ids is not None else stop_ids(model, tokenizer)
    special = special_ids(tokenizer)
    beam = settings.get("num_beams", 1) > 1
    config = generation_config(model, eos_ids, max_new_tokens=max_new_tokens, use_cache=use_cache, **settings)
    torch.manual_seed(seed)
    out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config,
                         return_dict_in_generate=True, output_logits=not beam, output_scores=True)
    n_in = input_ids.shape[1]
    new_ids = until_stop(out.sequences[0, n_in:].tolist(), eos_ids)
    if beam:  # beam scores mix beams; the model's own view of the winner is one forward pass away
        logits = model(out.sequences[:, : n_in + len(new_ids)], use_cache=False).logits[0, n_in - 1:-1]
        raw, processed = list(logits[: len(new_ids)]), None
    else:
        raw = [step[0] for step in out.logits]
        processed = [step[0] for step in out.scores] if settings.get("do_sample") else None
    pieces = token_pieces(tokenizer, new_ids)
    steps = []
    for i, token_id in enumerate(new_ids):
        probs = torch.softmax(raw[i].double(), dim=-1)
        ranked = torch.topk(probs, ALTERNATIVES + 1).indices.tolist()
        alts = [j for j in ranked if j != token_id][:ALTERNATIVES]
        step = {"token": token_entry(token_id, pieces[i], token_id in special), "prob": float(probs[token_id]),
                "alternatives": [token_entry(j, tokenizer.decode([j]), j in special) | {"prob": float(probs[j])}
                                 for j in alts]}
        if processed is not None:  # what the sampler actually drew from (after temperature, top-k/top-p)
            step["strategy_prob"] = float(torch.softmax(processed[i].double(), dim=-1)[token_id])
        steps.append(step)
    result = {"text": tokenizer.decode(new_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
              "tokens": [s["token"] for s in steps], "steps": steps,
              "stopped": "eos" if new_ids and new_ids[-1] in eos_ids else "length"}
    if beam and getattr(out, "sequences_scores", None) is not None:
        result["score"] = float(out.sequences_scores[0])
    return result


def run_strategies(model: Any, tokenizer: Any, input_ids: torch.Tensor, spec: DemoSpec, seed: int,
                   eos_ids: list[int] | None = None, only: tuple[str, ...] | None = None) -> dict:
    """Every decoding strategy (or only those named: a page that shows one need not wait for four)."""
    results = {}
    for name, settings in strategy_settings(spec).items():
        if only is None or name in only:
            results[name] = traced_generate(model, tokenizer, input_ids, settings, seed, spec.max_new_tokens,
                                            eos_ids=eos_ids)
    extra = {"top_k": {"k": spec.sample_top_k, "temperature": spec.sample_temperature},
             "top_p": {"p": spec.sample_top_p, "temperature": spec.sample_temperature},
             "beam": {"num_beams": spec.num_beams}}
    for name, fields in extra.items():
        if name in results:
            results[name] |= fields
    return results


# ---------------------------------------------------------------- optional parts

def eager_attentions(model, input_ids: torch.Tensor) -> tuple:
    """Every layer's attention weights for the input, [batch, heads, T, T] each."""
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")  # SDPA returns no attention weights
    try:
        return model(input_ids, output_attentions=True, use_cache=False).attentions
    finally:
        model.set_attn_implementation(previous)


def attention_map(loaded: LoadedModel, input_ids: torch.Tensor, tokens: list[dict], layer: int, head: int,
                  question_span: tuple[int, int] | None = None) -> dict:
    """One head's attention over the whole input; `question_span` says where the question sits in it."""
    attentions = eager_attentions(loaded.model, input_ids)
    weights = attentions[layer][0, head]
    span = list(question_span) if question_span is not None else [0, len(tokens)]
    return {"layer": layer, "head": head, "tokens": [t["display"] for t in tokens], "weights": weights.tolist(),
            "question_span": span}


OVERVIEW_CELLS = 12       # an every-layer overview pools each map to at most this many cells a side


def attention_heads(loaded: LoadedModel, input_ids: torch.Tensor, tokens: list[dict], layers: list[int],
                    question_span: tuple[int, int] | None = None) -> dict:
    """Every head of `layers`, for an overview an author picks a head from. One layer keeps its
    maps whole; every layer at once pools each map (mean over blocks of tokens) to at most
    OVERVIEW_CELLS a side, with `groups` saying which tokens each cell covers."""
    attentions = eager_attentions(loaded.model, input_ids)
    n = input_ids.shape[1]
    pooled = len(layers) > 1 and n > OVERVIEW_CELLS
    cells = OVERVIEW_CELLS if pooled else n
    # contiguous groups of tokens, as even as they come
    edges = [round(i * n / cells) for i in range(cells + 1)]
    groups = [[edges[i], edges[i + 1]] for i in range(cells)]
    maps = {}
    for layer in layers:
        weights = attentions[layer][0]                # heads x n x n
        if pooled:
            weights = torch.stack([torch.stack([weights[:, a:b, c:d].mean(dim=(1, 2)) for c, d in groups], dim=-1)
                                   for a, b in groups], dim=-2)
        # three significant digits: a picture to choose from, not data to compute with
        maps[str(layer)] = [[[float(f"{w:.3g}") for w in row] for row in head] for head in weights.tolist()]
    span = list(question_span) if question_span is not None else [0, len(tokens)]
    return {"layers": layers, "n_heads": int(attentions[layers[0]].shape[1]), "pooled": pooled,
            "tokens": [t["display"] for t in tokens], "groups": groups, "question_span": span, "maps": maps}


def timing(model: Any, input_ids: torch.Tensor, new_tokens: int, repeats: int = 3,
           eos_ids: list[int] | None = None) -> dict:
    """Greedy generation of exactly new_tokens tokens with and without the KV cache (the end
    token is held back here, so both sides make the same number of tokens).

    Runs alternate (with, without, with, ...) and the best of each counts, so a burst of
    load from another process on a shared machine does not land on one side only.
    """
    configs = {use: generation_config(model, eos_ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                      use_cache=use) for use in (True, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for use in (True, False):
            start = time.perf_counter()
            model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=configs[use])
            times[use].append(time.perf_counter() - start)
    with_cache, without_cache = min(times[True]), min(times[False])
    return {"new_tokens": new_tokens, "input_tokens": int(input_ids.shape[1]), "with_cache_s": with_cache,
            "without_cache_s": without_cache, "speedup": without_cache / with_cache,
            "device": model.device.type, "cpu_cores": os.cpu_count(), "threads": torch.get_num_threads()}


# ---------------------------------------------------------------- the whole trace

def check_demo(loaded: LoadedModel, name: str, spec: DemoSpec, n_input: int, chat: bool) -> None:
    display, cfg = loaded.choice.display, loaded.model.config
    limit = context_length(cfg)
    if n_input + spec.max_new_tokens > limit:
        raise DemoInputError(f"demo '{name}': the input is {n_input} tokens and {spec.max_new_tokens} more are "
                             f"generated, but {display} reads at most {limit} tokens; shorten the prompt",
                             demo=name, field="prompt")
    if spec.attention is not None:
        problem = attention_problem(spec.attention, cfg.num_hidden_layers, cfg.num_attention_heads, display)
        if problem:
            raise DemoInputError(f"demo '{name}': {problem}", demo=name, field="attention")
    for other in spec.batch_with:
        if not other.strip():
            raise DemoInputError(f"demo '{name}': batch_with has an empty prompt; remove it or write its text",
                                 demo=name, field="batch_with")
        n = len(model_input(loaded.tokenizer, other, chat).ids)
        if n > limit:
            raise DemoInputError(f"demo '{name}': batch_with prompt is {n} tokens, more than {display}'s {limit}",
                                 demo=name, field="batch_with")


def run_demo(loaded: LoadedModel, name: str, spec: DemoSpec, seed: int,
             strategies: tuple[str, ...] | None = None) -> dict:
    """Run one demo on the loaded model and return its trace (every field is described in live_demo/trace_fields.py).
    `strategies`: only these decoding strategies (default: all four)."""
    if not spec.prompt or not spec.prompt.strip():
        raise DemoInputError(f"demo '{name}': the prompt is empty; write the text the model should read",
                             demo=name, field="prompt")
    model, tokenizer = loaded.model, loaded.tokenizer
    try:
        inp = model_input(tokenizer, spec.prompt, spec.chat, who=loaded.choice.display)
    except DemoInputError as err:
        raise DemoInputError(f"demo '{name}': {err.message}", demo=name, field="chat") from None
    if not inp.tokens:
        raise DemoInputError(f"demo '{name}': the prompt encodes to no tokens; write some text",
                             demo=name, field="prompt")
    check_demo(loaded, name, spec, len(inp.ids), chat=inp.chat is not None)
    input_ids = torch.tensor([inp.ids])
    pair = attention_pair(spec.attention)
    info = model_info(loaded)
    with torch.inference_mode():
        first = inp.question_span[0]
        sample_token = {"id": inp.tokens[0]["id"], "display": inp.tokens[0]["display"]} if inp.tokens else None
        shapes, last_logits, samples = forward_with_shapes(model, input_ids, first, sample_token)
        all_tokens = inp.chat["tokens"] if inp.chat else inp.tokens
        trace = {
            "demo": name, "model": info, "versions": versions(), "seed": seed,
            "prompt": spec.prompt, "params": spec.model_dump(mode="json"), "tokens": inp.tokens, "chat": inp.chat,
            "shapes": shapes, "samples": samples, "next_token": next_token(tokenizer, last_logits, spec),
            "strategies": run_strategies(model, tokenizer, input_ids, spec, seed, eos_ids=info["eos_ids"],
                                         only=strategies),
            "attention": (attention_map(loaded, input_ids, all_tokens, *pair, question_span=inp.question_span)
                          if pair else None),
            "timing": timing(model, input_ids, spec.max_new_tokens, eos_ids=info["eos_ids"]) if spec.timing else None,
            "batch": (padded_batch(tokenizer, [spec.prompt, *spec.batch_with], chat=inp.chat is not None)
                      if spec.batch_with else None),
        }
        if spec.compare_tokenizers:
            trace["tokenizers"] = compare(spec.prompt, spec.compare_tokenizers, tokenizer)
        layers = attention_layers(spec.attention, model.config.num_hidden_layers)
        if layers:
            trace["attention_heads"] = attention_heads(loaded, input_ids, all_tokens, layers,
                                                       question_span=inp.question_span)
    return rounded(trace)


def rounded(value: Any) -> Any:
    """Every float to SIGNIFICANT digits, recursively: stable JSON across runs."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value
