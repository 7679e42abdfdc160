"""The phase diagram: a background sweep with progress and cancel, metric switching,
the race's current (lr, μ) on the map, click a cell to race there, hover details and
the grid's CSV."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from dash import ClientsideFunction, Input, Output, Patch, State, dcc, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.figures import TITLES, theme_name
from layouts.sweep import (
    METRIC_ORDER,
    empty_sweep_figure,
    hover_template,
    hover_text,
    retheme_sweep,
    sweep_figure,
)
from optim_core import OPTIMIZERS
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import InvalidParameterError
from optim_core.sweep import sweep_to_csv
from settings import (
    SWEEP_INPUTS,
    SweepSettings,
    own_values,
    parse_sweep,
    settings_from_state,
    stale_reasons,
    stored_sweep,
    with_own,
)

from . import jobs

log = logging.getLogger(__name__)
OVERRIDES = ids.overrides()
#: The control each of parse_sweep's messages goes under.
SWEEP_CONTROLS = {"optimizer": ids.SWEEP_OPTIMIZER, "resolution": ids.SWEEP_RESOLUTION,
                  "steps": ids.SWEEP_STEPS, "lr_min": ids.SWEEP_LR_MIN,
                  "lr_max": ids.SWEEP_LR_MAX, "momentum_min": ids.SWEEP_MOMENTUM_MIN,
                  "momentum_max": ids.SWEEP_MOMENTUM_MAX}


def _current(settings: SweepSettings) -> tuple[float, float | None]:
    """The swept optimizer's own (lr, μ) in the race (the ring on the diagram)."""
    own = own_values(settings.race, settings.optimizer)
    return own["lr"], own.get("momentum")


def cell_values(custom) -> list | None:
    """A hovered cell's five numbers (a float32 row arrives as {"0": …, "4": …})."""
    if isinstance(custom, dict):
        custom = [custom.get(str(i)) for i in range(5)]
    if not isinstance(custom, list) or len(custom) != 5 or not all(
            isinstance(v, (int, float)) and math.isfinite(v) for v in custom):
        return None
    return custom


def _ranges(lr_min, lr_max, momentum_min, momentum_max) -> dict:
    return {"lr_min": lr_min, "lr_max": lr_max, "momentum_min": momentum_min,
            "momentum_max": momentum_max}


def _refused(settings: SweepSettings | None, errors: dict) -> SweepSettings:
    """The settings, or JobRefused naming every message (the lines under the controls
    say the same, from ``show_sweep_errors``)."""
    if settings is None:
        raise jobs.JobRefused(" ".join(f"{name.replace('_', ' ')}: {text}"
                                       for name, text in errors.items()))
    return settings


def _sweep_settings(race_state, optimizer, resolution, steps, ranges: dict) -> SweepSettings:
    """The sweep's settings, or JobRefused with the messages (a crafted race state too)."""
    try:
        found = parse_sweep(race_state, optimizer, resolution, steps, ranges)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        log.info("a sweep with an unreadable race state: %s", jobs.escaped(error))
        raise jobs.JobRefused("The race's settings could not be read: draw a race "
                              "first.") from error
    return _refused(*found)


def _exported_settings(stored) -> SweepSettings:
    if not isinstance(stored, dict) or not isinstance(stored.get("race"), dict):
        raise jobs.JobRefused("Run a sweep first: there is no grid to export.")
    return _refused(*stored_sweep(stored))


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
        args.get("steps"), _ranges(args.get("lr_min"), args.get("lr_max"),
                                   args.get("momentum_min"), args.get("momentum_max"))))


def _check_export(args: dict):
    return _checked(lambda: _exported_settings(args.get("stored")))


_report_job_error = jobs.error_reporter("sweep", ids.SWEEP_ERROR, ids.SWEEP_STATUS,
                                       "Not swept.")


