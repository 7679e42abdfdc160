"""CSV export of a race: the same bytes from the CLI and from the app's download button.

One row per run and step, step 0 first::

    optimizer,step,x,y,loss,grad_x,grad_y,diverged_at,surface,kappa,points,data,
    batch_size,noise,seed,x0,y0,f,lr,momentum,dampening,...

- ``loss`` is the full-batch loss f(x_k); ``grad_x``, ``grad_y`` the gradient the
  optimizer received at x_k (mini-batch and noise included).
- ``diverged_at`` is set on every row of a run that was cut, empty otherwise.
- ``f`` is the typed formula of surface ``custom`` (canonical form: it parses back to
  the same surface), empty on the named surfaces.
- A setting an optimizer or surface does not take is left empty (``kappa`` off the
  ravine; ``alpha`` for anything but rmsprop). ``data`` is the digest of the user's own
  points on the line fit (``optim_core.userdata``; ``--data`` in the CLI), else empty.
- A pair (Rprop's ``etas``, ``step_sizes``) is one cell, its two floats with a space
  between, as the CLI takes them (``--etas 0.3 1.5``).
- Floats are written with ``repr``, the shortest text that reads back as the same
  float64: the export is lossless.
"""

from __future__ import annotations

import csv
import io

from .optimizers import HYPERPARAMETERS
from .simulate import Race

TRAJECTORY_COLUMNS = ("optimizer", "step", "x", "y", "loss", "grad_x", "grad_y")
SETTING_COLUMNS = ("diverged_at", "surface", "kappa", "points", "data", "batch_size", "noise",
                   "seed", "x0", "y0", "f")
COLUMNS = TRAJECTORY_COLUMNS + SETTING_COLUMNS + HYPERPARAMETERS


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):  # a pair (Rprop's etas): "0.3 1.5", as on the CLI
        return " ".join(repr(float(v)) for v in value)
    return str(value)


def race_rows(race: Race):
    """Yield the CSV rows (lists of strings) of ``race``, header first."""
    yield list(COLUMNS)
    settings = race.settings()
    for run in race.runs:
        fixed = [csv_cell(run.diverged_at), settings["surface"], csv_cell(settings["kappa"]),
                 csv_cell(settings["points"]), csv_cell(race.surface.data),
                 csv_cell(settings["batch_size"]),
                 csv_cell(float(settings["noise"])), csv_cell(settings["seed"]),
                 csv_cell(float(run.start[0])), csv_cell(float(run.start[1])),
                 csv_cell(settings["f"])]
        fixed += [csv_cell(run.hyperparameters.get(name)) for name in HYPERPARAMETERS]
        for k in range(len(run.loss)):
            yield [run.optimizer, str(k), repr(float(run.params[k, 0])),
                   repr(float(run.params[k, 1])), repr(float(run.loss[k])),
                   repr(float(run.grads[k, 0])), repr(float(run.grads[k, 1])), *fixed]


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
