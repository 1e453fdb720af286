"""What the model reads: a prompt as tokens (ids, text, character spans), inside the chat
template when one applies, and a batch padded as generation pads it.

Tokenizer work only, no torch: the Ask box and the reference tokenizers use it too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DemoInputError
from .formatting import visible


# ---------------------------------------------------------------- tokens

def token_entry(token_id: int, text: str, special: bool = False) -> dict:
    """A token as every trace records it. `special` is always there (templates test it directly)."""
    return {"id": int(token_id), "text": text, "display": visible(text), "special": bool(special)}


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


# ---------------------------------------------------------------- a padded batch

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
