r"""Gradient clipping, as ``torch.nn.utils`` does it to a parameter of shape (2,).

Applied to the gradient the optimizer receives (noise included) before every step, as
a training loop calls it between ``backward()`` and ``step()``; weight decay is then
added inside the optimizer, as torch does. ``math.inf`` means off for either bound (the
operations are then exact no-ops). Compiled unchanged by numba for the kernels;
``norm_type`` is one number per race, so its branch is a plain ``if``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._elementwise import power, select
from .params import CONSTRAINTS, Interval, Optional

#: torch's ``clip_grad_norm_`` adds this to the norm before dividing.
NORM_EPS = 1e-6

#: The clipping settings of a race (``simulate``'s keywords, the CLI's --clip-* flags),
#: off by default.
CLIP_DEFAULTS = {"clip_grad_norm": None, "clip_norm_type": 2.0, "clip_grad_value": None}


@dataclass(frozen=True)
class NormType:
    """The order of a norm: a float > 0, or inf (also written "inf", as in a URL)."""

    kind: type = float

    def describe(self) -> str:
        return "a float > 0 or inf"

    def coerce(self, value):
        if isinstance(value, str) and value.strip().lower() in ("inf", "infinity"):
            return math.inf
        if value == math.inf and not isinstance(value, (bool, np.bool_)):
            return math.inf
        return Interval(float, 0.0, None, "neither").coerce(value)


CONSTRAINTS.update({
    "clip_grad_norm": Optional(Interval(float, 0.0, None, "neither")),
    "clip_norm_type": NormType(),
    "clip_grad_value": Optional(Interval(float, 0.0, None, "neither")),
})


def clip_bounds(clip: dict) -> tuple[float, float, float]:
    """(max_norm, norm_type, max_value) for the kernels: inf where a clip is off."""
    return (math.inf if clip["clip_grad_norm"] is None else clip["clip_grad_norm"],
            clip["clip_norm_type"],
            math.inf if clip["clip_grad_value"] is None else clip["clip_grad_value"])


def total_norm(gx, gy, norm_type):
    """``torch.linalg.vector_norm`` of (gx, gy) of order ``norm_type`` (> 0 or inf)."""
    ax, ay = np.abs(gx), np.abs(gy)
    if norm_type == math.inf:
        return np.maximum(ax, ay)
    if norm_type == 1.0:
        return ax + ay
    if norm_type == 2.0:
        return np.sqrt(gx * gx + gy * gy)
    return power(power(ax, norm_type) + power(ay, norm_type), 1.0 / norm_type)


def clip_gradient(gx, gy, max_norm, norm_type, max_value):
    r"""``clip_grad_norm_(max_norm, norm_type)`` then ``clip_grad_value_(max_value)``.

    .. math::
        g \leftarrow g \cdot \min\!\Big(1, \frac{c}{\lVert g\rVert_p + 10^{-6}}\Big),
        \qquad g \leftarrow \operatorname{clamp}(g, -v, v)
    """
    coefficient = max_norm / (total_norm(gx, gy, norm_type) + NORM_EPS)
    coefficient = select(coefficient > 1.0, 1.0, coefficient)
    gx, gy = gx * coefficient, gy * coefficient
    gx = select(gx > max_value, max_value, select(gx < -max_value, -max_value, gx))
    gy = select(gy > max_value, max_value, select(gy < -max_value, -max_value, gy))
    return gx, gy
