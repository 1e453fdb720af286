"""The build's live-data stage: demo traces from live_demo, its errors in the build's terms,
and the charts of each trace into build/live/charts/.
"""
from __future__ import annotations

from pathlib import Path

from live_demo.errors import DemoInputError, ModelLoadError, ModelUnavailable

from .config import CONFIG_NAME, ProjectConfig
from .errors import BuildError, InputError, Problem
from .yamlsrc import load_yaml
from .progress import Reporter

# chart name -> (function name in live_demo.charts, extra args)
CHARTS = {
    "topk": ("topk_chart", ()),
    "temperatures": ("temperature_chart", ()),
    "steps-top_p": ("steps_chart", ("top_p",)),
    "temperatures-slide": ("temperature_slide_chart", ()),   # for a 1280x720 slide: large labels
}
VARIANTS = {"dark": "", "light": "-light"}


def get_traces(demos: dict, config: ProjectConfig, *, refresh: bool = False, reporter: Reporter,
               origin: str = "novapress.yaml") -> dict[str, dict]:
    """Traces of `demos`; `origin` names where a bad demo came from in error messages."""
    from live_demo.cache import get_traces as cached_traces

    try:
        return cached_traces(demos, config.model.id, config.model.revision, config.model.fallback, config.seed,
                             Path(config.live.cache_dir), refresh=refresh, on_warning=reporter.warn,
                             on_progress=reporter.step)
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
    if origin != CONFIG_NAME or not err.demo or not config_file.exists():
        return f"{origin}: {err.message}"
    try:
        _data, src = load_yaml(config_file)
    except InputError:
        return f"{origin}: {err.message}"
    path = ("demos", err.demo) + ((err.field,) if err.field else ())
    at_key = path not in src.marks
    return src.problem(path if not at_key else path[:2], err.message, at_key=at_key)


def chart_files(charts_dir: Path, demo: str) -> dict[str, Path]:
    """Every chart of a demo: '<chart>[-light].<png|svg>' -> path."""
    out = {}
    for chart in CHARTS:
        for suffix in VARIANTS.values():
            for ext in ("png", "svg"):
                out[f"{chart}{suffix}.{ext}"] = charts_dir / f"{demo}-{chart}{suffix}.{ext}"
    return out


def write_charts(trace: dict, charts_dir: Path, demo: str) -> list[Path]:
    from live_demo import charts

    written = []
    for chart, (fn_name, extra) in CHARTS.items():
        fn = getattr(charts, fn_name)
        if chart.startswith("steps-") and not trace.get("strategies"):
            continue
        for variant, suffix in VARIANTS.items():
            for ext in ("png", "svg"):
                path = charts_dir / f"{demo}-{chart}{suffix}.{ext}"
                fn(trace, *extra, path, variant=variant)
                written.append(path)
    return written
