"""Engine benchmarks: the race and the sweep, as ratios against baselines run alongside.

    python -m benchmarks.engine [--quick] [--json PATH]

- race: all 8 optimizers × 1000 steps on each surface through ``simulate`` (compiled
  path), against a per-step Python loop over the same optimizers (the library's pure
  functions called once per step, as a user would script it) and, where torch imports
  (in this interpreter, or the one named by BENCH_TORCH_PYTHON), the same race scripted
  with torch.optim and autograd. Target: ≤ 5 ms per race, ≥ 100× torch.
- sweep: optimizer-steps per second of a 256 × 256 (lr, μ) grid × 500 steps on the
  ravine, against the NumPy path (on a 64² grid) and a per-cell loop (one ``simulate``
  call per cell, on 64 cells), both scaled to the grid. Target ≥ 200 M steps/s.
- sweep end to end: the same sweep, its heatmap figure and its JSON encoding.
- tune: the tuner (``optim_core.tune``) for 8 optimizers × 64 lr values (× 64 μ where the
  optimizer takes one) × 1000 steps on the ravine, against one race of the same 8 × 1000
  steps and against tuning the lr alone by racing the 8 once per lr value (64 races).
- worst requests: the largest race the app allows on every surface, through the race
  callback with its surface image not cached (time and peak traced memory; the line
  fit's image against the per-point evaluation it replaced, timed on a 160² image and
  scaled), the CSV export of the largest race, and the largest sweeps the work limit
  allows (wall and CPU time).

Times are the best of several repeats (the machine is shared and noisy); every ratio
compares numbers measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import optim_core as oc
from benchmarks.harness import best_of
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import LIMITS
from optim_core.sweep import sweep

RACE_STEPS = 1000
RACE_LR = {"ravine": 0.01, "rosenbrock": 0.001, "saddle": 0.05, "regression": 0.05}


def python_loop_race(surface_name: str) -> None:
    """The baseline: each optimizer stepped one step at a time from Python."""
    surface = oc.get_surface(surface_name)
    for name in OPTIMIZER_NAMES:
        if name == "lbfgs":  # its step calls the objective: no one-gradient update
            continue
        hyper = {"lr": RACE_LR[surface_name]}
        if "momentum" in oc.OPTIMIZERS[name].defaults:
            hyper["momentum"] = 0.9
        opt = oc.make_optimizer(name, **hyper)
        params = np.array(surface.default_start, dtype=np.float64)
        state = opt.init(params)
        path = [params]
        for _ in range(RACE_STEPS):
            gx, gy = surface.grad(params[0], params[1])
            params, state = opt.update(np.array([gx, gy]), state, params)
            path.append(params)


TORCH_SCRIPT = r"""
import json, sys, time
import torch
torch.set_default_dtype(torch.float64)
STEPS = int(sys.argv[1]); LR = json.loads(sys.argv[2])
def f(name, p):
    x, y = p[0], p[1]
    if name == "ravine": return 0.5 * (x**2 + 25.0 * y**2)
    if name == "rosenbrock": return (1 - x)**2 + 100 * (y - x**2)**2
    if name == "saddle": return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2
    d = torch.tensor([-1.414, -0.707, 0.0, 0.707, 1.414]); return torch.mean((x * d + y - d)**2)
starts = {"ravine": [6.0, 6.0], "rosenbrock": [-1.2, 1.0], "saddle": [-2.0, 0.01],
          "regression": [0.0, 0.0]}
makers = [lambda p, lr: torch.optim.SGD(p, lr=lr),
          lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
          lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
          lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.9, 0.999)),
          lambda p, lr: torch.optim.AdamW(p, lr=lr, betas=(0.9, 0.999)),
          lambda p, lr: torch.optim.NAdam(p, lr=lr, betas=(0.9, 0.999)),
          lambda p, lr: torch.optim.RMSprop(p, lr=lr, momentum=0.9),
          lambda p, lr: torch.optim.Adagrad(p, lr=lr)]
