"""Shared fixtures and settings of the project's own tests."""
import numpy as np
import pytest
from hypothesis import settings

# numpy reference code is slow to start per example; hypothesis' default deadline would flake.
settings.register_profile("course", deadline=None, max_examples=40, print_blob=True)
settings.load_profile("course")


@pytest.fixture
def rng():
    """A seeded generator: every test sees the same inputs on every run."""
    return np.random.default_rng(20261123)


@pytest.fixture
def one_chunk_per_item(monkeypatch):
    """Make the chunked reference kernels give every pooling plane and every batch-norm channel
    its own chunk, shared among two threads, so that tests cross every chunk boundary."""
    from solutions import _parallel
    monkeypatch.setattr(_parallel, "CHUNK_BYTES", 1)
    monkeypatch.setattr(_parallel, "_WORKERS", 2)
