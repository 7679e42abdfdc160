r"""Inside a step: the quantities the map's arrows and the walkthrough table show, as data.

Everything here is read from a race simulated with ``state=True`` (the optimizer state
torch holds after k steps, ``Trajectory.state``), not recomputed from the update rules:
row k of a trajectory holds θ_k, the gradient g_k the optimizer received there, and the
state after k steps, so the step from θ_k is θ_{k+1} − θ_k and the state it computed is
row k + 1's. Arrays have one row per step k = 0..n−1 of the run, NaN where a quantity
does not exist (the step from the last row; the velocity before the first step is 0).

:func:`arrows` gives, per run, points and arrows over all steps (so that a browser can
scrub without asking again); :func:`walkthrough` the table of a few steps around k
with each column's formula, in the optimizer's own (torch's) convention, t = k + 1:

- every optimizer: the **gradient step** −γ·g_k (what plain SGD would do from θ_k) and
  the **step** θ_{k+1} − θ_k it took.
- heavy-ball momentum (torch: b_t = μ b_{t−1} + (1 − τ) g_t, θ_t = θ_{t−1} − γ b_t): the
  **momentum carry** −γ·μ·b_k, the part of the step that comes from the velocity; without
  dampening and weight decay, carry + gradient step = step.
- Nesterov. torch stores the look-ahead point: with b_t = μ b_{t−1} + g_t it updates
  p_t = p_{t−1} − γ (g_t + μ b_t), the gradient g_t taken at p_{t−1}. The textbook form
  (Sutskever et al. 2013) keeps the iterate θ and the velocity v:
  v_{k+1} = μ v_k − γ ∇f(θ_k + μ v_k), θ_{k+1} = θ_k + v_{k+1}, the gradient taken at
  the look-ahead θ_k + μ v_k. Put p_k = θ_k + μ v_k and v_k = −γ b_k (so θ_k =
  p_k + γ·μ·b_k). Then v_{k+1} = −γ(μ b_k + g_k) = −γ b_{k+1}, torch's buffer, and
  p_{k+1} = θ_{k+1} + μ v_{k+1} = p_k − μ v_k + (1 + μ) v_{k+1}
  = p_k + μ² v_k − (1 + μ) γ g_k = p_k − γ (g_k + μ (μ b_k + g_k))
  = p_k − γ (g_k + μ b_{k+1}): torch's update. (b_0 = 0: torch's first buffer is g_0,
  so θ_0 = p_0.) So the map marks the **look-ahead** p_k (torch's parameter, where the
  gradient is evaluated) and the **classical iterate** θ_k = p_k + γ·μ·b_k; from θ_k the
  momentum carry −γ·μ·b_k leads to p_k, and from p_k the gradient step −γ·g_k to
  θ_{k+1}: carry + gradient step = the classical step θ_{k+1} − θ_k = −γ b_{k+1}.
- Adam, AdamW, NAdam, RMSprop, Adagrad: the step next to −γ·g_k, and the **effective
  per-coordinate step size** the step used, γ/(√v̂ + ε) with the optimizer's own bias
  correction and v: Adam's √v_t/√(1 − β₂ᵗ) + ε (the running maximum with AMSGrad),
  NAdam's √(v_t/(1 − β₂ᵗ)) + ε, RMSprop's √v_t + ε (√(v_t − ḡ_t²) + ε centered),
  Adagrad's γ̃_t/(√s_t + ε) with γ̃_t = γ/(1 + (t − 1)η). For Adam the step is that size
  times the bias-corrected first moment m_t/(1 − β₁ᵗ); for RMSprop without momentum
  and Adagrad, that size times g_k.

Optimizers this module does not know (a new family) get the gradient step and the step,
and their state in the walkthrough without formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optimizers import OPTIMIZERS
from .simulate import Race, Trajectory

GRADIENT_STEP = "gradient_step"
STEP = "step"
MOMENTUM_CARRY = "momentum_carry"
ITERATE = "iterate"
LOOKAHEAD = "lookahead"
CLASSICAL = "classical"
TORCH_STEP = "torch_step"

LABELS = {
    GRADIENT_STEP: "gradient step −γ·∇f(θₖ) (what plain SGD would do)",
    STEP: "step θₖ₊₁ − θₖ",
    MOMENTUM_CARRY: "momentum carry −γ·μ·bₖ (the part of the step from the velocity)",
    ITERATE: "θₖ",
    LOOKAHEAD: "look-ahead pₖ: torch's parameter, where the gradient is evaluated",
    CLASSICAL: "classical iterate θₖ = pₖ + γ·μ·bₖ (the textbook form)",
    TORCH_STEP: "torch's step pₖ₊₁ − pₖ (of the look-ahead point)",
}


@dataclass(frozen=True)
class Arrow:
    """An arrow at every step k: from ``points[origin][k]`` along ``vector[k]``."""

    origin: str  # the name of the point it starts at
    vector: np.ndarray  # (n, 2); NaN where it does not exist


@dataclass(frozen=True)
class RunMechanism:
    """One run's mechanism at every step k = 0..n−1 (see the module docstring)."""

    optimizer: str
    points: dict[str, np.ndarray]  # name -> (n, 2)
    arrows: dict[str, Arrow]
    #: the effective per-coordinate step size γ/(√v̂ + ε) of the step from θ_k, (n, 2);
    #: None for optimizers without one
    step_size: np.ndarray | None

    @property
    def labels(self) -> dict[str, str]:
        """The hover label of each point and arrow."""
        return {name: LABELS[name] for name in (*self.points, *self.arrows)}

    def to_dict(self) -> dict:
        """JSON-ready: arrays as lists, NaN as None (nothing non-finite is sent)."""
        return {"optimizer": self.optimizer, "labels": self.labels,
                "points": {name: _listed(p) for name, p in self.points.items()},
                "arrows": {name: {"origin": a.origin, "vector": _listed(a.vector)}
                           for name, a in self.arrows.items()},
                "step_size": None if self.step_size is None else _listed(self.step_size)}


