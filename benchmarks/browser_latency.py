"""Browser latency of the race: lr-slider key press → repainted paths, in headless Chromium.

    python -m benchmarks.browser_latency [--quick] [--moves N] [--json PATH]

Two app servers run side by side on loopback (``python app.py --port P``): the app as
shipped (a slider move sends a ``dash.Patch`` of the paths as float32 typed arrays) and
the baseline (``OPTIMIZER_RACE_PATCH=0``: every update resends whole figures). Each gets
its own headless Chromium, opened on the race with 4 optimizers × 500 steps; the key
presses on the lr slider's thumb alternate between the two browsers (one press, wait
until repainted, pause, the other browser's press, …), so whatever else the machine is
doing weighs on both modes alike. Each mode: a few warm-up presses (not counted), then
``moves`` presses, half ARROW_RIGHT then half ARROW_LEFT (lr 0.01 → 0.02 → 0.01).

What is measured, per move (all clocks are the page's ``performance.now()``):

* **latency**: from the ``keydown`` on the slider thumb (a capturing listener) to the
  frame that shows the new paths. A ``MutationObserver`` on the race map sees the moment
  every path whose data changed (a fingerprint of ``gd._fullData[path].x/y``) has a new
  SVG ``d`` (whichever Plotly call drew it: ``react``, ``animate``), and the first
  ``requestAnimationFrame`` callback after it is that frame (rAF callbacks run just
  before the browser renders). A move not repainted within ``MOVE_TIMEOUT`` seconds
  counts as a failure, not as a number. The app draws the loss plot, the leaderboard and
  the theory readout after the paths (the race's follow-up callback, run by Dash once it
  has applied the race callback's answer); when the loss plot's lines are redrawn is
  reported too, and the frame after that.
* **bytes**: the race callback's ``POST /_dash-update-component``. Every callback posts
  to the same URL, so the page's ``fetch`` is wrapped: a request whose body's ``output``
  names ``race-graph.figure`` is the race callback, and its start time identifies its
  Resource Timing entry (same URL, ``startTime`` within a few ms of the wrapped call).
  From that entry: ``encodedBodySize`` (the response body on the wire, compressed),
  ``transferSize`` (that plus response headers) and ``decodedBodySize`` (uncompressed).
  That response holds every output of the race callback (race map, loss curves,
  leaderboard, theory, stores, error lines): all that one move costs on the wire. Other
  requests a move sets off are listed in the result but not counted (there are none:
  the follow-up runs in the browser); the request body is reported apart.
* **where the time goes**: key → request sent (Dash in the browser: the slider is an
  input of the race callback itself), request → first byte (the server), first → last
  byte (download), response end → the first Plotly call on the race map (Dash applying
  the outputs; ``Plotly.react``/``newPlot``/``animate`` are wrapped to see when), that
  call → paths drawn (Plotly), paths drawn → their frame.

Nothing here asserts on time: it is a benchmark. ``make bench`` runs it; the targets
from the issue (p95 ≤ 80 ms, ≤ 30 KB per update) are printed as PASS/MISS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from benchmarks.harness import Server, chromium, mode_servers, percentile, summary
from layouts import ids

QUERY = "/?surface=ravine&optimizers=sgd,momentum,nesterov,adam&steps=500&lr=0.01&momentum=0.8"
OPTIMIZERS = 4
STEPS = 500
TARGET_P95_MS = 80.0
TARGET_BYTES = 30 * 1024
MOVE_TIMEOUT = 3.0  # seconds; a move not repainted by then is a failure
PAUSE = 0.1  # seconds between moves
WARMUP_MOVES = 6  # 3 right, 3 left; not counted
SLIDER_THUMB = f"#{ids.LR_SLIDER} [role=slider]"
MODES = (("patch", "1"), ("baseline", "0"))  # (name, OPTIMIZER_RACE_PATCH)

# Installed once per page: the keydown clock, the fetch wrapper, the DOM observer.
INSTALL_JS = r"""
if (window.__bench) return true;
const B = window.__bench = {move: null, requests: [], errors: []};
performance.setResourceTimingBufferSize(100000);

