"""Simulate a race: many optimizers, hyperparameters and starts on one surface, at once.

:func:`simulate` is the public entry. It validates everything at the boundary, then
runs either the compiled kernel (``backend="numba"``, the default when numba imports)
or the NumPy reference path (``backend="numpy"``); both give bit-identical results.

Per step k = 0..steps, for every run: the gradient the optimizer receives at x_k is
the surface's gradient (over mini-batch k for ``regression``) plus noise row k; the
row recorded for step k holds x_k, the full-batch loss f(x_k) and that gradient; then
one optimizer step gives x_{k+1}. A run is cut at the first step whose parameters are
non-finite or exceed ``DIVERGENCE_BOUND`` in absolute value (or whose loss or gradient
is non-finite): it keeps its rows up to the last finite step and records the step at
which it diverged. Nothing non-finite is ever returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import clipping, schedules
from .backends import choose_backend
from .clipping import clip_gradient
from .expression import evaluate_tape
from .optimizers import (
    ALGORITHM_CODES,
    FAMILY_MODULES,
    HYPERPARAMETERS,
    OPTIMIZERS,
    RECORD_WIDTH,
    TABLE_WIDTH,
    lbfgs,
    make_optimizer,
)
from .params import (
    DIVERGENCE_BOUND,
    LIMITS,
    InvalidParameterError,
    check_params,
    check_race_work,
)
from .rules import check_data_rules
from .stochastic import batch_table, noise_table
from .surfaces import PROGRAM, Surface, get_surface, surface_grad, surface_value

#: The two hyperparameters a race sets for every racer at once: the app's sliders, a
#: phase diagram's axes, the tuner's search. A racer may still give its own.
SHARED_HYPERPARAMETERS = ("lr", "momentum")


@dataclass(frozen=True)
class Run:
    """One optimizer in a race, with its own hyperparameters and start if it has any."""

    optimizer: str
    hyperparameters: dict = field(default_factory=dict)
    start: tuple[float, float] | None = None
    #: its family's hyperparameter NamedTuple, as :func:`resolve_runs` made it (the
    #: kernel's table row; kept so that the row is not validated twice)
    row: tuple | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Trajectory:
    """One run's path: rows for steps 0..n−1, all finite."""

    optimizer: str
    hyperparameters: dict
    start: tuple[float, float]
    params: np.ndarray  # (n, 2)
    loss: np.ndarray  # (n,)
    grads: np.ndarray  # (n, 2)
    diverged_at: int | None  # the step whose parameters blew up, if any
    #: ``simulate(..., state=True)``: torch's ``optimizer.state[p]`` after k steps, one
    #: (n,) float64 array per state column (``momentum_buffer_x``, ``state_step``...; the
    #: family's ``Family.state_columns``), NaN where torch holds no such state
    state: dict[str, np.ndarray] | None = None
    #: (n, 2) where each gradient was taken, for optimizers that record another point
    #: (Schedule-Free: ``params`` is the evaluation point, these the train-mode iterate y);
    #: None for the others, whose gradient is taken at ``params``
    grad_points: np.ndarray | None = None
    #: (n,) int64: evals[k] = evaluations of f and ∇f made to reach x_k, cumulative
    #: (evals[0] = 0; k for one gradient per step; L-BFGS counts its line search and
    #: inner iterations, torch's state["func_evals"]). The evaluation at x_k that the
    #: row records is step k's first, counted in evals[k + 1].
    evals: np.ndarray = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.evals is None:  # built without a count: one gradient per step
            object.__setattr__(self, "evals", np.arange(len(self.loss), dtype=np.int64))
    #: (steps,): the lr and μ (β₁) the step from x_k to x_{k+1} used (the schedule's);
    #: step_momentum is None for an optimizer without momentum
    step_lr: np.ndarray | None = field(default=None, repr=False)
    step_momentum: np.ndarray | None = field(default=None, repr=False)

    @property
    def last_step(self) -> int:
        return len(self.loss) - 1

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])


