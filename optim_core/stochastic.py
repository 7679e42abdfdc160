"""Reproducible randomness: gradient noise and mini-batches, drawn from one seed.

Every optimizer in a race sees the same draws (common random numbers): the same noise
vector and the same mini-batch at step k. Differences between paths are then due to
the optimizers, not to luck, and a (lr, μ) sweep compares cells under equal noise.

The seed is split into independent streams (``numpy.random.SeedSequence.spawn``):
stream 0 makes the regression dataset, 1 the gradient noise, 2 the mini-batches, so
changing the batch size does not change the data or the noise.
"""

from __future__ import annotations

import numpy as np


def _stream(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[index])


def noise_table(noise: float, steps: int, seed: int) -> np.ndarray:
    """σ·z for steps 0..steps, shape (steps + 1, 2): added to the gradient at step k."""
    if noise == 0.0:
        return np.zeros((steps + 1, 2))
    return noise * _stream(seed, 1).standard_normal((steps + 1, 2))


def batch_table(n_points: int, batch_size: int | None, steps: int, seed: int) -> np.ndarray:
    """Indices of the points in the mini-batch at steps 0..steps, shape (rows, batch).

    Like ``DataLoader(shuffle=True, drop_last=True)``: each epoch is a fresh permutation
    cut into ``n_points // batch_size`` batches. Full batch (``batch_size`` None or equal
    to ``n_points``) is a single row, all points in order, used at every step.
    """
    if n_points == 0:  # surfaces without data: a placeholder row, never read
        return np.zeros((1, 1), dtype=np.int32)
    if batch_size is None or batch_size >= n_points:
        return np.arange(n_points, dtype=np.int32)[None, :]
    rng = _stream(seed, 2)
    per_epoch = n_points // batch_size
    epochs = -(-(steps + 1) // per_epoch)
    table = np.empty((epochs * per_epoch, batch_size), dtype=np.int32)  # filled in place:
    for epoch in range(epochs):  # the int32 table is the only copy held
        table[epoch * per_epoch:(epoch + 1) * per_epoch] = rng.permutation(n_points)[
            : per_epoch * batch_size].reshape(per_epoch, batch_size)
    return table[: steps + 1]
