"""Elementwise helpers shared by the NumPy path and the compiled (numba) path.

The optimizer and surface math in this package is written once, as functions of
scalars-or-arrays that use only arithmetic and the three helpers below. Called with
NumPy arrays they are the reference implementation; compiled by numba they run on
scalars inside the fast kernels. ``optim_core._kernels`` registers a numba
implementation of each helper that rounds exactly like the NumPy one, which is what
makes the two paths agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

_libm_pow = np.frompyfunc(math.pow, 2, 1)


def select(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (a per-run branch)."""
    return np.where(condition, if_true, if_false)


def lerp(start, end, weight):
    """``torch.lerp``: the same two formulas, switched at |weight| = 0.5.

    torch (ATen ``lerp``) computes ``start + weight * (end - start)`` for small weights
    and ``end - (end - start) * (1 - weight)`` otherwise; Adam's ``exp_avg.lerp_(grad,
    1 - beta1)`` rounds differently from ``beta1 * m + (1 - beta1) * g``.
    """
    small = np.abs(weight) < 0.5
    return np.where(small, start + weight * (end - start), end - (end - start) * (1.0 - weight))


def power(base, exponent):
    """``base ** exponent`` through the C library's ``pow``, as Python floats compute it.

    torch computes bias corrections with Python floats (``beta ** step``,
    ``bias_correction2 ** 0.5``). ``np.power`` may use other code paths (SIMD, squaring
    shortcuts), and LLVM folds ``pow(x, 0.5)`` into ``sqrt(x)``, which differs from
    ``pow`` in the last bit for about 0.5% of inputs; so both paths call ``pow`` itself.
    """
    result = _libm_pow(base, exponent)
    if isinstance(result, np.ndarray):
        return result.astype(np.float64)
    return float(result)


def to_float32(value):
    """``value`` rounded to float32 (torch's ``.float()``; a scalar in the kernels)."""
    return np.asarray(value, dtype=np.float64).astype(np.float32)


def round_bfloat16(value):
    """float32 ``value`` rounded to bfloat16, nearest even, kept in float32.

    torch's ``float -> bfloat16`` (c10 ``round_to_nearest_even``): add 0x7FFF plus the
    lowest kept bit to the float32's bits, drop the low 16 bits."""
    bits = np.asarray(value, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return (bits & 0xFFFFFFFF).astype(np.uint32).view(np.float32)


def to_float64(value):
    """float32 ``value`` widened (exactly) to float64."""
    return np.asarray(value, dtype=np.float64)
