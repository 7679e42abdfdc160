r"""``torch.optim.Muon`` on θ as a 1 × 2 matrix."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._elementwise import lerp, round_bfloat16, select, to_float32, to_float64
from ..params import Boolean, Interval
from ._base import Family, X, Y, always, make, spec, zeros_like

#: torch's Newton–Schulz coefficients (a, b, c) (``torch.optim._muon.DEFAULT_*``).
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


class MuonHyper(NamedTuple):
    lr: float
    weight_decay: float
    momentum: float
    nesterov: bool
    eps: float
    ns_steps: int


class MuonState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray


def newton_schulz_row(u, v, eps, ns_steps, iterations):
    """torch's ``_zeropower_via_newtonschulz`` of the 1 × 2 matrix [u v], in bfloat16.

    torch casts to bfloat16 and runs every operation there (float32 arithmetic, each
    result rounded to bfloat16); for a 1 × 2 matrix each matmul is one float32 sum of
    exact products, so this reproduces it bit for bit (checked against torch on 20,000
    random rows over 12 decades: tests/fixtures/make_recent_reference.py). The Gram
    "matrix" is the scalar s = u² + v², so the iteration only rescales the normalised
    row: X ← (a + b s + c s²) X. The result is bfloat16 (as float32). ``iterations``
    is the largest ``ns_steps`` of the runs (each run stops after its own)."""
    a, b, c = to_float32(NS_COEFFICIENTS[0]), to_float32(NS_COEFFICIENTS[1]), \
        to_float32(NS_COEFFICIENTS[2])
    u, v = round_bfloat16(to_float32(u)), round_bfloat16(to_float32(v))
    norm = round_bfloat16(np.sqrt(u * u + v * v))
    norm = np.maximum(norm, round_bfloat16(to_float32(eps)))
    u, v = round_bfloat16(u / norm), round_bfloat16(v / norm)
    for i in range(iterations):
        gram = round_bfloat16(u * u + v * v)
        gram_update = round_bfloat16(b * gram + c * (gram * gram))
        more = i < ns_steps
        u = select(more, round_bfloat16(a * u + gram_update * u), u)
        v = select(more, round_bfloat16(a * v + gram_update * v), v)
    return u, v


def muon_rule(px, py, gx, gy, bx, by, h: MuonHyper, iterations):
    """One ``torch.optim.Muon`` step (``_single_tensor_muon``) of θ = [px py].

    The shape adjustment of the lr (``adjust_lr_fn`` None: √max(1, A/B) = 1 for 1 × 2)
    is 1, so the lr is used as it is."""
    bx, by = lerp(bx, gx, 1.0 - h.momentum), lerp(by, gy, 1.0 - h.momentum)
    ux = select(h.nesterov, lerp(gx, bx, h.momentum), bx)
    uy = select(h.nesterov, lerp(gy, by, h.momentum), by)
    ox, oy = newton_schulz_row(ux, uy, h.eps, h.ns_steps, iterations)
    decay = 1.0 - h.lr * h.weight_decay
    px = px * decay + -h.lr * to_float64(ox)
    py = py * decay + -h.lr * to_float64(oy)
    return px, py, bx, by


def init(params, h):
    return MuonState(0, zeros_like(params))


def update(grads, state, params, h):
    params, grads = np.asarray(params, dtype=np.float64), np.asarray(grads, dtype=np.float64)
    buf = state.momentum_buffer
    # the columns as (runs, 1), as the per-run hyperparameters broadcast
    px, py, bx, by = muon_rule(params[..., :1], params[..., 1:], grads[..., :1],
                               grads[..., 1:], buf[..., :1], buf[..., 1:], h=h,
                               iterations=int(np.max(h.ns_steps)))
    return (np.concatenate([px, py], axis=-1),
            MuonState(state.count + 1, np.concatenate([bx, by], axis=-1)))


def kernel_step(step, x, y, gx, gy, states, c, table, scalars):
    h = read_hyper(table, c)
    b = Slot.MOMENTUM_BUFFER
    x, y, states[c, X, b], states[c, Y, b] = muon_rule(x, y, gx, gy, states[c, X, b],
                                                       states[c, Y, b], h=h,
                                                       iterations=h.ns_steps)
    return x, y


# torch's Muon keeps no step count
FAMILY = Family("muon", MuonHyper, MuonState, kernel_step=kernel_step,
                torch_state={"momentum_buffer": always})
Column, Slot, read_hyper = FAMILY.columns, FAMILY.slots, FAMILY.read_hyper


def muon(*, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, eps=1e-7, ns_steps=5):
    r"""Muon: ``torch.optim.Muon(lr, weight_decay, momentum, nesterov, eps=eps,
    ns_steps=ns_steps)`` with θ as the 1 × 2 matrix [x y].

    .. math::
        B_t &\leftarrow \mu B_{t-1} + (1-\mu) g_t \quad (\text{torch's } \mathrm{lerp}), \quad
        \tilde B_t \leftarrow \begin{cases} (1-\mu) g_t + \mu B_t & \text{nesterov} \\
        B_t & \text{otherwise} \end{cases} \\
        O_t &\leftarrow \mathrm{NS}_k(\tilde B_t), \quad
        \theta_t \leftarrow \theta_{t-1}(1 - \gamma\lambda) - \gamma\, O_t

    NS_k is k Newton–Schulz iterations X ← aX + (bXXᵀ + c(XXᵀ)²)X from X = B̃/‖B̃‖, which
    approximate the orthogonal factor UVᵀ of B̃. **On a vector (a 1 × 2 matrix) UVᵀ is
    B̃/‖B̃‖: Muon's update is a normalised momentum step**, of length ≈ 1 (the quintic's
    fixed point, within its ~0.7–1.2 band; not exactly 1) times γ, in bfloat16 as torch
    computes it (so the direction is rounded to 8 significant bits).

    Args:
        lr (γ): learning rate. Default 1e-3.
        weight_decay (λ): decoupled decay, θ ← θ(1 − γλ). Default 0.1.
        momentum (μ): Default 0.95.
        nesterov: Nesterov's look-ahead. Default True.
        eps (ε): floor of ‖B̃‖. Default 1e-7.
        ns_steps (k): Newton–Schulz iterations, < 100. Default 5.

    The coefficients (a, b, c) = (3.4445, −4.7750, 2.0315) and ``adjust_lr_fn`` are
    torch's defaults, not settable here.

    References: Jordan et al., "Muon: An optimizer for hidden layers in neural
    networks" (2024), https://kellerjordan.github.io/posts/muon/.
    """
    return make("muon", FAMILY, locals(), init, update)


SPECS = (spec(muon, title="Muon", family=FAMILY, group="recent",
              torch="torch.optim.Muon(lr, momentum=μ)",
              constraints={"ns_steps": Interval(int, 0, 99, "both",
                                                why="torch requires fewer than 100"),
                           "momentum": Interval(float, 0.0, 1.0, "both"),
                           "nesterov": Boolean()}),)
