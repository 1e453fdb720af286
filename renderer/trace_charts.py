"""Charts of a trace with matplotlib, in the theme's chart colours: dark (on the comic's
panels) or light (for print).

No pyplot and no global backend: each chart is its own Figure, so the charts do not
disturb anything else in the process. PNG or SVG by the path's suffix, with fixed
metadata and SVG hash salt, so the same trace gives the same bytes. Every chart
names the model that produced its numbers. Which charts a build writes, and their file
names, are renderer.stages.live's.

Each PNG says how small its smallest text is, in its own pixels (text chunk
`novapress:min-text-px`), so a slide that shows it can check the text stays legible at
the size shown. `*_slide_*` charts are drawn for a 1280x720 slide: fewer, larger labels,
sized in slide pixels (a figure inch is 100 slide pixels; the PNG has twice that for
sharpness) so that none is smaller than SLIDE_MIN_PX when shown at its width.
"""
from __future__ import annotations

import importlib.util
import io
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import matplotlib
import matplotlib.text
import matplotlib.ticker
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from live_demo.formatting import elide_line, pct

from .lettering import MIN_TEXT_KEY
from .theme import Theme

Variant = Literal["dark", "light"]
TOKEN_FONT = ["JetBrains Mono", "DejaVu Sans Mono"]  # DejaVu (ships with matplotlib) has the glyphs
TITLE_FONT = ["Exo 2", "DejaVu Sans"]                # JetBrains Mono lacks, such as U+2423
# Tokens are shown as they are: no ligatures (JetBrains Mono turns "<|" into a triangle).
MONO = {"fontfamily": TOKEN_FONT, "fontfeatures": ["-liga", "-calt"]}
FONT_FILES = {"JetBrains Mono": ("fontpkg_jetbrains_mono", "JetBrainsMono[wght].ttf"),
              "Exo 2": ("fontpkg_exo_2", "Exo2[wght].ttf")}
DPI = 200
SLIDE_MIN_PX = 20      # the slide charts' smallest text, in slide pixels (the deck's floor is 18)
STRATEGY_TITLES = {"greedy": "Greedy decoding", "top_k": "Top-k sampling", "top_p": "Top-p (nucleus) sampling",
                   "beam": "Beam search"}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Make the shipped fonts known to matplotlib (never the system's)."""
    for family, (package, name) in FONT_FILES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"font package {package} for {family} is not installed; run 'make deps'")
        font_manager.fontManager.addfont(str(Path(list(spec.submodule_search_locations)[0]) / "files" / name))


# ---------------------------------------------------------------- text helpers

def model_line(trace: dict) -> str:
    return f"model: {trace['model']['display']}"


# ---------------------------------------------------------------- figure plumbing

def chart_colors(theme: Theme, variant: str) -> dict:
    """The theme's chart colours for `variant`, every name resolved to a #rrggbb colour."""
    if variant not in theme.charts:
        raise ValueError(f"chart variant must be one of {', '.join(theme.charts)}, not {variant!r}")
    return theme.chart_colors(variant)


def _figure(width: float, height: float, colors: dict) -> Figure:
    register_fonts()
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor=colors["background"])
    FigureCanvasAgg(fig)
    return fig


