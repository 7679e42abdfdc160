"""The classic test functions and the typed surface ``custom``, in the engine.

Trajectories are checked against tests/fixtures/surfaces_reference.json, made by torch
2.13.0 with autograd on the functions written in torch from their formulas
(tests/fixtures/make_surfaces_reference.py), to 1e-10 relative on both engine paths.
"""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from optim_core import surfaces, theory
from optim_core.expression import ExpressionError
from optim_core.params import CONSTRAINTS, InvalidParameterError
from optim_core.simulate import Run
from tests.torch_reference import assert_matches, simulate_case

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "surfaces_reference.json").read_text())
CASES = FIXTURE["cases"]
TEST_FUNCTIONS = [entry.name for entry in surfaces.TABLE]


def test_the_fixture_covers_every_test_function_and_cut_typed_runs():
    assert FIXTURE["dtype"] == "float64" and FIXTURE["torch_version"].startswith("2.13.0")
    assert {c["surface"] for c in CASES} == set(TEST_FUNCTIONS) | {"custom"}
    typed = [c for c in CASES if c["surface"] == "custom"]
    assert sum(c["diverged_at"] is not None for c in typed) >= 2
    used = " ".join(c["f"] for c in typed)
    for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh",
                 "atan", "^", "/"):
        assert name in used


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_matches_torch_autograd(case, backend):
    assert_matches(simulate_case(case, backend), case)


@pytest.mark.parametrize("name", [*TEST_FUNCTIONS, "custom"])
def test_both_paths_are_bit_identical_on_programs(name):
    f = "sin(3*x)*exp(-y^2/4) + 0.1*(x^2 + y^2) + sqrt(1 + x^2)" if name == "custom" else None
    a, b = (oc.simulate(name, list(oc.OPTIMIZERS), steps=120, lr=0.01, f=f, backend=backend)
            for backend in ("numpy", "numba"))
    for ours, theirs in zip(a.runs, b.runs, strict=True):
        assert ours.diverged_at == theirs.diverged_at
        np.testing.assert_array_equal(ours.params, theirs.params)
        np.testing.assert_array_equal(ours.loss, theirs.loss)
        np.testing.assert_array_equal(ours.grads, theirs.grads)


# --- minima, found numerically and checked on a finer grid ------------------------------

GLOBAL_MINIMA = {"himmelblau": 4, "six_hump_camel": 2}  # every other: one


@pytest.mark.parametrize("name", TEST_FUNCTIONS)
def test_every_global_minimum_is_listed_and_is_one(name):
    s = oc.get_surface(name)
    assert len(s.minima) == GLOBAL_MINIMA.get(name, 1)
    # nothing on a 601² grid is lower, and polishing that grid's lowest local minima
    # finds the same set of global minima
    (x0, x1), (y0, y1) = s.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, 601), np.linspace(y0, y1, 601))
    z = s.value(gx, gy) if name != "ackley" else s.map_value(gx, gy)
    assert z.min() >= s.f_min - 1e-9 * max(1.0, abs(s.f_min))
    rows, cols = z.shape
    padded = np.pad(z, 1, constant_values=np.inf)
    low = np.min([padded[1 + i:1 + i + rows, 1 + j:1 + j + cols]
                  for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)], axis=0)
    local = z <= low
    order = np.argsort(z[local])[:40]
    polished = surfaces._newton(s.expression, np.stack([gx[local][order],
                                                        gy[local][order]], axis=1))
    values = s.value(polished[:, 0], polished[:, 1])
    lowest = polished[values <= s.f_min + 1e-9 * max(1.0, abs(s.f_min))]
    span = max(x1 - x0, y1 - y0)
    for point in lowest:
        assert min(math.dist(point, m) for m in s.minima) < 1e-4 * span
    for m in s.minima:
        assert s.value(*m) == pytest.approx(s.f_min, abs=1e-12)
        gx_, gy_ = s.grad(*m)
        if name != "ackley":  # its minimum is a cusp: the gradient is NaN there
            assert abs(gx_) < 1e-8 and abs(gy_) < 1e-8
            hxx, hxy, hyy = s.hessian(*m)
            assert hxx > 0 and hxx * hyy - hxy**2 > 0


@pytest.mark.parametrize("name", TEST_FUNCTIONS)
def test_each_test_function_is_one_table_entry_with_a_start_in_its_window(name):
    s = oc.get_surface(name)
    (x0, x1), (y0, y1) = s.window
    assert x0 < s.default_start[0] < x1 and y0 < s.default_start[1] < y1
    assert s.group == "test functions" and s.preset is not None and s.preset.text
    assert s.code == surfaces.PROGRAM and s.expression is not None
    assert s.quadratic == (name in ("booth", "matyas"))
    lo, hi = s.lr_range
    assert 0 < lo < hi


