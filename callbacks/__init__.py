"""Callbacks, grouped by feature. Each module's ``register(app)`` adds its own."""

from . import controls, race, sweep, url


def register(app) -> None:
    for module in (url, race, controls, sweep):
        module.register(app)
