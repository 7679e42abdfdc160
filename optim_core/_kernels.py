"""Compiled kernels: the same math as the NumPy path, fused into loops by numba.

Nothing here restates an update rule, an optimizer or a surface: the kernels call the
functions of the ``optimizers`` family modules (each family's ``kernel_step`` reads its
named columns and state slots) and of ``surfaces`` themselves, registered with numba
(``register_jitable``), with numba versions of ``select``, ``lerp`` and ``power`` that
round like the NumPy ones. The tests check that both paths agree bit for bit.

numba caches compiled kernels on disk but only notices changes to this file; a hash of
every source the kernels compile is kept beside the cache, and a mismatch clears it.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import inspect
import math
import os
import warnings
from pathlib import Path

import llvmlite.ir as ir
import numba
import numpy as np
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from . import _elementwise, analysis, clipping, expression, optimizers, surfaces, theory
from ._dispatch import by_code
from .optimizers import _base as optimizers_base
from .optimizers import lbfgs as optimizers_lbfgs
from .params import DIVERGENCE_BOUND

_HERE = Path(__file__).parent
# params.py too: DIVERGENCE_BOUND is compiled in as a constant
_SOURCES = ("_kernels.py", "_dispatch.py", "_elementwise.py", "surfaces.py", "analysis.py",
            "theory.py", "params.py", "expression.py", "clipping.py",
            *sorted(f"optimizers/{p.name}" for p in (_HERE / "optimizers").glob("*.py")))


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


@intrinsic
def _float32_bits(typingctx, value):
    """The bits of a float32, as uint32."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.uint32(types.float32), codegen


@intrinsic
def _bits_float32(typingctx, bits):
    """The float32 whose bits are ``bits`` (uint32)."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.uint32), codegen


@overload(_elementwise.to_float32)
def _to_float32(value):
    return lambda value: np.float32(value)


@overload(_elementwise.to_float64)
def _to_float64(value):
    return lambda value: np.float64(value)


@overload(_elementwise.round_bfloat16)
def _round_bfloat16(value):
    def impl(value):
        bits = np.uint64(_float32_bits(np.float32(value)))
        bits = (bits + np.uint64(0x7FFF) + ((bits >> np.uint64(16)) & np.uint64(1))) \
            >> np.uint64(16) << np.uint64(16)
        return _bits_float32(np.uint32(bits & np.uint64(0xFFFFFFFF)))

    return impl


# --- typed surfaces: the programs of optim_core.expression ---------------------------
# The C library helpers compile to the C calls they wrap, ``divide`` to a plain IEEE
# division whatever the caller's error model. ``apply_op`` is inlined into
# ``run_program``, which is compiled once as a function of its own: a call per program
# run costs nothing measurable, while inlining the instruction tree into every kernel
# took the cold compile from 2m42 to 3m33.


def _scalar_libm(helper):
    function = helper.scalar
    if function is math.pow:
        return lambda a, b: lambda a, b: _elementwise.power(a, b)
    return lambda a: lambda a: function(a)


for _helper in expression.LIBM_HELPERS:
    overload(_helper)(_scalar_libm(_helper))
overload(expression.divide, jit_options={"error_model": "numpy"})(
    lambda a, b: lambda a, b: a / b)
# each once (integer_power is in the table too); divide has its own overload, above
for _function in dict.fromkeys((expression.integer_power, expression.sign,
                                *expression.OPERATIONS.values())):
    if _function is not expression.divide:
        register_jitable(inline="always")(_function)
register_jitable(error_model="numpy")(expression.run_program)


def _inlined(function):
    return numba.njit(inline="always", error_model="numpy")(function)


def _compiled_by_code(head, functions) -> None:
    """``head``, a ``_dispatch.by_code`` tree the NumPy path calls, compiled: the tree of
    the same ``functions`` built again of closures numba inlines into one another (one
    function of nested branches), inlined where a compiled function calls ``head``."""
    tree = by_code(functions, compile=_inlined)
    overload(head, inline="always", strict=False, jit_options={"error_model": "numpy"})(
        lambda *arguments: tree.py_func)


_compiled_by_code(expression.apply_op, expression.OPERATIONS)
_run_program = expression.run_program
evaluate_points_kernel = numba.njit(cache=True)(expression.evaluate_points)


def compiled_evaluate(program, x, y) -> tuple[np.ndarray, ...]:
    """``expression.evaluate`` through the compiled ``run_program``, point by point."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64),
                               np.asarray(y, dtype=np.float64))
    out = evaluate_points_kernel(program.ops, program.first, program.second, program.outputs,
                           program.initial_slots(), x.ravel().copy(), y.ravel().copy())
    return tuple(out[:, k].reshape(x.shape) for k in range(out.shape[1]))


