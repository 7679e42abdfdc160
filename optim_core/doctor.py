r"""The symptom doctor: what went wrong with a run, read from its trajectory, and the fix.

:func:`diagnose` looks at a run's path, loss and gradients (never at its settings to
decide the verdict; the settings only put numbers on the cause and the fix) and says
one of, checked in this order:

``diverged``
    The engine cut the run (``diverged_at``), or it is on its way: the final loss is
    above the start's and still rising over the tail (the step: the first whose loss
    rose above the start's). Cause: the lr above the optimizer's
    stability limit on the largest curvature the path met (2/L for SGD, 2(1+μ)/L for
    heavy ball, 2(1+μ)/((1+2μ)L) for Nesterov); fix: halve it (or, if half is still
    above the limit, half the limit).
``converged``
    The final loss is within :data:`optim_core.analysis.TOLERANCE` of f*.
``plateau``
    For at least :data:`PLATEAU_STEPS` steps in a row the path stayed near a saddle: the
    Hessian has a negative eigenvalue there and the Newton step −H⁻¹g, the way to the
    critical point of the local quadratic, is shorter than :data:`SADDLE_RADIUS` of the
    surface's window, so the gradient is small because a critical point is close (a
    curved valley such as Rosenbrock's has negative curvature too, but no critical point
    near); the message names the direction of negative curvature. Fix: momentum, which
    keeps the speed the ridge does not give; but a path that never leaves the ridge (it
    starts on the saddle, or on its stable line, without noise: the gradient has no
    component along the negative direction, so no optimizer can leave) gets a start moved
    off the ridge along that direction (``{"start": [x0, y0]}``).
``oscillating``
    Over the second half of the run, the step along the steep direction (the Hessian's
    top eigenvector at the minimum) flips sign on at least :data:`ZIGZAG_FLIPS` of the
    steps (the step: where the final streak of flips began): period-2 zig-zag across a
    ravine, lr·L > 1 with too little momentum. Fix: the heavy-ball μ that theory says is
    fastest at this lr (it damps the zig-zag).
``overshooting``
    The position passes the minimum at least :data:`OVERSHOOT_CROSSINGS` times along
    the slow direction (the Hessian's bottom eigenvector at the minimum): it spirals or
    rings. A damped mode (two real roots) crosses at most once, and at theory's fastest
    μ the slow direction is critically damped, so two crossings mean momentum so high
    that the path swings through the minimum (the steep direction rings at every μ
    that helps, so it is not counted). Fix: lower μ to the fastest value at this lr.
``slow``
    None of the above, and not converged: steady but far from done. Fix: add
    momentum (SGD), raise μ, Polyak's optimum on quadratics, more steps (from the
    measured rate), or for an adaptive method (which moves about lr a step) the lr that
    covers the remaining distance in the budget.

The numbers in every message come from :mod:`optim_core.theory` for this race's
surface and the run's own hyperparameters; ``apply`` is the fix as settings under the
CLI's names (``{"lr": 0.0425}``, ``{"optimizer": "momentum", "momentum": 0.53}``), so
a script or the app can re-run the race with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import theory
from .analysis import TOLERANCE
from .params import LIMITS

#: A plateau is at least this many consecutive small-gradient steps near negative
#: curvature: fewer is a run passing by a saddle, not stuck at it.
PLATEAU_STEPS = 20
#: "Near a saddle": the Newton step is shorter than this fraction of the window's
#: diagonal (0.32 on the saddle’s 5 × 4 window, where the ridge's gradient is ≈ |y|).
SADDLE_RADIUS = 0.05
#: The plateau's fix, the table's "raise μ": 0.9 carries a step's speed for about
#: 1/(1 − μ) = 10 steps across the flat ridge (the saddle is not a quadratic at a
#: minimum, so theory's fastest μ does not apply there).
PLATEAU_MOMENTUM = 0.9
#: "On the ridge": the path's spread along the negative-curvature direction is below this
#: fraction of the window's diagonal (exactly 0 from a start on the saddle or its line).
RIDGE_SPREAD = 1e-12
#: Zig-zag: the steep-direction step flips sign on at least this fraction of the tail's
#: steps. Gradient descent with lr·L > 1 flips on every step (1 − lr·L < 0); heavy
#: ball's slow spiral (period ≥ 4) flips on at most half of them.
ZIGZAG_FLIPS = 0.75
#: Ringing: the error along the slow direction changes sign at least this often (an
#: overdamped or critically damped approach, two real roots, crosses at most once).
OVERSHOOT_CROSSINGS = 2
#: Directions whose curvature is within this factor of the smallest are "slow" (all of
#: them on a round bowl such as the 5-point line fit, where H = 2I).
SLOW_CURVATURE = 1.01
#: The tail a trajectory's oscillation is read from: its last half, at least 8 steps.
TAIL_FRACTION, TAIL_MIN = 0.5, 8
#: A step shorter than this (relative to the path's longest) has no sign to read.
STEP_NOISE = 1e-12
#: The μ grid theory's fastest momentum is searched on (a predicted rate per point).
MOMENTUM_GRID = np.linspace(0.0, 0.999, 1999)
#: Fix of a ringing adaptive optimizer (no theory of its rate): a β₁ that rings little.
ADAPTIVE_MOMENTUM = 0.5
VERDICTS = ("converged", "diverged", "oscillating", "overshooting", "plateau", "slow")


@dataclass(frozen=True)
class Diagnosis:
    """One run's verdict, the step it refers to, the likely cause and the fix."""

    optimizer: str
    verdict: str  # one of VERDICTS
    step: int | None  # diverged at, plateau/oscillation/overshoot from, converged at
    cause: str
    fix: str
    apply: dict = field(default_factory=dict)  # the fix as settings, the CLI's names

    def as_dict(self) -> dict:
        return {"optimizer": self.optimizer, "verdict": self.verdict, "step": self.step,
                "cause": self.cause, "fix": self.fix, "apply": dict(self.apply)}


