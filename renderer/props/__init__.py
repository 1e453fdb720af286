"""Scene props: a registry of drawable things storyboards place in panels.

Import this package to get every prop registered (see base.py for the contract).
"""
from .base import REGISTRY, PropArt, PropContext, PropParams, PropType, TextItem, prop  # noqa: F401

__all__ = ["REGISTRY", "PropArt", "PropContext", "PropParams", "PropType", "TextItem", "prop"]
