r"""Learning-rate (and momentum) schedules: ``torch.optim.lr_scheduler``, stepped once
after every optimizer step, as a training loop does.

A race computes, once, each run's lr and μ (β₁ for the Adam family) for every step:
``lr_rows[run, k]`` and ``momentum_rows[run, k]`` are the values the step from x_k to
x_{k+1} uses (``lr_scheduler`` sets them on the param group before that step). Both
engine paths write them into the run's hyperparameters before its step.

Each scheduler is a function ``(k, run_lr, steps, **params) -> (lr, momentum)`` of the
step k (0-based) and the run's own lr; its keyword defaults are its signature (one
fact). ``momentum`` is None unless the scheduler cycles momentum (``cyclic`` and
``onecycle`` with ``cycle_momentum``). The arithmetic is torch's closed form (``math``
on Python floats, as torch computes it); torch's chained forms agree with it to a few
ulp, well inside the 1e-10 the fixtures check.

Where torch has no default (StepLR's ``step_size``, CosineAnnealingLR's ``T_max``,
CyclicLR's and OneCycleLR's ``max_lr``) the default here is said in each docstring:
``T_max`` is the race's steps, ``max_lr`` the run's own lr.

Momentum cycling applies to the runs whose optimizer takes ``momentum`` (SGD's μ,
RMSprop's momentum, the Adam family's β₁). torch would turn ``SGD(momentum=0)`` into
heavy ball and refuse Adagrad; here plain ``sgd`` and ``adagrad`` keep their rule and
follow the lr schedule only.
"""

from __future__ import annotations

import inspect
import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .params import (
    CONSTRAINTS,
    Boolean,
    Interval,
    InvalidParameterError,
    Optional,
    Options,
    check_params,
    shown_value,
)


@dataclass(frozen=True)
class IntList:
    """A non-empty increasing list of ints >= ``low`` (``milestones``); a comma list."""

    low: int = 1

    def describe(self) -> str:
        return f"an increasing list of ints >= {self.low} (a comma list: 20,60)"

    def coerce(self, value):
        if isinstance(value, str):
            try:
                value = [int(part) for part in value.replace(" ", "").split(",") if part]
            except ValueError:
                return None
        try:
            items = [Interval(int, self.low, None).coerce(v) for v in value]
        except TypeError:
            return None
        if not items or None in items or any(b <= a for a, b in zip(items, items[1:],
                                                                     strict=False)):
            return None
        return tuple(items)


def constant(k, run_lr, steps):
    """No schedule: the run's lr at every step (the default)."""
    return run_lr, None


