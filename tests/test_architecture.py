"""The shape of the code, kept: no import cycle between modules of renderer and live_demo (counting
imports inside functions too, so none can hide one), every module importable on its own, lazy
imports of novapress's own modules saying why, and no module too long to read unless it is a flat
list of similar things (its docstring says "flat list")."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("renderer", "live_demo")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages."""
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, ast.stmt, bool]]:
    """(imported module, the statement, at the top level?) for every import of a module of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            # `from pkg import mod` imports the module pkg.mod; `from pkg import name` needs pkg itself
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                found.append((target, node, id(node) in top))
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    known = modules()
    graph = {name: {target for target, _, _ in imports(name, path, known)} for name, path in known.items()}
    assert find_cycle(graph) is None, "import cycle: " + " -> ".join(find_cycle(graph))
    # the check itself sees a cycle, even one made of imports inside functions
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_live_demo_never_imports_renderer():
    known = modules()
    found = [f"{name} imports {target}" for name, path in known.items() if name.startswith("live_demo")
             for target, _, _ in imports(name, path, known) if target.startswith("renderer")]
    assert found == []


def test_imports_inside_functions_say_why():
    """A function-local import of one of our modules is for laziness (torch, transformers,
    matplotlib kept off a fast path), and a comment at the import says so."""
    known = modules()
    silent = []
    for name, path in known.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, node, at_top in imports(name, path, known):
            if at_top:
                continue
            i = node.lineno - 1
            said = "#" in lines[i]
            while not said and i > 0 and (lines[i - 1].strip().startswith(("#", "import ", "from ")) or
                                          not lines[i - 1].strip()):
                i -= 1
                said = lines[i].strip().startswith("#") or "#" in lines[i]
            if not said:
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
    assert silent == []


def test_every_module_imports_alone():
    """Each module in an interpreter that has imported none of ours yet (a fork of one that only
    preloaded the third-party libraries, so this stays quick)."""
    known = modules()
    third_party = set()
    for path in known.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                third_party |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                third_party.add(node.module.split(".")[0])
    third_party -= set(PACKAGES) | {"__future__"}
    script = textwrap.dedent(f"""
        import importlib, os, sys, traceback
        for lib in {sorted(third_party)!r}:
            try:
                importlib.import_module(lib)
            except Exception:
                pass
        assert not [m for m in sys.modules if m.split(".")[0] in {PACKAGES!r}]
        failed = []
        for name in {sorted(known)!r}:
            pid = os.fork()
            if pid == 0:
                try:
                    importlib.import_module(name)
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            if status:
                failed.append(name)
        print("FAILED", failed)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "FAILED []" in run.stdout, run.stdout + run.stderr[-3000:]


def test_no_module_is_too_long_to_read():
    long = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        n = len(text.splitlines())
        doc = ast.get_docstring(ast.parse(text)) or ""
        if n > MAX_LINES and "flat list" not in doc:
            long.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert long == []