B.graph = function () { return document.querySelector('#race-graph .js-plotly-plot'); };
B.loss = function () { return document.querySelector('#loss-graph .js-plotly-plot'); };
// Per path: a fingerprint of its data (Plotly's own copy, updated before it draws).
B.fingerprints = function () {
  const gd = B.graph();
  if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.meta) return null;
  const parts = [];
  for (const i of gd._fullLayout.meta.traces.paths) {
    const t = gd._fullData[i];
    if (!t || !t.x || !t.y) return null;
    const n = t.x.length;
    parts.push([n, t.x[1], t.y[1], t.x[n >> 1], t.y[n >> 1], t.x[n - 1], t.y[n - 1]].join(','));
  }
  return parts;
};
// What is drawn: the SVG path of each line, in trace order (the paths are the first
// scatter traces of the map; the loss plot has one line per optimizer, in the same order).
B.lines = function (gd) {
  if (!gd) return [];
  return Array.from(gd.querySelectorAll('.scatterlayer .trace'),
                    g => (g.querySelector('.js-line') || {getAttribute: () => ''})
                      .getAttribute('d') || '');
};
// Drawn: every path whose data changed has a new SVG path (paths whose data did not
// change, e.g. an optimizer with its own lr, keep theirs).
B.redrawn = function (before, after, changed) {
  return changed.length > 0 && changed.every(i => after[i] !== undefined && after[i] !== before[i]);
};
B.pathLengths = function () {
  const gd = B.graph();
  return gd._fullLayout.meta.traces.paths.map(i => gd._fullData[i].x.length);
};

window.addEventListener('keydown', function (event) {
  const m = B.move;
  if (m && m.key === null && event.target && event.target.matches &&
      event.target.matches('#lr-slider [role=slider]')) {
    m.key = performance.now();
  }
}, true);

const originalFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : (input && input.url) || '';
  if (url.indexOf('_dash-update-component') < 0) return originalFetch.apply(this, arguments);
  let output = '';
  let requestBytes = 0;
  try {
    const body = init && init.body;
    if (typeof body === 'string') {
      requestBytes = new TextEncoder().encode(body).length;
      output = JSON.parse(body).output || '';
    }
  } catch (e) { output = '?'; }
  const record = {start: performance.now(), output: output, requestBytes: requestBytes,
                  race: output.indexOf('race-graph.figure') >= 0,
                  move: B.move ? B.move.id : null, status: null, encoding: null};
  B.requests.push(record);
  return originalFetch.apply(this, arguments).then(function (response) {
    record.status = response.status;
    record.encoding = response.headers.get('content-encoding');
    record.headers = performance.now();
    return response;
  });
};

// Where the client time goes: when Dash hands the figure to Plotly, and Plotly redrawing.
B.wrap = function () {
  if (B.wrapped || !window.Plotly) {
    return !!B.wrapped;
  }
  B.wrapped = true;
  for (const name of ['react', 'newPlot', 'animate']) {
    const original = window.Plotly[name];
    window.Plotly[name] = function (gd) {
      const m = B.move;
      if (m && m.key !== null && m.plotly === null && gd && gd.closest &&
          gd.closest('#race-graph')) {
        m.plotly = performance.now();
      }
      return original.apply(this, arguments);
    };
  }
  return true;
};

B.attach = function () {
  B.wrap();
  const gd = B.graph();
  const loss = B.loss();
  if (!gd || !loss || gd.__benchAttached) return !!(gd && loss);
  gd.__benchAttached = true;
  // DOM mutations, whatever Plotly call made them: react, animate or restyle.
  const check = function () {
    const m = B.move;
    if (!m || m.key === null) return;
    const now = performance.now();
    if (m.changed === null) {
      const prints = B.fingerprints();
      if (!prints) return;
      const changed = prints.map((p, i) => p !== m.before[i] ? i : -1).filter(i => i >= 0);
      if (!changed.length) return;
      m.changed = changed;
    }
    if (m.drawn === null && B.redrawn(m.beforeLines, B.lines(gd), m.changed)) {
      m.drawn = now;
      m.lengths = B.pathLengths();
      // the frame that shows them: rAF callbacks run just before the browser renders
      requestAnimationFrame(function () { m.shown = performance.now(); });
    }
    if (m.lossDrawn === null && B.redrawn(m.beforeLoss, B.lines(loss), m.changed)) {
      m.lossDrawn = now;
    }
    if (m.drawn !== null && m.lossDrawn !== null && m.frame === null && !m.waiting) {
      m.waiting = true;
      requestAnimationFrame(function () {
        m.frame = performance.now();
        setTimeout(function () { m.painted = performance.now(); }, 0);
      });
    }
  };
  const observer = new MutationObserver(check);
  for (const plot of [gd, loss]) {
    observer.observe(plot, {subtree: true, childList: true, attributes: true,
                            attributeFilter: ['d']});
  }
  return true;
};
return true;
"""

ARM_JS = r"""
const B = window.__bench;
B.attach();
performance.clearResourceTimings();
B.requests = [];
B.move = {id: arguments[0], before: B.fingerprints(), beforeLines: B.lines(B.graph()),
          beforeLoss: B.lines(B.loss()), changed: null, key: null, drawn: null,
          lossDrawn: null, shown: null, waiting: false, frame: null, painted: null, lengths: null,
          plotly: null};