@dataclass(frozen=True)
class Race:
    """The result of :func:`simulate`."""

    surface: Surface
    steps: int
    noise: float
    batch_size: int | None
    seed: int
    runs: tuple[Trajectory, ...]
    scheduler: str = "constant"
    #: the scheduler's complete parameters (``schedules.check_schedule``)
    schedule: dict = field(default_factory=dict)
    #: clip_grad_norm, clip_norm_type, clip_grad_value (None: no clipping)
    clip: dict = field(default_factory=lambda: dict(clipping.CLIP_DEFAULTS))

    def settings(self) -> dict:
        """The surface settings of this race, under their shared names."""
        return {"surface": self.surface.name,
                "kappa": self.surface.kappa if self.surface.name == "ravine" else None,
                "points": self.surface.points, "batch_size": self.batch_size,
                "noise": self.noise, "seed": self.seed, "steps": self.steps,
                "f": self.surface.f, "scheduler": self.scheduler, **self.schedule,
                **self.clip}


def resolve_runs(optimizers, shared: dict, start) -> list[Run]:
    """Each run's complete hyperparameters: defaults, then shared values, then its own.

    A shared value applies to the optimizers that take it (the μ slider means β1 for
    Adam and nothing for SGD); a run's own value must be one its optimizer takes.
    """
    unknown = sorted(set(shared) - set(HYPERPARAMETERS))
    if unknown:
        raise InvalidParameterError(
            f"simulate got an unexpected parameter {unknown[0]!r}. Hyperparameters are: "
            + ", ".join(HYPERPARAMETERS) + ".", parameter=unknown[0], caller="simulate",
            allowed=", ".join(HYPERPARAMETERS), got=shared[unknown[0]])
    runs = []
    for entry in optimizers:
        run = entry if isinstance(entry, Run) else Run(entry)
        check_params("simulate", {"optimizer": run.optimizer})
        spec = OPTIMIZERS[run.optimizer]
        hyper = dict(spec.defaults)
        hyper.update({k: v for k, v in shared.items() if k in spec.defaults})
        hyper.update(run.hyperparameters)
        # validates names and values (and nesterov's momentum > 0) like the factories
        optimizer = make_optimizer(run.optimizer, **hyper)
        clean = {k: optimizer.hyperparameters[k] for k in spec.defaults}
        runs.append(Run(run.optimizer, clean, _check_start(run.start or start),
                        optimizer.hyper))
    if not runs:
        raise InvalidParameterError(
            "simulate needs at least one optimizer. Got none.", parameter="optimizer",
            caller="simulate", allowed="one or more optimizer names", got=[])
    if len(runs) > LIMITS["runs"]:
        raise InvalidParameterError(
            f"simulate takes at most {LIMITS['runs']} runs. Got {len(runs)} instead.",
            parameter="optimizer", caller="simulate",
            allowed=f"at most {LIMITS['runs']} runs", got=len(runs))
    return runs


def evaluations_per_step(runs: list[Run]) -> int:
    """The most evaluations of f and ∇f one step of these runs makes, summed (one a run,
    L-BFGS up to max_eval + 2): what the race's work bound counts."""
    return sum(OPTIMIZERS[run.optimizer].family.max_evaluations(run.row) for run in runs)


def _check_start(start) -> tuple[float, float]:
    try:
        x0, y0 = start
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"The 'start' parameter of simulate must be a pair (x0, y0). Got {start!r} "
            "instead.", parameter="start", caller="simulate", allowed="a pair (x0, y0)",
            got=start) from None
    clean = check_params("simulate", {"x0": x0, "y0": y0})
    return clean["x0"], clean["y0"]


