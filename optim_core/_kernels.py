"""Compiled kernels: the same math as the NumPy path, fused into loops by numba.

Nothing here restates an update rule or a surface: the kernels call the functions of
``optimizers`` and ``surfaces`` themselves, registered with numba
(``register_jitable``), with numba versions of ``select``, ``lerp`` and ``power`` that
round like the NumPy ones. The tests check that both paths agree bit for bit.

numba caches compiled kernels on disk but only notices changes to this file; a hash of
every source the kernels compile is kept beside the cache, and a mismatch clears it.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import os
import warnings
from pathlib import Path

import llvmlite.ir as ir
import numba
import numpy as np
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from . import _elementwise, analysis, optimizers, surfaces, theory
from .params import DIVERGENCE_BOUND

_HERE = Path(__file__).parent
_SOURCES = ("_kernels.py", "_elementwise.py", "optimizers.py", "surfaces.py", "analysis.py",
            "theory.py")


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


def _choose_threading_layer() -> None:
    """Run parallel kernels on Intel TBB: safe when the app's background jobs fork and
    when threads call kernels at once (GNU OpenMP aborts after a fork). The tbb wheel
    puts libtbb in the environment's lib/, which the loader does not search, so load it
    by its full path first. Without TBB, numba's fork-safe workqueue layer is used."""
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return  # the user chose
    try:
        library = next(f.locate() for f in importlib.metadata.files("tbb") or ()
                       if f.name == "libtbb.so.12")
        ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        numba.config.THREADING_LAYER = "tbb"
    except (importlib.metadata.PackageNotFoundError, StopIteration, OSError):
        warnings.warn("Intel TBB could not be loaded; parallel sweeps use numba's "
                      "workqueue layer (not safe to call from several threads at once)",
                      RuntimeWarning, stacklevel=2)
        numba.config.THREADING_LAYER = "workqueue"


_choose_threading_layer()


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
    optimizers.adam_bias_corrections, optimizers.adam_rule,
    optimizers.nadam_schedule, optimizers.nadam_coefficients, optimizers.nadam_rule,
    optimizers.rmsprop_rule,
    optimizers.adagrad_coefficients, optimizers.adagrad_rule,
    analysis.first_within, theory.gap_floor, theory.rate_window, theory.fit_rate,
    theory.rate_or_nan,
):
    register_jitable(inline="always")(_function)

_surface_grad = surfaces.surface_grad
_surface_value = surfaces.surface_value
_sgd_rule = optimizers.sgd_rule
_adam_bias_corrections = optimizers.adam_bias_corrections
_adam_rule = optimizers.adam_rule
_nadam_schedule = optimizers.nadam_schedule
_nadam_coefficients = optimizers.nadam_coefficients
_nadam_rule = optimizers.nadam_rule
_rmsprop_rule = optimizers.rmsprop_rule
_adagrad_coefficients = optimizers.adagrad_coefficients
_adagrad_rule = optimizers.adagrad_rule
_first_within = analysis.first_within
_rate_of = theory.rate_or_nan
_BOUND = DIVERGENCE_BOUND
#: Division as NumPy does it (0/0 is NaN, x/0 is ±inf, no exception), so that a run the
#: NumPy path flags as diverged (Adam's eps = 0 with a zero gradient) is flagged here too.
_JIT = {"cache": True, "error_model": "numpy"}
_LARGEST = 1.7976931348623157e308  # |v| <= this is False exactly when v is NaN or ±inf


@numba.njit(**_JIT, inline="always")
def _step_scalars(algorithm, step, table, c):
    """Run c's per-step scalars that need ``pow`` (Adam's bias corrections, NAdam's
    schedule): they depend on the betas and the step only."""
    if algorithm == 1:
        bc1, bc2_sqrt = _adam_bias_corrections(step, table[c, 1], table[c, 4])
        return bc1, bc2_sqrt, 0.0
    if algorithm == 2:
        return _nadam_schedule(step, table[c, 1], table[c, 4], table[c, 7])
    return 0.0, 0.0, 0.0


@numba.njit(**_JIT, inline="always")
def _same_schedule(table, a, b):
    """Whether runs a and b share their per-step pow scalars (betas, momentum decay)."""
    return table[a, 1] == table[b, 1] and table[a, 4] == table[b, 4] and \
        table[a, 7] == table[b, 7]


