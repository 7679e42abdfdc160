"""The step scrubber under the map: a range 0 … steps, play/pause and its speed.

Declarative only: assets/scrub.js draws the race at the scrubber's step in the browser,
from the race's scrub store (figures.scrub_data), without a request per frame.
"""

from __future__ import annotations

from dash import dcc, html

from . import ids
from .components import card

#: Play speeds (steps per second); "fit" plays the whole race in FIT_SECONDS.
SPEEDS = {"10": "10 steps/s", "30": "30 steps/s", "60": "60 steps/s", "fit": "fit in 5 s"}
DEFAULT_SPEED = "30"
FIT_SECONDS = 5  # assets/scrub.js reads it from the speed option's data-seconds


def scrubber(slider_id: str, play_id: str, speed_id: str, readout_id: str,
             mechanism_id: str, steps: int) -> html.Div:
    """The scrubber's row: play/pause, the step range, where it is, the speed, and the
    mechanism arrows' toggle."""
    return html.Div([
        html.Button("▶ Play", id=play_id, className="button play-button",
                    title="Play or pause the race (space); ← → a step, Home / End"),
        html.Label(dcc.Input(id=slider_id, type="range", min=0, max=steps, step=1,
                             value=steps, className="step-slider", debounce=False),
                   title="step", className="step-slider-label"),
        html.Span(f"step {steps} of {steps}", id=readout_id, className="step-readout",
                  **{"aria-live": "off"}),
        html.Label(["speed ", html.Select(
            [html.Option(label, value=value, selected=value == DEFAULT_SPEED,
                         **({"data-seconds": str(FIT_SECONDS)} if value == "fit" else {}))
             for value, label in SPEEDS.items()],
            id=speed_id, className="play-speed")], className="play-speed-label"),
        dcc.Checklist(id=mechanism_id, options=[{"label": " arrows", "value": "on"}],
                      value=["on"], className="mechanism-toggle", inline=True),
    ], className="scrubber")


def scrubber_row(steps: int) -> html.Div:
    """The race card's scrubber, with its stores."""
    return html.Div([
        scrubber(ids.STEP_SLIDER, ids.PLAY_BUTTON, ids.PLAY_SPEED, ids.STEP_READOUT,
                 ids.MECHANISM_TOGGLE, steps),
        dcc.Store(id=ids.SCRUB_STORE), dcc.Store(id=ids.STEP_REQUEST),
        dcc.Store(id=ids.MECHANISM_STORE)])


def walkthrough(table_id: str, optimizer_id: str, first_id: str) -> list:
    """The walkthrough's controls and table (assets/scrub.js writes the rows: k − 2 …
    k + 2 at the scrubber's step, or the first five steps)."""
    return [
        html.Div([
            html.Span("optimizer ", className="muted"),
            dcc.RadioItems(id=optimizer_id, options=[], inline=True,
                           className="walkthrough-optimizer"),
            dcc.Checklist(id=first_id, options=[{"label": " the first five steps",
                                                  "value": "first"}],
                          value=[], inline=True, className="walkthrough-first"),
        ], className="walkthrough-controls"),
        html.Div(id=table_id, className="table-scroll walkthrough-table"),
        html.P("Row k: θₖ, the gradient gₜ the optimizer got there (t = k + 1), the state "
               "its step computed and the update θₖ₊₁ − θₖ, in torch's own convention; "
               "the row of the scrubber's step is marked.", className="control-hint"),
    ]


def walkthrough_card() -> html.Section:
    return card("Inside a step: the walkthrough",
                walkthrough(ids.WALKTHROUGH_TABLE, ids.WALKTHROUGH_OPTIMIZER,
                            ids.WALKTHROUGH_FIRST), class_name="walkthrough-card")
