"""The phase diagram: a background sweep with progress and cancel, metric switching,
the race's current (lr, μ) on the map, click a cell to race there, hover details and
the grid's CSV."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from dash import Input, Output, Patch, State, dcc, no_update, set_props
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.figures import TITLES, theme_name
from layouts.sweep import METRIC_ORDER, empty_sweep_figure, hover_text, retheme_sweep, sweep_figure
from optim_core import OPTIMIZERS
from optim_core.params import OPTIMIZER_NAMES, InvalidParameterError
from optim_core.sweep import sweep_to_csv

from . import jobs
from .state import SweepSettings, parse_sweep, without_override

log = logging.getLogger(__name__)
LR_OVERRIDES = ids.overrides("lr")


def _current(race_state) -> tuple[float, float] | None:
    if not race_state:
        return None
    settings = race_state["settings"]
    return settings["lr"], settings["momentum"]


def _sweep_settings(race_state, optimizer, resolution, steps, lr_min, lr_max) -> SweepSettings:
    """The sweep's settings, or JobRefused with the messages (a crafted race state too)."""
    try:
        settings, errors = parse_sweep(race_state, optimizer, resolution, steps, lr_min, lr_max)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        log.info("a sweep with an unreadable race state: %s", jobs.escaped(error))
        raise jobs.JobRefused("The race's settings could not be read: draw a race "
                              "first.") from error
    if settings is None:
        raise jobs.JobRefused(" ".join(f"{name.replace('_', ' ')}: {text}"
                                       for name, text in errors.items()))
    return settings


def _exported_settings(stored) -> SweepSettings:
    if not isinstance(stored, dict) or not isinstance(stored.get("race"), dict):
        raise jobs.JobRefused("Run a sweep first: there is no grid to export.")
    return _sweep_settings({"settings": stored["race"]}, stored.get("optimizer"),
                           stored.get("resolution"), stored.get("steps"),
                           stored.get("lr_min"), stored.get("lr_max"))


def _checked(read) -> tuple[str | None, int]:
    """(refusal or None, cells × steps) of the settings ``read()`` returns, before a job
    starts (callbacks/jobs.py)."""
    try:
        settings = read()
    except jobs.JobRefused as refusal:
        return jobs.user_message(refusal), 0
    return None, settings.resolution ** 2 * settings.steps


def _check_sweep(args: dict):
    return _checked(lambda: _sweep_settings(
        args.get("race_state"), args.get("optimizer"), args.get("resolution"),
        args.get("steps"), args.get("lr_min"), args.get("lr_max")))


def _check_export(args: dict):
    return _checked(lambda: _exported_settings(args.get("stored")))


def _report_job_error(error: Exception) -> None:
    """A job's failure, next to the sweep's controls: its message when it is meant for
    the user, else a generic one (and the details in the log)."""
    message = jobs.user_message(error)
    if message is None:
        log.error("a background job failed: %s", jobs.escaped(error, 2000))
        message = "The sweep failed on the server (the fault is logged). Please try again."
    set_props(ids.SWEEP_ERROR, {"children": message})


def register(app) -> None:
    @app.callback(
        output=dict(figure=Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
                    stored=Output(ids.SWEEP_RESULT, "data"),
                    status=Output(ids.SWEEP_STATUS, "children"),
                    error=Output(ids.SWEEP_ERROR, "children"),
                    export_disabled=Output(ids.SWEEP_EXPORT, "disabled")),
        inputs=dict(clicks=Input(ids.SWEEP_RUN, "n_clicks")),
        state=dict(optimizer=State(ids.SWEEP_OPTIMIZER, "value"),
                   metric=State(ids.SWEEP_METRIC, "value"),
                   resolution=State(ids.SWEEP_RESOLUTION, "value"),
                   steps=State(ids.SWEEP_STEPS, "value"),
                   lr_min=State(ids.SWEEP_LR_MIN, "value"),
                   lr_max=State(ids.SWEEP_LR_MAX, "value"),
                   race_state=State(ids.RACE_STATE, "data"), theme=State(ids.THEME, "data"),
                   page=State(ids.PAGE, "data")),
        background=True, interval=250, prevent_initial_call=True,
        running=[(Output(ids.SWEEP_RUN, "disabled"), True, False),
                 (Output(ids.SWEEP_CANCEL, "disabled"), False, True),
                 (Output(ids.SWEEP_STATUS, "children"), "Sweeping…", ""),
                 (Output(ids.SWEEP_PROGRESS, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        cancel=[Input(ids.SWEEP_CANCEL, "n_clicks")],
        progress=[Output(ids.SWEEP_PROGRESS, "value"), Output(ids.SWEEP_PROGRESS, "max")],
        progress_default=["0", "1"], on_error=_report_job_error,
    )
    @jobs.checked_by(_check_sweep)
    def run_sweep(set_progress, clicks, optimizer, metric, resolution, steps, lr_min, lr_max,
                  race_state, theme, page):
        settings = _sweep_settings(race_state, optimizer, resolution, steps, lr_min, lr_max)
        started = time.perf_counter()
        try:
            result = settings.run(progress=lambda done, total: set_progress((str(done),
                                                                             str(total))))
        except InvalidParameterError as error:  # a limit the settings' check did not see
            raise jobs.JobRefused(str(error)) from error
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
        return dict(figure=figure, stored=stored, status=status, error="",
                    export_disabled=False)

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
        output=dict(download=Output(ids.SWEEP_DOWNLOAD, "data")),
        inputs=dict(clicks=Input(ids.SWEEP_EXPORT, "n_clicks")),
        state=dict(stored=State(ids.SWEEP_RESULT, "data"), page=State(ids.PAGE, "data")),
        background=True, prevent_initial_call=True, on_error=_report_job_error,
        running=[(Output(ids.SWEEP_EXPORT, "disabled"), True, False)],
    )
    @jobs.checked_by(_check_export)
    def export_grid(clicks, stored, page):
        """The grid recomputed (deterministic, float64) and written as CSV."""
        settings = _exported_settings(stored)
        result = settings.run()
        return dict(download=dcc.send_string(
            sweep_to_csv(result),
            f"phase-diagram-{settings.race.surface}-{settings.optimizer}.csv", type="text/csv"))

