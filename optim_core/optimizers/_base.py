"""What every optimizer module declares, and the helpers they share.

An optimizer *family* (one module of this package) is one update rule with its
hyperparameter columns (a NamedTuple), its state (a NamedTuple), its NumPy ``init`` /
``update`` and its compiled ``kernel_*`` functions; its *optimizers* are named
configurations of the rule (``momentum`` is SGD with μ, ``adamw`` is Adam with
decoupled decay), each one :class:`OptimizerSpec` made by :func:`spec`.

The kernels read everything by name: ``Family.columns`` (an IntEnum over the
hyperparameter NamedTuple's fields) indexes the per-run table, ``Family.slots`` (an
IntEnum over the state's fields after ``count``) the per-run state. IntEnum members are
compile-time constants for numba, so the names cost nothing.

What torch keeps of that state, and so the state columns of ``simulate(...,
state=True)`` and ``run --state``, each family declares in its ``Family(torch_state=...)``:
state field -> whether ``optimizer.state[p]`` holds it for the hyperparameters ``h``
(torch's key is the field's name; ``count`` is torch's ``step``, column ``state_step``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple, get_type_hints

import numpy as np

from ..params import Pair, check_array, check_params, constraint_for

#: Coordinates of the per-run state array ``states[run, axis, slot]`` of the kernels.
X, Y = 0, 1

#: The picker's groups of optimizers, in display order; each spec names one.
GROUPS = ("SGD family", "adaptive", "second order", "recent")


def no_schedule(step, table, c):
    """Families without per-step ``pow`` scalars."""
    return 0.0, 0.0, 0.0


def no_init(states, c, table):
    """Families whose state starts at zero."""
    return None


def one_evaluation(h) -> int:
    """Families that evaluate f and ∇f once a step (at the point they step from)."""
    return 1


def keep(hyper: dict) -> dict:
    """Families whose hyperparameters mean what they say."""
    return hyper


def always(h) -> bool:
    """State that torch holds whatever the hyperparameters."""
    return True


@dataclass(frozen=True)
class StateColumn:
    """One column of a family's recorded state: ``Trajectory.state[name]``, a CSV column."""

    name: str  # torch's key (_x / _y for the two coordinates), or STEP_COLUMN
    field: str  # the family's state NamedTuple field ("count" is torch's "step")
    axis: int  # X or Y (a per-run scalar is kept on the X row)


#: The column of torch's ``state["step"]`` (the step count; ``count`` here): the CSV's
#: ``step`` is already the row's k, which it equals wherever torch holds it.
STEP_COLUMN = "state_step"


def column_name(field_name: str) -> str:
    return STEP_COLUMN if field_name == "count" else field_name


# --- what the kernels build from a family's declarations -----------------------------
# Closures, not exec (numba caches what they compile into): a chain of one link per
# field, as ``_kernels`` chains the families; ``_kernels`` compiles each.


def as_float(value):
    return float(value)


def as_int(value):
    return int(value)


def as_bool(value):
    return value != 0.0


#: A hyperparameter field's annotation -> how the kernels read it from the float table.
FIELD_READERS = {"float": as_float, "int": as_int, "bool": as_bool}


def _read_last(hyper):
    def read(table, c, values):
        return hyper(*values)

    return read


def _read_link(column, convert, rest):
    def read(table, c, values):
        return rest(table, c, values + (convert(table[c, column]),))

    return read


def row_reader(hyper) -> tuple[Callable, tuple[Callable, ...]]:
    """``read(table, c) -> hyper``: run ``c``'s row of the kernels' table as the
    family's hyperparameter NamedTuple, column i its field i, converted as the field is
    annotated (a bool is a nonzero column); and the closures that make it up."""
    types = get_type_hints(hyper)
    read = _read_last(hyper)
    links = [read]
    for column in range(len(hyper._fields) - 1, -1, -1):
        read = _read_link(column, FIELD_READERS[types[hyper._fields[column]].__name__], read)
        links.append(read)
    first = read

    def read_row(table, c):
        return first(table, c, ())

    return read_row, (*links, read_row)


def same_scalars(step, states, c, h, scalars):
    """Families whose coordinates step with the per-step scalars as they are."""
    return scalars


def both_axes(read_hyper, kernel_coefficients, kernel_axis):
    """A family's ``kernel_step`` that steps each coordinate on its own:
    ``kernel_axis(step, p, g, states, c, axis, h, coefficients) -> p`` (which also
    updates ``states[c, axis]``), with the run's ``kernel_coefficients(step, states, c,
    h, scalars)``, computed once for both (and updating the state kept once a run)."""
    def kernel_step(step, x, y, gx, gy, states, c, table, scalars):
        h = read_hyper(table, c)
        coefficients = kernel_coefficients(step, states, c, h, scalars)
        return (kernel_axis(step, x, gx, states, c, X, h, coefficients),
                kernel_axis(step, y, gy, states, c, Y, h, coefficients))

    return kernel_step


