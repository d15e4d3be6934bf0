"""solutions._parallel: cache-sized chunks of independent work, shared among threads."""
import multiprocessing
import threading

import numpy as np
import pytest

from solutions import _parallel, max_pool_forward


def test_chunks_cover_the_range_in_order_without_overlap():
    slices = _parallel.chunks(10, bytes_per_item=300, chunk_bytes=1000)
    assert [(s.start, s.stop) for s in slices] == [(0, 3), (3, 6), (6, 9), (9, 10)]


def test_chunks_hold_at_least_one_item_when_an_item_is_bigger_than_a_chunk():
    assert len(_parallel.chunks(5, bytes_per_item=10**9)) == 5


def test_chunks_of_nothing_are_empty():
    assert _parallel.chunks(0, bytes_per_item=8) == []


def test_chunks_default_to_the_module_chunk_size(monkeypatch):
    monkeypatch.setattr(_parallel, "CHUNK_BYTES", 16)
    assert len(_parallel.chunks(8, bytes_per_item=8)) == 4


def test_run_returns_the_results_in_the_order_of_the_slices(monkeypatch):
    monkeypatch.setattr(_parallel, "_WORKERS", 2)
    slices = _parallel.chunks(50, bytes_per_item=1, chunk_bytes=3)
    assert _parallel.run(lambda s: (s.start, s.stop), slices) == [(s.start, s.stop) for s in slices]


def test_run_shares_the_slices_among_threads(monkeypatch):
    monkeypatch.setattr(_parallel, "_WORKERS", 2)
    barrier = threading.Barrier(2, timeout=30)

    def wait_for_the_other(_):
        barrier.wait()          # times out unless a second thread runs the other slice meanwhile
        return threading.get_ident()

    assert len(set(_parallel.run(wait_for_the_other, [slice(0, 1), slice(1, 2)]))) == 2


def test_run_keeps_a_single_slice_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(_parallel, "_WORKERS", 2)
    assert _parallel.run(lambda s: threading.get_ident(), [slice(0, 1)]) == [threading.get_ident()]


def test_run_raises_what_the_work_raises(monkeypatch):
    monkeypatch.setattr(_parallel, "_WORKERS", 2)

    def fail_on_the_second(s):
        if s.start == 1:
            raise ValueError("slice 1 failed")

    with pytest.raises(ValueError, match="slice 1 failed"):
        _parallel.run(fail_on_the_second, [slice(0, 1), slice(1, 2)])


def _pool_in_child(queue):
    x = np.arange(64.0).reshape(4, 4, 2, 2)
    queue.put(float(max_pool_forward(x).sum()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_gets_a_working_pool(monkeypatch, one_chunk_per_item):
    max_pool_forward(np.zeros((4, 4, 2, 2)))          # the parent's pool now has threads
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_pool_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung: it sent work to the threads of its parent's pool")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == float(np.arange(3.0, 64.0, 4.0).sum())
