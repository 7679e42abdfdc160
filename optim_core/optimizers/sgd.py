r"""``torch.optim.SGD``: plain gradient descent, heavy-ball momentum and Nesterov."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import select
from ..params import Interval
from ._base import Family, X, Y, make, spec, zeros_like


class SGDHyper(NamedTuple):
    lr: float
    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool


class SGDState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray


def sgd_rule(p, g, buf, first, h: SGDHyper):
    """One ``torch.optim.SGD`` step. ``h.dampening`` must be 0 where ``h.momentum`` is 0.

    With momentum 0 torch keeps no buffer; here the buffer is then ``0·buf + 1·g = g``,
    exactly, so one formula serves SGD, momentum and Nesterov.
    """
    g = g + h.weight_decay * p
    buf = select(first, g, buf * h.momentum + (1.0 - h.dampening) * g)
    direction = select(h.nesterov, g + h.momentum * buf, buf)
    return p - h.lr * direction, buf


def effective(hyper: dict) -> dict:
    """torch ignores dampening without momentum; with the shared formula that means 0."""
    momentum, dampening = hyper["momentum"], hyper["dampening"]
    if np.ndim(momentum) == 0 and np.ndim(dampening) == 0:
        return {**hyper, "dampening": 0.0 if momentum == 0.0 else dampening}
    return {**hyper, "dampening": np.where(np.asarray(momentum) == 0.0, 0.0, dampening)}


def init(params, h):
    return SGDState(0, zeros_like(params))


def update(grads, state, params, h):
    params, buf = sgd_rule(params, grads, state.momentum_buffer, first=state.count == 0, h=h)
    return params, SGDState(state.count + 1, buf)


def kernel_step(step, x, y, gx, gy, states, c, table, scalars):
    h = SGDHyper(lr=table[c, Column.LR], momentum=table[c, Column.MOMENTUM],
                 dampening=table[c, Column.DAMPENING],
                 weight_decay=table[c, Column.WEIGHT_DECAY],
                 nesterov=table[c, Column.NESTEROV] != 0.0)
    first = step == 1.0
    buf = Slot.MOMENTUM_BUFFER
    x, states[c, X, buf] = sgd_rule(x, gx, states[c, X, buf], first=first, h=h)
    y, states[c, Y, buf] = sgd_rule(y, gy, states[c, Y, buf], first=first, h=h)
    return x, y


def holds_buffer(h) -> bool:
    """torch.optim.SGD keeps no state (not even a step count) without momentum."""
    return h.momentum != 0.0


FAMILY = Family("sgd", SGDHyper, SGDState, kernel_step, effective=effective,
                torch_state={"momentum_buffer": holds_buffer})
Column, Slot = FAMILY.columns, FAMILY.slots


def sgd(*, lr=1e-3, weight_decay=0.0):
    r"""Gradient descent: ``torch.optim.SGD(lr, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma g_t

    Args:
        lr (γ): learning rate. Default 1e-3.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Robbins & Monro, "A Stochastic Approximation Method" (1951).
    """
    return make("sgd", FAMILY, locals(), init, update,
                fixed=dict(momentum=0.0, dampening=0.0, nesterov=False))


def momentum(*, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0):
    r"""Heavy-ball momentum: ``torch.optim.SGD(lr, momentum, dampening, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t \leftarrow \begin{cases} g_1 & t = 1 \\ \mu b_{t-1} + (1-\tau) g_t & t > 1
        \end{cases}, \quad \theta_t \leftarrow \theta_{t-1} - \gamma b_t

    The buffer starts as the first gradient itself (not (1−τ)g₁), as in torch. Without
    dampening this is Polyak's heavy ball θₜ = θₜ₋₁ − γ∇f + μ(θₜ₋₁ − θₜ₋₂).

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (μ): momentum factor in [0, 1). Default 0.9 (torch's is 0).
        dampening (τ): dampening of the gradient in the buffer. Default 0.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Polyak, "Some methods of speeding up the convergence of iteration
    methods" (1964); Sutskever et al., "On the importance of initialization and
    momentum in deep learning" (ICML 2013).
    """
    return make("momentum", FAMILY, locals(), init, update, fixed=dict(nesterov=False))


def nesterov(*, lr=1e-3, momentum=0.9, weight_decay=0.0):
    r"""Nesterov momentum: ``torch.optim.SGD(lr, momentum, nesterov=True, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t \leftarrow \mu b_{t-1} + g_t \;(b_1 = g_1), \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma (g_t + \mu b_t)

    torch requires momentum > 0 and no dampening for Nesterov (dampening is fixed at 0
    here, momentum's range is narrowed in the spec below).

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (μ): momentum factor in (0, 1). Default 0.9 (torch's is 0).
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Nesterov, "A method for solving the convex programming problem with
    convergence rate O(1/k²)" (1983); Sutskever et al. (ICML 2013), in this form.
    """
    return make("nesterov", FAMILY, locals(), init, update,
                fixed=dict(dampening=0.0, nesterov=True))


SPECS = (
    spec(sgd, title="SGD", family=FAMILY, group="SGD family",
         torch="torch.optim.SGD(lr)"),
    spec(momentum, title="Momentum", family=FAMILY, group="SGD family",
         torch="torch.optim.SGD(lr, momentum=μ)"),
    spec(nesterov, title="Nesterov", family=FAMILY, group="SGD family",
         torch="torch.optim.SGD(lr, momentum=μ, nesterov=True)",
         constraints={"momentum": Interval(float, 0.0, 1.0, "neither",
                                           why="Nesterov needs μ > 0, as in torch.optim.SGD")}),
)
