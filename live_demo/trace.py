"""One demo run, recorded: the trace every comic panel, chart and slide shows.

Everything in a trace comes from the real run of the loaded model: tokens and their
character spans from the tokenizer, tensor shapes from forward hooks, probabilities
from the logits, continuations from transformers' own `generate` (asked to return its
per-step logits, so tracing costs next to nothing over a plain call).
"""
from __future__ import annotations

import importlib.metadata
import inspect
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
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

def token_entry(token_id: int, text: str, special: bool = False) -> dict:
    entry = {"id": int(token_id), "text": text, "display": visible(text)}
    return entry | {"special": True} if special else entry


def special_ids(tokenizer: Any) -> set[int]:
    """Ids of the tokenizer's special tokens: its named ones (bos, eos, ...) and every added
    token marked special (chat markers such as <|im_start|>)."""
    ids = set(getattr(tokenizer, "all_special_ids", None) or ())
    for token_id, added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).items():
        if getattr(added, "special", False):
            ids.add(int(token_id))
    return ids


def encode_prompt(tokenizer: Any, prompt: str) -> list[dict]:
    """Prompt tokens with ids, text and the character span each covers in the prompt."""
    enc, spans = _encode_with_spans(tokenizer, prompt, add_special_tokens=True)
    special = special_ids(tokenizer)
    tokens = []
    for token_id, (start, end) in zip(enc, spans):
        text = prompt[start:end] if end > start else tokenizer.decode([token_id])
        tokens.append(token_entry(token_id, text, token_id in special) | {"span": [int(start), int(end)]})
    return tokens


def _encode_with_spans(tokenizer: Any, text: str, add_special_tokens: bool) -> tuple[list[int], list[tuple[int, int]]]:
    try:
        enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=add_special_tokens)
        return list(enc["input_ids"]), [tuple(s) for s in enc["offset_mapping"]]
    except (NotImplementedError, TypeError, ValueError):  # a slow tokenizer: spans from decoded prefixes
        ids = list(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])
        return ids, _spans_by_decoding(tokenizer, ids, text)


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


# ---------------------------------------------------------------- what the model reads

# Stands in for the question while the template is studied: private-use characters no
# template writes itself, so where they land is where the question goes.
_SENTINEL = "\ue000novapress\ue001"


@dataclass
class ModelInput:
    """What the model reads for one prompt: the ids of the whole input, and where the question sits."""

    ids: list[int]
    tokens: list[dict]                 # the question's own tokens as they ran; spans relative to the prompt
    question_span: tuple[int, int]     # [start, end) of those tokens among `ids`
    chat: dict | None                  # the template's record (trace field `chat`), None for a bare prompt


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def _render(tokenizer: Any, messages: list[dict]) -> str:
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def _template_ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    ids = out["input_ids"] if hasattr(out, "keys") else out
    return [int(i) for i in ids]


def _system_text(tokenizer: Any, text: str) -> str | None:
    """The system message the template added on its own (None if it added none): the text that
    sits where a system message's content goes when one is given explicitly."""
    try:
        framed = _render(tokenizer, [{"role": "system", "content": _SENTINEL}, {"role": "user", "content": "?"}])
        plain = _render(tokenizer, [{"role": "user", "content": "?"}])
    except Exception:  # noqa: BLE001 -- a template that refuses a system turn adds none of its own
        return None
    if framed.count(_SENTINEL) != 1:
        return None
    before, after = framed.split(_SENTINEL)
    if not (plain.startswith(before) and plain.endswith(after)) or len(plain) < len(before) + len(after):
        return None
    found = plain[len(before): len(plain) - len(after)]
    return found if found.strip() and found in text else None


