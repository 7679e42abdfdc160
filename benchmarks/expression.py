"""Expression benchmarks: the typed surface's tape against the hand-written surface.

    python -m benchmarks --only expression [--quick]

- value + gradient: Rosenbrock typed as text, evaluated at 10⁶ points by the compiled
  tape (``expression.run_program``, what a race kernel calls per step), against
  ``surfaces.rosenbrock_value`` and ``rosenbrock_grad`` compiled by numba in the same
  loop; and the twelve-term Goldstein–Price for scale.
- map: f on a 256² grid by the NumPy path (``expression.evaluate``), against
  ``Surface.grid`` of the built-in Rosenbrock.
- parse: parse + exact derivatives + programs, for typical expressions and for the
  slowest inputs that parse or fail (budget: 50 ms each).

Times are the best of several repeats; ratios compare numbers measured in the same run.
"""

from __future__ import annotations

import contextlib
import time

import numba
import numpy as np

from benchmarks.harness import best_of
from optim_core import _kernels, surfaces
from optim_core.expression import ExpressionError, evaluate, parse

POINTS = 1_000_000
GRID = 256
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
GOLDSTEIN_PRICE = ("(1 + (x + y + 1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2))"
                   "*(30 + (2*x - 3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))")
TYPICAL = {"rosenbrock": ROSENBROCK, "goldstein_price": GOLDSTEIN_PRICE,
           "ackley": "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + "
                     "cos(2*pi*y))) + e + 20"}
SLOWEST = {  # the largest inputs that parse, and hostile ones that do not
    "quotient chain (499 chars)": "x/" * 249 + "y",
    "product chain (497 chars)": "x*y*" * 124 + "x",
    "nested calls": "sin(cos(" * 24 + "x*y" + "))" * 24,
    "nested quotients": "1/(x+" * 49 + "y" + ")" * 49,
    "tower of 50": "x^y^" * 24 + "x",
    "1 MB string": "x" * 1_000_000,
    "10,000 nested parentheses": "(" * 10_000 + "x" + ")" * 10_000,
    "51 nested parentheses": "(" * 51 + "x" + ")" * 51,
    "9^9^9": "9^9^9",
    "__import__('os')": "__import__('os')",
}


def _hand_written():
    from optim_core import _kernels  # noqa: F401  (registers the surface functions)

    value, grad = surfaces.rosenbrock_value, surfaces.rosenbrock_grad

    @numba.njit
    def rosenbrock_points(xs, ys):
        out = np.empty((xs.shape[0], 3))
        for i in range(xs.shape[0]):
            out[i, 0] = value(xs[i], ys[i])
            out[i, 1], out[i, 2] = grad(xs[i], ys[i])
        return out

    return rosenbrock_points


def tape_benchmark(quick: bool) -> dict:
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-2, 2, POINTS), rng.uniform(-1, 3, POINTS)
    tape = _kernels.evaluate_points_kernel
    hand = _hand_written()
    rows = {}
    for name, text in (("rosenbrock", ROSENBROCK), ("goldstein_price", GOLDSTEIN_PRICE)):
        program = parse(text).grad_program
        arguments = (program.ops, program.first, program.second, program.outputs,
                     program.initial_slots(), xs, ys)
        tape(*arguments)  # compiled and cached
        seconds, _ = best_of(lambda a=arguments: tape(*a), repeats)
        rows[name] = {"instructions": int(program.ops.size),
                      "ns_per_point": seconds / POINTS * 1e9}
    hand(xs, ys)
    seconds, _ = best_of(lambda: hand(xs, ys), repeats)
    rows["rosenbrock"]["hand_written_ns_per_point"] = seconds / POINTS * 1e9
    rows["rosenbrock"]["ratio"] = (rows["rosenbrock"]["ns_per_point"]
                                   / rows["rosenbrock"]["hand_written_ns_per_point"])
    return rows


def map_benchmark(quick: bool) -> dict:
    repeats = 3 if quick else 7
    surface = surfaces.get_surface("rosenbrock")
    (x0, x1), (y0, y1) = surface.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    program = parse(ROSENBROCK).value_program
    typed, _ = best_of(lambda: evaluate(program, gx, gy), repeats)
    built_in, _ = best_of(lambda: surface.grid(GRID), repeats)
    ackley = parse(TYPICAL["ackley"]).value_program
    transcendental, _ = best_of(lambda: evaluate(ackley, gx, gy), repeats)
    return {"grid": f"{GRID}x{GRID}", "typed_ms": typed * 1e3, "built_in_ms": built_in * 1e3,
            "ratio": typed / built_in, "ackley_ms": transcendental * 1e3}


def _parse_seconds(text: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(ExpressionError):  # the hostile ones fail, as they should
        parse(text)
    return time.perf_counter() - started


def parse_benchmark(quick: bool) -> dict:
    repeats = 3 if quick else 10
    rows = {}
    for name, text in {**TYPICAL, **SLOWEST}.items():
        rows[name] = min(_parse_seconds(text) for _ in range(repeats)) * 1e3
    return {"ms": rows, "budget_ms": 50.0}


def run(quick: bool = False) -> dict:
    return {"tape": tape_benchmark(quick), "map": map_benchmark(quick),
            "parse": parse_benchmark(quick)}


def report(result: dict) -> str:
    tape, grid, parsing = result["tape"], result["map"], result["parse"]
    rosenbrock = tape["rosenbrock"]
    lines = [f"Value + gradient at {POINTS:,} points, compiled (numba):",
             f"- Rosenbrock typed ({rosenbrock['instructions']} instructions): "
             f"{rosenbrock['ns_per_point']:.1f} ns a point, against "
             f"{rosenbrock['hand_written_ns_per_point']:.1f} ns hand-written "
             f"({rosenbrock['ratio']:.1f}× slower)",
             f"- Goldstein–Price typed ({tape['goldstein_price']['instructions']} "
             f"instructions): {tape['goldstein_price']['ns_per_point']:.1f} ns a point",
             "", f"Map image, f on a {grid['grid']} grid (NumPy path):",
             f"- Rosenbrock typed {grid['typed_ms']:.2f} ms, built-in {grid['built_in_ms']:.2f} "
             f"ms ({grid['ratio']:.1f}×); Ackley typed {grid['ackley_ms']:.1f} ms",
             "", f"Parse + derivatives + programs (budget {parsing['budget_ms']:g} ms):",
             "| input | ms |", "|---|---|"]
    for name, ms in parsing["ms"].items():
        verdict = "PASS" if ms <= parsing["budget_ms"] else "MISS"
        lines.append(f"| {name} | {ms:.2f} {verdict} |")
    return "\n".join(lines)
