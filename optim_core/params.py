"""Every parameter's constraint, in one table, checked once at the public boundary.

The library, the CLI and the app all validate through :func:`validate` /
:func:`check_params`, so a bad value gets the same message everywhere, naming the
parameter, who received it, the allowed range and the value received::

    The 'beta2' parameter of adam must be a float in the range [0, 1). Got 1.2 instead.

Limits that bound time and memory (steps, points, batch size, sweep grid) live here
too; ``LIMITS`` documents them and the README quotes it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

#: Bounds that keep every request's time and memory small (documented in the README).
LIMITS = {
    "steps": 10_000,  # steps of one race (per optimizer)
    "sweep_steps": 2_000,  # steps of every cell of a sweep
    "sweep_resolution": 512,  # cells per axis of a sweep grid
    "points": 1_000,  # regression dataset size
    "start": 1e4,  # |x0|, |y0|
    "kappa": 1e4,
    "noise": 100.0,
    "runs": 64,  # trajectories in one race
    # data points one race evaluates: Σ over runs of its evaluations a step (L-BFGS: up
    # to max_eval + 2) × (steps + 1) × points a step; every optimizer once × 10,001
    # steps × 2,000 points (the line fit's largest), with room for compare conventions
    "race_work": 500_000_000,
    # data points one sweep evaluates, cells × steps × points_per_step (1 per step off
    # the line fit); a few seconds on two cores (README "Limits")
    "sweep_work": 2_000_000_000,
    # mini-batch table entries kept in memory: batch_size × (steps + 1), int32
    "batch_entries": 5_000_000,
}

#: A run is cut when |x| or |y| exceeds this (or anything becomes non-finite).
DIVERGENCE_BOUND = 1e8


class InvalidParameterError(ValueError, TypeError):
    """A parameter is out of its allowed range or of the wrong type.

    Inherits ValueError and TypeError so callers can catch either. ``parameter``,
    ``caller``, ``allowed`` and ``got`` let a front end word its own message (the CLI
    names the flag, the app puts the message next to the control).
    """

    def __init__(self, message: str, *, parameter: str, caller: str = "",
                 allowed: str = "", got: object = None):
        super().__init__(message)
        self.parameter = parameter
        self.caller = caller
        self.allowed = allowed
        self.got = got


@dataclass(frozen=True)
class Interval:
    """A real (or integral) interval; ``closed`` is 'both', 'left', 'right' or 'neither'."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"
    why: str = ""  # the reason for a narrower range, said after it

    def describe(self) -> str:
        text = self._describe()
        return f"{text} ({self.why})" if self.why else text

    def _describe(self) -> str:
        noun = "an int" if self.kind is int else "a float"
        if self.low is None and self.high is None:
            return f"{noun}"
        if self.high is None:
            op = ">=" if self.closed in ("left", "both") else ">"
            return f"{noun} {op} {_fmt(self.low)}"
        if self.low is None:
            op = "<=" if self.closed in ("right", "both") else "<"
            return f"{noun} {op} {_fmt(self.high)}"
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        return f"{noun} in the range {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def coerce(self, value):
        """The value as ``kind`` if it is one and lies in the interval, else None."""
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return None
        value = float(value)
        if not math.isfinite(value):
            return None
        if self.kind is int:
            if value != int(value):
                return None
            value = int(value)
        open_low = self.closed in ("right", "neither")
        open_high = self.closed in ("left", "neither")
        if self.low is not None and (value < self.low or (value == self.low and open_low)):
            return None
        if self.high is not None and (value > self.high or (value == self.high and open_high)):
            return None
        return value


@dataclass(frozen=True)
class Options:
    values: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def coerce(self, value):
        return value if isinstance(value, str) and value in self.values else None


@dataclass(frozen=True)
class Boolean:
    def describe(self) -> str:
        return "a bool (True or False)"

    def coerce(self, value):
        return bool(value) if isinstance(value, (bool, np.bool_)) else None


@dataclass(frozen=True)
class Optional:
    """``inner`` or None."""

    inner: object

    def describe(self) -> str:
        return f"{self.inner.describe()} or None"

    def coerce(self, value):
        return value if value is None else self.inner.coerce(value)


@dataclass(frozen=True)
class Pair:
    """Two floats, as torch's tuples (Rprop's ``etas``): each in its interval, and in
    the order ``rule`` states (``first < second`` or ``first <= second``)."""

    names: tuple[str, str]  # torch's names of the two entries (etaminus, etaplus)
    first: Interval
    second: Interval
    strict: bool  # first < second (else first <= second)

    def describe(self) -> str:
        a, b = self.names
        order = "<" if self.strict else "<="
        return (f"a pair ({a}, {b}) with {a} {self.first._describe().removeprefix('a ')}, "
                f"{b} {self.second._describe().removeprefix('a ')} and {a} {order} {b}")

    def coerce(self, value):
        """A tuple of two floats, or None."""
        if isinstance(value, (str, bytes, dict)):
            return None
        try:
            first, second = value
        except (TypeError, ValueError):
            return None
        first, second = self.first.coerce(first), self.second.coerce(second)
        if first is None or second is None:
            return None
        if first > second or (self.strict and first == second):
            return None
        return (first, second)


