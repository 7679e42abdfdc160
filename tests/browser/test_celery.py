"""Background sweeps on Celery: a real Redis server, real workers, the app with REDIS_URL.

Everything listens on 127.0.0.1 only and is stopped at the end of the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import sweep_requests as sr

from .pages import free_port, severe_console_errors, text, type_into, wait, wait_for_race

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class CeleryStack:
    """redis-server, two Celery workers as `make worker` starts them (one for small
    sweeps only, one for large and small) and the app, all on 127.0.0.1."""

    def __init__(self, tmp_path, deadline_s: int):
        self.redis_port, app_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{app_port}"
        self.env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                    "PYTHONPATH": str(ROOT), "OPTIMIZER_RACE_CACHE": str(tmp_path / "cache"),
                    "OPTIMIZER_RACE_JOB_DEADLINE": str(deadline_s)}
        self.logs = {name: tmp_path / f"worker-{name}.log" for name in ("small", "large")}
        self.app_log = tmp_path / "app.log"
        self.workers: dict[str, subprocess.Popen] = {}
        self.processes: list[subprocess.Popen] = []
        self.redis: subprocess.Popen | None = None
        self.tmp_path = tmp_path

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save",
             "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(self.redis)

        def listening():
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.redis_port)) == 0
        wait_until(listening, 20, "redis-server did not start")

    def stop_redis(self) -> None:
        self.redis.terminate()
        self.redis.wait(15)

    def start(self) -> CeleryStack:
        self.start_redis()
        for name, queues in (("small", "small"), ("large", "large,small")):
            self.workers[name] = subprocess.Popen(
                [sys.executable, "-m", "celery", "--app", "app:celery_app", "worker",
                 "--loglevel=INFO", "--concurrency=1", "--pool=solo", f"--queues={queues}",
                 f"--hostname={name}@%h"], cwd=ROOT, env=self.env,
                stdout=self.logs[name].open("w"), stderr=subprocess.STDOUT)
            self.processes.append(self.workers[name])
        for name, log in self.logs.items():
            wait_until(lambda log=log: "ready" in log.read_text(), 120,
                       f"the {name} worker never got ready")
        self.processes.append(subprocess.Popen(
            [sys.executable, "app.py", "--port", self.url.rsplit(":", 1)[1]], cwd=ROOT,
            env=self.env, stdout=self.app_log.open("w"), stderr=subprocess.STDOUT))
        wait_until(lambda: http_ok(self.url + "/healthz"), 120, "the app did not start")
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def callback_map(self) -> dict:
        with urllib.request.urlopen(self.url + "/_dash-dependencies") as response:
            return {d["output"]: d for d in json.loads(response.read())}


def _stack(tmp_path, deadline_s: int = 180):
    if shutil.which("redis-server") is None:
        message = "redis-server not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Celery test must run in CI: {message}")
        pytest.skip(message)
    stack = CeleryStack(tmp_path, deadline_s)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture
def celery_stack(tmp_path):
    yield from _stack(tmp_path)


@pytest.fixture
def quick_deadline_stack(tmp_path):
    """Jobs time out after 8 s."""
    yield from _stack(tmp_path, deadline_s=8)


def test_a_sweep_runs_on_a_celery_worker(dash_br, celery_stack):
    url = celery_stack.url
    with urllib.request.urlopen(url + "/healthz") as response:
        assert b'"background":"celery"' in response.read()
    driver = dash_br.driver
    driver.get(url + "/")
    wait_for_race(driver)
    type_into(driver, "#sweep-resolution-input", "32")
    type_into(driver, "#sweep-steps-input", "300")
    button = driver.find_element("css selector", "#sweep-run-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 120, "no sweep result")
    assert "1,024 cells × 300 steps" in text(driver, "#sweep-status")
    # the job ran on a worker (either takes small sweeps), not in the app's process
    log = "".join(log.read_text() for log in celery_stack.logs.values())
    assert re.search(r"Task background_callback_\w+\[[\w-]+\] received", log)
    assert re.search(r"Task background_callback_\w+\[[\w-]+\] succeeded", log)
    assert severe_console_errors(dash_br) == []


def test_sweeps_work_again_after_a_redis_restart(celery_stack):
    """Redis restarts mid-use (everything in it lost): /healthz says so while it is down,
    and the next sweeps work (the signing secret was never in Redis)."""
    callback_map = celery_stack.callback_map()
    assert sr.run(celery_stack.url, sr.sweep_body(callback_map))["status"] == "result"
    celery_stack.stop_redis()
    with pytest.raises(urllib.error.HTTPError) as down:
        urllib.request.urlopen(celery_stack.url + "/healthz", timeout=30)
    assert down.value.code == 503 and b"redis" in down.value.read()
    celery_stack.start_redis()
    wait_until(lambda: http_ok(celery_stack.url + "/healthz"), 30, "healthz stayed failing")
    for _ in range(3):
        assert sr.run(celery_stack.url, sr.sweep_body(callback_map))["status"] == "result"


def test_a_small_sweep_does_not_wait_behind_large_ones(celery_stack):
    """Two large sweeps would hold both workers; the small one still has its own."""
    callback_map = celery_stack.callback_map()
    large = [sr.sweep_body(callback_map, resolution=512, steps=2000) for _ in range(2)]
    handles = [sr.start(celery_stack.url, body) for body in large]
    wait_until(lambda: "received" in celery_stack.logs["large"].read_text(), 30,
               "the large sweeps did not reach the large sweeps' worker")
    small = sr.sweep_body(callback_map, resolution=8, steps=50)
    assert sr.run(celery_stack.url, small)["status"] == "result"
    logs = "".join(log.read_text() for log in celery_stack.logs.values())
    assert logs.count("succeeded") == 1  # the small one; both large ones still run or wait
    for body, handle in zip(large, handles, strict=True):
        assert sr.poll(celery_stack.url, body, handle, 240)["status"] == "result"


def test_a_killed_worker_leaves_a_message_not_sweeping_forever(quick_deadline_stack):
    stack = quick_deadline_stack
    body = sr.sweep_body(stack.callback_map(), resolution=512, steps=2000)
    handles = sr.start(stack.url, body)
    wait_until(lambda: "received" in stack.logs["large"].read_text(), 30,
               "the sweep did not reach the large sweeps' worker")
    stack.workers["large"].send_signal(signal.SIGKILL)
    answer = sr.poll(stack.url, body, handles, 60)
    assert answer["status"] == "error" and "did not finish within 8 s" in answer["message"]
