"""The suite proves what it claims wherever it runs: under `make test` (or CI) a test that cannot
run for want of a tool fails rather than passing as a skip, no test reads a fixed path outside
the repository, and no test reaches the network."""
from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

_SKIPPING = '''
import pytest

def test_needs_a_tool():
    pytest.skip("node_modules/gpt-3-encoder missing: run 'make deps'")

@pytest.mark.skipif(True, reason="no Chromium or Chrome on PATH")
def test_needs_a_browser():
    pass

def test_needs_a_package():
    pytest.importorskip("a_package_nobody_installed")

@pytest.mark.xfail(reason="a known limitation", strict=True)
def test_known_to_fail():
    assert False

def test_runs():
    assert True
'''


def _pytest(folder: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "NOVAPRESS_REQUIRE_ALL")}
    clean["PYTHONPATH"] = str(ROOT) + os.pathsep + clean.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
                           str(folder)], capture_output=True, text=True, env=clean | env, cwd=folder)


@pytest.fixture
def skipping_suite(tmp_path) -> Path:
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_tools.py").write_text(_SKIPPING)
    return tmp_path


def test_a_plain_run_skips_and_says_what_to_install(skipping_suite):
    run = _pytest(skipping_suite)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in run.stdout, run.stdout


@pytest.mark.parametrize("env", [{"NOVAPRESS_REQUIRE_ALL": "1"}, {"CI": "true"}])
def test_under_make_test_or_ci_a_missing_tool_fails_with_its_reason(skipping_suite, env):
    run = _pytest(skipping_suite, **env)
    assert run.returncode == 1, run.stdout
    # a skip in the test fails it; one in its setup (a skipif mark, a fixture) is an error: both fail the run
    assert "2 failed, 1 passed, 1 xfailed, 1 error" in run.stdout, run.stdout
    assert "needed by the whole suite but missing: node_modules/gpt-3-encoder missing: run 'make deps'" in run.stdout
    assert "needed by the whole suite but missing: no Chromium or Chrome on PATH" in run.stdout
    assert "a_package_nobody_installed" in run.stdout


def test_the_makefile_runs_the_suite_with_every_test_required():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "NOVAPRESS_REQUIRE_ALL=1" in recipe and "pytest" in recipe


def _absolute_paths(path: Path) -> list[str]:
    """Fixed absolute paths a test file opens or builds a Path from (the system temp folder aside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        first = node.args[0]
        if name in ("Path", "open", "PurePath") and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                and first.value.startswith(("/", "~")) and not first.value.startswith("/tmp"):
            found.append(f"{path.name}:{node.lineno}: {first.value}")
    return found


def test_no_test_reads_a_fixed_path_outside_the_repository(tmp_path):
    found = [hit for path in sorted(TESTS.glob("*.py")) for hit in _absolute_paths(path)]
    assert found == []
    probe = tmp_path / "probe.py"                    # the check itself sees one
    probe.write_text("SEED = Path('/work/shared/seeds/deck.txt')\nWORK = Path('/tmp/scratch')\n")
    assert _absolute_paths(probe) == ["probe.py:1: /work/shared/seeds/deck.txt"]


def test_no_test_reaches_the_network():
    with pytest.raises(OSError):
        socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises(OSError):
        socket.create_connection(("93.184.215.14", 80), timeout=5)
    # loopback, where the stand-in hubs and the site's server listen, works
    server = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
    finally:
        server.close()
