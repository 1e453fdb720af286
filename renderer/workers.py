"""Worker processes for CPU-bound steps (drawing panels, drawing charts).

resvg and matplotlib hold Python's GIL, so threads would not help; forked processes start with
everything already imported and share nothing else. NOVAPRESS_JOBS sets how many (1: none).
"""
from __future__ import annotations

import atexit
import os

_POOL = None


def jobs() -> int:
    try:
        return int(os.environ.get("NOVAPRESS_JOBS", "0")) or (os.cpu_count() or 1)
    except ValueError:
        return 1


def pool():
    """The shared process pool, or None when only one job may run."""
    global _POOL
    if jobs() < 2:
        return None
    if _POOL is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _POOL = ProcessPoolExecutor(max_workers=min(jobs(), 4), mp_context=multiprocessing.get_context("fork"))
        atexit.register(shutdown)   # before interpreter teardown, or the pool's own cleanup trips over it
    return _POOL


def run_all(fn, items: list) -> list:
    """fn over items, in worker processes when there are two or more items, in order."""
    p = pool() if len(items) > 1 else None
    if not p:
        return list(map(fn, items))
    # The pool outlives one build and keeps the folder it was forked in: each job runs in the
    # caller's folder now, so relative paths (build/...) land where the caller means.
    cwd = os.getcwd()
    return list(p.map(_in_folder, [(cwd, fn, item) for item in items]))


def _in_folder(job: tuple):
    cwd, fn, item = job
    os.chdir(cwd)
    return fn(item)


def shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown()
        _POOL = None
