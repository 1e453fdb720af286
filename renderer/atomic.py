"""Atomic output files: write to a temporary sibling, then rename over the target.

An interrupted or failed build never leaves a half-written file, and the previous
good output stays in place until the new one is complete.

Every temporary carries the id of the process that made it (`.<name>.<pid>.<random>.part`,
`.<name>.<pid>.<random>.staging`, `.<name>.<pid>.old`): a process that fails removes its own,
and one that was killed outright (SIGKILL, a power cut) leaves them to the next build, whose
`sweep` removes those of processes that no longer run and puts back a folder that was being
swapped.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[^.]+\.(?:part|staging)$")
_OLD = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.old$")
_SITE_STAGING = re.compile(r"^\.site\.staging-(?P<pid>\d+)$")     # renderer.site's own staging folder


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def staging_dir(parent: str | Path, name: str) -> Path:
    """A new empty folder in `parent` to write `name` into before it is swapped in (replace_dir)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".staging", dir=parent))


def replace_dir(staging: str | Path, target: str | Path) -> None:
    """Swap a fully written staging folder into place (old one removed after the swap). Between the
    two renames the old folder is kept as `.<name>.<pid>.old`, which `sweep` puts back if the
    process dies there."""
    staging, target = Path(staging), Path(target)
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # someone else's process: running
        return True
    try:                         # a zombie (dead, not yet reaped by its parent) no longer writes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def sweep(folder: str | Path) -> list[Path]:
    """Remove the temporaries that processes no longer running left in `folder` (a build killed
    while writing), and put back a folder one of them had moved aside to swap in a new one.
    Returns what it removed or restored."""
    folder = Path(folder)
    done: list[Path] = []
    if not folder.is_dir():
        return done
    for parent, dirs, files in os.walk(folder):
        here = Path(parent)
        for name in list(dirs) + files:
            found = _TEMP.match(name) or _OLD.match(name) or _SITE_STAGING.match(name)
            if not found or _running(int(found["pid"])):
                continue
            path = here / name
            if name in dirs:
                dirs.remove(name)                       # nothing to look at inside
            if _OLD.match(name) and not (here / found["target"]).exists():
                os.replace(path, here / found["target"])   # the swap never finished: the old folder is the output
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            done.append(path)
    return done