def fmt(value: float) -> str:
    """How a number appears in a diagnosis (3 significant digits): tests compare by it."""
    return f"{value:.3g}"


def diagnose(race) -> list[Diagnosis]:
    """One :class:`Diagnosis` per run of ``race``, in race order."""
    return [diagnose_run(run, race) for run in race.runs]


def diagnose_run(run, race) -> Diagnosis:
    """The diagnosis of one trajectory of ``race`` (see the module docstring)."""
    surface = race.surface
    if run.diverged_at is not None:
        return _diverged(run, surface, run.diverged_at, "blew up")
    growing = growth_start(run)
    if growing is not None:
        return _diverged(run, surface, growing, "rose above its start")
    gap = run.final_loss - surface.f_min
    if gap <= TOLERANCE:
        hit = int(np.argmax(run.loss - surface.f_min <= TOLERANCE))
        return Diagnosis(run.optimizer, "converged", hit,
                         f"within {TOLERANCE:g} of the minimum from step {hit}",
                         "nothing to fix", {})
    plateau = plateau_stretch(run, surface)
    if plateau is not None:
        return _plateau(run, surface, plateau)
    zigzag = zigzag_start(run, surface)
    if zigzag is not None:
        return _oscillating(run, surface, zigzag)
    ringing = overshoot_start(run, surface)
    if ringing is not None:
        return _overshooting(run, surface, race, ringing)
    return _slow(run, surface, race, gap)


# --- what the trajectory shows -----------------------------------------------------------

def _eigen(surface, x, y):
    """Hessian eigenvalues (ascending) and eigenvectors (columns) at each point."""
    hxx, hxy, hyy = (np.broadcast_to(np.asarray(h, float), np.shape(x))
                     for h in surface.hessian(x, y))
    matrices = np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)
    return np.linalg.eigh(matrices)


def nearest_minimum(run, surface) -> np.ndarray:
    minima = np.asarray(surface.minima, float)
    return minima[np.argmin(np.linalg.norm(minima - run.params[-1], axis=1))]


def _tail_start(n: int) -> int:
    return max(0, min(n - TAIL_MIN, int(n * (1 - TAIL_FRACTION))))


def growth_start(run) -> int | None:
    """The first step whose loss rose above the start's, if the run ends above its start
    with the loss still rising over the tail (diverging, not yet cut); else None."""
    loss = run.loss
    tail = _tail_start(len(loss))
    if len(loss) < TAIL_MIN or not loss[-1] > max(loss[0], loss[tail]):
        return None
    return int(np.argmax(loss > loss[0]))