def test_the_surface_names_come_from_the_table():
    from optim_core import params

    assert ("ravine", "rosenbrock", "saddle", "regression", *TEST_FUNCTIONS) == oc.SURFACES
    assert (*oc.SURFACES, "custom") == params.SURFACE_NAMES
    assert CONSTRAINTS["surface"].values == params.SURFACE_NAMES
    groups = [oc.get_surface(name).group for name in oc.SURFACES]
    assert groups == ["teaching"] * 4 + ["test functions"] * len(TEST_FUNCTIONS)
    assert surfaces.GROUPS == ("teaching", "test functions", "your own")


def test_the_app_presets_are_the_tables_and_the_teaching_four_are_unchanged():
    from settings import PRESETS

    assert tuple(PRESETS) == (*oc.SURFACES, "custom")  # the typed surface's: settings.py
    assert all(PRESETS[name] is oc.get_surface(name).preset for name in oc.SURFACES)
    four = {name: (p.lr, p.momentum, p.steps, p.overrides["adam"]["lr"],
                   p.overrides["rmsprop"]["lr"], p.overrides["adagrad"]["lr"], p.points,
                   p.batch_size) for name, p in PRESETS.items()}
    assert four["ravine"] == (0.065, 0.2, 150, 0.5, 0.15, 1.5, None, None)
    assert four["rosenbrock"] == (0.0015, 0.9, 1000, 0.05, 0.01, 0.5, None, None)
    assert four["saddle"] == (0.1, 0.8, 150, 0.1, 0.03, 0.3, None, None)
    assert four["regression"] == (0.05, 0.8, 200, 0.1, 0.03, 0.5, 50, 10)


# --- the first races say what they show ------------------------------------------------


def _board(name):
    from settings import RaceSettings

    race = RaceSettings.preset(name).simulate()
    assert [r.optimizer for r in race.runs] == ["sgd", "momentum", "nesterov", "adam"]
    return ({r.optimizer: r for r in race.runs},
            {s.optimizer: s for s in oc.leaderboard(race)}, race.surface)


def _near(run, point, within=0.05):
    return math.dist(run.params[-1], point) < within


def _converged(board):
    return sorted(name for name, s in board.items() if s.status == "converged")


def test_each_test_functions_text_says_what_its_first_race_shows():
    from layouts.race import default_race_text

    runs, board, s = _board("beale")
    assert _converged(board) == ["adam", "momentum", "nesterov"]
    assert max(board["momentum"].steps_to_tolerance, board["nesterov"].steps_to_tolerance) \
        < board["adam"].steps_to_tolerance

    runs, board, s = _board("himmelblau")
    ends = {name: min(s.minima, key=lambda m: math.dist(run.params[-1], m))
            for name, run in runs.items()}
    assert _converged(board) == ["adam", "momentum", "nesterov", "sgd"]
    assert ends["sgd"] == ends["momentum"] == ends["nesterov"] != ends["adam"]
    assert _near(runs["sgd"], (-3.78, -3.28)) and _near(runs["adam"], (-2.81, 3.13))

    for name in ("booth", "matyas"):
        runs, board, s = _board(name)
        hits = {n: b.steps_to_tolerance for n, b in board.items()}
        assert hits["momentum"] < hits["sgd"] / 2
        if name == "booth":
            assert None not in hits.values()
        else:
            assert hits["nesterov"] < hits["sgd"] / 2 and hits["adam"] is None

    runs, board, s = _board("three_hump_camel")
    assert _converged(board) == ["adam", "momentum"]

    runs, board, s = _board("six_hump_camel")
    assert _converged(board) == ["momentum", "nesterov"]
    assert board["sgd"].status == "still moving"
    assert board["adam"].final_gap > 0.5 and np.linalg.norm(runs["adam"].grads[-1]) < 1e-3

    runs, board, s = _board("goldstein_price")
    assert _converged(board) == ["momentum"]
    assert _near(runs["sgd"], (-0.6, -0.4)) and _near(runs["nesterov"], (1.2, 0.8))
    assert _near(runs["adam"], (-0.6, -0.4), within=0.1)

    runs, board, s = _board("rastrigin")
    assert _converged(board) == []
    gaps = {n: b.final_gap for n, b in board.items()}
    assert gaps["sgd"] > gaps["momentum"] > gaps["adam"]
    ends = np.array([run.params[-1] for run in runs.values()])
    settled = surfaces._newton(s.expression, ends)  # the local minimum each is in
    assert np.max(np.abs(settled - ends)) < 0.01 and np.min(np.abs(settled).max(axis=1)) > 0.9

    runs, board, s = _board("ackley")
    assert _converged(board) == []
    assert _near(runs["adam"], s.default_start, within=0.1)
    assert all(not _near(run, s.default_start, within=0.5) for name, run in runs.items()
               if name != "adam")

    runs, board, s = _board("styblinski_tang")
    assert _converged(board) == ["momentum", "nesterov"]
    assert _near(runs["sgd"], (2.75, 2.75)) and _near(runs["adam"], (2.75, 2.75))

    runs, board, s = _board("mccormick")
    assert _converged(board) == ["momentum", "nesterov"]
    assert board["adam"].final_gap > board["sgd"].final_gap > 1e-6

    runs, board, s = _board("levi13")
    assert _converged(board) == ["momentum"]
    assert board["adam"].final_gap > max(board["sgd"].final_gap, board["nesterov"].final_gap)

    assert "own lr 0.1" in default_race_text("levi13")  # formatted from the preset


