"""One question's way through the pipeline, as the tour shows it: the same events whether they
stream live from `novapress serve` (renderer/site/ask.py) or are replayed from a cached trace
when the site is opened from disk.

    start    what the server made of the question: the model's facts, the question's tokens,
             the chat template around them (or none), the request an API client would send,
             where the model runs
    forward  the forward pass over the whole input: the shape at every stage, a few real
             values of one token's vector, the first answer token's top-k
    token    one decoded token with its probability and runners-up (one event per token)
    done     how the answer ended: "eos" (the model's end token), "length" (cut by the limit)
             or "cancelled" (the visitor pressed Stop)

Every number a visitor reads is formatted here with live_demo.formatting, so the page's script
never formats a trace value itself and a number reads the same on every page.
Torch-free: the site build imports it for cached traces.
"""
from __future__ import annotations

from typing import Any

from live_demo.formatting import count, data_size, megabytes, params, pct, plural, value

PREVIEW_K = 8            # runner-up tokens shown for the first answer token
STRATEGY_ORDER = ("greedy", "top_k", "top_p", "beam")
STRATEGY_NAMES = {"greedy": "greedy decoding", "top_k": "top-k sampling", "top_p": "top-p (nucleus) sampling",
                  "beam": "beam search"}


# ---------------------------------------------------------------- labels

def strategy_label(name: str, data: dict, seed: int | None) -> str:
    """How an answer was decoded, in words, with its settings: every answer the site shows says so."""
    if name == "top_p":
        return f"top-p sampling (p = {data.get('p')}, temperature {data.get('temperature')}, seed {seed})"
    if name == "top_k":
        return f"top-k sampling (k = {data.get('k')}, temperature {data.get('temperature')}, seed {seed})"
    if name == "beam":
        return f"beam search ({data.get('num_beams')} beams)"
    return "greedy decoding (always the likeliest token)"


def bytes_per_number(model: dict) -> int | None:
    n, size = model.get("n_params"), model.get("bytes")
    return round(size / n) if n and size else None


def kv_cache_bytes(model: dict, n_tokens: int) -> int | None:
    """Keys and values of every layer for n_tokens positions: 2 x layers x kv heads x head size x
    tokens x bytes per number. None when the trace does not record the key/value heads."""
    per = bytes_per_number(model)
    if per is None or model.get("n_kv_heads") is None or model.get("head_dim") is None:
        return None
    return 2 * model["n_layers"] * model["n_kv_heads"] * model["head_dim"] * n_tokens * per


# ---------------------------------------------------------------- parts of events

def token_view(t: dict) -> dict:
    out = {"id": t["id"], "display": t["display"]}
    return out | {"special": True} if t.get("special") else out


def model_view(m: dict) -> dict:
    """The model's facts as the tour states them: raw values for sentences that branch on them,
    and the numbers already formatted."""
    keep = ("display", "name", "model_type", "dtype", "n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim",
            "d_ff", "positions", "norm", "activation", "ffn", "tied_embeddings", "chat_template", "source",
            "requested", "eos_ids", "n_params", "bytes", "vocab_size", "context_length", "classes")
    view = {k: m.get(k) for k in keep}
    view |= {
        "params_short": params(m["n_params"]), "n_params_text": count(m["n_params"]),
        "bytes_text": megabytes(m["bytes"]) if m.get("bytes") else None,
        "vocab_text": count(m["vocab_size"]), "context_text": count(m["context_length"]),
        "d_ff_text": count(m["d_ff"]) if m.get("d_ff") else None,
        "bytes_per_number": bytes_per_number(m),
        "special_tokens": [{"id": s["id"], "display": s["display"], "role": s["role"], "roles": s.get("roles", [s["role"]])}
                           for s in m.get("special_tokens", [])],
        "weights_sha256": (m.get("weights_sha256") or "")[:12] or None,
    }
    per_token = kv_cache_bytes(m, 1)
    view["kv_per_token_text"] = data_size(per_token) if per_token is not None else None
    return view


