"""Build steps: what makes a step up to date, and the record of every step.

A step names its inputs (file hashes, trace hashes, the code's own hash, the settings it
reads) and is skipped when they hash the same as last time and its outputs are still there,
unchanged. That is what makes a no-change rebuild nearly free and a changed storyboard
rebuild only its own page and what contains it.

- hashing: `sha256_file`, `sha256_json`, `code_hash` (the source a part of novapress runs: the
  modules it imports, transitively), `fonts_hash` (the shipped fonts);
- `Manifest`: build/manifest.json, every output with its hash and the hashes it was made from;
- `BuildState`: one build's progress: the traces so far, steps built and skipped, warnings.
"""
from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .atomic import sweep, write_text
from .errors import Problem
from .fonts import FALLBACKS, FAMILIES, font_path
from .progress import Reporter
from .project import Project

PACKAGE_DIRS = ("renderer", "live_demo")
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".svg", ".j2", ".css", ".js", ".html", ".json"}


# --- hashing ----------------------------------------------------------------------------------------

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(value) -> str:
    return sha256_bytes(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


# Where novapress's own source is read from to hash it (tests point it at a copy they edit).
CODE_ROOT = Path(__file__).resolve().parent.parent


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of novapress's packages under `root`."""
    found = {}
    for pkg in PACKAGE_DIRS:
        for path in sorted((root / pkg).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ours that `name` imports (anywhere in it, functions included), with the
    packages a dotted import runs on its way (their __init__)."""
    tree = ast.parse(path.read_bytes())
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else []))
                    if node.level else node.module or "")
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            while target in known:
                found.add(target)
                if "." not in target:
                    break
                target = target.rsplit(".", 1)[0]
    return found


def code_files(*modules: str, root: Path | None = None) -> list[Path]:
    """The files the code of `modules` is made of: every module they import, transitively (and the
    packages on the way), with the data files of those packages (themes, art, templates: files in
    a package's folder that no deeper package owns). A path ("renderer/stages/live.py") is that
    file alone."""
    root = root or CODE_ROOT
    known = _modules(root)
    alone = {root / m for m in modules if "/" in m}
    todo = [m for m in modules if m in known]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(_imported(name, known[name], known) - seen)
    files = {known[m] for m in seen} | {f for f in alone if f.is_file()}
    for m in seen:
        if known[m].name != "__init__.py":
            continue
        folder = known[m].parent
        for path in folder.rglob("*"):
            if path.suffix in CODE_SUFFIXES and path.suffix != ".py" and path.is_file() \
                    and not any((d / "__init__.py").exists() for d in path.parents if folder in d.parents):
                files.add(path)
    return sorted(files)


@lru_cache(maxsize=None)
def code_hash(*modules: str) -> str:
    """Hash of the code that `modules` run (code_files): a change to it rebuilds what that code
    makes, and a change elsewhere (the site's scripts, say) leaves it alone."""
    root = CODE_ROOT
    h = hashlib.sha256()
    for path in code_files(*modules, root=root):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=None)
def fonts_hash() -> str:
    """Hash of every font file the comic and the charts letter with (the fontpkg-* packages and
    matplotlib's DejaVu): a new font release redraws what it letters."""
    h = hashlib.sha256()
    for family in sorted(set(FAMILIES) | set(FALLBACKS)):
        path = font_path(family)
        h.update(family.encode())
        h.update(sha256_file(path).encode())
    return h.hexdigest()


def step_key(inputs: dict[str, str]) -> str:
    return sha256_json(inputs)


# --- the manifest -----------------------------------------------------------------------------------

MANIFEST = "manifest.json"
STAT_CACHE = ".stat-cache.json"   # sizes and mtimes: a cache, kept apart so manifest.json is deterministic
FORMAT = 2


@dataclass
class Manifest:
    out: Path
    steps: dict[str, dict] = field(default_factory=dict)   # step id -> {"key", "inputs", "outputs": {path: sha}}

    stats: dict[str, list] = field(default_factory=dict)   # output path -> [size, mtime_ns] when hashed

    @classmethod
    def load(cls, out: Path) -> "Manifest":
        try:
            data = json.loads((out / MANIFEST).read_text())
            if data.get("format") != FORMAT:
                return cls(out)
        except (OSError, ValueError):
            return cls(out)
        try:
            stats = json.loads((out / STAT_CACHE).read_text())
        except (OSError, ValueError):
            stats = {}
        return cls(out, data.get("steps", {}), stats)

    def fresh(self, step: str, inputs: dict[str, str]) -> bool:
        """True if `step` ran with these inputs and its outputs are untouched since."""
        rec = self.steps.get(step)
        if not rec or rec.get("key") != step_key(inputs):
            return False
        for rel_path, digest in rec.get("outputs", {}).items():
            path = self.out / rel_path
            try:
                st = path.stat()
            except OSError:
                return False
            # size+mtime recorded at write time let us skip re-hashing big files on a no-change build
            if self.stats.get(rel_path) != [st.st_size, st.st_mtime_ns]:
                if sha256_file(path) != digest:
                    return False
        return True

    def record(self, step: str, inputs: dict[str, str], outputs: list[Path], warnings: list | None = None) -> None:
        """Remember a step: its inputs, its outputs' hashes, and the warnings it gave (so a later
        build that skips it as up to date still reports them)."""
        outs = {}
        for p in sorted(outputs):
            rel_path = str(p.relative_to(self.out))
            outs[rel_path] = sha256_file(p)
            st = p.stat()
            self.stats[rel_path] = [st.st_size, st.st_mtime_ns]
        self.steps[step] = {"key": step_key(inputs), "inputs": dict(sorted(inputs.items())), "outputs": outs}
        if warnings:
            self.steps[step]["warnings"] = [{"file": w.file, "line": w.line, "col": w.col, "message": w.message}
                                            for w in warnings]

    def warnings(self, step: str) -> list[Problem]:
        """The warnings `step` gave when it last ran."""
        return [Problem(w["file"], w.get("line"), w.get("col"), w["message"])
                for w in self.steps.get(step, {}).get("warnings", [])]

    def output_hash(self, rel_path: str) -> str | None:
        for rec in self.steps.values():
            if rel_path in rec.get("outputs", {}):
                return rec["outputs"][rel_path]
        return None

    def forget_missing(self, live_steps: set[str]) -> None:
        """Drop steps that no longer exist (a deleted storyboard)."""
        for step in list(self.steps):
            if step not in live_steps:
                del self.steps[step]

    def save(self) -> None:
        data = {"format": FORMAT, "steps": dict(sorted(self.steps.items())),
                "outputs": {path: {"sha256": digest, "step": step, "inputs": rec["inputs"]}
                            for step, rec in sorted(self.steps.items())
                            for path, digest in rec.get("outputs", {}).items()}}
        write_text(self.out / MANIFEST, json.dumps(data, indent=1, sort_keys=True) + "\n")
        live = {p for rec in self.steps.values() for p in rec.get("outputs", {})}
        write_text(self.out / STAT_CACHE, json.dumps({k: v for k, v in sorted(self.stats.items()) if k in live}))


# --- one build --------------------------------------------------------------------------------------

@dataclass
class BuildState:
    project: Project
    out: Path
    manifest: Manifest
    reporter: Reporter
    traces: dict[str, dict] = field(default_factory=dict)
    trace_hashes: dict[str, str] = field(default_factory=dict)
    built: int = 0
    fresh: int = 0
    steps: set[str] = field(default_factory=set)
    strict: bool = False                                     # a page that warns fails the build
    force: bool = False                                      # no step is up to date (--force)
    warnings: list[Problem] = field(default_factory=list)    # every page's warnings, this build or stored
    theme_hash: str = field(init=False)                      # an input every stage that draws shares

    def __post_init__(self):
        p = self.project
        self.theme_hash = sha256_file(p.theme_file) if p.theme_file else ""

    @classmethod
    def open(cls, project: Project, out: Path, reporter: Reporter, *, force: bool = False,
             strict: bool = False) -> "BuildState":
        """A build into `out`, knowing what the last one made there (and rid of the temporaries a
        build that was killed left in it)."""
        out.mkdir(parents=True, exist_ok=True)
        sweep(out)
        return cls(project, out, Manifest.load(out), reporter, strict=strict, force=force)

    def up_to_date(self, step: str, inputs: dict[str, str]) -> bool:
        self.steps.add(step)
        if not self.force and self.manifest.fresh(step, inputs):
            self.fresh += 1
            return True
        return False

    def done(self, step: str, inputs: dict[str, str], outputs: list[Path], warnings: list | None = None) -> None:
        # outputs the step made last time but not now (a panel removed from a page) are stale: delete them
        fresh = {str(p.relative_to(self.out)) for p in outputs}
        for old in self.manifest.steps.get(step, {}).get("outputs", {}):
            if old not in fresh:
                (self.out / old).unlink(missing_ok=True)
        self.manifest.record(step, inputs, outputs, warnings)
        self.manifest.save()   # after every step: an interrupted build keeps what it finished
        self.built += 1

    def forget_unvisited(self) -> None:
        """After a whole build: the outputs and records of steps this build did not meet (a storyboard
        or deck that was deleted) go."""
        for step in set(self.manifest.steps) - self.steps:
            for old in self.manifest.steps[step].get("outputs", {}):
                (self.out / old).unlink(missing_ok=True)
        self.manifest.forget_missing(self.steps)