return B.move.before !== null;
"""

# Waits (in the page) until the move is painted or the timeout passes.
WAIT_JS = r"""
const done = arguments[arguments.length - 1];
const deadline = performance.now() + arguments[0];
(function poll() {
  const m = window.__bench.move;
  if ((m.painted !== null) || performance.now() > deadline) { done(true); return; }
  setTimeout(poll, 5);
})();
"""

COLLECT_JS = r"""
const B = window.__bench;
const m = B.move;
const entries = performance.getEntriesByType('resource')
  .filter(e => e.name.indexOf('_dash-update-component') >= 0);
const used = new Set();
const requests = B.requests.map(function (r) {
  let best = null;
  for (const e of entries) {
    if (used.has(e)) continue;
    const gap = e.startTime - r.start;
    if (gap > -1 && gap < 50 &&
        (best === null || Math.abs(gap) < Math.abs(best.startTime - r.start))) best = e;
  }
  if (best) used.add(best);
  return {race: r.race, output: r.output.slice(0, 200), start: r.start, status: r.status,
          encoding: r.encoding, requestBytes: r.requestBytes,
          timing: best && {startTime: best.startTime, requestStart: best.requestStart,
                           responseStart: best.responseStart, responseEnd: best.responseEnd,
                           transferSize: best.transferSize,
                           encodedBodySize: best.encodedBodySize,
                           decodedBodySize: best.decodedBodySize}};
});
return {move: {id: m.id, key: m.key, drawn: m.drawn, lossDrawn: m.lossDrawn, shown: m.shown,
               frame: m.frame, painted: m.painted, lengths: m.lengths, plotly: m.plotly,
               wrapped: !!B.wrapped},
        requests: requests, unmatchedEntries: entries.length - used.size,
        lr: document.querySelector('#lr-input').value};