def newton_distance(surface, params) -> np.ndarray:
    """|H⁻¹∇f| at each point (inf where H is singular): how far the local quadratic's
    critical point is."""
    x, y = params[:, 0], params[:, 1]
    gx, gy = surface.grad(x, y)
    hxx, hxy, hyy = (np.broadcast_to(np.asarray(h, float), x.shape)
                     for h in surface.hessian(x, y))
    det = hxx * hyy - hxy * hxy
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = (hyy * gx - hxy * gy) / det
        dy = (hxx * gy - hxy * gx) / det
    distance = np.hypot(dx, dy)
    return np.where(np.isfinite(distance), distance, np.inf)


def plateau_stretch(run, surface) -> tuple[int, int] | None:
    """(first, last) step of the longest stretch of ≥ PLATEAU_STEPS steps near a saddle
    (negative curvature, Newton step under SADDLE_RADIUS of the window), or None."""
    values, _ = _eigen(surface, run.params[:, 0], run.params[:, 1])
    (x0, x1), (y0, y1) = surface.window
    radius = SADDLE_RADIUS * math.hypot(x1 - x0, y1 - y0)
    stuck = (values[:, 0] < 0) & (newton_distance(surface, run.params) <= radius)
    best, first = None, None
    for k, flag in enumerate(np.append(stuck, False)):
        if flag and first is None:
            first = k
        elif not flag and first is not None:
            if k - first >= PLATEAU_STEPS and (best is None or k - first > best[1] - best[0]):
                best = (first, k - 1)
            first = None
    return best


def steep_direction(surface, at) -> np.ndarray:
    """The Hessian's top eigenvector at ``at`` (a unit vector)."""
    _, vectors = _eigen(surface, np.array(at[0]), np.array(at[1]))
    return vectors[:, -1]


def flips(run, direction) -> np.ndarray:
    """Per step k ≥ 1, whether step k (x_{k+1} − x_k) along ``direction`` has the sign
    opposite to step k − 1's (steps too short to have a sign count as no flip)."""
    steps = np.diff(run.params, axis=0) @ direction
    if len(steps) < 2:
        return np.zeros(0, bool)
    signed = np.where(np.abs(steps) > STEP_NOISE * np.abs(steps).max(), steps, 0.0)
    return signed[1:] * signed[:-1] < 0


def zigzag_start(run, surface) -> int | None:
    """Where the final streak of steep-direction sign flips began, if the flips cover
    at least ZIGZAG_FLIPS of the tail's steps; else None."""
    flipped = flips(run, steep_direction(surface, nearest_minimum(run, surface)))
    tail = flipped[_tail_start(len(flipped)):]
    if len(tail) < TAIL_MIN or np.mean(tail) < ZIGZAG_FLIPS:
        return None
    calm = np.flatnonzero(~flipped)
    return int(calm[-1]) + 2 if len(calm) else 1


def _slow_errors(run, surface) -> np.ndarray:
    """(steps, directions): the error x_k − x* along each slow eigen-direction of the
    Hessian at the nearest minimum."""
    minimum = nearest_minimum(run, surface)
    values, vectors = _eigen(surface, np.array(minimum[0]), np.array(minimum[1]))
    slow = values <= SLOW_CURVATURE * values[0] if values[0] > 0 else values == values[0]
    return (run.params - minimum) @ vectors[:, slow]


def crossings(errors) -> list[np.ndarray]:
    """Per column of ``errors``, the steps k at which it changed sign from step k − 1."""
    signs = np.sign(errors)
    return [np.flatnonzero(col[1:] * col[:-1] < 0) + 1 for col in signs.T]


def overshoot_start(run, surface) -> int | None:
    """The first crossing of the minimum along a slow direction crossed at least
    OVERSHOOT_CROSSINGS times; None if the path does not ring."""
    firsts = [int(c[0]) for c in crossings(_slow_errors(run, surface))
              if len(c) >= OVERSHOOT_CROSSINGS]
    return min(firsts) if firsts else None


def overshoot(run, surface) -> float:
    """How far the path swings past the minimum: the largest |error| along a slow
    direction after that error first changed sign, relative to the farthest the path
    was from the minimum (usually its start; 0: no overshoot)."""
    errors = _slow_errors(run, surface)
    worst = 0.0
    for e, cross in zip(errors.T, crossings(errors), strict=True):
        if len(cross):
            worst = max(worst, float(np.abs(e[cross[0]:]).max()))
    farthest = float(np.linalg.norm(run.params - nearest_minimum(run, surface), axis=1).max())
    return worst / farthest if worst > 0 else 0.0


