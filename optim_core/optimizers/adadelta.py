r"""``torch.optim.Adadelta``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._base import Family, always, make, spec, zeros_like


class AdadeltaHyper(NamedTuple):
    lr: float
    rho: float
    eps: float
    weight_decay: float


class AdadeltaState(NamedTuple):
    count: int
    square_avg: np.ndarray
    acc_delta: np.ndarray


def adadelta_rule(p, g, square_avg, acc_delta, h: AdadeltaHyper):
    """One ``torch.optim.Adadelta`` step (single-tensor path)."""
    g = g + h.weight_decay * p
    square_avg = square_avg * h.rho + (1.0 - h.rho) * g * g
    std = np.sqrt(square_avg + h.eps)
    delta = np.sqrt(acc_delta + h.eps) / std * g
    acc_delta = acc_delta * h.rho + (1.0 - h.rho) * delta * delta
    return p + -h.lr * delta, square_avg, acc_delta


def init(params, h):
    zeros = zeros_like(params)
    return AdadeltaState(0, zeros, zeros)


def update(grads, state, params, h):
    params, square_avg, acc_delta = adadelta_rule(params, grads, state.square_avg,
                                                  state.acc_delta, h=h)
    return params, AdadeltaState(state.count + 1, square_avg, acc_delta)


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    sq, acc = Slot.SQUARE_AVG, Slot.ACC_DELTA
    p, states[c, axis, sq], states[c, axis, acc] = adadelta_rule(
        p, g, states[c, axis, sq], states[c, axis, acc], h=h)
    return p


FAMILY = Family("adadelta", AdadeltaHyper, AdadeltaState, kernel_axis=kernel_axis,
                torch_state={"count": always, "square_avg": always, "acc_delta": always})
Column, Slot = FAMILY.columns, FAMILY.slots


def adadelta(*, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    r"""Adadelta: ``torch.optim.Adadelta(lr, rho, eps, weight_decay)``.

    .. math::
        v_t &\leftarrow \rho v_{t-1} + (1-\rho) g_t^2, \quad
        \Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\, g_t \\
        u_t &\leftarrow \rho u_{t-1} + (1-\rho)\Delta_t^2, \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma\,\Delta_t

    The step's units are the parameter's (the ratio of two RMS), so lr scales it and
    defaults to 1.

    Args:
        lr (γ): scales the step. Default 1.0.
        rho (ρ): decay of both running averages, in [0, 1]. Default 0.9.
        eps (ε): inside both square roots. Default 1e-6.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012).
    """
    return make("adadelta", FAMILY, locals(), init, update)


SPECS = (spec(adadelta, title="Adadelta", family=FAMILY, group="adaptive",
              torch="torch.optim.Adadelta(lr, rho)"),)
