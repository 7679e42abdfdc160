"""CSV export of a race: the same bytes from the CLI and from the app's download button.

One row per run and step, step 0 first::

    optimizer,step,x,y,loss,grad_x,grad_y,evals,diverged_at,surface,kappa,points,data,
    batch_size,noise,seed,x0,y0,f,lr,momentum,dampening,...

- ``loss`` is the full-batch loss f(x_k); ``grad_x``, ``grad_y`` the gradient the
  optimizer received at x_k (mini-batch and noise included).
- ``evals`` is the number of evaluations of f and ∇f made to reach x_k, cumulative
  (``Trajectory.evals``): k for the optimizers that take one gradient a step; L-BFGS
  counts its inner iterations and line search (torch's ``state["func_evals"]``).
- ``diverged_at`` is set on every row of a run that was cut, empty otherwise.
- ``f`` is the typed formula of surface ``custom`` (canonical form: it parses back to
  the same surface), empty on the named surfaces.
- A setting an optimizer or surface does not take is left empty (``kappa`` off the
  ravine; ``alpha`` for anything but rmsprop). ``data`` is the digest of the user's own
  points on the line fit (``optim_core.userdata``; ``--data`` in the CLI), else empty.
- Floats are written with ``repr``, the shortest text that reads back as the same
  float64: the export is lossless.
"""

from __future__ import annotations

import csv
import io

from .optimizers import HYPERPARAMETERS
from .simulate import Race

TRAJECTORY_COLUMNS = ("optimizer", "step", "x", "y", "loss", "grad_x", "grad_y", "evals")
SETTING_COLUMNS = ("diverged_at", "surface", "kappa", "points", "data", "batch_size", "noise",
                   "seed", "x0", "y0", "f")
COLUMNS = TRAJECTORY_COLUMNS + SETTING_COLUMNS + HYPERPARAMETERS


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def race_rows(race: Race):
    """Yield the CSV rows (lists of strings) of ``race``, header first."""
    yield list(COLUMNS)
    settings = race.settings()
    for run in race.runs:
        fixed = [_cell(run.diverged_at), settings["surface"], _cell(settings["kappa"]),
                 _cell(settings["points"]), _cell(race.surface.data),
                 _cell(settings["batch_size"]),
                 _cell(float(settings["noise"])), _cell(settings["seed"]),
                 _cell(float(run.start[0])), _cell(float(run.start[1])),
                 _cell(settings["f"])]
        fixed += [_cell(run.hyperparameters.get(name)) for name in HYPERPARAMETERS]
        for k in range(len(run.loss)):
            yield [run.optimizer, str(k), repr(float(run.params[k, 0])),
                   repr(float(run.params[k, 1])), repr(float(run.loss[k])),
                   repr(float(run.grads[k, 0])), repr(float(run.grads[k, 1])),
                   str(int(run.evals[k])), *fixed]


def race_to_csv(race: Race) -> str:
    """The race as CSV text (see the module docstring for the columns)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(race_rows(race))
    return buffer.getvalue()


def read_race_csv(path_or_buffer):
    """Read an exported CSV into a pandas DataFrame, floats bit-exact."""
    import pandas as pd

    return pd.read_csv(path_or_buffer,
                       dtype={"optimizer": str, "surface": str, "f": str},
                       true_values=["true"], false_values=["false"])
