"""A continuous pointer drag of the lr slider, in headless Chromium: how many frames of new
paths the page draws while the pointer moves, and how soon the final value is drawn.

    python -m benchmarks.drag [--quick] [--json PATH]

Two app servers run side by side on loopback: the app as shipped (a drag draws the paths
from the drag endpoint, ``assets/drag.js``) and the baseline, the app as it was before
(``OPTIMIZER_RACE_DRAG=0``: every move of the slider is a Dash callback that redraws the
paths, the loss plot, the leaderboard and the theory). Each gets its own headless
Chromium, opened on the race (4 optimizers × 500 steps, then 8 × 1000). A drag is
DevTools pointer events (``Input.dispatchMouseEvent``): a press on the lr slider's
thumb, ``MOVES`` moves sent every 16 ms across half the slider, a release. The two
modes' drags alternate, so whatever else the machine does weighs on both.

Measured with the page's own clock (``performance.now()``):

* **moves/s accepted**: the ``pointermove`` events the page received during the drag
  (Chromium coalesces moves the main thread has no time for), per second of the drag.
* **frames/s with new paths**: frames (``requestAnimationFrame`` after the SVG paths of
  the map changed, seen by a ``MutationObserver``) whose drawn paths (the lines' SVG
  ``d``) differ from the previous frame's, per second of the drag.
* **gap**: at each such frame, the pointer's lr (the thumb's position) against the lr the
  drawn paths were computed for (the lr box, written with them), in decades of lr.
* **final**: from the last move to the frame that shows the final value, and to the
  frame whose paths equal the engine's for that lr (checked here against
  ``optim_core``: the drawn float32 paths, vertex for vertex).
* **bytes**: the responses during the drag (``encodedBodySize``, on the wire), per update.

Nothing here asserts on time: it is a benchmark. ``make bench`` runs it; the issue's
targets (≥ 30 frames/s with 4 × 500, ≥ 20 with 8 × 1000, final ≤ 100 ms, ≤ 30 KB an
update) are printed as PASS/MISS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

from benchmarks.harness import Server, chromium, mode_servers, percentile, summary
from layouts import ids

CASES = ((4, 500), (8, 1000))  # (optimizers, steps)
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "nadam", "rmsprop", "adagrad")
MOVES = 120
MOVE_INTERVAL = 0.016  # seconds between pointer moves
TARGET_FPS = {4: 30.0, 8: 20.0}
TARGET_FINAL_MS = 100.0
TARGET_BYTES = 30 * 1024
SETTLE = 2.0  # seconds after the release before the final state is read
MODES = (("drag", "1"), ("baseline", "0"))  # (name, OPTIMIZER_RACE_DRAG)
THUMB = f"#{ids.LR_SLIDER} [role=slider]"
TRACK = f"#{ids.LR_SLIDER} .dash-slider-root"


def query(optimizers: int, steps: int) -> str:
    return (f"/?surface=ravine&optimizers={','.join(OPTIMIZERS[:optimizers])}&steps={steps}"
            "&lr=0.001&momentum=0.8")


INSTALL_JS = r"""
if (window.__drag) return true;
const D = window.__drag = {down: null, up: null, moves: [], frames: [], last: null,
                           pending: null};
