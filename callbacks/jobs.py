"""Background jobs (the phase diagram's sweeps): checked before they start, bounded per
machine and per page, timed out visibly, never lost in silence.

Dash starts a background callback with its manager's ``call_job_fn`` (a forked process
with diskcache, a Celery task with Redis) and answers each poll from ``get_result``. The
two managers here add, around Dash's own:

- a check before anything starts: a callback marked with :func:`checked_by` names a
  function of its arguments that returns a refusal (a message for the user) or None, so
  a bad or oversized request never forks a process or queues a task;
- bounds: at most ``MAX_JOBS`` jobs at once on a machine (or a Redis), one per page (the
  page's id is the callback's ``page`` argument), kept in a small book in the result
  store itself, so every worker sees the same;
- a deadline: a job without a result after ``JOB_DEADLINE_S`` is stopped and reported,
  and a job whose process or task is gone without a result is reported as lost;
- refusals, deadlines and losses answer the poll as a background-callback error, which
  the callback's ``on_error`` shows next to its controls.

With diskcache each job runs in a grandchild of the worker (a double fork), so that a
worker recycled by gunicorn exits at once instead of waiting for its sweeps; gunicorn's
master is made a child subreaper (gunicorn.conf.py), so it inherits and reaps them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time

import diskcache
from dash import CeleryManager, DiskcacheManager, Input, Output, set_props

from settings import POINTS_TTL_S

log = logging.getLogger(__name__)

#: a job still without a result after this long is stopped and reported (a maximal sweep
#: takes ~10 s of both cores; a queue of them, a minute)
JOB_DEADLINE_S = float(os.environ.get("OPTIMIZER_RACE_JOB_DEADLINE", "180"))
#: jobs running at once on one machine (diskcache) or one Redis (Celery): each sweep
#: already spreads over every core, more at once only share them
MAX_JOBS = int(os.environ.get("OPTIMIZER_RACE_MAX_JOBS", "4"))
#: jobs running at once for one page
MAX_JOBS_PER_PAGE = 1
#: results nobody collected expire (seconds)
RESULT_TTL_S = 3600
#: a Celery job is "large" (its own queue, so small ones never wait behind it) from here,
#: in cells × steps
LARGE_JOB = 128 * 128 * 500
QUEUES = ("small", "large")
#: the job cache's size on disk: results of a few hundred maximal sweeps; least recently
#: stored first out (the signing secret is not in it: see app.py)
CACHE_SIZE_LIMIT = 256 * 2**20
BOOK_KEY = "optimizer-race-jobs"
#: the prefix of a message meant for the user (the rest of an error is logged, not shown)
USER_MESSAGE = "[for the user] "
REFUSED = "refused"  # the job id of a job that was never started
STARTING = "starting:"  # the book's entry for a job admitted and not yet started


class JobRefused(Exception):
    """A job that must not run; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(USER_MESSAGE + message)


def checked_by(check):
    """Mark a background callback: ``check(kwargs)`` runs before its job starts and
    returns (a refusal message or None, the job's size in cells × steps). Put it under
    ``@app.callback`` (Dash registers the function it decorates)."""
    def mark(function):
        function.job_check = check
        return function
    return mark


def progress_job(run: str, cancel: str, bar: str) -> dict:
    """The arguments of a background callback started by the button ``run``: while it
    runs, ``run`` is disabled, ``cancel`` enabled (and stops it) and the progress element
    ``bar`` shown, its value and max set by ``set_progress((done, total))``."""
    return dict(background=True, interval=250, prevent_initial_call=True,
                running=[(Output(run, "disabled"), True, False),
                         (Output(cancel, "disabled"), False, True),
                         (Output(bar, "style"), {"visibility": "visible"},
                          {"visibility": "hidden"})],
                cancel=[Input(cancel, "n_clicks")],
                progress=[Output(bar, "value"), Output(bar, "max")],
                progress_default=["0", "1"])