def _jitable_functions(module):
    """The functions defined in ``module``: its math, compiled where the kernels call it."""
    return [f for f in vars(module).values()
            if inspect.isfunction(f) and f.__module__ == module.__name__]


#: Compiled once each as functions of their own, not inlined into every caller: numba
#: types an inlined function again at each call site (most of the compile time), and
#: these are called from every kernel. Inlined, the cold compile took twice as long; apart
#: it takes what it did before them, for sweeps measured 3-8% slower (a call per axis).
_COMPILED_APART = {f for family in optimizers.FAMILIES
                   for f in (*family.readers, family.kernel_axis) if f is not None}
for _function in (
    *_jitable_functions(surfaces), *surfaces.SURFACE_VALUES.values(),
    *surfaces.SURFACE_GRADS.values(),
    analysis.first_within, theory.gap_floor, theory.rate_window, theory.fit_rate,
    theory.rate_or_nan, optimizers_base.no_schedule, optimizers_base.no_init,
    optimizers_base.same_point, optimizers_base.never_steps, optimizers_base.same_scalars,
    *optimizers_base.FIELD_READERS.values(), clipping.total_norm, clipping.clip_gradient,
    *(f for module in optimizers.FAMILY_MODULES if module is not optimizers_lbfgs
      for f in _jitable_functions(module) if f not in _COMPILED_APART),
    *(family.kernel_step for family in optimizers.FAMILIES if family.kernel_axis is not None),
):
    register_jitable(inline="always")(_function)
for _function in _COMPILED_APART:
    register_jitable(_function)
# L-BFGS's step is large (its line search calls the objective in four places): compiled
# once as functions of their own, not inlined into every kernel (minutes of compile)
for _function in _jitable_functions(optimizers_lbfgs):
    register_jitable(_function)

_compiled_by_code(surfaces.surface_value, surfaces.SURFACE_VALUES)
_compiled_by_code(surfaces.surface_grad, surfaces.SURFACE_GRADS)
_surface_grad = surfaces.surface_grad
_PROGRAM = surfaces.PROGRAM
_surface_value = surfaces.surface_value
_first_within = analysis.first_within
_rate_of = theory.rate_or_nan
_clip_gradient = clipping.clip_gradient
_BOUND = DIVERGENCE_BOUND
#: Division as NumPy does it (0/0 is NaN, x/0 is ±inf, no exception), so that a run the
#: NumPy path flags as diverged (Adam's eps = 0 with a zero gradient) is flagged here too.
_JIT = {"cache": True, "error_model": "numpy"}
_LARGEST = 1.7976931348623157e308  # |v| <= this is False exactly when v is NaN or ±inf


# --- dispatch to the families, built from the registry -------------------------------
# Each _by_family_* calls family ``algorithm``'s function: a tree of small compiled
# closures (``_dispatch.by_code``) inlined into the loops. Built without exec, the tree
# compiles into the cached kernels like hand-written branches: a worker start loads
# them from the cache.

