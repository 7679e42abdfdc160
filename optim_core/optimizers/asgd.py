r"""``torch.optim.ASGD``: averaged stochastic gradient descent."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import power, select
from ..params import Interval
from ._base import Family, X, Y, always, make, spec, zeros_like


class ASGDHyper(NamedTuple):
    lr: float
    lambd: float
    alpha: float
    t0: float
    weight_decay: float


class ASGDState(NamedTuple):
    """torch's: the step size η and averaging weight μ (one per tensor in torch, kept
    per coordinate here) and the average ``ax`` of the iterates."""

    count: int
    eta: np.ndarray
    mu: np.ndarray
    ax: np.ndarray


def asgd_coefficients(step, lr, lambd, alpha, t0):
    """(η, μ) after step ``step``: the values step ``step + 1`` uses."""
    eta = lr / power(1.0 + lambd * lr * step, alpha)
    mu = 1.0 / np.maximum(1.0, step - t0)
    return eta, mu


def asgd_rule(p, g, eta, mu, ax, h: ASGDHyper):
    """One ``torch.optim.ASGD`` step (non-capturable, single-tensor path) with this
    step's η and μ."""
    g = g + h.weight_decay * p
    p = p * (1.0 - h.lambd * eta)
    p = p + -eta * g
    ax = select(mu != 1.0, ax + (p - ax) * mu, p)
    return p, ax


def init(params, h):
    zeros = zeros_like(params)
    return ASGDState(0, zeros + h.lr, zeros + 1.0, zeros)


def update(grads, state, params, h):
    count = state.count + 1
    params, ax = asgd_rule(params, grads, state.eta, state.mu, state.ax, h=h)
    eta, mu = asgd_coefficients(float(count), h.lr, h.lambd, h.alpha, h.t0)
    zeros = np.zeros_like(ax)
    return params, ASGDState(count, zeros + eta, zeros + mu, ax)


def kernel_init(states, c, table):
    for axis in (X, Y):
        states[c, axis, Slot.ETA] = table[c, Column.LR]
        states[c, axis, Slot.MU] = 1.0


def kernel_schedule(step, table, c):
    eta, mu = asgd_coefficients(step, table[c, Column.LR], table[c, Column.LAMBD],
                                table[c, Column.ALPHA], table[c, Column.T0])
    return eta, mu, 0.0


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    """Steps with this step's η and μ (in the state), then keeps the next step's."""
    eta, mu, ax = Slot.ETA, Slot.MU, Slot.AX
    p, states[c, axis, ax] = asgd_rule(p, g, states[c, axis, eta], states[c, axis, mu],
                                       states[c, axis, ax], h=h)
    states[c, axis, eta], states[c, axis, mu] = scalars[0], scalars[1]
    return p


FAMILY = Family("asgd", ASGDHyper, ASGDState, kernel_axis=kernel_axis,
                kernel_schedule=kernel_schedule,
                kernel_init=kernel_init, schedule_columns=("lr", "lambd", "alpha", "t0"),
                torch_state={"count": always, "eta": always, "mu": always, "ax": always},
                scalar_state=("eta", "mu"))
Column, Slot = FAMILY.columns, FAMILY.slots


def asgd(*, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0):
    r"""ASGD: ``torch.optim.ASGD(lr, lambd, alpha, t0, weight_decay)``.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        \theta_t \leftarrow \theta_{t-1}(1 - \lambda_d\eta_t) - \eta_t g_t \\
        \bar\theta_t &\leftarrow \begin{cases} \theta_t & \mu_t = 1 \\
        \bar\theta_{t-1} + \mu_t(\theta_t - \bar\theta_{t-1}) & \text{otherwise}
        \end{cases} \\
        \eta_{t+1} &= \frac{\gamma}{(1 + \lambda_d\gamma t)^{\alpha}}, \quad
        \mu_{t+1} = \frac{1}{\max(1,\ t - t_0)}, \quad \eta_1 = \gamma,\ \mu_1 = 1

    The race draws θ_t, as torch's parameters are; the average θ̄ (torch's ``ax``) is
    state only. Here α is the exponent of η's decay, not RMSprop's smoothing constant.

    Args:
        lr (γ): the initial step size. Default 1e-2.
        lambd (λ_d): decay term (shrinks θ and the step size). Default 1e-4.
        alpha (α): power of the step size's decay, ≥ 0. Default 0.75.
        t0 (t₀): the step from which the average starts. Default 1e6.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Polyak & Juditsky, "Acceleration of Stochastic Approximation by
    Averaging" (SIAM J. Control Optim. 1992); Bottou, "Stochastic Gradient Descent
    Tricks" (2012) for this step size.
    """
    return make("asgd", FAMILY, locals(), init, update)


SPECS = (spec(asgd, title="ASGD", family=FAMILY, group="SGD family",
              torch="torch.optim.ASGD(lr, lambd, alpha, t0)",
              constraints={"alpha": Interval(
                  float, 0.0, None, "left",
                  why="ASGD's alpha is the power of the step size's decay, not RMSprop's "
                      "smoothing constant")}),)