performance.setResourceTimingBufferSize(100000);
D.graph = function () { return document.querySelector('#race-graph .js-plotly-plot'); };
// What is drawn: the SVG path of each optimizer's line (however it was drawn: Plotly,
// or assets/drag.js writing the SVG), in trace order.
D.print = function () {
  const gd = D.graph();
  if (!gd || !gd._fullLayout || !gd._fullLayout.meta) return null;
  const lines = {};
  gd.querySelectorAll('.scatterlayer .trace').forEach(function (g) {
    const cd = g.__data__;
    const line = g.querySelector('.js-line');
    if (cd && cd[0] && cd[0].trace && line) lines[cd[0].trace.index] = line.getAttribute('d') || '';
  });
  return gd._fullLayout.meta.traces.paths.map(function (i) {
    const d = lines[i] || '';
    const h = d.length >> 1;
    return d.length + ':' + d.slice(h, h + 40) + ':' + d.slice(-40);
  }).join(';');
};
D.thumb = function () { return document.querySelector('#lr-slider [role=slider]'); };
D.record = function () {
  if (D.pending) return;
  D.pending = requestAnimationFrame(function () {
    D.pending = null;
    const print = D.print();
    if (print === null || print === D.last) return;
    D.last = print;
    const thumb = D.thumb();
    D.frames.push({t: performance.now(), print: print,
                   lr: document.getElementById('lr-input').value,
                   pointer: thumb ? Number(thumb.getAttribute('aria-valuenow')) : null});
  });
};
D.attach = function () {
  const gd = D.graph();
  if (!gd || gd.__dragAttached) return !!gd;
  gd.__dragAttached = true;
  D.last = D.print();
  new MutationObserver(D.record).observe(gd, {subtree: true, childList: true,
                                              attributes: true, attributeFilter: ['d']});
  return true;
};
document.addEventListener('pointerdown', function () { D.down = performance.now(); }, true);
document.addEventListener('pointerup', function () { D.up = performance.now(); }, true);
document.addEventListener('pointermove', function () {
  if (D.down !== null && D.up === null) D.moves.push(performance.now());
}, true);
return true;
"""

ARM_JS = r"""
const D = window.__drag;
D.attach();
performance.clearResourceTimings();
D.down = null; D.up = null; D.moves = []; D.frames = []; D.last = D.print();
document.querySelector(arguments[1]).scrollIntoView({block: 'center'});
const box = document.querySelector(arguments[0]).getBoundingClientRect();
const track = document.querySelector(arguments[1]).getBoundingClientRect();
return {x: box.left + box.width / 2, y: box.top + box.height / 2,
        left: track.left, width: track.width};
"""

COLLECT_JS = r"""
const D = window.__drag;
const gd = D.graph();
const paths = gd._fullLayout.meta.traces.paths.map(function (i) {
  return {x: Array.from(gd._fullData[i].x), y: Array.from(gd._fullData[i].y)};
});
const responses = performance.getEntriesByType('resource')
  .filter(e => e.startTime >= D.down && e.startTime <= D.up + 5000 &&
               (e.name.indexOf('_dash-update-component') >= 0 || e.name.indexOf('/_drag/') >= 0))
  .map(e => ({name: e.name.indexOf('/_drag/') >= 0 ? 'drag' : 'dash', start: e.startTime,
              end: e.responseEnd, encoded: e.encodedBodySize, decoded: e.decodedBodySize}));
return {down: D.down, up: D.up, moves: D.moves, frames: D.frames, paths: paths,
        search: window.location.search, lr: document.getElementById('lr-input').value,
        final_print: D.print(), responses: responses};
"""


def open_race(driver, url: str, optimizers: int, steps: int) -> None:
    driver.get(url + query(optimizers, steps))
    driver.execute_script(INSTALL_JS)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if driver.execute_script("return window.__drag.attach() && window.__drag.print()"):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("the race was not drawn")
    time.sleep(1.0)


def mouse(driver, kind: str, x: float, y: float) -> None:
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {
        "type": kind, "x": x, "y": y, "button": "left",
        "buttons": 0 if kind == "mouseReleased" else 1, "clickCount": 1,
        "pointerType": "mouse"})


def drag(driver, direction: int) -> dict:
    """One drag of half the slider (``direction`` +1: right, −1: left), then the settle."""
    where = driver.execute_script(ARM_JS, THUMB, TRACK)
    x, y = where["x"], where["y"]
    span = where["width"] / 2 * direction
    mouse(driver, "mouseMoved", x, y)
    mouse(driver, "mousePressed", x, y)
    started = time.perf_counter()
    for i in range(1, MOVES + 1):
        target = started + i * MOVE_INTERVAL
        pause = target - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        mouse(driver, "mouseMoved", x + span * i / MOVES, y)
    sent_s = time.perf_counter() - started
    mouse(driver, "mouseReleased", x + span, y)
    time.sleep(SETTLE)
    data = driver.execute_script(COLLECT_JS)
    data["sent_s"] = sent_s
    return data


def engine_paths(search: str) -> list[dict]:
    """What the map must show for the race in the address: the engine's paths, float32."""
    from layouts import figures
    from settings import from_query

    settings, _ = from_query(search)
    drawn = figures.path_traces_data(settings.simulate())["paths"]
    return [{"x": [float(v) for v in p["x"]], "y": [float(v) for v in p["y"]]} for p in drawn]