out = {}
for name in starts:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for make in makers:
            p = torch.tensor(starts[name], requires_grad=True)
            opt = make([p], LR[name]); path = [p.detach().clone()]
            for _ in range(STEPS):
                opt.zero_grad(); f(name, p).backward(); opt.step(); path.append(p.detach().clone())
        best = min(best, time.perf_counter() - t)
    out[name] = best
print(json.dumps({"version": torch.__version__, "seconds": out}))
"""


def torch_race_seconds() -> dict | None:
    """Seconds per race with torch.optim, or None when no interpreter has torch."""
    candidates = [sys.executable]
    if os.environ.get("BENCH_TORCH_PYTHON"):
        candidates.insert(0, os.environ["BENCH_TORCH_PYTHON"])
    for python in candidates:
        probe = subprocess.run([python, "-c", "import torch"], capture_output=True)
        if probe.returncode != 0:
            continue
        done = subprocess.run([python, "-c", TORCH_SCRIPT, str(RACE_STEPS), json.dumps(RACE_LR)],
                              capture_output=True, text=True, timeout=900)
        if done.returncode == 0:
            return json.loads(done.stdout)
    return None


def race_benchmark(quick: bool) -> dict:
    repeats = 5 if quick else 20
    rows = {}
    for name in RACE_LR:  # the teaching four (typed surfaces: benchmarks/expression.py)
        oc.simulate(name, OPTIMIZER_NAMES, steps=5, lr=0.01)  # compiled and cached
        fast, fast_median = best_of(lambda n=name: oc.simulate(
            n, OPTIMIZER_NAMES, steps=RACE_STEPS, lr=RACE_LR[n], momentum=0.9), repeats)
        with_state, _ = best_of(lambda n=name: oc.simulate(
            n, OPTIMIZER_NAMES, steps=RACE_STEPS, lr=RACE_LR[n], momentum=0.9, state=True),
            repeats)
        loop, _ = best_of(lambda n=name: python_loop_race(n), 2 if quick else 3)
        rows[name] = {"race_ms": fast * 1e3, "race_median_ms": fast_median * 1e3,
                      "python_loop_ms": loop * 1e3, "speedup_vs_python_loop": loop / fast,
                      "state_ms": with_state * 1e3}
    torch = None if quick else torch_race_seconds()
    if torch:
        for name, seconds in torch["seconds"].items():
            rows[name]["torch_ms"] = seconds * 1e3
            rows[name]["speedup_vs_torch"] = seconds / (rows[name]["race_ms"] / 1e3)
    return {"optimizers": len(OPTIMIZER_NAMES), "steps": RACE_STEPS, "surfaces": rows,
            "torch": torch["version"] if torch else None, "target_ms": 5.0,
            "target_speedup_vs_torch": 100.0}


def sweep_benchmark(quick: bool) -> dict:
    resolution, steps = 256, 500
    cells = resolution * resolution
    sweep("ravine", "momentum", steps=5, resolution=4)  # compiled and cached
    fast, fast_median = best_of(lambda: sweep("ravine", "momentum", steps=steps,
                                              resolution=resolution), 3 if quick else 7)
    # baselines on a sample of cells, scaled to the whole grid: the NumPy path on a
    # smaller grid (4096 cells already amortise its per-step overhead)
    sample = 32 if quick else 64
    numpy_time, _ = best_of(lambda: sweep("ravine", "momentum", steps=steps,
                                          resolution=sample, backend="numpy"), 1)
    numpy_time *= cells / sample**2
    lrs = np.logspace(-4, 0, 64)
    per_cell, _ = best_of(lambda: [oc.simulate("ravine", ["momentum"], steps=steps, lr=lr,
                                               momentum=0.9) for lr in lrs], 2)
    per_cell *= cells / len(lrs)
    total_steps = cells * steps
    return {"grid": f"{resolution}x{resolution}", "steps": steps,
            "seconds": fast, "median_seconds": fast_median,
            "steps_per_second": total_steps / fast,
            "numpy_path_seconds_scaled": numpy_time,
            "numpy_path_steps_per_second": total_steps / numpy_time,
            "per_cell_loop_seconds_scaled": per_cell,
            "per_cell_loop_steps_per_second": total_steps / per_cell,
            "speedup_vs_numpy_path": numpy_time / fast,
            "speedup_vs_per_cell_loop": per_cell / fast,
            "target_steps_per_second": 200e6}


def sweep_end_to_end(quick: bool) -> dict:
    """A 256² × 500 ravine sweep to JSON: engine, heatmap figure and encoding."""
    from dash._utils import to_json

    from layouts.sweep import sweep_figure

    def run():
        result = sweep("ravine", "momentum", steps=500, resolution=256)
        figure = sweep_figure(result, "final_loss", "light", (0.03, 0.8))
        return to_json(figure)

    payload = run()
    total, median = best_of(run, 3 if quick else 5)
    engine, _ = best_of(lambda: sweep("ravine", "momentum", steps=500, resolution=256),
                        3 if quick else 5)
    return {"seconds": total, "median_seconds": median, "engine_seconds": engine,
            "encoding_seconds": total - engine, "json_bytes": len(payload)}


TUNE_OPTIMIZERS = OPTIMIZER_NAMES[:8]
TUNE_LRS = 64


def tune_benchmark(quick: bool) -> dict:
    from optim_core.tune import tune

    surface = oc.get_surface("ravine")
    tune(surface, TUNE_OPTIMIZERS, steps=5, lr_count=4)  # compiled and cached
    cells = sum(TUNE_LRS * (TUNE_LRS if "momentum" in oc.OPTIMIZERS[o].defaults else 1)
                for o in TUNE_OPTIMIZERS)
    tuned, tuned_median = best_of(lambda: tune(surface, TUNE_OPTIMIZERS, steps=RACE_STEPS,
                                               lr_count=TUNE_LRS), 2 if quick else 5)
    race, _ = best_of(lambda: oc.simulate(surface, TUNE_OPTIMIZERS, steps=RACE_STEPS,
                                          lr=0.01, momentum=0.9), 5 if quick else 20)
    lrs = np.logspace(-4, 0, TUNE_LRS)
    by_races, _ = best_of(lambda: [oc.simulate(surface, TUNE_OPTIMIZERS, steps=RACE_STEPS,
                                               lr=lr, momentum=0.9) for lr in lrs], 1)
    return {"optimizers": len(TUNE_OPTIMIZERS), "lr_values": TUNE_LRS, "steps": RACE_STEPS,
            "cells": cells, "seconds": tuned, "median_seconds": tuned_median,
            "steps_per_second": cells * RACE_STEPS / tuned, "race_seconds": race,
            "ratio_to_one_race": tuned / race, "lr_only_by_races_seconds": by_races,
            "ratio_to_lr_only_by_races": tuned / by_races}


def largest_race(**changes) -> dict:
    """The race controls' values at the largest settings the app allows."""
    return {"surface": "ravine", "optimizers": list(OPTIMIZER_NAMES), "lr": 0.01,
            "momentum": 0.9, "steps": LIMITS["steps"], "kappa": LIMITS["kappa"],
            "noise": LIMITS["noise"], "batch_size": None, "points": None, "seed": 0,
            "x0": None, "y0": None} | changes