def status_lines(app, run: str, cancel: str, status: str, running: str) -> None:
    """The status line ``status`` says ``running`` when ``run`` is clicked and
    "Cancelled." when ``cancel`` is, in the browser: as a ``running`` output its end
    value would also overwrite a finished or refused job's."""
    for button, text in ((run, running), (cancel, "Cancelled.")):
        app.clientside_callback(f"() => {json.dumps(text)}",
                                Output(status, "children", allow_duplicate=True),
                                Input(button, "n_clicks"), prevent_initial_call=True)


def error_reporter(job: str, error_line: str, status_line: str, status: str):
    """A background callback's ``on_error``: a job's failure under its controls (the line
    ``error_line``; ``status_line`` says ``status``), its message when it is meant for
    the user, else a generic one naming the ``job`` (and the details in the log)."""
    def report(error: Exception) -> None:
        message = user_message(error)
        if message is None:
            log.error("a background job failed: %s", escaped(error, 2000))
            message = f"The {job} failed on the server (the fault is logged). Please try again."
        set_props(error_line, {"children": message})
        set_props(status_line, {"children": status})
    return report


def user_message(error: Exception) -> str | None:
    """The user's message in a job's error, or None (a fault of ours)."""
    text = str(error).partition("background callback: ")[2] or str(error)
    if text.startswith("SoftTimeLimitExceeded"):  # Celery's time limit
        return timed_out()
    return text.partition(USER_MESSAGE)[2].split("\n")[0] or None


def timed_out() -> str:
    return (f"The sweep did not finish within {JOB_DEADLINE_S:.0f} s and was stopped. Try "
            "fewer cells or steps.")


def escaped(text: object, limit: int = 300) -> str:
    """Text for a log line: one line, control characters escaped, bounded."""
    shown = str(text)[:limit].encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown + ("…" if len(str(text)) > limit else "")


def _error(message: str) -> dict:
    return {"background_callback_error": {"msg": USER_MESSAGE + message, "tb": ""}}


class ExpiringCache(diskcache.Cache):
    """A disk cache whose entries expire after RESULT_TTL_S unless told otherwise: Dash
    stores each background result without an expiry, and one that nobody collected
    would stay forever."""

    def set(self, key, value, expire=None, read=False, tag=None, retry=False):
        return super().set(key, value, expire=RESULT_TTL_S if expire is None else expire,
                           read=read, tag=tag, retry=retry)


