"""`novapress batch QUESTIONS`: one personal page per question (renderer.personal) for a whole
class, plus an index page with thumbnails.

QUESTIONS is a text file (one question a line; lines starting with "#" are comments) or a CSV
file (.csv) with a `question` column and an optional `name` column that names each page's files.
A bad line (empty, too long, not valid for the model) is reported as `file:line: what, how to
fix` and skipped; every other page is made, and the command then exits 2.

Incremental like the build: a page whose files were written from the same key (question, model,
seed, code and inputs: see PersonalPages.key) is kept, so a rerun writes nothing, and an
interrupted run resumes where it stopped (each page's files are written atomically, its .json
last). With -j N, N worker processes each load the model once and make pages side by side.

Pages are made one question at a time through the model, not as one padded batch: a page must
show the very numbers the same question gives alone, and padding changes a run's floating-point
sums in the last digits that the page prints.
"""
from __future__ import annotations

import csv
import html
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .atomic import write_bytes
from .errors import BuildError, InputError, rel
from .personal import PersonalPages
from .progress import Reporter
from .project import project_config
from .site.ask import AskRejected

DEFAULT_OUT = "build/personal"
THUMB_WIDTH = 320
SLUG_CHARS = 40


@dataclass(frozen=True)
class Question:
    line: int          # 1-based line of the file it came from
    text: str
    name: str          # file stem of its page


def slug(text: str) -> str:
    """An ASCII file-name piece of `text` (letters, digits and dashes)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:SLUG_CHARS].strip("-")


def read_questions(path: Path, max_chars: int) -> tuple[list[Question], list[str]]:
    """The questions of a file, and one located message per bad line."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read the questions file: {err.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(f"{rel(path)}:{line}: not UTF-8 text; save the file as UTF-8") from None
    rows: list[tuple[int, str, str | None]] = []     # (line, question, name)
    problems: list[str] = []
    where = rel(path)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "question" not in fields:
            raise InputError(f"{where}:1: no 'question' column in the CSV header ({', '.join(fields) or 'empty'}); "
                             f"name the column of questions 'question' (and optionally one 'name')")
        reader.fieldnames = fields
        line = 1
        for row in reader:
            rows.append((line + 1, row.get("question") or "", (row.get("name") or "").strip() or None))
            line = reader.line_num
    else:
        for n, line_text in enumerate(text.splitlines(), 1):
            if line_text.lstrip().startswith("#"):
                continue
            rows.append((n, line_text, None))
    questions: list[Question] = []
    taken: set[str] = set()
    for line, q, name in rows:
        q = q.strip()
        if not q:
            problems.append(f"{where}:{line}: the line is empty; write a question on it or delete the line")
            continue
        if len(q) > max_chars:
            problems.append(f"{where}:{line}: the question is {len(q)} characters, more than the {max_chars} a page "
                            f"takes; shorten it")
            continue
        if "\x00" in q:
            problems.append(f"{where}:{line}: the question holds a NUL character; remove it")
            continue
        stem = slug(name) if name else f"{line:03d}-{slug(q)}".rstrip("-")
        stem = stem or f"{line:03d}"
        if stem in taken:
            stem = f"{stem}-{line}"
        taken.add(stem)
        questions.append(Question(line, q, stem))
    return questions, problems


# ---------------------------------------------------------------- worker processes

_PAGES = None


def _init_worker(root: str) -> None:
    global _PAGES
    os.chdir(root)
    os.environ["NOVAPRESS_JOBS"] = "1"      # no pool inside a pooled worker
    import torch
    torch.set_num_threads(1)                # N workers share the cores: one thread each
    _PAGES = PersonalPages(project_config())


def _make_in_worker(job: tuple[str, str, str]) -> dict:
    question, out, name = job
    return _make(_PAGES, question, Path(out), name)