def register(app) -> None:
    @app.callback(
        output=dict(lines={name: Output(ids.error_id(control), "children")
                           for name, control in SWEEP_CONTROLS.items()}),
        inputs=dict(clicks=Input(ids.SWEEP_RUN, "n_clicks")),
        state=dict(optimizer=State(ids.SWEEP_OPTIMIZER, "value"),
                   resolution=State(ids.SWEEP_RESOLUTION, "value"),
                   steps=State(ids.SWEEP_STEPS, "value"),
                   ranges={name: State(SWEEP_CONTROLS[name], "value") for name in SWEEP_INPUTS},
                   race_state=State(ids.RACE_STATE, "data")),
        prevent_initial_call=True,
    )
    def show_sweep_errors(clicks, optimizer, resolution, steps, ranges, race_state):
        """Each of the sweep's messages under its control, on the click that asks for the
        sweep (the job itself is refused before it starts: see ``_check_sweep``)."""
        _, errors = parse_sweep(race_state, optimizer, resolution, steps, ranges)
        return dict(lines={name: errors.get(name, "") for name in SWEEP_CONTROLS})

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
                   momentum_min=State(ids.SWEEP_MOMENTUM_MIN, "value"),
                   momentum_max=State(ids.SWEEP_MOMENTUM_MAX, "value"),
                   race_state=State(ids.RACE_STATE, "data"), theme=State(ids.THEME, "data"),
                   page=State(ids.PAGE, "data")),
        **jobs.progress_job(ids.SWEEP_RUN, ids.SWEEP_CANCEL, ids.SWEEP_PROGRESS),
        on_error=_report_job_error,
    )
    @jobs.checked_by(_check_sweep)
    def run_sweep(set_progress, clicks, optimizer, metric, resolution, steps, lr_min, lr_max,
                  momentum_min, momentum_max, race_state, theme, page):
        settings = _sweep_settings(race_state, optimizer, resolution, steps,
                                   _ranges(lr_min, lr_max, momentum_min, momentum_max))
        started = time.perf_counter()
        try:
            result = settings.run(progress=lambda done, total: set_progress((str(done),
                                                                             str(total))))
        except InvalidParameterError as error:  # a limit the settings' check did not see
            raise jobs.JobRefused(str(error)) from error
        seconds = time.perf_counter() - started
        figure = sweep_figure(result, metric if metric in METRIC_ORDER else "final_loss",
                              theme_name(theme), _current(settings))
        cells = result.final_loss.size
        diverged = int((result.diverged_at >= 0).sum())
        status = (f"{TITLES[result.optimizer]}: {cells:,} cells × {result.steps} steps in "
                  f"{seconds:.2f} s ({cells * result.steps / seconds / 1e6:.0f} M steps/s); "
                  f"{diverged:,} diverged.")
        stored = {**settings.to_dict(), **figure.layout.meta, "context": settings.context(),
                  "lrs": result.lrs.tolist(), "momenta": result.momenta.tolist()}
        return dict(figure=figure, stored=stored, status=status, error="",
                    export_disabled=False)

    jobs.status_lines(app, ids.SWEEP_RUN, ids.SWEEP_CANCEL, ids.SWEEP_STATUS, "Sweeping…")

    @app.callback(
        output=Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        inputs=dict(metric=Input(ids.SWEEP_METRIC, "value")),
        state=dict(stored=State(ids.SWEEP_RESULT, "data")),
        prevent_initial_call=True,
    )
    def switch_metric(metric, stored):
        if not stored or metric not in METRIC_ORDER:
            raise PreventUpdate
        patch = Patch()
        for index, key in enumerate(METRIC_ORDER):
            patch["data"][index]["visible"] = key == metric
        patch["data"][stored["diverged_layer"]]["hovertemplate"] = hover_template(
            metric, bool(stored.get("takes_momentum")))
        return patch

    @app.callback(
        output=Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        inputs=dict(theme=Input(ids.THEME, "data"), stored=Input(ids.SWEEP_RESULT, "data")),
        prevent_initial_call=True,  # the layout draws the light placeholder
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

    # the swept optimizer's own (lr, μ) is marked on the heatmap, and a diagram that no
    # longer describes the race is marked stale, in the browser (assets/app.js
    # ``markCurrent``, run after each race update and each new diagram): no round trip

    @app.callback(
        output={"overrides": Output(OVERRIDES, "value", allow_duplicate=True),
                "store": Output(ids.OVERRIDES_STORE, "data", allow_duplicate=True),
                "optimizers": Output(ids.OPTIMIZERS, "value", allow_duplicate=True),
                "applied": Output(ids.SWEEP_APPLIED, "data"),
                "status": Output(ids.SWEEP_STATUS, "children", allow_duplicate=True)},
        inputs={"click": Input(ids.SWEEP_GRAPH, "clickData"),
                "stored": State(ids.SWEEP_RESULT, "data"),
                "race_state": State(ids.RACE_STATE, "data"),
                "optimizers": State(ids.OPTIMIZERS, "value"),
                "override_values": State(OVERRIDES, "value"),
                "override_ids": State(OVERRIDES, "id"),
                "stored_overrides": State(ids.OVERRIDES_STORE, "data")},
        prevent_initial_call=True,
    )
    def race_at_cell(click, stored, race_state, optimizers, override_values, override_ids,
                     stored_overrides):
        """The swept optimizer races at the cell's (lr, μ), as its own lr and μ (the
        Advanced panel's): the sliders, and so every other racer, stay as they are. A
        diagram drawn for other settings than the race's is not applied."""
        race, _ = settings_from_state(race_state)
        if not click or not stored or not click.get("points") or race is None \
                or not isinstance(stored.get("context"), dict):
            raise PreventUpdate
        swept = stored["optimizer"]
        reasons = stale_reasons(stored["context"], race, swept)
        if reasons:
            return {"overrides": [no_update] * len(override_ids or []), "store": no_update,
                    "optimizers": no_update, "applied": no_update,
                    "status": "Not applied: this diagram was drawn for other settings "
                              f"({'; '.join(reasons)}). Run the sweep again."}
        point = click["points"][0]
        lrs, momenta = np.array(stored["lrs"]), np.array(stored["momenta"])
        own = {"lr": float(lrs[np.argmin(np.abs(np.log10(lrs)
                                                - np.log10(float(point["x"]))))])}
        if "momentum" in OPTIMIZERS[swept].defaults:
            own["momentum"] = float(momenta[np.argmin(np.abs(momenta - float(point["y"])))])
        chosen = [o for o in OPTIMIZER_NAMES if o in {*(optimizers or []), swept}]
        # the inputs, where the Advanced panel is drawn, and the store either way
        inputs = [own.get(key["param"], value) if key["optimizer"] == swept else no_update
                  for value, key in zip(override_values or [], override_ids or [],
                                        strict=True)]
        said = ", ".join(f"{'μ' if k == 'momentum' else k} {v:.4g}" for k, v in own.items())
        return {"overrides": inputs, "store": with_own(stored_overrides, swept, own),
                "optimizers": chosen, "applied": {"optimizer": swept, **own},
                "status": f"{TITLES[swept]} races at its own {said} (Advanced); the sliders "
                          "and the other racers are unchanged."}

    app.clientside_callback(
        ClientsideFunction("race", "showRace"),
        Output(ids.SWEEP_APPLIED, "data", allow_duplicate=True),
        Input(ids.SWEEP_APPLIED, "data"), prevent_initial_call=True)

    @app.callback(
        output=Output(ids.SWEEP_HOVER, "children"),
        inputs=dict(hover=Input(ids.SWEEP_GRAPH, "hoverData")),
        state=dict(stored=State(ids.SWEEP_RESULT, "data")),
        prevent_initial_call=True,
    )
    def describe_cell(hover, stored):
        if not hover or not stored or not hover.get("points"):
            return "Hover a cell for its numbers; click it to race there."
        point = hover["points"][0]
        custom = cell_values(point.get("customdata"))
        if custom is None:
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
        """The grid recomputed (deterministic, float64) and written as CSV; a crafted store
        gets the sweep's limits (``stored_sweep``)."""
        settings = _exported_settings(stored)
        result = settings.run()
        return dict(download=dcc.send_string(
            sweep_to_csv(result),
            f"phase-diagram-{settings.race.surface}-{settings.optimizer}.csv", type="text/csv"))
