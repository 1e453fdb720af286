"""Personal comic pages: anyone's own question drawn as page 5, "The Inference Pipeline", from
the model's real work on that question (its tokens, the padded batch, the shapes, the first
answer token's top-k and the decoded answer).

`PersonalPages` keeps everything that does not depend on the question loaded for the life of
the process (the model, the storyboard, the cast, the theme, and through them the fonts and
prop art, which renderer.fonts and renderer.cast cache), so a new question costs one model run
and one page drawing. A page is cached by its key: the question, the model that runs, the seed,
the demo's settings and a hash of the code and every input file that draws it. The same
question asked again is read back from the cache.

The question runs exactly as the book's main question does (live_demo.trace.run_demo, inside
the model's chat template when it has one), but only the greedy answer is decoded: the page
shows no other strategy, and the three others would triple the wait.
"""
from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from live_demo.errors import DemoInputError
from live_demo.formatting import elide_line

from .atomic import atomic_path
from .comic_files import png_bytes, source_date_epoch, transcript
from .config import ProjectConfig
from .draw import render_page, shows_data
from .errors import InputError, rel
from .rendering import RenderContext
from .site.ask import MAX_PROMPT_CHARS, AskRejected
from .steps import code_hash, sha256_file, sha256_json
from .storyboard import load_cast, load_storyboard
from .theme import load_theme, theme_file

PAGE_STORYBOARD = "page-05-inference-pipeline.yaml"
STRATEGIES = ("greedy",)          # the page shows the greedy answer only
CACHE_DIR = ".novapress/personal"
FILES = ("png", "pdf", "md", "json")   # page.png, page.pdf, page.md (transcript), page.json (what it shows)
PDF_TITLE_CHARS = 80


def check_question(question: str | None, max_chars: int = MAX_PROMPT_CHARS) -> str:
    """The question if a page can be made of it, else AskRejected (the Ask box's limits)."""
    if question is None or not question.strip():
        raise AskRejected(400, "the question is empty; type something to ask")
    if len(question) > max_chars:
        raise AskRejected(413, f"the question is {len(question)} characters; at most {max_chars} are accepted")
    if "\x00" in question:
        raise AskRejected(400, "the question holds a NUL character; remove it")
    return question


@dataclass
class PersonalPage:
    """One question's page as written: its files and what it shows."""

    question: str
    key: str
    folder: Path
    name: str
    cached: bool                       # read back, not made now
    meta: dict = field(default_factory=dict)

    def file(self, ext: str) -> Path:
        return self.folder / f"{self.name}.{ext}"

    @property
    def png(self) -> Path:
        return self.file("png")

    @property
    def pdf(self) -> Path:
        return self.file("pdf")

    @property
    def transcript(self) -> Path:
        return self.file("md")

    @property
    def answer(self) -> str:
        return self.meta.get("answer", "")

    @property
    def warnings(self) -> list[str]:
        return self.meta.get("warnings", [])