def hyper_table(runs: list[Run]) -> tuple[np.ndarray, np.ndarray]:
    """(family code per run, table of hyperparameters per run) for the kernels.

    Row i holds run i's family's hyperparameter NamedTuple as its optimizer computes
    with it (``Family.effective`` applied, the name's fixed values included), in the
    order of ``Family.columns``; flags are 0.0 or 1.0, unused columns 0."""
    algorithms = np.array([ALGORITHM_CODES[OPTIMIZERS[r.optimizer].algorithm] for r in runs],
                          dtype=np.int64)
    table = np.zeros((len(runs), TABLE_WIDTH))
    for i, run in enumerate(runs):
        row = run.row or make_optimizer(run.optimizer, **run.hyperparameters).hyper
        table[i, :len(row)] = [float(value) for value in row]
    return algorithms, table


def simulate(surface: str | Surface = "ravine",
             optimizers=("sgd", "momentum", "nesterov", "adam"), *, steps: int = 100,
             start=None, kappa: float = 25.0, points: int | None = None, noise: float = 0.0,
             batch_size: int | None = None, seed: int = 0, backend: str = "auto",
             f: str | None = None, window=None, state: bool = False,
             scheduler: str = "constant", clip_grad_norm: float | None = None,
             clip_norm_type: float = 2.0, clip_grad_value: float | None = None,
             **hyperparameters) -> Race:
    """Race ``optimizers`` on ``surface`` for ``steps`` steps, all at once.

    Args:
        surface: a surface name or a :class:`Surface` (then kappa/points are its own).
        optimizers: names, or :class:`Run` objects carrying per-run hyperparameters and
            starts.
        steps: optimizer steps per run (rows 0..steps).
        start: (x0, y0) for runs without their own; default the surface's.
        kappa, points: surface options (ravine's κ; regression's dataset size).
        f, window: surface ``custom``: f(x, y) as typed, and its map window
            (x_min, x_max, y_min, y_max) or None (see :func:`get_surface`).
        noise: σ of Gaussian noise added to every gradient.
        batch_size: regression only: points per mini-batch (default: full batch).
        seed: seeds the noise, the mini-batches and the regression dataset.
        backend: "numba", "numpy" or "auto".
        state: also record each run's optimizer state after every step
            (``Trajectory.state``).
        scheduler: a ``torch.optim.lr_scheduler`` name of ``schedules.SCHEDULERS``
            (``constant``, ``step``, ``onecycle``, …), stepped after every step; its
            parameters (torch's names: ``gamma``, ``T_max``, ``max_lr``, …) are passed
            as keywords here too.
        clip_grad_norm, clip_norm_type, clip_grad_value: ``torch.nn.utils``'
            clip_grad_norm_(max_norm, norm_type) and clip_grad_value_ of the gradient
            (noise included) before every step; None: off.
        **hyperparameters: shared values (lr, momentum, ...) for every optimizer that
            takes them, and the scheduler's parameters.

    Returns:
        a :class:`Race` with one :class:`Trajectory` per run, in order.
    """
    if not isinstance(surface, Surface):
        surface = get_surface(surface, kappa=kappa, points=points, seed=seed, f=f,
                              window=window)
    clean = check_params("simulate", {"steps": steps, "noise": noise, "seed": seed,
                                      "batch_size": batch_size})
    steps, noise, seed = clean["steps"], clean["noise"], clean["seed"]
    check_data_rules(surface, steps, clean["batch_size"], "simulate")
    backend = choose_backend(backend, "simulate")
    batch_size = clean["batch_size"]
    # a name both a scheduler and an optimizer take (warmup_steps: warmup-cosine's and
    # Schedule-Free's) is the scheduler's if it takes it, and stays a shared value too
    takes = schedules.parameters_of(scheduler)
    schedule = schedules.check_schedule("simulate", scheduler, {
        name: (hyperparameters[name] if name in HYPERPARAMETERS else hyperparameters.pop(name))
        for name in schedules.SCHEDULER_PARAMETERS
        if name in hyperparameters and (name in takes or name not in HYPERPARAMETERS)}, steps)
    clip = check_params("simulate", {"clip_grad_norm": clip_grad_norm,
                                     "clip_norm_type": clip_norm_type,
                                     "clip_grad_value": clip_grad_value})
    runs = resolve_runs(optimizers, hyperparameters,
                        surface.default_start if start is None else start)
    check_race_work("simulate", evaluations_per_step(runs), steps, surface.n_points,
                    batch_size)

    lr_rows, momentum_rows, takes_momentum = _schedule_rows(runs, scheduler, schedule, steps)
    state_record = np.empty((len(runs) if state else 0, steps + 1, 2, RECORD_WIDTH))
    arrays = _simulate_arrays(surface, runs, steps, noise, batch_size, seed, backend,
                              state_record, lr_rows, momentum_rows, scheduler != "constant",
                              clipping.clip_bounds(clip))
    params, loss, grads, lengths, diverged, grad_points, evals = arrays
    trajectories = tuple(
        Trajectory(run.optimizer, run.hyperparameters, run.start,
                   params[i, :lengths[i]], loss[i, :lengths[i]], grads[i, :lengths[i]],
                   int(diverged[i]) if diverged[i] >= 0 else None,
                   state=OPTIMIZERS[run.optimizer].family.state_of(
                       run.row, state_record[i, :lengths[i]]) if state else None,
                   grad_points=grad_points[i, :lengths[i]]
                   if OPTIMIZERS[run.optimizer].family.eval_point else None,
                   evals=evals[i, :lengths[i]], step_lr=lr_rows[i],
                   step_momentum=momentum_rows[i] if takes_momentum[i] else None)
        for i, run in enumerate(runs))
    return Race(surface, steps, noise, batch_size, seed, trajectories, scheduler, schedule,
                clip)