def measure(data: dict) -> dict:
    moves, frames = data["moves"], data["frames"]
    if not moves or data["down"] is None:
        return {"error": "no pointer moves reached the page"}
    first, last = moves[0], moves[-1]
    duration_s = max(last - first, 1e-9) / 1000
    during = [f for f in frames if first <= f["t"] <= last + 16]
    gaps = []
    for f in during:
        with contextlib.suppress(TypeError, ValueError):
            if f["pointer"] is not None and float(f["lr"]) > 0:
                gaps.append(abs(f["pointer"] - math.log10(float(f["lr"]))))
    expected = engine_paths(data["search"])
    exact = all(p["x"] == e["x"] and p["y"] == e["y"]
                for p, e in zip(data["paths"], expected, strict=True)) \
        and len(data["paths"]) == len(expected)
    final_lr = data["lr"]
    shows_final = next((f["t"] for f in frames if f["t"] >= last and f["lr"] == final_lr), None)
    exact_frame = next((f["t"] for f in frames if f["t"] >= last
                        and f["print"] == data["final_print"]), None)
    dash = [r for r in data["responses"] if r["name"] == "dash"]
    fast = [r for r in data["responses"] if r["name"] == "drag"]
    updates = fast if fast else dash
    return {
        "moves_received": len(moves),
        "moves_per_s": len(moves) / duration_s,
        "frames_with_new_paths": len(during),
        "frames_per_s": len(during) / duration_s,
        "gap_decades": summary(gaps),
        "final_lr": final_lr,
        "final_exact": exact,
        "final_value_ms": None if shows_final is None else shows_final - last,
        "final_exact_ms": None if exact_frame is None else exact_frame - last,
        "drag_requests": len(fast), "dash_requests": len(dash),
        "bytes_per_update": percentile([r["encoded"] for r in updates], 50),
        "bytes_per_update_p95": percentile([r["encoded"] for r in updates], 95),
        "sent_s": data["sent_s"],
    }


def race_case(servers: list[Server], optimizers: int, steps: int, drags: int) -> dict:
    drivers = {}
    try:
        for server in servers:
            drivers[server.name] = chromium()
            drivers[server.name].set_script_timeout(30)
            open_race(drivers[server.name], server.url, optimizers, steps)
        records: dict = {name: [] for name in drivers}
        for i in range(drags + 1):  # the first drag of each warms up, not counted
            for name, driver in drivers.items():
                result = measure(drag(driver, 1 if i % 2 == 0 else -1))
                if i:
                    records[name].append(result)
        return {name: summarize(rows) for name, rows in records.items()}
    finally:
        for driver in drivers.values():
            with contextlib.suppress(Exception):
                driver.quit()


def summarize(rows: list[dict]) -> dict:
    good = [r for r in rows if "error" not in r]

    def column(key):
        return [r[key] for r in good if r.get(key) is not None]

    gaps = [r["gap_decades"]["p50"] for r in good if r["gap_decades"]["p50"] is not None]
    return {"drags": len(rows), "failures": len(rows) - len(good),
            "moves_per_s": summary(column("moves_per_s")),
            "frames_per_s": summary(column("frames_per_s")),
            "gap_decades_p50": summary(gaps),
            "final_value_ms": summary(column("final_value_ms")),
            "final_exact_ms": summary(column("final_exact_ms")),
            "final_exact": all(r["final_exact"] for r in good) and bool(good),
            "bytes_per_update": summary(column("bytes_per_update")),
            "requests_per_drag": summary([r["drag_requests"] + r["dash_requests"]
                                          for r in good]),
            "rows": rows}