def _span_of(spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """[first, last + 1) of the tokens whose characters overlap [start, end)."""
    inside = [i for i, (a, b) in enumerate(spans) if a < end and b > start]
    return (inside[0], inside[-1] + 1) if inside else (0, 0)


def model_input(tokenizer: Any, prompt: str, chat: bool | None, who: str = "the model") -> ModelInput:
    """The one place a prompt becomes model input, for the demos and the Ask box alike.

    chat None applies the tokenizer's chat template when it has one (as a chat server does),
    True requires one, False feeds the bare prompt. Raises DemoInputError.
    """
    apply = has_chat_template(tokenizer) if chat is None else chat
    if apply and not has_chat_template(tokenizer):
        raise DemoInputError(f"chat: true, but {who} has no chat template; set chat: false (or leave it out) "
                             f"to feed the bare prompt")
    if not apply:
        tokens = encode_prompt(tokenizer, prompt)
        return ModelInput([t["id"] for t in tokens], tokens, (0, len(tokens)), None)

    messages = [{"role": "user", "content": prompt}]
    try:
        text = _render(tokenizer, messages)
        ids = _template_ids(tokenizer, messages)
        framed = _render(tokenizer, [{"role": "user", "content": _SENTINEL}])
    except Exception as err:  # noqa: BLE001 -- jinja and the template's own raise_exception
        raise DemoInputError(f"the chat template of {who} failed on this prompt ({err}); set chat: false") from None
    if framed.count(_SENTINEL) != 1:
        raise DemoInputError(f"the chat template of {who} does not show the question once; set chat: false")
    before, after = framed.split(_SENTINEL)
    if text != before + prompt + after:
        raise DemoInputError(f"the chat template of {who} changes the question's text; set chat: false")
    q_start, q_end = len(before), len(before) + len(prompt)

    enc, spans = _encode_with_spans(tokenizer, text, add_special_tokens=False)
    if enc != ids:  # the template's own tokenization is what runs; spans then come from decoding
        spans = _spans_by_decoding(tokenizer, ids, text)
    special = special_ids(tokenizer)
    chat_tokens = []
    for token_id, (a, b) in zip(ids, spans):
        piece = text[a:b] if b > a else tokenizer.decode([token_id])
        chat_tokens.append({"id": token_id, "text": piece, "display": visible(piece), "special": token_id in special,
                            "span": [int(a), int(b)]})
    first, last = _span_of(spans, q_start, q_end)
    question = []
    for t in chat_tokens[first:last]:
        a, b = t["span"]
        question.append(token_entry(t["id"], t["text"], t["special"])
                        | {"span": [max(a, q_start) - q_start, min(b, q_end) - q_start]})
    system = _system_text(tokenizer, text)
    system_span = None
    if system is not None:
        s_start = text.index(system)
        system_span = list(_span_of(spans, s_start, s_start + len(system)))
    record = {"template_text": text, "tokens": chat_tokens, "question_span": [first, last],
              "question_chars": [q_start, q_end], "system": system, "system_span": system_span}
    return ModelInput(ids, question, (first, last), record)


# ---------------------------------------------------------------- model facts

def context_length(config: Any) -> int:
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def _as_ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple, set)) else [int(value)]


def end_of_turn_id(tokenizer: Any) -> int | None:
    """The special token the chat template closes a user turn with (<|im_end|>, <|eot_id|>, ...):
    the model closes its own turn with it too."""
    if not has_chat_template(tokenizer):
        return None
    try:
        sample = model_input(tokenizer, "Hi", chat=True)
    except DemoInputError:
        return None
    after = sample.chat["tokens"][sample.question_span[1]:]
    return after[0]["id"] if after and after[0]["special"] else None


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every id that ends generation: the model's generation config's, the tokenizer's end token
    and the chat template's end-of-turn token."""
    ids = set(_as_ids(model.generation_config.eos_token_id)) | set(_as_ids(tokenizer.eos_token_id))
    turn = end_of_turn_id(tokenizer)
    if turn is not None:
        ids.add(turn)
    return sorted(ids)


def _blocks(model: Any) -> torch.nn.ModuleList | None:
    n_layers = model.config.num_hidden_layers
    for module in model.base_model.children():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n_layers:
            return module
    return None


def positions_kind(model: Any) -> str:
    """How the model knows where a token sits, found from its modules: a rotary embedding
    ("rotary"), a second embedding table indexed by position ("learned"), ALiBi, or none."""
    inputs = model.get_input_embeddings()
    for module in model.modules():
        if "rotary" in type(module).__name__.lower():
            return "rotary"
    for module in model.base_model.modules():
        if isinstance(module, torch.nn.Embedding) and module is not inputs:
            return "learned"
    cfg = model.config
    if getattr(cfg, "alibi", False) or getattr(cfg, "model_type", "") in ("bloom", "mpt"):
        return "ALiBi"
    if getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_theta", None):
        return "rotary"
    return "none"


