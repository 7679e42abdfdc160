r"""``torch.optim.RAdam`` (with decoupled weight decay)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import power, select
from ._base import Family, always, make, spec, zeros_like
from .adam import adam_moments


class RAdamHyper(NamedTuple):
    lr: float
    momentum: float  # β1
    beta2: float
    eps: float
    weight_decay: float
    decoupled_weight_decay: bool


class RAdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


def radam_coefficients(step, beta1, beta2):
    """RAdam's per-step scalars: (1 − β1^t, √(1 − β2^t), r_t), with r_t = 0 where
    ρ_t ≤ 5 (no rectification: r_t > 0 wherever torch computes it)."""
    bias_correction1 = 1.0 - power(beta1, step)
    bias_correction2 = 1.0 - power(beta2, step)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * power(beta2, step) / bias_correction2
    rectified = rho_t > 5.0
    ratio = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
             / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
    # pow only where torch calls it: elsewhere the ratio may be negative (a domain error)
    rect = power(select(rectified, ratio, 1.0), 0.5)
    return bias_correction1, power(bias_correction2, 0.5), select(rectified, rect, 0.0)


def radam_rule(p, g, m, v, h: RAdamHyper, coefficients):
    """One ``torch.optim.RAdam`` step (non-capturable, single-tensor path), with the
    step's :func:`radam_coefficients`."""
    bias_correction1, bias_correction2_sqrt, rect = coefficients
    p, g, m, v = adam_moments(p, g, m, v, h)
    bias_corrected = m / bias_correction1
    # torch's `scalar / tensor` is `tensor.reciprocal() * scalar`
    adaptive = (1.0 / (np.sqrt(v) + h.eps)) * bias_correction2_sqrt
    step = select(rect > 0.0, bias_corrected * h.lr * adaptive * rect, bias_corrected * h.lr)
    return p - step, m, v


def init(params, h):
    zeros = zeros_like(params)
    return RAdamState(0, zeros, zeros)


def update(grads, state, params, h):
    count = state.count + 1
    # NumPy scalars: a zero in the (unused) ratio's denominator gives inf, not an error
    coefficients = radam_coefficients(np.float64(count), np.asarray(h.momentum, float),
                                      np.asarray(h.beta2, float))
    params, m, v = radam_rule(params, grads, state.exp_avg, state.exp_avg_sq, h=h,
                              coefficients=coefficients)
    return params, RAdamState(count, m, v)


def kernel_schedule(step, table, c):
    return radam_coefficients(step, table[c, Column.MOMENTUM], table[c, Column.BETA2])


def kernel_axis(step, p, g, states, c, axis, h, coefficients):
    m, v = Slot.EXP_AVG, Slot.EXP_AVG_SQ
    p, states[c, axis, m], states[c, axis, v] = radam_rule(
        p, g, states[c, axis, m], states[c, axis, v], h=h, coefficients=coefficients)
    return p


FAMILY = Family("radam", RAdamHyper, RAdamState, kernel_axis=kernel_axis,
                kernel_schedule=kernel_schedule,
                schedule_columns=("momentum", "beta2"),
                torch_state={"count": always, "exp_avg": always, "exp_avg_sq": always})
Column, Slot = FAMILY.columns, FAMILY.slots


def radam(*, lr=1e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
          decoupled_weight_decay=False):
    r"""RAdam: ``torch.optim.RAdam(lr, betas=(momentum, beta2), eps, weight_decay,
    decoupled_weight_decay)``.

    .. math::
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \hat m_t = m_t / (1-\beta_1^t) \\
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t} \\
        \theta_t &\leftarrow \begin{cases}
        \theta_{t-1} - \gamma\,\hat m_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\, r_t,
        \quad r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}
        {(\rho_\infty-4)(\rho_\infty-2)\rho_t}} & \rho_t > 5 \\
        \theta_{t-1} - \gamma\,\hat m_t & \text{otherwise (SGD with momentum)}
        \end{cases}

    The weight decay λ is added to the gradient, or with ``decoupled_weight_decay``
    applied as θ ← θ(1 − γλ) first (as AdamW).

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (β₁): decay of the first moment, in [0, 1). Default 0.9.
        beta2 (β₂): decay of the second moment, in [0, 1). Default 0.999.
        eps (ε): added to the denominator. Default 1e-8.
        weight_decay (λ): Default 0.
        decoupled_weight_decay: decay the parameter, not the gradient. Default False.

    References: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond"
    (ICLR 2020).
    """
    return make("radam", FAMILY, locals(), init, update)


SPECS = (spec(radam, title="RAdam", family=FAMILY, group="adaptive",
              torch="torch.optim.RAdam(lr, betas=(μ, beta2))"),)
