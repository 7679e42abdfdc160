"""Slide-ready images of the race's two plots, and the line fit's data plot.

The PNG and SVG buttons ask the server for the caption and the file names (the settings
model words them), then the browser draws copies of both plots with their legend and
that caption (assets/app.js ``exportImages``): what is on screen, as it is zoomed.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from layouts import figures, ids

from .state import RaceSettings

FORMATS = {ids.EXPORT_PNG: "png", ids.EXPORT_SVG: "svg"}


def register(app) -> None:
    @app.callback(
        output=Output(ids.EXPORT_IMAGE, "data"),
        inputs={"clicks": [Input(button, "n_clicks") for button in FORMATS],
                "state": State(ids.RACE_STATE, "data")},
        prevent_initial_call=True,
    )
    def ask_for_images(clicks, state):
        if not state or ctx.triggered_id not in FORMATS:
            raise PreventUpdate
        settings = RaceSettings.from_dict(state["settings"])
        return figures.image_export(settings, settings.surface_object(),
                                    FORMATS[ctx.triggered_id])

    app.clientside_callback(
        ClientsideFunction("race", "exportImages"),
        Output(ids.EXPORT_IMAGE, "data", allow_duplicate=True),
        Input(ids.EXPORT_IMAGE, "data"), prevent_initial_call=True)