#: The most work a race request can ask for, per surface (the tests check their memory).
LARGEST_RACES = {
    "ravine": largest_race(),
    "rosenbrock": largest_race(surface="rosenbrock"),
    "saddle": largest_race(surface="saddle"),
    # every point per step, for the gradient and the loss; a new seed draws new data
    "regression-full-batch": largest_race(surface="regression", points=LIMITS["points"],
                                          seed=7),
    # the largest mini-batch table: batch size × (steps + 1) at its limit
    "regression-mini-batch": largest_race(
        surface="regression", points=LIMITS["points"], seed=8,
        batch_size=LIMITS["batch_entries"] // (LIMITS["steps"] + 1)),
}
#: The largest sweeps the limits allow: analytic surfaces at the largest grid (the
#: slowest optimizer and the fastest), the line fit at the work limit.
LARGEST_SWEEPS = {
    "rosenbrock-nadam-512x2000": {"surface": "rosenbrock", "optimizer": "nadam",
                                  "resolution": 512, "steps": 2000},
    "ravine-momentum-512x2000": {"surface": "ravine", "optimizer": "momentum",
                                 "resolution": 512, "steps": 2000},
    "regression-1000-full-32x976": {"surface": "regression", "optimizer": "adam",
                                    "points": 1000, "resolution": 32, "steps": 976},
    "regression-1000-batch1-44x1000": {"surface": "regression", "optimizer": "adam",
                                       "points": 1000, "batch_size": 1, "resolution": 44,
                                       "steps": 1000},
}


def per_point_image_seconds(surface, pixels: int) -> float:
    """The surface image's old line-fit evaluation: a pixels² × points array."""
    (x0, x1), (y0, y1) = surface.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, pixels), np.linspace(y1, y0, pixels))
    started = time.perf_counter()
    np.mean((gx[..., None] * surface.data_x + gy[..., None] - surface.data_y) ** 2, axis=-1)
    return time.perf_counter() - started


