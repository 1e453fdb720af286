"""The comic stage: one step per page (its PNG, its panels, its transcript), then the PDF and
CBZ that contain them (`novapress render`, one page drawn quickly, is renderer.preview.render).

Every page to redraw is drawn before any is written: a page that cannot be drawn stops the
build with build/ untouched, and with --strict so does a page that warns.
"""
from __future__ import annotations

from ..comic_files import write_cbz, write_page, write_pdf
from ..draw import render_page
from ..errors import InputError, Problem, rel
from ..project import Project
from ..rendering import RenderContext
from ..steps import BuildState, code_hash, fonts_hash, sha256_file, sha256_json
from ..storyboard import LoadedStoryboard

STRICT_NOTE = "--strict: the warnings above are errors; no page was written"


def render_context(project: Project, traces: dict[str, dict]) -> RenderContext:
    c = project.config
    return RenderContext(theme=project.theme, cast=project.cast, traces=traces, page_size=tuple(c.comic.page_size),
                         seed=c.seed, book=c.book.model_dump())


# The code that draws and writes a page (code_hash: these modules and what they import, and this file).
PAGE_CODE = ("renderer.draw", "renderer.comic_files", "renderer.storyboard", "renderer.theme", "renderer/stages/comic.py")
PACKAGE_CODE = ("renderer.comic_files",)


def page_cast(sb: LoadedStoryboard, project: Project) -> dict:
    """The cast members a page draws or names (in its panels' cast and as speakers), as loaded:
    a change to another member leaves the page alone."""
    who = {c.who for p in sb.board.panels for c in p.cast} | {t.who for p in sb.board.panels for t in p.text if t.who}
    return {w: project.cast[w].model_dump(mode="json") for w in sorted(who) if w in project.cast}


def page_inputs(state: BuildState, sb: LoadedStoryboard) -> dict[str, str]:
    c = state.project.config
    inputs = {
        "storyboard": sha256_file(sb.path),
        "cast": sha256_json(page_cast(sb, state.project)),
        "theme": state.theme_hash,
        "fonts": fonts_hash(),
        "code": code_hash(*PAGE_CODE),
        "settings": sha256_json({"page_size": c.comic.page_size, "dpi": c.comic.dpi, "seed": c.seed,
                                 "book": c.book.model_dump()}),
    }
    for d in sb.board.demos:
        inputs[f"demo:{d}"] = state.trace_hashes.get(d, "")
    return inputs


def comic_stage(state: BuildState, boards: list[LoadedStoryboard], *, package: bool) -> None:
    """One step per page of `boards` (PNG, panels, transcript), each redrawn only when its inputs
    changed or an output of it was touched; then, with `package`, the PDF and CBZ of every page."""
    project = state.project
    c = project.config
    comic = state.out / "comic"
    todo = []
    warnings: dict[str, list[Problem]] = {}
    for sb in boards:
        inputs = page_inputs(state, sb)
        if state.up_to_date(f"page:{sb.name}", inputs):
            warnings[sb.name] = state.manifest.warnings(f"page:{sb.name}")   # an unchanged page warns again
        else:
            todo.append((sb, inputs))
    renders = {}
    if todo:
        ctx = render_context(project, state.traces)
        for sb, inputs in todo:                  # render every page before writing any:
            state.reporter.step(f"drawing {sb.page_name} ({rel(sb.path)})")
            renders[sb.name] = render_page(sb, ctx)   # a bad page stops the build with build/ untouched
            warnings[sb.name] = renders[sb.name].warnings
    found = [w for sb in boards for w in warnings.get(sb.name, [])]
    state.warnings += found
    if found and state.strict:                   # --strict: a warning is an error, and nothing is written
        raise InputError(found + [STRICT_NOTE])
    for w in found:
        state.reporter.warn(str(w))
    if todo:
        with state.reporter.steps(len(todo), "writing pages"):
            for sb, inputs in todo:
                state.reporter.step(f"writing {sb.page_name}")
                outputs = write_page(sb, renders[sb.name], comic, c.comic.dpi, project.names)
                state.done(f"page:{sb.name}", inputs, outputs, warnings.get(sb.name))
    if package:
        _package(state)


def _package(state: BuildState) -> None:
    """comic.pdf (a bookmark per page) and comic.cbz, from the pages as written."""
    project = state.project
    c = project.config
    comic = state.out / "comic"
    pages = [(sb, comic / "pages" / f"{sb.page_name}.png") for sb in project.storyboards]
    inputs = {f"page:{sb.page_name}": sha256_file(p) for sb, p in pages if p.exists()}
    inputs["book"] = sha256_json(c.book.model_dump())
    inputs["formats"] = ",".join(c.comic.formats)
    inputs["code"] = code_hash(*PACKAGE_CODE)
    if pages and not state.up_to_date("comic:package", inputs):
        outputs = []
        titled = [(f"{sb.board.page}. {sb.board.title}" if sb.board.page else f"Cover: {sb.board.title}", p)
                  for sb, p in pages]
        if "pdf" in c.comic.formats:
            state.reporter.step("writing comic.pdf")
            outputs.append(write_pdf(titled, comic / "comic.pdf", c.comic.dpi, c.book.title, c.book.author))
        if "cbz" in c.comic.formats:
            state.reporter.step("writing comic.cbz")
            outputs.append(write_cbz([(sb.board.page, sb.board.title, p) for sb, p in pages], comic / "comic.cbz",
                                     title=c.book.title, author=c.book.author, language=c.book.language))
        state.done("comic:package", inputs, outputs)
