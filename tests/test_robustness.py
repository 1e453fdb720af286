"""The book drawn for data its author never saw, without the model.

Every storyboard in storyboards/ is rendered through renderer.draw.render_page with hostile
variants of real traces (tests/hostile_traces.py: long, one-word, Spanish, right-to-left, emoji,
CJK, template-looking and quoted questions; empty, one-token and 64-token answers; flat tiny and
peaked probabilities) and with real traces of other questions. No page may fail, no text may
leave its panel, nothing lettered covers a face or a prop's lettering unless the panel warned, a
question that looks like a template is drawn as typed, and whatever had to be shortened is whole
in the transcript.

Only the panels that show data are drawn (the others do not change with the data, and
test_book.py draws them). NOVAPRESS_HOSTILE=all runs every variant instead of the default few.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hostile_traces import BOOK, VARIANTS, load_book, variant
from renderer.comic_files import transcript
from renderer.config import load_config
from renderer.draw import render_page
from renderer.errors import InputError
from renderer.geometry import Rect
from renderer.project import Project
from renderer.stages.comic import render_context
from renderer.storyboard import load_cast, load_storyboard
from renderer.theme import load_theme

ROOT = Path(__file__).resolve().parent.parent
REAL = sorted(p.stem for p in (BOOK / "questions").glob("*.json"))   # real traces of other questions

# together these cover every hostile trait; the rest run with NOVAPRESS_HOSTILE=all
DEFAULT = ["long-flat", "mixed", "one-word-empty-peaked"]
CHOSEN = (VARIANTS + [f"real:{r}" for r in REAL]) if os.environ.get("NOVAPRESS_HOSTILE") == "all" else DEFAULT


@pytest.fixture(scope="module")
def book():
    config, _ = load_config(ROOT)
    cast, _ = load_cast(ROOT / "storyboards" / "cast.yaml")
    boards = [load_storyboard(p, cast=cast, demos=config.demos)
              for p in sorted((ROOT / "storyboards").glob("page-*.yaml"))]
    project = Project(ROOT, config, load_theme(config.comic.theme), cast, boards)
    return project, boards, load_book()


def traces_for(name: str, base: dict) -> dict:
    if name.startswith("real:"):
        out = dict(base)
        out["question"] = json.loads((BOOK / "questions" / f"{name[5:]}.json").read_text())
        return out
    return variant(name, base)


def data_panels(sb) -> set[str]:
    """Panels whose drawing depends on a trace: a prop with a demo, or text or parameters quoting one."""
    out = set()
    for panel in sb.board.panels:
        drawn = panel.model_dump(exclude={"description"})
        if "demos" in json.dumps(drawn) or any(p.demo for p in panel.scene.props):
            out.add(panel.id)
    return out


def draws_the_prompt(panel) -> bool:
    """The panel letters the main question itself (not just its tokens or data about it)."""
    text = json.dumps(panel.model_dump(exclude={"description"}))
    if "demos.question.prompt" in text:
        return True
    for p in panel.scene.props:
        extra = p.model_extra or {}
        if p.demo == "question" and (extra.get("source") == "prompt" or (p.type == "chat_window" and "user" not in extra)):
            return True
    return False


def hidden_tail(e, robot: bool) -> bool:
    """A speaker in the panel whose balloon shows no tail: none, or its tip inside the balloon's
    shape (a rounded rectangle for a robot, an ellipse otherwise)."""
    if e.tail is None:
        return True
    x, y = e.tail[2]
    if robot:
        return e.box.contains_point(x, y)
    return ((x - e.box.cx) / (e.box.w / 2)) ** 2 + ((y - e.box.cy) / (e.box.h / 2)) ** 2 <= 1


@pytest.mark.parametrize("name", CHOSEN)
def test_every_page_draws_with_hostile_data(name, book):
    project, boards, base = book
    traces = traces_for(name, base)
    ctx = render_context(project, traces)
    errors, escaped, literal, lost, covered = [], [], [], [], []
    prompt = traces["question"]["prompt"]
    for sb in boards:
        only = data_panels(sb)
        if not only:
            continue
        try:
            render = render_page(sb, ctx, only_panel=only)
        except InputError as err:
            errors += [str(p) for p in err.problems]
            continue
        md = transcript(sb, render, project.names)
        warned = {w.message.split("panel '", 1)[1].split("'", 1)[0] for w in render.warnings if "panel '" in w.message}
        for pid, pr in render.panels.items():
            if pid not in warned:      # placed cleanly: nothing lettered covers a face or a prop's lettering
                for e in pr.elements:
                    hit = [f"face of {who}" for who, f in pr.faces.items() if e.box.inset(2).overlaps(f)]
                    hit += [f"'{t[:20]}'" for t, r in pr.prop_items if r.area and e.box.inset(2).overlaps(r)]
                    if hit:
                        covered.append(f"{sb.page_name} {pid}: {e.kind} '{e.text[:30]}' covers {', '.join(hit)}")
            w, h = pr.image.size
            inside = Rect(0, 0, w, h).inset(-1)
            for e in pr.elements:
                if not inside.contains(e.box) or not e.box.inset(-1).contains(e.text_box):
                    escaped.append(f"{sb.page_name} {pid}: {e.kind} '{e.text[:40]}' at {e.box}")
                if e.kind == "speech" and e.who in pr.mouths and hidden_tail(e, project.cast[e.who].balloon == "robot"):
                    escaped.append(f"{sb.page_name} {pid}: {e.who}'s balloon '{e.text[:30]}' has no visible tail")
            for text, r in pr.prop_items:
                if r.area and not inside.contains(r):
                    escaped.append(f"{sb.page_name} {pid}: prop text '{text[:40]}' at {r}")
            for full in pr.shortened:
                if full not in md:
                    lost.append(f"{sb.page_name} {pid}: '{full[:40]}' shortened but not in the transcript")
            panel = next(p for p in sb.board.panels if p.id == pid)
            if "{{" in prompt and draws_the_prompt(panel):
                drawn = " ".join([t for t, _ in pr.prop_items] + [e.text for e in pr.elements])
                if "{{" not in drawn:
                    literal.append(f"{sb.page_name} {pid}: the prompt's '{{{{' is not drawn as typed: {drawn[:120]}")
    assert not errors, "\n".join(errors)
    assert not escaped, "\n".join(escaped)
    assert not literal, "\n".join(literal)
    assert not lost, "\n".join(lost)
    assert not covered, "\n".join(covered)


@pytest.mark.parametrize("name", DEFAULT + [f"real:{r}" for r in REAL])
def test_the_chat_template_narration_has_a_clean_spot_at_full_size(name, book):
    """Page 1's template screen and its narration: for a long template or a short one, the box
    sits clear of the screen's frame and keeps the size of narration everywhere else."""
    project, boards, base = book
    ctx = render_context(project, traces_for(name, base))
    sb = next(b for b in boards if b.board.page == 1)
    render = render_page(sb, ctx, only_panel={"p3"})
    pr = render.panels["p3"]
    w, h = pr.image.size
    x, y, bw, bh = next(p for p in sb.board.panels if p.id == "p3").scene.props[0].at
    screen = Rect(x * w, y * h, bw * w, bh * h)
    narration = [e for e in pr.elements if e.kind == "narration"]
    assert narration, [e.kind for e in pr.elements]
    for e in narration:
        assert not e.box.overlaps(screen), f"narration {e.box} over the screen {screen}"
        assert e.size == int(ctx.px(ctx.theme.lettering.size) * 0.92), "narration drawn smaller than usual"


@pytest.mark.parametrize("name", ["long-flat", "one-word-empty-peaked"])
def test_answer_screens_and_the_transcript_say_the_same_ending(name, book):
    """Each decoding screen on pages 5 and 8 shows how its answer ended (cut by the limit, or
    ended by the model), and the page's transcript says the same for that panel."""
    project, boards, base = book
    traces = traces_for(name, base)
    ctx = render_context(project, traces)
    checked = 0
    for page in (5, 8):
        sb = next(b for b in boards if b.board.page == page)
        render = render_page(sb, ctx)
        md = transcript(sb, render, project.names)
        for pid, pr in render.panels.items():
            notes = [t for t, _ in pr.prop_items if t.startswith(("cut at", "finished", "no answer"))]
            if not notes:
                continue
            section = md.split(f"{{#{pid}}}", 1)[1].split("\n## ", 1)[0]
            checked += 1
            if notes[0].startswith("cut at"):
                n = notes[0].split()[2]
                assert f"cut off at the {n}-token limit" in section, (page, pid, notes, section)
            else:
                assert "ended" in section and "cut off" not in section, (page, pid, notes, section)
    assert checked == 5, "page 5's decoded screen and page 8's four strategy screens"
