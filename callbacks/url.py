"""Settings into the controls: from the URL when the page opens, from a surface's preset
when the user picks another surface. The URL itself is written in the browser
(``history.replaceState``, see callbacks/controls.py) from the race's canonical query."""

from __future__ import annotations

import math

from dash import Input, Output, State, ctx, html

from layouts import ids
from layouts.race import surface_about

from .state import RaceSettings, from_query

OVERRIDES = ids.overrides()


def control_values(settings: RaceSettings, override_ids: list) -> tuple:
    surface = settings.surface_object()
    overrides = [settings.overrides.get(key["optimizer"], {}).get(key["param"])
                 for key in override_ids or []]
    return (settings.surface, list(settings.optimizers), settings.lr, math.log10(settings.lr)
            if settings.lr > 0 else -5, settings.momentum, settings.momentum, settings.steps,
            settings.kappa, settings.noise, settings.batch_size, settings.points, settings.seed,
            settings.x0, settings.y0, f"{surface.default_start[0]:g}",
            f"{surface.default_start[1]:g}", overrides, f"controls surface-{settings.surface}",
            surface_about(surface))


def register(app) -> None:
    @app.callback(
        Output(ids.SURFACE, "value"), Output(ids.OPTIMIZERS, "value"),
        Output(ids.LR_INPUT, "value"), Output(ids.LR_SLIDER, "value"),
        Output(ids.MOMENTUM_INPUT, "value"), Output(ids.MOMENTUM_SLIDER, "value"),
        Output(ids.STEPS, "value"), Output(ids.KAPPA, "value"), Output(ids.NOISE, "value"),
        Output(ids.BATCH_SIZE, "value"), Output(ids.POINTS, "value"), Output(ids.SEED, "value"),
        Output(ids.START_X, "value"), Output(ids.START_Y, "value"),
        Output(ids.START_X, "placeholder"), Output(ids.START_Y, "placeholder"),
        Output(OVERRIDES, "value"), Output(ids.CONTROLS, "className"),
        Output(ids.SURFACE_ABOUT, "children"),
        Output(ids.URL_NOTE, "children"),
        Input(ids.URL, "search"), Input(ids.SURFACE, "value"),
        State(ids.OPTIMIZERS, "value"), State(ids.SEED, "value"), State(ids.NOISE, "value"),
        State(OVERRIDES, "id"),
    )
    def apply_settings(search, surface, optimizers, seed, noise, override_ids):
        notes = []
        if ctx.triggered_id == ids.SURFACE:  # the user picked a surface: its preset
            keep = {"optimizers": tuple(optimizers or ()) or RaceSettings().optimizers}
            settings = RaceSettings.preset(surface, **keep,
                                           seed=seed if isinstance(seed, int) and seed >= 0
                                           else 0,
                                           noise=noise if isinstance(noise, (int, float))
                                           and 0 <= noise <= 100 else 0.0)
        else:  # the page opened (or the user went back): the URL says
            settings, notes = from_query(search or "")
        note = html.Div([html.B("Some settings in the link were not used: "),
                         " ".join(notes)]) if notes else None
        return (*control_values(settings, override_ids), note)
