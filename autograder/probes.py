"""Test functions handed to numerical_gradient, rebuilt identically in the grader and the worker.

A case cannot send a Python function to the sandbox, so it sends a name and array
parameters (protocol.Probe); both sides build the function with `build(name, args)`.
This module is copied into the worker's scratch directory: it imports only numpy.
"""
import numpy as np


def _tanh_affine(A, c):
    """f(x) = tanh(x @ A + c): x (N, D), A (D, K), c (K,) -> (N, K)."""
    return lambda x: np.tanh(x @ A + c)


def _cubic(a):
    """f(x) = a * x**3 + x: elementwise, same shape as x."""
    return lambda x: a * x ** 3 + x


def _coupled_sin(a):
    """f(x) = sin(x) * x reversed along the last axis * a: couples pairs of elements."""
    return lambda x: np.sin(x) * x[..., ::-1] * a


PROBES = {"tanh_affine": _tanh_affine, "cubic": _cubic, "coupled_sin": _coupled_sin}


def build(name, args):
    """The test function called name, with its parameters args."""
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}")
    return PROBES[name](*args)
