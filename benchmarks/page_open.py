"""The page's opening in headless Chromium: navigation → the first race drawn, against a
bare Dash page served and opened in the same run.

    python -m benchmarks.page_open [--quick] [--opens N] [--json PATH]

Two servers run side by side on loopback: the app (``python app.py``, the default race)
and the baseline, a bare Dash page (:data:`BARE_PAGE`: one ``dcc.Graph`` that one
callback draws, one line of 151 points, so the work any Dash page does to open). Each
has its own headless Chromium; the openings alternate between the two (a fresh
navigation from ``about:blank``), so whatever else the machine does weighs on both.
Both are opened a few times first, not counted: the servers' and browsers' caches are
warm, as for a user's second visit.

Per opening, on the page's clock (``performance.now()``, 0 at the navigation's start):

* **drawn**: when the map has its paths (the bare page: its graph has its line), seen by
  a ``requestAnimationFrame`` loop started by a script that runs before the page's;
* **first request**: when the first callback request (``POST /_dash-update-component``)
  went out, i.e. how long the page took to take in its layout and callbacks;
* **requests**: how many callback requests the page sent until it was quiet for
  :data:`QUIET_S` seconds, and which (their outputs): what opening costs the server.

Nothing here asserts a time: the figures are reported; the ratio of the medians is the
figure to compare between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.harness import (
    RECORD_REQUESTS_JS,
    Server,
    chromium,
    dev_server,
    load_line,
    summary,
)
from layouts import ids

#: The baseline: a bare Dash page, its one graph drawn by its one callback.
BARE_PAGE = """
import sys
from dash import Dash, Input, Output, dcc, html
app = Dash(__name__, include_assets_files=False)  # not the app's assets/ (cwd)
app.layout = html.Div([dcc.Graph(id="graph"), dcc.Store(id="steps", data=150)])
@app.callback(Output("graph", "figure"), Input("steps", "data"))
def draw(steps):
    return {"data": [{"type": "scatter", "x": list(range(steps + 1)),
                      "y": [0.99 ** k for k in range(steps + 1)]}]}
app.server.add_url_rule("/healthz", "healthz", lambda: "ok")
app.run(host="127.0.0.1", port=int(sys.argv[1]), debug=False)
"""
#: Before the page's own scripts (after RECORD_REQUESTS_JS): when the graph is drawn.
DRAWN_JS = """
window.__drawn = null;
(function look() {
  const gd = document.querySelector(%s);
  if (gd && gd._fullData && gd._fullData.length && gd.querySelector('.scatterlayer path'))
    window.__drawn = performance.now();
  else window.requestAnimationFrame(look);
})();
"""
#: Each page's graph that is drawn (the bare page has only the one).
GRAPHS = {"app": f"'#{ids.RACE_GRAPH} .js-plotly-plot'", "bare": "'.js-plotly-plot'"}
QUIET_S = 1.5  # no callback request for this long: the page has settled
OPEN_TIMEOUT = 60.0


def bare_server() -> Server:
    return Server("bare", lambda port: [sys.executable, "-c", BARE_PAGE, str(port)])


def browser(graph: str):
    driver = chromium()
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": RECORD_REQUESTS_JS + DRAWN_JS % graph})
    return driver


def open_once(driver, url: str) -> dict:
    """One opening, from about:blank: when the graph was drawn, the callback requests."""
    driver.get("about:blank")
    driver.get(url + "/")
    deadline = time.monotonic() + OPEN_TIMEOUT
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "return {requests: window.__requests, drawn: window.__drawn}")
        if len(state["requests"]) != seen:
            seen, quiet_since = len(state["requests"]), time.monotonic()
        elif state["drawn"] is not None and time.monotonic() - quiet_since >= QUIET_S:
            requests = state["requests"]
            return {"drawn_ms": state["drawn"], "requests": len(requests),
                    "first_request_ms": requests[0]["at"] if requests else None,
                    "outputs": [r["output"][:80] for r in requests]}
        time.sleep(0.1)
    raise RuntimeError(f"{url}: not drawn and settled within {OPEN_TIMEOUT:.0f} s")


def run(opens: int = 30, quick: bool = False) -> dict:
    if quick:
        opens = min(opens, 6)
    warmup = 2
    load_before = os.getloadavg()
    records: dict[str, list] = {"app": [], "bare": []}
    with dev_server("app") as app, bare_server() as bare:
        urls = {"app": app.url, "bare": bare.url}
        drivers = {name: browser(GRAPHS[name]) for name in urls}
        try:
            for index in range(warmup + opens):
                for name, driver in drivers.items():
                    record = open_once(driver, urls[name])
                    if index >= warmup:
                        records[name].append(record)
        finally:
            for driver in drivers.values():
                driver.quit()
    modes = {name: {"drawn_ms": summary([r["drawn_ms"] for r in rows]),
                    "first_request_ms": summary([r["first_request_ms"] for r in rows]),
                    "requests": sorted({r["requests"] for r in rows}),
                    "outputs": rows[-1]["outputs"]} for name, rows in records.items()}
    app_p50, bare_p50 = (modes[name]["drawn_ms"]["p50"] for name in ("app", "bare"))
    return {"benchmark": "page_open", "opens": opens, "warmup_opens": warmup,
            "quiet_s": QUIET_S, "cpus": os.cpu_count(),
            "load_average": {"before": load_before, "after": os.getloadavg()},
            "ratios": {"drawn_p50_app_over_bare": app_p50 / bare_p50},
            "modes": modes}


def report(result: dict) -> str:
    app, bare = result["modes"]["app"], result["modes"]["bare"]

    def row(label, key):
        return (f"| {label} | {app[key]['p50']:.0f} / {app[key]['p95']:.0f} ms | "
                f"{bare[key]['p50']:.0f} / {bare[key]['p95']:.0f} ms |")

    lines = [
        f"{result['opens']} openings each (after {result['warmup_opens']} not counted), "
        "alternating, warm caches; p50 / p95 from the navigation's start",
        "",
        "| | the app (default race) | a bare Dash page (one graph) |",
        "| --- | --- | --- |",
        row("drawn", "drawn_ms"),
        row("first callback request", "first_request_ms"),
        f"| callback requests | {', '.join(map(str, app['requests']))} | "
        f"{', '.join(map(str, bare['requests']))} |",
        "",
        f"drawn, p50: the app takes {result['ratios']['drawn_p50_app_over_bare']:.1f}× "
        "the bare page's time",
        "the app's requests: " + "; ".join(app["outputs"]),
        load_line(result["load_average"], result["cpus"]),
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--opens", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.opens, args.quick)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
