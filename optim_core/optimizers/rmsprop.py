r"""``torch.optim.RMSprop`` (with momentum and the centered form)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, select
from ._base import Family, always, make, spec, zeros_like


class RMSpropHyper(NamedTuple):
    lr: float
    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool


class RMSpropState(NamedTuple):
    count: int
    square_avg: np.ndarray
    grad_avg: np.ndarray
    momentum_buffer: np.ndarray


def rmsprop_rule(p, g, square_avg, grad_avg, buf, h: RMSpropHyper):
    """One ``torch.optim.RMSprop`` step."""
    g = g + h.weight_decay * p
    square_avg = square_avg * h.alpha + (1.0 - h.alpha) * g * g
    grad_avg = select(h.centered, lerp(grad_avg, g, 1.0 - h.alpha), grad_avg)
    avg = np.sqrt(select(h.centered, square_avg + -1.0 * grad_avg * grad_avg, square_avg)) \
        + h.eps
    with_momentum = h.momentum > 0.0
    new_buf = buf * h.momentum + 1.0 * g / avg
    p = select(with_momentum, p + -h.lr * new_buf, p + -h.lr * g / avg)
    return p, square_avg, grad_avg, select(with_momentum, new_buf, buf)


def init(params, h):
    zeros = zeros_like(params)
    return RMSpropState(0, zeros, zeros, zeros)


def update(grads, state, params, h):
    params, sq, g_avg, buf = rmsprop_rule(params, grads, state.square_avg, state.grad_avg,
                                          state.momentum_buffer, h=h)
    return params, RMSpropState(state.count + 1, sq, g_avg, buf)


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    sq, avg, buf = Slot.SQUARE_AVG, Slot.GRAD_AVG, Slot.MOMENTUM_BUFFER
    p, states[c, axis, sq], states[c, axis, avg], states[c, axis, buf] = rmsprop_rule(
        p, g, states[c, axis, sq], states[c, axis, avg], states[c, axis, buf], h=h)
    return p


def holds_grad_avg(h) -> bool:
    return bool(h.centered)


def holds_buffer(h) -> bool:
    return h.momentum > 0.0


FAMILY = Family("rmsprop", RMSpropHyper, RMSpropState, kernel_axis=kernel_axis,
                torch_state={"count": always, "square_avg": always,
                             "momentum_buffer": holds_buffer, "grad_avg": holds_grad_avg})
Column, Slot = FAMILY.columns, FAMILY.slots


def rmsprop(*, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    r"""RMSprop: ``torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered)``.

    .. math::
        v_t &\leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        \tilde v_t = v_t - \bar g_t^2 \text{ if centered, with }
        \bar g_t \leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t \\
        b_t &\leftarrow \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t}+\epsilon}, \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t
        \quad(\text{without momentum: } \theta_t \leftarrow \theta_{t-1}
        - \gamma\, g_t / (\sqrt{\tilde v_t}+\epsilon))

    Args:
        lr (γ): learning rate. Default 1e-2.
        alpha (α): smoothing constant, in [0, 1). Default 0.99.
        eps (ε): Default 1e-8.
        weight_decay (λ): Default 0.
        momentum (μ): in [0, 1). Default 0.
        centered: normalise by the variance estimate. Default False.

    References: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning",
    lecture 6e (2012); Graves, "Generating Sequences With Recurrent Neural Networks"
    (2013) for the centered form.
    """
    return make("rmsprop", FAMILY, locals(), init, update)


SPECS = (spec(rmsprop, title="RMSprop", family=FAMILY, group="adaptive",
              torch="torch.optim.RMSprop(lr, alpha, momentum=μ)"),)
