"""The loss plot's x axis (steps or f, ∇f evaluations) and the leaderboard's count to the
tolerance on it: the figure, a slider move's curves, the drag frame, the scrubber's data,
the settings (URL ``axis=evals``) and the analysis."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import optim_core as oc
from callbacks.drag import drag_frame
from layouts import figures
from layouts.race import leaderboard_table
from optim_core.analysis import Summary, leaderboard, ranked
from settings import RaceSettings, from_query, parse_controls

# L-BFGS with three iterations a step: several evaluations of f and ∇f per step
QUERY = "?surface=ravine&optimizers=sgd,lbfgs&steps=100&lr=0.065&lbfgs.lr=1&lbfgs.max_iter=3"


def decoded(value) -> np.ndarray:
    dtype = {"f4": "<f4", "f8": "<f8"}[value["dtype"]]
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=dtype)


@pytest.fixture(scope="module")
def race():
    settings, notes = from_query(QUERY + "&axis=evals")
    assert notes == [] and settings.axis == "evals"
    return settings.simulate()


def test_the_lbfgs_race_makes_several_evaluations_a_step(race):
    sgd, lbfgs = race.runs
    assert np.array_equal(sgd.evals, np.arange(101))
    assert lbfgs.evals[-1] > 100  # else the axes would not differ


def test_the_loss_figure_draws_each_curve_against_its_evaluations(race):
    fig = figures.loss_figure(race, axis="evals")
    for trace, run in zip(fig.data, race.runs, strict=True):
        assert np.array_equal(np.asarray(trace.x), run.evals)
    assert fig.layout.xaxis.title.text == "f, ∇f evaluations"
    steps = figures.loss_figure(race)
    assert all(trace.x is None and trace.x0 == 0 and trace.dx == 1 for trace in steps.data)
    assert steps.layout.xaxis.title.text == "step"


def test_a_slider_moves_curves_carry_x_on_the_evaluations_axis_only(race):
    curves = figures.loss_curves(race, "evals")
    assert [decoded(x).tolist() for x in curves["x"]] == [run.evals.tolist()
                                                          for run in race.runs]
    assert [decoded(y).tolist() for y in curves["y"]] == \
        [decoded(y).tolist() for y in figures.loss_curves(race)["y"]]
    assert "x" not in figures.loss_curves(race)


def test_a_drag_frame_follows_the_axis_of_its_query():
    frame = drag_frame(QUERY + "&axis=evals", "lr", "-1.5", loss=True)
    settings, _ = from_query(QUERY.replace("lr=0.065", "lr=0.0316"))
    moved = settings.simulate()
    assert [decoded(x).tolist() for x in frame["loss"]["x"]] == \
        [run.evals.tolist() for run in moved.runs]
    assert "x" not in drag_frame(QUERY, "lr", "-1.5", loss=True)["loss"]


def test_the_scrubber_gets_each_runs_evaluations_on_the_evaluations_axis(race):
    data = figures.scrub_data(race, "evals")
    assert data["axis"] == "evals"
    assert [decoded(run["evals"]).tolist() for run in data["runs"]] == \
        [run.evals.tolist() for run in race.runs]
    assert all("evals" not in run for run in figures.scrub_data(race)["runs"])


def test_evaluations_to_tolerance_are_those_made_to_reach_the_first_step_within_it(race):
    sgd, lbfgs = leaderboard(race)
    assert sgd.steps_to_tolerance is None and sgd.evals_to_tolerance is None
    assert lbfgs.steps_to_tolerance is not None
    assert lbfgs.evals_to_tolerance == race.runs[1].evals[lbfgs.steps_to_tolerance]
    assert lbfgs.evals_to_tolerance > lbfgs.steps_to_tolerance


def test_ranking_by_evaluations_can_differ_from_ranking_by_steps():
    # a: converged in fewer steps but more evaluations than b
    a = Summary("lbfgs", 0.0, 0.0, 3, "converged", "converged", None, 30)
    b = Summary("adam", 0.0, 0.0, 10, "converged", "converged", None, 10)
    assert ranked([a, b]) == [0, 1]
    assert ranked([a, b], by="evals") == [1, 0]


def test_the_leaderboard_counts_to_tolerance_on_the_axis(race):
    summaries = leaderboard(race)
    by_evals = str(leaderboard_table(summaries, race, {}, "evals"))
    by_steps = str(leaderboard_table(summaries, race, {}))
    lbfgs = summaries[1]
    assert "f, ∇f evaluations to within 1e-06 of f*" in by_evals
    assert f"'{lbfgs.evals_to_tolerance}'" in by_evals
    assert "first step within 1e-06 of f*" in by_steps
    assert f"'{lbfgs.evals_to_tolerance}'" not in by_steps


def test_the_axis_is_in_the_url_only_when_not_the_default():
    settings, _ = from_query(QUERY + "&axis=evals")
    assert "axis=evals" in settings.to_query()
    assert from_query(settings.to_query())[0] == settings
    assert "axis" not in from_query(QUERY)[0].to_query()
    bad, notes = from_query(QUERY + "&axis=time")
    assert bad.axis == "steps" and any("axis='time'" in n or "axis=" in n for n in notes)


def test_a_bad_axis_from_the_controls_is_named():
    values = {**RaceSettings().to_dict(), "axis": "time"}
    settings, errors = parse_controls(values)
    assert settings is None and "axis" in errors and "evals" in errors["axis"]
    assert parse_controls({**values, "axis": "evals"})[0].axis == "evals"


def test_the_axis_changes_the_structure_so_the_loss_plot_is_redrawn():
    steps = RaceSettings()
    evals = RaceSettings(axis="evals")
    assert steps.structure("light") != evals.structure("light")


def test_oc_race_trajectories_keep_evals_as_integers(race):
    assert all(run.evals.dtype == np.int64 for run in race.runs)
    assert isinstance(oc.leaderboard(race)[1].evals_to_tolerance, int)
