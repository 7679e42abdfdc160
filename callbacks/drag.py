"""A pointer drag of the lr or μ slider: the paths of every position, outside Dash.

While a drag lasts, the slider tells Dash nothing (``updatemode="mouseup"``) and
assets/drag.js asks this endpoint for the paths of the position under the pointer,
one request in flight, the newest position next, and draws them straight into the map
(and the loss curves into the loss plot, at a lower rate). Dash's own race callback
draws the release's race once, as for a key press: paths, loss plot, leaderboard,
theory and URL. Each Dash update costs the browser ~30 ms of store updates and
re-rendering whatever the data; a frame from here costs the drawing alone.

``GET /_drag/paths?q=<the page's race query>&name=lr&position=<slider position>``
``[&view=x0,x1,y0,y1,width,height][&loss=1]`` answers ``{"value", "traces": {index:
{attribute: value}}[, "loss": {"y": [...][, "x": [...]]}]}`` (x on the evaluations
axis): the same ``figures.path_updates`` a slider's ``Patch`` carries, arrays as
float32 typed arrays, the paths with no more vertices than
the map's pixels show (``figures.decimated``), the loss curves when asked for.
The race is rebuilt from the query as a link would be (``settings.from_query``: its
checks and limits), the position checked against the slider's range; a bad request is
a 400 with a message, never a 500, and nothing non-finite is sent. A position whose race
is invalid (Nesterov at μ = 0) answers its reason and no paths: the drag draws nothing
new, and the release's Dash update shows the message under the control.
"""

from __future__ import annotations

import dataclasses
import logging
import math

from flask import jsonify, request

from layouts import figures
from optim_core.params import InvalidParameterError
from settings import SLIDER_RANGES, from_query, from_slider

from .guard import MAX_TEXT

log = logging.getLogger(__name__)

ROUTE = "/_drag/paths"
MAX_PIXELS = 10_000  # a view's width or height


class BadDrag(ValueError):
    """What is wrong with a drag request."""


def _view(text: str) -> tuple | None:
    """The map's axis ranges and plot size in pixels, ``x0,x1,y0,y1,width,height``."""
    if not text:
        return None
    try:
        view = tuple(float(part) for part in text.split(",")[:7])
    except ValueError:
        raise BadDrag(f"view must be six numbers; got {text[:60]!r}") from None
    if len(view) != 6 or not all(math.isfinite(v) for v in view) or view[1] <= view[0] \
            or view[3] <= view[2] or not all(1 <= v <= MAX_PIXELS for v in view[4:]):
        raise BadDrag(f"view must be x0,x1,y0,y1,width,height with x0 < x1, y0 < y1 and "
                      f"sizes in [1, {MAX_PIXELS}]; got {text[:60]!r}")
    return view


def drag_frame(query: str, name: str, position: str, view: str = "",
               loss: bool = False) -> dict:
    """The frame of the race in ``query`` with slider ``name`` at ``position``: its
    paths (decimated to ``view``'s pixels when given) and, if ``loss``, its loss curves."""
    if len(query) > MAX_TEXT:
        raise BadDrag(f"q: at most {MAX_TEXT} characters")
    if name not in SLIDER_RANGES:
        raise BadDrag(f"name must be one of {', '.join(SLIDER_RANGES)}; got {name[:40]!r}")
    try:
        where = float(position)
    except ValueError:
        raise BadDrag(f"position must be a number; got {position[:40]!r}") from None
    low, high = SLIDER_RANGES[name]
    if not (math.isfinite(where) and low <= where <= high):
        raise BadDrag(f"position must be in [{low:g}, {high:g}]; got {position[:40]!r}")
    pixels = _view(view)
    settings, notes = from_query(query)
    if notes:
        raise BadDrag(notes[0])
    value = from_slider(name, where)
    try:
        race = dataclasses.replace(settings, **{name: value}).simulate()
    except InvalidParameterError as error:  # e.g. Nesterov at μ 0: the release says why
        return {"value": value, "invalid": str(error)}
    traces = figures.path_updates(race)
    if pixels is not None:
        layout = figures.race_trace_layout(race)
        for index in layout["paths"] + layout["grad_points"]:
            traces[index] = traces[index] | figures.decimated(traces[index], pixels)
    frame = {"value": value,
             "traces": {index: {key: figures.encoded(item) for key, item in attributes.items()}
                        for index, attributes in traces.items()}}
    return frame | ({"loss": figures.loss_curves(race, settings.axis)} if loss else {})


def register(app) -> None:
    @app.server.route(ROUTE)
    def drag_paths():
        args = request.args
        try:
            return jsonify(drag_frame(args.get("q", ""), args.get("name", ""),
                                      args.get("position", ""), args.get("view", ""),
                                      args.get("loss") == "1"))
        except BadDrag as error:
            return jsonify({"error": str(error)}), 400
        except Exception:  # never a 500: the drag's last frame comes from Dash anyway
            log.exception("drag frame failed")
            return jsonify({"error": "this race could not be drawn"}), 400