_FAMILIES = optimizers.FAMILIES
_by_family_step = by_code([f.kernel_step for f in _FAMILIES], compile=_inlined)
_by_family_schedule = by_code([f.kernel_schedule for f in _FAMILIES], compile=_inlined)
_by_family_init = by_code([f.kernel_init for f in _FAMILIES], compile=_inlined)
_by_family_eval_point = by_code([f.kernel_eval_point for f in _FAMILIES], compile=_inlined)
#: Per family, whether the point it records is not its iterate (Schedule-Free): the
#: others skip the dispatch and the second evaluation of f.
_HAS_EVAL_POINT = np.array([f.eval_point is not None for f in _FAMILIES])
#: Slots recorded per step with state=True: the named ones (not L-BFGS's history).
_RECORD_WIDTH = optimizers.RECORD_WIDTH
_STATE_WIDTHS = np.array([f.state_width for f in _FAMILIES], dtype=np.int64)
#: The family that calls the objective itself (L-BFGS: ``lbfgs.evaluating_step``).
_EVALUATING = optimizers.ALGORITHM_CODES["lbfgs"]
_evaluating_step = optimizers_lbfgs.evaluating_step
_evaluations = optimizers_lbfgs.evaluations
#: Per family, the table columns its per-step scalars depend on (padded with -1; a
#: family without such scalars has none): runs of one family that agree on these
#: columns share the scalars, which saves the ``pow`` calls of every run but the first.
_SCHEDULE_COLUMNS = np.full((len(_FAMILIES), max(
    max(len(f.schedule_columns) for f in _FAMILIES), 1)), -1, dtype=np.int64)
for _code, _family in enumerate(_FAMILIES):
    for _j, _name in enumerate(_family.schedule_columns):
        _SCHEDULE_COLUMNS[_code, _j] = _family.column(_name)


#: Per family, the table columns a scheduler sets before each step: lr, and momentum
#: (SGD's μ, the Adam family's β₁; -1 for a family without one).
_LR_COLUMN = np.array([f.column("lr") for f in _FAMILIES], dtype=np.int64)
_MOMENTUM_COLUMN = np.array([f.column("momentum") if "momentum" in f.hyper._fields else -1
                             for f in _FAMILIES], dtype=np.int64)


@numba.njit(**_JIT, inline="always")
def _has_schedule(algorithm):
    return _SCHEDULE_COLUMNS[algorithm, 0] >= 0


@numba.njit(**_JIT, inline="always")
def _same_schedule(algorithms, table, a, b):
    """Whether runs a and b share their per-step scalars: same family, same columns."""
    algorithm = algorithms[a]
    if algorithms[b] != algorithm:
        return False
    for j in range(_SCHEDULE_COLUMNS.shape[1]):  # indexed, not sliced (see _simulate_block)
        column = _SCHEDULE_COLUMNS[algorithm, j]
        if column >= 0 and table[a, column] != table[b, column]:
            return False
    return True


@numba.njit(**_JIT)
def _schedule_leaders(algorithms, table):
    """Per run, the first run whose per-step scalars it can use (itself if none)."""
    leader = np.arange(table.shape[0])
    for c in range(table.shape[0]):
        for d in range(c):
            if leader[d] == d and _same_schedule(algorithms, table, d, c):
                leader[c] = d
                break
    return leader


@numba.njit(**_JIT)
def _initial_states(algorithms, table):
    """``states[run, axis, slot]``, each family's ``Family.slots`` per coordinate."""
    # the widest family of this block's runs (L-BFGS's history is wide), and at least
    # the recorded width (state=True copies that many slots of every run)
    width = _RECORD_WIDTH
    for c in range(table.shape[0]):
        width = max(width, _STATE_WIDTHS[algorithms[c]])
    states = np.zeros((table.shape[0], 2, width))
    for c in range(table.shape[0]):
        _by_family_init(algorithms[c], states, c, table)
    return states


