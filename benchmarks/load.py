"""Load test: slider-drag callback requests against ``make serve``, on 127.0.0.1.

    python -m benchmarks.load                  # 20 s steady run, then a run that kills a worker
    python -m benchmarks.load --quick          # 6 s each, for a smoke check
    python -m benchmarks.load --concurrency 8,4,16,32 --json build/load.json
    python -m benchmarks.load --profile 300    # where one request's time goes (cProfile)

What it does
------------
1. Starts gunicorn as ``make serve`` does (``gunicorn --config gunicorn.conf.py --workers 2
   --bind 127.0.0.1:PORT app:server``, from the repository root, the gunicorn next to this
   Python) on a free port, and waits for ``GET /healthz``.
2. Obtains the request a browser sends when the lr slider moves (below), then warms up.
3. Steady run: ``concurrency`` closed loops ("users dragging the lr slider") for
   ``duration`` seconds. Each loop sends the next update when the previous answer is in,
   like the Dash renderer with one slider. Every request's latency, status and size is
   recorded; the report gives updates/s, p50/p95/p99/max latency, errors and bytes per
   response against the targets (>= 200 updates/s, p99 <= 150 ms, 0 errors).
4. Kill run (``kill_worker``): a fresh server, the same load; a few seconds in, one
   gunicorn worker (a child of the master) gets SIGKILL. Reported: the figures before and
   after the kill, the requests that failed around it, how long the master took to
   respawn a worker, the longest gap without a successful answer, and whether requests
   kept succeeding afterwards (and the new worker served some).
5. gunicorn is always stopped at the end (try/finally), whatever happened.

Concurrency: 8 by default. Two workers compute one request each; the rest wait (in the
listen queue with sync workers, in a worker's thread pool with gthread), so beyond ~4
concurrent drags throughput stays flat (the 2 cores are full) and latency grows with the
queue (Little's law: p50 ~ concurrency x service time / 2). At 8 each worker always has
work waiting (a fair throughput figure) and p99 still means something;
``--concurrency 8,2,4,16,32`` shows the whole curve.

The request body
----------------
A real one, captured from headless Chromium (selenium, Chrome's performance log:
``Network.requestWillBeSent`` carries the JSON body, ``...ExtraInfo`` the headers the
browser put on the wire). The page opens at ``/?surface=ravine&steps=500`` (the four
default optimizers, 500 steps), waits until the race is drawn, and presses the right arrow
on the lr slider once: the renderer POSTs the race callback to ``/_dash-update-component``
(the slider is one of its inputs): outputs ``race-graph.figure``, ``loss-graph.figure``,
``leaderboard.children``, ... ; inputs every race control, both sliders, the
pattern-matching ``override-input`` values (ALL) and ``theme-store``; state the override
ids, the message lines and ``race-structure-store.data``, which holds the structure the
server drew the figure with, so the server answers with a ``Patch`` (only the paths, as
float32 typed arrays), exactly as during a drag.

Each replayed request is that body with only ``lr-slider.value`` changed, to the positions
a drag produces: log10(0.01) to log10(0.05) and back in the slider's step (0.01 decade;
71 positions, 140 requests per sweep up and down; every loop starts at a different point of
the sweep). ``changedPropIds`` stays ``["lr-slider.value"]``. The headers are the
browser's: Content-Type: application/json, Accept: application/json, Accept-Encoding as
Chromium sent it (``gzip, deflate, br, zstd``: Flask-Compress then answers in zstd;
``--accept-encoding gzip`` to compare), Origin, Referer and User-Agent. The query string
(Dash 4's ``endId``) is kept. A slider move sends nothing else to the server: the URL and
the phase diagram's marker follow in the browser.

Without Chromium (``--no-browser``, or if the capture fails) the same body is rebuilt
over HTTP as the renderer builds it: the callback's inputs and state from
``/_dash-dependencies``, their values from ``/_dash-layout`` (pattern-matching ids in
layout order, integral floats written as JSON.stringify writes them), steps set to 500,
theme "light", and ``race-structure-store.data`` from one initial call: byte for byte
the browser's body (checked against a capture).

Reading the figures: the server and this client share the machine's cores, and on a
shared machine so does everything else. Each run reports the CPU the gunicorn workers,
this client and all other processes used (psutil), the workers' CPU milliseconds per
update (what the app costs, less sensitive to the load around it), and a speed check (a
fixed Python workload timed just before the run: a VM's speed drifts). Before each run it
waits up to 60 s for other work to calm down (``--no-wait`` not to).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import HOST, ROOT, Gunicorn, chromium, percentile, summary
from layouts import ids

UPDATE_PATH = "/_dash-update-component"
TARGETS = {"updates_per_s": 200.0, "p99_ms": 150.0, "errors": 0}
DRAG_LR = (0.01, 0.05)  # the lr a drag sweeps, up and back
SLIDER_STEP = 0.01  # decades: the lr slider's step (layouts.components.log_slider)
STEPS = 500
SURFACE = "ravine"
RACE_OUTPUT = f"{ids.RACE_GRAPH}.figure"
LR_SLIDER = ids.LR_SLIDER
REQUEST_TIMEOUT = 10.0
BUSY_WARNING_PCT = 20  # other processes' CPU (% of a core) above which figures are suspect
REPLAY_HEADERS = ("Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Origin",
                  "Referer", "User-Agent")
BROWSER_FALLBACK_HEADERS = {"Accept": "application/json", "Content-Type": "application/json",
                            "Accept-Encoding": "gzip, deflate, br, zstd"}


# --- the server -----------------------------------------------------------------------------

# --- the request ------------------------------------------------------------------------------

@dataclass
class CapturedRequest:
    """One race-callback request as the browser sent it (or as rebuilt over HTTP)."""

    path: str  # with the query string
    body: dict
    headers: dict
    source: str  # "chromium" or "http"
    notes: list = field(default_factory=list)

    def replay_headers(self, url: str, accept_encoding: str | None = None) -> dict:
        """Headers for the server at ``url`` (Origin and Referer follow its port)."""
        headers = {k: v for k, v in self.headers.items() if k in REPLAY_HEADERS}
        for key in ("Origin", "Referer"):
            if key in headers:
                headers[key] = re.sub(r"^http://[^/]+", url, headers[key])
        for key, value in BROWSER_FALLBACK_HEADERS.items():
            headers.setdefault(key, value)
        if accept_encoding:
            headers["Accept-Encoding"] = accept_encoding
        return headers


def _input(body: dict, component_id: str) -> dict:
    for item in body["inputs"]:
        if isinstance(item, dict) and item.get("id") == component_id:
            return item
    raise KeyError(f"{component_id} is not an input of this request")


def _structure(body: dict):
    for item in body.get("state", []):
        if isinstance(item, dict) and item.get("id") == ids.RACE_STRUCTURE:
            return item.get("value")
    return None


PATH_LENGTH_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
if (!gd || !gd._fullLayout || !gd._fullLayout.meta || !gd._fullData) return 0;
const trace = gd._fullData[gd._fullLayout.meta.traces.paths[0]];
return trace && trace.x ? trace.x.length : 0;
"""


