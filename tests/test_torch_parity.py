"""optim_core's trajectories equal torch.optim's (fixtures made by torch itself).

tests/fixtures/make_torch_reference.py ran torch 2.13.0 in float64 with autograd; the
tests need no torch. Agreement is required to 1e-10 relative, measured against the
scale of each quantity over the run (max |value|), so that a value crossing zero (a
gradient component near 0) is judged by the run's scale rather than by itself.
"""

import json
from pathlib import Path

import pytest

import optim_core as oc
from tests.torch_reference import assert_matches, simulate_case

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "torch_reference.json").read_text())
CASES = FIXTURE["cases"]
#: The optimizers of this fixture, with their torch class; the later ones have their
#: own fixture (tests/test_optim_parity.py checks that every optimizer has one).
CLASSES = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adam": "Adam",
           "adamw": "AdamW", "nadam": "NAdam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}

def test_fixture_covers_every_optimizer_and_surface():
    pairs = {(c["surface"], c["optimizer"]) for c in CASES}
    teaching = [s for s in oc.SURFACES if oc.get_surface(s).group == "teaching"]
    assert pairs >= {(s, o) for s in teaching for o in CLASSES}  # the others:
    # tests/test_surface_functions.py, fixture surfaces_reference.json
    assert FIXTURE["dtype"] == "float64" and FIXTURE["torch_version"].startswith("2.13.0")
    varied = {k for c in CASES for k in c["hyperparameters"]}
    assert varied >= {"dampening", "weight_decay", "beta2", "eps", "alpha", "amsgrad",
                      "centered", "momentum_decay", "decoupled_weight_decay", "lr_decay",
                      "initial_accumulator_value"}
    assert any(c.get("noise") for c in CASES) and any(c.get("batch_size") for c in CASES)
    assert any(c["diverged_at"] is not None for c in CASES)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_matches_torch(case, backend):
    assert_matches(simulate_case(case, backend), case)


def test_defaults_are_torchs():
    """Every default equals torch's constructor default (read from torch's signatures by
    the fixture script), except momentum for `momentum`/`nesterov` (0.9 by design)."""
    torch = FIXTURE["torch_defaults"]
    for name, torch_class in CLASSES.items():
        spec = oc.OPTIMIZERS[name]
        theirs = dict(torch[torch_class])
        if "betas" in theirs:
            theirs["momentum"], theirs["beta2"] = theirs.pop("betas")
        for key, value in spec.defaults.items():
            if name in ("momentum", "nesterov") and key == "momentum":
                assert value == 0.9
                continue
            if key == "momentum_form":  # ours: torch writes momentum one way
                assert value == "pytorch"
                continue
            assert value == theirs[key], (name, key)