def _schedule_rows(runs, scheduler, schedule, steps):
    """(lr_rows, momentum_rows, takes_momentum): each run's lr and μ per step, from its
    effective hyperparameters (its table row) and the schedule."""
    rows = [run.row or make_optimizer(run.optimizer, **run.hyperparameters).hyper
            for run in runs]
    takes_momentum = ["momentum" in OPTIMIZERS[run.optimizer].defaults for run in runs]
    run_momentum = [float(getattr(row, "momentum", 0.0)) for row in rows]
    lr_rows, momentum_rows = schedules.schedule_rows(
        scheduler, schedule, [float(row.lr) for row in rows], run_momentum, takes_momentum,
        steps)
    return lr_rows, momentum_rows, takes_momentum


def _simulate_arrays(surface, runs, steps, noise, batch_size, seed, backend,
                     state_record=None, lr_rows=None, momentum_rows=None, scheduled=False,
                     clip_bounds=(math.inf, 2.0, math.inf)):
    starts = np.array([run.start for run in runs], dtype=np.float64)
    algorithms, table = hyper_table(runs)
    noise_rows = noise_table(noise, steps, seed)
    batches = batch_table(surface.n_points, batch_size, steps, seed)
    args = (surface.code, surface.kappa, surface.data_x, surface.data_y, batches,
            noise_rows, starts, algorithms, table, steps, *surface.program_args())
    training = (*_schedule_args(lr_rows, momentum_rows, scheduled), *clip_bounds)
    if state_record is None:
        state_record = np.empty((0, steps + 1, 2, RECORD_WIDTH))
    evals = np.zeros((len(runs), steps + 1), dtype=np.int64)
    if backend == "numpy":
        return (*race_numpy(*args, *training, runs=runs, state_record=state_record,
                            evals=evals), evals)
    from . import _kernels

    return (*_kernels.race_kernel(*args, state_record, evals, *training), evals)


def _schedule_args(lr_rows, momentum_rows, scheduled):
    """The kernels' (schedule_lr, schedule_momentum, scheduled): unused rows without one."""
    if not scheduled:
        return np.empty((1, 1)), np.empty((1, 1)), False
    return lr_rows, momentum_rows, True