def _fmt(x: float) -> str:
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return str(int(x))
    return f"{x:g}"


# Names shared by the code, the CLI (--weight-decay), the URL (weight_decay) and the CSV.
#: The surface names: the named surfaces of ``optim_core.surfaces.TABLE`` and ``custom``
#: (registered by that module, see :func:`register_surfaces`).
SURFACE_NAMES: tuple[str, ...] = ()
CONSTRAINTS: dict[str, object] = {
    # optimizer hyperparameters (torch.optim's names and meanings; momentum is β1 for
    # the Adam family)
    "lr": Interval(float, 0.0, None, "left"),
    "momentum": Interval(float, 0.0, 1.0, "left"),
    "dampening": Interval(float, 0.0, 1.0, "both"),
    "weight_decay": Interval(float, 0.0, None, "left"),
    "beta2": Interval(float, 0.0, 1.0, "left"),
    "eps": Interval(float, 0.0, 1.0, "both"),
    "alpha": Interval(float, 0.0, 1.0, "left"),
    "momentum_decay": Interval(float, 0.0, None, "left"),
    "lr_decay": Interval(float, 0.0, None, "left"),
    "initial_accumulator_value": Interval(float, 0.0, None, "left"),
    "rho": Interval(float, 0.0, 1.0, "both"),  # Adadelta
    "lambd": Interval(float, 0.0, None, "left"),  # ASGD
    "t0": Interval(float, 0.0, None, "left"),  # ASGD
    # Rprop's pairs, each one parameter (one CSV cell, one flag of two values)
    "etas": Pair(("etaminus", "etaplus"), Interval(float, 0.0, 1.0, "neither"),
                 Interval(float, 1.0, None, "neither"), strict=True),
    "step_sizes": Pair(("step_size_min", "step_size_max"), Interval(float, 0.0, None, "left"),
                       Interval(float, 0.0, None, "left"), strict=False),
    # Adafactor (torch's pair eps=(eps1, eps2) is two parameters: eps is one float here)
    "beta2_decay": Interval(float, None, 0.0, "right"),
    "eps1": Interval(float, 0.0, 1.0, "both"),
    "eps2": Interval(float, 0.0, None, "left"),
    "d": Interval(float, 1.0, None, "left"),
    "amsgrad": Boolean(),
    "centered": Boolean(),
    "decoupled_weight_decay": Boolean(),
    # how momentum is written (SGD family): torch's, Sutskever's (Keras) or the EMA form
    "momentum_form": Options(("pytorch", "sutskever", "ema")),
    # the race
    "surface": Options(()),  # the names optim_core.surfaces declares (its TABLE)
    "optimizer": Options(()),  # the names optim_core.optimizers registers
    "steps": Interval(int, 1, LIMITS["steps"], "both"),
    "x0": Interval(float, -LIMITS["start"], LIMITS["start"], "both"),
    "y0": Interval(float, -LIMITS["start"], LIMITS["start"], "both"),
    "kappa": Interval(float, 1.0, LIMITS["kappa"], "both"),
    "noise": Interval(float, 0.0, LIMITS["noise"], "both"),
    "batch_size": Optional(Interval(int, 1, LIMITS["points"], "both")),
    "points": Optional(Interval(int, 2, LIMITS["points"], "both")),
    "seed": Interval(int, 0, 2**32 - 1, "both"),
    # sweeps
    "resolution": Interval(int, 2, LIMITS["sweep_resolution"], "both"),
    "sweep_steps": Interval(int, 1, LIMITS["sweep_steps"], "both"),
    "lr_min": Interval(float, 0.0, None, "neither"),
    "lr_max": Interval(float, 0.0, None, "neither"),
    "momentum_min": Interval(float, 0.0, 1.0, "left"),
    "momentum_max": Interval(float, 0.0, 1.0, "left"),
    "tolerance": Interval(float, 0.0, None, "neither"),
}

#: Narrower ranges for one caller (an optimizer's spec declares them: nesterov's μ > 0).
CALLER_CONSTRAINTS: dict[tuple[str, str], object] = {}


def register_optimizers(names: tuple[str, ...], constraints: dict[str, dict]) -> None:
    """Called once by ``optim_core.optimizers``, whose specs own these facts: the
    optimizer names, and per optimizer the ranges it declares: a parameter of the table
    gets a narrower range for that optimizer only, a new hyperparameter joins the table."""
    CONSTRAINTS["optimizer"] = Options(tuple(names))
    for optimizer, declared in constraints.items():
        for name, constraint in declared.items():
            if name in CONSTRAINTS:
                CALLER_CONSTRAINTS[(optimizer, name)] = constraint
            else:
                CONSTRAINTS[name] = constraint