# --- custom: your own f(x, y) -----------------------------------------------------------


def test_a_custom_surface_is_a_surface_everywhere():
    s = oc.get_surface("custom", f="(x - 1)^2 + 10*(y + 2)^2")
    assert s.name == "custom" and s.f == "(x - 1)^2 + 10*(y + 2)^2"
    assert s.minima == ((1.0, -2.0),) and s.f_min == 0.0 and s.minimum_found
    assert s.quadratic and s.group == "your own" and s.code == surfaces.PROGRAM
    (x0, x1), (y0, y1) = s.window
    for x, y in (s.default_start, s.minima[0]):
        assert x0 < x < x1 and y0 < y < y1
    again = oc.get_surface(*s.key)  # the map image code rebuilds surfaces by key
    assert (again.window, again.minima, again.default_start) == (s.window, s.minima,
                                                                  s.default_start)
    race = oc.simulate(s, ["sgd", "momentum"], lr=0.05, momentum=0.5, steps=200)
    assert all(r.loss[-1] < 1e-12 for r in race.runs)
    from optim_core.sweep import sweep

    result = sweep(s, "momentum", resolution=4, steps=50)
    numpy = sweep(s, "momentum", resolution=4, steps=50, backend="numpy")
    np.testing.assert_array_equal(result.final_loss, numpy.final_loss)
    assert np.isfinite(result.final_loss).all()


def test_a_given_window_is_kept_and_the_minimum_looked_for_in_it():
    s = oc.get_surface("custom", f="(x^2 - 1)^2 + y^2", window=(0.0, 3.0, -1.0, 1.0))
    assert s.window == ((0.0, 3.0), (-1.0, 1.0)) and s.given_window == (0.0, 3.0, -1.0, 1.0)
    assert s.minima == ((1.0, 0.0),)  # (-1, 0) is outside
    both = oc.get_surface("custom", f="(x^2 - 1)^2 + y^2")
    assert both.minima == ((-1.0, 0.0), (1.0, 0.0))
    x, y = s.default_start
    assert 0 < x < 3 and -1 < y < 1


def test_the_default_start_is_where_f_is_finite():
    s = oc.get_surface("custom", f="log(x) + y^2")  # no minimum: log falls forever
    assert not s.minimum_found and "No minimum found" in s.description
    assert all(np.isfinite(v) for v in (s.value(*s.default_start), *s.grad(*s.default_start)))
    z = s.map_value(*np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-1, 1, 5)))
    assert np.isfinite(z).all()  # where log is NaN the map shows its highest value
    assert z.max() == pytest.approx(s.value(2.0, 1.0))


def test_an_f_finite_nowhere_in_the_window_is_refused():
    with pytest.raises(ExpressionError, match="not a finite number anywhere") as caught:
        oc.get_surface("custom", f="sqrt(-1 - x^2) + y")
    assert caught.value.parameter == "f"
    with pytest.raises(ExpressionError, match="anywhere in the window"):
        oc.get_surface("custom", f="log(x) + y", window=(-3.0, -1.0, 0.0, 1.0))


