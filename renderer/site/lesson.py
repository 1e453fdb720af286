"""The lesson as data: the stepper's stages filled from a real trace, and the quiz.

Every number a stage shows (tokens, ids, shapes, probabilities, the chosen token) is read
from the lesson's trace (`site.lesson_demo`, `cat` by default), so the page shows what the
named model really did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from live_demo.formatting import count, pct, shape_text, value

from ..errors import BuildError

# Who owns each part of one request.
OWNERS = {
    "app": "the application (you)",
    "tokenizer": "tokenizer",
    "graph": "model graph",
    "policy": "decoding / runtime policy",
}

# The ownership table: stage group / who owns it / what to remember.
OWNERSHIP_TABLE = [
    ("raw text \u2192 token IDs", "tokenizer", "done once on the input text"),
    ("IDs \u2192 hidden states \u2192 logits", "model graph", "the transformer machinery lives here"),
    ("logits \u2192 chosen token", "decoding / runtime policy",
     "argmax or sampling chooses one token, then the loop repeats"),
]


@dataclass
class Stage:
    """One step of the stepper."""

    id: str
    title: str
    owner: str                 # key of OWNERS
    loop: str                  # "once" (before the loop) or "repeats" (every generated token)
    text: str                  # what happens here, in one or two sentences
    remember: str              # the one thing to keep
    shape: list[int] | None    # the real tensor shape at this stage, when it has one
    shape_meaning: str = ""    # what each axis of the shape is
    rows: list[tuple[str, str]] = field(default_factory=list)   # a few real values: (label, value)
    tokens: list[dict] = field(default_factory=list)             # token chips to draw
    bars: list[dict] = field(default_factory=list)               # next-token candidates to draw
    turns: list[dict] = field(default_factory=list)              # the loop's first turns: {display, prob}

    @property
    def owner_name(self) -> str:
        return OWNERS[self.owner]


def _shape(trace: dict, stage: str) -> list[int] | None:
    for entry in trace.get("shapes", []):
        if entry["stage"] == stage:
            return list(entry["shape"])
    return None


def _blocks(trace: dict) -> list[dict]:
    return [s for s in trace.get("shapes", []) if s["stage"].startswith("block ")]


def _greedy(trace: dict) -> dict:
    strategies = trace.get("strategies") or {}
    greedy = strategies.get("greedy")
    if not greedy or not greedy.get("steps"):
        raise BuildError(f"the trace of demo '{trace.get('demo')}' has no greedy continuation; rebuild it with "
                         f"'novapress build live --refresh'")
    return greedy


def sampled_values(trace: dict, stage: str) -> tuple[str, str] | None:
    """(label, values) for a stage the trace sampled: the first numbers of one token's vector."""
    samples = trace.get("samples") or {}
    for entry in samples.get("values", []):
        if entry["stage"] == stage:
            token = (samples.get("token") or {}).get("display", "?")
            d = trace["model"]["d_model"]
            label = f"\u201c{token}\u201d, first {len(entry['values'])} of {count(d)} numbers"
            return label, "[" + ", ".join(value(v) for v in entry["values"]) + ", \u2026]"
    return None


