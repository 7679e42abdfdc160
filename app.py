"""Optimizer Race: the Dash app around optim_core.

    python app.py [--host 127.0.0.1] [--port 8050] [--debug]

``make run`` serves it this way (one process, Flask's server); ``make serve`` runs the
same ``server`` under gunicorn with several workers. Background jobs (the phase
diagram) run through Dash's DiskcacheManager, or through Celery workers on Redis when
REDIS_URL is set (``make worker`` starts one).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from dash import Dash
from flask import request
from werkzeug.exceptions import HTTPException

import callbacks
import optim_core as oc
from layouts.page import build_layout

HERE = Path(__file__).parent
log = logging.getLogger("optimizer_race")


def background_manager():
    """(manager, celery app or None): Celery when REDIS_URL is set, else a disk cache."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        from celery import Celery
        from dash import CeleryManager

        celery_app = Celery(__name__, broker=redis_url, backend=redis_url)
        return CeleryManager(celery_app, expire=3600), celery_app
    import diskcache
    from dash import DiskcacheManager

    folder = os.environ.get("OPTIMIZER_RACE_CACHE", str(HERE / ".cache" / "background"))
    return DiskcacheManager(diskcache.Cache(folder), expire=3600), None


def warm_up() -> None:
    """Load (or compile, the first time on a machine) the engine's kernels now, so that
    the first user does not wait for them."""
    import optim_core as oc
    from optim_core.sweep import sweep

    oc.simulate("ravine", ["sgd", "adam"], steps=2)
    sweep("ravine", "momentum", steps=2, resolution=2)


def create_app(patch_updates: bool | None = None) -> tuple[Dash, object]:
    """The app and its Celery app (None without REDIS_URL).

    ``patch_updates`` (default: env OPTIMIZER_RACE_PATCH, on) sends only the paths when a
    slider moves; off, every update resends whole figures (a benchmark's baseline)."""
    if patch_updates is None:
        patch_updates = os.environ.get("OPTIMIZER_RACE_PATCH", "1") != "0"
    manager, celery_app = background_manager()
    app = Dash(__name__, title="Optimizer Race", update_title=None, compress=True,
               background_callback_manager=manager, assets_folder=str(HERE / "assets"))
    app.layout = build_layout
    callbacks.register(app, patch_updates)

    @app.server.route("/healthz")
    def health():
        """For load balancers: the process serves, and the engine computes."""
        race = oc.simulate("ravine", ["momentum"], steps=3)
        ok = race.runs[0].diverged_at is None
        return ({"status": "ok" if ok else "failing", "background": "celery" if celery_app
                 else "diskcache", "workers_share": "no per-user state in the process"},
                200 if ok else 503)

    @app.server.errorhandler(Exception)
    def reject(error):
        """A request Dash cannot process (malformed JSON, unknown ids, missing fields)
        is the client's problem: 400 with a short reason, never a 500 page."""
        if isinstance(error, HTTPException):
            return error
        log.warning("rejected a request to %s: %s: %s", request.path, type(error).__name__,
                    error, exc_info=log.isEnabledFor(logging.DEBUG))
        return {"error": "bad request", "reason": type(error).__name__}, 400

    return app, celery_app


app, celery_app = create_app()
server = app.server
warm_up()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve Optimizer Race (development server).")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloading")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(f"Optimizer Race: http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
