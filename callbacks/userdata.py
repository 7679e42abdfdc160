"""Your own surface and points. While f(x, y) is typed, the blank start and window boxes
show what f gives. Your points for the line fit: an upload or a paste is parsed and kept
by its digest (settings.keep_points: the background jobs' store, shared by every worker),
and the digest becomes the race's ``data`` setting. The race callback, the URL and every
export then carry the digest alone: a slider move sends no points either way."""

from __future__ import annotations

import base64
import binascii
import logging

from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.userdata import actions_style, points_info
from optim_core.userdata import MAX_BYTES, DataError
from settings import custom_placeholders, keep_points, points_file_name, stored_points

from .guard import MAX_UPLOAD_TEXT
from .jobs import escaped

log = logging.getLogger(__name__)


def uploaded_bytes(contents) -> bytes:
    """The bytes of a dcc.Upload's ``contents`` (a data: URL), bounded before decoding."""
    if not isinstance(contents, str) or "," not in contents[:256]:
        raise DataError("the upload is not a file's contents", row=None, got="an upload")
    if len(contents) > MAX_UPLOAD_TEXT:
        raise DataError(f"the file is larger than {MAX_BYTES:,} bytes", row=None,
                        got=f"{len(contents):,} characters")
    header, _, encoded = contents.partition(",")
    if not header.endswith(";base64"):
        raise DataError("the upload is not base64-encoded", row=None, got=header[:40])
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DataError("the upload's encoding is damaged", row=None, got="an upload") from None


def error_text(error: DataError, source: str) -> str:
    where = f"row {error.row:,}: " if error.row is not None else ""
    return f"{source}: {where}{error.reason}."


def _batch_after(batch, rows: int):
    """The batch size box once ``rows`` points are in use: kept if it still fits (blank
    or text that is no number: kept, and the race names it)."""
    try:
        size = int(str(batch).strip())
    except ValueError:
        return no_update
    return no_update if 1 <= size <= rows else None


def register(app) -> None:
    @app.callback(
        output=dict(x0=Output(ids.START_X, "placeholder", allow_duplicate=True),
                    y0=Output(ids.START_Y, "placeholder", allow_duplicate=True),
                    window=Output(ids.CUSTOM_WINDOW, "placeholder")),
        inputs=dict(f=Input(ids.CUSTOM_F, "value"), window=Input(ids.CUSTOM_WINDOW, "value"),
                    x0=Input(ids.START_X, "value"), y0=Input(ids.START_Y, "value")),
        state=dict(surface=State(ids.SURFACE, "value")),
        prevent_initial_call=True,
    )
    def show_custom_defaults(f, window, x0, y0, surface):
        """While f(x, y) is typed: the default start and the map window it gives."""
        shown = custom_placeholders(f, window, x0, y0) if surface == "custom" else None
        if shown is None:
            raise PreventUpdate
        return shown

    @app.callback(
        output=dict(data=Output(ids.DATA, "value", allow_duplicate=True),
                    points=Output(ids.POINTS, "value", allow_duplicate=True),
                    batch=Output(ids.BATCH_SIZE, "value", allow_duplicate=True),
                    error=Output(ids.POINTS_ERROR, "children")),
        inputs=dict(contents=Input(ids.POINTS_UPLOAD, "contents"),
                    _clicks=Input(ids.POINTS_PASTE_BUTTON, "n_clicks")),
        state=dict(filename=State(ids.POINTS_UPLOAD, "filename"),
                   pasted=State(ids.POINTS_PASTE, "value"),
                   batch=State(ids.BATCH_SIZE, "value")),
        prevent_initial_call=True,
    )
    def use_points(contents, _clicks, filename, pasted, batch):
        """An uploaded or pasted CSV: its points in use, or what is wrong (the row)."""
        unchanged = dict(data=no_update, points=no_update, batch=no_update)
        if ctx.triggered_id == ids.POINTS_UPLOAD:
            source = f"{filename[:60]!r}" if isinstance(filename, str) else "The file"
            read = lambda: uploaded_bytes(contents)  # noqa: E731
        else:
            source = "The pasted points"
            if not isinstance(pasted, str) or not pasted.strip():
                return unchanged | {"error": "Paste rows of x, y first (or drop a file)."}
            read = lambda: pasted  # noqa: E731
        try:
            points = keep_points(read())
        except DataError as error:
            return unchanged | {"error": error_text(error, source)}
        log.info("points kept: %s (%d rows)", escaped(points.digest), points.rows)
        return dict(data=points.digest, points=None, batch=_batch_after(batch, points.rows),
                    error="")

    @app.callback(
        output=dict(data=Output(ids.DATA, "value", allow_duplicate=True),
                    error=Output(ids.POINTS_ERROR, "children", allow_duplicate=True)),
        inputs=dict(clicks=Input(ids.POINTS_REMOVE, "n_clicks")), prevent_initial_call=True)
    def remove_points(clicks):
        if not clicks:
            raise PreventUpdate
        return dict(data=None, error="")

    @app.callback(
        output=dict(info=Output(ids.POINTS_INFO, "children"),
                    actions=Output(ids.POINTS_ACTIONS, "style")),
        inputs=dict(digest=Input(ids.DATA, "value")), prevent_initial_call=True)
    def show_points(digest):
        points = stored_points(digest)
        return dict(info=points_info(points), actions=actions_style(points and points.digest))

    @app.callback(
        output=Output(ids.POINTS_DOWNLOAD, "data"),
        inputs=dict(clicks=Input(ids.POINTS_DOWNLOAD_BUTTON, "n_clicks")),
        state=dict(digest=State(ids.DATA, "value")), prevent_initial_call=True)
    def download_points(clicks, digest):
        points = stored_points(digest)
        if not clicks or points is None:
            raise PreventUpdate
        return dcc.send_string(points.to_csv(), points_file_name(points.digest),
                               type="text/csv")