def norm_kind(model: Any) -> str:
    """The normalisation layer's kind: "RMSNorm", "LayerNorm" or its class name."""
    for module in model.base_model.modules():
        name = type(module).__name__
        if "RMSNorm" in name or "RmsNorm" in name:
            return "RMSNorm"
        if isinstance(module, torch.nn.LayerNorm) or name.endswith("LayerNorm"):
            return "LayerNorm"
    return next((type(m).__name__ for m in model.base_model.modules() if type(m).__name__.endswith("Norm")), "none")


def activation_name(config: Any) -> str | None:
    for name in ("hidden_act", "activation_function", "hidden_activation"):
        value = getattr(config, name, None)
        if isinstance(value, str):
            return value
    return None


def ffn_phrase(model: Any, d_model: int, d_ff: int, activation: str | None) -> str:
    """The feed-forward layer in words, from its weights: gate and up projections side by side
    make a gated MLP (SwiGLU with SiLU), one projection up and one down a two-layer MLP."""
    act = (activation or "").lower()
    family = "GELU" if act.startswith("gelu") else "SiLU" if act in ("silu", "swish") else \
        "ReLU" if act.startswith("relu") else (activation or "")
    blocks = _blocks(model)
    gated = None
    if blocks is not None and len(blocks):
        for name, child in blocks[0].named_children():
            if "att" in name.lower():
                continue
            names = [n for n, _p in child.named_parameters()]
            if any("expert" in n for n in names):
                return "mixture-of-experts MLP"
            shapes = [tuple(p.shape) for p in child.parameters() if p.dim() == 2]
            wide = [sh for sh in shapes if d_model in sh and (d_ff in sh or 2 * d_ff in sh)]
            if wide:
                gated = len(wide) >= 3 or any(2 * d_ff in sh for sh in wide)
                break
    if gated is None:
        return f"{family} MLP".strip()
    if gated:
        return f"gated {dict(SiLU='SwiGLU', GELU='GeGLU', ReLU='ReGLU').get(family, family + '-gated')} MLP"
    return f"two-layer {family} MLP"


def tied_embeddings(model: Any) -> bool:
    out = model.get_output_embeddings()
    inp = model.get_input_embeddings()
    return out is not None and out.weight.data_ptr() == inp.weight.data_ptr()


def special_tokens(tokenizer: Any) -> list[dict]:
    """The tokenizer's tokens with a role: bos, eos, pad, unk, and chat (a marker the chat
    template writes, such as <|im_start|>). `role` is the main one, `roles` all of them."""
    roles: dict[int, list[str]] = {}
    for role in ("bos", "eos", "pad", "unk"):
        token_id = getattr(tokenizer, f"{role}_token_id", None)
        if token_id is not None:
            roles.setdefault(int(token_id), []).append(role)
    if has_chat_template(tokenizer):
        try:
            sample = model_input(tokenizer, "Hi", chat=True)
        except DemoInputError:
            sample = None
        for t in (sample.chat["tokens"] if sample else []):
            if t["special"] and "chat" not in roles.setdefault(t["id"], []):
                roles[t["id"]].append("chat")
    order = ("eos", "bos", "chat", "pad", "unk")
    out = []
    for token_id in sorted(roles):
        text = tokenizer.convert_ids_to_tokens(token_id)
        mine = sorted(roles[token_id], key=order.index)
        out.append({"id": token_id, "text": text, "display": visible(text), "role": mine[0], "roles": mine})
    return out