def test_a_plateau_lists_a_few_minima_and_races():
    s = oc.get_surface("custom", f="exp(x)*0 + 1")
    assert 1 <= len(s.minima) <= surfaces.MAX_MINIMA and s.f_min == 1.0
    race = oc.simulate(s, ["sgd", "adam"], steps=20, lr=0.1)
    assert all(np.all(run.params == run.params[0]) for run in race.runs)


def test_the_map_values_equal_the_race_values_up_to_rounding():
    s = oc.get_surface("ackley")
    x, y = np.meshgrid(np.linspace(-5, 5, 41), np.linspace(-5, 5, 41))
    np.testing.assert_allclose(s.map_value(x, y), s.value(x, y), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_non_finite_gradient_cuts_the_run(backend):
    race = oc.simulate("custom", ["sgd", Run("adam", {"lr": 0.01})], f="sqrt(x) + y^2",
                       start=(1.0, 1.0), lr=0.8, steps=30, backend=backend)
    sgd, adam = race.runs
    assert sgd.diverged_at == 3 and len(sgd.loss) == 3  # x = 0.6, 0.084, then below 0
    assert np.isfinite(sgd.params).all() and adam.diverged_at is None


@pytest.mark.parametrize("text, column", [("2x + y", 2), ("x + z", 5), ("sin(x", None),
                                          ("__import__('os')", 1)])
def test_a_bad_expression_names_f_and_the_column(text, column):
    with pytest.raises(ExpressionError) as caught:
        oc.get_surface("custom", f=text)
    error = caught.value
    assert isinstance(error, InvalidParameterError) and error.parameter == "f"
    if column is not None:
        assert error.column == column
    with pytest.raises(ExpressionError):
        oc.simulate("custom", ["sgd"], f=text)


def test_custom_options_are_checked():
    with pytest.raises(ExpressionError, match="missing"):
        oc.get_surface("custom")
    with pytest.raises(InvalidParameterError) as caught:
        oc.get_surface("beale", f="x")
    assert caught.value.parameter == "f"
    for window in ((0, 1, 0), (1, 0, 0, 1), (0, 1, 0, math.inf), (0, 1, 0, 1e5), "0 1 0 1",
                   (0, 1, 0, True)):
        with pytest.raises(InvalidParameterError) as caught:
            oc.get_surface("custom", f="x^2 + y^2", window=window)
        assert caught.value.parameter == "window"
    with pytest.raises(InvalidParameterError) as caught:
        oc.get_surface("ravine", window=(0, 1, 0, 1))
    assert caught.value.parameter == "window"


def test_the_csv_carries_the_expression():
    from optim_core.export import race_to_csv, read_race_csv
    from optim_core.sweep import sweep, sweep_to_csv

    race = oc.simulate("custom", ["sgd"], f="x^2 + 3*y^2", lr=0.1, steps=3)
    table = read_race_csv(io.StringIO(race_to_csv(race)))
    assert set(table["f"]) == {"x^2 + 3*y^2"} and set(table["surface"]) == {"custom"}
    named = read_race_csv(io.StringIO(race_to_csv(oc.simulate(
        "beale", ["sgd"], lr=0.001, steps=2))))
    assert named["f"].isna().all()
    text = sweep_to_csv(sweep("custom", "momentum", f="x^2 + 3*y^2", resolution=2, steps=5))
    header, first = text.splitlines()[:2]
    assert first.split(",")[header.split(",").index("f")] == "x^2 + 3*y^2"


# --- theory on custom: at the point the runs approach ------------------------------------


def test_theory_takes_the_hessian_where_the_runs_go():
    f = "(x^2 - 1)^2 + 3*y^2"  # minima at (±1, 0): Hessian diag(8, 6) there
    race = oc.simulate("custom", ["sgd", "momentum"], f=f, start=(0.5, 1.0), lr=0.02,
                       steps=400)
    r = theory.readout(race.surface, 0.02, 0.9, race.runs, [None, None])
    assert r.at == pytest.approx((1.0, 0.0), abs=1e-6)
    assert (r.curvature.L, r.curvature.m) == pytest.approx((8.0, 6.0), rel=1e-6)
    assert r.polyak is None and r.polyak_note == theory.NOT_A_QUADRATIC
    left = oc.simulate("custom", ["sgd"], f=f, start=(-0.5, 1.0), lr=0.02, steps=400)
    assert theory.readout(left.surface, 0.02, 0.9, left.runs).at == pytest.approx(
        (-1.0, 0.0), abs=1e-6)


def test_theory_on_a_typed_quadratic_is_exact_and_shows_polyak():
    s = oc.get_surface("custom", f="0.5*(x^2 + 25*y^2)")
    r = theory.readout(s, 0.02, 0.9)
    assert r.curvature.exact and r.curvature.kappa == pytest.approx(25.0)
    ravine = theory.readout(oc.get_surface("ravine"), 0.02, 0.9)
    assert r.polyak == pytest.approx(ravine.polyak) and r.polyak_note == ""


def test_theory_without_positive_curvature_has_no_limits():
    s = oc.get_surface("custom", f="x + y", window=(-1.0, 1.0, -1.0, 1.0))
    r = theory.readout(s, 0.1, 0.5)
    assert r.limits == () and r.polyak is None and r.polyak_note == theory.NO_MINIMUM


# --- the command line ---------------------------------------------------------------------


def cli(*args):
    return subprocess.run([sys.executable, "-m", "optim_core", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_the_cli_races_a_typed_surface_and_names_a_bad_one():
    result = cli("run", "--surface", "custom", "--f", "x^2 + 10*y^2", "--window", "-3", "3",
                 "-3", "3", "--optimizer", "sgd", "--steps", "2", "--lr", "0.05")
    assert result.returncode == 0, result.stderr
    header, first = result.stdout.splitlines()[:2]
    assert first.split(",")[header.split(",").index("f")] == "x^2 + 10*y^2"
    for args, message in (
            (("--surface", "custom", "--f", "2x"),
             "--f is not a valid expression: implicit multiplication at column 2"),
            (("--surface", "custom"), "--surface custom needs --f"),
            (("--surface", "beale", "--f", "x"), "--f applies to --surface custom only"),
            (("--surface", "custom", "--f", "x", "--window", "1", "0", "0", "1"),
             "--window takes four numbers")):
        result = cli("run", *args)
        assert result.returncode == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_cli_lists_every_surface_with_formula_start_and_minima():
    result = cli("surfaces")
    assert result.returncode == 0
    for name in oc.SURFACES:
        s = oc.get_surface(name)
        assert f"{name}: {s.formula}" in result.stdout
    assert "(3.58443, -1.84813)" in result.stdout  # Himmelblau's fourth minimum
    assert "--surface custom --f EXPR" in result.stdout
    theory_out = cli("theory", "--surface", "custom", "--f", "sin(x) + y^2")
    assert theory_out.returncode == 0 and "not a quadratic" in theory_out.stdout


def test_a_start_typed_off_the_map_widens_a_window_from_f_and_a_click_inside_does_not():
    surface = oc.get_surface("custom", f="(x - 3)^2 + 10*(y + 1)^2")
    (x0, x1), (y0, y1) = surface.window
    inside = ((x0 + x1) / 2, (y0 + y1) / 2)
    assert surfaces.covering(surface, inside) is surface
    wide = surfaces.covering(surface, (40.0, -2.0))
    (wx0, wx1), (wy0, wy1) = wide.window
    assert wx0 < 3 < 40 < wx1 and wy0 < -2 < wy1  # the start and the minimum both show
    assert wide.minima == surface.minima and wide.f_min == surface.f_min
    given = oc.get_surface("custom", f="x^2 + y^2", window=(-1, 1, -1, 1))
    assert surfaces.covering(given, (40.0, -2.0)) is given  # the user's window is kept
    ravine = oc.get_surface("ravine")
    assert surfaces.covering(ravine, (1e3, 1e3)) is ravine


def test_the_start_and_window_boxes_show_what_a_typed_f_gives():
    from settings import RaceSettings, custom_placeholders

    f = "(x - 3)^2 + 10*(y + 1)^2"
    surface = oc.get_surface("custom", f=f)
    shown = custom_placeholders(f, None, None, None)
    assert shown["x0"] == f"{surface.default_start[0]:g}"
    assert shown["y0"] == f"{surface.default_start[1]:g}"
    (x0, x1), (y0, y1) = surface.window
    assert shown["window"] == f"from f: {x0:.3g}, {x1:.3g}, {y0:.3g}, {y1:.3g}"
    far = custom_placeholders(f, "", "40", None)  # a start typed off the map
    (x0, x1), _ = RaceSettings(surface="custom", f=f, x0=40.0).surface_object().window
    assert far["window"].startswith(f"from f: {x0:.3g}, {x1:.3g}, ")
    assert custom_placeholders("2x", None, None, None) is None  # the race names the error
    assert custom_placeholders(f, "1, 2", None, None) is None
    assert custom_placeholders(f, None, "abc", None) == shown  # bad text: its own message
