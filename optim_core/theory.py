r"""What theory predicts on quadratics, and what a trajectory measures.

For f = ½ (x − x*)ᵀ H (x − x*) with eigenvalues m = λ_min ≤ λ_max = L of H, and
h = γλ for each eigenvalue λ, the linear methods iterate a 2×2 matrix per eigenvalue:

- gradient descent (``sgd``): x ← (1 − h) x. Stable iff γ < 2/L.
- heavy ball (``momentum``, torch's form b ← μb + (1−τ)g, x ← x − γb): with
  h' = h(1−τ), [[1 + μ − h', −μ], [1, 0]]. Stable iff γ < 2(1+μ) / ((1−τ)L).
- Nesterov (torch's form x ← x − γ(g + μb)): on the pair (x, γb),
  [[1 − h(1+μ), −μ²], [h, μ]], trace 1 + μ − h(1+μ), determinant μ(1 − h).
  The Jury conditions give: stable iff γ < 2(1+μ) / ((1+2μ)L).

The rate is the largest spectral radius over the eigenvalues. Polyak's heavy ball
with γ* = 4/(√L + √m)² and μ* = ((√κ − 1)/(√κ + 1))² reaches the optimal rate
(√κ − 1)/(√κ + 1), κ = L/m. Weight decay λ_wd adds λ_wd to every eigenvalue.

On ``ravine`` and ``regression`` (quadratics, and booth, matyas or a typed quadratic)
these are exact; on ``rosenbrock``, ``saddle`` and the other test functions they
describe the Hessian at the minimum, so they hold near it; on ``custom`` the Hessian at
the point the runs approach (:func:`approached_point`).

References: Polyak (1964); Goh, "Why Momentum Really Works", Distill (2017);
Lessard, Recht & Packard, "Analysis and Design of Optimization Algorithms via
Integral Quadratic Constraints" (2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .surfaces import Surface


@dataclass(frozen=True)
class Curvature:
    """Extreme Hessian eigenvalues at the minimum, and whether the surface is quadratic."""

    L: float  # largest eigenvalue (smoothness)
    m: float  # smallest eigenvalue (strong convexity)
    exact: bool  # True on quadratics; otherwise local to the minimum

    @property
    def kappa(self) -> float:
        return self.L / self.m if self.m > 0 else math.inf

    @property
    def eigenvalues(self) -> tuple[float, float]:
        return (self.m, self.L)


def curvature(surface: Surface, at=None) -> Curvature:
    """The Hessian's eigenvalues at ``at``, by default the (first) minimum of ``surface``
    (NaN where the Hessian is not finite: Ackley's cusp)."""
    x, y = surface.minima[0] if at is None else at
    hxx, hxy, hyy = (float(np.asarray(v)) for v in surface.hessian(x, y))
    if not all(math.isfinite(h) for h in (hxx, hxy, hyy)):
        return Curvature(L=math.nan, m=math.nan, exact=surface.quadratic)
    eig = np.linalg.eigvalsh(np.array([[hxx, hxy], [hxy, hyy]]))
    return Curvature(L=float(eig[-1]), m=float(eig[0]),
                     exact=surface.quadratic)


def approached_point(surface: Surface, runs=None) -> tuple[float, float]:
    """Where theory looks at the curvature: on ``custom`` the point the runs approach
    (the last point of the run that ended lowest, diverged runs aside), whose minimum
    is not known in advance; elsewhere, and without runs, the (first) minimum."""
    ended = [run for run in runs or () if getattr(run, "diverged_at", None) is None
             and getattr(run, "params", None) is not None and len(run.params)]
    if surface.name != "custom" or not ended:
        x, y = surface.minima[0]
        return (float(x), float(y))
    best = min(ended, key=lambda run: float(run.loss[-1]))
    return (float(best.params[-1, 0]), float(best.params[-1, 1]))


def effective_lr(lr: float, momentum: float) -> float:
    """γ/(1−μ): the step momentum takes on a constant gradient, in the long run."""
    return lr / (1.0 - momentum)


def max_stable_lr(optimizer: str, L: float, momentum: float = 0.0,
                  dampening: float = 0.0, weight_decay: float = 0.0) -> float | None:
    """The largest stable learning rate on curvature L, or None where theory has none."""
    L = L + weight_decay
    if optimizer == "sgd":
        return 2.0 / L
    if optimizer == "momentum":
        return 2.0 * (1.0 + momentum) / ((1.0 - dampening) * L)
    if optimizer == "nesterov":
        return 2.0 * (1.0 + momentum) / ((1.0 + 2.0 * momentum) * L)
    return None


def polyak_optimum(L: float, m: float) -> tuple[float, float, float]:
    """Polyak's optimal heavy ball on [m, L]: (γ*, μ*, rate*)."""
    root_kappa = math.sqrt(L / m)
    rate = (root_kappa - 1.0) / (root_kappa + 1.0)
    return 4.0 / (math.sqrt(L) + math.sqrt(m)) ** 2, rate * rate, rate


def spectral_radius(optimizer: str, h, momentum=0.0, dampening=0.0):
    """Spectral radius of one step on eigen-directions with h = γλ (arrays broadcast).

    The iteration matrices have characteristic polynomial z² − T z + D:
    heavy ball T = 1 + μ − h(1−τ), D = μ; Nesterov T = 1 + μ − h(1+μ), D = μ(1 − h);
    gradient descent is the scalar 1 − h.
    """
    h = np.asarray(h, dtype=np.float64)
    if optimizer == "sgd":
        return np.abs(1.0 - h)
    momentum = np.asarray(momentum, dtype=np.float64)
    with np.errstate(all="ignore"):  # a huge h overflows: that step is simply unstable
        if optimizer == "momentum":
            trace, det = 1.0 + momentum - h * (1.0 - dampening), momentum + 0.0 * h
        else:
            trace, det = 1.0 + momentum - h * (1.0 + momentum), momentum * (1.0 - h)
        root = np.sqrt((trace * trace - 4.0 * det).astype(complex))
        radius = np.maximum(np.abs((trace + root) / 2.0), np.abs((trace - root) / 2.0))
    return np.where(np.isfinite(radius), radius, np.inf)


def predicted_rate_grid(optimizer: str, lrs, momenta, eigenvalues, dampening=0.0,
                        weight_decay=0.0):
    """predicted_rate over a grid: lrs and momenta broadcast; None if theory has none."""
    if optimizer not in ("sgd", "momentum", "nesterov"):
        return None
    lrs, momenta = np.broadcast_arrays(np.asarray(lrs, float), np.asarray(momenta, float))
    with np.errstate(over="ignore"):  # lr·λ may overflow to inf: an unstable step
        h = [lrs * (lam + weight_decay) for lam in eigenvalues]
    return np.max([spectral_radius(optimizer, hi, momenta, dampening) for hi in h], axis=0)


def predicted_rate(optimizer: str, lr: float, eigenvalues, momentum: float = 0.0,
                   dampening: float = 0.0, weight_decay: float = 0.0) -> float | None:
    """max over eigenvalues of the iteration's spectral radius (per step), or None."""
    rate = predicted_rate_grid(optimizer, lr, momentum, eigenvalues, dampening, weight_decay)
    return None if rate is None else float(rate)


def gap_floor(first_gap, f_min):
    """Below this the loss gap f − f* is rounding noise, or convergence is complete."""
    return max(first_gap * 1e-20, 64.0 * 2.220446049250313e-16 * abs(f_min), 1e-300)


def rate_window(loss, length, f_min, floor):
    """(first, last) step of the fit window: the second half of the steps before the
    loss gap first falls to ``floor`` (or of all ``length`` steps)."""
    last = length - 1
    for k in range(length):
        if loss[k] - f_min <= floor:
            last = k - 1
            break
    return last // 2, last


def fit_rate(loss, f_min, first, last, samples):
    """exp(½·slope) of a least-squares line through log(f − f*) on at most ``samples``
    evenly spaced steps of [first, last]: the per-step rate of ‖x − x*‖."""
    count = min(samples, last - first + 1)
    n = sum_k = sum_y = sum_kk = sum_ky = 0.0
    for i in range(count):
        k = first + (i * (last - first)) // max(count - 1, 1)
        y = math.log(max(loss[k] - f_min, 1e-300))
        n += 1.0
        sum_k += k
        sum_y += y
        sum_kk += k * k
        sum_ky += k * y
    slope = (n * sum_ky - sum_k * sum_y) / (n * sum_kk - sum_k * sum_k)
    return math.exp(0.5 * slope)


def rate_or_nan(loss, length, f_min, samples):
    """The measured rate of the first ``length`` losses, NaN if fewer than 4 steps fit."""
    floor = gap_floor(max(loss[0] - f_min, 0.0), f_min)
    first, last = rate_window(loss, length, f_min, floor)
    if last - first < 3:
        return math.nan
    return fit_rate(loss, f_min, first, last, samples)


def measured_rate(loss, f_min: float, samples: int = 64) -> float | None:
    """The linear rate of a trajectory, per step, from its loss gap f(x_k) − f*.

    f − f* ≈ C·ρ^{2k} near a minimum, so ρ = exp(½·slope of log(f − f*)), fitted on the
    second half of the steps before the gap reaches rounding level. None when fewer
    than 4 steps remain to fit (converged at once, or started at the minimum).
    """
    loss = np.asarray(loss, dtype=np.float64)
    rate = rate_or_nan(loss, loss.shape[0], float(f_min), samples)
    return None if math.isnan(rate) else rate


# --- the readout the CLI and the app render --------------------------------------------

#: The optimizers theory has stability limits and rates for (the linear methods).
LINEAR_METHODS = ("sgd", "momentum", "nesterov")


#: What the readout says where Polyak's optimum is not shown (``Readout.polyak_note``).
NOT_A_QUADRATIC = ("not a quadratic: Polyak's optimum is that of a quadratic, and the "
                   "local one here says little about the race from the start")
NO_MINIMUM = ("no minimum here (the Hessian is not positive definite): Polyak's optimum "
              "does not apply")


def shows_polyak(c: Curvature) -> bool:
    """Whether Polyak's optimum is reported: on quadratics only (and m > 0). Elsewhere it
    is the optimum of the quadratic that touches the surface at its minimum: on
    Rosenbrock its lr (about 0.0039) and μ (about 0.92) say nothing about the race from
    the start, where the valley's curvature differs by orders of magnitude, and setting
    the sliders to it would suggest an optimum that is not one."""
    return c.exact and c.m > 0


@dataclass(frozen=True)
class StabilityLimit:
    optimizer: str  # one of LINEAR_METHODS
    lr_max: float  # the largest stable learning rate at the readout's momentum
    stable: bool  # the readout's lr is below it


@dataclass(frozen=True)
class RateReadout:
    optimizer: str
    predicted: float  # the spectral radius of one step
    measured: float | None  # the rate fitted to the run's loss, if a run was given


@dataclass(frozen=True)
class Readout:
    """What theory says about (lr, momentum) on a surface, and about a race's runs."""

    surface: str
    curvature: Curvature
    lr: float
    momentum: float
    effective_lr: float
    limits: tuple[StabilityLimit, ...]
    rates: tuple[RateReadout, ...]
    polyak: tuple[float, float, float] | None  # (γ*, μ*, rate*) where shows_polyak
    at: tuple[float, float] | None = None  # where the Hessian was taken (approached_point)
    polyak_note: str = ""  # why there is no Polyak optimum, where there is none


def readout(surface: Surface, lr: float, momentum: float, runs=None,
            measured=None) -> Readout:
    """The theory readout at (``lr``, ``momentum``) on ``surface``.

    ``runs`` (a race's trajectories, or anything with ``optimizer`` and
    ``hyperparameters``) give the predicted rate of each linear run with its own
    hyperparameters, next to its ``measured`` rate (same order); without runs the
    rates are the linear methods' at (lr, momentum)."""
    at = approached_point(surface, runs)
    c = curvature(surface, at)
    limits = []
    for name in LINEAR_METHODS if c.L > 0 else ():  # no positive curvature: no limit
        limit = max_stable_lr(name, c.L, 0.0 if name == "sgd" else momentum)
        limits.append(StabilityLimit(name, limit, lr < limit))
    if runs is None:
        runs = [_Shared(name, {"lr": lr, "momentum": momentum}) for name in LINEAR_METHODS]
    measured = [None] * len(runs) if measured is None else list(measured)
    rates = []
    for run, rate in zip(runs, measured, strict=True):
        h = run.hyperparameters
        predicted = predicted_rate(run.optimizer, h["lr"], c.eigenvalues,
                                   h.get("momentum", 0.0), h.get("dampening", 0.0),
                                   h.get("weight_decay", 0.0))
        if predicted is not None and math.isfinite(c.L):
            rates.append(RateReadout(run.optimizer, predicted, rate))
    polyak = polyak_optimum(c.L, c.m) if shows_polyak(c) else None
    note = "" if polyak is not None else NOT_A_QUADRATIC if not c.exact else NO_MINIMUM
    return Readout(surface.name, c, lr, momentum, effective_lr(lr, momentum), tuple(limits),
                   tuple(rates), polyak, at, note)


@dataclass(frozen=True)
class _Shared:
    optimizer: str
    hyperparameters: dict
