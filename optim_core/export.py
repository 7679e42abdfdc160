"""CSV export of a race: the same bytes from the CLI and from the app's download button.

One row per run and step, step 0 first::

    optimizer,step,x,y,loss,grad_x,grad_y,evals,grad_point_x,grad_point_y,diverged_at,
    surface,kappa,points,data,
    batch_size,noise,seed,x0,y0,f,lr,momentum,dampening,...

- ``loss`` is the full-batch loss f(x_k); ``grad_x``, ``grad_y`` the gradient the
  optimizer received at x_k (mini-batch and noise included).
- ``evals`` is the number of evaluations of f and ∇f made to reach x_k, cumulative
  (``Trajectory.evals``): k for the optimizers that take one gradient a step; L-BFGS
  counts its inner iterations and line search (torch's ``state["func_evals"]``).
- ``grad_point_x``, ``grad_point_y``: where that gradient was taken, for the optimizers
  whose reported point x_k is another one (Schedule-Free: x_k is the evaluation point,
  the gradient is taken at the train-mode parameters y_k); empty for the others, which
  take it at x_k.
- ``diverged_at`` is set on every row of a run that was cut, empty otherwise.
- ``f`` is the typed formula of surface ``custom`` (canonical form: it parses back to
  the same surface), empty on the named surfaces.
- A setting an optimizer or surface does not take is left empty (``kappa`` off the
  ravine; ``alpha`` for anything but rmsprop). ``data`` is the digest of the user's own
  points on the line fit (``optim_core.userdata``; ``--data`` in the CLI), else empty.
- With ``state`` (``run --state``; the app's export always): the optimizer state after
  k steps, ``STATE_COLUMNS`` after the hyperparameters: torch's ``optimizer.state[p]``
  keys with ``_x`` / ``_y`` for the two coordinates (``momentum_buffer_x``,
  ``exp_avg_sq_y``), scalars as one column (``mu_product``; torch's ``step`` as
  ``state_step``, since ``step`` is the row's k); empty where torch holds no such state
  (step 0, momentum 0, another optimizer's key).
- A pair (Rprop's ``etas``, ``step_sizes``) is one cell, its two floats with a space
  between, as the CLI takes them (``--etas 0.3 1.5``).
- ``scheduler`` and its parameters (torch's names; empty where the scheduler does not
  take one; ``milestones`` as a comma list), the clipping settings, and per row
  ``step_lr``, ``step_momentum``: the lr and μ (β₁) that the step from x_k to x_{k+1}
  uses (empty on the last row, and ``step_momentum`` for optimizers without momentum).
- Floats are written with ``repr``, the shortest text that reads back as the same
  float64: the export is lossless.
"""

from __future__ import annotations

import csv
import io
import math

from .clipping import CLIP_DEFAULTS
from .optimizers import HYPERPARAMETERS, STATE_COLUMNS
from .schedules import SCHEDULER_PARAMETERS
from .simulate import Race

TRAJECTORY_COLUMNS = ("optimizer", "step", "x", "y", "loss", "grad_x", "grad_y", "evals",
                      "grad_point_x", "grad_point_y")
SETTING_COLUMNS = ("diverged_at", "surface", "kappa", "points", "data", "batch_size", "noise",
                   "seed", "x0", "y0", "f")
#: a scheduler parameter that is a hyperparameter too (warmup_steps) has one column: the
#: run's own value, else the scheduler's
SHARED = tuple(name for name in SCHEDULER_PARAMETERS if name in HYPERPARAMETERS)
SCHEDULE_COLUMNS = ("scheduler", *(name for name in SCHEDULER_PARAMETERS if name not in SHARED),
                    *CLIP_DEFAULTS)
STEP_COLUMNS = ("step_lr", "step_momentum")
COLUMNS = (TRAJECTORY_COLUMNS + SETTING_COLUMNS + HYPERPARAMETERS + SCHEDULE_COLUMNS
           + STEP_COLUMNS)


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)  # milestones, as the CLI takes them
        return " ".join(repr(float(v)) for v in value)  # a pair (Rprop's etas), as on the CLI
    return str(value)


def _state_cell(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def race_rows(race: Race, state: bool = False):
    """Yield the CSV rows (lists of strings) of ``race``, header first; with ``state``
    the state columns too (``race`` must then come from ``simulate(..., state=True)``)."""
    if state and any(run.state is None for run in race.runs):
        raise ValueError("race_rows(state=True) needs a race simulated with state=True")
    yield list(COLUMNS + STATE_COLUMNS if state else COLUMNS)
    settings = race.settings()
    for run in race.runs:
        fixed = [csv_cell(run.diverged_at), settings["surface"], csv_cell(settings["kappa"]),
                 csv_cell(settings["points"]), csv_cell(race.surface.data),
                 csv_cell(settings["batch_size"]),
                 csv_cell(float(settings["noise"])), csv_cell(settings["seed"]),
                 csv_cell(float(run.start[0])), csv_cell(float(run.start[1])),
                 csv_cell(settings["f"])]
        fixed += [csv_cell(run.hyperparameters.get(
            name, settings.get(name) if name in SHARED else None)) for name in HYPERPARAMETERS]
        fixed += [csv_cell(settings.get(name)) for name in SCHEDULE_COLUMNS]
        held = [run.state.get(name) for name in STATE_COLUMNS] if state else []
        for k in range(len(run.loss)):
            grad_point = (("", "") if run.grad_points is None else
                          (repr(float(run.grad_points[k, 0])), repr(float(run.grad_points[k, 1]))))
            yield [run.optimizer, str(k), repr(float(run.params[k, 0])),
                   repr(float(run.params[k, 1])), repr(float(run.loss[k])),
                   repr(float(run.grads[k, 0])), repr(float(run.grads[k, 1])),
                   str(int(run.evals[k])), *grad_point, *fixed, *_step_cells(run, k, race.steps),
                   *("" if values is None else _state_cell(float(values[k]))
                     for values in held)]


def _step_cells(run, k, steps):
    """``step_lr``, ``step_momentum`` of row k: what the step from x_k used."""
    if k >= steps or run.step_lr is None:
        return ["", ""]
    momentum = None if run.step_momentum is None else float(run.step_momentum[k])
    return [csv_cell(float(run.step_lr[k])), csv_cell(momentum)]


def race_to_csv(race: Race, state: bool = False) -> str:
    """The race as CSV text (see the module docstring for the columns), with the
    optimizer state columns if ``state``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(race_rows(race, state))
    return buffer.getvalue()


def read_race_csv(path_or_buffer):
    """Read an exported CSV into a pandas DataFrame, floats bit-exact."""
    import pandas as pd

    return pd.read_csv(path_or_buffer,
                       dtype={"optimizer": str, "surface": str, "f": str},
                       true_values=["true"], false_values=["false"])