"""


# --- the browser ---------------------------------------------------------------------------

def start_browser():
    driver = chromium(browser_log=True)
    driver.set_script_timeout(MOVE_TIMEOUT + 10)
    return driver


def wait_until(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(message)


def open_race(driver, url: str) -> None:
    driver.get(url + QUERY)
    driver.execute_script(INSTALL_JS)

    def ready():
        return driver.execute_script(
            "const B = window.__bench; if (!B.attach()) return null;"
            "if (!B.fingerprints()) return null;"
            "return B.pathLengths();")

    lengths = wait_until(ready, 60, "the race was not drawn")
    if lengths != [STEPS + 1] * OPTIMIZERS:
        raise RuntimeError(f"expected {OPTIMIZERS} paths of {STEPS + 1} points, got {lengths}")
    time.sleep(1.0)  # let the page's first callbacks and the hover hook settle


def move(driver, key, move_id: int) -> dict:
    """One key press on the slider thumb, waited on until repainted (or the timeout)."""
    thumb = driver.find_element("css selector", SLIDER_THUMB)  # never a stale element
    driver.execute_script("arguments[0].focus()", thumb)
    if not driver.execute_script(ARM_JS, move_id):
        raise RuntimeError("the race graph is not drawn")
    thumb.send_keys(key)
    driver.execute_async_script(WAIT_JS, MOVE_TIMEOUT * 1000)
    data = driver.execute_script(COLLECT_JS)
    if data["move"]["painted"] is None:
        # a late repaint must not be counted for the next move: wait for quiet
        time.sleep(MOVE_TIMEOUT)
        data = driver.execute_script(COLLECT_JS)
    m = data["move"]
    data["timed_out"] = (m["key"] is None or m["drawn"] is None or m["shown"] is None
                         or m["shown"] - m["key"] > MOVE_TIMEOUT * 1000)
    return data


def measure_move(data: dict) -> dict:
    m = data["move"]
    races = [r for r in data["requests"] if r["race"]]
    out = {"lr": data["lr"], "timed_out": data["timed_out"],
           "race_requests": len(races), "other_requests": len(data["requests"]) - len(races),
           "other_outputs": sorted({r["output"] for r in data["requests"] if not r["race"]})}
    if m["key"] is None:
        out["timed_out"] = True
        out["error"] = "no keydown seen on the slider thumb"
        return out
    if not out["timed_out"]:
        out["latency_ms"] = m["shown"] - m["key"]
        out["drawn_ms"] = m["drawn"] - m["key"]
        out["drawn_to_frame_ms"] = m["shown"] - m["drawn"]
        if m["lossDrawn"] is not None:
            out["loss_drawn_ms"] = max(m["drawn"], m["lossDrawn"]) - m["key"]
            out["frame_to_loss_ms"] = max(m["drawn"], m["lossDrawn"]) - m["shown"]
        if m["painted"] is not None:
            out["painted_ms"] = m["painted"] - m["key"]
    # the race request that was answered last before the repaint is the one drawn
    answered = [r for r in races if r["timing"] and r["timing"]["responseEnd"] > 0]
    if answered:
        r = max(answered, key=lambda r: r["timing"]["responseEnd"])
        t = r["timing"]
        out.update({"encoded_bytes": t["encodedBodySize"], "transfer_bytes": t["transferSize"],
                    "decoded_bytes": t["decodedBodySize"], "request_bytes": r["requestBytes"],
                    "encoding": r["encoding"], "status": r["status"],
                    "all_race_encoded_bytes": sum(x["timing"]["encodedBodySize"]
                                                  for x in answered)})
        if not out["timed_out"]:
            out.update({"to_request_ms": t["startTime"] - m["key"],
                        "request_ms": t["responseEnd"] - t["startTime"],
                        "server_ms": t["responseStart"] - t["startTime"],
                        "download_ms": t["responseEnd"] - t["responseStart"],
                        "redraw_ms": m["drawn"] - t["responseEnd"]})
            if m["plotly"] is not None and t["responseEnd"] <= m["plotly"] <= m["drawn"]:
                out.update({"dash_apply_ms": m["plotly"] - t["responseEnd"],
                            "plotly_ms": m["drawn"] - m["plotly"]})
    return out


def severe_console_entries(driver) -> list[str]:
    try:
        return [entry.get("message", "") for entry in driver.get_log("browser")
                if entry.get("level") == "SEVERE"]
    except Exception:  # logs are a diagnostic, never the benchmark
        return []


def directions(moves: int) -> list[str]:
    """Blocks of right then left presses, so the lr stays near where it started."""
    half = max(1, moves // 2)
    return ["right" if (i // half) % 2 == 0 else "left" for i in range(moves)]


def race_modes(servers: list[Server], moves: int) -> dict:
    """One browser per server; the moves alternate between them (patch, baseline, patch,
    …), so that whatever else the machine does weighs on both modes alike."""
    from selenium.webdriver.common.keys import Keys

    keys = {"right": Keys.ARROW_RIGHT, "left": Keys.ARROW_LEFT}
    drivers: dict = {}
    try:
        for server in servers:
            drivers[server.name] = start_browser()
            open_race(drivers[server.name], server.url)
        records: dict = {name: [] for name in drivers}
        for i, direction in enumerate(directions(WARMUP_MOVES)):
            for driver in drivers.values():
                move(driver, keys[direction], -1 - i)
                time.sleep(PAUSE)
        for i, direction in enumerate(directions(moves)):
            for name, driver in drivers.items():
                records[name].append(measure_move(move(driver, keys[direction], i))
                                     | {"direction": direction})
                time.sleep(PAUSE)
        return {name: summarize(name, records[name], severe_console_entries(driver),
                                driver.capabilities.get("browserVersion"))
                for name, driver in drivers.items()}
    finally:
        for driver in drivers.values():
            with contextlib.suppress(Exception):  # keep quitting the others
                driver.quit()


def summarize(name: str, records: list[dict], console: list[str], browser: str | None) -> dict:
    good = [r for r in records if not r["timed_out"]]

    def column(key):
        return [r[key] for r in good if r.get(key) is not None]

    latency = summary(column("latency_ms"))
    encoded = [r["encoded_bytes"] for r in records if r.get("encoded_bytes") is not None]
    decoded = [r["decoded_bytes"] for r in records if r.get("decoded_bytes") is not None]
    transfer = [r["transfer_bytes"] for r in records if r.get("transfer_bytes") is not None]
    requests = [r["request_bytes"] for r in records if r.get("request_bytes") is not None]
    return {
        "mode": name,
        "moves": len(records),
        "failures": len(records) - len(good),
        "latency_ms": latency,
        "drawn_ms": summary(column("drawn_ms")),
        "loss_drawn_ms": summary(column("loss_drawn_ms")),
        "painted_ms": summary(column("painted_ms")),
        "phases_ms": {key: summary(column(key)) for key in (
            "to_request_ms", "request_ms",
            "server_ms", "download_ms", "redraw_ms", "dash_apply_ms", "plotly_ms",
            "drawn_to_frame_ms", "frame_to_loss_ms")},
        "bytes": {
            "encoded_median": percentile(encoded, 50), "encoded_p95": percentile(encoded, 95),
            "transfer_median": percentile(transfer, 50),
            "transfer_p95": percentile(transfer, 95),
            "decoded_median": percentile(decoded, 50), "decoded_p95": percentile(decoded, 95),
            "request_median": percentile(requests, 50),
            "encodings": sorted({str(r.get("encoding")) for r in records
                                 if r.get("encoded_bytes") is not None}),
            "measured_moves": len(encoded),
        },
        "race_requests_per_move": sorted({r["race_requests"] for r in records}),
        "other_callbacks": sorted({o for r in records for o in r["other_outputs"]}),
        "lr_range": [min(float(r["lr"]) for r in records), max(float(r["lr"]) for r in records)]
        if records else None,
        "severe_console": console,
        "browser": browser,
        "records": records,
    }


def run(moves: int = 100, quick: bool = False) -> dict:
    """Both modes, the same moves, in one run: a dict of settings and per-mode results."""
    if quick:
        moves = min(moves, 20)
    load_before = os.getloadavg()
    with mode_servers("OPTIMIZER_RACE_PATCH", MODES) as servers:
        results = race_modes(servers, moves)
    patch, baseline = results["patch"], results["baseline"]
    p95, size = patch["latency_ms"]["p95"], patch["bytes"]["encoded_median"]
    return {
        "benchmark": "browser_latency",
        "query": QUERY, "optimizers": OPTIMIZERS, "steps": STEPS, "moves": moves,
        "warmup_moves": WARMUP_MOVES, "pause_s": PAUSE, "move_timeout_s": MOVE_TIMEOUT,
        "cpus": os.cpu_count(), "load_average": {"before": load_before,
                                                 "after": os.getloadavg()},
        "targets": {"p95_ms": TARGET_P95_MS, "bytes_per_update": TARGET_BYTES},
        "pass": {"p95": p95 is not None and p95 <= TARGET_P95_MS and patch["failures"] == 0,
                 "bytes": size is not None and size <= TARGET_BYTES},
        "ratios": {
            "p95_latency": _ratio(baseline["latency_ms"]["p95"], p95),
            "encoded_bytes": _ratio(baseline["bytes"]["encoded_median"], size),
            "decoded_bytes": _ratio(baseline["bytes"]["decoded_median"],
                                    patch["bytes"]["decoded_median"]),
        },
        "modes": results,
    }


def _ratio(a, b):
    return a / b if a is not None and b else None


# --- the report ----------------------------------------------------------------------------

def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _kb(value) -> str:
    return "—" if value is None else f"{value / 1024:.1f} KB"


def report(result: dict) -> str:
    patch, baseline = result["modes"]["patch"], result["modes"]["baseline"]
    lines = [f"Browser latency: lr slider, {result['optimizers']} optimizers × {result['steps']}"
             f" steps, {result['moves']} key presses per mode (+{result['warmup_moves']} "
             "warm-up), headless Chromium " + str(patch.get("browser")), ""]
    width = 34
    lines.append(f"{'':{width}}{'patch':>12}{'baseline':>12}")

    def row(label, a, b):
        lines.append(f"{label:{width}}{a:>12}{b:>12}")

    lines.append("key press → the frame that shows the new paths:")
    for key in ("p50", "p95", "mean", "max"):
        row(f"    {key} (ms)", _ms(patch["latency_ms"][key]), _ms(baseline["latency_ms"][key]))
    row("failures (no repaint in 3 s)", str(patch["failures"]), str(baseline["failures"]))
    lines.append("the rest of the page, after the paths:")
    for key in ("p50", "p95"):
        row(f"    key → loss plot drawn {key} (ms)", _ms(patch["loss_drawn_ms"][key]),
            _ms(baseline["loss_drawn_ms"][key]))
    row("    key → its frame, p50 (ms)", _ms(patch["painted_ms"]["p50"]),
        _ms(baseline["painted_ms"]["p50"]))
    lines.append("  median split of a move (ms):")
    for key, label in (("to_request_ms", "key → request sent"),
                       ("server_ms", "request → first byte"),
                       ("download_ms", "first → last byte"),
                       ("redraw_ms", "response → paths drawn"),
                       ("dash_apply_ms", "  response → Plotly call"),
                       ("plotly_ms", "  Plotly call → paths drawn"),
                       ("drawn_to_frame_ms", "paths drawn → their frame"),
                       ("frame_to_loss_ms", "(then their frame → loss plot)")):
        row(f"    {label}", _ms(patch["phases_ms"][key]["p50"]),
            _ms(baseline["phases_ms"][key]["p50"]))
    lines.append("  race callback response per update:")
    b1, b2 = patch["bytes"], baseline["bytes"]
    row("    on the wire, median", _kb(b1["encoded_median"]), _kb(b2["encoded_median"]))
    row("    on the wire, p95", _kb(b1["encoded_p95"]), _kb(b2["encoded_p95"]))
    row("    with headers, median", _kb(b1["transfer_median"]), _kb(b2["transfer_median"]))
    row("    uncompressed, median", _kb(b1["decoded_median"]), _kb(b2["decoded_median"]))
    row("    request body, median", _kb(b1["request_median"]), _kb(b2["request_median"]))
    row("    content-encoding", ",".join(b1["encodings"]), ",".join(b2["encodings"]))
    lines.append("")
    ok = result["pass"]
    lines.append(f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {_ms(patch['latency_ms']['p95'])} ms "
                 f"→ {'PASS' if ok['p95'] else 'MISS'}")
    lines.append(f"target ≤ {TARGET_BYTES // 1024} KB per update: {_kb(b1['encoded_median'])} "
                 f"→ {'PASS' if ok['bytes'] else 'MISS'}")
    parts = {"key → request sent (Dash in the browser)": "to_request_ms",
             "request → last byte (server, loopback)": "request_ms",
             "response → Plotly call (Dash applying the outputs)": "dash_apply_ms",
             "Plotly call → paths drawn (Plotly redrawing)": "plotly_ms"}
    medians = {label: patch["phases_ms"][key]["p50"] for label, key in parts.items()
               if patch["phases_ms"][key]["p50"] is not None}
    if medians and patch["latency_ms"]["p50"]:
        label, value = max(medians.items(), key=lambda item: item[1])
        lines.append(f"largest part of a patched move: {label}, {value:.0f} ms of "
                     f"{patch['latency_ms']['p50']:.0f} ms (medians)")
    ratios = result["ratios"]
    if ratios["p95_latency"] and ratios["encoded_bytes"]:
        lines.append(f"baseline / patch: p95 latency ×{ratios['p95_latency']:.2f}, "
                     f"bytes on the wire ×{ratios['encoded_bytes']:.1f}")
    load = result["load_average"]
    lines.append(f"load average (1 min) before/after: {load['before'][0]:.2f} / "
                 f"{load['after'][0]:.2f} on {result['cpus']} CPUs (other work on the "
                 "machine inflates every number)")
    for mode in (patch, baseline):
        if mode["severe_console"]:
            lines.append(f"{mode['mode']}: {len(mode['severe_console'])} console error(s), "
                         f"first: {mode['severe_console'][0][:200]}")
        if mode["race_requests_per_move"] != [1]:
            lines.append(f"{mode['mode']}: race requests per move {mode['race_requests_per_move']}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 key presses per mode")
    parser.add_argument("--moves", type=int, default=100, help="key presses per mode (100)")
    parser.add_argument("--json", metavar="PATH", help="write the result dict here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    result = run(moves=args.moves, quick=args.quick)
    print(report(result))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
        print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
