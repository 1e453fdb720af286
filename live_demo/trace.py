"""One demo run, recorded: the trace every comic panel, chart and slide shows.

Everything in a trace comes from the real run of the loaded model: tokens and their
character spans from the tokenizer, tensor shapes from forward hooks, probabilities
from the logits, continuations from transformers' own `generate` (asked to return its
per-step logits, so tracing costs next to nothing over a plain call).
"""
from __future__ import annotations

import importlib.metadata
import os
import time
from typing import Any

import torch
from transformers import GenerationConfig

from .errors import DemoInputError
from .formatting import visible
from .loading import LoadedModel
from .spec import DemoSpec

ALTERNATIVES = 5          # runner-up tokens recorded per generated step
SIGNIFICANT = 6           # digits kept in every float, so the JSON is stable


# ---------------------------------------------------------------- tokens

def token_entry(token_id: int, text: str) -> dict:
    return {"id": int(token_id), "text": text, "display": visible(text)}


def encode_prompt(tokenizer: Any, prompt: str) -> list[dict]:
    """Prompt tokens with ids, text and the character span each covers in the prompt."""
    try:
        enc = tokenizer(prompt, return_offsets_mapping=True)
        spans = [tuple(s) for s in enc["offset_mapping"]]
    except (NotImplementedError, TypeError, ValueError):  # a slow tokenizer: spans from decoded prefixes
        enc = tokenizer(prompt)
        spans = _spans_by_decoding(tokenizer, enc["input_ids"], prompt)
    tokens = []
    for token_id, (start, end) in zip(enc["input_ids"], spans):
        text = prompt[start:end] if end > start else tokenizer.decode([token_id])
        tokens.append(token_entry(token_id, text) | {"span": [int(start), int(end)]})
    return tokens


def _spans_by_decoding(tokenizer: Any, ids: list[int], prompt: str) -> list[tuple[int, int]]:
    spans, prev = [], 0
    for i in range(len(ids)):
        end = min(len(tokenizer.decode(ids[: i + 1])), len(prompt))
        spans.append((prev, end))
        prev = end
    return spans


def token_pieces(tokenizer: Any, ids: list[int]) -> list[str]:
    """The text each generated token adds; a character split over several byte tokens
    is given to the token that completes it (the others get "")."""
    pieces, done = [], ""
    for i in range(len(ids)):
        text = tokenizer.decode(ids[: i + 1], clean_up_tokenization_spaces=False)
        if text.endswith("\ufffd"):  # an incomplete character: the next token completes it
            pieces.append("")
            continue
        # a decoder that rewrites earlier text (rare) gets the token decoded alone
        pieces.append(text[len(done):] if text.startswith(done) else tokenizer.decode([ids[i]]))
        done = text
    return pieces


# ---------------------------------------------------------------- model facts

def context_length(config: Any) -> int:
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def model_info(loaded: LoadedModel) -> dict:
    model, choice, cfg = loaded.model, loaded.choice, loaded.model.config
    return {
        "id": choice.id, "display": choice.display, "requested": choice.requested, "source": choice.source,
        "revision": choice.revision, "weights_sha256": choice.weights_sha256,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "vocab_size": int(cfg.vocab_size), "context_length": context_length(cfg),
        "n_layers": int(cfg.num_hidden_layers), "d_model": int(cfg.hidden_size), "n_heads": int(cfg.num_attention_heads),
        # the feed-forward width: Llama-style configs name it intermediate_size, GPT-2 n_inner (None: 4 x d_model)
        "d_ff": int(getattr(cfg, "intermediate_size", None) or getattr(cfg, "n_inner", None) or 4 * cfg.hidden_size),
        "ffn": "gated (SwiGLU)" if getattr(cfg, "hidden_act", "") == "silu" else "two-layer MLP",
    }