def capture_browser_request(base_url: str, steps: int = STEPS,
                            timeout: float = 60.0) -> CapturedRequest:
    """Open the app in headless Chromium, move the lr slider one step, and return the race
    callback's request (URL, JSON body, headers) from Chrome's performance log."""
    from selenium.webdriver.common.keys import Keys

    driver = chromium(performance_log=True)
    try:
        driver.set_page_load_timeout(timeout)
        driver.get(f"{base_url}/?surface={SURFACE}&steps={steps}")
        deadline = time.monotonic() + timeout
        while driver.execute_script(PATH_LENGTH_JS) != steps + 1:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the race with {steps} steps was not drawn in {timeout} s")
            time.sleep(0.05)
        time.sleep(0.5)  # let the page settle (URL written, follow-up callbacks done)
        driver.get_log("performance")  # drop what the page load sent
        slider = driver.find_element("css selector", f"#{ids.LR_SLIDER} [role=slider]")
        driver.execute_script("arguments[0].focus()", slider)
        slider.send_keys(Keys.ARROW_RIGHT)
        sent: dict[str, dict] = {}
        extra: dict[str, dict] = {}
        race_id = None
        pressed = time.monotonic()
        while time.monotonic() < pressed + 15:
            for entry in driver.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                params = message.get("params", {})
                if message.get("method") == "Network.requestWillBeSent":
                    sent[params["requestId"]] = params["request"]
                elif message.get("method") == "Network.requestWillBeSentExtraInfo":
                    extra[params["requestId"]] = params.get("headers", {})
            for request_id, request in sent.items():
                if request["method"] != "POST" or UPDATE_PATH not in request["url"]:
                    continue
                if "postData" not in request and request.get("hasPostData"):
                    request["postData"] = driver.execute_cdp_cmd(
                        "Network.getRequestPostData", {"requestId": request_id})["postData"]
                request["body"] = json.loads(request["postData"])
                if race_id is None and RACE_OUTPUT in request["body"]["output"]:
                    race_id = request_id
            if race_id and race_id in extra:
                break
            time.sleep(0.1)
        if race_id is None:
            raise RuntimeError("moving the lr slider sent no race callback request")
        request = sent[race_id]
        body = request["body"]
        notes = []
        if body.get("changedPropIds") != [f"{LR_SLIDER}.value"]:
            notes.append(f"changedPropIds was {body.get('changedPropIds')}")
        if not _structure(body):
            notes.append("race-structure-store.data was empty: answers will be whole figures")
        headers = {**request.get("headers", {}), **extra.get(race_id, {})}
        url = request["url"]
        return CapturedRequest(path=url[url.index(UPDATE_PATH):], body=body,
                               headers=headers, source="chromium", notes=notes)
    finally:
        driver.quit()


def _walk_layout(node, found: list) -> None:
    if isinstance(node, list):
        for child in node:
            _walk_layout(child, found)
    elif isinstance(node, dict) and "props" in node:
        props = node["props"]
        if "id" in props:
            found.append(props)
        for value in props.values():
            if isinstance(value, (list, dict)):
                _walk_layout(value, found)


def _matches(pattern: dict, component_id) -> bool:
    if not isinstance(component_id, dict) or set(component_id) != set(pattern):
        return False
    return all(value == ["ALL"] or component_id[key] == value for key, value in pattern.items())


