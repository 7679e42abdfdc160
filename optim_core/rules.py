"""Rules between parameters, in one place: the library, the CLI and the app call these.

Each raises :class:`~optim_core.params.InvalidParameterError` with ``parameter`` set to
the one setting that can fix it, so a front end maps it to its flag or control. Rules
of one optimizer (nesterov's μ > 0, no dampening) live in its spec
(``optim_core.optimizers``); ranges of one parameter in ``params.CONSTRAINTS``.
"""

from __future__ import annotations

from .params import LIMITS, InvalidParameterError
from .surfaces import Surface


def check_batch_table(steps: int, batch_size: int | None, caller: str) -> None:
    """Mini-batch indices are drawn ahead, one row per step: bound that table."""
    if batch_size is not None and batch_size * (steps + 1) > LIMITS["batch_entries"]:
        raise InvalidParameterError(
            f"The 'batch_size' parameter of {caller} times (steps + 1) must be at most "
            f"{LIMITS['batch_entries']:,} (the mini-batches are drawn ahead). Got "
            f"{batch_size} × {steps + 1} instead.", parameter="batch_size", caller=caller,
            allowed=f"batch_size × (steps + 1) ≤ {LIMITS['batch_entries']:,}", got=batch_size)


def check_batch_size(surface: Surface, batch_size: int | None, caller: str) -> None:
    """``batch_size`` only on the surface with data, and at most its number of points."""
    if batch_size is None:
        return
    if not surface.n_points:
        raise InvalidParameterError(
            f"The 'batch_size' parameter of {caller} applies to the regression surface "
            f"only. Got batch_size={batch_size} with surface {surface.name!r}.",
            parameter="batch_size", caller=caller,
            allowed="unset: it applies to the regression surface only", got=batch_size)
    if batch_size > surface.n_points:
        raise InvalidParameterError(
            f"The 'batch_size' parameter of {caller} must be at most the number of points "
            f"({surface.n_points}). Got {batch_size} instead.", parameter="batch_size",
            caller=caller, allowed=f"an int in the range [1, {surface.n_points}]",
            got=batch_size)


def check_data_rules(surface: Surface, steps: int, batch_size: int | None,
                     caller: str) -> None:
    """Every rule between the surface, the steps and the mini-batches of a race or sweep."""
    check_batch_size(surface, batch_size, caller)
    check_batch_table(steps, batch_size, caller)
