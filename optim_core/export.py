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

from .clipping import CLIP_DEFAULTS
from .optimizers import HYPERPARAMETERS
from .schedules import SCHEDULER_PARAMETERS
from .simulate import Race

TRAJECTORY_COLUMNS = ("optimizer", "step", "x", "y", "loss", "grad_x", "grad_y")
SETTING_COLUMNS = ("diverged_at", "surface", "kappa", "points", "data", "batch_size", "noise",
                   "seed", "x0", "y0", "f")
SCHEDULE_COLUMNS = ("scheduler", *SCHEDULER_PARAMETERS, *CLIP_DEFAULTS)
STEP_COLUMNS = ("step_lr", "step_momentum")
COLUMNS = (TRAJECTORY_COLUMNS + SETTING_COLUMNS + HYPERPARAMETERS + SCHEDULE_COLUMNS
           + STEP_COLUMNS)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):  # milestones
        return ",".join(str(v) for v in value)
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
        fixed += [_cell(settings.get(name)) for name in SCHEDULE_COLUMNS]
        for k in range(len(run.loss)):
            yield [run.optimizer, str(k), repr(float(run.params[k, 0])),
                   repr(float(run.params[k, 1])), repr(float(run.loss[k])),
                   repr(float(run.grads[k, 0])), repr(float(run.grads[k, 1])), *fixed,
                   *_step_cells(run, k, race.steps)]


def _step_cells(run, k, steps):
    """``step_lr``, ``step_momentum`` of row k: what the step from x_k used."""
    if k >= steps or run.step_lr is None:
        return ["", ""]
    momentum = None if run.step_momentum is None else float(run.step_momentum[k])
    return [_cell(float(run.step_lr[k])), _cell(momentum)]


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
