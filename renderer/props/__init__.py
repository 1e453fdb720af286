"""Scene props: a registry of drawable things storyboards place in panels.

Import this package to get every prop registered (see base.py for the contract).
"""
from .base import REGISTRY, PropArt, PropContext, PropError, PropParams, PropType, TextItem, prop  # noqa: F401

from . import batch, charts, conveyor, flow, hardware, kvcache, people, screens, tensors, tokens  # noqa: F401,E402  (each module registers its props)

__all__ = ["REGISTRY", "PropArt", "PropContext", "PropError", "PropParams", "PropType", "TextItem", "prop"]
