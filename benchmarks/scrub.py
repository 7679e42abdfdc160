"""The step scrubber in headless Chromium: playing 8 optimizers × 1000 steps, and a scrub
key press → its repaint, next to an lr-slider key press on the same page.

    python -m benchmarks.scrub [--quick] [--json PATH]

One dev server (``python app.py``), one headless Chromium on the race with all eight
optimizers × 1000 steps (rosenbrock). What is measured (the page's ``performance.now()``):

* **play**: "fit in 5 s" (200 steps/s: each frame has a new step to draw), for
  ``PLAY_SECONDS``: frames drawn per second (the scrubber's step events, each drawn in
  a ``requestAnimationFrame`` callback), the time each frame's drawing takes (paths,
  markers, loss line, leaderboard; assets/scrub.js ``render``), and the gaps between
  drawn frames (p50/p95; a dropped frame is a gap of ~33 ms at 60 Hz).
* **scrub key**: → on the page (focus outside any control): keydown (a capturing
  listener) → the first ``requestAnimationFrame`` after the step is drawn, p50/p95.
* **lr key**: the lr slider's key press → repainted paths, on this same page, measured
  by benchmarks/browser_latency.py's own page instrumentation (``move``): a race update
  through the server, for comparison.
* **requests** sent while playing and scrubbing (should be none).

Nothing asserts a time; ``make bench`` reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from selenium.webdriver.common.keys import Keys

from benchmarks import browser_latency
from benchmarks.harness import dev_server, load_line, summary
from layouts import ids

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "nadam", "rmsprop", "adagrad")
STEPS = 1000
QUERY = f"/?surface=rosenbrock&optimizers={','.join(OPTIMIZERS)}&steps={STEPS}"
PLAY_SECONDS = 5.0
SCRUB_KEYS = 60
LR_KEYS = 20
PAUSE = 0.05

INSTALL_JS = r"""
if (window.__scrubBench) return true;
const S = window.__scrubBench = {frames: [], renders: [], key: null, keyFrames: []};
document.addEventListener('optimizer-race-step', function (event) {
  const now = performance.now();
  S.frames.push(now);
  S.renders.push(event.detail.ms);  // the time its drawing took
  if (S.key !== null) {
    const pressed = S.key;
    S.key = null;
    requestAnimationFrame(function () { S.keyFrames.push(performance.now() - pressed); });
  }
});
window.addEventListener('keydown', function (event) {
  if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') S.key = performance.now();
}, true);
S.requests = function () {
  return performance.getEntriesByType('resource')
    .filter(e => e.name.indexOf('_dash-update-component') >= 0).length;
};
return true;
"""


def open_page(driver, url: str) -> None:
    driver.get(url + QUERY)
    drawn = ("const s = window.optimizerRaceScrub; return s && s.data && "
             f"s.data.runs.length === {len(OPTIMIZERS)} && s.data.steps === {STEPS}")
    browser_latency.wait_until(lambda: driver.execute_script(drawn), 120,
                               "the race was not drawn")
    time.sleep(1.0)
    driver.execute_script(INSTALL_JS)
    driver.execute_script("performance.setResourceTimingBufferSize(100000)")


def play(driver, seconds: float) -> dict:
    driver.execute_script(
        "const s = document.getElementById(arguments[0]); s.value = 'fit';"
        "window.optimizerRaceScrub.setStep(0, false);"
        "window.__scrubBench.frames = []; window.__scrubBench.renders = [];",
        ids.PLAY_SPEED)
    before = driver.execute_script("return window.__scrubBench.requests()")
    driver.execute_script("document.activeElement && document.activeElement.blur();"
                          "document.getElementById(arguments[0]).click()", ids.PLAY_BUTTON)
    time.sleep(seconds)
    driver.execute_script("if (window.optimizerRaceScrub.playing)"
                          " document.getElementById(arguments[0]).click()", ids.PLAY_BUTTON)
    data = driver.execute_script("const S = window.__scrubBench;"
                                 "return {frames: S.frames, renders: S.renders,"
                                 " requests: S.requests()}")
    frames = data["frames"]
    gaps = [b - a for a, b in zip(frames, frames[1:], strict=False)]
    span_s = (frames[-1] - frames[0]) / 1000 if len(frames) > 1 else None
    return {"frames": len(frames), "fps": (len(frames) - 1) / span_s if span_s else None,
            "frame_gap_ms": summary(gaps), "render_ms": summary(data["renders"]),
            "requests": data["requests"] - before}


def scrub_keys(driver, presses: int) -> dict:
    driver.execute_script("window.optimizerRaceScrub.setStep(500, false);"
                          "window.__scrubBench.keyFrames = [];")
    before = driver.execute_script("return window.__scrubBench.requests()")
    body = driver.find_element("css selector", "body")
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    for i in range(presses):
        body.send_keys(Keys.ARROW_RIGHT if i % 2 == 0 else Keys.ARROW_LEFT)
        time.sleep(PAUSE)
    time.sleep(0.2)
    data = driver.execute_script("const S = window.__scrubBench;"
                                 "return {keys: S.keyFrames, requests: S.requests()}")
    return {"latency_ms": summary(data["keys"]), "requests": data["requests"] - before}


def lr_keys(driver, presses: int) -> dict:
    """The lr slider's key press → repainted paths (browser_latency's instrumentation)."""
    driver.execute_script("window.optimizerRaceScrub.setStep(1000, false)")
    driver.execute_script(browser_latency.INSTALL_JS)
    records = []
    for i in range(presses):
        key = Keys.ARROW_RIGHT if i < presses // 2 else Keys.ARROW_LEFT
        records.append(browser_latency.measure_move(browser_latency.move(driver, key, i)))
        time.sleep(browser_latency.PAUSE)
    good = [r["latency_ms"] for r in records if not r["timed_out"]]
    return {"latency_ms": summary(good), "failures": len(records) - len(good)}


def store_bytes() -> int:
    """The scrub store's JSON for this race: what each race update adds to its answer."""
    from layouts.figures import scrub_data
    from settings import from_query

    settings, _ = from_query(QUERY.lstrip("/"))
    return len(json.dumps(scrub_data(settings.simulate()), separators=(",", ":")))


