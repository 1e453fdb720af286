"""Reading the live trace (build/live/<demo>.json) for data-bearing props.

A trace holds the fields live_demo/trace_fields.py describes. These helpers turn its
parts into small records and say clearly what is missing and how to fix it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from live_demo.formatting import token_display, visible

from .base import PropError, PropParams

class DataParams(PropParams):
    """Parameters of a prop that can show a demo's live data.

    The storyboard names the demo beside `type:` and `at:` (`demo: question`); the
    compositor passes its trace in PropContext.demo, so it is not a parameter here.
    """


@dataclass(frozen=True)
class Token:
    display: str           # what a reader sees: leading space as U+2423
    id: int | None = None


def need(trace: dict[str, Any] | None, key: str, fix: str) -> Any:
    """trace[key], or a PropError saying how to get that data."""
    if trace is None:
        raise PropError("it shows live data: give the prop `demo: <name>` (a demo from novapress.yaml)")
    value = trace.get(key)
    if value is None:
        raise PropError(f"the trace of demo '{trace.get('demo', '?')}' has no {key}; {fix}")
    return value


def trace_tokens(trace: dict[str, Any]) -> list[Token]:
    """The tokens of a trace (or of any record with a 'tokens' list of {id, text, display})."""
    return [Token(token_display(t), t.get("id")) for t in trace["tokens"]]


def static_tokens(texts: list[str], ids: list[int] | None) -> list[Token]:
    if ids is not None and len(ids) != len(texts):
        raise PropError(f"ids: {len(ids)} ids for {len(texts)} tokens; give one id per token or none")
    return [Token(visible(t), None if ids is None else ids[i]) for i, t in enumerate(texts)]


def model_name(trace: dict[str, Any] | None) -> str | None:
    return None if trace is None else trace["model"]["display"]
