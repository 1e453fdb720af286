"""What every field of a trace (build/live/<demo>.json) means: the one place it is written.

docs/trace.md is generated from FIELDS (`python -m renderer.reference`), and a test runs real
demos and checks that every field they hold is here and every field here occurs, so the
reference cannot drift from what live_demo.trace writes.

Paths: `a.b` a key inside a mapping; `a[].b` a key of each item of a list of records;
`<strategy>`, `<stage>`, `<layer>`, `<library>` stand for a key that varies (listed with the
field). A list of numbers or strings is one field. `params.<setting>` entries come from the
demo's own settings (live_demo.spec.DemoSpec), with their descriptions.
"""
from __future__ import annotations

from .spec import DemoSpec

# the fields of one token, wherever a token is recorded
TOKEN = {
    "id": "The token's id in the vocabulary.",
    "text": "The token's text as the tokenizer decodes it (a leading space is a space).",
    "display": "The text as a reader sees it: a leading space as `␣`, control characters visible.",
    "special": "True for a special token of the tokenizer (an end-of-text or chat-template marker).",
}
SPAN = {"span": "[start, end) character offsets of the token in the text it was cut from."}
PROBABILITY = {"prob": "Its probability (softmax of the logits), 0 to 1."}


def _token(prefix: str, what: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    fields = {prefix.removesuffix("[]"): what}
    fields.update({f"{prefix}.{k}": v for k, v in (TOKEN | (extra or {})).items()})
    return fields


VARIABLE_KEYS = {
    "strategies": "<strategy>",        # greedy, top_k, top_p, beam
    "model.classes": "<stage>",        # model, embeddings, block, attention, mlp, norm, lm_head
    "attention_heads.maps": "<layer>",  # a layer number, as text
    "versions": "<library>",           # torch, transformers, novapress
}
OPAQUE = ("params.",)                  # a setting is one field, whatever its value's shape

FIELDS: dict[str, str] = {
    "demo": "The demo's name in novapress.yaml.",
    "prompt": "The prompt as written (or as --prompt replaced it).",
    "seed": "The seed every sampled strategy ran with.",
    "versions": "Versions of the libraries that made the trace.",
    "versions.<library>": "The installed version of torch, transformers and novapress (null: not installed).",
    "params": "The demo's settings as run: every setting of the demo, defaults filled in.",
    **{f"params.{name}": field.description or "" for name, field in DemoSpec.model_fields.items()},

    "model": "What ran and its facts, read from its config and modules (never written for one model).",
    "model.id": "What ran: the hub id, or the local folder.",
    "model.display": "The short name on every tag and chart; a local folder is named by its architecture "
                     "and size, e.g. \"GPT-2 3.4M (local)\", never by its path.",
    "model.name": "What an API request would call it: the hub id, or e.g. \"gpt2-3.4M\" for a local folder; "
                  "never a path.",
    "model.requested": "What novapress.yaml asked for (differs from `id` when the fallback ran).",
    "model.source": "Where it came from: \"hub\", \"local\" (a folder) or \"fallback\" (the SmolLM2 stand-in).",
    "model.revision": "The hub revision (commit) that ran, or null.",
    "model.weights_sha256": "SHA-256 of the weights file, or null.",
    "model.model_type": "config.model_type, e.g. \"gpt2\", \"llama\".",
    "model.dtype": "The weights' number type, e.g. \"float32\".",
    "model.n_params": "How many parameters the model has.",
    "model.bytes": "Size of the weights in memory, in bytes.",
    "model.vocab_size": "Tokens in the vocabulary.",
    "model.context_length": "The most tokens the model reads at once.",
    "model.n_layers": "Transformer blocks.",
    "model.d_model": "Width of every token's vector (the hidden size).",
    "model.n_heads": "Attention heads per layer.",
    "model.n_kv_heads": "Key/value heads per layer (fewer than n_heads with grouped-query attention).",
    "model.head_dim": "Width of one head's vectors.",
    "model.d_ff": "Width of the feed-forward layer inside a block.",
    "model.positions": "How positions enter: \"learned\" (a table added to the embeddings), \"rotary\", ...",
    "model.norm": "The normalisation: \"LayerNorm\" or \"RMSNorm\".",
    "model.activation": "The feed-forward activation as the config names it, e.g. \"gelu_new\", \"silu\".",
    "model.ffn": "The feed-forward layer in words: \"two-layer GELU MLP\" or \"gated SwiGLU MLP\".",
    "model.tied_embeddings": "True when the output layer reuses the embedding table.",
    "model.chat_template": "True when the tokenizer has a chat template.",
    "model.special_tokens": "The tokenizer's special tokens, each with its role.",
    "model.special_tokens[].id": TOKEN["id"],
    "model.special_tokens[].text": TOKEN["text"],
    "model.special_tokens[].display": TOKEN["display"],
    "model.special_tokens[].role": "Its main role: bos, eos, pad, unk, or chat (a marker the chat template "
                                   "writes, such as <|im_start|>).",
    "model.special_tokens[].roles": "Every role it has.",
    "model.eos_ids": "Every id that ends generation.",
    "model.classes": "Where each stage of the model lives in code, found from its modules. <stage>: model, "
                     "embeddings, block, attention, mlp, norm, lm_head.",
    "model.classes.<stage>": "The class of that stage.",
    "model.classes.<stage>.module": "Its Python module, e.g. transformers.models.gpt2.modeling_gpt2.",
    "model.classes.<stage>.name": "Its class name, e.g. GPT2Block.",
    "model.classes.<stage>.file": "Its source file, relative to the installed package's folder (null when "
                                  "built at run time).",
    "model.classes.<stage>.line": "The line where the class starts (or null).",
    "model.classes.<stage>.path": "Where it sits in the model, e.g. transformer.h.0.",

    "chat": "null when the demo ran on the bare prompt; otherwise how the chat template framed it.",
    "chat.template_text": "The whole input as the template rendered it.",
    **_token("chat.tokens[]", "Every input token the model read.", SPAN),
    "chat.question_span": "[start, end) token indices where the user's question sits in `chat.tokens`.",
    "chat.question_chars": "[start, end) character offsets of the question in `template_text`.",
    "chat.system": "The system message the template added on its own, or null.",
    "chat.system_span": "[start, end) token indices of that system message, or null.",
    **_token("tokens[]", "The question's own tokens as they ran (inside the template when one was applied).", SPAN),

    "shapes": "Tensor shapes of the whole input at every stage, captured with forward hooks.",
    "shapes[].stage": "The stage: input ids, embeddings, block N, final norm, logits.",
    "shapes[].shape": "Its shape, e.g. [1, 5, 768].",
    "samples": "A few real numbers of the question's first token's vector at some stages.",
    "samples.position": "The token's index in the input.",
    "samples.token": "That token.",
    "samples.token.id": TOKEN["id"],
    "samples.token.display": TOKEN["display"],
    "samples.count": "How many numbers are kept (the first ones of the vector).",
    "samples.values": "One entry per sampled stage.",
    "samples.values[].stage": "embeddings, block 0 or final norm.",
    "samples.values[].values": "The numbers.",

    "next_token": "The distribution of the first answer token (after the template's assistant header).",
    **_token("next_token.top[]", "The top_k likeliest tokens, likeliest first.",
             {"logit": "Its raw logit.", **PROBABILITY}),
    "next_token.temperatures": "The same top-k at each of the demo's temperatures.",
    "next_token.temperatures[].t": "The temperature.",
    **_token("next_token.temperatures[].top[]", "The top_k tokens with softmax(logits / t).",
             {"logit": "Its raw logit.", "prob": "Its probability at this temperature."}),

    "strategies": "The answer decoded four ways. <strategy>: greedy, top_k, top_p, beam.",
    "strategies.<strategy>": "One decoding strategy's answer, step by step.",
    "strategies.<strategy>.text": "The answer's text; never holds special tokens.",
    **_token("strategies.<strategy>.tokens[]", "The answer's tokens (the end token last when stopped by eos)."),
    "strategies.<strategy>.steps": "One entry per generated token.",
    **_token("strategies.<strategy>.steps[].token", "The token chosen."),
    "strategies.<strategy>.steps[].prob": "The model's probability for it (softmax of the raw logits).",
    "strategies.<strategy>.steps[].strategy_prob": "top_k and top_p only: its probability in what the sampler "
                                                  "drew from (after temperature and the top-k/top-p cut).",
    **_token("strategies.<strategy>.steps[].alternatives[]", "The runners-up at that step.", PROBABILITY),
    "strategies.<strategy>.stopped": "\"eos\": the model emitted its end token (the last step); \"length\": cut "
                                     "by max_new_tokens.",
    "strategies.<strategy>.k": "top_k only: k.",
    "strategies.<strategy>.p": "top_p only: p.",
    "strategies.<strategy>.temperature": "top_k and top_p only: the sampling temperature.",
    "strategies.<strategy>.num_beams": "beam only: the number of beams.",
    "strategies.<strategy>.score": "beam only: the winning beam's score (length-normalised log-probability).",

    "attention": "null, or one head's attention over the whole input (`attention: [layer, head]`).",
    "attention.layer": "The layer (from 0).",
    "attention.head": "The head (from 0).",
    "attention.tokens": "The input tokens as shown (display text), the map's rows and columns.",
    "attention.weights": "Rows: each token; columns: how much it attends to each token (rows sum to 1).",
    "attention.question_span": "[start, end) token indices of the question among those tokens.",
    "attention_heads": "Only with `attention: {layer: N, heads: all}` or `{layers: all, heads: all}`: every "
                       "head's map, to choose a head from.",
    "attention_heads.layers": "The layers recorded.",
    "attention_heads.n_heads": "Heads per layer.",
    "attention_heads.pooled": "True when each map is averaged down to at most 12 x 12 cells (every layer at once).",
    "attention_heads.tokens": "The input tokens as shown.",
    "attention_heads.groups": "[start, end) token indices each row and column covers (one token each unless "
                              "pooled).",
    "attention_heads.question_span": "[start, end) token indices of the question.",
    "attention_heads.maps": "One entry per layer (its number as text).",
    "attention_heads.maps.<layer>": "Per head, the map: rows attend to columns (three significant digits).",

    "timing": "null, or generation time with and without the KV cache (`timing: true`).",
    "timing.new_tokens": "Tokens generated in each run.",
    "timing.input_tokens": "Tokens of input.",
    "timing.with_cache_s": "Seconds with the KV cache (best of three).",
    "timing.without_cache_s": "Seconds without it (best of three).",
    "timing.speedup": "without_cache_s / with_cache_s.",
    "timing.device": "Where it ran, e.g. \"cpu\".",
    "timing.cpu_cores": "CPU cores of the machine.",
    "timing.threads": "Threads torch used.",

    "batch": "null, or the prompt padded into one batch with `batch_with`, on the left as generation pads.",
    "batch.prompts": "The prompts, this demo's first.",
    "batch.pad_token": "The token that pads.",
    "batch.pad_token.id": TOKEN["id"],
    "batch.pad_token.text": TOKEN["text"],
    "batch.pad_token.is_eos": "True when the pad token is the end-of-text token (GPT-2 has no pad token).",
    "batch.padding_side": "\"left\".",
    "batch.chat": "True when each prompt was framed by the chat template.",
    "batch.question_spans": "Per row, [start, end) token indices of its question.",
    "batch.input_ids": "Per row, the ids, padding first.",
    "batch.attention_mask": "Per row, 0 for padding and 1 for a real token.",
    "batch.tokens": "Per row, each token's display text.",
    "batch.shape": "[rows, columns] of the batch.",

    "tokenizers": "Only with `compare_tokenizers`: the prompt under reference tokenizers whose vocabulary "
                  "differs from the model's (always at least one).",
    "tokenizers[].name": "gpt2 or smollm2.",
    "tokenizers[].display": "Its name as shown.",
    "tokenizers[].vocab_size": "Tokens in its vocabulary.",
    **_token("tokenizers[].tokens[]", "The prompt's tokens under it.", SPAN),
}


def field_path(path: tuple[str, ...]) -> str:
    """The FIELDS key of a concrete path (keys, with "[]" for a list item)."""
    out = ""
    for part in path:
        if part == "[]":
            out += "[]"
            continue
        if out in VARIABLE_KEYS:
            part = VARIABLE_KEYS[out]
        out = f"{out}.{part}" if out else part
    return out


def trace_paths(trace: dict) -> set[str]:
    """Every field of a trace (and every record holding fields) as FIELDS names it."""
    found: set[str] = set()

    def walk(value, path: tuple[str, ...]) -> None:
        name = field_path(path)
        if path:
            found.add(name)
        if any(name.startswith(p) for p in OPAQUE):
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                walk(item, path + ("[]",))

    walk(trace, ())
    return {p.removesuffix("[]") for p in found}