def run(quick: bool = False, drags: int | None = None) -> dict:
    drags = drags or (2 if quick else 6)
    load_before = os.getloadavg()
    with mode_servers("OPTIMIZER_RACE_DRAG", MODES) as servers:
        cases = {f"{n}x{steps}": race_case(servers, n, steps, drags) for n, steps in CASES}
    passes = {}
    for (n, _steps), (key, modes) in zip(CASES, cases.items(), strict=True):
        mine = modes["drag"]
        fps = mine["frames_per_s"]["p50"]
        final = mine["final_exact_ms"]["p50"]
        size = mine["bytes_per_update"]["p50"]
        passes[key] = {"fps": fps is not None and fps >= TARGET_FPS[n],
                       "final": final is not None and final <= TARGET_FINAL_MS
                       and mine["final_exact"],
                       "bytes": size is not None and size <= TARGET_BYTES}
    return {"benchmark": "drag", "moves": MOVES, "interval_ms": MOVE_INTERVAL * 1000,
            "drags": drags, "cpus": os.cpu_count(),
            "load_average": {"before": load_before, "after": os.getloadavg()},
            "targets": {"fps": TARGET_FPS, "final_ms": TARGET_FINAL_MS,
                        "bytes": TARGET_BYTES},
            "pass": passes, "cases": cases}


def _f(value, digits=1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def report(result: dict) -> str:
    lines = [f"Pointer drag of the lr slider: {result['moves']} DevTools moves every "
             f"{result['interval_ms']:.0f} ms across half the slider, {result['drags']} drags "
             "per mode and case (medians over drags)", ""]
    width = 40
    for key, modes in result["cases"].items():
        mine, base = modes["drag"], modes["baseline"]
        lines.append(f"{key.replace('x', ' optimizers × ')} steps{'':>{width - 24}}"
                     f"{'drag':>10}{'baseline':>10}")

        def row(label, a, b):
            lines.append(f"  {label:{width - 2}}{a:>10}{b:>10}")

        row("moves/s accepted", _f(mine["moves_per_s"]["p50"]), _f(base["moves_per_s"]["p50"]))
        row("frames/s with new paths", _f(mine["frames_per_s"]["p50"]),
            _f(base["frames_per_s"]["p50"]))
        row("gap pointer → drawn lr (decades)", _f(mine["gap_decades_p50"]["p50"], 3),
            _f(base["gap_decades_p50"]["p50"], 3))
        row("last move → final value drawn (ms)", _f(mine["final_value_ms"]["p50"]),
            _f(base["final_value_ms"]["p50"]))
        row("last move → engine's exact paths (ms)", _f(mine["final_exact_ms"]["p50"]),
            _f(base["final_exact_ms"]["p50"]))
        row("final paths equal the engine's", str(mine["final_exact"]), str(base["final_exact"]))
        row("KB per update on the wire", _f((mine["bytes_per_update"]["p50"] or 0) / 1024),
            _f((base["bytes_per_update"]["p50"] or 0) / 1024))
        row("requests per drag", _f(mine["requests_per_drag"]["p50"], 0),
            _f(base["requests_per_drag"]["p50"], 0))
        row("failed drags", str(mine["failures"]), str(base["failures"]))
        ok = result["pass"][key]
        n = int(key.split("x")[0])
        lines.append(f"  target ≥ {TARGET_FPS[n]:.0f} frames/s: "
                     f"{'PASS' if ok['fps'] else 'MISS'}; final ≤ {TARGET_FINAL_MS:.0f} ms and "
                     f"exact: {'PASS' if ok['final'] else 'MISS'}; ≤ 30 KB an update: "
                     f"{'PASS' if ok['bytes'] else 'MISS'}")
        fps, base_fps = mine["frames_per_s"]["p50"], base["frames_per_s"]["p50"]
        if fps and base_fps:
            lines.append(f"  drag / baseline frames per second: ×{fps / base_fps:.2f}")
        lines.append("")
    load = result["load_average"]
    lines.append(f"load average (1 min) before/after: {load['before'][0]:.2f} / "
                 f"{load['after'][0]:.2f} on {result['cpus']} CPUs")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 drags per mode and case")
    parser.add_argument("--drags", type=int, help="drags per mode and case (6)")
    parser.add_argument("--json", metavar="PATH", help="write the result dict here")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(quick=args.quick, drags=args.drags)
    print(report(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