def register_surfaces(names: tuple[str, ...]) -> None:
    """Called once by ``optim_core.surfaces``, whose table owns the surface names (it
    loads with the package, before anything reads them here)."""
    global SURFACE_NAMES
    SURFACE_NAMES = tuple(names)
    CONSTRAINTS["surface"] = Options(SURFACE_NAMES)


def constraint_for(caller: str, name: str):
    return CALLER_CONSTRAINTS.get((caller, name), CONSTRAINTS[name])


def shown_value(value) -> str:
    """A received value as an error message quotes it: repr, cut to 40 characters."""
    if isinstance(value, float) and not math.isfinite(value):
        return "a value that is not a finite number"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def error_for(caller: str, name: str, value) -> InvalidParameterError:
    allowed = constraint_for(caller, name).describe()
    return InvalidParameterError(
        f"The {name!r} parameter of {caller} must be {allowed}. Got {shown_value(value)} instead.",
        parameter=name, caller=caller, allowed=allowed, got=value)


def validate(caller: str, values: dict) -> tuple[dict, dict[str, InvalidParameterError]]:
    """Check ``values`` against the table: (clean values, errors by parameter name).

    Unknown names are errors too. Clean values are coerced (ints stay ints, floats are
    Python floats); a value with an error is left out of the clean dict.
    """
    clean, errors = {}, {}
    for name, value in values.items():
        if name not in CONSTRAINTS:
            errors[name] = InvalidParameterError(
                f"{caller} got an unexpected parameter {name!r}. Known parameters: "
                + ", ".join(sorted(CONSTRAINTS)) + ".", parameter=name, caller=caller,
                allowed="a known parameter", got=value)
            continue
        constraint = constraint_for(caller, name)
        coerced = constraint.coerce(value)
        if coerced is None and (value is not None or not isinstance(constraint, Optional)):
            errors[name] = error_for(caller, name, value)
        else:
            clean[name] = coerced
    return clean, errors


def check_params(caller: str, values: dict) -> dict:
    """Like :func:`validate` but raise the first error."""
    clean, errors = validate(caller, values)
    if errors:
        raise next(iter(errors.values()))
    return clean


def check_array(caller: str, name: str, values) -> np.ndarray:
    """Validate every element of a 1-D float array (a hyperparameter per run); a pair
    per run is a (runs, 2) array."""
    constraint = constraint_for(caller, name)
    if isinstance(constraint, Pair):
        array = np.asarray(values, dtype=np.float64).reshape(-1, 2)
        for row in array:
            if constraint.coerce(row.tolist()) is None:
                raise error_for(caller, name, tuple(row.tolist()))
        return array
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    for value in array:
        if constraint.coerce(float(value)) is None:
            raise error_for(caller, name, float(value))
    return array


def points_per_step(n_points: int, batch_size: int | None) -> int:
    """The data points one run evaluates per step: its gradient's (the mini-batch, or
    every point) plus the full-batch loss recorded at every step (every point); 1 on a
    surface without data (one evaluation of its formula)."""
    if not n_points:
        return 1
    return min(batch_size or n_points, n_points) + n_points


def check_race_work(caller: str, evaluations: int, steps: int, n_points: int,
                    batch_size: int | None) -> int:
    """The data points a race evaluates (``evaluations``: the most evaluations of f and
    ∇f its runs make per step, summed); raise past ``LIMITS['race_work']``."""
    per_step = points_per_step(n_points, batch_size)
    work = evaluations * (steps + 1) * per_step
    if work > LIMITS["race_work"]:
        raise InvalidParameterError(
            f"This race could evaluate {work:,} data points ({evaluations:,} evaluations a "
            f"step over its runs × {steps + 1:,} steps × {per_step:,} points); the limit is "
            f"{LIMITS['race_work']:,}. Use fewer steps, optimizers or points (L-BFGS counts "
            "max_eval evaluations a step).", parameter="steps", caller=caller,
            allowed=f"at most {LIMITS['race_work'] // (evaluations * per_step) - 1:,} with "
                    "these optimizers and points (L-BFGS counts max_eval evaluations a "
                    "step)", got=steps)
    return work


def check_sweep_work(caller: str, resolution: int, steps: int, n_points: int,
                     batch_size: int | None) -> int:
    """The data points a resolution² sweep evaluates; raise past ``LIMITS['sweep_work']``."""
    cells, per_step = resolution * resolution, points_per_step(n_points, batch_size)
    work = cells * steps * per_step
    if work > LIMITS["sweep_work"]:
        raise InvalidParameterError(
            f"This sweep would evaluate {work:,} data points ({cells:,} cells × {steps:,} "
            f"steps × {per_step:,} points a step, for the gradient and the loss); the limit "
            f"is {LIMITS['sweep_work']:,}. Lower the 'resolution' or the steps of {caller}, "
            "or use fewer points.",
            parameter="resolution", caller=caller,
            allowed=f"cells × steps × points per step ≤ {LIMITS['sweep_work']:,}", got=resolution)
    return work
