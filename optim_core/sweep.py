"""Phase diagrams: one optimizer over a log-lr × momentum grid, metrics per cell.

:func:`sweep` runs every cell of the grid from the same start with the same noise and
mini-batches (common random numbers), through the batched engine: the compiled kernel
runs all cells of a chunk of rows in parallel and keeps no paths, only per-cell
metrics. The NumPy path (``backend="numpy"``) steps the same cells with the reference
optimizers and gives identical numbers.

Grids are cell-centred: R learning rates evenly spaced in log10 between the range's
ends and M momenta evenly spaced between its ends, each at the centre of its cell, so
a heatmap cell is exactly the interval it stands for (and μ never hits 0, which torch
forbids for Nesterov).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .analysis import TOLERANCE, first_within
from .backends import choose_backend
from .export import csv_cell
from .optimizers import HYPERPARAMETERS, OPTIMIZERS
from .params import InvalidParameterError, check_params, check_sweep_work
from .rules import check_data_rules
from .simulate import SHARED_HYPERPARAMETERS, Run, hyper_table, race_numpy, resolve_runs
from .stochastic import batch_table, noise_table
from .surfaces import Surface, get_surface
from .theory import rate_or_nan

RATE_SAMPLES = 64
CHUNKS = 16  # progress is reported (and cancellation checked) this many times


class SweepCancelled(Exception):
    """Raised when ``cancelled()`` turned true while a sweep ran."""


@dataclass(frozen=True)
class Sweep:
    """A sweep's grid and per-cell metrics; arrays are (momenta, lrs) = (rows, columns)."""

    surface: Surface
    optimizer: str
    steps: int
    start: tuple[float, float]
    lrs: np.ndarray
    momenta: np.ndarray
    hyperparameters: dict  # the fixed ones (lr and momentum vary over the grid)
    noise: float
    batch_size: int | None
    seed: int
    tolerance: float
    final_loss: np.ndarray  # at the last finite step
    steps_to_tolerance: np.ndarray  # -1: never
    rate: np.ndarray  # NaN: diverged, or too few steps to fit
    diverged_at: np.ndarray  # -1: did not diverge

    @property
    def takes_momentum(self) -> bool:
        return "momentum" in OPTIMIZERS[self.optimizer].defaults


def cell_centres(low: float, high: float, count: int, log: bool) -> np.ndarray:
    if log:
        low, high = math.log10(low), math.log10(high)
    centres = low + (np.arange(count) + 0.5) * (high - low) / count
    return 10.0**centres if log else centres


def sweep(surface: str | Surface = "ravine", optimizer: str = "momentum", *,
          steps: int = 500, resolution: int = 128, lr_range=(None, None),
          momentum_range=(0.0, 0.999), start=None, kappa: float = 25.0,
          points: int | None = None, noise: float = 0.0, batch_size: int | None = None,
          seed: int = 0, tolerance: float = TOLERANCE, backend: str = "auto",
          progress: Callable[[int, int], None] | None = None,
          cancelled: Callable[[], bool] | None = None, f: str | None = None, window=None,
          **hyperparameters) -> Sweep:
    """Sweep ``optimizer`` over a ``resolution``² grid of (lr, momentum) on ``surface``.

    Args:
        steps: steps per cell, at most ``LIMITS['sweep_steps']``.
        resolution: cells per axis, 2..``LIMITS['sweep_resolution']``.
        lr_range: (lowest, highest) lr, log-spaced; None ends take the surface default.
        momentum_range: (lowest, highest) momentum (β1 for the Adam family), in [0, 1).
        progress: called as progress(cells done, cells in all) after each chunk.
        cancelled: polled between chunks; when it returns True the sweep raises
            :class:`SweepCancelled`.
        Other arguments as :func:`optim_core.simulate`; ``**hyperparameters`` fix the
        optimizer's other hyperparameters (lr and momentum are the grid's).
    """
    if not isinstance(surface, Surface):
        surface = get_surface(surface, kappa=kappa, points=points, seed=seed, f=f,
                              window=window)
    default_low, default_high = surface.lr_range
    lr_low = default_low if lr_range[0] is None else lr_range[0]
    lr_high = default_high if lr_range[1] is None else lr_range[1]
    clean = check_params("sweep", {
        "optimizer": optimizer, "sweep_steps": steps, "resolution": resolution,
        "lr_min": lr_low, "lr_max": lr_high, "momentum_min": momentum_range[0],
        "momentum_max": momentum_range[1], "noise": noise, "seed": seed,
        "batch_size": batch_size, "tolerance": tolerance})
    for low, high, name in ((clean["lr_min"], clean["lr_max"], "lr_min"),
                            (clean["momentum_min"], clean["momentum_max"], "momentum_min")):
        if not low < high:
            raise InvalidParameterError(
                f"The {name!r} parameter of sweep must be below its maximum ({high!r}). "
                f"Got {low!r} instead.", parameter=name, caller="sweep",
                allowed=f"a value below {high!r}", got=low)
    for name in SHARED_HYPERPARAMETERS:
        if name in hyperparameters:
            raise InvalidParameterError(
                f"sweep varies {name!r} over its grid; set {name}_range instead.",
                parameter=name, caller="sweep", allowed="not given", got=hyperparameters[name])
    check_data_rules(surface, clean["sweep_steps"], clean["batch_size"], "sweep")
    use_numba = choose_backend(backend, "sweep") == "numba"
    check_sweep_work("sweep", resolution, steps, surface.n_points, clean["batch_size"])
    base = resolve_runs([optimizer], hyperparameters,
                        surface.default_start if start is None else start)[0]
    takes_momentum = "momentum" in OPTIMIZERS[optimizer].defaults
    lrs = cell_centres(clean["lr_min"], clean["lr_max"], resolution, log=True)
    momenta = cell_centres(clean["momentum_min"], clean["momentum_max"], resolution, log=False)
    rows = momenta if takes_momentum else momenta[:1]  # without momentum, rows are equal

    algorithms, table = hyper_table([base])
    family = OPTIMIZERS[optimizer].family
    table = np.repeat(table, len(rows) * resolution, axis=0)
    table[:, family.column("lr")] = np.tile(lrs, len(rows))
    if takes_momentum:
        table[:, family.column("momentum")] = np.repeat(rows, resolution)
    algorithms = np.repeat(algorithms, table.shape[0])

    noise_rows = noise_table(clean["noise"], steps, clean["seed"])
    batches = batch_table(surface.n_points, clean["batch_size"], steps, clean["seed"])
    metrics = [np.empty(table.shape[0]), np.empty(table.shape[0], dtype=np.int64),
               np.empty(table.shape[0]), np.empty(table.shape[0], dtype=np.int64)]
    bounds = np.linspace(0, len(rows), min(CHUNKS, len(rows)) + 1).astype(int) * resolution
    for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
        if cancelled is not None and cancelled():
            raise SweepCancelled("the sweep was cancelled")
        args = (surface.code, surface.kappa, surface.data_x, surface.data_y, batches,
                noise_rows, np.array(base.start), algorithms[begin:end], table[begin:end],
                steps, surface.f_min, clean["tolerance"], RATE_SAMPLES,
                *surface.program_args())
        if use_numba:
            from . import _kernels

            chunk = _kernels.sweep_kernel(*args)
        else:
            chunk = sweep_numpy(*args, base=base)
        for metric, values in zip(metrics, chunk, strict=True):
            metric[begin:end] = values
        if progress is not None:
            progress(int(end), table.shape[0])

    shape = (len(rows), resolution)
    final_loss, hit, rate, diverged = (m.reshape(shape) for m in metrics)
    if not takes_momentum:
        final_loss, hit, rate, diverged = (np.repeat(m, resolution, axis=0)
                                           for m in (final_loss, hit, rate, diverged))
    fixed = {k: v for k, v in base.hyperparameters.items() if k not in SHARED_HYPERPARAMETERS}
    return Sweep(surface, optimizer, steps, base.start, lrs, momenta, fixed, clean["noise"],
                 clean["batch_size"], clean["seed"], clean["tolerance"], final_loss, hit,
                 rate, diverged)


