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


@pytest.fixture(autouse=True, scope="session")
def grader_key(tmp_path_factory):
    """The instructor key of every grading in the tests (and in the CLIs they start): a fresh
    one in a temporary folder, never the machine's ~/.config/cnns-from-the-ground-up key."""
    import os
    path = tmp_path_factory.mktemp("key") / "grader.key"
    path.write_bytes(os.urandom(32))
    previous = os.environ.get("CNN_GRADER_KEY")
    os.environ["CNN_GRADER_KEY"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("CNN_GRADER_KEY", None)
    else:
        os.environ["CNN_GRADER_KEY"] = previous