def _style_axes(ax, colors: dict) -> None:
    ax.set_facecolor(colors["background"])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(colors["grid"])
    ax.tick_params(axis="x", colors=colors["muted"], length=0, labelsize=9)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True, color=colors["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    for label in ax.get_xticklabels():
        label.set_fontfamily(TITLE_FONT)


def _frame(fig: Figure, title: str, subtitle: str, trace: dict, colors: dict) -> None:
    fig.text(0.02, 0.975, title, ha="left", va="top", fontsize=15, color=colors["text"], fontfamily=TITLE_FONT)
    if subtitle:
        fig.text(0.02, 0.975 - 0.32 / fig.get_figheight(), subtitle, ha="left", va="top", fontsize=9.5,
                 color=colors["muted"], fontfamily=TITLE_FONT)
    fig.text(0.98, 0.012, model_line(trace), ha="right", va="bottom", fontsize=8.5, color=colors["muted"],
             **MONO)


def save(fig: Figure, path: str | Path) -> Path:
    """PNG or SVG by suffix, same bytes for the same figure, written atomically."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ValueError(f"chart path must end in .png or .svg, not {path.name}")
    metadata = {"Software": None, MIN_TEXT_KEY: f"{min_text_px(fig):.1f}"} if kind == "png" else \
        {"Date": None, "Creator": "novapress"}
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "novapress", "svg.fonttype": "path"}):
        fig.savefig(buf, format=kind, metadata=metadata, facecolor=fig.get_facecolor())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
    return path


def min_text_px(fig: Figure) -> float:
    """The size of the smallest visible text in the figure, in the pixels of its PNG."""
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) * fig.dpi / 72 if sizes else 0.0


def _slide_pt(px: float) -> float:
    """Font size in points for text `px` slide pixels high on a slide chart."""
    return px * 72 / 100


def _bars(ax, labels: list[str], probs: list[float], colors: dict, highlight: int | None = 0,
          xmax: float | None = None) -> None:
    """Horizontal bars, first at the top, labelled with token text and percentages."""
    ys = list(range(len(labels)))[::-1]
    fills = [colors["accent"] if i == highlight else colors["bar"] for i in range(len(labels))]
    ax.barh(ys, probs, color=fills, height=0.68)
    top = xmax or max(probs) or 1.0
    ax.set_xlim(0, top * 1.22)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_yticks(ys, labels, **MONO, fontsize=10.5, color=colors["text"])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%"
                                                                 if top >= 0.05 else f"{100 * v:.2g}%"))
    for y, p in zip(ys, probs):
        ax.text(p + top * 0.015, y, pct(p), va="center", ha="left", fontsize=9, color=colors["text"],
                **MONO)
    _style_axes(ax, colors)


def _token_label(entry: dict) -> str:
    return entry["display"] if entry["display"] != "" else "\u00b7"


# ---------------------------------------------------------------- the charts

def topk_chart(trace: dict, path: str | Path, theme: Theme, variant: Variant = "dark") -> Path:
    """The next-token top-k at temperature 1: one bar per candidate token."""
    return save(topk_figure(trace, theme, variant), path)


def temperature_chart(trace: dict, path: str | Path, theme: Theme, variant: Variant = "dark") -> Path:
    """The same top-k tokens at each temperature, side by side on one scale."""
    return save(temperature_figure(trace, theme, variant), path)


def temperature_slide_chart(trace: dict, path: str | Path, theme: Theme, variant: Variant = "dark") -> Path:
    """temperature_chart drawn for a slide: the five likeliest tokens, large labels."""
    return save(temperature_slide_figure(trace, theme, variant), path)


def steps_chart(trace: dict, strategy: str, path: str | Path, theme: Theme, variant: Variant = "dark") -> Path:
    """Per generated token of a strategy: the chosen token's probability and the runner-ups'."""
    return save(steps_figure(trace, strategy, theme, variant), path)


def topk_figure(trace: dict, theme: Theme, variant: Variant = "dark") -> Figure:
    colors = chart_colors(theme, variant)
    top = trace["next_token"]["top"]
    fig = _figure(8, 1.5 + 0.42 * len(top), colors)
    ax = fig.add_axes((0.2, 0.55 / fig.get_figheight(), 0.76, 1 - 1.35 / fig.get_figheight()))
    _bars(ax, [_token_label(t) for t in top], [t["prob"] for t in top], colors)
    _frame(fig, f"Next token after \u201c{elide_line(trace['prompt'], 48)}\u201d",
           f"the {len(top)} likeliest of {trace['model']['vocab_size']:,} tokens, softmax at T = 1", trace, colors)
    return fig


def temperature_figure(trace: dict, theme: Theme, variant: Variant = "dark") -> Figure:
    colors = chart_colors(theme, variant)
    panels = trace["next_token"]["temperatures"]
    order = [t["id"] for t in trace["next_token"]["top"]]
    n = len(order)
    fig = _figure(1.4 + 3.3 * len(panels), 1.7 + 0.42 * n, colors)
    height = fig.get_figheight()
    xmax = max(t["prob"] for panel in panels for t in panel["top"])
    left, gap = 1.3 / fig.get_figwidth(), 0.25 / fig.get_figwidth()
    width = (0.98 - left - gap * (len(panels) - 1)) / len(panels)
    for i, panel in enumerate(panels):
        by_id = {t["id"]: t for t in panel["top"]}
        entries = [by_id[j] for j in order if j in by_id]
        ax = fig.add_axes((left + i * (width + gap), 0.55 / height, width, 1 - 1.75 / height))
        _bars(ax, [_token_label(t) for t in entries], [t["prob"] for t in entries], colors, xmax=xmax)
        if i:
            ax.tick_params(labelleft=False)
        t = panel["t"]
        mood = "sharper" if t < 1 else "flatter" if t > 1 else "as trained"
        ax.set_title(f"T = {t:g}  ({mood})", fontsize=11, color=colors["text"], fontfamily=TITLE_FONT, loc="left")
    _frame(fig, f"Temperature reshapes the same {n} candidates",
           f"softmax(logits / T) after \u201c{elide_line(trace['prompt'], 48)}\u201d", trace, colors)
    return fig


def temperature_slide_figure(trace: dict, theme: Theme, variant: Variant = "dark", *, width_px: int = 1160,
                             height_px: int = 470, tokens: int = 5) -> Figure:
    """The likeliest `tokens` first tokens at each temperature, side by side on one 0-100% scale,
    for a slide area of width_px x height_px slide pixels; no text under SLIDE_MIN_PX."""
    colors = chart_colors(theme, variant)
    panels = trace["next_token"]["temperatures"]
    order = [t["id"] for t in trace["next_token"]["top"]][:tokens]
    register_fonts()
    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=DPI, facecolor=colors["background"])
    FigureCanvasAgg(fig)
    label_pt, value_pt, small_pt = _slide_pt(24), _slide_pt(22), _slide_pt(SLIDE_MIN_PX)
    left = 190 / width_px                       # room for the token labels
    gap = 40 / width_px
    top, bottom = 70 / height_px, 44 / height_px
    width = (1 - left - 0.01 - gap * (len(panels) - 1)) / max(len(panels), 1)
    for i, panel in enumerate(panels):
        by_id = {t["id"]: t for t in panel["top"]}
        entries = [by_id[j] for j in order if j in by_id]
        ax = fig.add_axes((left + i * (width + gap), bottom, width, 1 - top - bottom))
        ys = list(range(len(entries)))[::-1]
        probs = [t["prob"] for t in entries]
        ax.barh(ys, probs, color=[colors["accent"] if k == 0 else colors["bar"] for k in range(len(entries))],
                height=0.66)
        ax.set_xlim(0, 1.0)
        ax.set_ylim(-0.6, len(entries) - 0.4)
        ax.set_yticks(ys, [elide_line(_token_label(t), 9) for t in entries] if i == 0 else [""] * len(entries),
                      **MONO, fontsize=label_pt, color=colors["text"])
        for y, p in zip(ys, probs):
            inside = p > 0.55       # a long bar carries its number inside, a short one after it
            ax.text(p - 0.02 if inside else p + 0.02, y, pct(p), va="center", ha="right" if inside else "left",
                    fontsize=value_pt, color=colors["on_alternative"] if inside else colors["text"], **MONO)
        ax.set_xticks([0, 0.5], ["0", "50%"])
        _style_axes(ax, colors)
        ax.tick_params(axis="x", labelsize=small_pt)
        t = panel["t"]
        mood = "sharper" if t < 1 else "flatter" if t > 1 else "as trained"
        ax.set_title(f"T = {t:g} ({mood})", fontsize=label_pt, color=colors["text"], fontfamily=TITLE_FONT,
                     loc="left", pad=10)
    fig.text(0.995, 0.99, model_line(trace), ha="right", va="top", fontsize=small_pt, color=colors["muted"],
             **MONO)
    return fig


def steps_figure(trace: dict, strategy: str, theme: Theme, variant: Variant = "dark") -> Figure:
    """One row per generated token: the chosen token's probability (accent) followed by
    the runner-up tokens' probabilities, on a 0-100% scale."""
    if strategy not in trace["strategies"]:
        raise ValueError(f"no strategy '{strategy}' in the trace; it has {', '.join(trace['strategies'])}")
    colors = chart_colors(theme, variant)
    result = trace["strategies"][strategy]
    steps = result["steps"]
    fig = _figure(9, 1.7 + 0.34 * max(len(steps), 1), colors)
    height = fig.get_figheight()
    ax = fig.add_axes((0.17, 0.55 / height, 0.74, 1 - 1.5 / height))
    ys = list(range(len(steps)))[::-1]
    for y, step in zip(ys, steps):
        ax.barh(y, step["prob"], color=colors["accent"], height=0.7)
        x = step["prob"]
        for k, alt in enumerate(step["alternatives"]):
            ax.barh(y, alt["prob"], left=x, color=colors["alternatives"][k % len(colors["alternatives"])],
                    height=0.7, edgecolor=colors["background"], linewidth=0.6)
            if alt["prob"] > 0.07:  # room for the runner-up's text inside its segment
                ax.text(x + alt["prob"] / 2, y, elide_line(_token_label(alt), 8), ha="center", va="center",
                        fontsize=7.5, color=colors["on_alternative"], **MONO)
            x += alt["prob"]
        ax.text(1.01, y, pct(step["prob"]), va="center", ha="left", fontsize=8.5, color=colors["text"],
                **MONO, transform=ax.get_yaxis_transform())
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(steps) - 0.4)
    ax.set_yticks(ys, [elide_line(_token_label(s["token"]), 14) for s in steps], **MONO,
                  fontsize=10, color=colors["text"])
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    _style_axes(ax, colors)
    _frame(fig, f"{_strategy_title(strategy, result)}: \u201c{elide_line(result['text'], 44)}\u201d",
           "per step: the chosen token's probability (pink), then the runner-ups, as the model rated them", trace, colors)
    return fig


