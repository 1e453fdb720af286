"""The site stage: build/site/ (renderer.site: the lesson, the tour with its Ask box, the comic
pages, the deck) from the traces, the comic's panels and pages and the built deck."""
from __future__ import annotations

from pathlib import Path

from ..project import Project
from ..site import build_site, site_demos
from ..site.code import CUTS
from ..steps import BuildState, code_hash, fonts_hash, sha256_file, sha256_json


def demos_for_site(project: Project) -> set[str]:
    """The demos the site shows (the lesson's, the tour's question, the Ask box's presets)."""
    return site_demos(project.config)


def site_stage(state: BuildState) -> None:
    project, out = state.project, state.out
    config = project.config
    demos = sorted(demos_for_site(project))
    panels = {p.stem: p for p in sorted((out / "comic" / "panels").glob("*.png"))}
    pages = [(sb.board.page, sb.board.title, out / "comic" / "pages" / f"{sb.page_name}.png")
             for sb in project.storyboards]
    decks = sorted((out / "slides").glob("*.html"))
    deck_html = decks[0] if decks else None
    transcripts = sorted((out / "comic" / "pages").glob("*.md"))
    files = [*panels.values(), *(p for _, _, p in pages), *transcripts] + ([deck_html] if deck_html else [])
    inputs = {
        "demos": sha256_json({d: state.trace_hashes.get(d, "") for d in demos}),
        "files": sha256_json({str(f.relative_to(out)): sha256_file(f) for f in files if f.exists()}),
        "theme": state.theme_hash,
        "book": config.book.title,
        "fonts": fonts_hash(),
        # the import closure takes in the comic's prop art, which the tour draws where a panel is not built
        "code": code_hash("renderer.site", "renderer/stages/site.py"),
        # the lesson shows live_demo's own source, cut at build time: a change there is a change on the page
        "live_demo": code_hash(*sorted({cut.file for cut in CUTS})),
    }
    if state.up_to_date("site", inputs):
        return
    state.reporter.step("site: lesson, tour, comic")
    written = build_site(out, traces={d: state.traces[d] for d in demos if d in state.traces}, panels=panels,
                         pages=pages, deck_html=deck_html, book_title=config.book.title, theme=project.theme,
                         config=config)
    for warning in written.warnings:
        state.reporter.warn(f"site: {warning}")
    state.done("site", inputs, [Path(p) for p in written if Path(p).is_file()])