def _make(pages, question: str, out: Path, name: str) -> dict:
    try:
        page = pages.make(question, folder=out, name=name)
    except AskRejected as err:
        return {"name": name, "error": err.message}
    return {"name": name, "cached": page.cached, "warnings": page.warnings}


# ---------------------------------------------------------------- a Dask cluster

_REMOTE: dict[str, object] = {}      # inputs hash -> PersonalPages, kept by each Dask worker process


def remote_page(project: dict, question: str) -> tuple[str, dict[str, bytes], dict] | dict:
    """Runs on a Dask worker: the page of `question` as bytes (nothing written on the worker but
    the project's storyboard and cast, once, in its temporary folder)."""
    import tempfile

    # Dask's worker processes are daemons, which may not start the panel-drawing pool: draw here
    os.environ["NOVAPRESS_JOBS"] = "1"
    pages = _REMOTE.get(project["inputs"])
    if pages is None:
        folder = Path(tempfile.gettempdir()) / f"novapress-project-{project['inputs'][:16]}"
        pages = _REMOTE[project["inputs"]] = PersonalPages.from_portable(project, folder)
    try:
        return pages.render(question)
    except AskRejected as err:
        return {"error": err.message}


def _run_on_cluster(pages, todo: list[Question], out: Path, scheduler: str, reporter: Reporter) -> list[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BuildError("--scheduler needs Dask's distributed package: pip install 'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise BuildError(f"cannot reach the Dask scheduler at {scheduler}: {err}; start one with "
                         f"'dask scheduler' (and 'dask worker {scheduler}' on each machine)") from None
    results = []
    try:
        project = client.scatter(pages.portable(), broadcast=True)
        futures = {client.submit(remote_page, project, q.text, pure=False): q for q in todo}
        with reporter.steps(len(todo), "personal pages on the cluster") as steps:
            for future in as_completed(futures):
                q = futures[future]
                steps.step(q.name)
                answer = future.result()
                if isinstance(answer, dict):
                    results.append({"name": q.name, "error": answer["error"]})
                    continue
                key, files, meta = answer
                if key != pages.key(q.text):
                    raise BuildError(f"a Dask worker made the page of line {q.line} from other inputs than this "
                                     f"machine (another novapress version or model); install the same on the workers")
                page = pages.save(q.text, key, files, meta, out, q.name)
                results.append({"name": q.name, "cached": False, "warnings": page.warnings})
    finally:
        client.close()
    order = {q.name: i for i, q in enumerate(todo)}
    return sorted(results, key=lambda r: order[r["name"]])


# ---------------------------------------------------------------- the command

def batch(args) -> int:
    """`novapress batch QUESTIONS [--out DIR] [-j N] [--scheduler ADDRESS] [-q]`."""
    reporter = Reporter(quiet=args.quiet)
    path = Path(args.questions)
    out = Path(args.out)
    jobs = args.jobs
    if jobs < 1:
        raise InputError(f"-j {jobs}: give at least 1 worker")
    pages = PersonalPages(project_config())
    questions, problems = read_questions(path, pages.max_chars)
    for p in problems:
        reporter.warn(p)
    todo = [q for q in questions if pages.cached(q.text, folder=out, name=q.name) is None]
    made = 0
    if todo:
        reporter.info(f"making {len(todo)} of {len(questions)} pages in {rel(out)}/ "
                      f"({len(questions) - len(todo)} up to date)")
        if getattr(args, "scheduler", None):
            results = _run_on_cluster(pages, todo, out, args.scheduler, reporter)
        else:
            results = _run(pages, todo, out, jobs, reporter)
        by_name = {q.name: q for q in todo}
        for result in results:
            q = by_name[result["name"]]
            if "error" in result:
                problems.append(f"{rel(path)}:{q.line}: {result['error']}")
                reporter.warn(problems[-1])
                continue
            made += 1
            for w in result["warnings"]:
                reporter.warn(w)
            _thumbnail(out, q.name)
    done = [q for q in questions if (out / f"{q.name}.json").is_file()
            and (out / f"{q.name}.png").is_file()]
    for q in done:
        if not (out / "thumbs" / f"{q.name}.png").is_file():
            _thumbnail(out, q.name)
    index = _write_index(out, done, pages.sb.board.title)
    if made or index:
        reporter.info(f"wrote {made} page{'s' if made != 1 else ''}"
                      f"{' and ' + rel(out / 'index.html') if index else ''}")
    else:
        reporter.info(f"nothing to make: all {len(done)} pages in {rel(out)}/ are up to date")
    if problems:
        reporter.warn(f"{len(problems)} line{'s' if len(problems) != 1 else ''} of {rel(path)} skipped "
                      f"(see above); fix them and run again")
        return 2
    return 0


def _run(pages, todo: list[Question], out: Path, jobs: int, reporter: Reporter) -> list[dict]:
    results = []
    with reporter.steps(len(todo), "personal pages") as steps:
        if jobs == 1 or len(todo) == 1:
            for q in todo:
                steps.step(f"{q.name}")
                results.append(_make(pages, q.text, out, q.name))
            return results
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: each worker loads its own model, and torch's threads do not survive a fork
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(os.getcwd(),)) as pool:
            futures = {pool.submit(_make_in_worker, (q.text, str(out.resolve()), q.name)): q for q in todo}
            for future in as_completed(futures):
                steps.step(futures[future].name)
                results.append(future.result())
    order = {q.name: i for i, q in enumerate(todo)}
    return sorted(results, key=lambda r: order[r["name"]])


