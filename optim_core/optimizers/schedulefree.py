r"""``schedulefree.SGDScheduleFree`` and ``schedulefree.AdamWScheduleFree``.

Schedule-Free keeps two sequences: z, the base SGD (or Adam) iterate, and the average
x of the z's; the gradient is taken at y, between them. The parameters in train mode
are y; ``optimizer.eval()`` moves them to x. Here the parameters stepped are y (the
gradient point), and the point recorded at step k, whose loss is recorded, is x (the
evaluation point, what ``eval()`` gives): ``Family.eval_point``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, power, select
from ..params import Interval
from ._base import Family, X, Y, always, make, spec, zeros_like


class ScheduleFreeHyper(NamedTuple):
    lr: float
    momentum: float  # β1 (SGDScheduleFree's momentum, AdamWScheduleFree's betas[0])
    beta2: float
    eps: float
    weight_decay: float
    warmup_steps: int
    r: float
    weight_lr_power: float
    adaptive: bool  # AdamW's normalised gradient


class ScheduleFreeState(NamedTuple):
    count: int
    z: np.ndarray
    exp_avg_sq: np.ndarray
    weight_sum: np.ndarray  # the running sum of the average's weights (per run)


def schedulefree_coefficients(step, lr, warmup_steps, r, weight_lr_power, beta2):
    """Step ``step``'s warmed-up lr, its weight in the average and Adam's 1 − β₂^t.

    The package keeps ``lr_max``, the largest scheduled lr so far; the scheduled lr
    (k+1)/warmup · lr never decreases (rounding is monotone), so lr_max is this step's."""
    sched = select(step - 1.0 < warmup_steps, step / np.maximum(warmup_steps, 1.0), 1.0)
    scheduled_lr = lr * sched
    weight = power(step, r) * power(scheduled_lr, weight_lr_power)
    return scheduled_lr, weight, 1.0 - power(beta2, step)


def average_weight(weight, weight_sum):
    """c_{k+1} = weight / weight_sum, 0 while the sum is 0 (the package's
    ZeroDivisionError branch)."""
    safe = select(weight_sum == 0.0, 1.0, weight_sum)
    return select(weight_sum == 0.0, 0.0, weight / safe)


def schedulefree_rule(p, g, z, v, h: ScheduleFreeHyper, scheduled_lr, ckp1,
                      bias_correction2):
    """One ``step()`` (the package's foreach path, operation for operation) of y = p."""
    v_new = v * h.beta2 + (1.0 - h.beta2) * g * g
    denom = np.sqrt(v_new / bias_correction2) + h.eps
    d = select(h.adaptive, g / denom, g)
    v = select(h.adaptive, v_new, v)
    d = select(h.weight_decay != 0.0, d + h.weight_decay * p, d)
    p = lerp(p, z, ckp1)
    p = p + scheduled_lr * (h.momentum * (1.0 - ckp1) - 1.0) * d
    return p, z - scheduled_lr * d, v


def evaluation_point(y, z, momentum):
    """``optimizer.eval()``: x = lerp(y, z, 1 − 1/β₁)."""
    return lerp(y, z, 1.0 - 1.0 / momentum)


def init(params, h):
    params = np.asarray(params, dtype=np.float64)
    zeros = zeros_like(params)
    return ScheduleFreeState(0, params.copy(), zeros, zeros)


def update(grads, state, params, h):
    count = state.count + 1
    scheduled_lr, weight, bc2 = schedulefree_coefficients(
        float(count), h.lr, h.warmup_steps, h.r, h.weight_lr_power, h.beta2)
    weight_sum = state.weight_sum + weight
    ckp1 = average_weight(weight, weight_sum)
    params, z, v = schedulefree_rule(params, grads, state.z, state.exp_avg_sq, h=h,
                                     scheduled_lr=scheduled_lr, ckp1=ckp1,
                                     bias_correction2=bc2)
    return params, ScheduleFreeState(count, z, v, weight_sum)


def eval_point(params, state, h):
    return evaluation_point(params, state.z, h.momentum)


def kernel_schedule(step, table, c):
    return schedulefree_coefficients(step, table[c, Column.LR], table[c, Column.WARMUP_STEPS],
                                     table[c, Column.R], table[c, Column.WEIGHT_LR_POWER],
                                     table[c, Column.BETA2])


def kernel_axis(step, p, g, states, c, axis, h, coefficients):
    scheduled_lr, ckp1, bc2 = coefficients
    z, v = Slot.Z, Slot.EXP_AVG_SQ
    if step == 1.0:  # the package's z = clone(p) at the first step (states start at 0)
        states[c, axis, z] = p
    p, states[c, axis, z], states[c, axis, v] = schedulefree_rule(
        p, g, states[c, axis, z], states[c, axis, v], h=h, scheduled_lr=scheduled_lr,
        ckp1=ckp1, bias_correction2=bc2)
    return p


def kernel_coefficients(step, states, c, h, scalars):
    """The weight sum is one per run (kept on the x row): updated once a step."""
    scheduled_lr, weight, bc2 = scalars
    weight_sum = states[c, X, Slot.WEIGHT_SUM] + weight
    states[c, X, Slot.WEIGHT_SUM] = weight_sum
    return scheduled_lr, average_weight(weight, weight_sum), bc2