def never_steps(step, x, y, gx, gy, states, c, table, scalars):
    """A family that takes its steps some other way (L-BFGS calls the objective)."""
    return x, y


def same_point(step, x, y, states, c, table):
    """Families that evaluate f where they take the gradient (all but Schedule-Free)."""
    return x, y


@dataclass(frozen=True)
class Family:
    """One update rule, as the simulation needs it (see the module docstring).

    ``kernel_step(step, x, y, gx, gy, states, c, table, scalars) -> (x, y)`` is one step
    of run ``c``. A family whose coordinates step on their own gives ``kernel_axis``
    instead (one coordinate's step) and, if the step needs numbers computed once a run,
    ``kernel_coefficients``; its step is :func:`both_axes` of them. The kernels read run
    ``c``'s hyperparameters with ``read_hyper(table, c)`` (:func:`row_reader`).
    ``kernel_schedule(step, table, c)`` is its per-step scalars that need
    ``pow`` (three floats), which depend on ``step`` and ``schedule_columns`` only, so
    runs that agree on those share them; ``kernel_init(states, c, table)`` sets the
    state that does not start at zero. ``effective`` maps the hyperparameters to what
    the rule computes with (torch ignores dampening without momentum): the NumPy path
    and the kernel's table both go through it.

    ``torch_state`` maps each state field torch keeps in ``optimizer.state[p]`` to
    ``holds(h) -> bool`` (whether it does for hyperparameters ``h``); ``scalar_state``
    names the fields with one value per run (``count`` always is one); torch makes the
    state at the first ``step()``, or in the constructor if ``state_before_step``
    (Adagrad).

    ``eval_point(params, state, h)`` (NumPy) and ``kernel_eval_point(step, x, y, states,
    c, table) -> (x, y)`` are, for a family whose iterate is not the point it reports
    (Schedule-Free: the gradient is taken at y, the model is evaluated at x), the point
    recorded and whose loss is recorded at each step; the gradient is still taken at the
    parameters the family steps. None for the others: they record their parameters.
    """

    name: str
    hyper: type  # NamedTuple: the rule's hyperparameters, the kernel's table columns
    state: type  # NamedTuple: count, then the state the kernel keeps per coordinate
    kernel_step: Callable | None = None
    kernel_axis: Callable | None = None
    kernel_coefficients: Callable = same_scalars
    kernel_schedule: Callable = no_schedule
    kernel_init: Callable = no_init
    schedule_columns: tuple[str, ...] = ()
    effective: Callable = keep
    #: ``max_evaluations(h) -> int``: the most evaluations of f and ∇f one step can make
    #: (L-BFGS: its iterations and line search); the race's work bound counts them
    max_evaluations: Callable = one_evaluation
    torch_state: dict = field(default_factory=dict)
    scalar_state: tuple[str, ...] = ()
    state_before_step: bool = False
    eval_point: Callable | None = None
    kernel_eval_point: Callable = same_point
    #: state slots after the named ones (L-BFGS's history blocks)
    extra_slots: int = 0
    columns: type = field(init=False)
    slots: type = field(init=False)
    state_columns: tuple[StateColumn, ...] = field(init=False)
    read_hyper: Callable = field(init=False)
    #: the closures ``read_hyper`` is made of (the kernels compile each)
    readers: tuple[Callable, ...] = field(init=False)

    def __post_init__(self):
        if (self.kernel_step is None) == (self.kernel_axis is None):
            raise ValueError(f"family {self.name}: give kernel_step or kernel_axis (one)")
        read_hyper, readers = row_reader(self.hyper)
        object.__setattr__(self, "read_hyper", read_hyper)
        object.__setattr__(self, "readers", readers)
        if self.kernel_axis is not None:
            object.__setattr__(self, "kernel_step", both_axes(read_hyper, self.kernel_coefficients,
                                                               self.kernel_axis))
        object.__setattr__(self, "columns", IntEnum(
            f"{self.name}_columns", [(n.upper(), i) for i, n in enumerate(self.hyper._fields)]))
        object.__setattr__(self, "slots", IntEnum(
            f"{self.name}_slots",
            [(n.upper(), i) for i, n in enumerate(self.state._fields[1:])]))
        columns = []
        for name in self.torch_state:
            if name == "count" or name in self.scalar_state:
                columns.append(StateColumn(column_name(name), name, X))
            else:
                columns += [StateColumn(f"{name}_x", name, X), StateColumn(f"{name}_y", name, Y)]
        object.__setattr__(self, "state_columns", tuple(columns))

    def state_of(self, h, record: np.ndarray) -> dict[str, np.ndarray]:
        """The state torch holds after k steps, k = 0..n−1, from the kernels' record
        ``record[k, axis, slot]`` (n, 2, slots): one (n,) float64 array per state
        column, NaN where torch holds no such state (before the first step; momentum
        0, amsgrad off...). ``h`` is the run's hyperparameter NamedTuple."""
        n = record.shape[0]
        out = {}
        for column in self.state_columns:
            if column.field == "count":
                values = np.arange(n, dtype=np.float64)
            else:
                values = record[:, column.axis, int(self.slots[column.field.upper()])].copy()
            if not self.torch_state[column.field](h):
                values[:] = np.nan
            elif not self.state_before_step:
                values[:1] = np.nan
            out[column.name] = values
        return out

    @property
    def state_width(self) -> int:
        """Slots per coordinate of the kernels' state array this family uses."""
        return len(self.slots) + self.extra_slots

    def column(self, name: str) -> int:
        return int(self.columns[name.upper()])