def race_numpy(code, kappa, data_x, data_y, batches, noise_rows, starts, algorithms, table,
               steps, program_ops, program_first, program_second, program_slots,
               program_outputs, schedule_lr=None, schedule_momentum=None, scheduled=False,
               clip_max_norm=math.inf, clip_norm_type=2.0, clip_max_value=math.inf, *,
               runs, state_record=None, evals=None):
    """The NumPy reference path: the public optimizers stepped together, one group each.
    The ``program_*`` arrays are a typed surface's gradient program, as the kernels take
    them (``Surface.program_args``); the schedule and clipping arguments are the
    kernels' too (see ``_kernels._simulate_block``). ``state_record`` (runs, steps + 1,
    2, RECORD_WIDTH), unless None or empty, gets each run's state after k steps, as the
    kernel's. L-BFGS, which calls the objective in its step, runs its family's
    ``evaluating_step`` uncompiled, run by run (the kernels' code). ``evals`` (runs,
    steps + 1), if given, gets the evaluations made to reach x_k.

    Returns (params, loss, grads, lengths, diverged_at, grad_points) padded to steps + 1
    rows; rows past a run's length repeat its last finite row. ``params`` and ``loss``
    are at each optimizer's recorded point (``Optimizer.eval_point``, else its
    parameters), ``grad_points`` where the gradient was taken.
    """
    n_runs = len(runs)
    params = np.empty((n_runs, steps + 1, 2))
    loss = np.empty((n_runs, steps + 1))
    grads = np.empty((n_runs, steps + 1, 2))
    grad_points = np.empty((n_runs, steps + 1, 2))
    lengths = np.full(n_runs, steps + 1, dtype=np.int64)
    diverged = np.full(n_runs, -1, dtype=np.int64)
    alive = np.ones(n_runs, dtype=bool)

    evaluating = algorithms == ALGORITHM_CODES["lbfgs"]
    lbfgs_states = np.zeros((n_runs, 2, lbfgs.FAMILY.state_width))
    evals = np.zeros((n_runs, steps + 1), dtype=np.int64) if evals is None else evals
    slots = program_slots.copy()
    groups = {}  # runs that share an optimizer and its flags step together
    for i, run in enumerate(runs):
        if evaluating[i]:
            continue
        flags = tuple(sorted((k, v) for k, v in run.hyperparameters.items()
                             if isinstance(v, (bool, str))))
        groups.setdefault((run.optimizer, flags), []).append(i)
    steppers = []
    for (name, flags), index in groups.items():
        index = np.array(index)
        floats = {k: np.array([runs[i].hyperparameters[k] for i in index])
                  for k in runs[index[0]].hyperparameters if k not in dict(flags)}
        optimizer = make_optimizer(name, **floats, **dict(flags))
        steppers.append((index, optimizer, optimizer.init(starts[index])))
    clipped = clip_max_norm < math.inf or clip_max_value < math.inf

    current = starts.copy()
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            batch = batches[k if batches.shape[0] > 1 else 0]
            if code == PROGRAM:
                f, gx, gy = evaluate_tape(program_ops, program_first, program_second,
                                          program_slots, program_outputs, current[:, 0],
                                          current[:, 1])
            else:
                gx, gy = surface_grad(code, current[:, 0], current[:, 1], kappa, data_x,
                                      data_y, batch)
                f = surface_value(code, current[:, 0], current[:, 1], kappa, data_x, data_y)
            point = _recorded_points(current, steppers)
            if point is not current:  # f where Schedule-Free reports: its evaluation point
                f = (evaluate_tape(program_ops, program_first, program_second, program_slots,
                                   program_outputs, point[:, 0], point[:, 1])[0]
                     if code == PROGRAM else
                     surface_value(code, point[:, 0], point[:, 1], kappa, data_x, data_y))
            g = np.stack([gx, gy], axis=1) + noise_rows[k]
            bad = alive & ~(np.isfinite(g).all(axis=1) & np.isfinite(f))
            _cut(bad, k, lengths, diverged, alive)
            if clipped:
                g = np.stack(clip_gradient(g[:, 0], g[:, 1], clip_max_norm, clip_norm_type,
                                           clip_max_value), axis=1)
            params[alive, k], loss[alive, k], grads[alive, k] = point[alive], f[alive], g[alive]
            grad_points[alive, k] = current[alive]
            if state_record is not None and len(state_record):
                for index, _, state in steppers:
                    _record_state(state_record, index, k, state)
                named = len(lbfgs.FAMILY.slots)  # L-BFGS's named slots, not its history
                state_record[evaluating, k, :, :named] = lbfgs_states[evaluating, :, :named]
            if k == steps:
                break
            new = current.copy()
            for j, (index, optimizer, state) in enumerate(steppers):
                if scheduled:
                    new[index], state = _scheduled_update(
                        optimizer, g[index], state, current[index], schedule_lr[index, k],
                        schedule_momentum[index, k])
                else:
                    new[index], state = optimizer.update(g[index], state, current[index])
                steppers[j] = (index, optimizer, state)
            for i in np.flatnonzero(evaluating & alive):
                new[i] = lbfgs.evaluating_step(
                    current[i, 0], current[i, 1], lbfgs_states, i, table, code, kappa,
                    data_x, data_y, batch, noise_rows[k, 0], noise_rows[k, 1], program_ops,
                    program_first, program_second, slots, program_outputs)
            evals[:, k + 1] = [lbfgs.evaluations(lbfgs_states, i) if evaluating[i] else k + 1
                               for i in range(n_runs)]
            blown = alive & ~(np.isfinite(new).all(axis=1)
                              & (np.abs(new) <= DIVERGENCE_BOUND).all(axis=1))
            _cut(blown, k + 1, lengths, diverged, alive)
            current = np.where(alive[:, None], new, current)
    for i in range(n_runs):  # pad with the last finite row
        n = lengths[i]
        params[i, n:], loss[i, n:], grads[i, n:] = params[i, n - 1], loss[i, n - 1], grads[i, n - 1]
        grad_points[i, n:] = grad_points[i, n - 1]
        evals[i, n:] = evals[i, n - 1]
    return params, loss, grads, lengths, diverged, grad_points


