"""optim_core: race gradient-based optimizers on 2D loss surfaces, with torch.optim semantics.

    >>> import optim_core as oc
    >>> race = oc.simulate("ravine", ["sgd", "momentum", "adam"], lr=0.02, steps=60)
    >>> race.runs[1].params[-1]          # momentum's position after 60 steps

The engine never imports Dash; numba (the fast path) and pandas load on first use.
"""

from .analysis import Summary, leaderboard, steps_to_tolerance, summarize
from .optimizers import HYPERPARAMETERS, OPTIMIZERS, Optimizer, make_optimizer
from .params import (
                     CONSTRAINTS,
                     DIVERGENCE_BOUND,
                     LIMITS,
                     InvalidParameterError,
                     check_params,
                     validate,
)
from .simulate import Race, Run, Trajectory, simulate
from .surfaces import SURFACES, Surface, get_surface

__all__ = [
    "CONSTRAINTS", "DIVERGENCE_BOUND", "HYPERPARAMETERS", "LIMITS", "OPTIMIZERS", "SURFACES",
    "InvalidParameterError", "Optimizer", "Race", "Run", "Surface", "Trajectory",
    "Summary", "check_params", "get_surface", "leaderboard", "make_optimizer", "simulate",
    "steps_to_tolerance", "summarize", "validate",
]