def kernel_eval_point(step, x, y, states, c, table):
    if step == 1.0:  # before the first step there is no z: eval() leaves p
        return x, y
    momentum = table[c, Column.MOMENTUM]
    return (evaluation_point(x, states[c, X, Slot.Z], momentum),
            evaluation_point(y, states[c, Y, Slot.Z], momentum))


def is_adaptive(h) -> bool:
    """Only AdamWScheduleFree keeps ``exp_avg_sq``."""
    return bool(h.adaptive)


FAMILY = Family("schedulefree", ScheduleFreeHyper, ScheduleFreeState,
                kernel_axis=kernel_axis, kernel_coefficients=kernel_coefficients,
                kernel_schedule=kernel_schedule,
                schedule_columns=("lr", "warmup_steps", "r", "weight_lr_power", "beta2"),
                eval_point=eval_point, kernel_eval_point=kernel_eval_point,
                # the package's step count ``k`` and ``weight_sum`` live in the param group
                torch_state={"z": always, "exp_avg_sq": is_adaptive})
Column, Slot = FAMILY.columns, FAMILY.slots

_MATH = r"""
    .. math::
        c_{k+1} &= \frac{w_{k+1}}{\sum_{i \le k+1} w_i}, \quad
        w_k = k^r\,\gamma_{\max,k}^{p}, \quad
        \gamma_k = \gamma \min\!\Big(1, \frac{k}{\text{warmup}}\Big) \\
        d_k &= \tilde g_k + \lambda y_k, \quad
        y_{k+1} = (1-c_{k+1})\,y_k + c_{k+1} z_k
        + \gamma_k\big(\beta_1(1-c_{k+1}) - 1\big)\,d_k, \quad
        z_{k+1} = z_k - \gamma_k d_k

    with the gradient g_k taken at y_k (z₀ = y₀). The point reported, and whose loss is
    recorded, is the evaluation point ``optimizer.eval()`` gives,
    x_k = y_k + (1 − 1/β₁)(z_k − y_k): the average of the z's (the drawn path); y_k,
    where the gradient is taken, is drawn as a thin path and exported as
    ``grad_point_x``, ``grad_point_y``."""


def sgd_schedulefree(*, lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0,
                     weight_lr_power=2.0):
    return make("sgd_schedulefree", FAMILY, locals(), init, update,
                fixed=dict(beta2=0.0, eps=0.0, adaptive=False))


sgd_schedulefree.__doc__ = r"""Schedule-Free SGD: ``schedulefree.SGDScheduleFree(lr, momentum,
    weight_decay, warmup_steps, r, weight_lr_power)``, with g̃ = g.
""" + _MATH + r"""

    Args:
        lr (γ): learning rate. Default 1.0.
        momentum (β₁): interpolation between z and x, in (0, 1). Default 0.9.
        weight_decay (λ): L2 penalty added to g̃ at y. Default 0.
        warmup_steps: linear warmup of the lr over this many steps. Default 0.
        r: power of k in the average's weights. Default 0.
        weight_lr_power (p): power of the largest lr so far in the weights. Default 2.

    References: Defazio et al., "The Road Less Scheduled" (NeurIPS 2024).
    """


def adamw_schedulefree(*, lr=0.0025, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                       warmup_steps=0, r=0.0, weight_lr_power=2.0):
    return make("adamw_schedulefree", FAMILY, locals(), init, update,
                fixed=dict(adaptive=True))


adamw_schedulefree.__doc__ = r"""Schedule-Free AdamW: ``schedulefree.AdamWScheduleFree(lr,
    betas=(momentum, beta2), eps, weight_decay, warmup_steps, r, weight_lr_power)``, with
    Adam's normalised gradient g̃_k = g_k / (√(v_k / (1 − β₂^k)) + ε),
    v_k = β₂ v_{k−1} + (1 − β₂) g_k².
""" + _MATH + r"""

    Args:
        lr (γ): learning rate. Default 0.0025.
        momentum (β₁): betas[0], in (0, 1). Default 0.9.
        beta2 (β₂): decay of v. Default 0.999.
        eps (ε): Default 1e-8.
        weight_decay (λ): added to g̃ at y (after the normalisation). Default 0.
        warmup_steps, r, weight_lr_power: as :func:`sgd_schedulefree`.

    References: Defazio et al., "The Road Less Scheduled" (NeurIPS 2024).
    """

_CONSTRAINTS = {
    "momentum": Interval(float, 0.0, 1.0, "neither",
                         why="schedulefree needs 0 < β₁ < 1: eval() divides by it"),
    "warmup_steps": Interval(int, 0, None, "left"),
    "r": Interval(float, 0.0, None, "left"),
    "weight_lr_power": Interval(float, 0.0, None, "left"),
}
SPECS = (
    spec(sgd_schedulefree, title="SF-SGD", family=FAMILY, group="recent",
         torch="schedulefree.SGDScheduleFree(lr, momentum=μ)", constraints=_CONSTRAINTS),
    spec(adamw_schedulefree, title="SF-AdamW", family=FAMILY, group="recent",
         torch="schedulefree.AdamWScheduleFree(lr, betas=(μ, beta2))",
         constraints=_CONSTRAINTS),
)
