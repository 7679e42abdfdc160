"""Lion, Muon and Schedule-Free equal their reference packages (fixtures made by
lion-pytorch 0.2.5, torch 2.13.0's Muon and schedulefree 1.4.1 themselves, float64;
see tests/fixtures/make_recent_reference.py), on both engine paths, to 1e-10 relative:
for Schedule-Free the reported point is the evaluation point and the gradient points
are the train-mode parameters, both compared."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from optim_core.export import race_to_csv, read_race_csv
from optim_core.optimizers import OPTIMIZERS
from tests.torch_reference import assert_close, assert_matches, simulate_case

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "recent_reference.json").read_text())
CASES = FIXTURE["cases"]
RECENT = ("lion", "muon", "sgd_schedulefree", "adamw_schedulefree")
SCHEDULE_FREE = ("sgd_schedulefree", "adamw_schedulefree")


def test_fixture_covers_every_recent_optimizer_and_surface():
    pairs = {(c["surface"], c["optimizer"]) for c in CASES}
    teaching = [s for s in oc.SURFACES if oc.get_surface(s).group == "teaching"]
    assert pairs >= {(s, o) for s in teaching for o in RECENT}
    assert {n for n, s in OPTIMIZERS.items() if s.group == "recent"} >= set(RECENT)
    varied = {k for c in CASES for k in c["hyperparameters"]}
    assert varied >= {"momentum", "beta2", "eps", "weight_decay", "decoupled_weight_decay",
                      "nesterov", "ns_steps", "warmup_steps", "r", "weight_lr_power"}
    assert any(c.get("noise") for c in CASES) and any(c.get("batch_size") for c in CASES)
    assert any(c["diverged_at"] is not None for c in CASES)
    assert FIXTURE["newton_schulz_rows_checked"] > 0


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_matches_reference(case, backend):
    run = simulate_case(case, backend)
    assert_matches(run, case)
    if case["optimizer"] in SCHEDULE_FREE:
        assert_close(run.grad_points, case["grad_points"], "gradient points")
        if len(run.loss) > 2:  # the evaluation point is not where the gradient was taken
            assert not np.allclose(run.params[2:], run.grad_points[2:])
    else:
        assert run.grad_points is None
        assert_close(run.params, case["grad_points"], "gradient points")


def test_paths_agree_bit_for_bit():
    for case in CASES:
        a, b = simulate_case(case, "numba"), simulate_case(case, "numpy")
        assert np.array_equal(a.params, b.params) and np.array_equal(a.loss, b.loss)
        assert (a.grad_points is None) == (b.grad_points is None)
        if a.grad_points is not None:
            assert np.array_equal(a.grad_points, b.grad_points)


def test_defaults_are_the_references():
    theirs = FIXTURE["defaults"]
    classes = {"lion": "Lion", "muon": "Muon", "sgd_schedulefree": "SGDScheduleFree",
               "adamw_schedulefree": "AdamWScheduleFree"}
    for name, cls in classes.items():
        reference = dict(theirs[cls])
        if "betas" in reference:
            reference["momentum"], reference["beta2"] = reference.pop("betas")
        for key, value in OPTIMIZERS[name].defaults.items():
            assert value == reference[key], (name, key)


def test_csv_round_trips_the_gradient_points():
    race = oc.simulate("ravine", ["sgd_schedulefree", "momentum", "adamw_schedulefree"],
                       steps=20, lr=0.02)
    text = race_to_csv(race)
    header = text.splitlines()[0].split(",")
    assert {"grad_point_x", "grad_point_y"} <= set(header)
    table = read_race_csv(io.StringIO(text))
    for run in race.runs:
        rows = table[table["optimizer"] == run.optimizer]
        got = rows[["grad_point_x", "grad_point_y"]].to_numpy(dtype=float)
        if run.grad_points is None:
            assert np.isnan(got).all()  # blank cells
        else:
            assert np.array_equal(got, run.grad_points)


def test_the_map_draws_schedule_free_gradient_points_as_thin_paths():
    from layouts import figures

    race = oc.simulate("ravine", ["momentum", "sgd_schedulefree", "adamw_schedulefree"],
                       steps=30, lr=0.02)
    fig = figures.race_figure(race)
    layout = fig.layout.meta["traces"]
    assert layout["paths"] == [1, 2, 3] and layout["minimum"] == 6  # unchanged by them
    assert layout["at_step"] == 7  # the scrubber's markers, then the thin paths
    assert layout["grad_points"] == [8, 9] and len(fig.data) == 10
    updates = figures.path_updates(race)
    for index, run in zip(layout["grad_points"], race.runs[1:], strict=True):
        trace = fig.data[index]
        assert trace.line.width < fig.data[layout["paths"][0]].line.width
        assert trace.line.color == figures.racer_color(run.optimizer, "light")
        np.testing.assert_array_equal(trace.x, run.grad_points[:, 0].astype(np.float32))
        np.testing.assert_array_equal(updates[index]["y"],
                                      run.grad_points[:, 1].astype(np.float32))
    plain = figures.race_figure(oc.simulate("ravine", ["sgd"]))
    assert plain.layout.meta["traces"]["grad_points"] == [] and len(plain.data) == 6


def test_a_drag_frame_carries_the_gradient_points_decimated_like_the_paths():
    import base64

    from callbacks.drag import drag_frame

    query = "?surface=ravine&optimizers=momentum,sgd_schedulefree&steps=300&lr=0.01"
    view = "-8,8,-8,8,200,200"
    full, thin = drag_frame(query, "lr", "-2"), drag_frame(query, "lr", "-2", view)
    index = 1 + 2 + 4  # after the 2 paths, the ends, the start, the minimum and at-step
    assert full["traces"][index]["mode"] == "lines"

    def count(frame):
        return len(base64.b64decode(frame["traces"][index]["x"]["bdata"])) // 4

    assert count(full) == 301 > count(thin)