def _http_json(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _as_javascript(value):
    """A value as the browser re-serializes it: JSON.stringify writes 25.0 as 25."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_as_javascript(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_javascript(v) for k, v in value.items()}
    return value


def _rebuild_from(spec: dict, components: list[dict], steps: int, post) -> CapturedRequest:
    """The race callback's body from its spec (/_dash-dependencies) and the layout's
    components (in layout order, as the renderer orders pattern-matching inputs)."""

    def values(dependency: dict):
        raw = dependency["id"]
        if raw.startswith("{"):
            pattern = json.loads(raw)
            return [{"id": c["id"], "property": dependency["property"],
                     "value": c.get(dependency["property"])}
                    for c in components if _matches(pattern, c["id"])]
        props = next((c for c in components if c["id"] == raw), {})
        return {"id": raw, "property": dependency["property"],
                "value": props.get(dependency["property"])}

    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in spec["output"].strip(".").split("...")]
    body = {"output": spec["output"], "outputs": outputs,
            "inputs": [values(d) for d in spec["inputs"]],
            "changedPropIds": [f"{LR_SLIDER}.value"],
            "parsedChangedPropsIds": [f"{LR_SLIDER}.value"],
            "state": [values(d) for d in spec["state"]]}
    body = _as_javascript(body)
    _input(body, "steps-input")["value"] = steps
    _input(body, "surface-select")["value"] = SURFACE
    theme = _input(body, "theme-store")
    theme["value"] = theme["value"] or "light"
    structure = post(body)["response"][ids.RACE_STRUCTURE]["data"]
    for item in body["state"]:
        if isinstance(item, dict) and item["id"] == ids.RACE_STRUCTURE:
            item["value"] = structure
    return CapturedRequest(path=UPDATE_PATH, body=body, headers=dict(BROWSER_FALLBACK_HEADERS),
                           source="http", notes=["rebuilt from /_dash-dependencies and "
                                                 "/_dash-layout (no browser capture)"])


def rebuild_request(base_url: str, steps: int = STEPS) -> CapturedRequest:
    """The race callback's request, built as the renderer builds it (no browser)."""
    spec = next(c for c in _http_json(base_url + "/_dash-dependencies")
                if RACE_OUTPUT in c["output"])
    components: list[dict] = []
    _walk_layout(_http_json(base_url + "/_dash-layout"), components)
    return _rebuild_from(spec, components, steps,
                         lambda body: _http_json(base_url + UPDATE_PATH, body))


def obtain_request(base_url: str, steps: int = STEPS, browser: bool = True,
                   log=print) -> CapturedRequest:
    if browser:
        try:
            return capture_browser_request(base_url, steps)
        except Exception as error:  # no Chromium, no chromedriver, a page that broke
            log(f"  browser capture failed ({type(error).__name__}: {error}); rebuilding "
                "the request over HTTP")
    captured = rebuild_request(base_url, steps)
    if browser:
        captured.notes.append("the browser capture failed")
    return captured


def drag_positions(low: float = DRAG_LR[0], high: float = DRAG_LR[1],
                   step: float = SLIDER_STEP) -> list[float]:
    """lr-slider positions (log10 lr) of a drag from ``low`` to ``high`` and back."""
    start, stop = math.log10(low), math.log10(high)
    count = round((stop - start) / step)
    up = [round(start + i * step, 2) for i in range(count + 1)]  # the slider's 0.01 grid
    return up + up[-2:0:-1]


def drag_bodies(captured: CapturedRequest, positions: list[float]) -> list[bytes]:
    """The captured body with lr-slider.value set to each position, serialized once."""
    body = json.loads(json.dumps(captured.body))
    slider = _input(body, LR_SLIDER)
    out = []
    for value in positions:
        slider["value"] = value
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out


# --- checking an answer ------------------------------------------------------------------------

def _no_constants(token: str):
    raise ValueError(f"non-JSON token {token}")


def check_answer(raw: bytes) -> tuple[str | None, bool]:
    """(error or None, whether race-graph.figure came as a Patch)
    for a 200's body. NaN and Infinity are not JSON: an answer holding them is an error."""
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except ValueError as error:
        return f"invalid JSON: {str(error)[:80]}", False
    try:
        figure = data["response"][ids.RACE_GRAPH]["figure"]
    except (KeyError, TypeError):
        return "no race-graph.figure in the answer", False
    if data["response"].get("race-error", {}).get("children"):
        return "race-error: " + str(data["response"]["race-error"]["children"])[:80], False
    return None, isinstance(figure, dict) and "__dash_patch_update" in figure


# --- the load -----------------------------------------------------------------------------------

@dataclass
class Record:
    start: float  # seconds since the run began
    end: float
    status: int  # 0: no HTTP answer
    ok: bool
    error: str | None
    wire_bytes: int
    json_bytes: int
    patch: bool


async def post_update(session, url: str, body: bytes, headers: dict) -> tuple:
    """(status or 0, exception text or None, body, bytes on the wire)."""
    import aiohttp

    try:
        async with session.post(url, data=body, headers=headers) as answer:
            raw = await answer.read()
            return (answer.status, None, raw,
                    int(answer.headers.get("Content-Length", len(raw))))
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return 0, f"{type(exc).__name__}: {str(exc)[:80]}", b"", 0


async def _drag_loop(session, url: str, headers: dict, bodies: list[bytes], offset: int,
                     t0: float, deadline: float, budget: list, records: list) -> None:
    """One user dragging: the next update when the last answer is in."""
    index = offset
    while budget[0] > 0:
        now = time.perf_counter()
        if now >= deadline:
            return
        budget[0] -= 1
        body = bodies[index % len(bodies)]
        index += 1
        status, error, raw, wire = await post_update(session, url, body, headers)
        end = time.perf_counter()
        patch = False
        if error is None and status != 200:
            error = f"HTTP {status}"
        if error is None:
            error, patch = check_answer(raw)
        records.append(Record(now - t0, end - t0, status, error is None, error, wire,
                              len(raw), patch))
        if error is not None and status == 0:
            await asyncio.sleep(0.01)  # a refused connection: do not spin


async def _load(url: str, headers: dict, bodies: list[bytes], concurrency: int,
                duration: float, t0: float, max_requests: int | None = None,
                during=None, sampler=None) -> list[Record]:
    """``concurrency`` drag loops for ``duration`` s (and at most ``max_requests``);
    ``during`` runs beside them (and is waited for), ``sampler`` until they end."""
    import aiohttp

    records: list[Record] = []
    budget = [max_requests or int(duration * 5000) + 100]
    deadline = t0 + duration
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     auto_decompress=True) as session:
        loops = [_drag_loop(session, url, headers, bodies, i * len(bodies) // concurrency,
                            t0, deadline, budget, records)
                 for i in range(concurrency)]
        tasks = [asyncio.ensure_future(loop) for loop in loops]
        side = asyncio.ensure_future(during()) if during else None
        sampling = asyncio.ensure_future(sampler()) if sampler else None
        try:
            await asyncio.wait_for(asyncio.gather(*tasks),
                                   timeout=duration + REQUEST_TIMEOUT + 10)
        finally:
            for task in tasks:
                task.cancel()
            if sampling is not None:
                sampling.cancel()
            if side is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(side, timeout=REQUEST_TIMEOUT)
    records.sort(key=lambda r: r.start)
    return records


def _rounded(milliseconds: float | None) -> float:
    """A figure of the summary to 0.1 ms; NaN for none (the report prints it as nan)."""
    return math.nan if milliseconds is None else round(milliseconds, 1)


