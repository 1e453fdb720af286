"""Errors of the live demo. live_demo never imports renderer, so the build code
translates these: DemoInputError and ModelUnavailable are the user's input (exit 2),
ModelLoadError is a resource that failed (exit 1).
"""
from __future__ import annotations


class LiveDemoError(Exception):
    """Base of every live_demo error; `message` is one readable sentence with the fix."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DemoInputError(LiveDemoError):
    """A demo asks for something the model cannot do (empty prompt, too long, bad layer).
    `demo` and `field` name the setting at fault, so the build can point at its line."""

    def __init__(self, message: str, demo: str | None = None, field: str | None = None):
        super().__init__(message)
        self.demo = demo
        self.field = field


class ModelUnavailable(LiveDemoError):
    """The configured model cannot be had here and the fallback is off (or missing too)."""


class ModelLoadError(LiveDemoError):
    """Model files were found but did not load, or loaded into something unusable."""
