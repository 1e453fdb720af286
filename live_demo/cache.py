"""The freeze cache: each trace stored under a content key, so a build whose demos are
all cached never imports torch (this module and everything it imports at the top are
torch-free; the model code is imported only on a miss).

Key = sha256 of: trace format version, prompt, every DemoSpec parameter, seed, the
configured model id and revision, the model that runs (id, hub commit, weights
sha256) and the installed torch and transformers versions.

Rules, in order:
1. `refresh=True` runs every demo again and overwrites its entry.
2. If the configured model is on this machine (a local folder or the Hugging Face
   cache), only an exact key hit is used; otherwise the demo runs.
3. If it is NOT on this machine, a stored trace that this very model made for the same
   demo (prompt, parameters, seed, configured id and revision) is used as is, whatever
   torch/transformers versions made it. That is what makes a committed cache folder
   build identically on a machine without the model, and it wins over the fallback.
4. Otherwise the model is resolved as usual (hub, then the SmolLM2 fallback) and an
   exact key hit for that model is used, or the demo runs.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Callable

from .errors import DemoInputError, ModelLoadError
from .models import FALLBACK_ID, ModelChoice, architecture, fallback_choice, fallback_warning, resolve_local, resolve_model
from .spec import DemoSpec, attention_problem

TRACE_FORMAT = 5  # bump when a trace's shape or meaning changes: every cached trace is then stale


def library_versions() -> dict[str, str | None]:
    """torch and transformers versions from package metadata: importing them would cost seconds."""
    out = {}
    for dist in ("torch", "transformers"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def demo_inputs(spec: DemoSpec, seed: int, model_id: str, revision: str | None) -> dict:
    """What the author asked for: identical inputs mean the same demo."""
    return {"format": TRACE_FORMAT, "prompt": spec.prompt, "params": spec.model_dump(mode="json"), "seed": seed,
            "requested": {"id": model_id, "revision": revision}}


def key_parts(spec: DemoSpec, seed: int, choice: ModelChoice, revision: str | None = None,
              versions: dict | None = None) -> dict:
    """Everything a trace depends on. `revision` is the configured one; the choice has the resolved commit."""
    return demo_inputs(spec, seed, choice.requested, revision) | {
        "model": {"id": choice.id, "revision": choice.revision, "weights_sha256": choice.weights_sha256},
        "versions": versions if versions is not None else library_versions()}


def digest(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(parts: dict) -> str:
    return digest(parts)


def trace_json(trace: dict) -> str:
    """The canonical text of a trace (sorted keys, UTF-8, newline at the end)."""
    return json.dumps(trace, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


class TraceCache:
    """A folder of <inputs-hash>-<key>.json files, each {"key", "parts", "trace"}."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, parts: dict) -> Path:
        inputs = {k: parts[k] for k in ("format", "prompt", "params", "seed", "requested")}
        return self.folder / f"{digest(inputs)[:16]}-{cache_key(parts)[:16]}.json"

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # unreadable or half-written: a miss, the run rewrites it
        return entry if isinstance(entry, dict) and {"key", "parts", "trace"} <= entry.keys() else None

    def get(self, parts: dict) -> dict | None:
        entry = self._read(self._path(parts))
        return entry["trace"] if entry and entry["key"] == cache_key(parts) else None

    def put(self, parts: dict, trace: dict) -> Path:
        path = self._path(parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(trace_json({"key": cache_key(parts), "parts": parts, "trace": trace}), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def made_by(self, inputs: dict, model_id: str) -> dict | None:
        """A stored trace of this demo made by model_id itself (not a fallback), any library versions.
        Several candidates: the one made with the installed versions, else the last by file name."""
        if not self.folder.is_dir():
            return None
        found = []
        for path in sorted(self.folder.glob(f"{digest(inputs)[:16]}-*.json")):
            entry = self._read(path)
            if entry and entry["key"] == cache_key(entry["parts"]) and entry["parts"]["model"]["id"] == model_id \
                    and all(entry["parts"].get(k) == v for k, v in inputs.items()):
                found.append(entry)
        if not found:
            return None
        current = [e for e in found if e["parts"]["versions"] == library_versions()]
        return (current or found)[-1]["trace"]


def get_traces(demos: dict[str, DemoSpec], model_id: str, revision: str | None, fallback: bool, seed: int,
               cache_dir: str | Path, refresh: bool = False, on_warning: Callable[[str], None] = print,
               on_progress: Callable[[str], None] | None = None, cached_first: bool = False,
               on_info: Callable[[str], None] | None = None) -> dict[str, dict]:
    """The trace of every demo, from the cache when possible, else from one model load.

    cached_first (a preview: `novapress render`, `present`): when every demo has a stored trace
    made by the configured model or, with the fallback on, by the fallback model, use those as
    they are, without looking for the model (no hub probe, no torch); `build` decides the model.

    Raises ModelUnavailable, DemoInputError (the user's input: exit 2) or ModelLoadError (exit 1).
    """
    say = on_progress or (lambda _msg: None)
    cache = TraceCache(cache_dir)
    traces: dict[str, dict] = {}
    missing = list(demos)
    if cached_first and not refresh:
        stored = stored_traces(cache, demos, model_id, revision, fallback, seed)
        if stored is not None:
            if on_info and any(t["model"].get("source") == "fallback" for t in stored.values()):
                on_info(f"using the stored traces of the fallback {stored[next(iter(stored))]['model']['display']} "
                        f"('{model_id}' is not on this machine; `novapress build` looks for it)")
            return {name: stored[name] | {"demo": name} for name in demos}

    local, _why = resolve_local(model_id, revision)
    if not refresh:
        for name in list(missing):
            spec = demos[name]
            if local is not None:
                hit = cache.get(key_parts(spec, seed, local, revision))
            else:  # rule 3: the configured model is not here, but its committed trace may be
                hit = cache.made_by(demo_inputs(spec, seed, model_id, revision), model_id)
            if hit is not None:
                traces[name] = hit
                missing.remove(name)

    choice = local
    if missing:
        choice = local or resolve_model(model_id, revision, fallback)
        if not refresh and choice is not local:
            for name in list(missing):
                hit = cache.get(key_parts(demos[name], seed, choice, revision))
                if hit is not None:
                    traces[name] = hit
                    missing.remove(name)
    if missing:
        check_before_loading({n: demos[n] for n in missing}, choice)
        loaded, choice = _load(choice, fallback, say)
        from .trace import run_demo  # imports torch: only on a cache miss

        for name in missing:
            say(f"running demo '{name}' on {choice.display}")
            trace = run_demo(loaded, name, demos[name], seed)
            cache.put(key_parts(demos[name], seed, loaded.choice, revision), trace)
            traces[name] = trace

    if choice is not None and choice.source == "fallback" and any(
            t["model"]["source"] == "fallback" for t in traces.values()):
        on_warning(fallback_warning(choice))
    return {name: traces[name] | {"demo": name} for name in demos}


def stored_traces(cache: TraceCache, demos: dict[str, DemoSpec], model_id: str, revision: str | None,
                  fallback: bool, seed: int) -> dict[str, dict] | None:
    """A stored trace of every demo (made by the configured model, else by the fallback when it is
    allowed), found without resolving the model; None when one is missing."""
    makers = [model_id] + ([FALLBACK_ID] if fallback else [])
    local, _why = resolve_local(model_id, revision)
    found = {}
    for name, spec in demos.items():
        inputs = demo_inputs(spec, seed, model_id, revision)
        if local is not None:     # the model is here: only its exact trace will do
            hit = cache.get(key_parts(spec, seed, local, revision))
        else:
            hit = next((t for t in (cache.made_by(inputs, m) for m in makers) if t is not None), None)
        if hit is None:
            return None
        found[name] = hit
    return found


def check_before_loading(demos: dict[str, DemoSpec], choice: ModelChoice) -> None:
    """What the model's config.json can tell before its weights load: an attention layer or head
    it does not have (DemoInputError naming the demo's setting)."""
    shape = architecture(choice)
    if shape is None:
        return
    for name, spec in demos.items():
        problem = attention_problem(spec.attention, *shape, choice.display) if spec.attention is not None else None
        if problem:
            raise DemoInputError(f"demo '{name}': {problem}", demo=name, field="attention")


def _load(choice: ModelChoice, fallback: bool, say: Callable[[str], None]):
    """Load the chosen model; if it fails and the fallback is allowed, load the fallback."""
    from .loading import load_model  # imports torch

    say(f"loading {choice.display} ({choice.id})")
    try:
        loaded = load_model(choice, on_progress=say)
    except ModelLoadError as err:
        if not fallback or choice.source == "fallback":
            raise
        backup = fallback_choice(choice.requested, f"it failed to load: {err.message}")
        if backup is None:
            raise
        say(f"loading {backup.display} ({backup.id}) instead")
        loaded = load_model(backup, on_progress=say)
    return loaded, loaded.choice