def summarize(records: list[Record], start: float | None = None,
              end: float | None = None) -> dict:
    """Throughput, latency percentiles (ms), errors and sizes of these records; the window
    [start, end] (s since the run began) defaults to the first start and the last end."""
    if not records:
        return {"requests": 0, "ok": 0, "errors": 0, "updates_per_s": 0.0}
    start = min(r.start for r in records) if start is None else start
    end = max(r.end for r in records) if end is None else end
    ok = [r for r in records if r.ok]
    latency = summary((r.end - r.start) * 1000 for r in ok)
    errors: dict[str, int] = {}
    for r in records:
        if not r.ok:
            errors[r.error] = errors.get(r.error, 0) + 1
    span = max(end - start, 1e-9)
    return {
        "requests": len(records), "ok": len(ok), "errors": len(records) - len(ok),
        "error_kinds": errors, "seconds": round(span, 3),
        "updates_per_s": round(len(ok) / span, 1),
        **{f"{key}_ms": _rounded(latency[key]) for key in ("p50", "p95", "p99", "max", "mean")},
        "wire_bytes": round(sum(r.wire_bytes for r in ok) / len(ok)) if ok else 0,
        "json_bytes": round(sum(r.json_bytes for r in ok) / len(ok)) if ok else 0,
        "patch_share": round(sum(r.patch for r in ok) / len(ok), 3) if ok else 0.0,
    }