class PersonalPages:
    """Makes personal pages; one instance per process keeps the model and the art loaded."""

    def __init__(self, config: ProjectConfig, *, root: Path | None = None, cache_dir: Path | None = None,
                 loader: Callable[[], Any] | None = None, storyboard: Path | None = None,
                 lock: threading.Lock | None = None, max_chars: int = MAX_PROMPT_CHARS):
        self.root = Path(root or Path.cwd())
        self.config = config
        self.cache_dir = Path(cache_dir) if cache_dir else self.root / CACHE_DIR
        self.max_chars = max_chars
        self.lock = lock or threading.Lock()     # one model run at a time: torch and the seeded RNG are shared
        self._loader = loader
        self._loaded = None
        self._choice = None
        self._load_lock = threading.Lock()
        self._static = None          # (panels that show no data, drawn once; their warnings)
        self._draw_lock = threading.Lock()
        sb_dir = self.root / config.comic.storyboards
        self.cast_file = sb_dir / "cast.yaml"
        cast = load_cast(self.cast_file)[0] if self.cast_file.exists() else {}
        self.storyboard = Path(storyboard) if storyboard else sb_dir / PAGE_STORYBOARD
        if not self.storyboard.is_file():
            raise InputError(f"{rel(self.storyboard)}: the personal page's storyboard is missing; restore it "
                             f"(git checkout {rel(self.storyboard)})")
        self.sb = load_storyboard(self.storyboard, cast=cast, demos=config.demos)
        if len(self.sb.board.demos) != 1:
            raise InputError(f"{rel(self.storyboard)}: a personal page shows one demo, the question; this page "
                             f"lists {len(self.sb.board.demos)} under demos:")
        self.demo = self.sb.board.demos[0]
        self.theme = load_theme(config.comic.theme)
        self.cast = cast
        self.names = {k: m.name for k, m in cast.items()}
        tf = theme_file(config.comic.theme)
        c = config
        # everything but the question and the model that decides how the page looks
        self.inputs_hash = sha256_json({
            "storyboard": sha256_file(self.storyboard),
            "cast": sha256_file(self.cast_file) if self.cast_file.exists() else "",
            "theme": sha256_file(tf) if tf.exists() else c.comic.theme,
            "code": code_hash(),
            "settings": {"page_size": list(c.comic.page_size), "dpi": c.comic.dpi, "seed": c.seed,
                         "book": c.book.model_dump(), "strategies": list(STRATEGIES)},
            "spec": self.spec("?").model_dump(mode="json", exclude={"prompt"}),
        })

    # ------------------------------------------------------------ the model

    def spec(self, question: str):
        """The demo the page shows, asking `question`: the storyboard's demo, without the parts the
        page does not show (timing runs, attention maps)."""
        return self.config.demos[self.demo].model_copy(update={"prompt": question, "timing": False,
                                                               "attention": None})

    def choice(self):
        """The model that runs (resolved once: the hub is asked at most once per process)."""
        if self._loaded is not None:
            return self._loaded.choice
        if self._choice is None:
            from live_demo.models import resolve_model   # the hub client: only when a model is wanted
            m = self.config.model
            self._choice = resolve_model(m.id, m.revision, m.fallback)
        return self._choice

    def model(self):
        """The loaded model (loaded on first use, then kept)."""
        with self._load_lock:
            if self._loaded is None:
                if self._loader is not None:
                    self._loaded = self._loader()
                else:
                    from live_demo.loading import load_model   # imports torch
                    self._loaded = load_model(self.choice())
        return self._loaded

    def portable(self) -> dict:
        """What another machine needs to make the same pages with novapress installed: the settings
        and the project's files that draw the page (see from_portable)."""
        files = {str(p.relative_to(self.root)): p.read_text(encoding="utf-8")
                 for p in (self.storyboard, self.cast_file) if p.is_file()}
        return {"inputs": self.inputs_hash, "config": self.config.model_dump(mode="json"), "files": files}

    @classmethod
    def from_portable(cls, project: dict, folder: Path) -> "PersonalPages":
        """PersonalPages made from `portable()`'s data, its files written under `folder`."""
        for relpath, text in project["files"].items():
            target = folder / relpath
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                with atomic_path(target) as tmp:
                    tmp.write_text(text, encoding="utf-8")
        config = ProjectConfig.model_validate(project["config"])
        return cls(config, root=folder, cache_dir=folder / "cache",
                   storyboard=folder / next(iter(project["files"])))

    def use_model(self, loaded: Any) -> None:
        """Use a model already loaded elsewhere in this process (the Ask box's)."""
        self._loaded = loaded

    # ------------------------------------------------------------ pages

    def key(self, question: str) -> str:
        ch = self.choice()
        return sha256_json({"question": question, "seed": self.config.seed, "inputs": self.inputs_hash,
                            "model": {"requested": self.config.model.id, "revision": self.config.model.revision,
                                      "id": ch.id, "resolved": ch.revision, "weights": ch.weights_sha256}})

    def cached(self, question: str, folder: Path | None = None, name: str = "page") -> PersonalPage | None:
        """The page already written for this question (all its files, made from the same key), or None."""
        question = check_question(question, self.max_chars)
        key = self.key(question)
        folder = Path(folder) if folder else self.cache_dir / key[:32]
        return _read_page(question, key, folder, name)

    def make(self, question: str, folder: Path | None = None, name: str = "page") -> PersonalPage:
        """The page of `question`: from the cache when it was made before, else run and drawn.
        Files go to `folder` (default: the cache folder of its key) as <name>.png/.pdf/.md/.json.
        Raises AskRejected for a question the model cannot take (empty, too long)."""
        question = check_question(question, self.max_chars)
        key = self.key(question)
        folder = Path(folder) if folder else self.cache_dir / key[:32]
        page = _read_page(question, key, folder, name)
        if page is not None:
            return page
        _key, files, meta = self.render(question)
        return self.save(question, key, files, meta, folder, name)

    def render(self, question: str) -> tuple[str, dict[str, bytes], dict]:
        """(key, files, meta) of `question`'s page, made now and written nowhere: what a Dask worker
        sends back (files: png, pdf, md, json as bytes)."""
        question = check_question(question, self.max_chars)
        key = self.key(question)
        files, meta = self.draw(question, self.trace(question))
        meta = {"key": key, **meta}
        files["json"] = (json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        return key, files, meta

    def trace(self, question: str) -> dict:
        """The model's run on `question` (the trace the page shows)."""
        from live_demo.trace import run_demo   # imports torch: only when a page is made

        loaded = self.model()
        with self.lock:
            try:
                return run_demo(loaded, self.demo, self.spec(question), self.config.seed, strategies=STRATEGIES)
            except DemoInputError as err:
                message = err.message.split(": ", 1)[-1] if err.message.startswith("demo ") else err.message
                raise AskRejected(413 if "reads at most" in message else 400, message) from None

    def draw(self, question: str, trace: dict) -> tuple[dict[str, bytes], dict]:
        """The page's files as bytes (png, pdf, md, json) and what it shows (the json's content)."""
        c = self.config
        ctx = RenderContext(theme=self.theme, cast=self.cast, traces={self.demo: trace},
                            page_size=tuple(c.comic.page_size), seed=c.seed, book=c.book.model_dump())
        with self._draw_lock:
            if self._static is None:     # the same for every question: drawn once per process
                ids = {p.id for p in self.sb.board.panels if not shows_data(p)}
                first = render_page(self.sb, ctx, only_panel=ids) if ids else None
                self._static = (first.panels if first else {}, first.warnings if first else [])
        static, static_warnings = self._static
        render = render_page(self.sb, ctx, reuse=static)
        render.warnings = sorted(static_warnings + render.warnings, key=lambda w: (w.line or 0, w.col or 0))
        board = self.sb.board
        title = f"{board.title}: {elide_line(question, PDF_TITLE_CHARS)}"
        image = render.image.convert("RGB")
        greedy = trace["strategies"]["greedy"]
        meta = {"question": question, "title": title, "page": board.page, "model": trace["model"]["display"],
                "answer": greedy["text"], "stopped": greedy["stopped"], "seed": c.seed,
                # the storyboard as the project names it, wherever this process read it from
                "warnings": [str(w).replace(f"{self.root}/", "") for w in render.warnings]}
        words = transcript(self.sb, render, self.names)
        head, _, rest = words.partition("\n")
        words = f"{head}\n\n*Asked:* {question}\n{rest}"
        files = {"png": png_bytes(image, c.comic.dpi), "pdf": pdf_bytes(image, c.comic.dpi, title, c.book.author),
                 "md": words.encode("utf-8")}
        return files, meta

    def save(self, question: str, key: str, files: dict[str, bytes], meta: dict, folder: Path,
             name: str = "page") -> PersonalPage:
        """Write a page's files, atomically each, the .json last (it says the page is complete)."""
        folder.mkdir(parents=True, exist_ok=True)
        for ext in FILES:      # the .json last: it says the page is complete (see _read_page)
            with atomic_path(folder / f"{name}.{ext}") as tmp:
                tmp.write_bytes(files[ext])
        return PersonalPage(question, key, folder, name, cached=False, meta=meta)


def _read_page(question: str, key: str, folder: Path, name: str) -> PersonalPage | None:
    try:
        meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("key") != key:
        return None
    page = PersonalPage(question, key, folder, name, cached=True, meta=meta)
    if not all(page.file(ext).is_file() for ext in FILES):
        return None
    return page


def pdf_bytes(image, dpi: int, title: str, author: str) -> bytes:
    """A one-page PDF of `image`, with fixed dates so the same page gives the same bytes."""
    from pypdf import PdfWriter

    buf = io.BytesIO()
    image.save(buf, "PDF", resolution=dpi)
    writer = PdfWriter()
    writer.append(io.BytesIO(buf.getvalue()))
    stamp = time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime(source_date_epoch()))
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "novapress", "/Producer": "novapress",
                         "/CreationDate": stamp, "/ModDate": stamp})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