def _thumbnail(out: Path, name: str) -> None:
    with Image.open(out / f"{name}.png") as im:
        h = round(im.height * THUMB_WIDTH / im.width)
        thumb = im.convert("RGB").resize((THUMB_WIDTH, h), Image.LANCZOS)
    buf = io.BytesIO()
    thumb.save(buf, "PNG", optimize=True)
    write_bytes(out / "thumbs" / f"{name}.png", buf.getvalue())


def _answer(meta: dict) -> str:
    """The answer as the reader should take it: cut by the token limit shows as cut."""
    text = (meta.get("answer") or "").strip()
    return text + "…" if meta.get("stopped") == "length" else text


def _write_index(out: Path, done: list[Question], title: str) -> bool:
    """index.html: every page's thumbnail, question and files. Written only when it changes."""
    import json

    items = []
    for q in done:
        meta = json.loads((out / f"{q.name}.json").read_text(encoding="utf-8"))
        e = html.escape
        items.append(
            f'<li><a href="{e(q.name)}.png"><img src="thumbs/{e(q.name)}.png" width="{THUMB_WIDTH}" '
            f'alt="{e(title)}, drawn for the question: {e(q.text)}" loading="lazy"></a>'
            f'<p class="q">{e(q.text)}</p><p class="a">{e(meta.get("model", ""))}: {e(_answer(meta))}</p>'
            f'<p><a href="{e(q.name)}.png">PNG</a> · <a href="{e(q.name)}.pdf">PDF</a> · '
            f'<a href="{e(q.name)}.md">transcript</a></p></li>')
    page = "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}: {len(done)} personal pages</title>",
        "<style>body{font-family:system-ui,sans-serif;background:#0b1020;color:#e8ecf8;margin:2rem}"
        "ul{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1.5rem}"
        "li{background:#151b33;padding:10px;border-radius:8px}img{max-width:100%;height:auto;display:block}"
        "a{color:#7fdcff}.q{font-weight:600}.a{color:#b8c0dc;font-size:.9em}</style>",
        "</head>", "<body>", f"<h1>{html.escape(title)}: {len(done)} personal pages</h1>",
        "<ul>", *items, "</ul>", "</body>", "</html>", ""])
    data = page.encode("utf-8")
    target = out / "index.html"
    if target.is_file() and target.read_bytes() == data:
        return False
    write_bytes(target, data)
    return True
