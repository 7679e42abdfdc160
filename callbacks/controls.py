"""Small callbacks that run in the browser (assets/app.js): click-to-start, theme, and
the override inputs gathered into one store.
No server round trip for any of them. (The URL is written by the race's follow-up
callback, in callbacks/race.py.)"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from layouts import ids


def clientside(app, function: str, outputs, inputs, states=(), **kwargs) -> None:
    app.clientside_callback(ClientsideFunction("race", function), outputs, list(inputs),
                            list(states), **kwargs)


def register(app) -> None:
    clientside(app, "collectOverrides", Output(ids.OVERRIDES_STORE, "data", allow_duplicate=True),
               [Input(ids.overrides(), "value")], [State(ids.overrides(), "id")],
               prevent_initial_call=True)
    # a slider and its number box are kept together by the race callback itself
    clientside(app, "applyStartClick",
               [Output(ids.START_X, "value", allow_duplicate=True),
                Output(ids.START_Y, "value", allow_duplicate=True)],
               [Input(ids.START_CLICK, "data")], prevent_initial_call=True)
    clientside(app, "resetStart",
               [Output(ids.START_X, "value", allow_duplicate=True),
                Output(ids.START_Y, "value", allow_duplicate=True)],
               [Input(ids.START_RESET, "n_clicks")], prevent_initial_call=True)
    # the note on a link's unused values goes when dismissed, or once the address changes
    # (writeUrl, assets/app.js): it described the link the page opened
    clientside(app, "dismiss", Output(ids.URL_NOTE_TEXT, "children", allow_duplicate=True),
               [Input(ids.URL_NOTE_DISMISS, "n_clicks")], prevent_initial_call=True)
    # the optimizer picker's search: the options whose title (title, name, group) holds
    # the text, and the heading of each group that keeps one
    app.clientside_callback(
        """(query, all) => {
            const q = (query || '').trim().toLowerCase();
            if (!q) { return all; }
            const kept = all.filter(o => !o.disabled && o.title.toLowerCase().includes(q));
            const groups = new Set(kept.map(o => o.title.split(', ').pop()));
            return all.filter(o => kept.includes(o) || (o.disabled && groups.has(o.title)));
        }""",
        Output(ids.OPTIMIZERS, "options"), Input(ids.OPTIMIZER_SEARCH, "value"),
        State(ids.OPTIMIZER_CHOICES, "data"), prevent_initial_call=True)
    clientside(app, "theme", Output(ids.THEME, "data"),
               [Input(ids.THEME_TOGGLE, "n_clicks")],
               [State(ids.THEME, "data"), State(ids.PALETTE, "data")])
