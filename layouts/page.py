"""The page: header, the race, the phase diagram; stores and the URL."""

from __future__ import annotations

import secrets

from dash import dcc, html

from settings import RaceSettings

from . import ids
from .figures import PALETTES
from .race import race_section
from .sweep import sweep_section
from .teach import doctor_card, embed_bar, lesson_card, lesson_picker


def build_layout(fast_drag: bool = True) -> html.Div:
    """The page; ``fast_drag`` False: a slider drag is a Dash update per move (the drag
    benchmark's baseline, the app before assets/drag.js)."""
    settings = RaceSettings()
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        # data=None, not left out: a Store whose data is undefined sets it to the stored
        # null as it mounts, and every figure that follows the theme is drawn again
        dcc.Store(id=ids.THEME, storage_type="local", data=None),
        dcc.Store(id=ids.PALETTE, data=PALETTES),  # the swatches' colours per theme
        dcc.Store(id=ids.RACE_STATE),
        dcc.Store(id=ids.RACE_STRUCTURE),
        dcc.Store(id=ids.RACE_FOLLOW_UP),
        dcc.Store(id=ids.OVERRIDES_STORE, data=settings.overrides),
        dcc.Store(id=ids.START_CLICK),
        dcc.Store(id=ids.HISTORY),
        dcc.Store(id=ids.SWEEP_RESULT),
        dcc.Store(id=ids.SWEEP_APPLIED),
        dcc.Store(id=ids.PAGE, data=secrets.token_hex(16)),  # build_layout runs per page load
        dcc.Store(id=ids.APPLY_FIX),
        dcc.Store(id=ids.APPLIED_FIX),
        html.Header([
            html.Div([
                html.H1("Optimizer Race"),
                html.P("SGD, momentum, Nesterov, Adam and friends on the same surface, with "
                       "torch.optim's exact update rules. Drag a slider and watch them change "
                       "course.", className="tagline"),
            ]),
            html.Nav([
                lesson_picker(settings.lesson),
                html.A("Phase diagram", href="#phase-diagram", className="nav-link"),
                html.Button("◐ Theme", id=ids.THEME_TOGGLE, className="button ghost",
                            title="Switch between light and dark"),
            ], className="header-actions"),
        ], className="page-header"),
        html.Div([html.Div(id=ids.URL_NOTE_TEXT),
                  html.Button("Dismiss", id=ids.URL_NOTE_DISMISS, className="link-button")],
                 id=ids.URL_NOTE, className="url-note", role="status"),
        embed_bar(),
        race_section(settings, fast_drag, main_top=[lesson_card()], main_end=[doctor_card()]),
        sweep_section(),
        html.Footer([
            "Numbers match torch.optim (float64) to 1e-10; the same engine runs as ",
            html.Code("python -m optim_core"), ". Paths are drawn in float32; the CSV export "
            "is float64, lossless.",
        ], className="page-footer"),
    ], className="page")