# --- what theory says about the fix -----------------------------------------------------

def largest_curvature(run, surface) -> float:
    """The largest Hessian eigenvalue along the path (the minimum's too): the L that
    bounds a stable step for this run."""
    values, _ = _eigen(surface, run.params[:, 0], run.params[:, 1])
    return max(float(values[:, -1].max()), theory.curvature(surface).L)


def stability_limit(run, L: float) -> float | None:
    h = run.hyperparameters
    return theory.max_stable_lr(run.optimizer, L, h.get("momentum", 0.0),
                                h.get("dampening", 0.0), h.get("weight_decay", 0.0))


def limit_formula(optimizer: str) -> str:
    return {"sgd": "2/L", "momentum": "2(1+μ)/L", "nesterov": "2(1+μ)/((1+2μ)L)"}[optimizer]


def rate(optimizer: str, hyper: dict, surface) -> float | None:
    """theory's predicted rate per step for these hyperparameters on ``surface``."""
    if optimizer not in theory.LINEAR_METHODS:
        return None
    return theory.predicted_rate(optimizer, hyper["lr"], theory.curvature(surface).eigenvalues,
                                 hyper.get("momentum", 0.0), hyper.get("dampening", 0.0),
                                 hyper.get("weight_decay", 0.0))


def fastest_momentum(optimizer: str, lr: float, surface, below: float = 1.0):
    """(μ, rate): the μ < ``below`` whose predicted rate at ``lr`` is smallest for heavy
    ball (``optimizer`` sgd or momentum) or Nesterov, on the surface's curvature."""
    family = "nesterov" if optimizer == "nesterov" else "momentum"
    grid = MOMENTUM_GRID[below > MOMENTUM_GRID]
    if family == "nesterov":
        grid = grid[grid > 0]
    if not len(grid):
        return below, rate(family, {"lr": lr, "momentum": below}, surface)
    rates = theory.predicted_rate_grid(family, lr, grid, theory.curvature(surface).eigenvalues)
    best = int(np.argmin(rates))
    return float(grid[best]), float(rates[best])


def steps_needed(run, gap: float, budget: int) -> int | None:
    """Steps to bring the gap to TOLERANCE at the run's measured rate, or None."""
    rho = theory.measured_rate(run.loss, run.final_loss - gap)
    if rho is None or not 0 < rho < 1:
        return None
    return budget + math.ceil(math.log(gap / TOLERANCE) / (-2.0 * math.log(rho)))


# --- the verdicts ------------------------------------------------------------------------

def _diverged(run, surface, step, what) -> Diagnosis:
    lr = run.hyperparameters["lr"]
    happened = f"the run {what} at step {step}" if what == "blew up" else (
        f"the loss {what} at step {step} and keeps rising")
    limit = None
    if run.optimizer in theory.LINEAR_METHODS:
        L = largest_curvature(run, surface)
        limit = stability_limit(run, L)
    if limit is None:
        cause = f"lr {fmt(lr)} too high for this surface: the steps grew until {happened}"
        return Diagnosis(run.optimizer, "diverged", step, cause, "lr too high: halve it",
                         {"lr": lr / 2})
    cause = (f"lr {fmt(lr)} > {limit_formula(run.optimizer)} = {fmt(limit)} for this "
             f"surface (L = {fmt(L)}): each step overshoots further along the steep "
             f"direction, until {happened}")
    if lr / 2 < limit:
        return Diagnosis(run.optimizer, "diverged", step, cause,
                         f"lr too high: halve it (to {fmt(lr / 2)})", {"lr": lr / 2})
    return Diagnosis(run.optimizer, "diverged", step, cause,
                     f"lr too high: halving it is not enough; take half the limit, "
                     f"{fmt(limit / 2)}", {"lr": limit / 2})


def _direction_name(vector, surface) -> str:
    labels = (surface.x_label.split()[0], surface.y_label.split()[0])
    axis = int(np.argmax(np.abs(vector)))
    if abs(vector[axis]) > 0.99:
        return f"along {labels[axis]}"
    v = vector if vector[axis] > 0 else -vector
    return f"along ({v[0]:.2f}, {v[1]:.2f}) in ({labels[0]}, {labels[1]})"


