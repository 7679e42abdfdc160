"""Callbacks, grouped by feature. Each module's ``register(app)`` adds its own."""

from . import controls, drag, images, mechanism, race, schedule, sweep, teach, tune, url, userdata


def register(app, patch_updates: bool = True, fast_drag: bool = True) -> None:
    """``patch_updates=False`` resends whole figures on every race update, ``fast_drag``
    False makes every move of a slider drag a Dash update (the benchmarks' baselines)."""
    url.register(app)
    race.register(app, patch_updates)
    mechanism.register(app)
    controls.register(app)
    sweep.register(app)
    tune.register(app)
    images.register(app)
    teach.register(app)
    userdata.register(app)
    schedule.register(app)
    if fast_drag:
        drag.register(app)
