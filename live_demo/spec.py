"""What a demo asks the model to do. Pure data: importing this never imports torch.

A demo is a named prompt plus parameters. Storyboards and slides refer to demos by
name; the trace of each demo (see live_demo.trace) is what they show.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    attention: tuple[int, int] | None = Field(None, description="[layer, head] whose attention map to record (eager attention).")
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