def step(k, run_lr, steps, *, step_size=30, gamma=0.1):
    """StepLR: γ times the lr every ``step_size`` steps (torch needs step_size; 30)."""
    return run_lr * gamma ** (k // step_size), None


def multistep(k, run_lr, steps, *, milestones=(30, 80), gamma=0.1):
    """MultiStepLR: γ times the lr at each milestone (torch needs them; 30,80)."""
    return run_lr * gamma ** bisect_right(milestones, k), None


def exponential(k, run_lr, steps, *, gamma=0.99):
    """ExponentialLR: lr·γ^k (torch needs γ; 0.99)."""
    return run_lr * gamma ** k, None


def _cosine(k, run_lr, t_max, eta_min):
    return eta_min + (run_lr - eta_min) * (1 + math.cos(math.pi * k / t_max)) / 2


def cosine(k, run_lr, steps, *, T_max=None, eta_min=0.0):
    """CosineAnnealingLR: half a cosine from lr to eta_min over T_max (default: the
    race's steps) steps."""
    return _cosine(k, run_lr, steps if T_max is None else T_max, eta_min), None


def cosine_restarts(k, run_lr, steps, *, T_0=50, T_mult=1, eta_min=0.0):
    """CosineAnnealingWarmRestarts: cosines of T_0, T_0·T_mult, … steps (torch needs
    T_0; 50)."""
    t_cur, t_i = k, T_0
    while t_cur >= t_i:
        t_cur, t_i = t_cur - t_i, t_i * T_mult
    return _cosine(t_cur, run_lr, t_i, eta_min), None


def linear(k, run_lr, steps, *, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    """LinearLR: the factor goes linearly from start_factor to end_factor over
    total_iters steps (the usual warmup)."""
    return run_lr * (start_factor + (end_factor - start_factor)
                      * min(total_iters, k) / total_iters), None


def polynomial(k, run_lr, steps, *, total_iters=5, power=1.0):
    """PolynomialLR: lr·(1 − min(k, total_iters)/total_iters)^power."""
    return run_lr * (1.0 - min(total_iters, k) / total_iters) ** power, None


def cyclic(k, run_lr, steps, *, base_lr=None, max_lr=None, step_size_up=2000,
           step_size_down=None, mode="triangular", gamma=1.0, cycle_momentum=True,
           base_momentum=0.8, max_momentum=0.9):
    """CyclicLR (triangular, triangular2, exp_range): lr between base_lr (default the
    run's lr) and max_lr (default 10× base_lr); μ cycles the other way."""
    low = run_lr if base_lr is None else base_lr
    high = 10.0 * low if max_lr is None else max_lr
    down = step_size_up if step_size_down is None else step_size_down
    total = float(step_size_up + down)
    ratio = step_size_up / total
    cycle = math.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    scale_factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    scale = {"triangular": 1.0, "triangular2": 1 / (2.0 ** (cycle - 1)),
             "exp_range": gamma ** k}[mode]
    lr = low + (high - low) * scale_factor * scale
    if not cycle_momentum:
        return lr, None
    return lr, max_momentum - (max_momentum - base_momentum) * scale_factor * scale


def onecycle(k, run_lr, steps, *, max_lr=None, pct_start=0.3, anneal_strategy="cos",
             cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
             final_div_factor=1e4, three_phase=False):
    """OneCycleLR over the race's steps: up from max_lr/div_factor to max_lr (default
    the run's lr) for pct_start of them, then down to that over final_div_factor; μ
    cycles max_momentum → base_momentum → max_momentum against it."""
    peak = run_lr if max_lr is None else max_lr
    initial = peak / div_factor
    low = initial / final_div_factor
    top, bottom = max_momentum, base_momentum
    if three_phase:
        phases = ((float(pct_start * steps) - 1, initial, peak, top, bottom),
                  (float(2 * pct_start * steps) - 2, peak, initial, bottom, top),
                  (steps - 1, initial, low, top, top))
    else:
        phases = ((float(pct_start * steps) - 1, initial, peak, top, bottom),
                  (steps - 1, peak, low, bottom, top))
    anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear
    start_step = 0.0
    for i, (end_step, lr_from, lr_to, mu_from, mu_to) in enumerate(phases):
        if k <= end_step or i == len(phases) - 1:
            pct = (k - start_step) / (end_step - start_step)
            momentum = anneal(mu_from, mu_to, pct) if cycle_momentum else None
            return anneal(lr_from, lr_to, pct), momentum
        start_step = end_step
    raise AssertionError("unreachable: the last phase always matches")


def _anneal_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


def warmup_cosine(k, run_lr, steps, *, warmup_steps=10, start_factor=1 / 3, eta_min=0.0):
    """SequentialLR of LinearLR(start_factor → 1 over warmup_steps) then
    CosineAnnealingLR(T_max = steps − warmup_steps, eta_min): the transformer default."""
    if k < warmup_steps:
        return linear(k, run_lr, steps, start_factor=start_factor, total_iters=warmup_steps)
    return _cosine(k - warmup_steps, run_lr, steps - warmup_steps, eta_min), None


@dataclass(frozen=True)
class SchedulerSpec:
    name: str
    torch: str
    function: Callable
    defaults: dict  # the keyword defaults of ``function``: its signature


def _spec(name, torch, function):
    defaults = {p.name: p.default for p in inspect.signature(function).parameters.values()
                if p.kind is p.KEYWORD_ONLY}
    return SchedulerSpec(name, torch, function, defaults)


SCHEDULERS: dict[str, SchedulerSpec] = {s.name: s for s in (
    _spec("constant", "no scheduler", constant),
    _spec("step", "StepLR", step),
    _spec("multistep", "MultiStepLR", multistep),
    _spec("exponential", "ExponentialLR", exponential),
    _spec("cosine", "CosineAnnealingLR", cosine),
    _spec("cosine-restarts", "CosineAnnealingWarmRestarts", cosine_restarts),
    _spec("linear", "LinearLR", linear),
    _spec("polynomial", "PolynomialLR", polynomial),
    _spec("cyclic", "CyclicLR", cyclic),
    _spec("onecycle", "OneCycleLR", onecycle),
    _spec("warmup-cosine", "SequentialLR(LinearLR, CosineAnnealingLR)", warmup_cosine),
)}
SCHEDULER_NAMES = tuple(SCHEDULERS)


def parameters_of(scheduler) -> dict:
    """The parameters ``scheduler`` takes, with their defaults; none for a name that is
    no scheduler (check_schedule names that error)."""
    spec = SCHEDULERS.get(scheduler) if isinstance(scheduler, str) else None
    return spec.defaults if spec else {}
#: Every scheduler parameter, in first-seen order: the CLI flags, URL keys, CSV columns.
SCHEDULER_PARAMETERS = tuple(dict.fromkeys(
    name for spec in SCHEDULERS.values() for name in spec.defaults))
#: The schedulers that can set momentum (when their ``cycle_momentum`` is on).
CYCLES_MOMENTUM = tuple(n for n, s in SCHEDULERS.items() if "cycle_momentum" in s.defaults)

_POSITIVE = Interval(float, 0.0, None, "neither")
_POSITIVE_INT = Interval(int, 1, None, "both")
_FRACTION = Interval(float, 0.0, 1.0, "both")
CONSTRAINTS.update({
    "scheduler": Options(SCHEDULER_NAMES),
    "step_size": _POSITIVE_INT,
    "gamma": _POSITIVE,
    "milestones": IntList(),
    "T_max": Optional(_POSITIVE_INT),
    "eta_min": Interval(float, 0.0, None, "left"),
    "T_0": _POSITIVE_INT,
    "T_mult": _POSITIVE_INT,
    "start_factor": Interval(float, 0.0, 1.0, "right"),
    "end_factor": _FRACTION,
    "total_iters": _POSITIVE_INT,
    "power": Interval(float, 0.0, None, "left"),
    "base_lr": Optional(_POSITIVE),
    "max_lr": Optional(_POSITIVE),
    "step_size_up": _POSITIVE_INT,
    "step_size_down": Optional(_POSITIVE_INT),
    "mode": Options(("triangular", "triangular2", "exp_range")),
    "cycle_momentum": Boolean(),
    "base_momentum": Interval(float, 0.0, 1.0, "left"),
    "max_momentum": Interval(float, 0.0, 1.0, "left"),
    "pct_start": Interval(float, 0.0, 1.0, "neither"),
    "anneal_strategy": Options(("cos", "linear")),
    "div_factor": _POSITIVE,
    "final_div_factor": _POSITIVE,
    "three_phase": Boolean(),
    # warmup_steps: params.CONSTRAINTS' (Schedule-Free takes it too); warmup-cosine's
    # narrower rule is in check_schedule
})


def check_schedule(caller: str, scheduler: str, given: dict, steps: int) -> dict:
    """The scheduler's complete, validated parameters: its defaults, then ``given``
    (a parameter it does not take is an error naming it); cross-parameter rules too."""
    check_params(caller, {"scheduler": scheduler})
    spec = SCHEDULERS[scheduler]
    unknown = sorted(set(given) - set(spec.defaults))
    if unknown:
        takes = ", ".join(spec.defaults) or "no parameters"
        raise InvalidParameterError(
            f"The scheduler {scheduler!r} does not take {unknown[0]!r}; it takes {takes}.",
            parameter=unknown[0], caller=caller, allowed=takes, got=given[unknown[0]])
    values = {**spec.defaults, **check_params(caller, given)}

    def rule(name, ok, allowed):
        if not ok:
            raise InvalidParameterError(
                f"The {name!r} parameter of {scheduler} must be {allowed}. Got "
                f"{shown_value(values[name])} instead.", parameter=name, caller=caller,
                allowed=allowed, got=values[name])

    if scheduler == "warmup-cosine":
        rule("warmup_steps", 1 <= values["warmup_steps"] < steps,
             f"at least 1 and fewer than the race's {steps} steps")
    if scheduler == "onecycle":
        three = 2 if values["three_phase"] else 1
        # torch divides by each phase's length: pct_start·steps must leave both non-empty
        rule("pct_start", 1 < three * values["pct_start"] * steps < steps * 1.0 - 1 + three,
             f"such that every phase of the {steps} steps has at least one step")
    if "base_momentum" in values:
        rule("base_momentum", values["base_momentum"] <= values["max_momentum"],
             "at most max_momentum")
    return values


def schedule_rows(scheduler: str, values: dict, run_lr, run_momentum, cycles,
                  steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(lr_rows, momentum_rows), each (runs, steps): the lr and μ of every run's step k.

    ``run_lr``, ``run_momentum`` per run (a run without momentum: any value, it is
    not used); ``cycles`` per run: whether the schedule may set its momentum."""
    function = SCHEDULERS[scheduler].function
    n = len(run_lr)
    momentum_rows = np.repeat(np.asarray(run_momentum, dtype=np.float64)[:, None], steps, 1)
    if scheduler == "constant":  # every race without a schedule: no Python loop
        return np.repeat(np.asarray(run_lr, dtype=np.float64)[:, None], steps, 1), momentum_rows
    lr_rows = np.empty((n, steps))
    cache = {}
    for run in range(n):
        lr = float(run_lr[run])
        if lr not in cache:
            pairs = [function(k, lr, steps, **values) for k in range(steps)]
            cache[lr] = ([p[0] for p in pairs], [p[1] for p in pairs])
        lrs, momenta = cache[lr]
        lr_rows[run] = lrs
        if cycles[run] and momenta[0] is not None:
            momentum_rows[run] = momenta
    return lr_rows, momentum_rows
