"""Atomic writes, proven: a write that fails midway (an exception, or the process killed with
SIGKILL in the middle of a build) leaves every previous output intact, and no temporary file
stays behind (a killed build's are swept by the next one)."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from renderer import atomic

try:                                   # tests/ as a package or as plain folder on sys.path
    from .test_build import PAGE, make_project, run, tree
except ImportError:
    from test_build import PAGE, make_project, run, tree

ROOT = Path(__file__).resolve().parent.parent
TEMPORARY = (".part", ".staging", ".old")


def temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith(TEMPORARY))


# --- atomic_path itself ---------------------------------------------------------------------------

def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "page.png"
    atomic.write_bytes(target, b"old and complete")
    with pytest.raises(OSError, match="disk full"):
        with atomic.atomic_path(target) as tmp:
            assert tmp != target and tmp.parent == target.parent
            tmp.write_bytes(b"new but only ha")
            raise OSError("disk full")
    assert target.read_bytes() == b"old and complete"
    assert temporaries(tmp_path) == [] and sorted(p.name for p in target.parent.iterdir()) == ["page.png"]

    atomic.write_text(target, "new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.png"]


def test_sweep_removes_only_dead_processes_temporaries_and_restores_a_half_swapped_folder(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    out = tmp_path / "build"
    (out / "comic").mkdir(parents=True)
    (out / "comic" / "page.png").write_bytes(b"good")
    (out / "comic" / f".page.png.{dead}.ab12cd34.part").write_bytes(b"half")       # killed mid-write
    (out / "comic" / f".page.png.{os.getpid()}.ef56gh78.part").write_bytes(b"mine")  # a write going on now
    (out / "slides").mkdir()
    (out / "slides" / f".talk.{dead}.x1y2z3.staging").mkdir()
    (out / "slides" / f".talk.{dead}.x1y2z3.staging" / "talk.html").write_text("half")
    (out / "slides" / f".talk.{dead}.old").mkdir()                                 # moved aside, never swapped back
    (out / "slides" / f".talk.{dead}.old" / "001.png").write_bytes(b"previous")
    (out / f".site.staging-{dead}").mkdir()
    (out / "notes.part").write_text("not ours: no process id")

    swept = atomic.sweep(out)
    assert len(swept) == 4
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "comic", f"comic/.page.png.{os.getpid()}.ef56gh78.part", "comic/page.png", "notes.part", "slides",
        "slides/talk", "slides/talk/001.png"]
    assert (out / "slides" / "talk" / "001.png").read_bytes() == b"previous"


# --- a build that fails midway --------------------------------------------------------------------

def _two_page_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj", {
        "page-01-a.yaml": PAGE.format(page=1, title="First", words="Hello, Kai."),
        "page-02-b.yaml": PAGE.format(page=2, title="Second", words="Tokens next."),
    })


def _edit_both_pages(project: Path) -> None:
    for name, old, new in (("page-01-a.yaml", "Hello, Kai.", "Hello again, Kai."),
                           ("page-02-b.yaml", "Tokens next.", "Batches next.")):
        path = project / "storyboards" / name
        path.write_text(path.read_text().replace(old, new))


def _check_consistent(build: Path, before: dict[str, bytes]) -> None:
    """Every output is either as it was or complete and recorded: the manifest's hash of it."""
    manifest = json.loads((build / "manifest.json").read_text())
    recorded = {path: rec["sha256"] for path, rec in manifest["outputs"].items()}
    now = tree(build)
    for path, data in now.items():
        if path in (".stat-cache.json", "manifest.json") or path.endswith(TEMPORARY):
            continue
        if data != before.get(path):
            assert recorded.get(path) == hashlib.sha256(data).hexdigest(), f"{path}: changed but not as recorded"
    for path in before:
        assert path in now, f"{path}: a previous output is gone"


def test_an_exception_while_writing_keeps_every_previous_output(tmp_path, monkeypatch, capsys):
    import renderer.comic_files as comic_files

    project = _two_page_project(tmp_path)
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    build = project / "build"
    before = tree(build)
    _edit_both_pages(project)

    real = comic_files.write_bytes

    def failing(target, data):
        if Path(target).name == "page-02.png":            # page 1 is written; page 2 fails halfway
            with atomic.atomic_path(target) as tmp:
                tmp.write_bytes(data[:len(data) // 2])
                raise OSError(28, "No space left on device")
        return real(target, data)

    monkeypatch.setattr(comic_files, "write_bytes", failing)
    code, err = run(project, "build", "comic", capsys=capsys)
    assert code == 1 and "No space left on device" in err, err
    assert temporaries(build) == []
    assert tree(build)["comic/pages/page-02.png"] == before["comic/pages/page-02.png"]
    assert tree(build)["comic/comic.pdf"] == before["comic/comic.pdf"]
    assert tree(build)["comic/pages/page-01.png"] != before["comic/pages/page-01.png"]   # finished before the failure
    _check_consistent(build, before)

    monkeypatch.setattr(comic_files, "write_bytes", real)
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    assert "Batches next." in (build / "comic" / "pages" / "page-02.md").read_text()


# Runs the CLI with page 2's PNG stuck halfway through its write: the test kills it there.
_STUCK_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import renderer.atomic as atomic
    import renderer.comic_files as comic_files
    from renderer.cli import main

    real, flag = comic_files.write_bytes, Path(sys.argv[1])

    def stuck(target, data):
        if Path(target).name == "page-02.png":
            with atomic.atomic_path(target) as tmp:
                tmp.write_bytes(data[:len(data) // 2])
                flag.write_text("page 1 written, page 2 half-way")
                time.sleep(600)
        return real(target, data)

    comic_files.write_bytes = stuck
    sys.exit(main(sys.argv[2:]))
""")


def test_a_build_killed_midway_keeps_every_previous_output_and_the_next_build_cleans_up(tmp_path, capsys):
    project = _two_page_project(tmp_path)
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    build = project / "build"
    before = tree(build)
    _edit_both_pages(project)

    flag = tmp_path / "stuck"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # its own process group: the kill takes the build and its pooled workers at once, as a power
    # cut or `kill -9` of the whole job would (a worker left alive would hold the pipes open)
    proc = subprocess.Popen([sys.executable, "-c", _STUCK_BUILD, str(flag), "-C", str(project), "build", "comic", "-q"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not flag.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the build never reached page 2"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    # killed: page 1 complete and recorded, page 2 and the PDF as they were, a half-written temporary
    assert temporaries(build) and all(".part" in t for t in temporaries(build))
    assert tree(build)["comic/pages/page-02.png"] == before["comic/pages/page-02.png"]
    assert tree(build)["comic/comic.pdf"] == before["comic/comic.pdf"]
    _check_consistent(build, before)

    # the next build finishes the job and sweeps what the killed one left
    assert run(project, "build", "comic", "-q", capsys=capsys)[0] == 0
    assert temporaries(build) == []
    assert run(project, "build", "comic", "-q", "--out", "fresh", capsys=capsys)[0] == 0
    after, fresh = tree(build), tree(project / "fresh")
    for t in (after, fresh):
        t.pop(".stat-cache.json")
    assert after == fresh
