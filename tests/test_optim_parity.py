"""RAdam, Adamax, Adadelta, Rprop, ASGD and Adafactor equal torch.optim's (fixtures made
by torch itself: tests/fixtures/make_optim_reference.py, 1e-10 relative as in
tests/test_torch_parity.py), on both engine paths; their constraints and CLI flags."""

import json
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from optim_core.cli import main
from optim_core.export import read_race_csv
from tests.torch_reference import assert_matches, simulate_case

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = json.loads((FIXTURES / "optim_reference.json").read_text())
CASES = FIXTURE["cases"]
NAMES = ("radam", "adamax", "adadelta", "rprop", "asgd", "adafactor")


def test_fixture_covers_each_optimizer_on_every_teaching_surface():
    pairs = {(c["surface"], c["optimizer"]) for c in CASES}
    teaching = [s for s in oc.SURFACES if oc.get_surface(s).group == "teaching"]
    assert pairs >= {(s, o) for s in teaching for o in NAMES}
    assert FIXTURE["dtype"] == "float64" and FIXTURE["torch_version"].startswith("2.13.0")
    varied = {k for c in CASES for k in c["hyperparameters"]}
    assert varied >= {"momentum", "beta2", "eps", "weight_decay", "decoupled_weight_decay",
                      "rho", "etas", "step_sizes", "lambd", "alpha", "t0", "beta2_decay",
                      "eps1", "eps2", "d"}
    assert any(c.get("noise") for c in CASES) and any(c.get("batch_size") for c in CASES)
    assert any(c["diverged_at"] is not None for c in CASES)


def test_every_optimizer_has_a_torch_reference():
    """Each registered optimizer is in some committed reference fixture."""
    covered = set()
    for path in FIXTURES.glob("*_reference.json"):
        covered |= {c.get("optimizer") for c in json.loads(path.read_text()).get("cases", [])
                    if isinstance(c, dict)}
    assert set(oc.OPTIMIZERS) <= covered


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_matches_torch(case, backend):
    assert_matches(simulate_case(case, backend), case)


def test_paths_agree_bit_for_bit_in_one_batch():
    """All six in one race, per-run pairs included: the kernel and NumPy paths agree."""
    runs = [oc.Run(name) for name in NAMES] + [
        oc.Run("rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-4, 1.0)}),
        oc.Run("asgd", {"t0": 3.0, "lambd": 0.01})]
    races = [oc.simulate("rosenbrock", runs, steps=60, lr=0.003, backend=b)
             for b in ("numba", "numpy")]
    for a, b in zip(*(race.runs for race in races), strict=True):
        np.testing.assert_array_equal(a.params, b.params)


def test_defaults_are_torchs():
    torch = FIXTURE["torch_defaults"]
    for name in NAMES:
        theirs = dict(torch[name])
        if "betas" in theirs:
            theirs["momentum"], theirs["beta2"] = theirs.pop("betas")
        if name == "adafactor":  # torch's eps=(None, 1e-3): None is the dtype's epsilon
            eps1, theirs["eps2"] = theirs.pop("eps")
            assert eps1 is None
            theirs["eps1"] = FIXTURE["float64_eps"]
        for key, value in oc.OPTIMIZERS[name].defaults.items():
            expected = theirs[key]
            assert (list(value) if isinstance(value, tuple) else value) == expected, (name, key)


@pytest.mark.parametrize("name, param, bad, says", [
    ("rprop", "etas", (1.2, 0.5), "etaminus"),
    ("rprop", "etas", (0.5, 1.0), "etaplus"),
    ("rprop", "step_sizes", (1.0, 1e-3), "step_size_min <= step_size_max"),
    ("rprop", "etas", 0.5, "pair"),
    ("adadelta", "rho", 1.5, "[0, 1]"),
    ("asgd", "alpha", -0.1, "not RMSprop's"),
    ("asgd", "lambd", -1.0, ">= 0"),
    ("adafactor", "beta2_decay", 0.5, "<= 0"),
    ("adafactor", "d", 0.5, ">= 1"),
])
def test_bad_values_name_the_parameter(name, param, bad, says):
    with pytest.raises(oc.InvalidParameterError) as error:
        oc.make_optimizer(name, **{param: bad})
    assert error.value.parameter == param and error.value.caller == name
    assert says in str(error.value)


def test_asgd_alpha_is_not_rmsprops():
    """ASGD's α is an exponent (2 is fine); RMSprop's stays a decay in [0, 1)."""
    oc.make_optimizer("asgd", alpha=2.0)
    with pytest.raises(oc.InvalidParameterError):
        oc.make_optimizer("rmsprop", alpha=2.0)


def test_cli_pairs_and_switches(tmp_path):
    out = tmp_path / "race.csv"
    assert main(["run", "--optimizer", "rprop,radam", "--steps", "5", "--etas", "0.3", "1.5",
                 "--step-sizes", "1e-4", "1", "--decoupled-weight-decay",
                 "--weight-decay", "0.1", "--out", str(out)]) == 0
    frame = read_race_csv(out)
    rprop = frame[frame.optimizer == "rprop"]
    assert set(rprop.etas) == {"0.3 1.5"} and set(rprop.step_sizes) == {"0.0001 1.0"}
    assert set(frame[frame.optimizer == "radam"].decoupled_weight_decay) == {True}
    race = oc.simulate("ravine", [oc.Run("rprop", {"etas": (0.3, 1.5),
                                                   "step_sizes": (1e-4, 1.0)})], steps=5)
    np.testing.assert_array_equal(rprop[["x", "y"]].to_numpy(), race.runs[0].params)


@pytest.mark.parametrize("argv, says", [
    (["--etas", "1.5", "0.3"], "--etas"),
    (["--etas", "0.3"], "--etas"),
    (["--step-sizes", "1", "x"], "--step-sizes"),
    (["--set", "rprop.etas=0.5"], "rprop.etas"),
])
def test_cli_bad_pairs_exit_2_in_one_line(argv, says, capsys):
    assert main(["run", "--optimizer", "rprop", "--steps", "3", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