class _Guarded:
    """What both managers add to Dash's (see the module's docstring)."""

    def _init_guard(self) -> None:
        self._checks: dict[int, object] = {}

    def make_job_fn(self, fn, progress, key=None):
        job_fn = super().make_job_fn(fn, progress, key)
        self._checks[id(job_fn)] = getattr(fn, "job_check", None)
        return job_fn

    # the book: {job id: {"page": ..., "started": unix time}}, in the result store
    def _with_book(self, change=None):
        """The book, after ``change(book) -> book`` if given (under the store's lock)."""
        raise NotImplementedError

    def _prune(self, book: dict) -> dict:
        now = time.time()
        return {job: entry for job, entry in book.items()
                if now - entry["started"] < JOB_DEADLINE_S + 60
                and (now - entry["started"] < 30 if job.startswith(STARTING) else self._alive(job))}

    def _alive(self, job) -> bool:
        raise NotImplementedError

    def _refuse(self, key: str, message: str) -> str:
        self._store_result(key, _error(message))
        return REFUSED

    def call_job_fn(self, key, job_fn, args, context):
        check = self._checks.get(id(job_fn))
        refusal, size = check(args) if check else (None, 0)
        if refusal:
            return self._refuse(key, refusal)
        page = str(args.get("page")) if isinstance(args, dict) else None
        verdict = {}

        def admit(book: dict) -> dict:
            book = self._prune(book)
            if len(book) >= MAX_JOBS:
                verdict["refusal"] = (f"The server is busy: {len(book)} sweeps are running. "
                                      "Try again in a few seconds.")
            elif page and sum(e["page"] == page for e in book.values()) >= MAX_JOBS_PER_PAGE:
                verdict["refusal"] = "A sweep from this page is still running."
            else:  # admitted: its place is taken now, so that two at once cannot both pass
                book[STARTING + key] = {"page": page, "started": time.time()}
            return book

        self._with_book(admit)
        if "refusal" in verdict:
            return self._refuse(key, verdict["refusal"])
        job = self._start(key, job_fn, args, context, size)
        self._with_book(lambda book: {**{k: v for k, v in book.items() if k != STARTING + key},
                                      str(job): {"page": page, "started": time.time()}})
        return job

    def job_running(self, job):
        return job != REFUSED and super().job_running(job)

    def terminate_job(self, job):
        if job != REFUSED:
            # cancelled, not lost: get_result must not report it as a lost worker
            self._with_book(lambda book: {**book, str(job): {
                **book.get(str(job), {"page": None, "started": time.time()}),
                "cancelled": True}} if str(job) in book else book)
            super().terminate_job(job)

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if job == REFUSED or job is None:
            return result
        if result is self.UNDEFINED:
            entry = self._with_book().get(str(job), {})
            started = entry.get("started")
            if not self.job_running(job):
                result = super().get_result(key, job)  # it may have just finished
                if result is self.UNDEFINED and entry.get("cancelled"):
                    self._with_book(lambda book: {k: v for k, v in book.items()
                                                  if k != str(job)})
                    return result  # the user cancelled it: nothing to report
                if result is self.UNDEFINED:
                    log.error("background job %s ended without a result", escaped(job))
                    result = _error("The sweep stopped before it finished (its worker was "
                                    "lost). Run it again.")
            elif started is not None and time.time() - started > JOB_DEADLINE_S:
                log.error("background job %s timed out after %.0f s", escaped(job),
                          JOB_DEADLINE_S)
                self.terminate_job(job)
                result = _error(timed_out())
        if result is not self.UNDEFINED:
            self._with_book(lambda book: {k: v for k, v in book.items() if k != str(job)})
        return result

    def health(self) -> str | None:
        """None when the result store answers, else what is wrong."""
        raise NotImplementedError


def unless_gone(call, *args, gone=None):
    """``call(*args)``, or ``gone`` if the process it looks at ended meanwhile: Dash's
    DiskcacheManager checks that a job's pid exists and then opens it, and a job that
    ends in between (its result just stored) raised psutil.NoSuchProcess, which lost the
    result of a finished sweep."""
    import psutil

    try:
        return call(*args)
    except psutil.NoSuchProcess:
        return gone


class GuardedDiskcacheManager(_Guarded, DiskcacheManager):
    """DiskcacheManager: jobs in detached processes on this machine."""

    def __init__(self, cache, **kwargs):
        self._init_guard()  # before Dash's __init__, which registers the jobs known so far
        super().__init__(cache, **kwargs)

    def _store_result(self, key, value):
        self.handle.set(key, value, expire=RESULT_TTL_S)

    def _with_book(self, change=None):
        if change is None:
            return self.handle.get(BOOK_KEY, {})
        with self.handle.transact():
            book = change(self.handle.get(BOOK_KEY, {}))
            self.handle.set(BOOK_KEY, book, expire=JOB_DEADLINE_S * 2)
        return book

    def _alive(self, job) -> bool:
        return unless_gone(DiskcacheManager.job_running, self, job, gone=False)

    def job_running(self, job):
        return unless_gone(super().job_running, job, gone=False)

    def terminate_job(self, job):
        unless_gone(super().terminate_job, job)  # gone: nothing left to stop

    def _start(self, key, job_fn, args, context, size):
        return start_detached(job_fn, (key, self._make_progress_key(key), args, context))

    # the users' points (settings.use_points_store): in the same cache, by digest
    def keep(self, key: str, text: str, ttl: float) -> None:
        self.handle.set(key, text, expire=ttl)

    def fetch(self, key: str) -> str | None:
        text = self.handle.get(key)
        if text is not None:
            self.handle.touch(key, expire=POINTS_TTL_S)
        return text

    def health(self):
        try:
            self.handle.set("optimizer-race-health", time.time(), expire=60)
            return None
        except Exception as error:  # a full or broken disk
            return f"diskcache: {type(error).__name__}"


