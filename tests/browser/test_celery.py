"""Background sweeps on Celery: a real Redis server, a real worker, the app with REDIS_URL.

Everything listens on 127.0.0.1 only and is stopped at the end of the test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


@pytest.fixture
def celery_stack(tmp_path):
    """(app URL, worker log path): redis-server, a Celery worker and the app, all local."""
    if shutil.which("redis-server") is None:
        message = "redis-server not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Celery test must run in CI: {message}")
        pytest.skip(message)
    redis_port, app_port = free_port(), free_port()
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "PYTHONPATH": str(ROOT), "OPTIMIZER_RACE_CACHE": str(tmp_path / "cache")}
    processes = []
    worker_log = tmp_path / "worker.log"
    try:
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with socket.socket() as probe:
            wait_until(lambda: probe.connect_ex(("127.0.0.1", redis_port)) == 0, 20,
                       "redis-server did not start")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "app:celery_app", "worker",
             "--loglevel=INFO", "--concurrency=1", "--pool=solo"], cwd=ROOT, env=env,
            stdout=worker_log.open("w"), stderr=subprocess.STDOUT))
        wait_until(lambda: "ready" in worker_log.read_text(), 120, "the worker never got ready")
        processes.append(subprocess.Popen(
            [sys.executable, "app.py", "--port", str(app_port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{app_port}"
        wait_until(lambda: http_ok(url + "/healthz"), 120, "the app did not start")
        yield url, worker_log
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_sweep_runs_on_a_celery_worker(dash_br, celery_stack):
    url, worker_log = celery_stack
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
    # the job ran on the worker, not in the app's process
    log = worker_log.read_text()
    assert re.search(r"Task background_callback_\w+\[[\w-]+\] received", log)
    assert re.search(r"Task background_callback_\w+\[[\w-]+\] succeeded", log)
    assert severe_console_errors(dash_br) == []
