r"""``torch.optim.Adamax``: Adam with the infinity norm."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, power
from ._base import Family, always, make, spec, zeros_like


class AdamaxHyper(NamedTuple):
    lr: float
    momentum: float  # β1
    beta2: float
    eps: float
    weight_decay: float


class AdamaxState(NamedTuple):
    count: int
    exp_avg: np.ndarray
    exp_inf: np.ndarray


def adamax_bias_correction(step, beta1):
    """1 − β1^t, as torch computes it with Python floats."""
    return 1.0 - power(beta1, step)


def adamax_rule(p, g, m, u, h: AdamaxHyper, bias_correction):
    """One ``torch.optim.Adamax`` step (non-capturable, single-tensor path)."""
    g = g + h.weight_decay * p
    m = lerp(m, g, 1.0 - h.momentum)
    u = np.maximum(u * h.beta2, np.abs(g) + h.eps)
    clr = h.lr / bias_correction
    return p + -clr * m / u, m, u


def init(params, h):
    zeros = zeros_like(params)
    return AdamaxState(0, zeros, zeros)


def update(grads, state, params, h):
    count = state.count + 1
    params, m, u = adamax_rule(params, grads, state.exp_avg, state.exp_inf, h=h,
                               bias_correction=adamax_bias_correction(float(count), h.momentum))
    return params, AdamaxState(count, m, u)


def kernel_schedule(step, table, c):
    return adamax_bias_correction(step, table[c, Column.MOMENTUM]), 0.0, 0.0


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    m, u = Slot.EXP_AVG, Slot.EXP_INF
    p, states[c, axis, m], states[c, axis, u] = adamax_rule(
        p, g, states[c, axis, m], states[c, axis, u], h=h, bias_correction=scalars[0])
    return p


FAMILY = Family("adamax", AdamaxHyper, AdamaxState, kernel_axis=kernel_axis,
                kernel_schedule=kernel_schedule, schedule_columns=("momentum",),
                torch_state={"count": always, "exp_avg": always, "exp_inf": always})
Column, Slot = FAMILY.columns, FAMILY.slots


def adamax(*, lr=2e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    r"""Adamax: ``torch.optim.Adamax(lr, betas=(momentum, beta2), eps, weight_decay)``.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        u_t &\leftarrow \max(\beta_2 u_{t-1},\ |g_t| + \epsilon), \quad
        \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t}

    torch adds ε inside the maximum (the paper has none).

    Args:
        lr (γ): learning rate. Default 2e-3.
        momentum (β₁): decay of the first moment, in [0, 1). Default 0.9.
        beta2 (β₂): decay of the infinity norm, in [0, 1). Default 0.999.
        eps (ε): Default 1e-8.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015),
    section 7.1.
    """
    return make("adamax", FAMILY, locals(), init, update)


SPECS = (spec(adamax, title="Adamax", family=FAMILY, group="adaptive",
              torch="torch.optim.Adamax(lr, betas=(μ, beta2))"),)
