"""Slide decks: Marp Markdown (optionally a Jinja template with live model data) built by marp-cli.

    from renderer.deck import build_deck
    build_deck(Path("slides/llm-inference-pipeline.md"), Path("build"), context=..., formats=[...],
               theme_dir=Path("slides/themes"), timeout=300, reporter=reporter)

Modules: source (opt-in templating), markdown (slides, images, theme directives),
assets (local files), themes (theme set), marp (the marp-cli wrapper), checks
(what marp keeps quiet about), build (outputs), present (live-reload server),
bench (novapress vs bare marp-cli).
"""
from .build import build_deck, prepare
from .source import read_deck, render_deck

__all__ = ["build_deck", "prepare", "read_deck", "render_deck"]