class GuardedCeleryManager(_Guarded, CeleryManager):
    """CeleryManager: small and large jobs on separate queues."""

    def __init__(self, celery_app, **kwargs):
        self._init_guard()
        super().__init__(celery_app, **kwargs)

    def _store_result(self, key, value):
        self.handle.backend.set(key, json.dumps(value))

    def _with_book(self, change=None):
        client = self.handle.backend.client
        if change is None:
            raw = client.get(BOOK_KEY)
            return json.loads(raw) if raw else {}
        with client.lock(BOOK_KEY + "-lock", timeout=10, blocking_timeout=10):
            raw = client.get(BOOK_KEY)
            book = change(json.loads(raw) if raw else {})
            client.set(BOOK_KEY, json.dumps(book), ex=int(JOB_DEADLINE_S * 2))
        return book

    def _alive(self, job) -> bool:
        return bool(CeleryManager.job_running(self, job))

    def keep(self, key: str, text: str, ttl: float) -> None:
        self.handle.backend.client.set(key, text.encode(), ex=int(ttl))

    def fetch(self, key: str) -> str | None:
        client = self.handle.backend.client
        raw = client.get(key)
        if raw is not None:
            client.expire(key, int(POINTS_TTL_S))
        return None if raw is None else raw.decode()

    def _start(self, key, job_fn, args, context, size):
        queue = QUEUES[1] if size >= LARGE_JOB else QUEUES[0]
        task = job_fn.apply_async((key, self._make_progress_key(key), args, context),
                                  queue=queue)
        return task.task_id

    def health(self):
        try:
            self.handle.backend.client.ping()
            return None
        except Exception as error:  # Redis down or unreachable
            return f"redis: {type(error).__name__}"


def configure_celery(celery_app) -> None:
    """Celery settings that keep jobs from being lost or stuck."""
    celery_app.conf.update(
        task_acks_late=True,  # a task whose worker dies is delivered again...
        task_reject_on_worker_lost=True,
        broker_transport_options={"visibility_timeout": int(JOB_DEADLINE_S) + 60},
        task_soft_time_limit=int(JOB_DEADLINE_S),  # ...and one that runs too long stops
        task_time_limit=int(JOB_DEADLINE_S) + 10,
        task_track_started=True,
        worker_prefetch_multiplier=1,  # a worker holds one task, not a queue of them
        task_default_queue=QUEUES[0],
        result_expires=RESULT_TTL_S,
        redis_socket_timeout=5, redis_socket_connect_timeout=5,
        broker_connection_retry_on_startup=True,
    )


PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def adopt_job_processes(reap: bool) -> bool:
    """Make this process the one that inherits the detached jobs of its descendants (a
    child subreaper, Linux), and with ``reap`` reap every child that ends (SIGCHLD):
    gunicorn's master reaps its children itself; ``python app.py`` needs the handler.
    False where the system cannot (jobs are then reaped by init)."""
    import ctypes
    import signal

    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if reap:
        def reap_children(_signum, _frame):
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
        signal.signal(signal.SIGCHLD, reap_children)
    return True


def start_detached(target, args) -> int:
    """Run ``target(*args)`` in a grandchild process and return its pid: the caller (a
    gunicorn worker) can exit without waiting for it, and leaves no zombie."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the forked process)
        code = 0
        try:
            os.close(read)
            grandchild = os.fork()
            if grandchild == 0:
                os.close(write)
                try:
                    target(*args)
                except BaseException:
                    log.exception("background job failed")
                    code = 1
                finally:
                    os._exit(code)
            os.write(write, f"{grandchild}\n".encode())
        finally:
            os._exit(code)
    os.close(write)
    with contextlib.suppress(ChildProcessError):  # a SIGCHLD handler may have reaped it
        os.waitpid(child, 0)
    text = b""
    while not text.endswith(b"\n"):  # not up to EOF: the job keeps a copy of the pipe
        chunk = os.read(read, 32)
        if not chunk:
            break
        text += chunk
    os.close(read)
    with contextlib.suppress(ValueError):
        return int(text)
    raise RuntimeError("a background job could not be started")