def versions() -> dict:
    def v(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None
    return {"torch": v("torch"), "transformers": v("transformers"), "novapress": v("novapress")}


# ---------------------------------------------------------------- forward pass with shapes

def _stages(model: Any) -> list[tuple[str, torch.nn.Module]]:
    """(stage name, module) for embeddings, every block and the final norm, found
    structurally so GPT-2 (wte, h, ln_f) and Llama-like models (embed_tokens, layers,
    norm) both work."""
    stages = [("embeddings", model.get_input_embeddings())]
    children = list(model.base_model.named_children())
    n_layers = model.config.num_hidden_layers
    for i, (_name, module) in enumerate(children):
        if isinstance(module, torch.nn.ModuleList) and len(module) == n_layers:
            stages += [(f"block {j}", block) for j, block in enumerate(module)]
            norm = next((m for _n, m in children[i + 1:] if type(m).__name__.endswith("Norm")), None)
            if norm is not None:
                stages.append(("final norm", norm))
            break
    return stages


def forward_with_shapes(model: Any, input_ids: torch.Tensor) -> tuple[list[dict], torch.Tensor]:
    """One forward pass; returns the shape at every stage and the last position's logits."""
    seen: dict[str, list[int]] = {}
    hooks = []
    for stage, module in _stages(model):
        def hook(_m, _inp, out, stage=stage):
            tensor = out if torch.is_tensor(out) else next(t for t in out if torch.is_tensor(t))
            seen.setdefault(stage, list(tensor.shape))
        hooks.append(module.register_forward_hook(hook))
    try:
        out = model(input_ids, use_cache=False)
    finally:
        for h in hooks:
            h.remove()
    shapes = [{"stage": "input_ids", "shape": list(input_ids.shape)}]
    shapes += [{"stage": s, "shape": seen[s]} for s, _m in _stages(model) if s in seen]
    shapes.append({"stage": "logits", "shape": list(out.logits.shape)})
    return shapes, out.logits[0, -1]


# ---------------------------------------------------------------- next token

def top_tokens(tokenizer: Any, logits: torch.Tensor, k: int, temperature: float = 1.0) -> list[dict]:
    """The k likeliest next tokens with their raw logit and softmax(logits / T) probability."""
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    values, ids = torch.topk(logits, k)
    return [token_entry(i, tokenizer.decode([i])) | {"logit": float(v), "prob": float(probs[i])}
            for v, i in zip(values.tolist(), ids.tolist())]


def next_token(tokenizer: Any, logits: torch.Tensor, spec: DemoSpec) -> dict:
    return {"top": top_tokens(tokenizer, logits, spec.top_k),
            "temperatures": [{"t": t, "top": top_tokens(tokenizer, logits, spec.top_k, t)} for t in spec.temperatures]}


# ---------------------------------------------------------------- decoding strategies

def generation_config(model: Any, **settings: Any) -> GenerationConfig:
    """A config that says every decoding knob explicitly, so a model's own defaults
    (a hub generation_config with top_k=20, say) cannot change a strategy."""
    own = model.generation_config
    pad = own.pad_token_id if own.pad_token_id is not None else own.eos_token_id
    base = {"eos_token_id": own.eos_token_id, "bos_token_id": own.bos_token_id, "pad_token_id": pad,
            "num_beams": 1, "do_sample": False, "repetition_penalty": 1.0}
    if settings.get("do_sample"):
        base |= {"top_k": 0, "top_p": 1.0, "temperature": 1.0}
    return GenerationConfig(**(base | settings))


def strategy_settings(spec: DemoSpec) -> dict[str, dict]:
    floor = {"min_new_tokens": min(spec.min_new_tokens, spec.max_new_tokens)}
    return {
        "greedy": {"do_sample": False} | floor,
        "top_k": {"do_sample": True, "top_k": spec.sample_top_k, "temperature": spec.sample_temperature} | floor,
        "top_p": {"do_sample": True, "top_p": spec.sample_top_p, "temperature": spec.sample_temperature} | floor,
        "beam": {"do_sample": False, "num_beams": spec.num_beams} | floor,
    }


def traced_generate(model: Any, tokenizer: Any, input_ids: torch.Tensor, settings: dict, seed: int,
                    max_new_tokens: int, use_cache: bool = True) -> dict:
    """Run one strategy through model.generate and record every step."""
    beam = settings.get("num_beams", 1) > 1
    config = generation_config(model, max_new_tokens=max_new_tokens, use_cache=use_cache, **settings)
    torch.manual_seed(seed)
    out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config,
                         return_dict_in_generate=True, output_logits=not beam, output_scores=True)
    new_ids = out.sequences[0, input_ids.shape[1]:].tolist()
    if beam:  # beam scores mix beams; the model's own view of the winner is one forward pass away
        logits = model(out.sequences, use_cache=False).logits[0, input_ids.shape[1] - 1:-1]
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
        step = {"token": token_entry(token_id, pieces[i]), "prob": float(probs[token_id]),
                "alternatives": [token_entry(j, tokenizer.decode([j])) | {"prob": float(probs[j])} for j in alts]}
        if processed is not None:  # what the sampler actually drew from (after temperature, top-k/top-p)
            step["strategy_prob"] = float(torch.softmax(processed[i].double(), dim=-1)[token_id])
        steps.append(step)
    result = {"text": tokenizer.decode(new_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
              "tokens": [s["token"] for s in steps], "steps": steps}
    if beam and getattr(out, "sequences_scores", None) is not None:
        result["score"] = float(out.sequences_scores[0])
    return result


def run_strategies(model: Any, tokenizer: Any, input_ids: torch.Tensor, spec: DemoSpec, seed: int) -> dict:
    results = {}
    for name, settings in strategy_settings(spec).items():
        results[name] = traced_generate(model, tokenizer, input_ids, settings, seed, spec.max_new_tokens)
    results["top_k"] |= {"k": spec.sample_top_k, "temperature": spec.sample_temperature}
    results["top_p"] |= {"p": spec.sample_top_p, "temperature": spec.sample_temperature}
    results["beam"] |= {"num_beams": spec.num_beams}
    return results


# ---------------------------------------------------------------- optional parts

def attention_map(loaded: LoadedModel, input_ids: torch.Tensor, tokens: list[dict], layer: int, head: int) -> dict:
    model = loaded.model
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")  # SDPA returns no attention weights
    try:
        out = model(input_ids, output_attentions=True, use_cache=False)
    finally:
        model.set_attn_implementation(previous)
    weights = out.attentions[layer][0, head]
    return {"layer": layer, "head": head, "tokens": [t["display"] for t in tokens], "weights": weights.tolist()}


def timing(model: Any, input_ids: torch.Tensor, new_tokens: int, repeats: int = 3) -> dict:
    """Greedy generation of exactly new_tokens tokens with and without the KV cache.

    Runs alternate (with, without, with, ...) and the best of each counts, so a burst of
    load from another process on a shared machine does not land on one side only.
    """
    configs = {use: generation_config(model, max_new_tokens=new_tokens, min_new_tokens=new_tokens, use_cache=use)
               for use in (True, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for use in (True, False):
            start = time.perf_counter()
            model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=configs[use])
            times[use].append(time.perf_counter() - start)
    with_cache, without_cache = min(times[True]), min(times[False])
    return {"new_tokens": new_tokens, "with_cache_s": with_cache, "without_cache_s": without_cache,
            "speedup": without_cache / with_cache,
            "machine": f"measured on this machine ({os.cpu_count()} CPU cores)"}


def padded_batch(tokenizer: Any, prompts: list[str]) -> dict:
    """The prompts padded to one rectangle, as a server batches them."""
    if tokenizer.pad_token_id is not None:
        pad_id = tokenizer.pad_token_id
    else:  # GPT-2 has no pad token: the usual choice is its end-of-text token
        pad_id = tokenizer.eos_token_id
    rows = [tokenizer(p)["input_ids"] for p in prompts]
    width = max(len(r) for r in rows)
    side = tokenizer.padding_side
    ids, mask, shown = [], [], []
    pad_text = tokenizer.decode([pad_id])
    for r in rows:
        fill = width - len(r)
        pieces = [visible(tokenizer.decode([i])) for i in r]
        if side == "left":
            ids.append([pad_id] * fill + r), mask.append([0] * fill + [1] * len(r)), shown.append([pad_text] * fill + pieces)
        else:
            ids.append(r + [pad_id] * fill), mask.append([1] * len(r) + [0] * fill), shown.append(pieces + [pad_text] * fill)
    return {"prompts": prompts, "pad_token": {"id": int(pad_id), "text": pad_text, "is_eos": pad_id == tokenizer.eos_token_id},
            "padding_side": side, "input_ids": ids, "attention_mask": mask, "tokens": shown, "shape": [len(rows), width]}


# ---------------------------------------------------------------- the whole trace

def check_demo(loaded: LoadedModel, name: str, spec: DemoSpec, tokens: list[dict]) -> None:
    display, cfg = loaded.choice.display, loaded.model.config
    limit = context_length(cfg)
    if len(tokens) + spec.max_new_tokens > limit:
        raise DemoInputError(f"demo '{name}': the prompt is {len(tokens)} tokens and {spec.max_new_tokens} more are "
                             f"generated, but {display} reads at most {limit} tokens; shorten the prompt")
    if spec.attention is not None:
        layer, head = spec.attention
        n_layers, n_heads = cfg.num_hidden_layers, cfg.num_attention_heads
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise DemoInputError(f"demo '{name}': attention [{layer}, {head}] does not exist in {display}, which has "
                                 f"layers 0-{n_layers - 1} and heads 0-{n_heads - 1}")
    for other in spec.batch_with:
        if not other.strip():
            raise DemoInputError(f"demo '{name}': batch_with has an empty prompt; remove it or write its text")
        n = len(loaded.tokenizer(other)["input_ids"])
        if n > limit:
            raise DemoInputError(f"demo '{name}': batch_with prompt is {n} tokens, more than {display}'s {limit}")


def run_demo(loaded: LoadedModel, name: str, spec: DemoSpec, seed: int) -> dict:
    """Run one demo on the loaded model and return its trace (see the contract in the brief)."""
    if not spec.prompt or not spec.prompt.strip():
        raise DemoInputError(f"demo '{name}': the prompt is empty; write the text the model should read")
    model, tokenizer = loaded.model, loaded.tokenizer
    tokens = encode_prompt(tokenizer, spec.prompt)
    if not tokens:
        raise DemoInputError(f"demo '{name}': the prompt encodes to no tokens; write some text")
    check_demo(loaded, name, spec, tokens)
    input_ids = torch.tensor([[t["id"] for t in tokens]])
    with torch.inference_mode():
        shapes, last_logits = forward_with_shapes(model, input_ids)
        trace = {
            "demo": name, "model": model_info(loaded), "versions": versions(), "seed": seed,
            "prompt": spec.prompt, "params": spec.model_dump(mode="json"), "tokens": tokens, "shapes": shapes,
            "next_token": next_token(tokenizer, last_logits, spec),
            "strategies": run_strategies(model, tokenizer, input_ids, spec, seed),
            "attention": attention_map(loaded, input_ids, tokens, *spec.attention) if spec.attention else None,
            "timing": timing(model, input_ids, spec.max_new_tokens) if spec.timing else None,
            "batch": padded_batch(tokenizer, [spec.prompt, *spec.batch_with]) if spec.batch_with else None,
        }
        if spec.compare_tokenizers:
            from .tokenizers import compare

            trace["tokenizers"] = compare(spec.prompt, spec.compare_tokenizers, trace["model"]["display"])
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
