"""The worker pool outlives one build: jobs must run in the folder of the build that sends them."""
import os
from pathlib import Path

from renderer import workers


def _write_relative(name: str) -> str:
    Path(name).write_text("x")
    return os.getcwd()


def test_jobs_run_in_the_callers_folder_after_the_caller_moved(tmp_path, monkeypatch):
    monkeypatch.setenv("NOVAPRESS_JOBS", "2")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    monkeypatch.chdir(first)
    workers.run_all(_write_relative, ["a", "b"])          # forks the pool here
    monkeypatch.chdir(second)
    folders = workers.run_all(_write_relative, ["c", "d"])
    assert folders == [str(second), str(second)]
    assert sorted(p.name for p in second.iterdir()) == ["c", "d"]
    assert sorted(p.name for p in first.iterdir()) == ["a", "b"]

