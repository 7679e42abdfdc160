"""Which engine path computes: the one rule for "is numba available" and "auto"."""

from __future__ import annotations

import importlib.util

from .params import InvalidParameterError

BACKENDS = ("auto", "numba", "numpy")


def numba_available() -> bool:
    """Whether the compiled path can run here (numba is a pinned dependency; without it
    every call takes the NumPy path, which gives the same numbers)."""
    return importlib.util.find_spec("numba") is not None


def choose_backend(backend: str, caller: str) -> str:
    """``"numba"`` or ``"numpy"`` for a requested ``backend`` (``"auto"``: numba if it
    is available)."""
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"The 'backend' parameter of {caller} must be one of 'auto', 'numba', 'numpy'. "
            f"Got {backend!r} instead.", parameter="backend", caller=caller,
            allowed="'auto', 'numba' or 'numpy'", got=backend)
    if backend == "auto":
        return "numba" if numba_available() else "numpy"
    return backend
