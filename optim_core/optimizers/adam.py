r"""``torch.optim.Adam`` and ``torch.optim.AdamW`` (with AMSGrad)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, power, select
from ._base import Family, always, make, spec, zeros_like


class AdamHyper(NamedTuple):
    lr: float
    momentum: float  # β1
    beta2: float
    eps: float
    weight_decay: float
    amsgrad: bool
    decoupled_weight_decay: bool  # AdamW


class AdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray


def adam_bias_corrections(step, beta1, beta2):
    """Adam's per-step scalars that need ``pow``: (1 − β1^t, √(1 − β2^t)).

    They depend on (β1, β2, t) only, so runs that share the betas share them."""
    return 1.0 - power(beta1, step), power(1.0 - power(beta2, step), 0.5)


def adam_moments(p, g, m, v, h):
    """The Adam family's first half (Adam, AdamW, NAdam, RAdam): (p, g, m, v) after the
    weight decay (θ ← θ(1 − γλ) if decoupled, as AdamW, else g ← g + λθ) and the
    moments m ← lerp(m, g, 1 − β1), v ← β2·v + (1 − β2)·g²."""
    decoupled = h.decoupled_weight_decay
    p = select(decoupled, p * (1.0 - h.lr * h.weight_decay), p)
    g = select(decoupled, g, g + h.weight_decay * p)
    m = lerp(m, g, 1.0 - h.momentum)
    v = v * h.beta2 + (1.0 - h.beta2) * g * g
    return p, g, m, v


def adam_rule(p, g, m, v, v_max, h: AdamHyper, bias_correction1, bias_correction2_sqrt):
    """One ``torch.optim.Adam`` / ``AdamW`` step (non-capturable, single-tensor path)."""
    step_size = h.lr / bias_correction1
    p, g, m, v = adam_moments(p, g, m, v, h)
    v_max = select(h.amsgrad, np.maximum(v_max, v), v_max)
    denom = np.sqrt(select(h.amsgrad, v_max, v)) / bias_correction2_sqrt + h.eps
    return p + -step_size * m / denom, m, v, v_max


def init(params, h):
    zeros = zeros_like(params)
    return AdamState(0, zeros, zeros, zeros)


def update(grads, state, params, h):
    count = state.count + 1
    bc1, bc2_sqrt = adam_bias_corrections(float(count), h.momentum, h.beta2)
    params, m, v, v_max = adam_rule(params, grads, state.exp_avg, state.exp_avg_sq,
                                    state.max_exp_avg_sq, h=h, bias_correction1=bc1,
                                    bias_correction2_sqrt=bc2_sqrt)
    return params, AdamState(count, m, v, v_max)


def kernel_schedule(step, table, c):
    bc1, bc2_sqrt = adam_bias_corrections(step, table[c, Column.MOMENTUM],
                                          table[c, Column.BETA2])
    return bc1, bc2_sqrt, 0.0


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    bc1, bc2_sqrt, _ = scalars
    m, v, v_max = Slot.EXP_AVG, Slot.EXP_AVG_SQ, Slot.MAX_EXP_AVG_SQ
    p, states[c, axis, m], states[c, axis, v], states[c, axis, v_max] = adam_rule(
        p, g, states[c, axis, m], states[c, axis, v], states[c, axis, v_max], h=h,
        bias_correction1=bc1, bias_correction2_sqrt=bc2_sqrt)
    return p


def holds_max(h) -> bool:
    return bool(h.amsgrad)


FAMILY = Family("adam", AdamHyper, AdamState, kernel_axis=kernel_axis,
                kernel_schedule=kernel_schedule,
                schedule_columns=("momentum", "beta2"),
                torch_state={"count": always, "exp_avg": always, "exp_avg_sq": always,
                             "max_exp_avg_sq": holds_max})
Column, Slot = FAMILY.columns, FAMILY.slots


def adam(*, lr=1e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False):
    r"""Adam: ``torch.optim.Adam(lr, betas=(momentum, beta2), eps, weight_decay, amsgrad)``.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``amsgrad`` the denominator uses the running maximum of v.

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (β₁): decay of the first moment, in [0, 1). Default 0.9.
        beta2 (β₂): decay of the second moment, in [0, 1). Default 0.999.
        eps (ε): added to the denominator. Default 1e-8.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.
        amsgrad: use AMSGrad's maximum of v. Default False.

    References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
    Reddi et al., "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
    """
    return make("adam", FAMILY, locals(), init, update, fixed=dict(decoupled_weight_decay=False))


def adamw(*, lr=1e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
          amsgrad=False):
    r"""AdamW: ``torch.optim.AdamW``, Adam with decoupled weight decay.

    .. math::
        \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)

    then Adam's update with the raw gradient (λ is not added to g).

    Args: as :func:`adam`, but weight_decay (λ) defaults to 1e-2.

    References: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    """
    return make("adamw", FAMILY, locals(), init, update, fixed=dict(decoupled_weight_decay=True))


SPECS = (
    spec(adam, title="Adam", family=FAMILY, group="adaptive",
         torch="torch.optim.Adam(lr, betas=(μ, beta2))"),
    spec(adamw, title="AdamW", family=FAMILY, group="adaptive",
         torch="torch.optim.AdamW(lr, betas=(μ, beta2))"),
)
