"""The race: controls in, paths, loss plot, leaderboard and theory out; the CSV export.

Thin: :mod:`settings` validates, :mod:`optim_core` computes, :mod:`layouts` draws.
A slider move sends only the paths (a ``Patch`` of float32 typed arrays); the surface
image is sent again only when the figure's structure changes (surface, κ, data,
optimizers or theme).
"""

from __future__ import annotations

import logging
import math
import shlex

from dash import ClientsideFunction, Input, Output, Patch, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from layouts import figures, ids
from layouts.components import to_html
from layouts.race import (
    CLI_LABEL,
    leaderboard_table,
    map_flags,
    race_legend,
    share_note,
    theory_panel,
)
from optim_core import theory
from optim_core.analysis import leaderboard
from optim_core.export import race_to_csv
from settings import override_values, pair_sliders, parse_controls, settings_from_state

log = logging.getLogger(__name__)

SETTING_CONTROLS = tuple(ids.CONTROL_FOR.items())  # (setting name, control id)


def drawn_race(state):
    """The settings of the race the page shows, checked as the controls' are (the store
    comes back from the browser); no update when there is none, or it does not check."""
    settings, _ = settings_from_state(state)
    if settings is None:
        raise PreventUpdate
    return settings


def update_race(values: dict, overrides: dict, theme: str | None, structure: str | None,
                patch_updates: bool = True):
    """Everything the race callback returns, as a dict of output name → value.

    With ``patch_updates`` False every update sends whole figures: the baseline that
    the latency benchmark measures patching against."""
    theme = figures.theme_name(theme)
    settings, errors = parse_controls({**values, "overrides": overrides})
    messages = {name: errors.get(name, "") for name, _ in SETTING_CONTROLS}
    override_errors = [f"{figures.TITLES[key.split('.')[0]]} · {key.split('.')[1]}: {text}"
                       for key, text in errors.items() if "." in key]
    outputs = {"errors": messages, "overrides_error": " ".join(override_errors),
               "race_error": ""}
    if settings is None:  # keep what is drawn; say what to fix
        return outputs | dict.fromkeys(("race", "animate", "loss", "follow_up", "polyak",
                                        "state", "structure", "scrub"), no_update)
    race = settings.simulate()
    surface = race.surface
    new_structure = settings.structure(theme)
    patched = patch_updates and new_structure == structure
    if patched:  # the loss curves follow up, drawn once the paths are
        race_fig, loss_fig = Patch(), no_update
        loss_curves = figures.loss_curves(race, settings.axis)
        figures.patch_race_figure(race_fig, race)
    else:
        race_fig, loss_curves = figures.race_figure(race, theme), None
        loss_fig = figures.loss_figure(race, theme, settings.axis)
    summaries = leaderboard(race)  # once: the table and the theory panel share it
    own = settings.overrides
    c = theory.curvature(surface)
    polyak = {"display": "inline-block"} if theory.shows_polyak(c) else {"display": "none"}
    return outputs | {
        "race": race_fig, "animate": patched, "loss": loss_fig,
        "follow_up": {"loss": loss_curves,
                      "board": to_html(leaderboard_table(summaries, race, own,
                                                                settings.axis)),
                      "legend": to_html(race_legend(race, own)),
                      "flags": to_html(map_flags(race)),
                      "theory": to_html(theory_panel(settings, surface, race, summaries))},
        "polyak": polyak, "scrub": figures.scrub_data(race, settings.axis)
                                    | {"query": settings.to_query()},
        "state": {"settings": settings.to_dict(), "query": settings.to_query(),
                  "cause": "other"},
        "structure": new_structure}


def _same_shape(grouping: dict, value) -> dict:
    """``grouping`` (a nested dict of dependencies) with ``value`` at every leaf."""
    return {key: _same_shape(item, value) if isinstance(item, dict) else value
            for key, item in grouping.items()}


def _changed_only(grouping: dict, new: dict, old: dict) -> dict:
    """``new`` with ``no_update`` wherever it equals what the page shows (``old``), both
    shaped as ``grouping`` (a value can be a dict itself: a style)."""
    return {key: _changed_only(item, new[key], old[key]) if isinstance(item, dict)
            else no_update if new[key] == old[key] else new[key]
            for key, item in grouping.items()}


