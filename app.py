"""Optimizer Race: the Dash app around optim_core.

    python app.py [--host 127.0.0.1] [--port 8050] [--debug]

``make run`` serves it this way (one process, Flask's server); ``make serve`` runs the
same ``server`` under gunicorn with several workers. Background jobs (the phase
diagram) run through Dash's DiskcacheManager, or through Celery workers on Redis when
REDIS_URL is set (``make worker`` starts one).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import secrets
from pathlib import Path

from dash import Dash
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler

import callbacks
import optim_core as oc
import settings
from callbacks import guard, jobs
from layouts.page import build_layout

HERE = Path(__file__).parent
log = logging.getLogger("optimizer_race")
FAULTS = {"count": 0}  # faults of ours answered with a 500, in this process
#: The page loads nothing from elsewhere; its one inline script (Dash's renderer start) is
#: allowed by its hash, and Dash 4 with Plotly needs no 'unsafe-eval' here (the clientside
#: callbacks are functions in assets/app.js); Plotly and Dash inject styles, the surface
#: is a data: image. No frame-ancestors and no X-Frame-Options: other sites may embed the
#: app. tests/browser/test_headers.py checks that the page meets no violation.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' {inline}; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                           "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "strict-origin-when-cross-origin"}


def cache_folder() -> Path:
    return Path(os.environ.get("OPTIMIZER_RACE_CACHE", str(HERE / ".cache" / "background")))


def signing_secret(folder: Path) -> str:
    """The secret that signs Dash's background-job handles (and Flask's sessions):
    OPTIMIZER_RACE_SECRET, else a random one kept in a file beside the job cache, made
    once and atomically, so every worker of a machine, and a restarted one, signs alike.
    It is not in the job cache: an eviction there cannot take it (issue 13)."""
    if os.environ.get("OPTIMIZER_RACE_SECRET"):
        return os.environ["OPTIMIZER_RACE_SECRET"]
    path = folder / "signing-secret"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        draft = folder / f".signing-secret-{os.getpid()}-{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: the first worker's secret wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def background_manager():
    """(manager, celery app or None): Celery when REDIS_URL is set, else a disk cache."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        from celery import Celery

        celery_app = Celery(__name__, broker=redis_url, backend=redis_url)
        jobs.configure_celery(celery_app)
        return jobs.GuardedCeleryManager(celery_app), celery_app
    return jobs.GuardedDiskcacheManager(jobs.ExpiringCache(
        str(cache_folder()), size_limit=jobs.CACHE_SIZE_LIMIT)), None


def warm_up() -> None:
    """Load (or compile, the first time on a machine) the engine's kernels now, so that
    the first user does not wait for them."""
    import optim_core as oc
    from optim_core.sweep import sweep

    oc.simulate("ravine", ["sgd", "adam"], steps=2)
    sweep("ravine", "momentum", steps=2, resolution=2)


def create_app(patch_updates: bool | None = None,
               fast_drag: bool | None = None) -> tuple[Dash, object]:
    """The app and its Celery app (None without REDIS_URL).

    ``patch_updates`` (default: env OPTIMIZER_RACE_PATCH, on) sends only the paths when a
    slider moves; off, every update resends whole figures. ``fast_drag`` (default: env
    OPTIMIZER_RACE_DRAG, on) draws a slider drag's moves from callbacks/drag.py; off,
    every move is a Dash update. (Off: the benchmarks' baselines.)"""
    if patch_updates is None:
        patch_updates = os.environ.get("OPTIMIZER_RACE_PATCH", "1") != "0"
    if fast_drag is None:
        fast_drag = os.environ.get("OPTIMIZER_RACE_DRAG", "1") != "0"
    manager, celery_app = background_manager()
    settings.use_points_store(manager)  # the users' points, shared by every worker
    app = Dash(__name__, title="Optimizer Race", update_title=None, compress=True,
               background_callback_manager=manager, assets_folder=str(HERE / "assets"))
    app.server.secret_key = signing_secret(cache_folder())
    app.layout = functools.partial(build_layout, fast_drag)
    callbacks.register(app, patch_updates, fast_drag)
    # the renderer's one inline script, allowed by its hash
    SECURITY_HEADERS["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        inline=" ".join(app.csp_hashes()))

    @app.server.route("/healthz")
    def health():
        """For load balancers: the process serves, the engine computes and the background
        jobs' store answers (Redis with Celery)."""
        race = oc.simulate("ravine", ["momentum"], steps=3)
        problems = [] if race.runs[0].diverged_at is None else ["engine"]
        backend = manager.health()
        problems += [backend] if backend else []
        return ({"status": "failing: " + ", ".join(problems) if problems else "ok",
                 "background": "celery" if celery_app else "diskcache",
                 "faults": FAULTS["count"],
                 "workers_share": "no per-user state in the process"},
                503 if problems else 200)

    guard_requests(app)
    return app, celery_app


def guard_requests(app: Dash) -> None:
    """Bad input is a 4xx with a short reason; a fault of ours is a 500 with a generic
    message, logged (one escaped line) and counted; never a traceback to the client."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = guard.MAX_BODY  # 413 beyond

    @server.before_request
    def check_update():
        if request.path != "/_dash-update-component" or request.method != "POST":
            return None
        body = request.get_json(silent=True)  # a body over the cap raises 413 here
        try:
            guard.check_request(body, app.callback_map)
        except guard.Malformed as reason:
            log.warning("rejected a request to %s: %s", request.path,
                        jobs.escaped(reason))
            return {"error": "bad request", "reason": str(reason)[:200]}, 400
        return None

    @server.after_request
    def headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @server.errorhandler(Exception)
    def fault(error):
        if isinstance(error, HTTPException):
            return error
        FAULTS["count"] += 1
        log.error("fault %d answering %s: %s: %s", FAULTS["count"], request.path,
                  type(error).__name__, jobs.escaped(error),
                  exc_info=log.isEnabledFor(logging.DEBUG))
        return {"error": "server error", "reason": "the server failed; the fault is logged"}, 500




class QuietRequestHandler(WSGIRequestHandler):
    """`python app.py`'s server without Werkzeug's and Python's versions in its Server
    header (gunicorn's says "gunicorn", without one)."""

    def version_string(self) -> str:
        return "optimizer-race"


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
    jobs.adopt_job_processes(reap=True)  # the detached sweeps end here, not as zombies
    print(f"Optimizer Race: http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug,
            request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