def _strategy_title(strategy: str, result: dict) -> str:
    title = STRATEGY_TITLES.get(strategy, strategy)
    if strategy == "top_k":
        title += f" (k={result.get('k')}, T={result.get('temperature')})"
    elif strategy == "top_p":
        title += f" (p={result.get('p')}, T={result.get('temperature')})"
    elif strategy == "beam":
        title += f" ({result.get('num_beams')} beams)"
    return title


def attention_heads_chart(trace: dict, path: str | Path, theme: Theme, variant: Variant = "dark") -> Path:
    """Every recorded head as a small heatmap, one row per layer: the picture an author picks
    `attention: [layer, head]` from."""
    return save(attention_heads_figure(trace, theme, variant), path)


def attention_heads_figure(trace: dict, theme: Theme, variant: Variant = "dark") -> Figure:
    from matplotlib.colors import LinearSegmentedColormap

    colors = chart_colors(theme, variant)
    heads = trace["attention_heads"]
    layers, n_heads = heads["layers"], heads["n_heads"]
    cell = 1.1 if len(layers) > 1 else 1.8
    fig = _figure(max(8.0, 1.0 + cell * n_heads), 1.5 + cell * len(layers), colors)
    cmap = LinearSegmentedColormap.from_list("attention", [colors["background"], colors["accent"]])
    top, bottom = 1.05 / fig.get_figheight(), 0.45 / fig.get_figheight()
    left = 0.8 / fig.get_figwidth()
    w = (1 - left - 0.02) / n_heads
    h = (1 - top - bottom) / len(layers)
    for row, layer in enumerate(layers):
        for head, grid in enumerate(heads["maps"][str(layer)]):
            ax = fig.add_axes((left + head * w + 0.08 * w, 1 - top - (row + 1) * h + 0.08 * h, 0.84 * w, 0.84 * h))
            ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(colors["grid"])
            if row == 0:
                ax.set_title(f"head {head}", fontsize=8, color=colors["muted"], fontfamily=TITLE_FONT, pad=3)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8, color=colors["muted"], fontfamily=TITLE_FONT)
    pooled = "blocks of tokens" if heads["pooled"] else f"{len(heads['tokens'])} tokens a side"
    _frame(fig, "Every attention head", f"rows: layers; columns: heads; {pooled}; brighter: more attention",
           trace, colors)
    return fig
