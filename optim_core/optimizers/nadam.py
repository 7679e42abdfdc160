r"""``torch.optim.NAdam``: Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import power
from ._base import Family, X, always, make, spec, zeros_like
from .adam import adam_moments


class NAdamHyper(NamedTuple):
    lr: float
    momentum: float  # β1
    beta2: float
    eps: float
    weight_decay: float
    momentum_decay: float
    decoupled_weight_decay: bool


class NAdamState(NamedTuple):
    count: int
    mu_product: np.ndarray  # one per run (the kernel keeps it on the x row)
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


def nadam_schedule(step, beta1, beta2, momentum_decay):
    """NAdam's per-step scalars that need ``pow``: (1 − β2^t, μ_t, μ_{t+1})."""
    bias_correction2 = 1.0 - power(beta2, step)
    mu = beta1 * (1.0 - 0.5 * power(0.96, step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * power(0.96, (step + 1.0) * momentum_decay))
    return bias_correction2, mu, mu_next


def nadam_coefficients(lr, mu, mu_next, mu_product):
    """(coefficient of g, coefficient of m, new μ-product) of one NAdam step."""
    mu_product = mu_product * mu
    mu_product_next = mu_product * mu_next
    grad_coefficient = -lr * (1.0 - mu) / (1.0 - mu_product)
    avg_coefficient = -lr * mu_next / (1.0 - mu_product_next)
    return grad_coefficient, avg_coefficient, mu_product


def nadam_rule(p, g, m, v, h: NAdamHyper, coefficients):
    """One ``torch.optim.NAdam`` step, with ``coefficients`` (1 − β2^t, the coefficient
    of g, the coefficient of m): :func:`nadam_schedule`'s first and
    :func:`nadam_coefficients`' first two."""
    bias_correction2, grad_coefficient, avg_coefficient = coefficients
    p, g, m, v = adam_moments(p, g, m, v, h)
    denom = np.sqrt(v / bias_correction2) + h.eps
    p = p + grad_coefficient * g / denom
    return p + avg_coefficient * m / denom, m, v


def init(params, h):
    params = np.asarray(params, dtype=np.float64)
    zeros = zeros_like(params)
    return NAdamState(0, np.ones(params.shape[:-1] + (1,)) if params.ndim else 1.0, zeros,
                      zeros)


def update(grads, state, params, h):
    count = state.count + 1
    bc2, mu, mu_next = nadam_schedule(float(count), h.momentum, h.beta2, h.momentum_decay)
    grad_coef, avg_coef, mu_product = nadam_coefficients(h.lr, mu, mu_next, state.mu_product)
    params, m, v = nadam_rule(params, grads, state.exp_avg, state.exp_avg_sq, h=h,
                              coefficients=(bc2, grad_coef, avg_coef))
    return params, NAdamState(count, mu_product, m, v)


def kernel_init(states, c, table):
    states[c, X, Slot.MU_PRODUCT] = 1.0


def kernel_schedule(step, table, c):
    return nadam_schedule(step, table[c, Column.MOMENTUM], table[c, Column.BETA2],
                          table[c, Column.MOMENTUM_DECAY])


def kernel_axis(step, p, g, states, c, axis, h, coefficients):
    m, v = Slot.EXP_AVG, Slot.EXP_AVG_SQ
    p, states[c, axis, m], states[c, axis, v] = nadam_rule(
        p, g, states[c, axis, m], states[c, axis, v], h=h, coefficients=coefficients)
    return p


def kernel_coefficients(step, states, c, h, scalars):
    """The μ-product is one per run (kept on the x row): updated once a step."""
    bc2, mu, mu_next = scalars
    grad_coef, avg_coef, states[c, X, Slot.MU_PRODUCT] = nadam_coefficients(
        h.lr, mu, mu_next, states[c, X, Slot.MU_PRODUCT])
    return bc2, grad_coef, avg_coef


FAMILY = Family("nadam", NAdamHyper, NAdamState, kernel_axis=kernel_axis,
                kernel_coefficients=kernel_coefficients,
                kernel_schedule=kernel_schedule,
                kernel_init=kernel_init,
                schedule_columns=("momentum", "beta2", "momentum_decay"),
                torch_state={"count": always, "mu_product": always, "exp_avg": always,
                             "exp_avg_sq": always}, scalar_state=("mu_product",))
Column, Slot = FAMILY.columns, FAMILY.slots


def nadam(*, lr=2e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
          momentum_decay=4e-3, decoupled_weight_decay=False):
    r"""NAdam: ``torch.optim.NAdam(lr, betas=(momentum, beta2), eps, weight_decay,
    momentum_decay, decoupled_weight_decay)``.

    .. math::
        \mu_t &= \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \quad
        \textstyle\Pi_t = \prod_{i\le t}\mu_i \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \hat v_t = v_t / (1-\beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1}
        - \gamma\frac{1-\mu_t}{1-\Pi_t}\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
        - \gamma\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\frac{m_t}{\sqrt{\hat v_t}+\epsilon}

    Args:
        lr (γ): learning rate. Default 2e-3.
        momentum (β₁): in [0, 1). Default 0.9.
        beta2 (β₂): in [0, 1). Default 0.999.
        eps (ε): Default 1e-8.
        weight_decay (λ): Default 0.
        momentum_decay (ψ): Default 4e-3.
        decoupled_weight_decay: decay θ like AdamW instead of adding λθ to g. Default False.

    References: Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
    """
    return make("nadam", FAMILY, locals(), init, update)


SPECS = (spec(nadam, title="NAdam", family=FAMILY, group="adaptive",
              torch="torch.optim.NAdam(lr, betas=(μ, beta2))"),)
