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
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from ..params import check_array, check_params

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


def keep(hyper: dict) -> dict:
    """Families whose hyperparameters mean what they say."""
    return hyper


@dataclass(frozen=True)
class Family:
    """One update rule, as the simulation needs it (see the module docstring).

    ``kernel_step(step, x, y, gx, gy, states, c, table, scalars) -> (x, y)`` is one step
    of run ``c``; ``kernel_schedule(step, table, c)`` its per-step scalars that need
    ``pow`` (three floats), which depend on ``step`` and ``schedule_columns`` only, so
    runs that agree on those share them; ``kernel_init(states, c, table)`` sets the
    state that does not start at zero. ``effective`` maps the hyperparameters to what
    the rule computes with (torch ignores dampening without momentum): the NumPy path
    and the kernel's table both go through it.
    """

    name: str
    hyper: type  # NamedTuple: the rule's hyperparameters, the kernel's table columns
    state: type  # NamedTuple: count, then the state the kernel keeps per coordinate
    kernel_step: Callable
    kernel_schedule: Callable = no_schedule
    kernel_init: Callable = no_init
    schedule_columns: tuple[str, ...] = ()
    effective: Callable = keep
    #: state slots after the named ones (L-BFGS's history blocks)
    extra_slots: int = 0
    columns: type = field(init=False)
    slots: type = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "columns", IntEnum(
            f"{self.name}_columns", [(n.upper(), i) for i, n in enumerate(self.hyper._fields)]))
        object.__setattr__(self, "slots", IntEnum(
            f"{self.name}_slots",
            [(n.upper(), i) for i, n in enumerate(self.state._fields[1:])]))

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
    """Validate hyperparameters; arrays become shape (runs, 1) to broadcast over (runs, 2)."""
    flags = {k: v for k, v in hyper.items() if isinstance(v, (bool, np.bool_))}
    check_params(caller, flags)
    out = dict(flags)
    for name, value in hyper.items():
        if name in flags:
            continue
        if np.ndim(value) == 0:
            out[name] = check_params(caller, {name: value})[name]
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
    return Optimizer(name, checked, lambda params: init(params, h),
                     lambda grads, state, params: update(grads, state, params, h), h)


def zeros_like(params) -> np.ndarray:
    return np.zeros_like(np.asarray(params, dtype=np.float64))
