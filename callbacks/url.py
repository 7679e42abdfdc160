"""Settings into the controls: from the URL when the page opens, from a surface's preset
when the user picks another surface; the Advanced panel's inputs when it first opens.
The URL itself is written in the browser (assets/app.js ``writeUrl``, by the race's
follow-up callback, see callbacks/race.py) from the race's canonical query: a settled
change adds a history entry, so Back undoes it; Back and Forward come here through the
history store."""

from __future__ import annotations

from dataclasses import replace

from dash import Input, Output, State, ctx, html, no_update
from dash._utils import to_json
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.race import override_control_value, overrides_grid, own_lr_line, surface_about
from optim_core.lessons import LESSONS
from settings import (
    CUSTOM_F,
    RaceSettings,
    from_query,
    lesson_settings,
    override_values,
    own_lrs,
    slider_position,
    step_from_query,
    window_text,
    with_kept_points,
    without_override,
)

OVERRIDES = ids.overrides()
#: What apply_settings writes: the controls, and what goes with them.
SETTINGS_OUTPUTS = dict(
    controls={name: Output(control, "value") for name, control in ids.CONTROL_FOR.items()},
    sliders={name: Output(slider, "value") for name, slider in ids.SLIDER_FOR.items()},
    start_placeholders={"x0": Output(ids.START_X, "placeholder"),
                        "y0": Output(ids.START_Y, "placeholder")},
    overrides=Output(OVERRIDES, "value"), controls_class=Output(ids.CONTROLS, "className"),
    about=Output(ids.SURFACE_ABOUT, "children"),
    note=Output(ids.URL_NOTE_TEXT, "children"),
    overrides_store=Output(ids.OVERRIDES_STORE, "data"),
    step=Output(ids.STEP_REQUEST, "data"))


def control_values(settings: RaceSettings, override_ids: list) -> dict:
    """What the controls show for ``settings``, named as apply_settings' outputs."""
    surface = settings.surface_object()
    controls = {name: settings.control_value(name) for name in ids.CONTROL_FOR} | {
        "window": window_text(settings.window)}
    return {
        "controls": controls | {"optimizers": list(settings.optimizers)},
        "sliders": {"lr": slider_position("lr", settings.lr), "momentum": settings.momentum},
        "start_placeholders": {"x0": f"{surface.default_start[0]:g}",
                               "y0": f"{surface.default_start[1]:g}"},
        "overrides": [override_control_value(
            key["optimizer"], key["param"], settings.overrides.get(key["optimizer"], {})
            .get(key["param"])) for key in override_ids or []],
        "controls_class": f"controls surface-{settings.surface}",
        "about": surface_about(surface)}


def opened_page() -> dict:
    """What the page shows when it opens, named as apply_settings' outputs: the layout is
    drawn from the default race (layouts.page), with no Advanced cell yet."""
    settings = RaceSettings()
    shown = control_values(settings, []) | {"note": None, "overrides_store": settings.overrides}
    del shown["overrides"]  # a wildcard output's value is a list, sent even if empty
    return shown


def changed(values: dict, shown: dict) -> dict:
    """``values`` with ``no_update`` for each one the page already shows (``shown``): a
    value set again is work for the browser (a render, and every callback that reads it
    fired anew) for nothing. What ``shown`` does not name is kept. A group (a dict of
    outputs) is compared output by output."""
    def unless_shown(value, name, seen):  # as JSON: components compare, and 0.1 is 0.1
        same = name in seen and to_json(value) == to_json(seen[name])
        return no_update if same else value
    return {name: {key: unless_shown(v, key, shown[name]) for key, v in value.items()}
            if isinstance(SETTINGS_OUTPUTS[name], dict) else unless_shown(value, name, shown)
            for name, value in values.items()}