def timeline(records: list[Record], bucket: float = 1.0) -> list[dict]:
    """Per ``bucket`` seconds (by completion time): answers, errors, p99 latency."""
    if not records:
        return []
    out = []
    for i in range(int(max(r.end for r in records) // bucket) + 1):
        inside = [r for r in records if i * bucket <= r.end < (i + 1) * bucket]
        latencies = [(r.end - r.start) * 1000 for r in inside if r.ok]
        out.append({"t": round(i * bucket, 2), "ok": sum(r.ok for r in inside),
                    "errors": sum(not r.ok for r in inside),
                    "p99_ms": _rounded(percentile(latencies, 99))})
    return out


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _machine_busy() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, all CPU seconds) so far."""
    import psutil

    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total


def wait_for_quiet(threshold_pct: float = 25.0, patience: float = 60.0, log=print) -> float:
    """Wait (at most ``patience`` s) until the machine is below ``threshold_pct`` busy
    (of all cores) over one second; other jobs on a shared machine skew the figures.
    Returns the last busy share seen."""
    import psutil

    deadline = time.monotonic() + patience
    busy = psutil.cpu_percent(interval=1.0)
    told = False
    while busy > threshold_pct and time.monotonic() < deadline:
        if not told:
            log(f"  the machine is {busy:.0f}% busy with other work; waiting (<= "
                f"{patience:.0f} s) for it to calm down")
            told = True
        busy = psutil.cpu_percent(interval=1.0)
    return busy


def calibrate() -> float:
    """Milliseconds for a fixed pure-Python workload (JSON round trips, dict and float work,
    like a callback's), best of 5: how fast this machine is right now. On a shared VM it
    can drift by tens of percent between runs with no other process visible here."""
    data = {"paths": [{"x": [i * 0.5 for i in range(200)], "name": f"run {i}"}
                      for i in range(8)], "settings": {"lr": 0.03, "steps": 500}}
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(20):
            json.loads(json.dumps(data))
            sum(math.log(1.0 + k * 1e-3) for k in range(2000))
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


def _phase(server: Gunicorn, captured: CapturedRequest, bodies: list[bytes], headers: dict,
           concurrency: int, duration: float, during=None) -> tuple[list[Record], dict]:
    """One timed load on ``server``: its records, and the CPU this client, the gunicorn
    workers and everything else on the machine used (in % of one core)."""
    url = server.url + captured.path
    cores = os.cpu_count() or 1
    samples: list[dict] = []

    def snapshot() -> tuple:
        return (time.perf_counter(), _cpu_seconds(), sum(server.workers_cpu().values()),
                _machine_busy())

    async def sampler():
        last = snapshot()
        while True:
            await asyncio.sleep(1.0)
            now = snapshot()
            span = now[0] - last[0]
            busy = (now[3][0] - last[3][0]) / max(now[3][1] - last[3][1], 1e-9) * 100 * cores
            client = (now[1] - last[1]) / span * 100
            workers = max(0.0, now[2] - last[2]) / span * 100  # a dead worker drops out
            samples.append({"t": round(now[0] - t0, 1), "machine_pct": round(busy),
                            "client_pct": round(client), "workers_pct": round(workers),
                            "other_pct": round(max(0.0, busy - client - workers))})
            last = now

    workers_before = server.workers_cpu()
    client_before = _cpu_seconds()
    machine_before = _machine_busy()
    t0 = time.perf_counter()
    records = asyncio.run(_load(url, headers, bodies, concurrency, duration, t0,
                                during=during(t0) if during else None, sampler=sampler))
    elapsed = time.perf_counter() - t0
    workers_after = server.workers_cpu()
    machine_after = _machine_busy()
    worker_cpu = sum(cpu - workers_before.get(pid, 0.0) for pid, cpu in workers_after.items())
    client_pct = 100 * (_cpu_seconds() - client_before) / elapsed
    machine_pct = 100 * cores * (machine_after[0] - machine_before[0]) / max(
        machine_after[1] - machine_before[1], 1e-9)
    workers_pct = 100 * worker_cpu / elapsed
    cpu = {"elapsed_s": round(elapsed, 2), "client_cpu_pct": round(client_pct),
           "workers_cpu_pct": round(workers_pct), "machine_cpu_pct": round(machine_pct),
           "other_cpu_pct": round(max(0.0, machine_pct - client_pct - workers_pct)),
           "other_cpu_max_1s_pct": max((s["other_pct"] for s in samples), default=0),
           "cpu_samples": samples,
           "worker_pids_before": sorted(workers_before), "worker_pids_after":
           sorted(workers_after)}
    return records, cpu


def warm_up(server: Gunicorn, captured: CapturedRequest, bodies: list[bytes], headers: dict,
            concurrency: int, seconds: float = 2.0) -> dict:
    """First answers of each worker (imports, caches) kept out of the measurement."""
    records, _ = _phase(server, captured, bodies, headers, concurrency, seconds)
    first = records[: max(1, concurrency)]
    return {"requests": len(records), "errors": sum(not r.ok for r in records),
            "first_ms": round(max((r.end - r.start) * 1000 for r in first), 1),
            "error_kinds": summarize(records).get("error_kinds", {})}


def _cpu_per_update(stats: dict, cpu: dict, cores: int) -> dict:
    """CPU milliseconds per successful update, and the rate the cores could sustain at that
    cost if nothing else ran (a figure less sensitive to other work on the machine)."""
    ok = max(stats.get("ok", 0), 1)
    workers_ms = cpu["workers_cpu_pct"] / 100 * cpu["elapsed_s"] / ok * 1000
    client_ms = cpu["client_cpu_pct"] / 100 * cpu["elapsed_s"] / ok * 1000
    return {"worker_cpu_ms_per_update": round(workers_ms, 2),
            "client_cpu_ms_per_update": round(client_ms, 2),
            "cpu_bound_updates_per_s": round(cores * 1000 / max(workers_ms + client_ms, 1e-9))}


def steady_run(server: Gunicorn, captured: CapturedRequest, bodies: list[bytes],
               headers: dict, concurrency: int, duration: float) -> dict:
    records, cpu = _phase(server, captured, bodies, headers, concurrency, duration)
    stats = summarize(records)
    stats |= _cpu_per_update(stats, cpu, os.cpu_count() or 1)
    recycled = sorted(set(cpu["worker_pids_after"]) ^ set(cpu["worker_pids_before"]))
    return {"concurrency": concurrency, "duration_s": duration, **stats, **cpu,
            "worker_pids_changed": recycled, "timeline": timeline(records)}


def kill_run(server: Gunicorn, captured: CapturedRequest, bodies: list[bytes], headers: dict,
             concurrency: int, duration: float, kill_after: float | None = None) -> dict:
    """The load, with SIGKILL to one worker ``kill_after`` s in (default: a quarter in,
    at least 2 s)."""
    kill_after = kill_after if kill_after is not None else max(2.0, duration / 4)
    event: dict = {}

    def during(t0: float):
        async def kill_and_watch():
            import psutil

            await asyncio.sleep(max(0.0, t0 + kill_after - time.perf_counter()))
            before = server.worker_pids()
            event["pids_before"] = before
            if not before:
                event["error"] = "no worker to kill"
                return
            victim = before[0]
            with contextlib.suppress(psutil.NoSuchProcess):  # running: mid-request
                event["victim_status"] = psutil.Process(victim).status()
            os.kill(victim, signal.SIGKILL)
            event["killed_pid"] = victim
            event["t_kill"] = time.perf_counter() - t0
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline:
                pids = server.worker_pids()
                fresh = [p for p in pids if p not in before]
                if fresh and "t_respawn" not in event:
                    event["t_respawn"] = time.perf_counter() - t0
                    event["new_pid"] = fresh[0]
                    with contextlib.suppress(psutil.NoSuchProcess):
                        times = psutil.Process(fresh[0]).cpu_times()
                        event["new_cpu_at_spawn"] = times.user + times.system
                if "t_respawn" in event and f"Booting worker with pid: {event['new_pid']}" \
                        in server.log_text():
                    event["t_booted"] = time.perf_counter() - t0
                    return
                await asyncio.sleep(0.005)
            event.setdefault("error", "no new worker within 30 s")
        return kill_and_watch

    records, cpu = _phase(server, captured, bodies, headers, concurrency, duration, during)
    out: dict = {"concurrency": concurrency, "duration_s": duration, "kill_after_s": kill_after,
                 **cpu, "all": summarize(records), "timeline": timeline(records, 0.5)}
    if "t_kill" not in event:
        return out | {"error": event.get("error", "the worker was not killed")}
    t_kill = event["t_kill"]
    t_respawn = event.get("t_respawn", math.inf)
    before = [r for r in records if r.end < t_kill]
    in_flight = [r for r in records if r.start < t_kill <= r.end]
    after = [r for r in records if r.start >= t_kill]
    after_respawn = [r for r in records if r.start >= t_respawn]
    around = [r for r in records if not r.ok and t_kill - 0.05 <= r.end <= t_respawn + 1.0]
    ok_ends = sorted(r.end for r in records if r.ok)
    gaps = [b - a for a, b in zip(ok_ends, ok_ends[1:], strict=False)
            if b >= t_kill and a <= t_respawn + 1.0]
    new_pid = event.get("new_pid")
    new_cpu = None
    if new_pid is not None:
        import psutil

        with contextlib.suppress(psutil.NoSuchProcess):
            times = psutil.Process(new_pid).cpu_times()
            new_cpu = round(times.user + times.system - event.get("new_cpu_at_spawn", 0.0), 2)
    out |= {
        "killed_pid": event["killed_pid"], "new_pid": new_pid,
        "killed_worker_status": event.get("victim_status"),
        "t_kill_s": round(t_kill, 3),
        "respawn_ms": round((t_respawn - t_kill) * 1000, 1) if new_pid else None,
        "booted_ms": round((event["t_booted"] - t_kill) * 1000, 1)
        if "t_booted" in event else None,
        "before": summarize(before, 0.0, t_kill),
        "after": summarize(after, t_kill, max((r.end for r in after), default=t_kill)),
        "after_respawn": summarize(after_respawn) if after_respawn else {"requests": 0},
        "in_flight_at_kill": len(in_flight),
        "failed_in_flight": sum(not r.ok for r in in_flight),
        "failed_around_kill": len(around),
        "failed_after_respawn_plus_1s": sum(not r.ok for r in records
                                           if r.start >= t_respawn + 1.0),
        "failures": [{"start_s": round(r.start, 3), "end_s": round(r.end, 3), "error": r.error}
                     for r in records if not r.ok][:20],
        "longest_gap_without_answer_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "new_worker_cpu_s": new_cpu,
        "error": event.get("error"),
    }
    out["kept_answering"] = bool(
        new_pid and out["after"].get("ok", 0) > 0 and out["after_respawn"].get("ok", 0) > 0
        and out["failed_after_respawn_plus_1s"] == 0)
    return out


# --- the benchmark ------------------------------------------------------------------------------

def run(duration: float = 20.0, concurrency: int = 8, workers: int = 2,
        kill_worker: bool = True, *, extra_concurrency: tuple[int, ...] = (),
        accept_encoding: str | None = None, browser: bool = True, steps: int = STEPS,
        warmup: float = 2.0, quiet_wait: float = 60.0, quick: bool = False,
        memory_requests: int = 1500, log=print) -> dict:
    """Steady load (and the kill-a-worker run) against ``make serve``; a dict of results.

    ``extra_concurrency`` adds steady runs at other concurrency levels (fresh servers), so
    levels can be compared in one report. Before each run it waits up to ``quiet_wait`` s
    for other work on the machine to calm down (0: do not wait). ``quick`` (as ``make
    bench --quick`` passes it): runs of at most 6 s, 1 s of warm-up."""
    if quick:
        duration, warmup = min(duration, 6.0), min(warmup, 1.0)
        memory_requests = min(memory_requests, 300)
    result: dict = {"targets": TARGETS, "host": HOST, "workers": workers, "cpus": os.cpu_count(),
                    "python": sys.version.split()[0], "steady": [], "kill": None,
                    "patch_env": os.environ.get("OPTIMIZER_RACE_PATCH", "1 (default)")}
    positions = drag_positions()
    lrs = [float(f"{10 ** p:.3g}") for p in positions]  # what the number box shows
    captured = None
    for index, level in enumerate((concurrency, *extra_concurrency)):
        server = Gunicorn(workers)
        try:
            log(f"gunicorn: {' '.join(server.command)} (cwd {ROOT})")
            server.start()
            log(f"  ready in {server.ready_s:.1f} s, workers {server.worker_pids()}")
            if captured is None:
                captured = obtain_request(server.url, steps, browser, log)
                bodies = drag_bodies(captured, positions)
                headers = captured.replay_headers(server.url, accept_encoding)
                result["request"] = {
                    "source": captured.source, "path": captured.path.split("?")[0],
                    "query": captured.path.partition("?")[2][:40],
                    "changed": captured.body.get("changedPropIds"),
                    "outputs": len(captured.body.get("outputs", [])),
                    "structure": _structure(captured.body), "steps": steps,
                    "surface": _input(captured.body, "surface-select")["value"],
                    "optimizers": _input(captured.body, "optimizer-select")["value"],
                    "lr_values": len(set(lrs)), "lr_range": [min(lrs), max(lrs)],
                    "lr_sweep": len(lrs), "body_bytes": len(bodies[0]),
                    "headers": headers, "notes": captured.notes}
                log(f"  request: {captured.source}, {len(bodies[0])} B body, lr "
                    f"{min(lrs)}..{max(lrs)} ({len(lrs)} steps a sweep)")
            headers = captured.replay_headers(server.url, accept_encoding)
            result.setdefault("warmup", []).append(
                warm_up(server, captured, bodies, headers, level, warmup))
            quiet = wait_for_quiet(patience=quiet_wait, log=log) if quiet_wait else None
            speed = calibrate()
            log(f"  steady run: {duration:g} s at concurrency {level} (speed check {speed} ms)")
            steady = steady_run(server, captured, bodies, headers, level, duration)
            steady["machine_busy_before_pct"] = quiet
            steady["speed_check_ms"] = speed
            steady["server_ready_s"] = round(server.ready_s, 2)
            result["steady"].append(steady)
            log(f"    {steady['updates_per_s']} updates/s, p50 {steady.get('p50_ms')} ms, "
                f"p99 {steady.get('p99_ms')} ms, errors {steady['errors']}; CPU: workers "
                f"{steady['workers_cpu_pct']}%, client {steady['client_cpu_pct']}%, other "
                f"{steady['other_cpu_pct']}%")
        finally:
            server.stop()
        if index == 0 and kill_worker:
            server = Gunicorn(workers)
            try:
                server.start()
                headers = captured.replay_headers(server.url, accept_encoding)
                warm_up(server, captured, bodies, headers, concurrency, warmup)
                quiet = wait_for_quiet(patience=quiet_wait, log=log) if quiet_wait else None
                log(f"  kill run: {duration:g} s at concurrency {concurrency}, SIGKILL to a "
                    "worker")
                result["kill"] = kill_run(server, captured, bodies, headers, concurrency,
                                          duration)
                result["kill"]["machine_busy_before_pct"] = quiet
                result["kill"]["speed_check_ms"] = calibrate()
                result["kill"]["server_log_tail"] = [
                    line for line in server.log_text().splitlines()
                    if "WARNING" in line or "ERROR" in line or "Booting" in line
                    or "SIGKILL" in line][-12:]
            finally:
                server.stop()
    if memory_requests:
        log(f"  memory run: worker RSS over {memory_requests} requests (no recycling)")
        result["memory"] = memory_run(captured, bodies, accept_encoding, concurrency,
                                      memory_requests, workers)
    main_run = result["steady"][0]
    result["verdict"] = {
        "updates_per_s": main_run["updates_per_s"] >= TARGETS["updates_per_s"],
        "p99_ms": main_run.get("p99_ms", math.inf) <= TARGETS["p99_ms"],
        "errors": main_run["errors"] <= TARGETS["errors"],
    }
    if result["kill"] is not None:
        result["verdict"]["kill_kept_answering"] = bool(result["kill"].get("kept_answering"))
    return result


def memory_run(captured: CapturedRequest, bodies: list[bytes], accept_encoding: str | None,
               concurrency: int, requests: int, workers: int = 2, chunks: int = 6) -> dict:
    """The workers' resident memory (MB, summed) before and after every ``requests /
    chunks`` slider updates, on a server that never recycles its workers (max_requests
    0): how much a worker grows, and so what gunicorn.conf.py's max_requests bounds."""
    import psutil

    server = Gunicorn(workers, options=("--max-requests", "0"))
    try:
        server.start()
        headers = captured.replay_headers(server.url, accept_encoding)
        url = server.url + captured.path

        def rss() -> float:
            return round(sum(psutil.Process(pid).memory_info().rss
                             for pid in server.worker_pids()) / workers / 2**20, 1)

        samples = [{"requests": 0, "rss_mb": rss()}]
        done = errors = 0
        for _ in range(chunks):
            t0 = time.perf_counter()
            records = asyncio.run(_load(url, headers, bodies, concurrency, 120.0, t0,
                                        max_requests=requests // chunks))
            done += len(records)
            errors += sum(not r.ok for r in records)
            samples.append({"requests": done, "rss_mb": rss()})
        return {"samples": samples, "errors": errors, "per_worker": True,
                "growth_mb": round(samples[-1]["rss_mb"] - samples[0]["rss_mb"], 1),
                "growth_last_half_mb": round(samples[-1]["rss_mb"]
                                             - samples[len(samples) // 2]["rss_mb"], 1)}
    finally:
        server.stop()


def profile(count: int = 200, steps: int = STEPS, top: int = 25) -> str:
    """cProfile of ``count`` race-callback requests in this process (Flask's test client,
    no gunicorn, no network), the body rebuilt as in :func:`rebuild_request`."""
    import cProfile
    import io
    import pstats

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from app import server as flask_app

    client = flask_app.test_client()

    def get(path, body=None):
        answer = client.post(path, json=body) if body is not None else client.get(path)
        return json.loads(answer.data)

    components: list[dict] = []
    _walk_layout(get("/_dash-layout"), components)
    spec = next(c for c in get("/_dash-dependencies") if RACE_OUTPUT in c["output"])
    captured = _rebuild_from(spec, components, steps, lambda body: get(UPDATE_PATH, body))
    bodies = drag_bodies(captured, drag_positions())
    headers = dict(BROWSER_FALLBACK_HEADERS)
    for body in bodies[:10]:
        client.post(UPDATE_PATH, data=body, headers=headers)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for i in range(count):
        client.post(UPDATE_PATH, data=bodies[i % len(bodies)], headers=headers)
    profiler.disable()
    per_request = (time.perf_counter() - t0) / count * 1000
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(top)
    return (f"{count} requests in process: {per_request:.2f} ms each (with the profiler's "
            f"overhead)\n" + stream.getvalue())


# --- the report -----------------------------------------------------------------------------------

def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _latencies(stats: dict) -> str:
    return " / ".join(f"{stats.get(k, math.nan):g}" for k in ("p50_ms", "p95_ms", "p99_ms",
                                                               "max_ms"))


def report(result: dict) -> str:
    """The result of :func:`run`, for people."""
    lines = []
    request = result.get("request", {})
    first = result["steady"][0]
    lines.append(f"Optimizer Race load test: make serve (gunicorn, {result['workers']} "
                 f"workers) on {result['host']}, {result['cpus']} CPUs shared with this client")
    lines.append(f"  request: POST {request.get('path')} (race callback, "
                 f"{request.get('source')}), {request.get('body_bytes')} B JSON; "
                 f"{request.get('surface')}, {len(request.get('optimizers') or [])} optimizers "
                 f"x {request.get('steps')} steps")
    lines.append(f"  drag: lr {request.get('lr_range', ['?'])[0]} -> "
                 f"{request.get('lr_range', ['?', '?'])[1]} and back in 0.01-decade slider "
                 f"steps ({request.get('lr_sweep')} requests a sweep), changed "
                 f"{request.get('changed')}")
    lines.append(f"  Accept-Encoding: {request.get('headers', {}).get('Accept-Encoding')}; "
                 f"OPTIMIZER_RACE_PATCH={result.get('patch_env')}")
    for note in request.get("notes") or []:
        lines.append(f"  note: {note}")
    lines.append("")
    lines.append(f"Steady run: {first['duration_s']:g} s, {first['concurrency']} concurrent "
                 f"drags (closed loops)")
    verdict = result["verdict"]
    lines.append(f"  updates/s        {first['updates_per_s']:>8}     target >= "
                 f"{TARGETS['updates_per_s']:g}      {_mark(verdict['updates_per_s'])}")
    lines.append(f"  p99 latency      {first.get('p99_ms'):>8} ms  target <= "
                 f"{TARGETS['p99_ms']:g} ms   {_mark(verdict['p99_ms'])}")
    lines.append(f"  errors           {first['errors']:>8}     target {TARGETS['errors']}"
                 f"            {_mark(verdict['errors'])}   (of {first['requests']} requests)")
    lines.append(f"  p50/p95/p99/max  {_latencies(first)} ms")
    lines.append(f"  per response     {first['wire_bytes'] / 1000:.1f} kB on the wire, "
                 f"{first['json_bytes'] / 1000:.1f} kB JSON; Patch answers "
                 f"{100 * first['patch_share']:.0f}%")
    lines.append(f"  CPU (% of a core) gunicorn workers {first['workers_cpu_pct']}%, this client "
                 f"{first['client_cpu_pct']}%, other processes {first['other_cpu_pct']}% "
                 f"(max {first['other_cpu_max_1s_pct']}% in a second), of "
                 f"{100 * result['cpus']}%")
    lines.append(f"  CPU per update   gunicorn worker {first['worker_cpu_ms_per_update']} ms, "
                 f"this client {first['client_cpu_ms_per_update']} ms: the {result['cpus']} "
                 f"cores could carry ~{first['cpu_bound_updates_per_s']} updates/s at that "
                 "cost")
    if first.get("error_kinds"):
        lines.append(f"  error kinds      {first['error_kinds']}")
    lines.append(f"  speed check      {first['speed_check_ms']} ms for a fixed Python workload "
                 "just before the run (a shared VM's speed drifts between runs: compare runs "
                 "with it; lower is faster)")
    if first["other_cpu_pct"] > BUSY_WARNING_PCT:
        lines.append(f"  WARNING: other processes used {first['other_cpu_pct']}% of a core "
                     "during this run: the figures understate what the app can do; rerun on a "
                     "quiet machine")
    if first.get("worker_pids_changed"):
        lines.append(f"  worker pids changed during the run (max_requests recycling?): "
                     f"{first['worker_pids_changed']}")
    if len(result["steady"]) > 1:
        lines.append("")
        lines.append("Concurrency levels (each on a fresh server, same request mix):")
        lines.append("  conc  updates/s   p50     p95     p99     max  (ms)  errors  "
                     "workers CPU  client CPU  other CPU  worker ms/update  speed check")
        for run_ in sorted(result["steady"], key=lambda r: r["concurrency"]):
            lines.append(f"  {run_['concurrency']:>4}  {run_['updates_per_s']:>9}  "
                         f"{run_.get('p50_ms'):>6}  {run_.get('p95_ms'):>6}  "
                         f"{run_.get('p99_ms'):>6}  {run_.get('max_ms'):>6}       "
                         f"{run_['errors']:>6}  {run_['workers_cpu_pct']:>10}%  "
                         f"{run_['client_cpu_pct']:>9}%  {run_['other_cpu_pct']:>8}%  "
                         f"{run_['worker_cpu_ms_per_update']:>16}  "
                         f"{run_['speed_check_ms']:>8} ms")
    kill = result.get("kill")
    if kill:
        lines.append("")
        lines.append(f"Kill a worker: {kill['duration_s']:g} s at concurrency "
                     f"{kill['concurrency']}, SIGKILL at {kill.get('t_kill_s', '?')} s")
        if kill.get("error"):
            lines.append(f"  problem: {kill['error']}")
        if "before" in kill:
            for name in ("before", "after", "after_respawn"):
                stats = kill[name]
                if not stats.get("requests"):
                    lines.append(f"  {name:<14} no requests")
                    continue
                lines.append(f"  {name:<14} {stats['updates_per_s']:>7} updates/s, "
                             f"p50/p95/p99/max {_latencies(stats)} ms, "
                             f"{stats['errors']} errors of {stats['requests']}")
            lines.append(f"  killed worker {kill['killed_pid']} ({kill['killed_worker_status']} "
                         "when killed: running = busy with a request, which then fails; "
                         "sleeping = most likely waiting for the next one)")
            lines.append(f"  the master had a new worker "
                         f"({kill['new_pid']}) {kill['respawn_ms']} ms later, its boot logged "
                         f"at {kill['booted_ms']} ms")
            lines.append(f"  in flight at the kill: {kill['in_flight_at_kill']}, of which "
                         f"failed {kill['failed_in_flight']}; failed around the kill "
                         f"(to respawn + 1 s): {kill['failed_around_kill']}; failed later: "
                         f"{kill['failed_after_respawn_plus_1s']}")
            lines.append(f"  longest gap without a successful answer around the kill: "
                         f"{kill['longest_gap_without_answer_ms']} ms; the new worker used "
                         f"{kill['new_worker_cpu_s']} s CPU (it served requests)")
            for failure in kill["failures"][:5]:
                lines.append(f"    failed: {failure}")
            lines.append(f"  kept answering after the kill: "
                         f"{_mark(verdict.get('kill_kept_answering', False))}")
            lines.append(f"  CPU (% of a core): workers {kill['workers_cpu_pct']}%, client "
                         f"{kill['client_cpu_pct']}%, other processes {kill['other_cpu_pct']}%"
                         + (" (a busy machine: latencies are inflated)"
                            if kill["other_cpu_pct"] > BUSY_WARNING_PCT else ""))
            spark = " ".join(f"{b['ok']}" + (f"!{b['errors']}" if b["errors"] else "")
                             for b in kill["timeline"])
            lines.append(f"  answers per 0.5 s (!errors): {spark}")
    memory = result.get("memory")
    if memory:
        lines.append("")
        lines.append("Worker memory (RSS per worker, MB) over slider updates, no recycling: "
                     + ", ".join(f"{s['rss_mb']} after {s['requests']}"
                                 for s in memory["samples"]))
        lines.append(f"  grew {memory['growth_mb']} MB in all, {memory['growth_last_half_mb']} "
                     f"MB in the second half; {memory['errors']} errors. gunicorn.conf.py's "
                     "max_requests recycles a worker after ~5000 requests, which bounds it")
    lines.append("")
    lines.append(f"Throughput is bounded by the {result['cpus']} cores, which gunicorn's workers "
                 "share with this client and with anything else running (shares above).")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description="Replay lr-slider drags against make serve (gunicorn) on 127.0.0.1 and "
                    "report updates/s, latency and errors; then kill a worker mid-run.")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per run (default 20; --quick: 6)")
    parser.add_argument("--concurrency", default="8",
                        help="concurrent drags; a list (8,16,32) adds steady runs at the "
                             "other levels (the first is the one judged and used for the kill)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true", help="skip the kill-a-worker run")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke check)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--accept-encoding", default=None,
                        help="override the browser's Accept-Encoding (e.g. gzip)")
    parser.add_argument("--no-browser", action="store_true",
                        help="rebuild the request over HTTP instead of capturing it")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--no-wait", action="store_true",
                        help="do not wait for other work on the machine to calm down")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="instead: cProfile N race requests in this process and exit")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile(args.profile, args.steps))
        return
    duration = args.duration or (6.0 if args.quick else 20.0)
    levels = [int(level) for level in args.concurrency.split(",") if level.strip()]
    result = run(duration, levels[0], args.workers, not args.no_kill,
                 extra_concurrency=tuple(levels[1:]), accept_encoding=args.accept_encoding,
                 browser=not args.no_browser, steps=args.steps,
                 warmup=1.0 if args.quick else 2.0, quiet_wait=0 if args.no_wait else 60,
                 log=lambda text: print(text, flush=True))
    print()
    print(report(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
        print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()
