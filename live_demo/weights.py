"""A model folder's weight files: which they are, their sha256 (remembered in novapress'
user cache, so a big file is hashed once) and the parameter count read from safetensors
headers. No torch: naming and choosing a model must stay fast.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from pathlib import Path

# Files that hold weights, in the order transformers looks for them.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def user_cache_dir() -> Path:
    """novapress' own machine-local cache (converted models, file hashes). Never committed."""
    if os.environ.get("NOVAPRESS_CACHE"):
        return Path(os.environ["NOVAPRESS_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "novapress"


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered by (path, size, mtime) so a 100 MB file is hashed once."""
    path = Path(path)
    target = path.resolve()
    if re.fullmatch(r"[0-9a-f]{64}", target.name):  # a hub cache blob is named by its sha256
        return target.name
    st = target.stat()
    memo_path = user_cache_dir() / "file-hashes.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(target))
    if entry and entry[:2] == [st.st_size, st.st_mtime_ns]:
        return entry[2]
    h = hashlib.sha256()
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    memo[str(target)] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_name(f".{memo_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo, sort_keys=True))
        os.replace(tmp, memo_path)
    except OSError:
        pass  # a read-only home only costs a re-hash next time
    return h.hexdigest()


def weight_files(folder: Path) -> list[Path] | None:
    """The weight files of a model folder (shards included), or None if incomplete."""
    for name in WEIGHT_FILES:
        p = folder / name
        if not p.exists():
            continue
        if not name.endswith(".index.json"):
            return [p]
        try:
            shards = sorted(set(json.loads(p.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError):
            return None
        files = [folder / s for s in shards]
        return files if all(f.exists() for f in files) else None
    return None


def weights_sha256(folder: Path) -> str | None:
    files = weight_files(folder)
    if not files:
        return None
    if len(files) == 1:
        return file_sha256(files[0])
    lines = "".join(f"{f.name} {file_sha256(f)}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def safetensors_params(folder: Path) -> int | None:
    """The parameter count of a folder's safetensors weights, read from the files' headers
    (8-byte length + JSON of shapes), so naming a model needs neither torch nor the weights."""
    files = weight_files(folder)
    if not files or not all(f.suffix == ".safetensors" for f in files):
        return None
    total = 0
    try:
        for f in files:
            with open(f, "rb") as fh:
                (length,) = struct.unpack("<Q", fh.read(8))
                if length > 100_000_000:
                    return None
                header = json.loads(fh.read(length))
            for key, entry in header.items():
                if key != "__metadata__":
                    n = 1
                    for dim in entry["shape"]:
                        n *= int(dim)
                    total += n
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None
    return total