def _listed(value):
    """Arrays as (nested) lists, NaN as None: JSON without NaN."""
    if np.ndim(value):
        return [_listed(v) for v in value]
    return float(value) if np.isfinite(value) else None


def _needs_state(trajectory: Trajectory, caller: str) -> dict:
    if trajectory.state is None:
        raise ValueError(f"{caller} needs a race simulated with state=True")
    return trajectory.state


def _pair(state: dict, name: str) -> np.ndarray:
    return np.stack([state[f"{name}_x"], state[f"{name}_y"]], axis=1)


def _next(values: np.ndarray) -> np.ndarray:
    """Row k gets row k + 1's value (what the step from θ_k computed); NaN at the end."""
    out = np.full_like(values, np.nan, dtype=np.float64)
    out[:-1] = values[1:]
    return out


def _velocity(state: dict) -> np.ndarray:
    """The momentum buffer after k steps, 0 before the first (torch's b_1 is g_1)."""
    return np.nan_to_num(_pair(state, "momentum_buffer"), nan=0.0)


def _steps(points: np.ndarray) -> np.ndarray:
    return _next(points) - points


def _bias_power(beta, n: int) -> np.ndarray:
    """1 − βᵗ for the step from θ_k, t = k + 1, as a column."""
    return (1.0 - np.power(beta, np.arange(1, n + 1, dtype=np.float64)))[:, None]


def _step_size(trajectory: Trajectory) -> np.ndarray | None:
    """γ/(√v̂ + ε) of the step from θ_k, with the optimizer's own v and bias correction."""
    h, state, n = trajectory.hyperparameters, trajectory.state, len(trajectory.loss)
    family = OPTIMIZERS[trajectory.optimizer].family.name
    lr = h.get("lr")
    if family == "adam":
        v = _next(_pair(state, "max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"))
        return lr / (np.sqrt(v) / np.sqrt(_bias_power(h["beta2"], n)) + h["eps"])
    if family == "nadam":
        v = _next(_pair(state, "exp_avg_sq"))
        return lr / (np.sqrt(v / _bias_power(h["beta2"], n)) + h["eps"])
    if family == "rmsprop":
        v = _next(_pair(state, "square_avg"))
        if h["centered"]:
            v = v - _next(_pair(state, "grad_avg")) ** 2
        return lr / (np.sqrt(v) + h["eps"])
    if family == "adagrad":
        t = np.arange(1, n + 1, dtype=np.float64)[:, None]
        return (lr / (1.0 + (t - 1.0) * h["lr_decay"])
                / (np.sqrt(_next(_pair(state, "sum"))) + h["eps"]))
    return None


