"""A fair race: [tune-button] tunes each racer's lr (and μ / β₁) as a background job (the
phase diagram's machinery: callbacks/jobs.py), then each races at its tuned values as its
own (the Advanced panel's overrides, so the URL keeps them), and the leaderboard card
shows what was tuned, by which criterion, on which grid, how sharply."""

from __future__ import annotations

import logging
import math
import time

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.tune import tuned_table
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import InvalidParameterError, check_params
from optim_core.simulate import SHARED_HYPERPARAMETERS
from optim_core.tune import CRITERIA, LR_COUNT, tune
from settings import SWEEP_CONTEXT, RaceSettings, override_values, settings_from_state

from . import jobs
from .sweep import OVERRIDES

log = logging.getLogger(__name__)
#: what a tuning depends on besides each racer's own other values (the race's settings)
CONTEXT = (*SWEEP_CONTEXT, "steps", "f", "window", "data", "optimizers")


def _race(race_state, criterion) -> RaceSettings:
    """The race to tune, or JobRefused saying why not."""
    if criterion not in CRITERIA:
        raise jobs.JobRefused(f"Tune by one of: {', '.join(CRITERIA)}.")
    try:
        race, errors = settings_from_state(race_state)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise jobs.JobRefused("The race's settings could not be read: draw a race "
                              "first.") from error
    if race is None:
        raise jobs.JobRefused("Draw a race first: " + " ".join(errors.values()))
    try:
        check_params("tune", {"sweep_steps": race.steps})
    except InvalidParameterError as error:
        raise jobs.JobRefused(f"Tuning races every cell for the race's steps: {error}"
                              ) from error
    return race


def _cells(race: RaceSettings) -> int:
    from optim_core import OPTIMIZERS

    return sum(LR_COUNT * (LR_COUNT if "momentum" in OPTIMIZERS[o].defaults else 1)
               for o in race.optimizers)


def _check_tune(args: dict):
    """(refusal or None, cells × steps), before the job starts (callbacks/jobs.py)."""
    try:
        race = _race(args.get("race_state"), args.get("criterion"))
    except jobs.JobRefused as refusal:
        return jobs.user_message(refusal), 0
    return None, _cells(race) * race.steps


def context(race: RaceSettings, tuned: dict) -> dict:
    """What the race store holds while the race is the one tuned: the race's settings,
    and each racer's own values with its ``tuned`` ones set."""
    stored = race.to_dict()
    return {"race": {name: stored[name] for name in CONTEXT},
            "own": {o: {**race.overrides.get(o, {}), **tuned.get(o, {})}
                    for o in race.optimizers}}


_report_job_error = jobs.error_reporter("tuning", ids.TUNE_ERROR, ids.TUNE_STATUS,
                                       "Not tuned.")


def tuned_values(stored) -> dict:
    """{optimizer: {lr, momentum}} of a tuning result store, each value checked (the
    store comes back from the browser)."""
    tuned = stored.get("tuned") if isinstance(stored, dict) else None
    if not isinstance(tuned, dict):
        return {}
    clean = {}
    for name, values in tuned.items():
        if name not in OPTIMIZER_NAMES or not isinstance(values, dict):
            continue
        kept = {k: float(v) for k, v in values.items() if k in SHARED_HYPERPARAMETERS
                and isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v)}
        try:
            clean[name] = check_params(name, kept) if kept else {}
        except InvalidParameterError:
            continue
    return {name: values for name, values in clean.items() if values}


def register(app) -> None:
    @app.callback(
        output=dict(stored=Output(ids.TUNE_RESULT, "data"),
                    table=Output(ids.TUNE_TABLE, "children"),
                    status=Output(ids.TUNE_STATUS, "children"),
                    error=Output(ids.TUNE_ERROR, "children")),
        inputs=dict(clicks=Input(ids.TUNE_BUTTON, "n_clicks")),
        state=dict(criterion=State(ids.TUNE_CRITERION, "value"),
                   race_state=State(ids.RACE_STATE, "data"), page=State(ids.PAGE, "data")),
        **jobs.progress_job(ids.TUNE_BUTTON, ids.TUNE_CANCEL, ids.TUNE_PROGRESS),
        on_error=_report_job_error,
    )
    @jobs.checked_by(_check_tune)
    def run_tuning(set_progress, clicks, criterion, race_state, page):
        race = _race(race_state, criterion)
        surface = race.surface_object()
        started = time.perf_counter()
        try:
            results = tune(surface, race.optimizers, criterion=criterion, steps=race.steps,
                           start=race.start(surface), noise=race.noise,
                           batch_size=race.batch_size, seed=race.seed, own=race.overrides,
                           progress=lambda done, total: set_progress((str(done),
                                                                      str(total))))
        except InvalidParameterError as error:  # a limit the check did not see
            raise jobs.JobRefused(str(error)) from error
        seconds = time.perf_counter() - started
        tuned = {t.optimizer: t.values for t in results if t.found}
        lost = [t.optimizer for t in results if not t.found]
        status = (f"Tuned {len(tuned)} of {len(results)} racers ({_cells(race):,} cells × "
                  f"{race.steps} steps in {seconds:.2f} s)"
                  + (f"; every cell of {', '.join(lost)} diverged: left as it was"
                     if lost else "") + ".")
        return dict(stored={"tuned": tuned, "criterion": criterion,
                            "context": context(race, tuned)},
                    table=tuned_table(results), status=status, error="")

    jobs.status_lines(app, ids.TUNE_BUTTON, ids.TUNE_CANCEL, ids.TUNE_STATUS, "Tuning…")

    @app.callback(
        output={"overrides": Output(OVERRIDES, "value", allow_duplicate=True),
                "store": Output(ids.OVERRIDES_STORE, "data", allow_duplicate=True)},
        inputs={"stored": Input(ids.TUNE_RESULT, "data"),
                "override_ids": State(OVERRIDES, "id"),
                "stored_overrides": State(ids.OVERRIDES_STORE, "data")},
        prevent_initial_call=True,
    )
    def race_tuned(stored, override_ids, stored_overrides):
        """Each tuned racer's lr and μ become its own (the Advanced panel's inputs where
        it is drawn, the overrides store either way); the others stay as they are."""
        tuned = tuned_values(stored)
        if not tuned:
            raise PreventUpdate
        own = override_values(stored_overrides)
        for name, values in tuned.items():
            own[name] = {**own.get(name, {}), **values}
        inputs = [tuned.get(key["optimizer"], {}).get(key["param"], no_update)
                  for key in override_ids or []]
        return {"overrides": inputs, "store": own}

    # Tuned or not, said above the leaderboard, in the browser: the table while the race
    # is the one tuned (same settings, each racer at its tuned values), else the line
    # that says the race is untuned. No round trip on a slider move.
    app.clientside_callback(
        """(state, stored) => {
            const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
            const sorted = o => Object.fromEntries(Object.entries(o || {}).sort());
            const s = state && state.settings, c = stored && stored.context;
            let tuned = Boolean(s && c && stored.tuned);
            if (tuned) {
                for (const key in c.race) { tuned = tuned && same(s[key], c.race[key]); }
                const over = s.overrides || {};
                for (const name in c.own) {
                    tuned = tuned && same(sorted(over[name]), sorted(c.own[name]));
                }
            }
            return [{display: tuned ? 'block' : 'none'}, {display: tuned ? 'none' : 'block'}];
        }""",
        Output(ids.TUNE_TABLE, "style"), Output(ids.TUNE_UNTUNED, "style"),
        Input(ids.RACE_STATE, "data"), Input(ids.TUNE_RESULT, "data"),
    )