def sweep_numpy(code, kappa, data_x, data_y, batches, noise_rows, start, algorithms, table,
                steps, f_min, tolerance, samples, *program, base: Run):
    """The NumPy reference of ``_kernels.sweep_kernel``: same cells, same metrics."""
    family = OPTIMIZERS[base.optimizer].family
    grid = ["lr"] + (["momentum"] if "momentum" in base.hyperparameters else [])
    runs = [replace(base, hyperparameters={
        **base.hyperparameters, **{name: float(row[family.column(name)]) for name in grid}},
        row=None) for row in table]
    starts = np.repeat(np.asarray(start, dtype=np.float64)[None, :], len(runs), axis=0)
    _, loss, _, lengths, diverged, _ = race_numpy(code, kappa, data_x, data_y, batches,
                                               noise_rows, starts, algorithms, table, steps,
                                               *program, runs=runs)
    final_loss = loss[np.arange(len(runs)), lengths - 1]
    hit = np.array([first_within(loss[i], lengths[i], f_min, tolerance)
                    for i in range(len(runs))], dtype=np.int64)
    rate = np.array([rate_or_nan(loss[i], lengths[i], f_min, samples) if diverged[i] < 0
                     else math.nan for i in range(len(runs))])
    return final_loss, hit, rate, diverged


SWEEP_COLUMNS = ("surface", "optimizer", "lr", "momentum", "final_loss", "steps_to_tolerance",
                 "rate", "diverged_at", "steps", "tolerance", "x0", "y0", "kappa", "points",
                 "batch_size", "noise", "seed", "f")


def sweep_to_csv(result: Sweep) -> str:
    """One row per cell (momentum-major); empty cells mean never / undefined / n.a."""
    others = [h for h in HYPERPARAMETERS
              if h not in SHARED_HYPERPARAMETERS and h in result.hyperparameters]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(SWEEP_COLUMNS) + others)
    surface = result.surface
    fixed = [result.steps, repr(result.tolerance), repr(float(result.start[0])),
             repr(float(result.start[1])),
             repr(surface.kappa) if surface.name == "ravine" else "",
             "" if surface.points is None else surface.points,
             "" if result.batch_size is None else result.batch_size, repr(float(result.noise)),
             result.seed, surface.f or ""]
    fixed += [csv_cell(result.hyperparameters[h]) for h in others]
    for i, momentum in enumerate(result.momenta):
        for j, lr in enumerate(result.lrs):
            hit, div, rate = (result.steps_to_tolerance[i, j], result.diverged_at[i, j],
                              result.rate[i, j])
            writer.writerow([surface.name, result.optimizer, repr(float(lr)),
                             repr(float(momentum)) if result.takes_momentum else "",
                             repr(float(result.final_loss[i, j])),
                             "" if hit < 0 else int(hit),
                             "" if math.isnan(rate) else repr(float(rate)),
                             "" if div < 0 else int(div), *fixed])
    return buffer.getvalue()


__all__ = ["Sweep", "SweepCancelled", "cell_centres", "sweep", "sweep_to_csv"]