def _plateau(run, surface, stretch) -> Diagnosis:
    first, last = stretch
    x, y = run.params[first:last + 1].mean(axis=0)
    values, vectors = _eigen(surface, np.array(x), np.array(y))
    where = f"({x:.3g}, {y:.3g})"
    cause = (f"stuck near a saddle: the gradient stayed small for {last - first + 1} steps "
             f"(from step {first}) around {where}, a critical point "
             f"where the curvature is negative {_direction_name(vectors[:, 0], surface)} "
             f"(Hessian eigenvalue {fmt(values[0])})")
    lr = run.hyperparameters["lr"]
    (x0, x1), (y0, y1) = surface.window
    diagonal = math.hypot(x1 - x0, y1 - y0)
    negative = vectors[:, 0] * np.sign(vectors[np.argmax(np.abs(vectors[:, 0])), 0])
    along = run.params @ negative
    if along.max() - along.min() <= RIDGE_SPREAD * diagonal:  # momentum cannot help
        start = np.asarray(run.start, float) + SADDLE_RADIUS * diagonal * negative
        return Diagnosis(run.optimizer, "plateau", first, cause + (
            ": the path never leaves the ridge, so the gradient has no component along "
            "the way down"),
            f"no optimizer leaves an exact saddle without noise: move the start off the "
            f"ridge {_direction_name(negative, surface)}, to ({start[0]:.3g}, "
            f"{start[1]:.3g})", {"start": [float(start[0]), float(start[1])]})
    if run.optimizer == "sgd":
        return Diagnosis(run.optimizer, "plateau", first, cause,
                         f"raise μ: add momentum {PLATEAU_MOMENTUM:g}, which keeps the speed "
                         "the ridge does not give",
                         {"optimizer": "momentum", "momentum": PLATEAU_MOMENTUM})
    momentum = run.hyperparameters.get("momentum")
    if momentum is not None and momentum < PLATEAU_MOMENTUM:
        return Diagnosis(run.optimizer, "plateau", first, cause,
                         f"raise μ from {fmt(momentum)} to {PLATEAU_MOMENTUM:g}",
                         {"momentum": PLATEAU_MOMENTUM})
    return Diagnosis(run.optimizer, "plateau", first, cause,
                     f"a larger step crosses the flat ridge sooner: double lr to "
                     f"{fmt(2 * lr)}", {"lr": 2 * lr})


def _oscillating(run, surface, start) -> Diagnosis:
    lr = run.hyperparameters["lr"]
    L = largest_curvature(run, surface)
    linear = run.optimizer in theory.LINEAR_METHODS
    cause = (f"the step flips sign along the steep direction (curvature L = {fmt(L)}) "
             f"from step {start} on: a ravine with " + (
                 f"lr·L = {fmt(lr * L)} > 1" if linear and lr * L > 1
                 else "too large a step") + " and too little momentum")
    momentum = run.hyperparameters.get("momentum", 0.0)
    if run.optimizer in theory.LINEAR_METHODS:
        mu, best = fastest_momentum(run.optimizer, lr, surface)
        now = rate(run.optimizer, run.hyperparameters, surface)
        if mu > momentum and best < now:
            apply = {"momentum": mu}
            if run.optimizer == "sgd":
                apply = {"optimizer": "momentum", "momentum": mu}
            return Diagnosis(run.optimizer, "oscillating", start, cause,
                             f"momentum too low: raise μ to {fmt(mu)}, the fastest at lr "
                             f"{fmt(lr)} (predicted rate {fmt(best)} per step against "
                             f"{fmt(now)})", apply)
    return Diagnosis(run.optimizer, "oscillating", start, cause,
                     f"lr too high for the steep direction: halve it (to {fmt(lr / 2)})",
                     {"lr": lr / 2})


