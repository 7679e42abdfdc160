"""Inside a step: the mechanism arrows and the walkthrough table's data, once per race.

Thin: the race is simulated again with its optimizer state (``state=True``), and
optim_core.mechanism computes every arrow and row; layouts.figures packs them as float32
typed arrays. A separate callback from the race's, after it: the paths are drawn without
waiting for it, and the browser (assets/scrub.js) draws the arrows and the table's rows
at the scrubber's step from this store, with no request per step. Choosing another
optimizer for the table sends its rows only.
"""

from __future__ import annotations

import logging

from dash import Input, Output, ctx, no_update
from dash.exceptions import PreventUpdate

from layouts import figures, ids
from settings import settings_from_state

log = logging.getLogger(__name__)


def walkthrough_choice(optimizers, chosen) -> str:
    """The walkthrough's optimizer: the one chosen while it races, else the first."""
    return chosen if chosen in optimizers else optimizers[0]


def mechanism_update(state, chosen, only_walkthrough: bool) -> dict:
    """The store's value and the optimizer picker's options and value, by output name."""
    settings, _ = settings_from_state(state)
    if settings is None:
        raise PreventUpdate
    race = settings.simulate(state=True)
    optimizer = walkthrough_choice(settings.optimizers, chosen)
    walkthrough = figures.walkthrough_data(race.runs[settings.optimizers.index(optimizer)])
    return {"store": {"query": state.get("query"),
                      "runs": None if only_walkthrough else figures.mechanism_data(race),
                      "walkthrough": walkthrough},
            "options": [{"label": figures.TITLES[name], "value": name}
                        for name in settings.optimizers],
            "value": optimizer}


def register(app) -> None:
    @app.callback(
        output=dict(store=Output(ids.MECHANISM_STORE, "data"),
                    options=Output(ids.WALKTHROUGH_OPTIMIZER, "options"),
                    value=Output(ids.WALKTHROUGH_OPTIMIZER, "value")),
        inputs=dict(state=Input(ids.RACE_STATE, "data"),
                    chosen=Input(ids.WALKTHROUGH_OPTIMIZER, "value")),
        prevent_initial_call=True,
    )
    def mechanism_callback(state, chosen):
        only_walkthrough = ctx.triggered_id == ids.WALKTHROUGH_OPTIMIZER
        try:
            out = mechanism_update(state, chosen, only_walkthrough)
        except PreventUpdate:
            raise
        except Exception:  # never a 500: the arrows and the table stay as they were
            log.exception("mechanism callback failed")
            raise PreventUpdate from None
        if out["value"] == chosen:
            out["value"] = no_update
        return out
