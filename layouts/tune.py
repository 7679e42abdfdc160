"""A fair race: the tune bar above the leaderboard and the table of what was tuned."""

from __future__ import annotations

from dash import dcc, html

from optim_core.tune import CRITERIA, SENSITIVITY, describe

from . import ids
from .components import swatch, table
from .figures import COLORS, TITLES

UNTUNED_TEXT = ("Untuned race: every optimizer runs at the sliders' lr and μ or its own "
                "values (Advanced), chosen by hand. Tune picks each one's own lr (and μ / "
                "β₁) by the criterion, on this surface, start, noise and budget.")


def tune_bar() -> html.Div:
    """The criterion, the tune button, its progress and what it says."""
    return html.Div([
        html.Div([
            html.Label("Tune by", htmlFor=ids.TUNE_CRITERION, className="control-label"),
            dcc.Dropdown(id=ids.TUNE_CRITERION, value="final-loss", clearable=False,
                         searchable=False, className="tune-criterion",
                         options=[{"label": text, "value": name}
                                  for name, text in CRITERIA.items()]),
            html.Button("Tune", id=ids.TUNE_BUTTON, className="button primary",
                        title="Sweep each racer's lr (and μ / β₁) on a log grid and race "
                              "each at its best: its own values (Advanced)"),
            html.Button("Cancel", id=ids.TUNE_CANCEL, className="button", disabled=True),
            html.Progress(id=ids.TUNE_PROGRESS, value="0", max="1", className="progress",
                          style={"visibility": "hidden"}),
            html.Span(id=ids.TUNE_STATUS, className="control-hint", role="status"),
        ], className="sweep-actions tune-actions"),
        html.Div(id=ids.TUNE_ERROR, className="control-error", role="alert"),
        html.P(UNTUNED_TEXT, id=ids.TUNE_UNTUNED, className="control-hint untuned"),
        html.Div(id=ids.TUNE_TABLE, style={"display": "none"}),
        dcc.Store(id=ids.TUNE_RESULT),
    ], className="tune-bar")


def tuned_table(results) -> html.Div:
    """Per optimizer: the tuned values, the metric, the grid searched and the lr range
    within SENSITIVITY× of the best loss (``results``: optim_core.tune.tune's)."""
    rows = []
    for t in results:
        shown = describe(t)
        rows.append([html.Span([swatch(COLORS[t.optimizer]), TITLES[t.optimizer]],
                               className="nowrap"), shown["tuned"], shown["metric"],
                     shown["sensitivity"], shown["grid"]])
    criterion = results[0].criterion
    return html.Div([
        html.P([html.B("Tuned race"), f": criterion {criterion} ({CRITERIA[criterion]}); "
                "each optimizer races at its own tuned values (Advanced). Diverged cells "
                "never win; (grid edge): the best lr is at the end of the grid."],
               className="control-hint"),
        table(["optimizer", "tuned", results[0].metric_name,
               f"lr within {SENSITIVITY:g}× of best loss", "grid searched"], rows,
              "tuned-table"),
    ])