def register(app, patch_updates: bool = True) -> None:
    # Outputs that rarely change are compared with what the page shows and left alone
    # when equal: each output Dash applies costs a store update that every component on
    # the page hears (children outputs also re-index the layout) — a large part of what
    # a slider move costs in the browser. Named as update_race names them.
    shown = {"polyak": (ids.POLYAK_BUTTON, "style"), "race_error": (ids.RACE_ERROR, "children"),
             "overrides_error": (ids.OVERRIDES_ERROR, "children"),
             "errors": {name: (ids.error_id(control), "children")
                        for name, control in SETTING_CONTROLS}}

    def shown_as(kind, grouping=shown):
        return {key: shown_as(kind, item) if isinstance(item, dict) else kind(*item)
                for key, item in grouping.items()}

    # The sliders are inputs of this callback, not of one that syncs them to their number
    # boxes first: a move reaches the server without waiting for another callback (Dash
    # would run them one after the other), and this callback writes the number.
    sliders, boxes = ids.SLIDER_FOR, {name: ids.CONTROL_FOR[name] for name in ids.SLIDER_FOR}
    outputs = dict(
        race=Output(ids.RACE_GRAPH, "figure"), animate=Output(ids.RACE_GRAPH, "animate"),
        loss=Output(ids.LOSS_GRAPH, "figure"), follow_up=Output(ids.RACE_FOLLOW_UP, "data"),
        state=Output(ids.RACE_STATE, "data"), structure=Output(ids.RACE_STRUCTURE, "data"),
        scrub=Output(ids.SCRUB_STORE, "data"),
        boxes={name: Output(box, "value", allow_duplicate=True) for name, box in boxes.items()},
        sliders={name: Output(slider, "value", allow_duplicate=True)
                 for name, slider in sliders.items()},
        shown=shown_as(Output))

    @app.callback(
        output=outputs,
        inputs=dict(values={name: Input(control, "value") for name, control in SETTING_CONTROLS},
                    positions={name: Input(slider, "value") for name, slider in sliders.items()},
                    overrides=Input(ids.OVERRIDES_STORE, "data"), theme=Input(ids.THEME, "data")),
        state=dict(structure=State(ids.RACE_STRUCTURE, "data"), showing=shown_as(State)),
        prevent_initial_call="initial_duplicate",  # it draws the first race, too
    )
    def race_callback(values, positions, overrides, theme, structure, showing):
        triggered = set(ctx.triggered_prop_ids)
        moved = {name for name in sliders if f"{sliders[name]}.value" in triggered
                 and f"{boxes[name]}.value" not in triggered}
        values, box_values, slider_values = pair_sliders(values, positions, moved)
        pairs = {"boxes": {name: box_values.get(name, no_update) for name in boxes},
                 "sliders": {name: slider_values.get(name, no_update) for name in sliders}}
        try:
            out = update_race(values, override_values(overrides), theme, structure,
                              patch_updates)
        except Exception:  # never a 500: keep the race drawn and say something broke
            log.exception("race callback failed")
            answer = _same_shape(outputs, no_update)
            answer["shown"]["race_error"] = ("Something went wrong drawing this race; the "
                                             "server log has the details. Try other settings.")
            return answer
        if moved and out["state"] is not no_update:  # a drag's moves share a history entry
            out["state"]["cause"] = "slider"
        return {**{key: out[key] for key in ("race", "animate", "loss", "follow_up", "state",
                                             "scrub")},
                "structure": no_update if out["structure"] == structure else out["structure"],
                **pairs, "shown": _changed_only(shown, out, showing)}

    # What follows each race update, in the browser (assets/app.js ``afterRace``): the
    # loss curves of a slider move, the leaderboard, the theory readout, the map's flags
    # (diverged or off-map paths), the URL, the swept optimizer's (lr, μ) on the phase
    # diagram and whether it still describes the race (also when a new diagram arrives).
    # Dash runs it once it has applied the race callback's answer, so the paths are
    # drawn first: the loss plot's redraw (~25 ms) and the panels' do not hold them
    # back. One callback, not five: each callback and each output costs Dash a few ms
    # in the browser.
    app.clientside_callback(
        ClientsideFunction("race", "afterRace"),
        Output(ids.LOSS_GRAPH, "figure", allow_duplicate=True),
        Output(ids.LEADERBOARD, "children"), Output(ids.THEORY, "children"),
        Output(ids.MAP_FLAGS, "children"), Output(ids.RACE_LEGEND, "children"),
        Output(ids.SWEEP_GRAPH, "figure", allow_duplicate=True),
        Input(ids.RACE_FOLLOW_UP, "data"), Input(ids.RACE_STATE, "data"),
        Input(ids.SWEEP_RESULT, "data"),
        prevent_initial_call=True,
    )

    def on_the_drawn_race(output, button):
        """Register the decorated ``act(settings)`` for a click of ``button``: the drawn
        race's stored settings, checked as the race's are (a crafted store gets its
        limits), to ``output``."""
        def decorate(act):
            @app.callback(output=output, inputs=dict(clicks=Input(button, "n_clicks")),
                          state=dict(state=State(ids.RACE_STATE, "data")),
                          prevent_initial_call=True)
            def clicked(clicks, state):
                return act(drawn_race(state))
            return act
        return decorate

    @on_the_drawn_race(Output(ids.EXPORT_DOWNLOAD, "data"), ids.EXPORT_BUTTON)
    def export_csv(settings):
        """Exactly what is drawn, recomputed in float64 (the same rows as the CLI)."""
        race = settings.simulate(state=True)  # the optimizer's state per step too
        return dcc.send_string(race_to_csv(race, state=True), settings.export_name(),
                               type="text/csv")

    @on_the_drawn_race(Output(ids.SHARE_NOTE, "children"), ids.CLI_BUTTON)
    def cli_command(settings):
        """The command line that writes the export's bytes (copied in the browser)."""
        args = settings.cli_args()
        return share_note(CLI_LABEL, shlex.join(["python", "-m", "optim_core", *args]))

    # The scrubber draws the race at its step in the browser (assets/scrub.js): a new
    # race's points, or the step a link or a history entry asks for.
    app.clientside_callback(ClientsideFunction("scrub", "load"),
                            Output(ids.STEP_READOUT, "title"),
                            Input(ids.SCRUB_STORE, "data"), Input(ids.STEP_REQUEST, "data"),
                            prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("scrub", "loadMechanism"),
                            Output(ids.WALKTHROUGH_TABLE, "title"),
                            Input(ids.MECHANISM_STORE, "data"),
                            Input(ids.MECHANISM_TOGGLE, "value"),
                            Input(ids.WALKTHROUGH_FIRST, "value"),
                            prevent_initial_call=True)

    # the link is the address (see assets/app.js); either note's text goes to the clipboard
    app.clientside_callback(ClientsideFunction("race", "shareLink"),
                            Output(ids.SHARE_NOTE, "children", allow_duplicate=True),
                            Input(ids.LINK_BUTTON, "n_clicks"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("race", "copyShared"),
                            Output(ids.SHARE_STATUS, "children"),
                            Input(ids.SHARE_NOTE, "children"), prevent_initial_call=True)

    @on_the_drawn_race(dict(
        lr=Output(ids.LR_INPUT, "value", allow_duplicate=True),
        lr_slider=Output(ids.LR_SLIDER, "value", allow_duplicate=True),
        momentum=Output(ids.MOMENTUM_INPUT, "value", allow_duplicate=True),
        momentum_slider=Output(ids.MOMENTUM_SLIDER, "value", allow_duplicate=True)),
        ids.POLYAK_BUTTON)
    def use_polyak(settings):
        """Polyak's optimum lr and μ on the sliders, where theory shows it."""
        surface = settings.surface_object()
        c = theory.curvature(surface)
        if not theory.shows_polyak(c):
            raise PreventUpdate
        lr, momentum, _ = theory.polyak_optimum(c.L, c.m)
        return dict(lr=lr, lr_slider=math.log10(lr), momentum=momentum,
                    momentum_slider=momentum)
