"""Cache-sized chunks of independent work, run on the machine's cores.

Pooling and batch norm make several elementwise passes over their input. Done over a whole
batch, each pass streams the arrays from main memory again; done over a chunk of a couple of
MiB, every pass after the first finds the chunk in cache. The chunks are independent
(pooling planes, batch norm channels), so threads can take them in parallel: numpy releases
the GIL inside its loops over arrays, and each thread keeps a core busy. Much smaller chunks
are slower again: per-call overhead and GIL hand-offs outweigh the work
(benchmarks/README.md).

Results never depend on the number of threads: chunk boundaries depend only on the array's
shape, and each chunk is computed the same way whichever thread runs it.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

CHUNK_BYTES = 2 * 2**20
_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

_lock = threading.Lock()
_pool = None


def _executor():
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="solutions")
        return _pool


def _forget_pool():
    # A forked child inherits the executor object but not its threads: work sent to it would
    # wait forever, so the child starts a fresh pool when it first needs one.
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def chunks(n, bytes_per_item, chunk_bytes=None):
    """Slices of range(n), each covering about chunk_bytes (default CHUNK_BYTES) of items, at least one."""
    step = max(1, (chunk_bytes or CHUNK_BYTES) // max(1, bytes_per_item))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def run(fn, slices):
    """[fn(s) for s in slices], with the slices shared among threads when there are several."""
    if _WORKERS == 1 or len(slices) == 1:
        return [fn(s) for s in slices]
    return list(_executor().map(fn, slices))