def request_view(prompt: str, model: dict, chat: bool, max_new_tokens: int, temperature: float | None,
                 top_p: float | None, seed: int | None) -> dict:
    """The JSON body an API client would send for this question (OpenAI-style field names)."""
    body: dict[str, Any] = {"model": model.get("name") or model.get("display")}
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    body |= {"max_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "seed": seed, "stream": True}
    return body


def start_event(*, prompt: str, model: dict, tokens: list[dict], chat: dict | None, n_input: int,
                max_new_tokens: int, temperature: float | None, top_p: float | None, seed: int | None,
                strategy: str, device: dict | None, source: str, run: str | None = None) -> dict:
    """What the server made of the question, before the model computes anything."""
    chat_view = None
    if chat:
        chat_view = {"tokens": [token_view(t) for t in chat["tokens"]], "question_span": list(chat["question_span"]),
                     "system": chat.get("system"), "n_special": sum(1 for t in chat["tokens"] if t.get("special"))}
    kv_prefill = kv_cache_bytes(model, n_input)
    return {
        "source": source, "run": run, "prompt": prompt, "prompt_bytes": len(prompt.encode("utf-8")),
        "prompt_chars": len(prompt),
        "model": model_view(model), "tokens": [token_view(t) for t in tokens], "n_tokens": len(tokens),
        "chat": chat_view, "n_input": n_input, "n_input_text": plural(n_input, "token"),
        "max_new_tokens": max_new_tokens, "seed": seed, "strategy": strategy,
        "request": request_view(prompt, model, chat is not None, max_new_tokens, temperature, top_p, seed),
        "device": device, "fits": n_input + max_new_tokens <= model["context_length"],
        "kv_prefill_text": data_size(kv_prefill) if kv_prefill is not None else None,
    }


def forward_event(shapes: list[dict], samples: dict | None, top: list[dict], model: dict) -> dict:
    """The forward pass over the whole input."""
    sample_view = None
    if samples and samples.get("values"):
        sample_view = {"token": samples.get("token"), "position": samples.get("position"),
                       "count": samples.get("count"), "of": model.get("d_model"),
                       "values": [{"stage": v["stage"], "values": [value(x) for x in v["values"]]}
                                  for v in samples["values"]]}
    return {
        "shapes": [{"stage": s["stage"], "shape": list(s["shape"])} for s in shapes],
        "samples": sample_view,
        "top": [token_view(t) | {"pct": pct(t["prob"]), "prob": t["prob"],
                                 "logit": value(t["logit"]) if t.get("logit") is not None else None}
                for t in top[:PREVIEW_K]],
        "top_total": pct(min(1.0, sum(t["prob"] for t in top[:PREVIEW_K]))),
    }


def token_event(index: int, token: dict, prob: float, alternatives: list[dict]) -> dict:
    """One decoded token: what it adds to the text, its probability and the runners-up."""
    return token_view(token) | {
        "index": index, "text": token["text"], "prob": prob, "pct": pct(prob),
        "alternatives": [token_view(a) | {"pct": pct(a["prob"])} for a in alternatives]}


def done_event(*, stopped: str, n_tokens: int, text: str, model: dict, n_input: int, max_new_tokens: int,
               last_token: dict | None = None) -> dict:
    """How the answer ended, and what it cost in memory traffic (rough, from the model's facts)."""
    kv_total = kv_cache_bytes(model, n_input + n_tokens)
    weights = model.get("bytes")
    return {
        "stopped": stopped, "n_tokens": n_tokens, "n_tokens_text": plural(n_tokens, "token"), "text": text,
        "max_new_tokens": max_new_tokens, "end_token": token_view(last_token) if last_token and stopped == "eos" else None,
        "kv_total_text": data_size(kv_total) if kv_total is not None else None,
        "weights_read_text": data_size(weights * n_tokens) if weights and n_tokens else None,
    }


def strategies_view(trace: dict) -> list[dict]:
    """Every answer a cached trace holds, each labelled by how it was decoded."""
    out = []
    for name in STRATEGY_ORDER:
        data = (trace.get("strategies") or {}).get(name)
        if not data or "steps" not in data:
            continue
        out.append({"name": name, "kind": STRATEGY_NAMES[name], "label": strategy_label(name, data, trace.get("seed")),
                    "text": data["text"], "stopped": data.get("stopped"), "n_tokens": len(data["steps"]),
                    "n_tokens_text": plural(len(data["steps"]), "token"),
                    "first": token_view(data["steps"][0]["token"]) | {"pct": pct(data["steps"][0]["prob"])}
                    if data["steps"] else None})
    return out


# ---------------------------------------------------------------- a cached trace as events

REPLAY_STRATEGY = "top_p"    # the served Ask samples this way too, so a replay and a live answer agree


def replay_strategy(trace: dict) -> tuple[str, dict] | None:
    strategies = trace.get("strategies") or {}
    for name in (REPLAY_STRATEGY, "greedy"):
        if strategies.get(name, {}).get("steps"):
            return name, strategies[name]
    return None


def trace_events(trace: dict) -> dict | None:
    """A cached trace as the events a live run would stream, for the page to replay."""
    found = replay_strategy(trace)
    if found is None:
        return None
    name, data = found
    model = trace["model"]
    params = trace.get("params") or {}
    timing = trace.get("timing") or None
    device = {"device": timing["device"], "cpu_cores": timing.get("cpu_cores")} if timing and timing.get("device") else None
    n_input = trace["shapes"][0]["shape"][-1] if trace.get("shapes") else len(trace["tokens"])
    start = start_event(prompt=trace["prompt"], model=model, tokens=trace["tokens"], chat=trace.get("chat"),
                        n_input=n_input, max_new_tokens=params.get("max_new_tokens", len(data["steps"])),
                        temperature=data.get("temperature"), top_p=data.get("p"), seed=trace.get("seed"),
                        strategy=strategy_label(name, data, trace.get("seed")), device=device, source="cached")
    forward = forward_event(trace["shapes"], trace.get("samples"), trace["next_token"]["top"], model)
    tokens = [token_event(i, s["token"], s["prob"], s["alternatives"]) for i, s in enumerate(data["steps"])]
    done = done_event(stopped=data.get("stopped") or "length", n_tokens=len(data["steps"]), text=data["text"],
                      model=model, n_input=n_input, max_new_tokens=start["max_new_tokens"],
                      last_token=data["steps"][-1]["token"] if data["steps"] else None)
    return {"demo": trace.get("demo"), "prompt": trace["prompt"], "start": start, "forward": forward,
            "tokens": tokens, "done": done, "strategies": strategies_view(trace), "replayed": name}
