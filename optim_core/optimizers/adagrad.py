r"""``torch.optim.Adagrad`` (dense gradients)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._base import Family, X, Y, always, make, spec


class AdagradHyper(NamedTuple):
    lr: float
    eps: float
    weight_decay: float
    lr_decay: float
    initial_accumulator_value: float


class AdagradState(NamedTuple):
    count: int
    sum: np.ndarray


def adagrad_coefficients(step, lr, lr_decay):
    """The decayed learning rate of step ``step``."""
    return lr / (1.0 + (step - 1.0) * lr_decay)


def adagrad_rule(p, g, state_sum, clr, h: AdagradHyper):
    """One ``torch.optim.Adagrad`` step with the decayed learning rate ``clr``."""
    g = g + h.weight_decay * p
    state_sum = state_sum + 1.0 * g * g
    std = np.sqrt(state_sum) + h.eps
    return p + -clr * g / std, state_sum


def init(params, h):
    params = np.asarray(params, dtype=np.float64)
    return AdagradState(0, np.zeros_like(params) + h.initial_accumulator_value)


def update(grads, state, params, h):
    count = state.count + 1
    clr = adagrad_coefficients(float(count), h.lr, h.lr_decay)
    params, state_sum = adagrad_rule(params, grads, state.sum, clr=clr, h=h)
    return params, AdagradState(count, state_sum)


def kernel_init(states, c, table):
    states[c, X, Slot.SUM] = table[c, Column.INITIAL_ACCUMULATOR_VALUE]
    states[c, Y, Slot.SUM] = table[c, Column.INITIAL_ACCUMULATOR_VALUE]


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    clr = adagrad_coefficients(step, h.lr, h.lr_decay)
    p, states[c, axis, Slot.SUM] = adagrad_rule(p, g, states[c, axis, Slot.SUM], clr=clr, h=h)
    return p


# torch.optim.Adagrad makes its state (step 0, sum s₀) in the constructor
FAMILY = Family("adagrad", AdagradHyper, AdagradState, kernel_axis=kernel_axis,
                kernel_init=kernel_init,
                torch_state={"count": always, "sum": always}, state_before_step=True)
Column, Slot = FAMILY.columns, FAMILY.slots


def adagrad(*, lr=1e-2, eps=1e-10, weight_decay=0.0, lr_decay=0.0,
            initial_accumulator_value=0.0):
    r"""Adagrad: ``torch.optim.Adagrad(lr, lr_decay, weight_decay,
    initial_accumulator_value, eps)``.

    .. math::
        \tilde\gamma_t = \frac{\gamma}{1 + (t-1)\eta}, \quad
        s_t \leftarrow s_{t-1} + g_t^2, \quad
        \theta_t \leftarrow \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    Args:
        lr (γ): learning rate. Default 1e-2.
        eps (ε): Default 1e-10.
        weight_decay (λ): Default 0.
        lr_decay (η): Default 0.
        initial_accumulator_value (s₀): Default 0.

    References: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization" (JMLR 2011).
    """
    return make("adagrad", FAMILY, locals(), init, update)


SPECS = (spec(adagrad, title="Adagrad", family=FAMILY, group="adaptive",
         torch="torch.optim.Adagrad(lr)"),)
