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