def model_info(loaded: LoadedModel) -> dict:
    """The model's facts, read from its config and modules: a page states architecture from
    these, never from prose written for one model."""
    model, tokenizer, choice, cfg = loaded.model, loaded.tokenizer, loaded.choice, loaded.model.config
    d_model = int(cfg.hidden_size)
    # the feed-forward width: Llama-style configs name it intermediate_size, GPT-2 n_inner (None: 4 x d_model)
    d_ff = int(getattr(cfg, "intermediate_size", None) or getattr(cfg, "n_inner", None) or 4 * d_model)
    activation = activation_name(cfg)
    return {
        "id": choice.id, "display": choice.display, "name": choice.name or choice.id, "requested": choice.requested,
        "source": choice.source, "revision": choice.revision, "weights_sha256": choice.weights_sha256,
        "model_type": getattr(cfg, "model_type", None),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "bytes": int(sum(p.numel() * p.element_size() for p in model.parameters())),
        "vocab_size": int(cfg.vocab_size), "context_length": context_length(cfg),
        "n_layers": int(cfg.num_hidden_layers), "d_model": d_model, "n_heads": int(cfg.num_attention_heads),
        "d_ff": d_ff, "positions": positions_kind(model), "norm": norm_kind(model), "activation": activation,
        "ffn": ffn_phrase(model, d_model, d_ff, activation), "tied_embeddings": tied_embeddings(model),
        "chat_template": has_chat_template(tokenizer), "special_tokens": special_tokens(tokenizer),
        "eos_ids": stop_ids(model, tokenizer),
        "n_kv_heads": int(getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads),
        "head_dim": int(getattr(cfg, "head_dim", None) or d_model // int(cfg.num_attention_heads)),
        "classes": module_classes(model),
    }


def _class_entry(module: Any, path: str) -> dict:
    """Where a module's class is written: its Python module, class name, source file (relative
    to the installed package's parent folder) and line, and where it sits in the model."""
    cls = type(module)
    entry = {"module": cls.__module__, "name": cls.__name__, "path": path, "file": None, "line": None}
    try:
        source = inspect.getsourcefile(cls)
        top = sys.modules[cls.__module__.split(".")[0]]
        root = Path(top.__file__).resolve().parent.parent
        entry["file"] = Path(source).resolve().relative_to(root).as_posix()
        entry["line"] = inspect.getsourcelines(cls)[1]
    except (TypeError, OSError, ValueError, KeyError, AttributeError):
        pass   # a class defined outside a package file (built at run time): module and name still say where
    return entry


def module_classes(model: Any) -> dict:
    """The classes each stage of this model is made of, found from its modules (never named for
    one architecture): the whole model, the embedding table, one block, its attention and
    feed-forward parts, the final norm and the output layer (lm_head)."""
    names = {id(m): n for n, m in model.named_modules()}
    found: dict[str, Any] = {"model": model, "embeddings": model.get_input_embeddings()}
    blocks = _blocks(model)
    if blocks is not None and len(blocks):
        found["block"] = blocks[0]
        children = list(blocks[0].named_children())
        found["attention"] = next((m for n, m in children if "att" in n.lower()), None)
        found["mlp"] = next((m for n, m in children if any(k in n.lower() for k in ("mlp", "ffn", "feed_forward"))),
                            None)
    found["norm"] = next((m for stage, m in _stages(model) if stage == "final norm"), None)
    found["lm_head"] = model.get_output_embeddings()
    return {stage: _class_entry(m, names.get(id(m), "")) for stage, m in found.items() if m is not None}


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
        self.order = [stage for stage, _m in _stages(model)]
        self._hooks = [module.register_forward_hook(self._hook(stage)) for stage, module in _stages(model)]

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
    pad = own.pad_token_id if own.pad_token_id is not None else (_as_ids(eos) or [None])[0]
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
                   eos_ids: list[int] | None = None) -> dict:
    results = {}
    for name, settings in strategy_settings(spec).items():
        results[name] = traced_generate(model, tokenizer, input_ids, settings, seed, spec.max_new_tokens,
                                        eos_ids=eos_ids)
    results["top_k"] |= {"k": spec.sample_top_k, "temperature": spec.sample_temperature}
    results["top_p"] |= {"p": spec.sample_top_p, "temperature": spec.sample_temperature}
    results["beam"] |= {"num_beams": spec.num_beams}
    return results


# ---------------------------------------------------------------- optional parts

