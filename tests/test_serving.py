"""Serving in public: request caps, store checks, 4xx against 5xx, headers, the signing
secret, and background jobs (checked before they start, keyed and bounded per page,
reported when they fail, stop or time out), on a real server in this process."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
import urllib.request

import psutil
import pytest
from werkzeug.serving import make_server

from callbacks import jobs
from layouts import ids
from layouts.sweep import sweep_figure
from settings import SweepSettings, from_query
from tests import sweep_requests as sr


@pytest.fixture(scope="module")
def server():
    from app import QuietRequestHandler, app

    http = make_server("127.0.0.1", 0, app.server, threaded=True,
                       request_handler=QuietRequestHandler)  # as `python app.py` serves
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def stored_sweep(resolution: int = 4) -> dict:
    """The phase-diagram store as run_sweep writes it."""
    settings = SweepSettings(sr.RaceSettings(), "momentum", resolution, 20)
    figure = sweep_figure(settings.run(), "final_loss", "light")
    result = settings.run()
    return {**settings.to_dict(), **figure.layout.meta, "lrs": result.lrs.tolist(),
            "momenta": result.momenta.tolist()}


def theme_body(app, stored) -> dict:
    """The request that recolours a drawn phase diagram (follow_theme)."""
    key = next(k for k, v in app.callback_map.items()
               if ids.SWEEP_GRAPH in k and [i["id"] for i in v["inputs"]]
               == [ids.THEME, ids.SWEEP_RESULT])
    return {"output": key, "outputs": {"id": ids.SWEEP_GRAPH, "property": "figure"},
            "inputs": [{"id": ids.THEME, "property": "data", "value": "dark"},
                       {"id": ids.SWEEP_RESULT, "property": "data", "value": stored}],
            "changedPropIds": [f"{ids.THEME}.data"], "state": []}


# --- requests -----------------------------------------------------------------------

def test_a_body_over_the_cap_gets_413_and_the_next_request_is_served(server):
    url, app = server
    status, _ = sr.post(url, b'{"output": "' + b"x" * 300_000 + b'"}')
    assert status == 413
    status, text = sr.post(url, theme_body(app, stored_sweep()))
    assert status == 200 and "colorscale" in text


@pytest.mark.parametrize("change, reason", [
    ({"ink_lines": list(range(20_000))}, "trace indices"),
    ({"ink_lines": [10**9]}, "trace indices"),
    ({"lrs": [0.1] * 5000}, "lrs"),
    ({"resolution": 10**6}, "grid size"),
    ({"race": {"surface": "ravine"}}, "race settings"),
    ({"extra": "x" * 3000}, "'extra': larger than"),
    ({f"field{i}": 1 for i in range(20)}, "too many fields"),
])
def test_a_crafted_phase_diagram_store_is_refused_before_any_work(server, change, reason):
    url, app = server
    status, text = sr.post(url, theme_body(app, {**stored_sweep(), **change}))
    assert status == 400
    assert reason in json.loads(text)["reason"] and ids.SWEEP_RESULT in text


@pytest.mark.parametrize("state, reason", [
    ({"settings": {**sr.race_state()["settings"], "steps": 10**9}}, "race settings"),
    ({"settings": "ravine"}, "race settings"),
    ({"settings": sr.race_state()["settings"], "query": "?" * 10_000}, "query"),
    (["not", "a", "state"], "race state"),
    ({"settings": sr.race_state()["settings"], "more": list(range(1000))}, "'more'"),
])
def test_a_crafted_race_state_is_refused(server, state, reason):
    url, app = server
    status, text = sr.post(url, sr.sweep_body(app.callback_map, state=state))
    assert status == 400 and reason in text


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"output": "no.such"}',
                                  b'{"output": "..sweep-graph.figure...", "inputs": 3}'])
def test_malformed_requests_are_4xx_with_a_reason(server, body):
    url, _ = server
    status, text = sr.post(url, body)
    assert status == 400 and json.loads(text)["error"] == "bad request"


def test_a_fault_of_ours_is_a_generic_500_logged_on_one_escaped_line(server, monkeypatch,
                                                                     caplog):
    """A bug while answering a well-formed request: 500, no traceback or message to the
    client; the log line escapes the message, so it cannot forge another log line."""
    import callbacks.sweep

    url, app = server

    def broken(*_args):
        raise RuntimeError("boom\n[CRITICAL] forged line")

    monkeypatch.setattr(callbacks.sweep, "hover_text", broken)
    key = next(k for k in app.callback_map if k == f"{ids.SWEEP_HOVER}.children")
    stored = stored_sweep()
    body = {"output": key, "outputs": {"id": ids.SWEEP_HOVER, "property": "children"},
            "inputs": [{"id": ids.SWEEP_GRAPH, "property": "hoverData",
                        "value": {"points": [{"x": 0.1, "y": 0.5,
                                              "customdata": [1, 2, 0.5, 0.5, -1]}]}}],
            "state": [{"id": ids.SWEEP_RESULT, "property": "data", "value": stored}],
            "changedPropIds": [f"{ids.SWEEP_GRAPH}.hoverData"]}
    before = json.loads(get(url + "/healthz")[2])["faults"]
    with caplog.at_level(logging.ERROR, logger="optimizer_race"):
        status, text = sr.post(url, body)
    assert status == 500
    assert "boom" not in text and "Traceback" not in text and "server error" in text
    lines = [r.getMessage() for r in caplog.records if "fault" in r.getMessage()]
    assert lines and "\n" not in lines[-1] and "\\n[CRITICAL]" in lines[-1]
    assert json.loads(get(url + "/healthz")[2])["faults"] == before + 1


def test_security_headers_and_no_versions(server):
    url, _ = server
    status, headers, _ = get(url + "/")
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    # other sites may frame the app (an embed view)
    assert "frame-ancestors" not in csp and "X-Frame-Options" not in headers
    assert "Python" not in headers.get("Server", "") and "Werkzeug" not in headers["Server"]


def test_the_url_note_quotes_a_long_value_shortened():
    """A link's text is shown to whoever opens it: quoted, shortened, a few notes only."""
    query = "surface=" + "Your account is locked, call " * 20 + "&steps=" + "9" * 300
    _, notes = from_query(query + "".join(f"&spoof{i}=x" for i in range(50)))
    assert notes[0].startswith("surface='Your account is") and "..." in notes[0]
    assert len(notes) == 7 and notes[-1] == "(46 more not shown.)"
    assert all(len(note) < 200 for note in notes)