@numba.njit(**_JIT, inline="always")
def _optimizer_step(algorithm, step, x, y, gx, gy, states, c, table, s1, s2, s3):
    """One step of run ``c`` for both coordinates; updates its row of ``states``.
    (s1, s2, s3) are run c's ``_step_scalars`` for this step.

    State slots: 0-1 the first buffer (momentum buffer, exp_avg, square_avg, sum), 2-3
    the second (exp_avg_sq, grad_avg), 4-5 the third (max_exp_avg_sq, RMSprop's momentum
    buffer), 6 NAdam's μ-product. ``table[c]`` is run c's row of HYPER_COLUMNS. (Rows
    are indexed, not sliced: a slice in this loop costs an atomic reference count.)
    """
    lr, momentum, dampening, weight_decay = table[c, 0], table[c, 1], table[c, 2], table[c, 3]
    beta2, eps, alpha, lr_decay = table[c, 4], table[c, 5], table[c, 6], table[c, 8]
    nesterov, amsgrad = table[c, 10] != 0.0, table[c, 11] != 0.0
    centered, decoupled = table[c, 12] != 0.0, table[c, 13] != 0.0
    if algorithm == 0:
        first = step == 1.0
        x, states[c, 0] = _sgd_rule(x, gx, states[c, 0], first, lr, momentum, dampening,
                                    weight_decay, nesterov)
        y, states[c, 1] = _sgd_rule(y, gy, states[c, 1], first, lr, momentum, dampening,
                                    weight_decay, nesterov)
    elif algorithm == 1:
        x, states[c, 0], states[c, 2], states[c, 4] = _adam_rule(
            x, gx, states[c, 0], states[c, 2], states[c, 4], lr, momentum, beta2, eps,
            weight_decay, decoupled, amsgrad, s1, s2)
        y, states[c, 1], states[c, 3], states[c, 5] = _adam_rule(
            y, gy, states[c, 1], states[c, 3], states[c, 5], lr, momentum, beta2, eps,
            weight_decay, decoupled, amsgrad, s1, s2)
    elif algorithm == 2:
        bc2 = s1
        grad_coef, avg_coef, states[c, 6] = _nadam_coefficients(lr, s2, s3, states[c, 6])
        x, states[c, 0], states[c, 2] = _nadam_rule(
            x, gx, states[c, 0], states[c, 2], lr, momentum, beta2, eps, weight_decay,
            decoupled, bc2, grad_coef, avg_coef)
        y, states[c, 1], states[c, 3] = _nadam_rule(
            y, gy, states[c, 1], states[c, 3], lr, momentum, beta2, eps, weight_decay,
            decoupled, bc2, grad_coef, avg_coef)
    elif algorithm == 3:
        x, states[c, 0], states[c, 2], states[c, 4] = _rmsprop_rule(
            x, gx, states[c, 0], states[c, 2], states[c, 4], lr, alpha, eps, weight_decay,
            momentum, centered)
        y, states[c, 1], states[c, 3], states[c, 5] = _rmsprop_rule(
            y, gy, states[c, 1], states[c, 3], states[c, 5], lr, alpha, eps, weight_decay,
            momentum, centered)
    else:
        clr = _adagrad_coefficients(step, lr, lr_decay)
        x, states[c, 0] = _adagrad_rule(x, gx, states[c, 0], clr, eps, weight_decay)
        y, states[c, 1] = _adagrad_rule(y, gy, states[c, 1], clr, eps, weight_decay)
    return x, y


@numba.njit(**_JIT)
def _initial_states(algorithms, table):
    states = np.zeros((table.shape[0], 8))
    for c in range(table.shape[0]):
        states[c, 6] = 1.0  # NAdam's μ-product
        if algorithms[c] == 4:  # Adagrad's initial_accumulator_value
            states[c, 0] = table[c, 9]
            states[c, 1] = table[c, 9]
    return states


