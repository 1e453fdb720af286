"""Benchmarks of the live demo for `make bench`: what tracing costs over a plain
model.generate (same model, same settings), with and without the KV cache, and how
long a model takes to load the first time versus from novapress' converted cache."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .models import resolve_model

PROMPT = "How does AI work? Explain it to a curious teenager."


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_live(model_id: str = "gpt2", revision: str | None = None, fallback: bool = True,
               new_tokens: int = 32, repeats: int = 5) -> list[tuple[str, float, str]]:
    """[(name, value, unit)] for the model a build would use."""
    import torch   # the benchmark runs the model: torch only here, not on importing live_demo

    from .loading import _load_folder, convert_gguf, load_model
    from .trace import generation_config, traced_generate

    choice = resolve_model(model_id, revision, fallback)
    tag = f"live [{choice.display}]"
    results: list[tuple[str, float, str]] = []

    if choice.source == "fallback":  # first load = GGUF conversion + load; into a scratch folder
        with tempfile.TemporaryDirectory(prefix="novapress-bench-") as scratch:
            start = time.perf_counter()
            convert_gguf(Path(choice.path), Path(scratch))
            _load_folder(scratch, choice)
            results.append((f"{tag} model load, first (GGUF conversion)", time.perf_counter() - start, "s"))
            start = time.perf_counter()
            _load_folder(scratch, choice)
            results.append((f"{tag} model load, cached (safetensors)", time.perf_counter() - start, "s"))
        loaded = load_model(choice)
    else:
        start = time.perf_counter()
        loaded = load_model(choice)
        results.append((f"{tag} model load, first in this process", time.perf_counter() - start, "s"))
        start = time.perf_counter()
        loaded = load_model(choice)
        results.append((f"{tag} model load, again", time.perf_counter() - start, "s"))

    model, tokenizer = loaded.model, loaded.tokenizer
    ids = torch.tensor([tokenizer(PROMPT)["input_ids"]])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        for use_cache in (True, False):
            label = "with KV cache" if use_cache else "without KV cache"
            config = generation_config(model, max_new_tokens=new_tokens, min_new_tokens=new_tokens, use_cache=use_cache)

            def plain():
                model.generate(ids, attention_mask=mask, generation_config=config)

            def traced():
                traced_generate(model, tokenizer, ids, {"do_sample": False, "min_new_tokens": new_tokens}, 0,
                                new_tokens, use_cache=use_cache)

            plain(), traced()  # warm-up: first calls allocate
            # interleaved, and the best of each: on a shared machine a neighbour's load only adds time
            plain_s, traced_s = map(min, zip(*[(_timed(plain), _timed(traced)) for _ in range(repeats)]))
            results += [(f"{tag} plain generate {label}", new_tokens / plain_s, "tokens/s"),
                        (f"{tag} traced generate {label}", new_tokens / traced_s, "tokens/s"),
                        (f"{tag} traced/plain speed {label} (target >= 0.9)", plain_s / traced_s, "x")]
    return results


if __name__ == "__main__":
    for name, value, unit in bench_live():
        print(f"{name:70s} {value:10.3f} {unit}")
