"""What a demo asks the model to do. Pure data: importing this never imports torch.

A demo is a named prompt plus parameters. Storyboards and slides refer to demos by
name; the trace of each demo (see live_demo.trace) is what they show.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class AttentionSpec(BaseModel):
    """Which attention the trace records, written as a mapping: one layer's every head
    (`{layer: 3, heads: all}`), every layer's every head at low resolution
    (`{layers: all, heads: all}`), and optionally the one head a heatmap shows (`head: 1`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: int | None = Field(None, ge=0, description="The layer whose heads are recorded (counted from 0).")
    layers: Literal["all"] | None = Field(None, description="'all': every layer (maps pooled to at most "
                                                            "12 x 12 cells, to keep the trace small).")
    heads: Literal["all"] = Field("all", description="'all': every head of the recorded layer(s).")
    head: int | None = Field(None, ge=0, description="Also record this head of `layer` at full resolution, as "
                                                     "`attention: [layer, head]` does (for the attention_heatmap prop).")

    @model_validator(mode="after")
    def _one_scope(self):
        if (self.layer is None) == (self.layers is None):
            raise ValueError("give either layer: N (one layer's heads) or layers: all (every layer's heads)")
        if self.head is not None and self.layer is None:
            raise ValueError("head: needs layer: (the heatmap shows one head of one layer)")
        return self


def attention_pair(value: "tuple[int, int] | AttentionSpec | None") -> tuple[int, int] | None:
    """The [layer, head] whose full map the trace records as `attention` (None: none)."""
    if isinstance(value, AttentionSpec):
        return (value.layer, value.head) if value.layer is not None and value.head is not None else None
    return tuple(value) if value is not None else None


def attention_layers(value: "tuple[int, int] | AttentionSpec | None", n_layers: int) -> list[int]:
    """The layers whose every head the trace records as `attention_heads` (empty: none)."""
    if not isinstance(value, AttentionSpec):
        return []
    return list(range(n_layers)) if value.layers == "all" else [value.layer]


def attention_problem(value: "tuple[int, int] | AttentionSpec | None", n_layers: int, n_heads: int,
                      display: str) -> str | None:
    """Why the model cannot record this attention (a layer or head it does not have), or None."""
    pair = attention_pair(value)
    layer = pair[0] if pair else (value.layer if isinstance(value, AttentionSpec) else None)
    if layer is not None and not 0 <= layer < n_layers:
        return (f"attention layer {layer} does not exist in {display}, which has layers 0-{n_layers - 1}; "
                f"choose a layer from 0 to {n_layers - 1}")
    if pair and not 0 <= pair[1] < n_heads:
        return (f"attention head {pair[1]} does not exist in {display}, whose layers have heads 0-{n_heads - 1}; "
                f"choose a head from 0 to {n_heads - 1} (or record them all: attention: {{layer: {layer}, heads: all}})")
    return None


class DemoSpec(BaseModel):
    """One model run: a prompt and how to decode from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(description="The user's text. With a chat template it becomes the user turn of a chat; "
                                    "without one the model reads exactly this text.")
    chat: bool | None = Field(None, description=(
        "Apply the tokenizer's chat template, as a chat server does: true requires one (an error for a model "
        "without), false feeds the bare prompt, unset applies it when the tokenizer has one."))
    max_new_tokens: int = Field(20, ge=1, le=256, description="Tokens each decoding strategy generates.")
    min_new_tokens: int = Field(0, ge=0, le=256, description=(
        "An explicit demo setting: the model's end token is held back until this many new tokens (capped at "
        "max_new_tokens). 0, the default, lets the model stop whenever it emits its end token."))
    top_k: int = Field(10, ge=1, le=100, description="How many next-token candidates the trace keeps (bars).")
    temperatures: tuple[float, ...] = Field((0.5, 1.0, 1.5), description="Temperatures for the softmax comparison.")
    sample_top_k: int = Field(50, ge=1, description="k for top-k sampling.")
    sample_top_p: float = Field(0.9, gt=0, le=1, description="p for nucleus (top-p) sampling.")
    sample_temperature: float = Field(1.0, gt=0, description="Temperature for the sampling strategies.")
    num_beams: int = Field(4, ge=2, le=16, description="Beams for beam search.")
    attention: tuple[int, int] | AttentionSpec | None = Field(None, description=(
        "[layer, head] whose attention map to record (eager attention); or {layer: N, heads: all} to record every "
        "head of layer N, {layers: all, heads: all} for every head of every layer at low resolution (a grid chart "
        "in build/live/charts/ to pick a head from)."))
    batch_with: tuple[str, ...] = Field((), description="Other prompts padded into one batch with this one (batching panel).")
    timing: bool = Field(False, description="Measure generation time with and without the KV cache.")
    compare_tokenizers: tuple[str, ...] = Field((), description="Other real tokenizers to split the prompt with: "
                                                                "gpt2, smollm2 (the tokenizer comparison panel).")

    @field_validator("prompt")
    @classmethod
    def _prompt_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the prompt is empty; write the text the model should read")
        return v

    @field_validator("compare_tokenizers")
    @classmethod
    def _known_tokenizers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = ("gpt2", "smollm2")
        bad = [n for n in v if n not in known]
        if bad:
            raise ValueError(f"unknown tokenizer '{bad[0]}'; choose from {', '.join(known)}")
        return v

    @field_validator("temperatures")
    @classmethod
    def _positive_temperatures(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(t <= 0 for t in v):
            raise ValueError("temperatures must be greater than 0")
        return v
