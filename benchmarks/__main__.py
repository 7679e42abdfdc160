"""`make bench`: every benchmark in one run, each reported against its own baseline.

    python -m benchmarks [--quick] [--only engine,expression,browser,load] [--out bench-results]

- engine: the race and the sweep against per-step and per-cell Python loops (and
  torch.optim where torch imports; set BENCH_TORCH_PYTHON to an interpreter that has it).
- expression: a typed surface's compiled tape against the hand-written Rosenbrock
  (value + gradient), its map image, and parse times against the 50 ms budget.
- browser: key press → repainted path in headless Chromium, patched paths against a
  full-figure-per-update server started in the same run.
- drag: a pointer drag of the lr slider (DevTools pointer events every 16 ms): frames of
  new paths per second and the final frame, against every move being a Dash update.
- open: the page's opening (navigation → first race drawn, callback requests), against a
  bare Dash page with one graph, opened alternately in the same run.
- scrub: the step scrubber playing 8 optimizers × 1000 steps (frames per second) and a
  scrub key press → repaint, next to an lr-slider key press on the same page.
- load: slider-drag callbacks against gunicorn with 2 workers, then one worker killed.
- slow: a probe's slider requests while 10 slow clients trickle their headers, against
  make serve and against sync workers (the baseline).

Writes bench-results/results.json and bench-results/report.md. Nothing here asserts a
time: the machines are shared, so the figures are reported, not tested.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import time
from pathlib import Path

SECTIONS = {"engine": "benchmarks.engine", "expression": "benchmarks.expression",
            "browser": "benchmarks.browser_latency", "drag": "benchmarks.drag",
            "open": "benchmarks.page_open", "scrub": "benchmarks.scrub",
            "load": "benchmarks.load",
            "slow": "benchmarks.slow_clients"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma list of: " + ", ".join(SECTIONS))
    parser.add_argument("--out", default="bench-results", type=Path)
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown benchmark {unknown[0]!r}; choose from "
                     + ", ".join(SECTIONS))
    results = {"machine": {"python": platform.python_version(), "cpu": platform.processor()
                           or platform.machine(), "started": time.strftime("%Y-%m-%d %H:%M")}}
    texts = []
    for name in chosen:
        module = importlib.import_module(SECTIONS[name])
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        result = module.run(quick=args.quick)
        text = module.report(result)
        print(text, f"\n({time.perf_counter() - started:.0f} s)\n", flush=True)
        results[name] = result
        texts.append(f"## {name}\n\n{text}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (args.out / "report.md").write_text("# make bench\n\n" + "\n".join(texts))
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
