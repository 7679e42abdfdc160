"""What the torch-reference tests share: a fixture case raced by the engine, and the
comparison to torch's numbers (1e-10 relative to each quantity's scale)."""

from __future__ import annotations

import numpy as np

import optim_core as oc
from optim_core.simulate import Run

RTOL = 1e-10


def simulate_case(case, backend="auto", state=False):
    """The one run of a fixture case, as the engine races it (with its optimizer state
    if ``state``)."""
    race = oc.simulate(case["surface"], [Run(case["optimizer"], case["hyperparameters"])],
                       steps=case["steps"], kappa=case.get("kappa", 25.0),
                       points=case.get("points"), noise=case.get("noise", 0.0),
                       batch_size=case.get("batch_size"), seed=case.get("seed", 0),
                       start=case.get("start"), f=case.get("f"), backend=backend,
                       state=state)
    return race.runs[0]


def assert_close(ours, theirs, what):
    theirs = np.asarray(theirs, dtype=np.float64)
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs.reshape(np.shape(ours)), rtol=RTOL,
                               atol=RTOL * scale, err_msg=what)


def assert_matches(run, case):
    """The run's cut, parameters, losses and gradients are torch's."""
    assert run.diverged_at == case["diverged_at"]
    assert len(run.loss) == len(case["loss"])
    assert_close(run.params, case["params"], "parameters")
    assert_close(run.loss, case["loss"], "loss")
    assert_close(run.grads, case["grads"], "gradients")