def _recorded_points(current, steppers):
    """The point each run records (``current`` itself when every optimizer records its
    parameters)."""
    moved = [(index, optimizer, state) for index, optimizer, state in steppers
             if optimizer.eval_point is not None]
    if not moved:
        return current
    point = current.copy()
    for index, optimizer, state in moved:
        point[index] = optimizer.eval_point(current[index], state)
    return point


def _record_state(state_record, index, k, state):
    """Write a group's state NamedTuple (its fields after ``count``, as the kernel's
    slots) into row k of its runs; a per-run scalar (runs, 1) goes to both axes."""
    for slot, value in enumerate(state[1:]):
        state_record[index, k, :, slot] = np.broadcast_to(value, (len(index), 2))


def _scheduled_update(optimizer, grads, state, params, lr, momentum):
    """``optimizer.update`` with this step's lr and momentum (per run, as the kernel
    writes them into the table row)."""
    hyper = optimizer.hyper._replace(lr=lr[:, None])
    if "momentum" in hyper._fields:
        hyper = hyper._replace(momentum=momentum[:, None])
    family = OPTIMIZERS[optimizer.name].family
    module = FAMILY_MODULES[ALGORITHM_CODES[family.name]]
    return module.update(grads, state, params, hyper)


def _cut(mask, step, lengths, diverged, alive):
    lengths[mask] = step
    diverged[mask] = step
    alive &= ~mask