def register(app) -> None:
    @app.callback(
        output=SETTINGS_OUTPUTS,
        inputs=dict(search=Input(ids.URL, "search"), went_to=Input(ids.HISTORY, "data"),
                    surface=Input(ids.SURFACE, "value"), lesson=Input(ids.LESSON, "value")),
        state=dict(optimizers=State(ids.OPTIMIZERS, "value"), seed=State(ids.SEED, "value"),
                   noise=State(ids.NOISE, "value"), override_ids=State(OVERRIDES, "id"),
                   data=State(ids.DATA, "value"), typed_f=State(ids.CUSTOM_F, "value"),
                   raced=State(ids.RACE_STATE, "data")),
    )
    def apply_settings(search, went_to, surface, lesson, optimizers, seed, noise, override_ids,
                       data, typed_f, raced):
        notes, step = [], no_update  # a preset or a lesson keeps the scrubber's step
        if ctx.triggered_id == ids.HISTORY and isinstance(went_to, dict):
            search = went_to.get("search")
        if ctx.triggered_id == ids.LESSON:  # the user picked a lesson: its race
            if not (isinstance(lesson, str) and lesson in LESSONS):
                raise PreventUpdate  # cleared: the race stays, without the lesson
            settings = lesson_settings(lesson)
        elif ctx.triggered_id == ids.SURFACE:  # the user picked a surface: its preset
            keep = {"optimizers": tuple(optimizers or ()) or RaceSettings().optimizers}
            settings = RaceSettings.preset(surface, **keep,
                                           seed=seed if isinstance(seed, int) and seed >= 0
                                           else 0,
                                           noise=noise if isinstance(noise, (int, float))
                                           and 0 <= noise <= 100 else 0.0)
            kept = lesson if isinstance(lesson, str) and lesson in LESSONS else None
            settings = replace(settings, lesson=kept)  # its text says the race left it
            settings = with_kept_points(settings, data)
        else:  # the page opened, or the user went back or forward: the URL says
            search = search if isinstance(search, str) else ""
            settings, notes = from_query(search)
            step = {"step": step_from_query(search, settings.steps)}
        note = html.Div([html.B("Some settings in the link were not used: "),
                         " ".join(notes)]) if notes else None
        values = control_values(settings, override_ids)
        if ctx.triggered_id == ids.SURFACE:  # the user's points and f stay for their surface
            values["controls"]["data"] = values["controls"]["window"] = no_update
            if isinstance(typed_f, str) and typed_f.strip():
                values["controls"]["f"] = no_update
            else:
                values["controls"]["f"] = settings.f or CUSTOM_F
        values |= {"note": note, "overrides_store": settings.overrides, "step": step}
        if raced is None and ctx.triggered_id in (None, ids.URL):  # the page opened (no
            # race drawn yet): only what differs from the default race it shows
            values = changed(values, opened_page())
        return values

    @app.callback(
        output=dict(grid=Output(ids.OVERRIDES_GRID, "children"),
                    class_name=Output(ids.OVERRIDES_GRID, "className")),
        inputs=dict(clicks=Input(ids.ADVANCED_SUMMARY, "n_clicks")),
        state=dict(stored=State(ids.OVERRIDES_STORE, "data"),
                   class_name=State(ids.OVERRIDES_GRID, "className")),
        prevent_initial_call=True,
    )
    def draw_overrides_grid(clicks, stored, class_name):
        """The Advanced panel's inputs, the first time it opens, from the overrides store
        (the URL's or the preset's values, and any the sweep changed)."""
        if "drawn" in (class_name or "").split():
            raise PreventUpdate
        return dict(grid=overrides_grid(override_values(stored)),
                    class_name=f"{class_name or ''} drawn".strip())

    @app.callback(output=Output(ids.OWN_LR, "children"),
                  inputs=dict(stored=Input(ids.OVERRIDES_STORE, "data"),
                              optimizers=Input(ids.OPTIMIZERS, "value")),
                  prevent_initial_call=True)  # the layout draws the default race's
    def show_own_lr(stored, optimizers):
        """Under the lr slider: which racers have an lr of their own."""
        return own_lr_line(own_lrs(stored, optimizers))

    @app.callback(
        output=dict(stored=Output(ids.OVERRIDES_STORE, "data", allow_duplicate=True),
                    lr_cells=Output(ids.overrides("lr"), "value", allow_duplicate=True)),
        inputs=dict(clicks=Input(ids.follow_slider_id(), "n_clicks")),
        state=dict(stored=State(ids.OVERRIDES_STORE, "data"),
                   lr_cells=State(ids.overrides("lr"), "id")),
        prevent_initial_call=True,
    )
    def follow_slider(clicks, stored, lr_cells):
        """Drop one optimizer's own lr: it follows the lr slider (its Advanced cell, if
        drawn, is cleared too, or gathering the cells would bring the value back)."""
        optimizer = (ctx.triggered_id or {}).get("optimizer")
        if not any(clicks) or not isinstance(optimizer, str):
            raise PreventUpdate  # the buttons were (re)drawn, not clicked
        return dict(stored=without_override(stored, optimizer, "lr"),
                    lr_cells=[None if cell["optimizer"] == optimizer else no_update
                              for cell in lr_cells or []])