# --- the signing secret -----------------------------------------------------------------

def _secret_of(folder: str, queue) -> None:
    from app import signing_secret

    queue.put(signing_secret(__import__("pathlib").Path(folder)))


def test_workers_of_a_machine_share_one_generated_secret(tmp_path, monkeypatch):
    """Eight processes at once, on an empty cache folder: one secret, kept in a file
    that only its owner can read (not in the job cache, whose eviction cannot take it)."""
    monkeypatch.delenv("OPTIMIZER_RACE_SECRET", raising=False)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_secret_of, args=(str(tmp_path), queue))
                 for _ in range(8)]
    for process in processes:
        process.start()
    found = {queue.get(timeout=30) for _ in processes}
    for process in processes:
        process.join(10)
    assert len(found) == 1 and len(found.pop()) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["signing-secret"]
    assert (tmp_path / "signing-secret").stat().st_mode & 0o777 == 0o600


def test_the_secret_comes_from_the_environment_when_set(tmp_path, monkeypatch):
    from app import signing_secret

    monkeypatch.setenv("OPTIMIZER_RACE_SECRET", "from-the-environment")
    assert signing_secret(tmp_path) == "from-the-environment"
    assert not list(tmp_path.iterdir())


def test_job_results_expire_and_the_cache_is_bounded(tmp_path):
    cache = jobs.ExpiringCache(str(tmp_path), size_limit=jobs.CACHE_SIZE_LIMIT)
    cache.set("result", {"x": 1})
    _, expires = cache.get("result", expire_time=True)
    assert expires is not None and 0 < expires - time.time() <= jobs.RESULT_TTL_S
    assert cache.size_limit == jobs.CACHE_SIZE_LIMIT


# --- background jobs --------------------------------------------------------------------

