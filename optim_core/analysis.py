"""Per-run verdicts for the leaderboard: final loss, when it got close, and how it ended."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .theory import measured_rate

if TYPE_CHECKING:  # the kernels compile first_within: this module stays below simulate
    from .simulate import Race, Trajectory

#: A run has converged when its loss is within this of the surface's minimum value.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Summary:
    optimizer: str
    final_loss: float
    final_gap: float  # final loss − f*
    steps_to_tolerance: int | None  # first step with loss − f* ≤ tolerance
    status: str  # converged, still moving, oscillating, diverged
    status_text: str  # e.g. "diverged at step 12"
    measured_rate: float | None
    evals_to_tolerance: int | None = None  # evaluations of f and ∇f made to reach it


def first_within(loss, length, f_min, tolerance):
    """The first of the first ``length`` steps whose loss is within ``tolerance`` of
    ``f_min``, or -1 (a plain loop: the sweep kernel compiles it too)."""
    for k in range(length):
        if loss[k] - f_min <= tolerance:
            return k
    return -1


def steps_to_tolerance(loss, f_min: float, tolerance: float = TOLERANCE) -> int | None:
    """The first step whose loss is within ``tolerance`` of ``f_min``, or None."""
    loss = np.asarray(loss, dtype=np.float64)
    hit = first_within(loss, loss.shape[0], float(f_min), float(tolerance))
    return None if hit < 0 else hit


def is_oscillating(loss) -> bool:
    """Over the last quarter of the run (≥ 8 steps), the loss rose on ≥ 25% of steps."""
    tail = np.asarray(loss)[-max(8, len(loss) // 4):]
    if len(tail) < 8:
        return False
    return float(np.mean(np.diff(tail) > 0)) >= 0.25


def summarize(run: Trajectory, f_min: float, tolerance: float = TOLERANCE) -> Summary:
    gap = run.final_loss - f_min
    hit = steps_to_tolerance(run.loss, f_min, tolerance)
    if run.diverged_at is not None:
        status, text = "diverged", f"diverged at step {run.diverged_at}"
    elif gap <= tolerance:
        status = text = "converged"
    elif is_oscillating(run.loss):
        status = text = "oscillating"
    else:
        status = text = "still moving"
    evals = None if hit is None else int(run.evals[hit])
    return Summary(run.optimizer, run.final_loss, gap, hit, status, text,
                   measured_rate(run.loss, f_min), evals)


def leaderboard(race: Race, tolerance: float = TOLERANCE) -> list[Summary]:
    """One summary per run, in race order."""
    return [summarize(run, race.surface.f_min, tolerance) for run in race.runs]


#: The leaderboard's order of statuses, best first.
STATUS_ORDER = {"converged": 0, "still moving": 1, "oscillating": 2, "diverged": 3}


#: What "how soon" counts (settings.AXES): the Summary field of each.
TO_TOLERANCE = {"steps": "steps_to_tolerance", "evals": "evals_to_tolerance"}


def ranked(summaries: list[Summary], by: str = "steps") -> list[int]:
    """Indices of ``summaries``, best first: converged runs by how soon they got within
    the tolerance (in steps, or ``by="evals"`` in evaluations of f and ∇f), then still
    moving, oscillating and diverged runs, each by final gap."""
    def key(i):
        s = summaries[i]
        hit = getattr(s, TO_TOLERANCE[by])
        soon = math.inf if hit is None else hit
        return STATUS_ORDER[s.status], soon, s.final_gap

    return sorted(range(len(summaries)), key=key)
