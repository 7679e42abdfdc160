"""Compiled kernels: the same math as the NumPy path, fused into loops by numba.

Nothing here restates an update rule or a surface: the kernels call the functions of
``optimizers`` and ``surfaces`` themselves, registered with numba
(``register_jitable``), with numba versions of ``select``, ``lerp`` and ``power`` that
round like the NumPy ones. The tests check that both paths agree bit for bit.

numba caches compiled kernels on disk but only notices changes to this file; a hash of
every source the kernels compile is kept beside the cache, and a mismatch clears it.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import llvmlite.ir as ir
import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from . import _elementwise, optimizers, surfaces
from .params import DIVERGENCE_BOUND

_HERE = Path(__file__).parent
_SOURCES = ("_kernels.py", "_elementwise.py", "optimizers.py", "surfaces.py")


def _clear_stale_cache() -> None:
    digest = hashlib.sha256(b"".join((_HERE / name).read_bytes() for name in _SOURCES))
    cache = _HERE / "__pycache__"
    stamp = cache / "kernels-source.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        cache.mkdir(exist_ok=True)
        for old in cache.glob("_kernels.*.nb[ic]"):
            old.unlink(missing_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}")
        tmp.write_text(digest.hexdigest())
        tmp.replace(stamp)
    except OSError:  # a read-only install: numba falls back to its user-wide cache
        pass


_clear_stale_cache()


@intrinsic
def _libm_pow(typingctx, base, exponent):
    """A call to the C library's ``pow``, which LLVM will not fold into ``sqrt``."""
    signature = types.float64(types.float64, types.float64)

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType(), ir.DoubleType()])
        pow_function = cgutils.get_or_insert_function(builder.module, fnty, "pow")
        return builder.call(pow_function, args)

    return signature, codegen


@overload(_elementwise.select)
def _select(condition, if_true, if_false):
    def impl(condition, if_true, if_false):
        return if_true if condition else if_false

    return impl


@overload(_elementwise.lerp)
def _lerp(start, end, weight):
    def impl(start, end, weight):
        if abs(weight) < 0.5:
            return start + weight * (end - start)
        return end - (end - start) * (1.0 - weight)

    return impl


@overload(_elementwise.power)
def _power(base, exponent):
    def impl(base, exponent):
        return _libm_pow(float(base), float(exponent))

    return impl


for _function in (
    surfaces.ravine_value, surfaces.ravine_grad,
    surfaces.rosenbrock_value, surfaces.rosenbrock_grad,
    surfaces.saddle_value, surfaces.saddle_grad,
    surfaces.regression_value, surfaces.compensated_add, surfaces.regression_grad,
    surfaces.surface_value, surfaces.surface_grad,
    optimizers.sgd_rule,
    optimizers.adam_coefficients, optimizers.adam_rule,
    optimizers.nadam_coefficients, optimizers.nadam_rule,
    optimizers.rmsprop_rule,
    optimizers.adagrad_coefficients, optimizers.adagrad_rule,
):
    register_jitable(_function)

_surface_grad = surfaces.surface_grad
_surface_value = surfaces.surface_value
_sgd_rule = optimizers.sgd_rule
_adam_coefficients = optimizers.adam_coefficients
_adam_rule = optimizers.adam_rule
_nadam_coefficients = optimizers.nadam_coefficients
_nadam_rule = optimizers.nadam_rule
_rmsprop_rule = optimizers.rmsprop_rule
_adagrad_coefficients = optimizers.adagrad_coefficients
_adagrad_rule = optimizers.adagrad_rule
_BOUND = DIVERGENCE_BOUND