class Optimizer(NamedTuple):
    """An optimizer as a pair of pure functions, with the hyperparameters it was made with.

    ``init(params) -> state``; ``update(grads, state, params) -> (params, state)``.
    """

    name: str
    hyperparameters: dict
    init: Callable
    update: Callable
    hyper: tuple  # the family's hyperparameter NamedTuple, as the rule computes with it
    #: ``eval_point(params, state) -> point`` where the loss is recorded, or None: at params
    eval_point: Callable | None = None


@dataclass(frozen=True)
class OptimizerSpec:
    """What the tables, CLI and app need to know about one optimizer name."""

    name: str
    title: str
    family: Family
    torch: str  # the equivalent torch.optim call
    group: str  # one of GROUPS: where the picker lists it
    defaults: dict  # the hyperparameters it takes, with their defaults: its signature's
    constraints: dict  # narrower ranges than params.CONSTRAINTS, for this name only
    factory: Callable

    @property
    def algorithm(self) -> str:
        return self.family.name


def spec(factory: Callable, *, title: str, family: Family, torch: str, group: str,
         constraints: dict | None = None) -> OptimizerSpec:
    """The spec of the optimizer that ``factory`` makes; its defaults are the keyword
    defaults of ``factory``'s signature (one fact), its name the factory's name."""
    if group not in GROUPS:
        raise ValueError(f"{factory.__name__}: group must be one of {GROUPS}, not {group!r}")
    defaults = {p.name: p.default for p in inspect.signature(factory).parameters.values()}
    return OptimizerSpec(factory.__name__, title, family, torch, group, defaults,
                         constraints or {}, factory)


def per_run(caller: str, hyper: dict) -> dict:
    """Validate hyperparameters; arrays become shape (runs, 1) to broadcast over (runs, 2)
    (a pair's: a tuple, or (runs, 2) per run)."""
    flags = {k: v for k, v in hyper.items() if isinstance(v, (bool, np.bool_))}
    check_params(caller, flags)
    out = dict(flags)
    for name, value in hyper.items():
        if name in flags:
            continue
        pair = isinstance(constraint_for(caller, name), Pair)
        if np.ndim(value) < (2 if pair else 1):
            out[name] = check_params(caller, {name: value})[name]
        elif pair:
            out[name] = check_array(caller, name, value)
        else:
            out[name] = check_array(caller, name, value)[:, None]
    return out


def make(name: str, family: Family, given: dict, init: Callable, update: Callable,
         fixed: dict | None = None) -> Optimizer:
    """The :class:`Optimizer` of ``family`` with the validated ``given`` hyperparameters
    (a factory passes its ``locals()``: its keyword arguments) and the ``fixed`` ones of
    ``name``: ``init(params, h)`` and ``update(grads, state,
    params, h)`` receive the family's hyperparameter NamedTuple ``h``."""
    checked = {**per_run(name, given), **(fixed or {})}
    h = family.hyper(**family.effective(dict(checked)))
    eval_point = family.eval_point and (lambda params, state: family.eval_point(params, state, h))
    return Optimizer(name, checked, lambda params: init(params, h),
                     lambda grads, state, params: update(grads, state, params, h), h,
                     eval_point)


def zeros_like(params) -> np.ndarray:
    return np.zeros_like(np.asarray(params, dtype=np.float64))