def run(quick: bool = False) -> dict:
    load_before = os.getloadavg()
    with dev_server("scrub") as server:
        driver = browser_latency.start_browser()
        try:
            open_page(driver, server.url)
            play(driver, 1.0)  # warm-up
            played = play(driver, 2.0 if quick else PLAY_SECONDS)
            keys = scrub_keys(driver, 20 if quick else SCRUB_KEYS)
            slider = lr_keys(driver, 6 if quick else LR_KEYS)
            browser = driver.capabilities.get("browserVersion")
        finally:
            driver.quit()
    return {"benchmark": "scrub", "query": QUERY, "store_bytes": store_bytes(),
            "optimizers": len(OPTIMIZERS), "steps": STEPS, "play": played,
            "scrub_key": keys, "lr_key": slider,
            "browser": browser, "cpus": os.cpu_count(),
            "load_average": {"before": load_before, "after": os.getloadavg()}}


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def report(result: dict) -> str:
    p, k, s = result["play"], result["scrub_key"], result["lr_key"]
    fps = "—" if p["fps"] is None else f"{p['fps']:.1f}"
    lines = [f"Step scrubber: {result['optimizers']} optimizers × {result['steps']} steps, "
             f"headless Chromium {result['browser']}",
             f"play (fit in 5 s): {fps} frames/s drawn ({p['frames']} frames); drawing a "
             f"frame p50 {_ms(p['render_ms']['p50'])} ms, p95 {_ms(p['render_ms']['p95'])} ms;"
             f" gap between frames p50 {_ms(p['frame_gap_ms']['p50'])} ms, p95 "
             f"{_ms(p['frame_gap_ms']['p95'])} ms; requests {p['requests']}",
             f"scrub key → repaint: p50 {_ms(k['latency_ms']['p50'])} ms, p95 "
             f"{_ms(k['latency_ms']['p95'])} ms (n {k['latency_ms']['n']}); requests "
             f"{k['requests']}",
             f"lr slider key → repaint, same page: p50 {_ms(s['latency_ms']['p50'])} ms, p95 "
             f"{_ms(s['latency_ms']['p95'])} ms (n {s['latency_ms']['n']}, failures "
             f"{s['failures']})",
             f"scrub store per race: {result['store_bytes'] / 1024:.0f} KB of JSON "
             "(float32, base64; before compression)"]
    lines.append(load_line(result["load_average"], result["cpus"]))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
