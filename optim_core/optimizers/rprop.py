r"""``torch.optim.Rprop``: resilient backpropagation, one step size per coordinate."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import select
from ._base import Family, X, Y, always, make, spec, zeros_like


class RpropHyper(NamedTuple):
    """The pairs ``etas``, ``step_sizes`` as torch's ``_single_tensor_rprop`` names them."""

    lr: float
    etaminus: float
    etaplus: float
    step_size_min: float
    step_size_max: float


class RpropState(NamedTuple):
    count: int
    prev: np.ndarray
    step_size: np.ndarray


def rprop_rule(p, g, prev, step_size, h: RpropHyper):
    """One ``torch.optim.Rprop`` step (non-capturable, single-tensor path)."""
    product = g * prev  # finite: the race cuts a run before a non-finite gradient
    factor = select(product > 0.0, h.etaplus, select(product < 0.0, h.etaminus, 1.0))
    step_size = np.minimum(np.maximum(step_size * factor, h.step_size_min), h.step_size_max)
    g = select(factor == h.etaminus, 0.0, g)  # after a sign change: no step, no memory
    return p + -1.0 * np.sign(g) * step_size, g, step_size


def effective(hyper: dict) -> dict:
    """The pairs as the rule's four columns (a pair is two floats or a (runs, 2) array)."""
    out = {k: v for k, v in hyper.items() if k not in ("etas", "step_sizes")}
    out["etaminus"], out["etaplus"] = _halves(hyper["etas"])
    out["step_size_min"], out["step_size_max"] = _halves(hyper["step_sizes"])
    return out


def _halves(pair):
    if np.ndim(pair) == 2:
        return pair[:, :1], pair[:, 1:]
    return pair[0], pair[1]


def init(params, h):
    zeros = zeros_like(params)
    return RpropState(0, zeros, zeros + h.lr)


def update(grads, state, params, h):
    params, prev, step_size = rprop_rule(params, grads, state.prev, state.step_size, h=h)
    return params, RpropState(state.count + 1, prev, step_size)


def kernel_init(states, c, table):
    states[c, X, Slot.STEP_SIZE] = table[c, Column.LR]
    states[c, Y, Slot.STEP_SIZE] = table[c, Column.LR]


def kernel_axis(step, p, g, states, c, axis, h, scalars):
    prev, size = Slot.PREV, Slot.STEP_SIZE
    p, states[c, axis, prev], states[c, axis, size] = rprop_rule(
        p, g, states[c, axis, prev], states[c, axis, size], h=h)
    return p


FAMILY = Family("rprop", RpropHyper, RpropState, kernel_axis=kernel_axis, kernel_init=kernel_init,
                effective=effective,
                torch_state={"count": always, "prev": always, "step_size": always})
Column, Slot = FAMILY.columns, FAMILY.slots


def rprop(*, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0)):
    r"""Rprop: ``torch.optim.Rprop(lr, etas=(η⁻, η⁺), step_sizes=(Γ_min, Γ_max))``.

    .. math::
        \eta_t &= \begin{cases} \eta^+ & g_t g_{t-1} > 0 \\ \eta^- & g_t g_{t-1} < 0
        \\ 1 & \text{otherwise} \end{cases}, \quad
        \Gamma_t \leftarrow \mathrm{clip}(\eta_t \Gamma_{t-1},\ \Gamma_{\min}, \Gamma_{\max})
        \ (\Gamma_0 = \gamma) \\
        g_t &\leftarrow 0 \text{ where } \eta_t = \eta^-, \quad
        \theta_t \leftarrow \theta_{t-1} - \mathrm{sign}(g_t)\,\Gamma_t

    Only the gradient's sign is used; after a sign change the coordinate does not move
    and the next step compares with 0 (factor 1). The zeroed gradient is the one kept.

    Args:
        lr (γ): the initial step size Γ₀. Default 1e-2.
        etas (η⁻, η⁺): shrink and growth factors, 0 < η⁻ < 1 < η⁺. Default (0.5, 1.2).
        step_sizes (Γ_min, Γ_max): bounds of the step size. Default (1e-6, 50).

    References: Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm" (ICNN 1993).
    """
    return make("rprop", FAMILY, locals(), init, update)


SPECS = (spec(rprop, title="Rprop", family=FAMILY, group="adaptive",
              torch="torch.optim.Rprop(lr, etas, step_sizes)"),)
