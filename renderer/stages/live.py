"""The live stage: build/live/<demo>.json (the trace of each demo the build shows) and
build/live/charts/ (matplotlib charts of the demos the comic and the decks show).

Traces come from live_demo (its freeze cache, or a real model run); its errors become the
build's: a bad demo setting is located in novapress.yaml, an unavailable model is bad input,
a model that fails to load is a failed build.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from live_demo.cache import get_traces
from live_demo.errors import DemoInputError, ModelLoadError, ModelUnavailable

from .. import workers
from ..atomic import write_text
from ..config import CONFIG_NAME, ProjectConfig
from ..errors import BuildError, InputError, Problem
from ..progress import Reporter
from ..steps import BuildState, code_hash, fonts_hash
from ..theme import Theme
from ..yamlsrc import load_yaml

# chart name -> (function name in renderer.trace_charts, extra args)
CHARTS = {
    "topk": ("topk_chart", ()),
    "temperatures": ("temperature_chart", ()),
    "steps-top_p": ("steps_chart", ("top_p",)),
    "temperatures-slide": ("temperature_slide_chart", ()),   # for a 1280x720 slide: large labels
    "attention-heads": ("attention_heads_chart", ()),   # only for a demo that records every head
}
# The code that draws the charts (code_hash: trace_charts and what it imports, and this file, which
# names them). The trace itself is an input of its own: the code that made it is in its cache key.
CHART_CODE = ("renderer.trace_charts", "renderer/stages/live.py")
VARIANTS = {"dark": "", "light": "-light"}   # variant -> file name suffix


def live_stage(state: BuildState, names: list[str], *, refresh: bool = False, origin: str = CONFIG_NAME,
               charts_for: set[str] = frozenset()) -> None:
    """Traces for the demos the build shows (from the freeze cache, or from a real model run), and
    charts of the ones in `charts_for`."""
    config = state.project.config
    missing = [n for n in names if n not in config.demos]
    if missing:
        raise InputError(f"demo(s) {', '.join(missing)} are used but not defined under demos: in novapress.yaml")
    traces = demo_traces({n: config.demos[n] for n in names}, config, refresh=refresh, reporter=state.reporter,
                         origin=origin)
    live = state.out / "live"
    todo = []
    for name in names:
        trace = traces[name]
        text = json.dumps(trace, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        # what later stages see is the trace as stored (lists, not tuples; JSON's floats), so a
        # fresh model run and a cached one give them the same data and the same bytes
        state.traces[name] = json.loads(text)
        state.trace_hashes[name] = digest
        charted = name in charts_for
        inputs = {"trace": digest, "charts": str(charted)}
        if charted:   # the charts: drawn by this code, in the theme's colours and the shipped fonts
            inputs |= {"code": code_hash(*CHART_CODE), "theme": state.theme_hash, "fonts": fonts_hash()}
        if not state.up_to_date(f"live:{name}", inputs):
            todo.append((name, text, charted, inputs))
    if not todo:
        return
    state.reporter.step(f"live data and charts: {', '.join(n for n, *_ in todo)}")
    charted_names = [n for n, _, charted, _ in todo if charted]
    charts = workers.run_all(_charts_job, [(traces[n], live / "charts", n, state.project.theme) for n in charted_names])
    charts_by_name = dict(zip(charted_names, charts))
    for name, text, charted, inputs in todo:
        outputs = [write_text(live / f"{name}.json", text)] + charts_by_name.get(name, [])
        state.done(f"live:{name}", inputs, outputs)


def demo_traces(demos: dict, config: ProjectConfig, *, refresh: bool = False, reporter: Reporter,
                origin: str = CONFIG_NAME, cached_first: bool = False) -> dict[str, dict]:
    """Traces of `demos` through live_demo, its errors as the build's; `origin` names where a bad
    demo came from in error messages (novapress.yaml, or --prompt). cached_first: a preview's
    traces, stored ones as they are without looking for the model (live_demo.cache.get_traces)."""
    try:
        return get_traces(demos, config.model.id, config.model.revision, config.model.fallback, config.seed,
                          Path(config.live.cache_dir), refresh=refresh, on_warning=reporter.warn,
                          on_progress=reporter.step, cached_first=cached_first, on_info=reporter.info)
    except DemoInputError as err:
        raise InputError(_located(err, origin)) from None
    except ModelUnavailable as err:
        raise InputError(f"{origin}: {err.message}") from None
    except ModelLoadError as err:
        raise BuildError(err.message) from None


def _located(err: DemoInputError, origin: str) -> Problem | str:
    """The demo setting at fault as file:line:col of novapress.yaml (the demo's own line when the
    setting is not written there, e.g. a chat template applied by default)."""
    config_file = Path.cwd() / CONFIG_NAME
    # --prompt gives only the prompt: any other setting of the demo (its attention, its batch) is
    # still written in novapress.yaml, and pointed at there
    from_origin = origin != CONFIG_NAME and err.field in (None, "prompt")
    if from_origin or not err.demo or not config_file.exists():
        return f"{origin}: {err.message}"
    try:
        _data, src = load_yaml(config_file)
    except InputError:
        return f"{origin}: {err.message}"
    path = ("demos", err.demo) + ((err.field,) if err.field else ())
    at_key = path not in src.marks
    return src.problem(path if not at_key else path[:2], err.message, at_key=at_key)


def chart_file(charts_dir: Path, demo: str, chart: str, variant: str, ext: str) -> Path:
    """Where a chart of a demo is written: <demo>-<chart>[-light].<png|svg>."""
    return charts_dir / f"{demo}-{chart}{VARIANTS[variant]}.{ext}"


def write_charts(trace: dict, charts_dir: Path, demo: str, theme: Theme) -> list[Path]:
    """Every chart of a trace, dark and light, PNG and SVG."""
    from .. import trace_charts   # matplotlib: imported only where a chart is drawn

    written = []
    for chart, (fn_name, extra) in CHARTS.items():
        fn = getattr(trace_charts, fn_name)
        if chart.startswith("steps-") and not trace.get("strategies"):
            continue
        if chart == "attention-heads" and not trace.get("attention_heads"):
            continue
        for variant in VARIANTS:
            for ext in ("png", "svg"):
                path = chart_file(charts_dir, demo, chart, variant, ext)
                fn(trace, *extra, path, theme, variant)
                written.append(path)
    return written


def _charts_job(job: tuple) -> list[Path]:
    return write_charts(*job)
