"""Mutation testing of the core modules with mutmut: does a small wrong change to the code make a test fail?

    python tools/mutation.py                          every module below
    python tools/mutation.py live_demo/formatting.py  one (or more) of them

Each module is mutated against only the test files that cover it, in a copy of the tracked tree
(so the work tree gets no `mutants/` folder), with one worker process. It prints each surviving
mutant (a change no test noticed) as the line before and after, then the score: killed / total.
A mutant with "no tests" ran no test at all (no listed test calls that function in-process).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> the test files that cover it
MODULES = {
    "live_demo/formatting.py": ["tests/test_formatting.py"],
    "renderer/atomic.py": ["tests/test_atomic.py"],
}
# Tests that cannot run under mutmut. The killed build runs in a child process whose mutmut
# trampoline looks for its configuration in the project the child changed into, and fails; the
# sweep it relies on is tested in-process.
DESELECT = {
    "renderer/atomic.py": [
        "tests/test_atomic.py::test_a_build_killed_midway_keeps_every_previous_output_and_the_next_build_cleans_up",
    ],
}


def copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    if (ROOT / "node_modules").exists():        # the tokenizer files the tiny test model uses
        (dest / "node_modules").symlink_to((ROOT / "node_modules").resolve())


def config(module: str) -> str:
    tops = sorted({p.name for p in Path(".").iterdir() if p.name not in ("mutants", "setup.cfg", ".git")})
    args = [arg for test in DESELECT.get(module, []) for arg in ("--deselect", test)]
    lines = ["[mutmut]", f"source_paths = {module}",
             "pytest_add_cli_args_test_selection =", *(f"    {t}" for t in MODULES[module]),
             "also_copy =", *(f"    {t}" for t in tops)]
    if args:
        lines += ["pytest_add_cli_args =", *(f"    {a}" for a in args)]
    return "\n".join(lines) + "\n"


def mutmut(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # the copy, not the work tree
    return subprocess.run([sys.executable, "-m", "mutmut", *args], env=env, text=True, capture_output=True)


def changed_lines(diff: str) -> str:
    body = [ln for ln in diff.splitlines() if ln[:1] in "-+" and not ln.startswith(("---", "+++"))]
    return "\n".join("      " + ln.strip() if ln[0] in "-+" else ln for ln in body)


def run(module: str) -> tuple[int, int]:
    with tempfile.TemporaryDirectory(prefix="novapress-mutation-") as tmp:
        copy_tree(Path(tmp))
        os.chdir(tmp)
        Path("setup.cfg").write_text(config(module))
        print(f"== {module} against {' '.join(MODULES[module])}", flush=True)
        done = mutmut("run", "--max-children", "1")
        if done.returncode != 0:
            sys.exit(f"mutation: mutmut failed on {module}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        mutmut("export-cicd-stats")
        stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
        for line in mutmut("results").stdout.splitlines():
            name, _, status = line.strip().rpartition(": ")
            if status in ("survived", "no tests"):
                print(f"  {status}: {name}")
                print(changed_lines(mutmut("show", name).stdout))
        os.chdir(ROOT)
    killed = stats["killed"] + stats["timeout"]
    total = stats["total"]
    print(f"score {module}: {killed}/{total} killed ({100 * killed / max(total, 1):.0f}%); "
          f"{stats['survived']} survived, {stats['no_tests']} with no tests\n", flush=True)
    return killed, total


def main(argv: list[str]) -> int:
    modules = argv or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        print(f"mutation: no test files listed for {', '.join(unknown)}; known: {', '.join(MODULES)}", file=sys.stderr)
        return 2
    scores = {m: run(m) for m in modules}
    for m, (killed, total) in scores.items():
        print(f"{m}: {killed}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