@numba.njit(**_JIT)
def _simulate_block(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms,
                    table, steps, loss, params, grads, record_path, lengths, diverged,
                    program_ops, program_first, program_second, program_slots,
                    program_outputs, state_record, grad_points, evals, schedule_lr,
                    schedule_momentum, scheduled, clip_max_norm, clip_norm_type,
                    clip_max_value):
    """Runs in lockstep (step k of every run, then k + 1), so that the CPU overlaps the
    independent runs' dependency chains. Fills ``loss`` (and ``params``, ``grads`` if
    ``record_path``) per run for steps 0.. until the run ends, and ``lengths`` (rows
    filled) and ``diverged`` (step it diverged at, or -1).

    The trailing ``program_*`` arrays are a typed surface's gradient program (f, ∂f/∂x,
    ∂f/∂y; ``Surface.program_args``), run when ``code`` is ``surfaces.PROGRAM``.

    ``state_record[run, k, axis, slot]`` gets the optimizer state after k steps
    (``states`` as the step from k starts), when it has a row per run (an empty
    array: nothing recorded). ``params`` and ``loss`` hold each family's recorded
    point (``Family.eval_point``, the iterate itself but for Schedule-Free) and f there;
    ``grad_points`` (if ``record_path``) the point where the gradient was taken: the
    iterate. ``evals[run, k]`` (if ``record_path``) gets the evaluations of f and ∇f
    made to reach x_k: k, but L-BFGS counts its own (it calls the objective in its
    step).

    With ``scheduled``, run c's step k uses lr ``schedule_lr[c, k]`` and momentum
    ``schedule_momentum[c, k]`` (written into its table row first, so that the per-step
    scalars follow β₁); the gradient is clipped (``clipping.clip_gradient``) unless both
    ``clip_max_norm`` and ``clip_max_value`` are inf."""
    n = starts.shape[0]
    record_state = state_record.shape[0] > 0
    slots = program_slots.copy()  # this block's scratch (sweep blocks run in parallel)
    xs = starts[:, 0].copy()
    ys = starts[:, 1].copy()
    states = _initial_states(algorithms, table)
    alive = np.ones(n, dtype=np.bool_)
    for c in range(n):
        lengths[c] = steps + 1
        diverged[c] = -1
        if record_path:
            evals[c, 0] = 0
    shared_batch = batches.shape[0] == 1
    # with a schedule the rows change per step (the caller's table is written: simulate
    # gives a fresh one), so every run computes its own per-step scalars
    leader = np.arange(n) if scheduled else _schedule_leaders(algorithms, table)
    clipped = clip_max_norm < math.inf or clip_max_value < math.inf
    step_scalars = np.zeros((n, 3))
    for k in range(steps + 1):
        if scheduled and k < steps:
            for c in range(n):
                table[c, _LR_COLUMN[algorithms[c]]] = schedule_lr[c, k]
                if _MOMENTUM_COLUMN[algorithms[c]] >= 0:
                    table[c, _MOMENTUM_COLUMN[algorithms[c]]] = schedule_momentum[c, k]
        batch = batches[0] if shared_batch else batches[k]
        noise_x, noise_y = noise_rows[k, 0], noise_rows[k, 1]
        step = float(k + 1)
        # the per-step scalars, once per leader, in a loop of their own: the pow calls
        # in the loop below made all of it 2.5× slower, even for runs that never call them
        for c in range(n):
            if leader[c] == c and _has_schedule(algorithms[c]):
                step_scalars[c, 0], step_scalars[c, 1], step_scalars[c, 2] = \
                    _by_family_schedule(algorithms[c], step, table, c)
        for c in range(n):
            if not alive[c]:
                continue
            x, y = xs[c], ys[c]
            at_x, at_y = x, y  # the point recorded, where f is evaluated
            moved = _HAS_EVAL_POINT[algorithms[c]]
            if moved:
                at_x, at_y = _by_family_eval_point(algorithms[c], step, x, y, states, c,
                                                   table)
            if code == _PROGRAM:
                _run_program(program_ops, program_first, program_second, slots, x, y)
                f = slots[program_outputs[0]]
                gx = slots[program_outputs[1]]
                gy = slots[program_outputs[2]]
                if moved:
                    _run_program(program_ops, program_first, program_second, slots, at_x,
                                 at_y)
                    f = slots[program_outputs[0]]
            else:
                gx, gy = _surface_grad(code, x, y, kappa, data_x, data_y, batch)
                f = _surface_value(code, at_x, at_y, kappa, data_x, data_y)
            gx = gx + noise_x
            gy = gy + noise_y
            if not (abs(gx) <= _LARGEST and abs(gy) <= _LARGEST and abs(f) <= _LARGEST):
                lengths[c] = k
                diverged[c] = k
                alive[c] = False
                continue
            if clipped:
                gx, gy = _clip_gradient(gx, gy, clip_max_norm, clip_norm_type, clip_max_value)
            loss[c, k] = f
            if record_path:
                params[c, k, 0] = at_x
                params[c, k, 1] = at_y
                grads[c, k, 0] = gx
                grads[c, k, 1] = gy
                grad_points[c, k, 0] = x
                grad_points[c, k, 1] = y
            if record_state:
                for axis in range(2):
                    for slot in range(_RECORD_WIDTH):
                        state_record[c, k, axis, slot] = states[c, axis, slot]
            if k == steps:
                continue
            own = leader[c]
            scalars = (step_scalars[own, 0], step_scalars[own, 1], step_scalars[own, 2])
            if algorithms[c] == _EVALUATING:
                x, y = _evaluating_step(x, y, states, c, table, code, kappa, data_x, data_y,
                                        batch, noise_x, noise_y, program_ops, program_first,
                                        program_second, slots, program_outputs)
            else:
                x, y = _by_family_step(algorithms[c], step, x, y, gx, gy, states, c, table,
                                       scalars)
            if record_path:
                evals[c, k + 1] = (_evaluations(states, c) if algorithms[c] == _EVALUATING
                                   else k + 1)
            if not (abs(x) <= _BOUND and abs(y) <= _BOUND):  # also False for NaN and inf
                lengths[c] = k + 1
                diverged[c] = k + 1
                alive[c] = False
                continue
            xs[c] = x
            ys[c] = y


