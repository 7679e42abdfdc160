"""Callbacks, grouped by feature. Each module's ``register(app)`` adds its own."""

from . import controls, images, race, sweep, url, userdata


def register(app, patch_updates: bool = True) -> None:
    """``patch_updates=False`` resends whole figures on every race update (a baseline)."""
    url.register(app)
    race.register(app, patch_updates)
    controls.register(app)
    sweep.register(app)
    images.register(app)
    userdata.register(app)
