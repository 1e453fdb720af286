"""Loading a chosen model with transformers (this module imports torch).

Float32, eval mode, no randomness. The tokenizer is checked, not trusted: transformers
can "load" an empty GPT-2 tokenizer without an error. The fallback's
GGUF file is converted once into a safetensors folder in the user cache, because
dequantising it takes ~15 s and a plain folder reloads in a fraction of a second.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from .errors import ModelLoadError
from .models import ModelChoice, converted_dir, hub_cache_dir, is_converted, resolve_local

SANITY_TEXT = "How does AI work? The cat sat."

transformers.utils.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()


@dataclass
class LoadedModel:
    model: Any          # a transformers causal LM in eval mode, float32
    tokenizer: Any
    choice: ModelChoice


def load_model(choice: ModelChoice, on_progress: Callable[[str], None] | None = None) -> LoadedModel:
    """Load the chosen model. Raises ModelLoadError with the cause when it cannot be used."""
    say = on_progress or (lambda _msg: None)
    if choice.source == "fallback":
        folder = ensure_converted(choice, say)
        try:
            return _load_folder(str(folder), choice)
        except ModelLoadError:  # a damaged conversion (full disk, killed run): convert once more
            shutil.rmtree(folder, ignore_errors=True)
            return _load_folder(str(ensure_converted(choice, say)), choice)
    if choice.path is not None:
        return _load_folder(choice.path, choice)
    say(f"downloading {choice.id} from the Hugging Face hub")
    loaded = _load_folder(choice.id, choice, revision=choice.revision, cache_dir=str(hub_cache_dir()))
    cached, _ = resolve_local(choice.id, choice.revision)  # now in the cache: record its commit and hash
    if cached is not None:
        loaded.choice = replace(cached, requested=choice.requested)
    return loaded


def _load_folder(where: str, choice: ModelChoice, **kwargs: Any) -> LoadedModel:
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
        model, info = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, output_loading_info=True, **kwargs)
    except Exception as err:  # noqa: BLE001 -- safetensors, tokenizers, torch each raise their own types
        raise ModelLoadError(f"could not load {choice.id} from {where}: {_first_line(err)}") from None
    missing = [k for k in info.get("missing_keys", ()) if "lm_head" not in k]  # a tied head is not missing
    if missing:
        raise ModelLoadError(f"{choice.id} loaded with {len(missing)} weights missing (e.g. {sorted(missing)[0]}); "
                             f"the weight files are incomplete: download the model again")
    model.eval()
    check_tokenizer(tokenizer, model, choice.id)
    return LoadedModel(model=model, tokenizer=tokenizer, choice=choice)


def check_tokenizer(tokenizer: Any, model: Any, name: str) -> None:
    """Reject a tokenizer that cannot be the model's: empty, too large, or not round-tripping."""
    rows = model.get_input_embeddings().weight.shape[0]
    size = len(tokenizer)
    if size < 256:
        raise ModelLoadError(f"the tokenizer of {name} has only {size} entries: its files are missing or empty")
    if size > rows:
        raise ModelLoadError(f"the tokenizer of {name} has {size} tokens but the model only {rows} embeddings: "
                             f"they do not belong together")
    ids = tokenizer(SANITY_TEXT, add_special_tokens=False)["input_ids"]
    back = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    if not ids or back.strip() != SANITY_TEXT or max(ids) >= rows:
        raise ModelLoadError(f"the tokenizer of {name} does not round-trip {SANITY_TEXT!r} (got {back!r})")


def ensure_converted(choice: ModelChoice, say: Callable[[str], None] = lambda _m: None) -> Path:
    """The fallback as a safetensors folder, converting the GGUF file on first use."""
    folder = converted_dir(choice)
    if is_converted(folder):
        return folder
    gguf = Path(choice.path or "")
    say(f"converting {gguf.name} to safetensors once (about 20 s) into {folder}")
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        convert_gguf(gguf, tmp)
        (tmp / "novapress-converted.json").write_text(json.dumps(
            {"from": gguf.name, "sha256": choice.weights_sha256, "transformers": transformers.__version__}, indent=1))
        if is_converted(folder):  # another build converted it meanwhile and may be reading it
            return folder
        if folder.exists():  # a half-finished folder from an interrupted older run
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not is_converted(folder):  # another process won the race with a good folder: fine
                raise
    except Exception as err:  # noqa: BLE001 -- gguf, safetensors, torch each raise their own types
        raise ModelLoadError(f"could not convert {gguf} into {folder}: {_first_line(err)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def convert_gguf(gguf: Path, out: Path) -> None:
    """GGUF (quantised) -> float32 safetensors folder loadable without gguf.

    transformers refuses to save a GGUF-loaded model, so its dequantised weights are
    copied into a plain model built from the same config minus the quantization entry.
    """
    where, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
    with _quiet_gguf():
        loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, dtype=torch.float32)
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    config_obj = type(loaded.config).from_dict(config)
    plain = type(loaded)(config_obj)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.generation_config = loaded.generation_config
    plain.eval()
    out.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


@contextlib.contextmanager
def _quiet_gguf():
    """transformers' GGUF reader draws its own tqdm bar, which no logging switch silences."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    gguf_utils.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