def run_mechanism(trajectory: Trajectory) -> RunMechanism:
    """The points, arrows and step sizes of one run at every step (``state=True``)."""
    state = _needs_state(trajectory, "mechanism.run_mechanism")
    h = trajectory.hyperparameters
    theta = trajectory.params
    lr = h.get("lr", np.nan)
    gradient_step = -lr * trajectory.grads
    momentum = h.get("momentum", 0.0)
    # the families whose step is −γ·b_{k+1} with b_{k+1} = μ·b_k + (a gradient term)
    heavy_ball = OPTIMIZERS[trajectory.optimizer].family.name in ("sgd", "rmsprop")
    carry = (-lr * momentum * _velocity(state) if heavy_ball and momentum > 0.0 else None)
    if trajectory.optimizer == "nesterov":
        classical = theta - carry
        return RunMechanism(
            trajectory.optimizer, {CLASSICAL: classical, LOOKAHEAD: theta},
            {MOMENTUM_CARRY: Arrow(CLASSICAL, carry),
             GRADIENT_STEP: Arrow(LOOKAHEAD, gradient_step),
             STEP: Arrow(CLASSICAL, _steps(classical)),
             TORCH_STEP: Arrow(LOOKAHEAD, _steps(theta))}, None)
    arrows = {GRADIENT_STEP: Arrow(ITERATE, gradient_step)}
    if carry is not None:
        arrows[MOMENTUM_CARRY] = Arrow(ITERATE, carry)
    arrows[STEP] = Arrow(ITERATE, _steps(theta))
    return RunMechanism(trajectory.optimizer, {ITERATE: theta}, arrows,
                        _step_size(trajectory))


def arrows(race: Race) -> list[RunMechanism]:
    """Per run of ``race`` (simulated with ``state=True``), its :class:`RunMechanism`."""
    return [run_mechanism(trajectory) for trajectory in race.runs]


# --- the walkthrough table ------------------------------------------------------------
# Per optimizer name (or family), each column's formula, t = k + 1, in torch's notation;
# the state columns are the family's state fields that torch holds.
_GRADIENT = "gₜ = ∇f(θₜ₋₁) + λ·θₜ₋₁"
_ADAM_MOMENTS = {"exp_avg": "mₜ = β₁·mₜ₋₁ + (1 − β₁)·gₜ",
                 "exp_avg_sq": "vₜ = β₂·vₜ₋₁ + (1 − β₂)·gₜ²",
                 "max_exp_avg_sq": "v̄ₜ = max(v̄ₜ₋₁, vₜ) (AMSGrad: v̄ replaces v below)"}
