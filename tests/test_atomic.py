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


def test_a_staged_folder_replaces_the_previous_one_and_nothing_is_left_aside(tmp_path):
    out = tmp_path / "build" / "slides"                       # made on demand, parents included
    staging = atomic.staging_dir(out, "talk")
    assert staging.parent == out and staging.is_dir() and list(staging.iterdir()) == []
    # named so that sweep knows whose it is
    assert atomic._TEMP.match(staging.name)["pid"] == str(os.getpid()) and staging.name.startswith(".talk.")
    (staging / "001.png").write_bytes(b"new")
    target = out / "talk"
    target.mkdir()
    (target / "001.png").write_bytes(b"old")
    (target / "002.png").write_bytes(b"gone in the new one")
    stale = out / f".talk.{os.getpid()}.old"                   # an earlier process with this id died mid-swap
    stale.mkdir()
    (stale / "001.png").write_bytes(b"stale")

    atomic.replace_dir(str(staging), str(target))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["talk", "talk/001.png"]
    assert (target / "001.png").read_bytes() == b"new"

    second = atomic.staging_dir(str(out), "site")              # the folder exists now: no error
    (second / "index.html").write_text("hi")
    atomic.replace_dir(second, out / "site")                   # nothing there before
    assert (out / "site" / "index.html").read_text() == "hi" and temporaries(tmp_path) == []


def test_write_bytes_returns_the_target_and_writes_into_new_folders(tmp_path):
    target = tmp_path / "a" / "b" / "c.bin"
    assert atomic.write_bytes(str(target), b"\x00\xff") == target and target.read_bytes() == b"\x00\xff"
    assert atomic.write_text(target, "\u2423 \u2026") == target
    assert target.read_bytes() == "\u2423 \u2026".encode("utf-8")
    assert atomic.write_text(target, "") == target and target.read_bytes() == b""


def _wait_until_zombie(pid: int) -> None:
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 60
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, f"process {pid} never exited"
        time.sleep(0.01)


def test_running_tells_a_live_process_from_a_dead_or_zombie_one_without_disturbing_it(tmp_path):
    assert atomic._running(os.getpid())
    # a name with ")" and a state letter in it, as /proc/<pid>/stat shows a process's name in brackets
    python = tmp_path / "a) S"
    python.symlink_to(sys.executable)
    # any signal sent by mistake ends it, even when the run itself ignores SIGHUP (nohup)
    echo = ("import signal, sys\nsignal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
            "for line in sys.stdin: print(line.strip(), flush=True)")
    proc = subprocess.Popen([str(python), "-c", echo], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    def answers(line: str) -> bool:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline() == line + "\n"
    try:
        assert answers("ready?")                               # its signal handling is set up
        assert atomic._running(proc.pid)
        assert answers("still here?"), "asking whether it runs must send it no signal"
    finally:
        proc.kill()
    _wait_until_zombie(proc.pid)                               # dead, not yet reaped
    assert not atomic._running(proc.pid)
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()
    assert not atomic._running(proc.pid)


def test_a_process_of_another_user_or_one_whose_state_cannot_be_read_counts_as_running(monkeypatch):
    def not_allowed(pid, sig):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(atomic.os, "kill", not_allowed)
    assert atomic._running(os.getpid() + 1)
    monkeypatch.setattr(atomic.os, "kill", lambda pid, sig: None)
    monkeypatch.setattr(atomic.Path, "read_text", lambda self, *a, **k: "12 (no state field)")
    assert atomic._running(os.getpid() + 1)


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
