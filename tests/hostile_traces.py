"""Hostile variants of real traces, made without the model.

The book is drawn for data its author never saw. These functions take the real traces a build
wrote (tests/fixtures/book/*.json, written by `novapress build live` with the offline fallback
model) and change what a reader's question or a model's answer can change: the prompt and its
tokens (long, one word, Spanish, right-to-left, emoji, CJK, text that looks like a template,
quotes), the answer (empty, one token, 64 tokens) and the probabilities (flat and tiny like a
random-weights GPT-2, or peaked). Everything derived from them is kept consistent: shapes,
attention map, batch, every decoding strategy, the temperature charts.

When the trace format changes, write the fixtures again from a real build:
    novapress build live -q && cp build/live/{question,running,subword,tokenizers}.json tests/fixtures/book/
and, for tests/fixtures/book/questions/, `novapress build live -q --out /tmp/q --prompt "..."` with
the question each file holds (its "prompt"), copying /tmp/q/live/question.json.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

from live_demo.formatting import visible

BOOK = Path(__file__).parent / "fixtures" / "book"

# prompts, as token texts (a leading space belongs to the token, as in a BPE vocabulary)
LONG_PROMPT = ("Explain quantum computing in simple terms to a ten year old , please , and keep it short ; "
               "then tell me why the sky is blue , how a transformer reads “ tokens ” , what attention "
               "means , and whether a model can dream of electric sheep on a rainy afternoon in Barcelona "
               "while its GPU fans hum quietly in the data centre down the road ?").split(" ")
LONG_PROMPT = LONG_PROMPT[:1] + [" " + w for w in LONG_PROMPT[1:]]
SPANISH = ["¿", "Cómo", " funciona", " la", " inteligencia", " artificial", "?", " Él", " está", " aquí", ",",
           " niño", "."]
RTL = ["كيف", " يعمل", " الذكاء", " الاصطناعي", "؟", " מה", " זה", " בינה", " מלאכותית", "?"]
EMOJI = ["How", " does", " AI", " work", "?", " 🤖", "🚀", " 👩\u200d💻", " ✨"]
CJK = ["人工", "智能", "是", "如何", "工作", "的", "？", " 日本語", "も", "한국어"]
TEMPLATE = ["{{", " 7", "*", "7", " }}", " and", " {%", " raw", " %}", " {{", " demos", " }}", " {%",
            " endraw", " %}"]
QUOTES = ["He", " said", " \"", "hi", "\"", " and", " '", "bye", "'", " —", " “", "ok", "”", " \\", "n", " `",
          "x", "`"]
ONE_WORD = ["Hi"]

ANSWER_WORDS = (" The answer is that a model reads tokens , turns them into vectors , mixes them with attention "
                "and picks the next token again and again until it stops ; long words like "
                "supercalifragilisticexpialidocious and Donaudampfschifffahrtsgesellschaftskapitän make "
                "wrapping hard , and so do URLs such as https://example.org/a/very/long/path/to/somewhere"
                ).split(" ")


def load_book() -> dict[str, dict]:
    """The real traces of every demo the storyboards show."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(BOOK.glob("*.json"))}


def _tok(text: str, i: int, special: bool = False) -> dict:
    return {"id": 1000 + i, "text": text, "display": visible(text), "special": special}


def _answer(n: int) -> list[str]:
    words = [w if k == 0 else " " + w for k, w in enumerate(x for x in ANSWER_WORDS if x)]
    return [words[i % len(words)] for i in range(n)]


def with_prompt(trace: dict, pieces: list[str]) -> dict:
    """The trace as if the question had been `"".join(pieces)`, tokenised into `pieces`. Where the
    real run wrapped the question in a chat template, the template stays around the new question
    (shapes, attention map and batch rows count its tokens too)."""
    t = copy.deepcopy(trace)
    prompt = "".join(pieces)
    n = len(pieces)
    pos, tokens = 0, []
    for i, p in enumerate(pieces):
        tok = _tok(p, i)
        tok["span"] = [pos, pos + len(p)]
        pos += len(p)
        tokens.append(tok)
    t["prompt"] = prompt
    t.setdefault("params", {})["prompt"] = prompt
    t["tokens"] = tokens
    before, after, q0 = [], [], 0
    if t.get("chat"):
        chat = t["chat"]
        a, b = chat["question_span"]
        before, after = chat["tokens"][:a], chat["tokens"][b:]
        q0 = len(before)
        chat["tokens"] = before + tokens + after
        chat["question_span"] = [q0, q0 + n]
        start, end = chat.get("question_chars") or [0, 0]
        chat["template_text"] = chat["template_text"][:start] + prompt + chat["template_text"][end:]
        chat["question_chars"] = [start, start + len(prompt)]
    total = len(before) + n + len(after)
    for s in t.get("shapes", []):
        if len(s["shape"]) >= 2:
            s["shape"][1] = total
    if t.get("attention"):
        shown = [x["display"] for x in before + tokens + after]
        t["attention"]["tokens"] = shown
        t["attention"]["weights"] = [[(1 / (i + 1) if j <= i else 0.0) for j in range(total)] for i in range(total)]
        t["attention"]["question_span"] = [q0, q0 + n]
    if t.get("batch"):
        b = t["batch"]
        pad = b["pad_token"]
        spans = b.get("question_spans") or [[0, len(r)] for r in b["tokens"]]
        unpadded = [[x for x, m in zip(row, mask) if m] for row, mask in zip(b["tokens"], b["attention_mask"])]
        first = unpadded[0]
        fill0 = len(b["tokens"][0]) - len(first)
        a0, b0 = spans[0][0] - fill0, spans[0][1] - fill0
        rows = [first[:a0] + [visible(x) for x in pieces] + first[b0:]] + unpadded[1:]
        row_spans = [[a0, a0 + n]] + [[sa - (len(b["tokens"][r]) - len(unpadded[r])), sb - (len(b["tokens"][r]) - len(unpadded[r]))]
                                      for r, (sa, sb) in enumerate(spans) if r > 0]
        width = max(len(r) for r in rows)
        b["prompts"][0] = prompt
        b["tokens"], b["input_ids"], b["attention_mask"], b["question_spans"] = [], [], [], []
        left = b.get("padding_side") == "left"
        for r, row in enumerate(rows):
            fill = width - len(row)
            ids = [1000 + k for k in range(len(row))]
            b["tokens"].append(([pad["text"]] * fill + row) if left else (row + [pad["text"]] * fill))
            b["input_ids"].append(([pad["id"]] * fill + ids) if left else (ids + [pad["id"]] * fill))
            b["attention_mask"].append(([0] * fill + [1] * len(row)) if left else ([1] * len(row) + [0] * fill))
            shift = fill if left else 0
            b["question_spans"].append([row_spans[r][0] + shift, row_spans[r][1] + shift])
        b["shape"] = [len(rows), width]
    return t


