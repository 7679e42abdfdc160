"""The phase diagram: a background sweep with progress and cancel, metric switching,
the race's current (lr, μ) on the map, click a cell to race there, hover details and
the grid's CSV."""

from __future__ import annotations

import math
import time

import numpy as np
from dash import Input, Output, Patch, State, dcc, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.figures import TITLES, theme_name
from layouts.sweep import METRIC_ORDER, empty_sweep_figure, hover_text, retheme_sweep, sweep_figure
from optim_core import OPTIMIZERS
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.sweep import sweep_to_csv

from .state import parse_sweep, stored_sweep, without_override

LR_OVERRIDES = ids.overrides("lr")


def _current(race_state) -> tuple[float, float] | None:
    if not race_state:
        return None
    settings = race_state["settings"]
    return settings["lr"], settings["momentum"]


def register(app) -> None:
    @app.callback(
        Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        Output(ids.SWEEP_RESULT, "data"), Output(ids.SWEEP_STATUS, "children"),
        Output(ids.SWEEP_ERROR, "children"), Output(ids.SWEEP_EXPORT, "disabled"),
        Input(ids.SWEEP_RUN, "n_clicks"),
        State(ids.SWEEP_OPTIMIZER, "value"), State(ids.SWEEP_METRIC, "value"),
        State(ids.SWEEP_RESOLUTION, "value"), State(ids.SWEEP_STEPS, "value"),
        State(ids.SWEEP_LR_MIN, "value"), State(ids.SWEEP_LR_MAX, "value"),
        State(ids.RACE_STATE, "data"), State(ids.THEME, "data"),
        background=True, interval=250, prevent_initial_call=True,
        running=[(Output(ids.SWEEP_RUN, "disabled"), True, False),
                 (Output(ids.SWEEP_CANCEL, "disabled"), False, True),
                 (Output(ids.SWEEP_STATUS, "children"), "Sweeping…", ""),
                 (Output(ids.SWEEP_PROGRESS, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        cancel=[Input(ids.SWEEP_CANCEL, "n_clicks")],
        progress=[Output(ids.SWEEP_PROGRESS, "value"), Output(ids.SWEEP_PROGRESS, "max")],
        progress_default=["0", "1"],
    )
    def run_sweep(set_progress, _clicks, optimizer, metric, resolution, steps, lr_min, lr_max,
                  race_state, theme):
        settings, errors = parse_sweep(race_state, optimizer, resolution, steps, lr_min,
                                       lr_max)
        if settings is None:
            return no_update, no_update, "", " ".join(
                f"{name.replace('_', ' ')}: {text}" for name, text in errors.items()), no_update
        started = time.perf_counter()
        result = settings.run(progress=lambda done, total: set_progress((str(done),
                                                                         str(total))))
        seconds = time.perf_counter() - started
        figure = sweep_figure(result, metric if metric in METRIC_ORDER else "final_loss",
                              theme_name(theme), _current(race_state))
        cells = result.final_loss.size
        diverged = int((result.diverged_at >= 0).sum())
        status = (f"{TITLES[result.optimizer]}: {cells:,} cells × {result.steps} steps in "
                  f"{seconds:.2f} s ({cells * result.steps / seconds / 1e6:.0f} M steps/s); "
                  f"{diverged:,} diverged.")
        stored = {**settings.to_dict(), **figure.layout.meta,
                  "lrs": result.lrs.tolist(), "momenta": result.momenta.tolist()}
        return figure, stored, status, "", False

    @app.callback(
        Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        Input(ids.SWEEP_METRIC, "value"), State(ids.SWEEP_RESULT, "data"),
        prevent_initial_call=True,
    )
    def switch_metric(metric, stored):
        if not stored or metric not in METRIC_ORDER:
            raise PreventUpdate
        patch = Patch()
        for index, key in enumerate(METRIC_ORDER):
            patch["data"][index]["visible"] = key == metric
        return patch

    @app.callback(
        Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        Input(ids.THEME, "data"), Input(ids.SWEEP_RESULT, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def follow_theme(theme, stored):
        """The phase diagram in the page's theme: the placeholder redrawn, a drawn one
        recoloured (also when the theme changed while it was sweeping)."""
        theme = theme_name(theme)
        if not stored:
            return empty_sweep_figure(theme)
        if not isinstance(stored.get("ink_lines"), list):
            raise PreventUpdate
        patch = Patch()
        retheme_sweep(patch, stored, theme)
        return patch

    # the race's current (lr, μ) is marked on the heatmap in the browser, by the race's
    # follow-up callback (callbacks/race.py, assets/app.js): no round trip on a move

    @app.callback(
        Output(ids.LR_INPUT, "value", allow_duplicate=True),
        Output(ids.LR_SLIDER, "value", allow_duplicate=True),
        Output(ids.MOMENTUM_INPUT, "value", allow_duplicate=True),
        Output(ids.MOMENTUM_SLIDER, "value", allow_duplicate=True),
        Output(ids.OPTIMIZERS, "value", allow_duplicate=True),
        Output(LR_OVERRIDES, "value", allow_duplicate=True),
        Output(ids.OVERRIDES_STORE, "data", allow_duplicate=True),
        Input(ids.SWEEP_GRAPH, "clickData"),
        State(ids.SWEEP_RESULT, "data"), State(ids.OPTIMIZERS, "value"),
        State(LR_OVERRIDES, "value"), State(LR_OVERRIDES, "id"),
        State(ids.OVERRIDES_STORE, "data"),
        prevent_initial_call=True,
    )
    def race_at_cell(click, stored, optimizers, lr_overrides, lr_override_ids,
                     stored_overrides):
        """The race takes the cell's (lr, μ); the swept optimizer joins the race and its
        own lr override is cleared so that the slider's lr applies to it."""
        if not click or not stored or not click.get("points"):
            raise PreventUpdate
        point = click["points"][0]
        lrs, momenta = np.array(stored["lrs"]), np.array(stored["momenta"])
        lr = float(lrs[np.argmin(np.abs(np.log10(lrs) - np.log10(float(point["x"]))))])
        swept = stored["optimizer"]
        chosen = [o for o in OPTIMIZER_NAMES if o in {*(optimizers or []), swept}]
        # the inputs, where the Advanced panel is drawn, and the store either way
        overrides = [None if key["optimizer"] == swept else value
                     for value, key in zip(lr_overrides, lr_override_ids, strict=True)]
        kept = without_override(stored_overrides, swept, "lr")
        if "momentum" not in OPTIMIZERS[swept].defaults:
            return lr, math.log10(lr), no_update, no_update, chosen, overrides, kept
        momentum = float(momenta[np.argmin(np.abs(momenta - float(point["y"])))])
        return lr, math.log10(lr), momentum, momentum, chosen, overrides, kept

    @app.callback(
        Output(ids.SWEEP_HOVER, "children"),
        Input(ids.SWEEP_GRAPH, "hoverData"), State(ids.SWEEP_RESULT, "data"),
        prevent_initial_call=True,
    )
    def describe_cell(hover, stored):
        if not hover or not stored or not hover.get("points"):
            return "Hover a cell for its numbers; click it to race there."
        point = hover["points"][0]
        custom = point.get("customdata")
        if not isinstance(custom, list) or len(custom) != 5:
            raise PreventUpdate
        takes = "momentum" in OPTIMIZERS[stored["optimizer"]].defaults
        return hover_text(custom, float(point["x"]), float(point["y"]) if takes else None)

    @app.callback(
        Output(ids.SWEEP_DOWNLOAD, "data"),
        Input(ids.SWEEP_EXPORT, "n_clicks"), State(ids.SWEEP_RESULT, "data"),
        background=True, prevent_initial_call=True,
        running=[(Output(ids.SWEEP_EXPORT, "disabled"), True, False)],
    )
    def export_grid(_clicks, stored):
        """The grid recomputed (deterministic, float64) and written as CSV."""
        settings, _ = stored_sweep(stored)  # a crafted store gets the sweep's limits
        if settings is None:
            raise PreventUpdate
        result = settings.run()
        return dcc.send_string(sweep_to_csv(result),
                               f"phase-diagram-{settings.race.surface}-{settings.optimizer}.csv",
                               type="text/csv")

