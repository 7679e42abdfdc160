r"""``torch.optim.SGD``: plain gradient descent, heavy-ball momentum and Nesterov."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import select
from ..params import CONSTRAINTS, Interval, InvalidParameterError
from ._base import Family, make, spec, zeros_like


class SGDHyper(NamedTuple):
    lr: float
    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool
    momentum_form: float  # MOMENTUM_FORMS' index: 0 pytorch, 1 sutskever, 2 ema


#: The three ways momentum is written (``momentum_form``); the table holds the index.
MOMENTUM_FORMS = CONSTRAINTS["momentum_form"].values
PYTORCH, SUTSKEVER, EMA = (float(i) for i in range(len(MOMENTUM_FORMS)))


class SGDState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray
    lookahead_offset: np.ndarray  # ema Nesterov: θ − (the point the gradient is taken at)


def sgd_rule(p, g, buf, first, h: SGDHyper):
    """One ``torch.optim.SGD`` step. ``h.dampening`` must be 0 where ``h.momentum`` is 0.

    With momentum 0 torch keeps no buffer; here the buffer is then ``0·buf + 1·g = g``,
    exactly, so one formula serves SGD, momentum and Nesterov.
    """
    g = g + h.weight_decay * p
    buf = select(first, g, buf * h.momentum + (1.0 - h.dampening) * g)
    direction = select(h.nesterov, g + h.momentum * buf, buf)
    return p - h.lr * direction, buf


def sutskever_rule(p, g, v, h: SGDHyper):
    """The Keras / TF2 form, the lr folded into the velocity (v₀ = 0):
    v ← μv − γg, θ ← θ + v; Nesterov θ ← θ + μv − γg. (``g`` has its weight decay.)"""
    v = v * h.momentum - h.lr * g
    return p + select(h.nesterov, h.momentum * v - h.lr * g, v), v


def ema_rule(p, g, v, offset, h: SGDHyper):
    """The averaged form (v₀ = 0): v ← βv + (1 − β)g, θ ← θ − γv. Its Nesterov takes
    the gradient at θ − γβv: the path recorded is that look-ahead point p = θ − offset,
    offset = γβv with the γ, β of the step that made v (θ itself at the start).
    (``g`` has its weight decay.)"""
    theta = p + offset
    v = v * h.momentum + (1.0 - h.momentum) * g
    theta = theta - h.lr * v
    offset = select(h.nesterov, h.lr * h.momentum * v, 0.0 * v)
    return theta - offset, v, offset


def any_form_rule(p, g, buf, offset, first, h: SGDHyper):
    """One step in ``h.momentum_form``: all three computed, one kept (no branch: a
    branch here made the whole compiled race loop 3× slower, torch's form included)."""
    torch_p, torch_buf = sgd_rule(p, g, buf, first, h)
    g = g + h.weight_decay * p
    sutskever_p, sutskever_buf = sutskever_rule(p, g, buf, h)
    ema_p, ema_buf, ema_offset = ema_rule(p, g, buf, offset, h)
    is_sutskever, is_ema = h.momentum_form == SUTSKEVER, h.momentum_form == EMA
    return (select(is_sutskever, sutskever_p, select(is_ema, ema_p, torch_p)),
            select(is_sutskever, sutskever_buf, select(is_ema, ema_buf, torch_buf)),
            select(is_ema, ema_offset, offset))


def effective(hyper: dict) -> dict:
    """torch ignores dampening without momentum; with the shared formula that means 0."""
    momentum, dampening = hyper["momentum"], hyper["dampening"]
    hyper = {**hyper, "momentum_form": float(MOMENTUM_FORMS.index(hyper["momentum_form"]))}
    if np.ndim(momentum) == 0 and np.ndim(dampening) == 0:
        return {**hyper, "dampening": 0.0 if momentum == 0.0 else dampening}
    return {**hyper, "dampening": np.where(np.asarray(momentum) == 0.0, 0.0, dampening)}


def init(params, h):
    return SGDState(0, zeros_like(params), zeros_like(params))


def update(grads, state, params, h):
    params, buf, offset = any_form_rule(params, grads, state.momentum_buffer,
                                        state.lookahead_offset, state.count == 0, h)
    return params, SGDState(state.count + 1, buf, offset)


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    buf, offset = Slot.MOMENTUM_BUFFER, Slot.LOOKAHEAD_OFFSET
    p, states[c, axis, buf], states[c, axis, offset] = any_form_rule(
        p, g, states[c, axis, buf], states[c, axis, offset], step == 1.0, h)
    return p


def holds_buffer(h) -> bool:
    """torch.optim.SGD keeps no state (not even a step count) without momentum."""
    return h.momentum != 0.0


FAMILY = Family("sgd", SGDHyper, SGDState, kernel_axis=kernel_axis, effective=effective,
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
                fixed=dict(momentum=0.0, dampening=0.0, nesterov=False,
                           momentum_form="pytorch"))


def _check_form(caller: str, momentum_form, dampening) -> None:
    """Dampening is torch's: the sutskever and ema forms have none of their own."""
    if momentum_form != "pytorch" and np.any(np.asarray(dampening) != 0.0):
        raise InvalidParameterError(
            f"The 'dampening' parameter of {caller} must be 0 with momentum_form "
            f"{momentum_form!r} (dampening belongs to the pytorch form). Got "
            f"{dampening!r} instead.", parameter="dampening", caller=caller,
            allowed="0 unless momentum_form is 'pytorch'", got=dampening)


def momentum(*, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0,
             momentum_form="pytorch"):
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
        momentum_form: ``pytorch`` (above), ``sutskever`` (v ← μv − γg, θ ← θ + v,
            v₀ = 0: equal to pytorch at a constant lr) or ``ema`` (v ← μv + (1−μ)g,
            θ ← θ − γv, v₀ = 0: pytorch at lr γ(1−μ)). Default ``pytorch``.

    References: Polyak, "Some methods of speeding up the convergence of iteration
    methods" (1964); Sutskever et al., "On the importance of initialization and
    momentum in deep learning" (ICML 2013).
    """
    _check_form("momentum", momentum_form, dampening)
    return make("momentum", FAMILY, locals(), init, update, fixed=dict(nesterov=False))


def nesterov(*, lr=1e-3, momentum=0.9, weight_decay=0.0, momentum_form="pytorch"):
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
        momentum_form: ``pytorch`` (above), ``sutskever`` (v ← μv − γg,
            θ ← θ + μv − γg) or ``ema`` (v ← μv + (1−μ)g, θ ← θ − γv, the gradient
            taken at θ − γμv; see :func:`ema_rule`). Default ``pytorch``.

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
