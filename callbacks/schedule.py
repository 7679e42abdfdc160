"""The schedule panel: which parameter boxes show, the lr/μ plot and the conventions'
equivalences of the drawn race, the presets, and the plot's step marker.

Thin: :mod:`settings` validates and measures, :mod:`layouts.schedule` draws. The
panel's values are race settings (``ids.SCHEDULE_CONTROLS`` are in ``ids.CONTROL_FOR``),
so the race callback races them and the URL keeps them.
"""

from __future__ import annotations

import logging

from dash import ALL, Input, Output, ctx, no_update
from dash.exceptions import PreventUpdate

from layouts import figures, ids
from layouts.schedule import SCHEDULE_PRESETS, forms_readout, schedule_figure
from optim_core.schedules import SCHEDULER_PARAMETERS, SCHEDULERS
from settings import TRAINING, measure_forms, settings_from_state

log = logging.getLogger(__name__)

#: The controls a preset writes: the panel's boxes (the convention and the compare
#: switch stay as they are) and the μ box.
PRESET_CONTROLS = tuple(name for name in TRAINING if name not in ("momentum_form",
                                                                  "compare_forms"))


def preset_values(preset: str) -> dict:
    """The control values of ``preset``: its own, every other panel box blank."""
    values = SCHEDULE_PRESETS[preset]
    out = {name: values.get(name) for name in PRESET_CONTROLS}
    out["scheduler"] = values.get("scheduler", "constant")
    out["momentum"] = values.get("momentum", no_update)
    return out


def register(app) -> None:
    @app.callback(
        output={name: Output(ids.schedule_row_id(name), "style")
                for name in SCHEDULER_PARAMETERS},
        inputs=dict(scheduler=Input(ids.SCHEDULER, "value")),
        prevent_initial_call=True,  # the layout shows the default race's rows
    )
    def show_parameters(scheduler):
        takes = SCHEDULERS.get(scheduler, SCHEDULERS["constant"]).defaults
        return {name: {} if name in takes else {"display": "none"}
                for name in SCHEDULER_PARAMETERS}

    @app.callback(
        output=dict(figure=Output(ids.SCHEDULE_GRAPH, "figure"),
                    readout=Output(ids.FORMS_READOUT, "children")),
        inputs=dict(state=Input(ids.RACE_STATE, "data"), theme=Input(ids.THEME, "data")),
    )
    def draw_schedule(state, theme):
        settings, _ = settings_from_state(state)
        if settings is None:
            raise PreventUpdate
        try:
            race = settings.simulate()
            figure = schedule_figure(race, figures.theme_name(theme))
            return dict(figure=figure, readout=forms_readout(measure_forms(settings)))
        except Exception:  # never a 500: the race callback says what went wrong
            log.exception("schedule plot failed")
            return dict(figure=no_update, readout=no_update)

    controls = {name: ids.CONTROL_FOR[name] for name in PRESET_CONTROLS}

    @app.callback(
        output={**{name: Output(box, "value", allow_duplicate=True)
                   for name, box in controls.items()},
                "momentum": Output(ids.MOMENTUM_INPUT, "value", allow_duplicate=True)},
        inputs=dict(_clicks=Input(ids.schedule_preset_id(ALL), "n_clicks")),
        prevent_initial_call=True,
    )
    def apply_preset(_clicks):
        if not ctx.triggered_id or not any(_clicks):
            raise PreventUpdate
        return preset_values(ctx.triggered_id["preset"])