def with_answer(trace: dict, n: int, *, empty: bool = False) -> dict:
    """Every strategy answering with n tokens (empty: just the end token, no text)."""
    t = copy.deepcopy(trace)
    eos = next((s for s in t["model"].get("special_tokens", []) if s.get("role") == "eos"),
               {"id": 2, "text": "<|im_end|>", "display": "<|im_end|>"})
    texts = [] if empty else _answer(n)
    top = t["next_token"]["top"]
    for name, s in t["strategies"].items():
        toks = [_tok(x, 5000 + i) for i, x in enumerate(texts)]
        if empty:
            toks = [{"id": eos["id"], "text": eos["text"], "display": eos.get("display", eos["text"]), "special": True}]
            s["stopped"] = "eos"
        else:
            s["stopped"] = "length"
        alts = [{k: r[k] for k in ("id", "text", "display", "prob")} for r in top[:5]]
        s["tokens"] = toks
        s["steps"] = [{"token": tok, "prob": top[0]["prob"], "alternatives": alts} for tok in toks]
        s["text"] = "".join(texts)
    if t.get("timing"):
        t["timing"]["new_tokens"] = len(texts) or 1
    return t


def _dist(probs: list[float], like: list[dict]) -> list[dict]:
    out = []
    for i, (p, row) in enumerate(zip(probs, like)):
        r = dict(row)
        r["prob"] = p
        r["logit"] = round(math.log(p) + 10, 4) if p > 0 else -100.0
        out.append(r)
    return out


def with_probs(trace: dict, kind: str) -> dict:
    """'flat': every probability about 2e-5 (a random-weights GPT-2); 'peaked': 0.999 on top."""
    t = copy.deepcopy(trace)
    nt = t["next_token"]
    k = len(nt["top"])
    if kind == "flat":
        probs = [2.1e-5 - i * 1e-7 for i in range(k)]
    else:
        probs = [0.999] + [10 ** -(5 + i) for i in range(k - 1)]
    nt["top"] = _dist(probs, nt["top"])
    for temp in nt.get("temperatures", []):
        temp["top"] = _dist(probs, temp["top"])
    for s in t["strategies"].values():
        for step in s["steps"]:
            step["prob"] = probs[0]
            for a, p in zip(step.get("alternatives", []), probs):
                a["prob"] = p
    return t


def variant(name: str, book: dict[str, dict] | None = None) -> dict[str, dict]:
    """The book's traces with the `question` demo turned into the named hostile variant."""
    book = copy.deepcopy(book or load_book())
    q = book["question"]
    recipes = {
        # a long, mixed-script question with a long answer and a random model's flat odds
        "long-flat": lambda: with_probs(with_answer(with_prompt(q, LONG_PROMPT), 64), "flat"),
        "spanish": lambda: with_answer(with_prompt(q, SPANISH), 1),
        "rtl": lambda: with_prompt(q, RTL),
        "emoji": lambda: with_prompt(q, EMOJI),
        "cjk": lambda: with_prompt(q, CJK),
        "template": lambda: with_prompt(q, TEMPLATE),
        "quotes": lambda: with_prompt(q, QUOTES),
        "one-word-empty-peaked": lambda: with_probs(with_answer(with_prompt(q, ONE_WORD), 0, empty=True), "peaked"),
        "mixed": lambda: with_probs(with_answer(with_prompt(q, TEMPLATE + QUOTES + SPANISH + RTL + EMOJI + CJK), 1),
                                    "peaked"),
    }
    book["question"] = recipes[name]()
    return book


VARIANTS = ["long-flat", "spanish", "rtl", "emoji", "cjk", "template", "quotes", "one-word-empty-peaked", "mixed"]