@numba.njit(**_JIT)
def _simulate_block(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms,
                    table, steps, loss, params, grads, record_path, lengths, diverged):
    """Runs in lockstep (step k of every run, then k + 1), so that the CPU overlaps the
    independent runs' dependency chains. Fills ``loss`` (and ``params``, ``grads`` if
    ``record_path``) per run for steps 0.. until the run ends, and ``lengths`` (rows
    filled) and ``diverged`` (step it diverged at, or -1)."""
    n = starts.shape[0]
    xs = starts[:, 0].copy()
    ys = starts[:, 1].copy()
    states = _initial_states(algorithms, table)
    alive = np.ones(n, dtype=np.bool_)
    for c in range(n):
        lengths[c] = steps + 1
        diverged[c] = -1
    shared_batch = batches.shape[0] == 1
    for k in range(steps + 1):
        batch = batches[0] if shared_batch else batches[k]
        noise_x, noise_y = noise_rows[k, 0], noise_rows[k, 1]
        step = float(k + 1)
        known = -1  # the run whose pow scalars s1..s3 hold, this step
        s1 = s2 = s3 = 0.0
        for c in range(n):
            if not alive[c]:
                continue
            x, y = xs[c], ys[c]
            gx, gy = _surface_grad(code, x, y, kappa, data_x, data_y, batch)
            gx = gx + noise_x
            gy = gy + noise_y
            f = _surface_value(code, x, y, kappa, data_x, data_y)
            if not (abs(gx) <= _LARGEST and abs(gy) <= _LARGEST and abs(f) <= _LARGEST):
                lengths[c] = k
                diverged[c] = k
                alive[c] = False
                continue
            loss[c, k] = f
            if record_path:
                params[c, k, 0] = x
                params[c, k, 1] = y
                grads[c, k, 0] = gx
                grads[c, k, 1] = gy
            if k == steps:
                continue
            algorithm = algorithms[c]
            if (algorithm == 1 or algorithm == 2) and not (
                    known >= 0 and algorithms[known] == algorithm
                    and _same_schedule(table, known, c)):
                s1, s2, s3 = _step_scalars(algorithm, step, table, c)
                known = c
            x, y = _optimizer_step(algorithm, step, x, y, gx, gy, states, c, table, s1, s2,
                                   s3)
            if not (abs(x) <= _BOUND and abs(y) <= _BOUND):  # also False for NaN and inf
                lengths[c] = k + 1
                diverged[c] = k + 1
                alive[c] = False
                continue
            xs[c] = x
            ys[c] = y


@numba.njit(**_JIT)
def race_kernel(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms, table,
                steps):
    """Every run of a race, as one block (see ``simulate.race_numpy``)."""
    n_runs = starts.shape[0]
    params = np.empty((n_runs, steps + 1, 2))
    loss = np.empty((n_runs, steps + 1))
    grads = np.empty((n_runs, steps + 1, 2))
    lengths = np.empty(n_runs, dtype=np.int64)
    diverged = np.empty(n_runs, dtype=np.int64)
    _simulate_block(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms,
                    table, steps, loss, params, grads, True, lengths, diverged)
    for r in range(n_runs):
        n = lengths[r]
        for k in range(n, steps + 1):
            params[r, k] = params[r, n - 1]
            loss[r, k] = loss[r, n - 1]
            grads[r, k] = grads[r, n - 1]
    return params, loss, grads, lengths, diverged


SWEEP_BLOCK = 16  # runs stepped together by one thread of the sweep


@numba.njit(**_JIT, parallel=True)
def sweep_kernel(code, kappa, data_x, data_y, batches, noise_rows, start, algorithms, table,
                 steps, f_min, tolerance, samples):
    """Metrics of many runs from one start, in parallel, without keeping their paths:
    (final loss, first step within ``tolerance`` of f_min or -1, measured rate or NaN,
    step diverged at or -1) per run, as ``sweep.sweep_numpy`` computes them."""
    n = table.shape[0]
    final_loss = np.empty(n)
    hit = np.empty(n, dtype=np.int64)
    rate = np.empty(n)
    diverged = np.empty(n, dtype=np.int64)
    unused = np.empty((1, 1, 2))
    n_blocks = (n + SWEEP_BLOCK - 1) // SWEEP_BLOCK
    for b in prange(n_blocks):
        begin = b * SWEEP_BLOCK
        end = min(begin + SWEEP_BLOCK, n)
        starts = np.empty((end - begin, 2))
        starts[:, 0] = start[0]
        starts[:, 1] = start[1]
        loss = np.empty((end - begin, steps + 1))
        lengths = np.empty(end - begin, dtype=np.int64)
        _simulate_block(code, kappa, data_x, data_y, batches, noise_rows, starts,
                        algorithms[begin:end], table[begin:end], steps, loss, unused, unused,
                        False, lengths, diverged[begin:end])
        for i in range(end - begin):
            c = begin + i
            final_loss[c] = loss[i, lengths[i] - 1]
            hit[c] = _first_within(loss[i], lengths[i], f_min, tolerance)
            rate[c] = (_rate_of(loss[i], lengths[i], f_min, samples) if diverged[c] < 0
                       else np.nan)
    return final_loss, hit, rate, diverged
