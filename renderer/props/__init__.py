"""Scene props: a registry of drawable things storyboards place in panels.

Import this package to get every prop registered (see base.py for the contract).
Each prop's parameters and docstring are in REGISTRY[name].params / .doc; look at
them all with `python -m renderer.props.sheet OUT.png [--demo trace.json]`.

  the pipeline    conveyor_belt, station, neon_path, hologram_projector, user_icon
  tokens          token_cubes*, padding_cube, char_stream*, batch_grid+, tokenizer_compare*
  the model       tensor_grid*, neural_network, shape_flow+, attention_heatmap+, kv_cache*
  output          prob_bars+, temperature_bars+, text_screen*, chat_window*
  hardware        server_rack, data_center, gpu_die, wafer, fiber_cable, euv_machine

  + needs `demo:` (live data); * shows the demo's data when given one, else static text.
Data props set PropArt.model, so the panel gets a model tag.
"""
from .base import REGISTRY, PropArt, PropContext, PropError, PropParams, PropType, TextItem, prop  # noqa: F401

from . import batch, conveyor, flow, hardware, kvcache, people, prob_charts, screens, tensors, tokens  # noqa: F401,E402  (each module registers its props)

__all__ = ["REGISTRY", "PropArt", "PropContext", "PropError", "PropParams", "PropType", "TextItem", "prop"]
