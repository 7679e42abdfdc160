"""L-BFGS equals torch.optim.LBFGS, and counts its evaluations as torch does.

tests/fixtures/make_lbfgs_reference.py ran torch 2.13.0 in float64, one step(closure)
per step, the closure of step k being mini-batch k's loss plus noise row k · θ. Every
case names max_iter (ours defaults to 1, torch's to 20).
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from tests.torch_reference import assert_matches, simulate_case

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "lbfgs_reference.json").read_text())
CASES = [dict(case, optimizer="lbfgs") for case in FIXTURE["cases"]]


def test_fixture_covers_surfaces_and_settings():
    teaching = {s for s in oc.SURFACES if oc.get_surface(s).group == "teaching"}
    assert {c["surface"] for c in CASES} >= teaching
    h = [c["hyperparameters"] for c in CASES]
    assert any(x.get("line_search_fn") == "strong_wolfe" for x in h)
    assert any(x.get("max_iter", 1) > 1 for x in h) and any(x.get("max_iter", 1) == 1 for x in h)
    assert {x.get("history_size", 100) for x in h} >= {1, 100}
    assert any(c.get("noise") and c.get("batch_size") for c in CASES)
    # the line search and inner iterations really evaluate more than once a step
    assert any(c["evals"][-1] > 2 * c["steps"] for c in CASES)
    assert FIXTURE["dtype"] == "float64" and FIXTURE["torch_version"].startswith("2.13.0")


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_and_evaluations_match_torch(case, backend):
    run = simulate_case(case, backend)
    assert_matches(run, case)
    assert run.evals.dtype == np.int64
    assert run.evals.tolist() == case["evals"]  # torch's state["func_evals"] after k steps


def test_defaults_are_torchs_but_max_iter():
    theirs = FIXTURE["torch_defaults"]
    ours = oc.OPTIMIZERS["lbfgs"].defaults
    assert set(ours) == set(theirs)
    assert ours["max_iter"] == 1 and theirs["max_iter"] == 20  # the documented change
    assert {k: v for k, v in ours.items() if k != "max_iter"} == {
        k: v for k, v in theirs.items() if k != "max_iter"}


def test_other_optimizers_count_one_gradient_per_step():
    race = oc.simulate("ravine", ["sgd", "adam", "lbfgs"], steps=12, lr=0.05)
    for run in race.runs[:2]:
        assert run.evals.tolist() == list(range(13))
    assert race.runs[2].evals.tolist() == list(range(13))  # max_iter 1, no line search


@pytest.mark.parametrize("bad, parameter", [
    ({"history_size": 101}, "history_size"), ({"max_iter": 0}, "max_iter"),
    ({"line_search_fn": "backtracking"}, "line_search_fn"), ({"max_eval": 0}, "max_eval")])
def test_bad_settings_name_the_parameter(bad, parameter):
    with pytest.raises(oc.InvalidParameterError) as error:
        oc.simulate("ravine", [oc.Run("lbfgs", bad)], steps=3)
    assert error.value.parameter == parameter


def test_csv_exports_evals_losslessly(tmp_path):
    from optim_core.export import race_to_csv, read_race_csv

    race = oc.simulate("rosenbrock", ["adam", oc.Run("lbfgs", {"line_search_fn": "strong_wolfe",
                                                               "max_iter": 4})], steps=6)
    frame = read_race_csv(io.StringIO(race_to_csv(race)))
    for run in race.runs:
        rows = frame[frame.optimizer == run.optimizer]
        assert rows.evals.tolist() == run.evals.tolist()
        assert rows.x.tolist() == run.params[:, 0].tolist()
    assert race.runs[1].evals[-1] > 6  # the line search's evaluations, not the steps


def test_cli_flags_reach_lbfgs_and_bad_values_exit_2_with_one_line(capsys):
    from optim_core.cli import main

    assert main(["run", "--surface", "rosenbrock", "--optimizer", "lbfgs", "--steps", "5",
                 "--line-search-fn", "strong_wolfe", "--max-iter", "3",
                 "--history-size", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, last = lines[0].split(","), lines[-1].split(",")
    race = oc.simulate("rosenbrock", [oc.Run("lbfgs", {"line_search_fn": "strong_wolfe",
                                                       "max_iter": 3, "history_size": 2})],
                       steps=5)
    assert int(last[header.index("evals")]) == race.runs[0].evals[-1]
    assert last[header.index("line_search_fn")] == "strong_wolfe"
    assert float(last[header.index("x")]) == race.runs[0].params[-1, 0]
    for flags, name in [(["--line-search-fn", "armijo"], "--line-search-fn"),
                        (["--max-iter", "0"], "--max-iter"),
                        (["--history-size", "101"], "--history-size")]:
        assert main(["run", "--optimizer", "lbfgs", *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and name in err[0]


def test_the_leaderboard_shows_each_runs_evaluations():
    from layouts.race import leaderboard_table

    race = oc.simulate("rosenbrock", ["sgd", oc.Run("lbfgs", {"line_search_fn": "strong_wolfe",
                                                              "max_iter": 3})], steps=7,
                       lr=1e-3)
    html_text = str(leaderboard_table(oc.leaderboard(race), race, {}))
    assert "f, ∇f evaluations" in html_text
    lbfgs_evals = int(race.runs[1].evals[-1])
    assert lbfgs_evals > 7 and f"'{lbfgs_evals}'" in html_text and "'7'" in html_text