def test_a_job_that_ends_while_its_result_is_read_still_gives_it(tmp_path, monkeypatch):
    """Dash checks that a job's pid exists, then opens it: a job ending in between (its
    result just stored, seen in CI with four sweeps at once) must not lose the result."""
    import psutil

    manager = jobs.GuardedDiskcacheManager(
        jobs.ExpiringCache(str(tmp_path), size_limit=jobs.CACHE_SIZE_LIMIT))
    manager.handle.set("result-key", {"swept": True})

    def ended(pid, *args, **kwargs):
        raise psutil.NoSuchProcess(pid)

    monkeypatch.setattr(psutil, "pid_exists", lambda pid: True)
    monkeypatch.setattr(psutil, "Process", ended)
    assert manager.get_result("result-key", "4242") == {"swept": True}
    assert manager.job_running("4242") is False
    manager.terminate_job("4242")  # nothing left to stop, and no error


def test_a_bad_sweep_is_refused_before_any_process_starts(server, monkeypatch):
    url, app = server
    started = []
    monkeypatch.setattr(jobs, "start_detached", lambda *a: started.append(a) or 1)
    answer = sr.run(url, sr.sweep_body(app.callback_map, resolution=100_000))
    assert answer == {"status": "error",
                      "message": "resolution: Must be an int in the range [2, 512]; got "
                                 "100000."}
    answer = sr.run(url, sr.sweep_body(app.callback_map, optimizer="adamaxx"))  # no such one
    assert answer["status"] == "error" and answer["message"].startswith("optimizer: Must be")
    assert started == []


def test_two_pages_with_the_same_settings_each_get_their_result(server):
    url, app = server
    bodies = [sr.sweep_body(app.callback_map, resolution=16, steps=200) for _ in range(4)]
    handles = [sr.start(url, body) for body in bodies]
    answers = [sr.poll(url, body, handle) for body, handle in zip(bodies, handles,
                                                                   strict=True)]
    assert [a["status"] for a in answers] == ["result"] * 4
    assert len({h["cacheKey"] for h in handles}) == 4


def test_one_sweep_at_a_time_per_page_and_a_bound_per_machine(server, monkeypatch):
    url, app = server
    monkeypatch.setattr(jobs, "MAX_JOBS", 2)
    page = "a" * 32
    big = sr.sweep_body(app.callback_map, page=page, resolution=512, steps=2000)
    first = sr.start(url, big)
    try:
        second = sr.run(url, sr.sweep_body(app.callback_map, page=page))
        assert second["status"] == "error" and "still running" in second["message"]
        other = sr.start(url, sr.sweep_body(app.callback_map, resolution=512, steps=2000))
        third = sr.run(url, sr.sweep_body(app.callback_map))
        assert third["status"] == "error" and "busy" in third["message"]
    finally:
        for handle in (first, other):
            os.kill(int(sr.job_id(handle)), signal.SIGKILL)


def test_a_job_that_dies_is_reported_not_left_sweeping(server):
    url, app = server
    body = sr.sweep_body(app.callback_map, resolution=512, steps=2000)
    handles = sr.start(url, body)
    os.kill(int(sr.job_id(handles)), signal.SIGKILL)
    answer = sr.poll(url, body, handles)
    assert answer["status"] == "error" and "stopped before it finished" in answer["message"]


def test_a_job_past_its_deadline_is_stopped_and_reported(server, monkeypatch):
    url, app = server
    monkeypatch.setattr(jobs, "JOB_DEADLINE_S", 1.0)
    body = sr.sweep_body(app.callback_map, resolution=512, steps=2000)
    handles = sr.start(url, body)
    time.sleep(1.2)
    answer = sr.poll(url, body, handles)
    assert answer["status"] == "error" and "did not finish within 1 s" in answer["message"]
    pid = int(sr.job_id(handles))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_job_runs_detached_from_the_process_that_started_it(server):
    """A recycled gunicorn worker must not wait for its sweeps: the job is not its child."""
    url, app = server
    body = sr.sweep_body(app.callback_map, resolution=512, steps=2000)
    handles = sr.start(url, body)
    job = psutil.Process(int(sr.job_id(handles)))
    try:
        assert job.ppid() != os.getpid()
        assert job.pid not in [child.pid for child in psutil.Process().children()]
    finally:
        job.kill()


