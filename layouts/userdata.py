"""Your own points for the line fit: upload or paste a CSV, see which points are in use."""

from __future__ import annotations

from dash import dcc, html

from optim_core.userdata import MAX_BYTES, MAX_ROWS, Points
from settings import RaceSettings, stored_points

from . import ids

PASTE_EXAMPLE = "x, y\n0, 1.1\n1, 2.9\n2, 5.2\n3, 6.8"


def points_panel(settings: RaceSettings) -> html.Div:
    """Upload or paste x, y points; the line fit then runs on them (line fit only). The
    panel's ``data-max-bytes`` lets the browser refuse a larger file before reading it
    (assets/userdata.js)."""
    return html.Div([
        html.Div("Your points", className="control-label"),
        dcc.Input(id=ids.DATA, type="hidden", value=settings.data),
        html.Div([html.Span(points_info(stored_points(settings.data)), id=ids.POINTS_INFO),
                  html.Span([
                      html.Button("download", id=ids.POINTS_DOWNLOAD_BUTTON,
                                  className="link-button",
                                  title="These points as CSV (the file the Copy CLI command's "
                                        "--data names)"),
                      " · ",
                      html.Button("remove", id=ids.POINTS_REMOVE, className="link-button",
                                  title="Back to generated points")],
                      id=ids.POINTS_ACTIONS, style=actions_style(settings.data))],
                 className="points-info"),
        dcc.Upload(id=ids.POINTS_UPLOAD, multiple=False, className="points-upload",
                   accept=".csv,.tsv,.txt,text/csv,text/plain",
                   children=html.Span(["Drop a CSV of x, y here, or ",
                                       html.Span("choose a file", className="link-like")])),
        dcc.Textarea(id=ids.POINTS_PASTE, className="points-paste", rows=4,
                     placeholder="or paste rows of x, y:\n" + PASTE_EXAMPLE,
                     spellCheck="false"),
        html.Button("Fit these points", id=ids.POINTS_PASTE_BUTTON, className="small-button"),
        html.Div(f"Header optional; {MAX_ROWS:,} rows at most, two finite numbers each "
                 "(comma, semicolon, tab or spaces between).", className="control-hint"),
        html.Div(id=ids.POINTS_ERROR, className="control-error", role="alert"),
        html.Div(id=ids.error_id(ids.DATA), className="control-error", role="alert"),
        dcc.Download(id=ids.POINTS_DOWNLOAD),
    ], className="points-panel only-regression", **{"data-max-bytes": str(MAX_BYTES)})


def points_info(points: Points | None) -> list:
    """Which points the line fit uses: yours, or generated."""
    if points is None:
        return [html.Span("Generated points (Data points above); or use your own:",
                          className="muted")]
    return [html.Span(f"Fitting your {points.rows:,} points ", className="points-in-use"),
            html.Span(f"({points.digest[:8]}) ", className="muted")]


def actions_style(digest: str | None) -> dict:
    """Download and remove show while the user's points are in use."""
    return {"display": "inline" if digest else "none"}