def stepper_stages(trace: dict) -> list[Stage]:
    """The six stages of one request, each with the real shapes and values of `trace`."""
    model = trace["model"]
    tokens = trace["tokens"]
    n = len(tokens)
    d_model, vocab = model["d_model"], model["vocab_size"]
    blocks = _blocks(trace)
    top = trace["next_token"]["top"]
    greedy = _greedy(trace)
    first = greedy["steps"][0]
    chosen = first["token"]
    loop_steps = greedy["steps"][:6]
    prompt = trace["prompt"]

    block_rows = []
    if blocks:
        shapes = {shape_text(b["shape"], "[]") for b in blocks}
        if len(shapes) == 1:
            block_rows.append((f"{blocks[0]['stage']} \u2026 {blocks[-1]['stage']}", f"{shapes.pop()} each"))
        else:
            block_rows += [(b["stage"], shape_text(b["shape"], "[]")) for b in blocks]
    final_norm = _shape(trace, "final norm")
    if final_norm:
        block_rows.append(("final norm", shape_text(final_norm, "[]")))
    block_rows.append(("layers \u00d7 heads", f"{model['n_layers']} \u00d7 {model['n_heads']}"))
    for stage in ("block 0", "final norm"):
        found = sampled_values(trace, stage)
        if found:
            block_rows.append((f"after {stage}: {found[0]}", found[1]))
    embedding_rows = [("embedding table", f"{vocab:,} \u00d7 {d_model}")]
    found = sampled_values(trace, "embeddings")
    if found:
        embedding_rows.append(found)
    n_input = (_shape(trace, "input_ids") or [1, n])[-1]
    if trace.get("chat"):
        ids_text = (f"The chat template wraps the text in {n_input - n} more tokens of its own, {n_input} in all; "
                    f"the tokenizer cuts the text itself into {n} pieces from a fixed vocabulary of {vocab:,} "
                    f"entries and looks up each piece's integer id.")
    else:
        ids_text = (f"The tokenizer cuts the text into {n} pieces from a fixed vocabulary of {vocab:,} entries "
                    f"and looks up each piece's integer id.")

    turns = [{"display": s["token"]["display"], "prob": s["prob"]} for s in loop_steps]

    return [
        Stage("raw", "Raw text", "app", "once",
              "A string of characters: what the user types. The model cannot read characters; "
              "they must first become numbers.",
              "the model never sees this string, only the ids made from it",
              None, rows=[("text", f"\u201c{prompt}\u201d"), ("length", f"{len(prompt)} characters")]),
        Stage("ids", "Token IDs", "tokenizer", "once",
              ids_text,
              "done once on the input text: the loop below never tokenizes again",
              _shape(trace, "input_ids"), "batch \u00d7 tokens", tokens=tokens),
        Stage("embeddings", "Embeddings", "graph", "repeats",
              f"Each id selects one row of the embedding table ({vocab:,} rows of {d_model} numbers): "
              f"every token becomes a vector the layers can compute with.",
              f"one vector of {d_model} numbers per token",
              _shape(trace, "embeddings"), "batch \u00d7 tokens \u00d7 d_model",
              rows=embedding_rows),
        Stage("layers", "Transformer layers", "graph", "repeats",
              f"{model['n_layers']} blocks of attention (each token looks at the ones before it) and a "
              f"feed-forward network (each token on its own). The shape never changes on the way through.",
              "the transformer machinery lives here, and so does most of the time",
              blocks[-1]["shape"] if blocks else final_norm, "batch \u00d7 tokens \u00d7 d_model", rows=block_rows),
        Stage("logits", "Output logits", "graph", "repeats",
              f"The output projection turns each position's vector into {vocab:,} scores, one per vocabulary "
              f"entry. Only the last position's scores predict the next token; softmax makes them probabilities.",
              "one score per vocabulary entry: a distribution, not yet a choice",
              _shape(trace, "logits"), "batch \u00d7 tokens \u00d7 vocabulary",
              bars=top[:5]),
        Stage("chosen", "Chosen token", "policy", "repeats",
              f"The decoding policy picks one token from the distribution: greedy takes the likeliest "
              f"({chosen['display']}, {pct(first['prob'])}), sampling draws one at random. The token is "
              f"appended and the model runs again.",
              "argmax or sampling chooses one token, then the loop repeats",
              None, rows=[("chosen (greedy)", f"{chosen['display']}  id {chosen['id']}"),
                          ("probability", f"{pct(first['prob'])}")],
              tokens=[chosen], turns=turns),
    ]


def loop_caption(trace: dict, turns: int = 6) -> dict:
    """What the loop diagram's caption says: the prompt and the first greedy tokens, how many of
    the answer's tokens that is, and how the answer ended."""
    greedy = _greedy(trace)
    steps = greedy["steps"]
    shown = steps[:turns]
    text = trace["prompt"] + "".join(s["token"]["text"] for s in shown if not s["token"].get("special"))
    last = steps[-1]["token"] if steps else None
    return {"text": text, "shown": len(shown), "total": len(steps), "shortened": len(steps) > len(shown),
            "stopped": greedy.get("stopped") or "length", "max_new_tokens": trace.get("params", {}).get("max_new_tokens"),
            "end_token": last["display"] if last and greedy.get("stopped") == "eos" else None}


# The quiz. The ordering question lists the stages out of order, for the reader to sort.
ORDER_ITEMS = ["Embedding", "Tokenization", "Output Logits", "Transformer Layers"]
ORDER_ANSWER = ["Tokenization", "Embedding", "Transformer Layers", "Output Logits"]

CHOICE_QUESTION = "Which stage is responsible for turning logits into one chosen token?"
CHOICES = [
    ("tokenizer", "The tokenizer",
     "No: the tokenizer works on the input text, once, before the model runs. It never sees logits."),
    ("graph", "The transformer layers (model graph)",
     "No: the model graph produces the logits; it does not decide which token to emit."),
    ("policy", "The decoding / runtime policy",
     "Right: the decoding policy (greedy argmax, top-k, top-p sampling) turns logits into one token, "
     "then the loop repeats."),
    ("embedding", "The embedding lookup",
     "No: the embedding lookup turns ids into vectors at the start of the model; logits come much later."),
]
CHOICE_ANSWER = "policy"
