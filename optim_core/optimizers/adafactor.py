r"""``torch.optim.Adafactor``, for a parameter vector (its non-factored branch)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, power
from ._base import Family, X, Y, always, make, spec, zeros_like

#: √(numel) of θ = (x, y), as torch computes ``param.numel() ** 0.5``.
SQRT_NUMEL = 2.0 ** 0.5
#: torch's default eps1 (None) is the dtype's machine epsilon: float64's here.
MACHINE_EPS = float(np.finfo(np.float64).eps)


class AdafactorHyper(NamedTuple):
    lr: float
    beta2_decay: float
    eps1: float
    eps2: float
    d: float
    weight_decay: float


class AdafactorState(NamedTuple):
    count: int
    variance: np.ndarray


def adafactor_coefficients(step, lr, beta2_decay):
    """(1 − β₂,t = t^c, ρ_t = min(γ, 1/√t)), with Python floats as torch."""
    return power(step, beta2_decay), np.minimum(lr, 1.0 / power(step, 0.5))


def adafactor_rule(px, py, gx, gy, vx, vy, h: AdafactorHyper, one_minus_beta2_t, rho_t):
    """One ``torch.optim.Adafactor`` step on θ = (x, y) (single-tensor path): both
    coordinates at once, since it scales by the norms of θ and of the update.

    torch computes a norm as √(fma(y, y, x·x)); here √(x·x + y·y) on both paths, which
    can differ in the last bit (the fixtures' tolerance is 1e-10)."""
    alpha = np.maximum(h.eps2, np.sqrt(px * px + py * py) / SQRT_NUMEL) * rho_t
    decay = 1.0 - h.lr * h.weight_decay
    px, py = px * decay, py * decay
    vx = lerp(vx, gx * gx, one_minus_beta2_t)
    vy = lerp(vy, gy * gy, one_minus_beta2_t)
    floor = h.eps1 * h.eps1
    ux = 1.0 / np.sqrt(np.maximum(vx, floor)) * gx
    uy = 1.0 / np.sqrt(np.maximum(vy, floor)) * gy
    denom = np.maximum(1.0, np.sqrt(ux * ux + uy * uy) / (SQRT_NUMEL * h.d))
    scale = -alpha / denom
    return px + scale * ux, py + scale * uy, vx, vy


def init(params, h):
    return AdafactorState(0, zeros_like(params))


def update(grads, state, params, h):
    count = state.count + 1
    one_minus_beta2_t, rho_t = adafactor_coefficients(float(count), h.lr, h.beta2_decay)
    p, g, v = np.asarray(params, dtype=np.float64), grads, state.variance
    px, py, vx, vy = adafactor_rule(p[..., :1], p[..., 1:], g[..., :1], g[..., 1:],
                                    v[..., :1], v[..., 1:], h, one_minus_beta2_t, rho_t)
    return (np.concatenate([px, py], axis=-1),
            AdafactorState(count, np.concatenate([vx, vy], axis=-1)))


def kernel_schedule(step, table, c):
    one_minus_beta2_t, rho_t = adafactor_coefficients(step, table[c, Column.LR],
                                                      table[c, Column.BETA2_DECAY])
    return one_minus_beta2_t, rho_t, 0.0


def kernel_step(step, x, y, gx, gy, states, c, table, scalars):
    h = read_hyper(table, c)
    v = Slot.VARIANCE
    x, y, states[c, X, v], states[c, Y, v] = adafactor_rule(
        x, y, gx, gy, states[c, X, v], states[c, Y, v], h, scalars[0], scalars[1])
    return x, y


FAMILY = Family("adafactor", AdafactorHyper, AdafactorState, kernel_step=kernel_step,
                kernel_schedule=kernel_schedule, schedule_columns=("lr", "beta2_decay"),
                torch_state={"count": always, "variance": always})
Column, Slot, read_hyper = FAMILY.columns, FAMILY.slots, FAMILY.read_hyper


def adafactor(*, lr=1e-2, beta2_decay=-0.8, eps1=MACHINE_EPS, eps2=1e-3, d=1.0,
              weight_decay=0.0):
    r"""Adafactor: ``torch.optim.Adafactor(lr, beta2_decay, eps=(eps1, eps2), d,
    weight_decay)``; θ is a vector, so the second moment is not factored.

    .. math::
        \rho_t &= \min(\gamma, 1/\sqrt t), \quad
        \alpha_t = \max\!\big(\epsilon_2, \mathrm{RMS}(\theta_{t-1})\big)\,\rho_t, \quad
        \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda) \\
        v_t &\leftarrow v_{t-1} + t^{c}\,(g_t^2 - v_{t-1}), \quad
        u_t = \frac{g_t}{\sqrt{\max(v_t, \epsilon_1^2)}} \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\alpha_t}{\max(1, \mathrm{RMS}(u_t)/d)}\,u_t

    with RMS(z) = ‖z‖₂/√2 over θ's two coordinates and c = ``beta2_decay`` (so
    1 − β₂,t = t^c: v₁ = g₁²). torch's pair ``eps=(eps1, eps2)`` is two parameters
    here, under the names its update function gives them (this project's ``eps`` is
    one float); its eps1 = None is the machine epsilon of float64, the default here.

    Args:
        lr (γ): caps the relative step size ρ_t. Default 1e-2.
        beta2_decay (c): exponent of the second moment's decay, ≤ 0. Default -0.8.
        eps1 (ε₁): floor of √v; torch's None, float64's epsilon. Default 2.220446049250313e-16.
        eps2 (ε₂): floor of the parameter's RMS. Default 1e-3.
        d (d): clipping threshold of the update's RMS, ≥ 1. Default 1.
        weight_decay (λ): decoupled, scaled by γ. Default 0.

    References: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost" (ICML 2018).
    """
    return make("adafactor", FAMILY, locals(), init, update)


SPECS = (spec(adafactor, title="Adafactor", family=FAMILY, group="adaptive",
              torch="torch.optim.Adafactor(lr, beta2_decay, eps=(eps1, eps2), d)"),)
