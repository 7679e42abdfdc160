"""The optimizer state the engine records equals torch's ``optimizer.state[p]`` after k
steps (fixture state_reference.json, made by tests/fixtures/make_state_reference.py with
torch 2.13.0), to 1e-10 relative, on both engine paths; blank (NaN) exactly where torch
holds no such entry."""

import json
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from optim_core.cli import main
from optim_core.export import COLUMNS, race_to_csv, read_race_csv
from optim_core.optimizers import OPTIMIZER_NAMES, OPTIMIZERS, STATE_COLUMNS
from optim_core.optimizers._base import STEP_COLUMN
from tests.torch_reference import assert_close, simulate_case

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "state_reference.json").read_text())
CASES = FIXTURE["cases"]


def torch_key(column: str) -> str:
    return "step" if column == STEP_COLUMN else column


def test_fixture_covers_every_optimizer_and_state_entry():
    assert FIXTURE["torch_version"].startswith("2.13.0")
    assert {c["optimizer"] for c in CASES} == set(OPTIMIZERS)
    assert {key for c in CASES for key in c["state"]} == set(map(torch_key, STATE_COLUMNS))
    assert {c["surface"] for c in CASES} == {"ravine", "rosenbrock", "regression"}
    assert any(c["diverged_at"] is not None for c in CASES)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_state_matches_torch(case, backend):
    run = simulate_case(case, backend, state=True)
    assert run.diverged_at == case["diverged_at"]
    assert_close(run.params, case["params"], "parameters")
    family = OPTIMIZERS[case["optimizer"]].family
    assert list(run.state) == [column.name for column in family.state_columns]
    for name, values in run.state.items():
        assert values.shape == (len(run.loss),) and values.dtype == np.float64
        theirs = case["state"].get(torch_key(name), [None] * len(values))
        held = np.array([v is not None for v in theirs])
        np.testing.assert_array_equal(~np.isnan(values), held, err_msg=name)
        assert_close(values[held], [v for v in theirs if v is not None], name)
    assert not set(case["state"]) - set(map(torch_key, run.state))


def test_both_paths_record_the_same_state_bit_for_bit():
    runs = [*OPTIMIZER_NAMES, oc.Run("adam", {"amsgrad": True}),
            oc.Run("rmsprop", {"momentum": 0.5, "centered": True}),
            oc.Run("lbfgs", {"line_search_fn": "strong_wolfe"})]
    races = [oc.simulate("rosenbrock", runs, steps=40, lr=1e-3, state=True, backend=b)
             for b in ("numba", "numpy")]
    for a, b in zip(*(race.runs for race in races), strict=True):
        assert a.state.keys() == b.state.keys()
        for name in a.state:
            np.testing.assert_array_equal(a.state[name], b.state[name], err_msg=name)


def test_state_is_off_by_default():
    assert oc.simulate("ravine", ["adam"], steps=3).runs[0].state is None


def test_run_state_writes_the_state_columns_losslessly(tmp_path):
    out = tmp_path / "race.csv"
    names = ["sgd", "momentum", "nadam", "adagrad", "asgd", "lion", "lbfgs"]
    assert main(["run", "--surface", "ravine", "--optimizer", ",".join(names),
                 "--lr", "0.02", "--steps", "30", "--state", "--out", str(out)]) == 0
    race = oc.simulate("ravine", names, lr=0.02, steps=30, state=True)
    assert out.read_text() == race_to_csv(race, state=True)
    frame = read_race_csv(out)
    assert list(frame.columns) == list(COLUMNS + STATE_COLUMNS)
    for run in race.runs:
        rows = frame[frame.optimizer == run.optimizer]
        for name in STATE_COLUMNS:  # blank cells read back as NaN, values bit for bit
            expected = run.state.get(name, np.full(len(run.loss), np.nan))
            np.testing.assert_array_equal(rows[name].to_numpy(), expected, err_msg=name)
    momentum = frame[frame.optimizer == "momentum"]
    assert momentum["momentum_buffer_x"].isna().tolist() == [True] + [False] * 30
    assert frame[frame.optimizer == "sgd"][list(STATE_COLUMNS)].isna().all().all()
    adagrad = frame[frame.optimizer == "adagrad"]  # its state is made by the constructor
    assert adagrad[STEP_COLUMN].tolist() == adagrad["step"].tolist()


def test_csv_has_no_state_columns_without_the_flag(tmp_path):
    out = tmp_path / "race.csv"
    assert main(["run", "--optimizer", "adam", "--steps", "3", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0].split(",") == list(COLUMNS)
    with pytest.raises(ValueError, match="state=True"):
        race_to_csv(oc.simulate("ravine", ["adam"], steps=3), state=True)