@numba.njit(**_JIT)
def race_kernel(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms, table,
                steps, program_ops, program_first, program_second, program_slots,
                program_outputs, state_record, evals, schedule_lr, schedule_momentum,
                scheduled, clip_max_norm, clip_norm_type, clip_max_value):
    """Every run of a race, as one block (see ``simulate.race_numpy``); the state is
    recorded into ``state_record`` (runs, steps + 1, 2, RECORD_WIDTH) unless it is
    empty; fills ``evals`` (runs, steps + 1), as the NumPy path does."""
    n_runs = starts.shape[0]
    params = np.empty((n_runs, steps + 1, 2))
    loss = np.empty((n_runs, steps + 1))
    grads = np.empty((n_runs, steps + 1, 2))
    lengths = np.empty(n_runs, dtype=np.int64)
    diverged = np.empty(n_runs, dtype=np.int64)
    grad_points = np.empty((n_runs, steps + 1, 2))
    _simulate_block(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms,
                    table, steps, loss, params, grads, True, lengths, diverged,
                    program_ops, program_first, program_second, program_slots,
                    program_outputs, state_record, grad_points, evals, schedule_lr,
                    schedule_momentum, scheduled, clip_max_norm, clip_norm_type,
                    clip_max_value)
    for r in range(n_runs):
        n = lengths[r]
        for k in range(n, steps + 1):
            params[r, k] = params[r, n - 1]
            loss[r, k] = loss[r, n - 1]
            grads[r, k] = grads[r, n - 1]
            grad_points[r, k] = grad_points[r, n - 1]
            evals[r, k] = evals[r, n - 1]
    return params, loss, grads, lengths, diverged, grad_points


SWEEP_BLOCK = 16  # runs stepped together by one thread of the sweep


@numba.njit(**_JIT, parallel=True)
def sweep_kernel(code, kappa, data_x, data_y, batches, noise_rows, start, algorithms, table,
                 steps, f_min, tolerance, samples, program_ops, program_first,
                 program_second, program_slots, program_outputs):
    """Metrics of many runs from one start, in parallel, without keeping their paths:
    (final loss, first step within ``tolerance`` of f_min or -1, measured rate or NaN,
    step diverged at or -1) per run, as ``sweep.sweep_numpy`` computes them."""
    n = table.shape[0]
    final_loss = np.empty(n)
    hit = np.empty(n, dtype=np.int64)
    rate = np.empty(n)
    diverged = np.empty(n, dtype=np.int64)
    unused = np.empty((1, 1, 2))
    no_state = np.empty((0, 1, 2, _RECORD_WIDTH))
    no_evals = np.empty((1, 1), dtype=np.int64)
    no_schedule = np.empty((1, 1))  # sweeps race a constant schedule, unclipped
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
                        False, lengths, diverged[begin:end], program_ops, program_first,
                        program_second, program_slots, program_outputs, no_state, unused,
                        no_evals, no_schedule, no_schedule, False, math.inf, 2.0,
                        math.inf)
        for i in range(end - begin):
            c = begin + i
            final_loss[c] = loss[i, lengths[i] - 1]
            hit[c] = _first_within(loss[i], lengths[i], f_min, tolerance)
            rate[c] = (_rate_of(loss[i], lengths[i], f_min, samples) if diverged[c] < 0
                       else np.nan)
    return final_loss, hit, rate, diverged