def _overshooting(run, surface, race, start) -> Diagnosis:
    momentum = run.hyperparameters.get("momentum", 0.0)
    lr = run.hyperparameters["lr"]
    swings = (f"the path swings through the minimum, again and again, from step {start} "
              f"(it overshoots by {fmt(overshoot(run, surface))} of its farthest distance)")
    if momentum > 0:
        cause = f"μ {fmt(momentum)} so high that {swings}"
    else:
        cause = f"steps too long near the minimum: {swings}"
    if race.noise > 0 or (race.batch_size or surface.n_points) < surface.n_points:
        cause += "; the gradient is noisy, and its noise kicks the path about the minimum"
    if run.optimizer in ("momentum", "nesterov"):
        mu, best = fastest_momentum(run.optimizer, lr, surface, below=momentum)
        now = rate(run.optimizer, run.hyperparameters, surface)
        if best < now:
            return Diagnosis(run.optimizer, "overshooting", start, cause,
                             f"momentum too high: lower μ to {fmt(mu)}, the fastest at lr "
                             f"{fmt(lr)} (predicted rate {fmt(best)} per step against "
                             f"{fmt(now)})", {"momentum": mu})
    if "momentum" in run.hyperparameters and momentum > ADAPTIVE_MOMENTUM:
        return Diagnosis(run.optimizer, "overshooting", start, cause,
                         f"momentum too high: lower it to {ADAPTIVE_MOMENTUM:g}",
                         {"momentum": ADAPTIVE_MOMENTUM})
    return Diagnosis(run.optimizer, "overshooting", start, cause,
                     f"steps too long near the minimum: halve lr (to {fmt(lr / 2)})",
                     {"lr": lr / 2})


def _slow(run, surface, race, gap) -> Diagnosis:
    lr = run.hyperparameters["lr"]
    momentum = run.hyperparameters.get("momentum", 0.0)
    measured = theory.measured_rate(run.loss, surface.f_min)
    said = "" if measured is None else f" (measured rate {fmt(measured)} per step)"
    cause = (f"steady but far from done: loss gap {fmt(gap)} after {race.steps} steps"
             f"{said}, tolerance {TOLERANCE:g}")
    if run.optimizer in theory.LINEAR_METHODS:
        mu, best = fastest_momentum(run.optimizer, lr, surface)
        now = rate(run.optimizer, run.hyperparameters, surface)
        if mu > momentum and best < now:
            if run.optimizer == "sgd":
                return Diagnosis(run.optimizer, "slow", None, cause,
                                 f"no momentum: add μ = {fmt(mu)}, the fastest at lr "
                                 f"{fmt(lr)} (predicted rate {fmt(best)} per step against "
                                 f"{fmt(now)})", {"optimizer": "momentum", "momentum": mu})
            return Diagnosis(run.optimizer, "slow", None, cause,
                             f"momentum too low: raise μ to {fmt(mu)} (predicted rate "
                             f"{fmt(best)} per step against {fmt(now)})", {"momentum": mu})
        c = theory.curvature(surface)
        if c.exact and c.m > 0:
            best_lr, best_mu, best_rate = theory.polyak_optimum(c.L, c.m)
            if best_rate < now:
                return Diagnosis(run.optimizer, "slow", None, cause,
                                 f"take Polyak's optimum lr {fmt(best_lr)}, μ {fmt(best_mu)} "
                                 f"(rate {fmt(best_rate)} per step against {fmt(now)})",
                                 {"optimizer": "momentum", "lr": best_lr,
                                  "momentum": best_mu})
    needed = steps_needed(run, gap, race.steps)
    if needed is not None and needed <= LIMITS["steps"]:
        return Diagnosis(run.optimizer, "slow", None, cause,
                         f"give it more steps: at its measured rate it reaches the "
                         f"tolerance in about {needed}", {"steps": needed})
    if run.optimizer not in theory.LINEAR_METHODS:
        # an adaptive method moves about lr per coordinate and step: cover the distance
        distance = float(np.linalg.norm(run.params[-1] - nearest_minimum(run, surface)))
        if distance / race.steps > 2 * lr:
            return Diagnosis(run.optimizer, "slow", None, cause,
                             f"lr too small for this budget: it moves about lr = {fmt(lr)} "
                             f"a step and is still {fmt(distance)} from the minimum; raise "
                             f"lr to {fmt(distance / race.steps)}",
                             {"lr": distance / race.steps})
    return Diagnosis(run.optimizer, "slow", None, cause,
                     f"steps too short for this budget: double lr (to {fmt(2 * lr)})",
                     {"lr": 2 * lr})
