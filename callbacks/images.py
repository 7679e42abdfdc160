"""Slide-ready images of the race's two plots, and the line fit's data plot.

The PNG and SVG buttons ask the server for the caption and the file names (the settings
model words them), then the browser draws copies of both plots with their legend and
that caption (assets/app.js ``exportImages``): what is on screen, as it is zoomed.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from layouts import figures, ids
from settings import settings_from_state

from .race import drawn_race

FORMATS = {ids.EXPORT_PNG: "png", ids.EXPORT_SVG: "svg"}


def register(app) -> None:
    @app.callback(
        output=Output(ids.EXPORT_IMAGE, "data"),
        inputs={"clicks": [Input(button, "n_clicks") for button in FORMATS],
                "state": State(ids.RACE_STATE, "data")},
        prevent_initial_call=True,
    )
    def ask_for_images(clicks, state):
        if ctx.triggered_id not in FORMATS:
            raise PreventUpdate
        settings = drawn_race(state)
        return figures.image_export(settings, settings.surface_object(),
                                    FORMATS[ctx.triggered_id])

    app.clientside_callback(
        ClientsideFunction("race", "exportImages"),
        Output(ids.EXPORT_IMAGE, "data", allow_duplicate=True),
        Input(ids.EXPORT_IMAGE, "data"), prevent_initial_call=True)

    app.clientside_callback(
        ClientsideFunction("race", "fitRequest"),
        Output(ids.DATA_REQUEST, "data"),
        Input(ids.RACE_STATE, "data"), State(ids.DATA_REQUEST, "data"),
        prevent_initial_call=True)

    @app.callback(
        output={"figure": Output(ids.DATA_GRAPH, "figure"),
                "style": Output(ids.DATA_CELL, "style"),
                "drawn": Output(ids.DATA_DRAWN, "data")},
        inputs={"state": Input(ids.DATA_REQUEST, "data"), "theme": State(ids.THEME, "data"),
                "drawn": State(ids.DATA_DRAWN, "data")},
        prevent_initial_call=True,
    )
    def draw_fit(state, theme, drawn):
        """On the line fit, the data and each optimizer's fitted line at the end of the
        race: drawn whole when the data, the racers or the theme change, else only the
        lines are patched (up to 1,000 points are not sent again with every move)."""
        settings, _ = settings_from_state(state) if state else (None, {})
        if settings is None:
            return {"figure": no_update, "style": {"display": "none"}, "drawn": None}
        race = settings.simulate()
        theme = figures.theme_name(theme)
        structure = settings.structure(theme)
        if structure == drawn:
            figure = Patch()
            figures.patch_fit_figure(figure, race)
        else:
            figure = figures.fit_figure(race, theme)
        return {"figure": figure, "style": {"display": "block"},
                "drawn": no_update if structure == drawn else structure}