@numba.njit(cache=True)
def _optimizer_step(algorithm, step, x, y, gx, gy, state, hyper):
    """One step of run state ``state`` (8 slots) for both coordinates.

    Slots: 0-1 the first buffer (momentum buffer, exp_avg, square_avg, sum), 2-3 the
    second (exp_avg_sq, grad_avg), 4-5 the third (max_exp_avg_sq, RMSprop's momentum
    buffer), 6 NAdam's μ-product. ``hyper`` is a row of HYPER_COLUMNS.
    """
    lr, momentum, dampening, weight_decay = hyper[0], hyper[1], hyper[2], hyper[3]
    beta2, eps, alpha, momentum_decay = hyper[4], hyper[5], hyper[6], hyper[7]
    lr_decay = hyper[8]
    nesterov, amsgrad = hyper[10] != 0.0, hyper[11] != 0.0
    centered, decoupled = hyper[12] != 0.0, hyper[13] != 0.0
    if algorithm == 0:
        first = step == 1.0
        x, state[0] = _sgd_rule(x, gx, state[0], first, lr, momentum, dampening,
                                weight_decay, nesterov)
        y, state[1] = _sgd_rule(y, gy, state[1], first, lr, momentum, dampening,
                                weight_decay, nesterov)
    elif algorithm == 1:
        step_size, bc2_sqrt = _adam_coefficients(step, lr, momentum, beta2)
        x, state[0], state[2], state[4] = _adam_rule(
            x, gx, state[0], state[2], state[4], lr, momentum, beta2, eps, weight_decay,
            decoupled, amsgrad, step_size, bc2_sqrt)
        y, state[1], state[3], state[5] = _adam_rule(
            y, gy, state[1], state[3], state[5], lr, momentum, beta2, eps, weight_decay,
            decoupled, amsgrad, step_size, bc2_sqrt)
    elif algorithm == 2:
        bc2, grad_coef, avg_coef, state[6] = _nadam_coefficients(
            step, lr, momentum, beta2, momentum_decay, state[6])
        x, state[0], state[2] = _nadam_rule(x, gx, state[0], state[2], lr, momentum, beta2,
                                            eps, weight_decay, decoupled, bc2, grad_coef,
                                            avg_coef)
        y, state[1], state[3] = _nadam_rule(y, gy, state[1], state[3], lr, momentum, beta2,
                                            eps, weight_decay, decoupled, bc2, grad_coef,
                                            avg_coef)
    elif algorithm == 3:
        x, state[0], state[2], state[4] = _rmsprop_rule(
            x, gx, state[0], state[2], state[4], lr, alpha, eps, weight_decay, momentum,
            centered)
        y, state[1], state[3], state[5] = _rmsprop_rule(
            y, gy, state[1], state[3], state[5], lr, alpha, eps, weight_decay, momentum,
            centered)
    else:
        clr = _adagrad_coefficients(step, lr, lr_decay)
        x, state[0] = _adagrad_rule(x, gx, state[0], clr, eps, weight_decay)
        y, state[1] = _adagrad_rule(y, gy, state[1], clr, eps, weight_decay)
    return x, y


@numba.njit(cache=True)
def _initial_state(algorithm, hyper):
    state = np.zeros(8)
    state[6] = 1.0  # NAdam's μ-product
    if algorithm == 4:  # Adagrad's initial_accumulator_value
        state[0] = hyper[9]
        state[1] = hyper[9]
    return state


@numba.njit(cache=True)
def _finite(value):
    return not (math.isinf(value) or math.isnan(value))


@numba.njit(cache=True, parallel=False)
def race_kernel(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms, table,
                steps):
    """Every run of a race, one after another (see ``simulate.race_numpy``)."""
    n_runs = starts.shape[0]
    params = np.empty((n_runs, steps + 1, 2))
    loss = np.empty((n_runs, steps + 1))
    grads = np.empty((n_runs, steps + 1, 2))
    lengths = np.full(n_runs, steps + 1, dtype=np.int64)
    diverged = np.full(n_runs, -1, dtype=np.int64)
    shared_batch = batches.shape[0] == 1
    for r in range(n_runs):
        algorithm = algorithms[r]
        hyper = table[r]
        state = _initial_state(algorithm, hyper)
        x, y = starts[r, 0], starts[r, 1]
        for k in range(steps + 1):
            batch = batches[0] if shared_batch else batches[k]
            gx, gy = _surface_grad(code, x, y, kappa, data_x, data_y, batch)
            gx = gx + noise_rows[k, 0]
            gy = gy + noise_rows[k, 1]
            f = _surface_value(code, x, y, kappa, data_x, data_y)
            if not (_finite(gx) and _finite(gy) and _finite(f)):
                lengths[r] = k
                diverged[r] = k
                break
            params[r, k, 0] = x
            params[r, k, 1] = y
            loss[r, k] = f
            grads[r, k, 0] = gx
            grads[r, k, 1] = gy
            if k == steps:
                break
            x, y = _optimizer_step(algorithm, float(k + 1), x, y, gx, gy, state, hyper)
            if not (_finite(x) and _finite(y) and abs(x) <= _BOUND and abs(y) <= _BOUND):
                lengths[r] = k + 1
                diverged[r] = k + 1
                break
        n = lengths[r]
        for k in range(n, steps + 1):
            params[r, k] = params[r, n - 1]
            loss[r, k] = loss[r, n - 1]
            grads[r, k] = grads[r, n - 1]
    return params, loss, grads, lengths, diverged