def attention_map(loaded: LoadedModel, input_ids: torch.Tensor, tokens: list[dict], layer: int, head: int,
                  question_span: tuple[int, int] | None = None) -> dict:
    """One head's attention over the whole input; `question_span` says where the question sits in it."""
    model = loaded.model
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")  # SDPA returns no attention weights
    try:
        out = model(input_ids, output_attentions=True, use_cache=False)
    finally:
        model.set_attn_implementation(previous)
    weights = out.attentions[layer][0, head]
    span = list(question_span) if question_span is not None else [0, len(tokens)]
    return {"layer": layer, "head": head, "tokens": [t["display"] for t in tokens], "weights": weights.tolist(),
            "question_span": span}


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


def padded_batch(tokenizer: Any, prompts: list[str], chat: bool) -> dict:
    """The prompts' model inputs (built as the demo's own: template or not) padded to one
    rectangle on the left, as generation pads a batch: every row's last real token then sits
    in the last column, where the next token is predicted."""
    if tokenizer.pad_token_id is not None:
        pad_id = tokenizer.pad_token_id
    else:  # GPT-2 has no pad token: the usual choice is its end-of-text token
        pad_id = tokenizer.eos_token_id
    inputs = [model_input(tokenizer, p, chat) for p in prompts]
    width = max(len(i.ids) for i in inputs)
    ids, mask, shown, spans = [], [], [], []
    pad_text = tokenizer.decode([pad_id])
    for inp in inputs:
        fill = width - len(inp.ids)
        pieces = ([t["display"] for t in inp.chat["tokens"]] if inp.chat
                  else [visible(tokenizer.decode([i])) for i in inp.ids])
        ids.append([pad_id] * fill + inp.ids)
        mask.append([0] * fill + [1] * len(inp.ids))
        shown.append([pad_text] * fill + pieces)
        spans.append([inp.question_span[0] + fill, inp.question_span[1] + fill])
    return {"prompts": prompts, "pad_token": {"id": int(pad_id), "text": pad_text, "is_eos": pad_id == tokenizer.eos_token_id},
            "padding_side": "left", "chat": chat, "question_spans": spans,
            "input_ids": ids, "attention_mask": mask, "tokens": shown, "shape": [len(inputs), width]}


# ---------------------------------------------------------------- the whole trace

def check_demo(loaded: LoadedModel, name: str, spec: DemoSpec, n_input: int, chat: bool) -> None:
    display, cfg = loaded.choice.display, loaded.model.config
    limit = context_length(cfg)
    if n_input + spec.max_new_tokens > limit:
        raise DemoInputError(f"demo '{name}': the input is {n_input} tokens and {spec.max_new_tokens} more are "
                             f"generated, but {display} reads at most {limit} tokens; shorten the prompt",
                             demo=name, field="prompt")
    if spec.attention is not None:
        layer, head = spec.attention
        n_layers, n_heads = cfg.num_hidden_layers, cfg.num_attention_heads
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise DemoInputError(f"demo '{name}': attention [{layer}, {head}] does not exist in {display}, which has "
                                 f"layers 0-{n_layers - 1} and heads 0-{n_heads - 1}", demo=name, field="attention")
    for other in spec.batch_with:
        if not other.strip():
            raise DemoInputError(f"demo '{name}': batch_with has an empty prompt; remove it or write its text",
                                 demo=name, field="batch_with")
        n = len(model_input(loaded.tokenizer, other, chat).ids)
        if n > limit:
            raise DemoInputError(f"demo '{name}': batch_with prompt is {n} tokens, more than {display}'s {limit}",
                                 demo=name, field="batch_with")


def run_demo(loaded: LoadedModel, name: str, spec: DemoSpec, seed: int) -> dict:
    """Run one demo on the loaded model and return its trace (see the contract in the brief)."""
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
            "strategies": run_strategies(model, tokenizer, input_ids, spec, seed, eos_ids=info["eos_ids"]),
            "attention": (attention_map(loaded, input_ids, all_tokens, *spec.attention, question_span=inp.question_span)
                          if spec.attention else None),
            "timing": timing(model, input_ids, spec.max_new_tokens, eos_ids=info["eos_ids"]) if spec.timing else None,
            "batch": (padded_batch(tokenizer, [spec.prompt, *spec.batch_with], chat=inp.chat is not None)
                      if spec.batch_with else None),
        }
        if spec.compare_tokenizers:
            from .tokenizers import compare

            trace["tokenizers"] = compare(spec.prompt, spec.compare_tokenizers, tokenizer)
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