def test_healthz_reports_the_background_backend(server, monkeypatch):
    url, app = server
    status, _, text = get(url + "/healthz")
    assert status == 200 and json.loads(text)["status"] == "ok"
    manager = app._background_manager

    def full(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(manager.handle, "set", full)
    status, _, text = get(url + "/healthz")
    assert status == 503 and json.loads(text)["status"] == "failing: diskcache: OSError"


def test_healthz_with_redis_down_is_503(monkeypatch):
    import settings
    from app import create_app
    from benchmarks.harness import free_port

    # the same cache folder, so the same secret as the module's app: Dash signs job
    # handles with the last app made in a process, and cancels with its own
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    # an app made makes its store the process's store of users' points: the module's
    # app gets its own back afterwards (else the next test's points go to a dead Redis)
    monkeypatch.setitem(settings._STORE, "points", settings._STORE["points"])
    app, celery_app = create_app()
    answer = app.server.test_client().get("/healthz")
    assert answer.status_code == 503 and "redis" in answer.json["status"]


# --- under gunicorn -------------------------------------------------------------------

def test_a_recycled_worker_exits_at_once_and_its_sweep_still_arrives(tmp_path):
    """gunicorn recycles its workers while a sweep runs (SIGHUP: every worker is replaced
    and stopped gracefully, as max_requests does to one; which worker started the job is
    not known, and requests need not be spread evenly enough to recycle both by
    max_requests): the worker that started it exits without waiting for it, a new
    worker hands over its result (the handles verify: every worker signs with the
    machine's secret), and the master reaps the finished job (no zombie)."""
    from benchmarks.harness import Gunicorn

    server = Gunicorn(env={"OPTIMIZER_RACE_CACHE": str(tmp_path)})
    try:
        server.start()
        deps = json.loads(get(server.url + "/_dash-dependencies")[2])
        callback_map = {d["output"]: d for d in deps}
        body = sr.sweep_body(callback_map, resolution=512, steps=2000)
        before = set(server.worker_pids())
        handles = sr.start(server.url, body)
        job = psutil.Process(int(sr.job_id(handles)))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while before & set(server.worker_pids()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not before & set(server.worker_pids()), "a worker waited for its sweep"
        assert job.is_running() and job.status() != psutil.STATUS_ZOMBIE
        assert job.ppid() == server.process.pid  # adopted by the master
        answer = sr.poll(server.url, body, handles)
        assert answer["status"] == "result"
        deadline = time.monotonic() + 10
        while psutil.pid_exists(job.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(job.pid), "the finished job was left a zombie"
        assert "Control socket" not in server.log_text()  # none: it would be shared
    finally:
        server.stop()


def test_python_app_py_reaps_its_sweeps_and_names_no_versions(tmp_path):
    """`python app.py` (make run) adopts its detached sweeps and reaps them when they end;
    its Server header carries no Werkzeug or Python version."""
    import subprocess
    import sys
    from pathlib import Path

    from benchmarks.harness import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)], cwd=Path(__file__).parents[1],
        env={**os.environ, "OPTIMIZER_RACE_CACHE": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, headers, _ = get(url + "/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200 and headers["Server"] == "optimizer-race"
        callback_map = {d["output"]: d for d in json.loads(get(url + "/_dash-dependencies")[2])}
        body = sr.sweep_body(callback_map, resolution=64, steps=500)
        handles = sr.start(url, body)
        job = psutil.Process(int(sr.job_id(handles)))
        assert job.ppid() == process.pid
        assert sr.poll(url, body, handles)["status"] == "result"
        deadline = time.monotonic() + 10
        while psutil.pid_exists(job.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(job.pid), "the finished sweep was left a zombie"
    finally:
        process.terminate()
        process.wait(15)


def test_slow_clients_do_not_hold_up_a_slider(monkeypatch):
    """Four connections trickle their headers (more than there are workers) while a
    probe sends slider requests: every probe is answered, none waits for them (with
    sync workers, each slow connection held a worker and the probes timed out)."""
    from benchmarks import slow_clients

    result = slow_clients.measure(duration=6.0, connections=4, probe_timeout=3.0)
    assert result["worker_class"] == "gthread"
    assert result["slow_bytes_sent"] > 20  # they were trickling all along
    assert result["requests"] >= 20 and result["errors"] == 0, result.get("error_kinds")
