"""build/manifest.json: every output, its hash, and the hashes of everything it was made from.

A build step is skipped when its inputs hash the same as last time and its outputs are
still there, unchanged. That is what makes a no-change rebuild nearly free and a changed
storyboard rebuild only its own page and what contains it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_text

MANIFEST = "manifest.json"
STAT_CACHE = ".stat-cache.json"   # sizes and mtimes: a cache, kept apart so manifest.json is deterministic
FORMAT = 2


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


def step_key(inputs: dict[str, str]) -> str:
    return sha256_json(inputs)


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

    def warnings(self, step: str) -> list:
        """The warnings `step` gave when it last ran (renderer.errors.Problem each)."""
        from .errors import Problem

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
