"""A fair race: each optimizer's own lr (and μ / β₁) chosen in the open by the sweep engine.

:func:`tune` sweeps every optimizer of a race over a log-lr grid (× a momentum grid
where it takes ``momentum``: μ for SGD and RMSprop, β₁ for the Adam family) on the
race's surface, start, noise and budget, with :func:`optim_core.sweep.sweep`, and picks
per optimizer the cell that is best by one stated criterion (:data:`CRITERIA`):

- ``final-loss``: the lowest loss after the race's steps;
- ``steps-to-tol``: the fewest steps to within ``TOLERANCE`` (1e-6) of f_min (ties, and
  optimizers that never get there, by the final loss);
- ``loss-at-evals``: the lowest loss after a fixed number of gradient evaluations.

Diverged cells never win. Each result states the values found, the criterion, the grid
searched, the metric achieved and how sensitive it is: the lr range (at the tuned
momentum) whose loss gap above f_min is within ``SENSITIVITY`` (10×) of the best one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .analysis import TOLERANCE
from .optimizers import OPTIMIZERS
from .params import InvalidParameterError, check_params
from .simulate import SHARED_HYPERPARAMETERS
from .surfaces import Surface, get_surface
from .sweep import sweep

#: The criteria a tuning can use, with the sentence the app and the CLI state.
CRITERIA = {
    "final-loss": "lowest final loss after the race's steps",
    "steps-to-tol": f"fewest steps to within {TOLERANCE:g} of f_min",
    "loss-at-evals": "lowest loss after a fixed number of gradient evaluations",
}
SENSITIVITY = 10.0  # the lr range whose loss gap is within this factor of the best
LR_COUNT = 64  # lr values searched by default (and as many momenta, where one is taken)


def evaluations_per_step(optimizer: str) -> int:
    """Gradient evaluations one step of ``optimizer`` takes (one for every optimizer here).

    An optimizer that takes several per step (L-BFGS) plugs in by declaring
    ``evaluations_per_step`` on its spec; ``loss-at-evals`` then races it
    ``evaluations // evaluations_per_step`` steps."""
    return int(getattr(OPTIMIZERS[optimizer], "evaluations_per_step", 1))


@dataclass(frozen=True)
class Tuned:
    """One optimizer's tuning: what was searched, what won, and how sharply."""

    optimizer: str
    criterion: str
    values: dict  # {"lr": …, "momentum": …} of the winning cell; empty when all diverged
    lr_range: tuple[float, float]  # the grid searched: its ends (cell-centred, log-spaced)
    lr_count: int
    momentum_range: tuple[float, float] | None  # None: the optimizer takes no momentum
    momentum_count: int
    steps: int  # steps each cell ran
    metric: float  # the winner's: final loss, steps to tolerance, or loss at the budget
    sensitivity: tuple[float, float] | None  # lr range within SENSITIVITY× of the best gap
    at_edge: bool  # the winning lr is the grid's first or last: widen the range

    @property
    def found(self) -> bool:
        return bool(self.values)

    @property
    def metric_name(self) -> str:
        return {"final-loss": "final loss", "steps-to-tol": "steps to tol",
                "loss-at-evals": "loss at evals"}[self.criterion]