def worst_requests(quick: bool) -> dict:
    """The largest requests the limits allow: time and peak traced memory."""
    import tracemalloc

    from callbacks.race import update_race
    from layouts import figures
    from optim_core.export import race_to_csv
    from optim_core.params import points_per_step
    from settings import parse_controls

    update_race(largest_race(steps=10, optimizers=["sgd"]), {}, "light", None)  # warm
    races = {}
    for name, values in LARGEST_RACES.items():
        figures._surface_image.cache_clear()
        started = time.perf_counter()
        update_race(values, {}, "dark", None)
        seconds = time.perf_counter() - started
        figures._surface_image.cache_clear()
        tracemalloc.start()  # a second run: tracing slows allocations down
        update_race(values, {}, "dark", None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        settings, _ = parse_controls(values)
        surface = settings.surface_object()
        image, _ = best_of(lambda s=surface: figures._surface_image.__wrapped__(
            figures._ByKey(s), "dark", 640), 3)
        races[name] = {"seconds": seconds, "peak_mb": peak / 1e6, "image_seconds": image,
                       "points_evaluated": len(settings.optimizers) * (settings.steps + 1)
                       * points_per_step(surface.n_points, settings.batch_size)}
    surface = parse_controls(LARGEST_RACES["regression-full-batch"])[0].surface_object()
    old_image = per_point_image_seconds(surface, 160) * (640 / 160) ** 2
    settings = parse_controls(LARGEST_RACES["regression-mini-batch"])[0]
    started = time.perf_counter()
    csv_text = race_to_csv(settings.simulate())
    export = {"seconds": time.perf_counter() - started, "bytes": len(csv_text.encode()),
              "rows": csv_text.count("\n") - 1}
    sweeps = {}
    sweep("regression", "adam", points=1000, resolution=2, steps=2)  # compiled
    for name, options in LARGEST_SWEEPS.items():
        if quick and options["resolution"] == 512:
            continue
        cpu, wall = time.process_time(), time.perf_counter()
        sweep(**options)
        sweeps[name] = {"seconds": time.perf_counter() - wall,
                        "cpu_seconds": time.process_time() - cpu}
    return {"races": races, "per_point_image_seconds_scaled": old_image, "export": export,
            "sweeps": sweeps}


def run(quick: bool = False) -> dict:
    return {"race": race_benchmark(quick), "sweep": sweep_benchmark(quick),
            "sweep_end_to_end": sweep_end_to_end(quick), "tune": tune_benchmark(quick),
            "worst": worst_requests(quick)}


def report(result: dict) -> str:
    race, sw, e2e = result["race"], result["sweep"], result["sweep_end_to_end"]
    lines = [f"Race: {race['optimizers']} optimizers × {race['steps']} steps "
             f"(target ≤ {race['target_ms']:g} ms; ≥ {race['target_speedup_vs_torch']:g}× "
             "torch.optim)",
             "| surface | race (ms) | per-step Python loop (ms) | speed-up | torch.optim (ms) "
             "| speed-up vs torch |", "|---|---|---|---|---|---|"]
    for name, row in race["surfaces"].items():
        torch = (f"{row['torch_ms']:.0f} | {row['speedup_vs_torch']:.0f}×" if "torch_ms" in row
                 else "n/a | n/a")
        verdict = "PASS" if row["race_ms"] <= race["target_ms"] else "MISS"
        lines.append(f"| {name} | {row['race_ms']:.2f} {verdict} | {row['python_loop_ms']:.0f} "
                     f"| {row['speedup_vs_python_loop']:.0f}× | {torch} |")
    lines.append("- with the optimizer state recorded (state=True): " + ", ".join(
        f"{name} {row['state_ms']:.2f} ms ({row['state_ms'] / row['race_ms']:.1f}×)"
        for name, row in race["surfaces"].items()))
    verdict = "PASS" if sw["steps_per_second"] >= sw["target_steps_per_second"] else "MISS"
    lines += ["", f"Sweep: {sw['grid']} × {sw['steps']} steps, ravine, momentum "
                  f"(target ≥ {sw['target_steps_per_second'] / 1e6:.0f} M steps/s)",
              f"- compiled: {sw['seconds'] * 1e3:.0f} ms, "
              f"{sw['steps_per_second'] / 1e6:.0f} M steps/s {verdict}",
              f"- NumPy path (same numbers): {sw['numpy_path_seconds_scaled']:.1f} s, "
              f"{sw['numpy_path_steps_per_second'] / 1e6:.2f} M steps/s "
              f"({sw['speedup_vs_numpy_path']:.0f}× slower)",
              f"- per-cell loop: {sw['per_cell_loop_seconds_scaled']:.1f} s, "
              f"{sw['per_cell_loop_steps_per_second'] / 1e6:.2f} M steps/s "
              f"({sw['speedup_vs_per_cell_loop']:.0f}× slower)",
              f"- end to end with the heatmap and its JSON: {e2e['seconds'] * 1e3:.0f} ms "
              f"(engine {e2e['engine_seconds'] * 1e3:.0f} ms, figure and encoding "
              f"{e2e['encoding_seconds'] * 1e3:.0f} ms, {e2e['json_bytes'] / 1e6:.2f} MB)"]
    lines += ["", *tune_report(result["tune"])]
    worst = result["worst"]
    lines += ["", "Largest requests the limits allow (surface image not cached)",
              "| race request | time (s) | peak traced memory (MB) | image (ms) "
              "| data points evaluated |", "|---|---|---|---|---|"]
    for name, row in worst["races"].items():
        lines.append(f"| {name} | {row['seconds']:.2f} | {row['peak_mb']:.0f} "
                     f"| {row['image_seconds'] * 1e3:.0f} | {row['points_evaluated']:,} |")
    line_fit = worst["races"]["regression-full-batch"]["image_seconds"]
    export = worst["export"]
    lines += [f"- line-fit image, 1000 points: {line_fit * 1e3:.0f} ms against "
              f"{worst['per_point_image_seconds_scaled']:.1f} s evaluated point by point "
              f"({worst['per_point_image_seconds_scaled'] / line_fit:.0f}×)",
              f"- CSV export of the largest race: {export['rows']:,} rows, "
              f"{export['bytes'] / 1e6:.1f} MB in {export['seconds']:.2f} s"]
    lines += [f"- sweep {name}: {row['seconds']:.2f} s wall, {row['cpu_seconds']:.2f} s CPU"
              for name, row in worst["sweeps"].items()]
    return "\n".join(lines)


def tune_report(tuned: dict) -> list[str]:
    """The tune benchmark's lines of the report."""
    return [f"Tune: {tuned['optimizers']} optimizers × {tuned['lr_values']} lr values "
            f"(× {tuned['lr_values']} μ where taken) × {tuned['steps']} steps, ravine: "
            f"{tuned['cells']:,} cells",
            f"- tuner: {tuned['seconds']:.2f} s, {tuned['steps_per_second'] / 1e6:.0f} M "
            f"steps/s; {tuned['ratio_to_one_race']:.0f}× one {tuned['optimizers']} × "
            f"{tuned['steps']} race ({tuned['race_seconds'] * 1e3:.2f} ms)",
            f"- the lr alone by racing once per lr value ({tuned['lr_values']} races, no "
            f"μ grid): {tuned['lr_only_by_races_seconds']:.2f} s "
            f"(tuner / that: {tuned['ratio_to_lr_only_by_races']:.2f})"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.quick)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
