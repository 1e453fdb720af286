"""`novapress batch`: a page per question of a file and an index; bad lines located and skipped;
a rerun writes nothing; -j gives the same bytes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PIL import Image

from renderer.batch import read_questions
from renderer.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = 'Is <script>alert("x")</script> & {{ 7*7 }} a "token"?'


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_gpt2_dir) -> Path:
    """The book's project with the tiny GPT-2 as its model (a local folder: no hub)."""
    folder = tmp_path_factory.mktemp("batch-project")
    config = yaml.safe_load((ROOT / "novapress.yaml").read_text(encoding="utf-8"))
    config["model"] = {"id": str(tiny_gpt2_dir), "fallback": False}
    (folder / "novapress.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (folder / "storyboards").symlink_to(ROOT / "storyboards", target_is_directory=True)
    return folder


def main(argv: list[str]) -> int:
    """The command line, then back to the folder the tests run in (-C changes it)."""
    here = Path.cwd()
    try:
        return cli_main(argv)
    finally:
        import os
        os.chdir(here)


def files_of(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_run(project):
    questions = project / "class.txt"
    questions.write_text(f"Why do cats purr?\n\n# a comment line\n{HOSTILE}\n{'x' * 501}\n", encoding="utf-8")
    code = main(["-C", str(project), "batch", "class.txt", "-q"])
    return code, project / "build" / "personal"


def test_pages_and_an_index_for_every_good_line(first_run):
    from pypdf import PdfReader

    code, out = first_run
    assert code == 2      # two lines were skipped
    stems = sorted(p.stem for p in out.glob("*.json"))
    assert stems == ["001-why-do-cats-purr", "004-is-script-alert-x-script-7-7-a-token"]
    for stem in stems:
        with Image.open(out / f"{stem}.png") as im:
            im.verify()
        assert len(PdfReader(out / f"{stem}.pdf").pages) == 1
        assert (out / f"{stem}.md").read_text(encoding="utf-8").startswith("# Page 5")
        with Image.open(out / "thumbs" / f"{stem}.png") as im:
            assert im.width == 320
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in index
    assert "Is &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; {{ 7*7 }} a &quot;token&quot;?" in index
    assert 'src="thumbs/001-why-do-cats-purr.png"' in index
    meta = json.loads((out / "004-is-script-alert-x-script-7-7-a-token.json").read_text(encoding="utf-8"))
    assert meta["question"] == HOSTILE


def test_bad_lines_are_located_and_say_how_to_fix(first_run, capsys, project):
    code = main(["-C", str(project), "batch", "class.txt", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "class.txt:2: the line is empty; write a question on it or delete the line" in err
    assert "class.txt:5: the question is 501 characters, more than the 500 a page takes; shorten it" in err
    assert "Traceback" not in err


def test_a_rerun_writes_nothing(first_run, project, capsys):
    _, out = first_run
    before = files_of(out)
    main(["-C", str(project), "batch", "class.txt"])
    assert files_of(out) == before
    assert "nothing to make: all 2 pages" in capsys.readouterr().err


def test_an_interrupted_run_resumes_with_the_missing_page(first_run, project):
    _, out = first_run
    (out / "001-why-do-cats-purr.json").unlink()      # as if stopped before this page was complete
    kept = (out / "004-is-script-alert-x-script-7-7-a-token.png").stat().st_mtime_ns
    main(["-C", str(project), "batch", "class.txt", "-q"])
    assert (out / "001-why-do-cats-purr.json").is_file()
    assert (out / "004-is-script-alert-x-script-7-7-a-token.png").stat().st_mtime_ns == kept


def test_csv_names_the_pages_and_parallel_workers_give_the_same_bytes(first_run, project):
    _, serial = first_run
    (project / "class.csv").write_text(f'name,question\nAna,Why do cats purr?\nBo,"{HOSTILE.replace(chr(34), 2 * chr(34))}"\n',
                                       encoding="utf-8")
    out = project / "parallel"
    assert main(["-C", str(project), "batch", "class.csv", "--out", "parallel", "-j", "2", "-q"]) == 0
    assert sorted(p.stem for p in out.glob("*.png")) == ["ana", "bo"]
    for ext in ("png", "pdf", "md"):
        assert (out / f"ana.{ext}").read_bytes() == (serial / f"001-why-do-cats-purr.{ext}").read_bytes()
        assert (out / f"bo.{ext}").read_bytes() == (serial / f"004-is-script-alert-x-script-7-7-a-token.{ext}").read_bytes()


def test_csv_without_a_question_column_is_one_located_error(project, capsys):
    (project / "bad.csv").write_text("name,text\nA,hello\n", encoding="utf-8")
    assert main(["-C", str(project), "batch", "bad.csv"]) == 2
    assert "bad.csv:1: no 'question' column in the CSV header (name, text)" in capsys.readouterr().err


def test_csv_line_numbers_count_quoted_newlines(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text('name,question\na,"two\nlines"\nb,\nc,fine\n', encoding="utf-8")
    questions, problems = read_questions(f, 500)
    assert [(q.line, q.name) for q in questions] == [(2, "a"), (5, "c")]
    assert len(problems) == 1 and ":4: the line is empty" in problems[0]


def test_a_dask_cluster_makes_the_same_bytes(first_run, project):
    """`--scheduler`: the pages are made on a Dask LocalCluster of two worker processes (which get
    the storyboard and cast from the client) and come back byte for byte as the local run's."""
    distributed = pytest.importorskip("distributed")
    _, local = first_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  scheduler_port=0) as cluster:
        code = main(["-C", str(project), "batch", "class.txt", "--out", "on-dask", "--scheduler",
                     cluster.scheduler_address, "-q"])
    assert code == 2                      # the same two bad lines, skipped
    out = project / "on-dask"
    names = sorted(p.name for p in local.glob("*.*") if p.suffix in (".png", ".pdf", ".md", ".json"))
    assert names and sorted(p.name for p in out.glob("*.*") if p.suffix in (".png", ".pdf", ".md", ".json")) == names
    for name in names:
        assert (out / name).read_bytes() == (local / name).read_bytes(), name
    assert (out / "index.html").read_bytes() == (local / "index.html").read_bytes()


def test_an_unreachable_scheduler_is_one_clear_error(project, capsys):
    pytest.importorskip("distributed")
    (project / "one.txt").write_text("A question nobody asked before?\n", encoding="utf-8")
    code = main(["-C", str(project), "batch", "one.txt", "--out", "nowhere", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err and "Traceback" not in err
