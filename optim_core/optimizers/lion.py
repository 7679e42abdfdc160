r"""Lion, as the ``lion-pytorch`` package implements it (``lion_pytorch.Lion``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import select
from ..params import Interval
from ._base import Family, always, make, spec, zeros_like


class LionHyper(NamedTuple):
    lr: float
    momentum: float  # β1
    beta2: float
    weight_decay: float
    decoupled_weight_decay: bool


class LionState(NamedTuple):
    count: int
    exp_avg: np.ndarray


def lion_rule(p, g, m, h: LionHyper):
    """One ``lion_pytorch.update_fn`` step, operation for operation.

    With ``decoupled_weight_decay`` lion-pytorch divides λ by the initial lr (here the
    lr: there is no scheduler), so the decay per step is lr·(λ/lr), not lr·λ."""
    wd = select(h.decoupled_weight_decay, h.weight_decay / h.lr, h.weight_decay)
    p = p * (1.0 - h.lr * wd)
    update = np.sign(m * h.momentum + (1.0 - h.momentum) * g)
    p = p + -h.lr * update
    return p, m * h.beta2 + (1.0 - h.beta2) * g


def init(params, h):
    return LionState(0, zeros_like(params))


def update(grads, state, params, h):
    params, m = lion_rule(params, grads, state.exp_avg, h=h)
    return params, LionState(state.count + 1, m)


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    p, states[c, axis, Slot.EXP_AVG] = lion_rule(p, g, states[c, axis, Slot.EXP_AVG], h=h)
    return p


# lion-pytorch keeps no step count
FAMILY = Family("lion", LionHyper, LionState, kernel_axis=kernel_axis,
                torch_state={"exp_avg": always})
Column, Slot = FAMILY.columns, FAMILY.slots


def lion(*, lr=1e-4, momentum=0.9, beta2=0.99, weight_decay=0.0,
         decoupled_weight_decay=False):
    r"""Lion: ``lion_pytorch.Lion(lr, betas=(momentum, beta2), weight_decay,
    decoupled_weight_decay)``, the sign of an interpolated momentum.

    .. math::
        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma\,
        \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big) \\
        m_t &\leftarrow \beta_2 m_{t-1} + (1-\beta_2) g_t

    Every coordinate moves by exactly γ (plus the decay) each step. The decay is
    decoupled (applied to θ, not added to g); with ``decoupled_weight_decay``
    lion-pytorch divides λ by the initial lr, so θ shrinks by (1 − λ) per step.

    Args:
        lr (γ): learning rate, > 0. Default 1e-4.
        momentum (β₁): interpolation of the update's sign, in [0, 1]. Default 0.9.
        beta2 (β₂): decay of the momentum m, in [0, 1]. Default 0.99.
        weight_decay (λ): Default 0.
        decoupled_weight_decay: λ is the decay per step (λ/γ in lion-pytorch's formula).
            Default False.

    References: Chen et al., "Symbolic Discovery of Optimization Algorithms"
    (NeurIPS 2023).
    """
    return make("lion", FAMILY, locals(), init, update)


_BETA = Interval(float, 0.0, 1.0, "both", why="as lion-pytorch asserts")
SPECS = (spec(lion, title="Lion", family=FAMILY, group="recent",
              torch="lion_pytorch.Lion(lr, betas=(μ, beta2))",
              constraints={"lr": Interval(float, 0.0, None, "neither",
                                          why="lion-pytorch asserts lr > 0"),
                           "momentum": _BETA, "beta2": _BETA}),)