FORMULAS = {
    "sgd": {"gradient": _GRADIENT, "update": "Δθ = −γ·gₜ"},
    "momentum": {"gradient": _GRADIENT,
                 "momentum_buffer": "bₜ = μ·bₜ₋₁ + (1 − τ)·gₜ  (b₁ = g₁)",
                 "update": "Δθ = −γ·bₜ"},
    "nesterov": {"gradient": "gₜ = ∇f(pₜ₋₁) + λ·pₜ₋₁ (at the look-ahead p)",
                 "momentum_buffer": "bₜ = μ·bₜ₋₁ + gₜ  (b₁ = g₁)",
                 "update": "Δp = −γ·(gₜ + μ·bₜ)"},
    "adam": {"gradient": _GRADIENT, **_ADAM_MOMENTS,
             "update": "Δθ = −γ·m̂ₜ/(√v̂ₜ + ε), m̂ₜ = mₜ/(1 − β₁ᵗ), v̂ₜ = vₜ/(1 − β₂ᵗ)"},
    "adamw": {"gradient": "gₜ = ∇f(θₜ₋₁)", **_ADAM_MOMENTS,
              "update": "Δθ = −γ·λ·θₜ₋₁ − γ·m̂ₜ/(√v̂ₜ + ε), m̂ₜ = mₜ/(1 − β₁ᵗ), "
                        "v̂ₜ = vₜ/(1 − β₂ᵗ)"},
    "nadam": {"gradient": _GRADIENT,
              "mu_product": "Πₜ = Πₜ₋₁·μₜ, μₜ = β₁·(1 − ½·0.96^(t·ψ))",
              "exp_avg": _ADAM_MOMENTS["exp_avg"], "exp_avg_sq": _ADAM_MOMENTS["exp_avg_sq"],
              "update": "Δθ = −γ·(1 − μₜ)/(1 − Πₜ)·gₜ/(√v̂ₜ + ε) "
                        "− γ·μₜ₊₁/(1 − Πₜ·μₜ₊₁)·mₜ/(√v̂ₜ + ε), v̂ₜ = vₜ/(1 − β₂ᵗ)"},
    "rmsprop": {"gradient": _GRADIENT, "square_avg": "vₜ = α·vₜ₋₁ + (1 − α)·gₜ²",
                "grad_avg": "ḡₜ = α·ḡₜ₋₁ + (1 − α)·gₜ (centered: ṽₜ = vₜ − ḡₜ²)",
                "momentum_buffer": "bₜ = μ·bₜ₋₁ + gₜ/(√ṽₜ + ε)",
                "update": "Δθ = −γ·bₜ (without momentum: −γ·gₜ/(√ṽₜ + ε))"},
    "adagrad": {"gradient": _GRADIENT, "sum": "sₜ = sₜ₋₁ + gₜ²",
                "update": "Δθ = −γ̃ₜ·gₜ/(√sₜ + ε), γ̃ₜ = γ/(1 + (t − 1)·η)"},
}


@dataclass(frozen=True)
class Walkthrough:
    """Rows of the walkthrough table: per step k, θ_k, g_k, the state the step from θ_k
    computed (after k + 1 steps) and the update θ_{k+1} − θ_k. A coordinate pair is a
    list [x, y], a scalar a float; None where it does not exist (the last row's step)."""

    optimizer: str
    columns: tuple[str, ...]  # "k", "theta", "gradient", state fields..., "update"
    formulas: dict[str, str]  # column -> its formula (empty for k and theta)
    rows: list[dict]


def walkthrough(trajectory: Trajectory, k: int, around: int = 2) -> Walkthrough:
    """The table of steps k − around … k + around (those the run has) of ``trajectory``
    (``state=True``). The first five steps are ``walkthrough(trajectory, 2)``."""
    state = _needs_state(trajectory, "mechanism.walkthrough")
    n = len(trajectory.loss)
    family = OPTIMIZERS[trajectory.optimizer].family
    formulas = FORMULAS.get(trajectory.optimizer, FORMULAS.get(family.name, {}))
    fields = [column.field for column in family.state_columns
              if column.field != "count" and not np.all(np.isnan(state[column.name]))]
    fields = list(dict.fromkeys(fields))
    computed = {}  # per field, its value after k + 1 steps, (n, 2) or (n,)
    for name in fields:
        scalar = name in family.scalar_state
        computed[name] = _next(state[name] if scalar else _pair(state, name))
    update = _steps(trajectory.params)
    columns = ("k", "theta", "gradient", *fields, "update")
    rows = []
    for step in range(max(k - around, 0), min(k + around, n - 1) + 1):
        rows.append({"k": step, "theta": _listed(trajectory.params[step]),
                     "gradient": _listed(trajectory.grads[step]),
                     **{name: _listed(computed[name][step]) for name in fields},
                     "update": _listed(update[step])})
    return Walkthrough(trajectory.optimizer, columns,
                       {column: formulas.get(column, "") for column in columns}, rows)
