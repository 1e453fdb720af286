"""The model's facts, read from its config and modules (trace field `model`): sizes, positions,
normalisation, feed-forward kind, special tokens, the ids that end generation, its stages
(embeddings, blocks, final norm) and the transformers classes they are made of. A page
states architecture from these, never from prose written for one model.
"""
from __future__ import annotations

import importlib.metadata
import inspect
import sys
from pathlib import Path
from typing import Any

import torch

from .encoding import has_chat_template, model_input
from .errors import DemoInputError
from .formatting import visible
from .loading import LoadedModel


def context_length(config: Any) -> int:
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def as_ids(value: Any) -> list[int]:
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
    ids = set(as_ids(model.generation_config.eos_token_id)) | set(as_ids(tokenizer.eos_token_id))
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


def model_stages(model: Any) -> list[tuple[str, torch.nn.Module]]:
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
    found["norm"] = next((m for stage, m in model_stages(model) if stage == "final norm"), None)
    found["lm_head"] = model.get_output_embeddings()
    return {stage: _class_entry(m, names.get(id(m), "")) for stage, m in found.items() if m is not None}


def versions() -> dict:
    def v(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None
    return {"torch": v("torch"), "transformers": v("transformers"), "novapress": v("novapress")}
