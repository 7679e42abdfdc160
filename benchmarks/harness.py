"""What every benchmark shares: loopback ports, the app's servers, headless Chromium, and
one way to time and to summarise.

- :func:`free_port`: a free loopback port (the browser tests use it too).
- :class:`Server`: the app as ``make run`` (:func:`dev_server`; :func:`mode_servers` for
  the app beside a baseline) or as ``make serve`` (:class:`Gunicorn`) on a free port,
  waited on until ``/healthz`` answers, its log in a temporary file, stopped with its
  children.
- :func:`chromium`: headless Chromium with the project's flags (:data:`CHROME_FLAGS`, the
  ones tests/conftest.py gives dash.testing's browser).
- :func:`percentile` (numpy's default, linear) and :func:`summary` (n, p50, p95, p99, mean,
  min, max): every p95 and p99 a benchmark reports comes from these two.
- :func:`best_of`: the best and median wall time of a function.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: what headless Chromium needs in a container (dash.testing adds these itself)
HEADLESS_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")
#: the project's flags: a fixed window, and none of Chromium's own network traffic
CHROME_FLAGS = ("--window-size=1440,1000", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--no-default-browser-check", "--disable-domain-reliability",
                "--disable-features=Translate,MediaRouter,OptimizationHints")
#: A script to run before a page's own (``Page.addScriptToEvaluateOnNewDocument``): each
#: callback request the page sends, kept in ``window.__requests`` as {at (the page's
#: clock, ms), output, changed (its changed inputs)}.
RECORD_REQUESTS_JS = """
window.__requests = [];
const send = window.fetch;
window.fetch = function (url, options) {
  if (String(url).indexOf('_dash-update-component') >= 0 && options && options.body) {
    const body = JSON.parse(options.body);
    window.__requests.push({at: performance.now(), output: body.output,
                            changed: body.changedPropIds});
  }
  return send.apply(this, arguments);
};
"""
SERVER_START_TIMEOUT = 180.0  # seconds; the first start on a machine may compile numba kernels


# --- statistics -------------------------------------------------------------------------------

def percentile(values, q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, as ``numpy.percentile(values, q)``
    computes it by default (method "linear": interpolated between the two nearest ranks,
    position ``(n - 1) * q / 100`` in the sorted values); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values) -> dict:
    """n, p50, p95, p99, mean, min and max of ``values`` (None entries left out); every
    figure but n is None when there are no values."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "min": None,
                "max": None}
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "mean": sum(values) / len(values),
            "min": min(values), "max": max(values)}


def load_line(load_average: dict, cpus: int) -> str:
    """A report's line on how busy the machine was: the 1-minute load before and after."""
    return (f"load average (1 min) before/after: {load_average['before'][0]:.2f} / "
            f"{load_average['after'][0]:.2f} on {cpus} CPUs")


def best_of(function, repeats: int) -> tuple[float, float]:
    """(best, median) wall time in seconds of ``function()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


# --- servers ----------------------------------------------------------------------------------

def free_port() -> int:
    """A free loopback port (dash.testing counts ports from 58050 in every process, so
    parallel runs would collide on its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """The app in a process of its own on a free loopback port: ``command(port)`` run from
    the repository root with ``env`` added to this environment (None: removed), its output
    in a temporary log. ``start()`` waits until ``/healthz`` answers (and :meth:`ready`);
    ``stop()`` ends the process and then its children, by pid. A context manager."""

    def __init__(self, name: str, command, env: dict | None = None, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.command = list(command(self.port))
        merged = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.env = {key: value for key, value in merged.items() if value is not None}
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            "w+", prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None
        self.ready_s = math.nan

    def ready(self) -> bool:
        """More than /healthz to wait for (gunicorn: every worker up)."""
        return True

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> Server:
        started = time.perf_counter()
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} server exited with "
                                   f"{self.process.returncode}; log:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(OSError, urllib.error.URLError), \
                    urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                if answer.status == 200 and self.ready():
                    self.ready_s = time.perf_counter() - started
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"the {self.name} server did not answer /healthz in {timeout:.0f} s;"
                           f" log:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        with contextlib.suppress(ValueError):  # closed: read the file as left
            self.log.flush()
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the process (gunicorn's master stops its workers), SIGKILL whatever of
        it and its children is left."""
        if self.process is None:
            return
        import psutil

        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(self.process.pid).children(recursive=True)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                child.wait(timeout=5)
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.is_running():
                    child.kill()
        self.process = None
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def dev_server(name: str = "dev", env: dict | None = None) -> Server:
    """``make run``: ``python app.py`` (one process), without a Celery broker."""
    env = {"REDIS_URL": None, **(env or {})}  # the disk-cache manager: no broker needed
    return Server(name, lambda port: [sys.executable, "app.py", "--host", HOST, "--port",
                                      str(port)], env)


@contextlib.contextmanager
def mode_servers(variable: str, modes):
    """One :func:`dev_server` per ``(name, value)`` of ``modes``, each with the environment
    variable ``variable`` set to ``value`` (the app as shipped and a benchmark's baseline)
    and a background-job cache of its own; stopped, and the caches removed, afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bench-servers-"))
    servers: list[Server] = []
    try:
        for name, value in modes:
            servers.append(dev_server(name, {variable: value,
                                             "OPTIMIZER_RACE_CACHE": str(folder / name)}))
            servers[-1].start()
        yield servers
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def gunicorn_executable() -> str:
    """The gunicorn of this Python's environment (``make serve`` runs $(VENV)/bin/gunicorn)."""
    here = Path(sys.executable).parent / "gunicorn"
    return str(here) if here.exists() else (shutil.which("gunicorn") or "gunicorn")


class Gunicorn(Server):
    """``make serve`` (gunicorn.conf.py, ``workers`` workers); ``options``: more gunicorn
    flags (they override gunicorn.conf.py)."""

    def __init__(self, workers: int = 2, port: int | None = None, options: tuple = (),
                 env: dict | None = None):
        self.workers = workers
        super().__init__("gunicorn", lambda p: [
            gunicorn_executable(), "--config", "gunicorn.conf.py", "--workers", str(workers),
            "--bind", f"{HOST}:{p}", *options, "app:server"], env, port)

    def ready(self) -> bool:
        return len(self.worker_pids()) >= self.workers

    def worker_pids(self) -> list[int]:
        import psutil

        try:
            return sorted(child.pid for child in psutil.Process(self.process.pid).children()
                          if child.status() != psutil.STATUS_ZOMBIE)
        except (psutil.NoSuchProcess, AttributeError):
            return []

    def workers_cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) per live worker."""
        import psutil

        out = {}
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                out[pid] = times.user + times.system
        return out


# --- the browser ------------------------------------------------------------------------------

def chrome_options(*extra_flags: str, browser_log: bool = False, performance_log: bool = False):
    """Selenium options for headless Chromium with the project's flags, then
    ``extra_flags`` (a later flag wins); the logs asked for are kept
    (``driver.get_log("browser")`` / ``("performance")``)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*HEADLESS_FLAGS, *CHROME_FLAGS, *extra_flags):
        options.add_argument(flag)
    logs = {"browser": browser_log, "performance": performance_log}
    if any(logs.values()):
        options.set_capability("goog:loggingPrefs",
                               {name: "ALL" for name, wanted in logs.items() if wanted})
    return options


def chromium(*extra_flags: str, **logs):
    """A headless Chromium driver (arguments: as :func:`chrome_options`); quit it when done."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(service=Service(CHROMEDRIVER),
                            options=chrome_options(*extra_flags, **logs))