def tune(surface: str | Surface = "ravine",
         optimizers: Sequence[str] = ("sgd", "momentum", "nesterov", "adam"), *,
         criterion: str = "final-loss", steps: int = 100, evaluations: int | None = None,
         lr_count: int = LR_COUNT, lr_range=(None, None), momentum_range=(0.0, 0.999),
         start=None, noise: float = 0.0, batch_size: int | None = None, seed: int = 0,
         kappa: float = 25.0, points: int | None = None, f: str | None = None, window=None,
         backend: str = "auto", own: dict | None = None,
         progress: Callable[[int, int], None] | None = None,
         cancelled: Callable[[], bool] | None = None, **hyperparameters) -> list[Tuned]:
    """Tune each of ``optimizers`` on ``surface``; one :class:`Tuned` per optimizer.

    Args:
        criterion: one of :data:`CRITERIA`.
        steps: the race's steps (each cell's, for ``final-loss`` and ``steps-to-tol``).
        evaluations: the gradient-evaluation budget of ``loss-at-evals`` (default:
            ``steps``).
        lr_count: lr values on the log grid (and momenta, for optimizers that take one).
        own: {optimizer: {param: value}} each optimizer's own fixed values (its overrides
            in the app); lr and momentum in it are ignored, they are what is tuned.
        progress: progress(cells done, cells in all) over all the optimizers' sweeps.
        Other arguments as :func:`optim_core.sweep.sweep`; ``**hyperparameters`` are
        shared fixed values, each passed to the optimizers that take it.
    """
    if criterion not in CRITERIA:
        raise InvalidParameterError(
            f"The 'criterion' parameter of tune must be one of {', '.join(CRITERIA)}. "
            f"Got {criterion!r} instead.", parameter="criterion", caller="tune",
            allowed=", ".join(CRITERIA), got=criterion)
    for name in optimizers:
        check_params("tune", {"optimizer": name})
    if len(set(optimizers)) != len(optimizers) or not optimizers:
        raise InvalidParameterError(
            "tune needs at least one optimizer, each named once.", parameter="optimizer",
            caller="tune", allowed="distinct optimizer names", got=list(optimizers))
    budget = check_params("tune", {"sweep_steps": steps if evaluations is None
                                   else evaluations})["sweep_steps"]
    if not isinstance(surface, Surface):
        surface = get_surface(surface, kappa=kappa, points=points, seed=seed, f=f,
                              window=window)
    cells = [lr_count * (lr_count if "momentum" in OPTIMIZERS[n].defaults else 1)
             for n in optimizers]
    done = 0
    results = []
    for name, count in zip(optimizers, cells, strict=True):
        fixed = {k: v for k, v in {**hyperparameters, **(own or {}).get(name, {})}.items()
                 if k in OPTIMIZERS[name].defaults and k not in SHARED_HYPERPARAMETERS}
        run_steps = (max(1, budget // evaluations_per_step(name))
                     if criterion == "loss-at-evals" else steps)

        def report(cells_done, _total, before=done):
            if progress is not None:
                progress(before + cells_done, sum(cells))

        grid = sweep(surface, name, steps=run_steps, resolution=lr_count, lr_range=lr_range,
                     momentum_range=momentum_range, start=start, noise=noise,
                     batch_size=batch_size, seed=seed, backend=backend, progress=report,
                     cancelled=cancelled, **fixed)
        results.append(_best(grid, criterion))
        done += count
    return results


def _best(grid, criterion: str) -> Tuned:
    """The winning cell of one sweep by ``criterion``; diverged cells never win."""
    rows = grid.momenta if grid.takes_momentum else grid.momenta[:1]
    diverged = grid.diverged_at[:len(rows)] >= 0
    gap = np.where(diverged, np.inf, grid.final_loss[:len(rows)] - grid.surface.f_min)
    if criterion == "steps-to-tol":
        hit = grid.steps_to_tolerance[:len(rows)].astype(np.float64)
        hit = np.where(diverged | (hit < 0), np.inf, hit)
        order = np.lexsort((gap.ravel(), hit.ravel()))  # fewest steps, then lowest loss
    else:
        order = np.argsort(gap.ravel(), kind="stable")
    row, column = np.unravel_index(order[0], gap.shape)
    lrs = grid.lrs
    base = dict(optimizer=grid.optimizer, criterion=criterion,
                lr_range=(float(lrs[0]), float(lrs[-1])), lr_count=len(lrs),
                momentum_range=((float(rows[0]), float(rows[-1])) if grid.takes_momentum
                                else None),
                momentum_count=len(rows) if grid.takes_momentum else 0, steps=grid.steps)
    if not math.isfinite(gap[row, column]):  # every cell diverged
        return Tuned(**base, values={}, metric=math.nan, sensitivity=None, at_edge=False)
    values = {"lr": float(lrs[column])}
    if grid.takes_momentum:
        values["momentum"] = float(rows[row])
    if criterion == "steps-to-tol":
        metric = float(hit[row, column])  # inf: never within the tolerance
    else:
        metric = float(grid.final_loss[row, column])
    return Tuned(**base, values=values, metric=metric,
                 sensitivity=_sensitivity(lrs, gap[row], column),
                 at_edge=column in (0, len(lrs) - 1))


def _sensitivity(lrs, gap, best: int) -> tuple[float, float]:
    """The contiguous lr range around ``best`` whose gap is within SENSITIVITY× of its."""
    good = gap <= SENSITIVITY * gap[best]
    low = high = best
    while low > 0 and good[low - 1]:
        low -= 1
    while high < len(lrs) - 1 and good[high + 1]:
        high += 1
    return float(lrs[low]), float(lrs[high])


TUNE_COLUMNS = ("optimizer", "criterion", "lr", "momentum", "metric", "sensitivity_lr_min",
                "sensitivity_lr_max", "lr_min", "lr_max", "lr_count", "momentum_min",
                "momentum_max", "momentum_count", "steps", "at_edge")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def tune_rows(results: Sequence[Tuned]) -> list[list[str]]:
    """One row per optimizer under :data:`TUNE_COLUMNS`; empty: none / never / n.a."""
    rows = []
    for t in results:
        momenta = t.momentum_range or (None, None)
        sensitivity = t.sensitivity or (None, None)
        rows.append([t.optimizer, t.criterion, _cell(t.values.get("lr")),
                     _cell(t.values.get("momentum")), _cell(t.metric),
                     _cell(sensitivity[0]), _cell(sensitivity[1]), _cell(t.lr_range[0]),
                     _cell(t.lr_range[1]), str(t.lr_count), _cell(momenta[0]),
                     _cell(momenta[1]), str(t.momentum_count), str(t.steps),
                     str(t.at_edge).lower()])
    return rows


def tune_to_csv(results: Sequence[Tuned]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TUNE_COLUMNS)
    writer.writerows(tune_rows(results))
    return buffer.getvalue()


def describe(t: Tuned) -> dict:
    """One optimizer's tuning as short texts (the CLI's table and the leaderboard's)."""
    if not t.found:
        tuned, metric, sensitivity = "none (every cell diverged)", "", ""
    else:
        tuned = ", ".join(f"{k}={v:.4g}" for k, v in t.values.items())
        metric = ("never" if math.isinf(t.metric) else f"{t.metric:g}"
                  ) if t.criterion == "steps-to-tol" else f"{t.metric:.3e}"
        low, high = t.sensitivity
        sensitivity = f"lr {low:.3g}–{high:.3g} ({high / low:.3g}×)"
    grid = f"lr {t.lr_range[0]:.3g}–{t.lr_range[1]:.3g} ×{t.lr_count}"
    if t.momentum_range is not None:
        grid += (f", momentum {t.momentum_range[0]:.3g}–{t.momentum_range[1]:.3g} "
                 f"×{t.momentum_count}")
    return {"optimizer": t.optimizer, "tuned": tuned + (" (grid edge)" if t.at_edge else ""),
            "criterion": t.criterion, "metric": metric, "grid": grid,
            "sensitivity": sensitivity}


def tune_table(results: Sequence[Tuned]) -> str:
    """The tuning as a plain-text table, the criterion stated above it."""
    rows = [describe(t) for t in results]
    heads = {"optimizer": "optimizer", "tuned": "tuned", "metric": results[0].metric_name,
             "sensitivity": f"within {SENSITIVITY:g}x of best",
             "grid": "grid searched"}
    widths = {k: max(len(heads[k]), *(len(r[k]) for r in rows)) for k in heads}
    lines = [f"criterion: {results[0].criterion} ({CRITERIA[results[0].criterion]})",
             "  ".join(heads[k].ljust(widths[k]) for k in heads).rstrip()]
    lines += ["  ".join(r[k].ljust(widths[k]) for k in heads).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


__all__ = ["CRITERIA", "SENSITIVITY", "TUNE_COLUMNS", "Tuned", "describe",
           "evaluations_per_step", "tune", "tune_table", "tune_to_csv"]
