"""Theory on quadratics, checked against simulation rather than against printed numbers."""

import math

import numpy as np
import pytest

import optim_core as oc
from optim_core import theory


@pytest.mark.parametrize("optimizer,momentum", [("sgd", 0.0), ("momentum", 0.0),
                                                ("momentum", 0.5), ("momentum", 0.9),
                                                ("nesterov", 0.3), ("nesterov", 0.9)])
@pytest.mark.parametrize("kappa", [4.0, 25.0])
def test_stability_limit_separates_convergence_from_divergence(optimizer, momentum, kappa):
    surface = oc.get_surface("ravine", kappa=kappa)
    c = theory.curvature(surface)
    limit = theory.max_stable_lr(optimizer, c.L, momentum)
    kwargs = {"momentum": momentum} if optimizer != "sgd" else {}
    if optimizer == "momentum" and momentum == 0.0:
        kwargs = {"momentum": 0.0}
    below = oc.simulate(surface, [optimizer], lr=limit * 0.97, steps=3000, **kwargs).runs[0]
    above = oc.simulate(surface, [optimizer], lr=limit * 1.03, steps=3000, **kwargs).runs[0]
    assert below.diverged_at is None and below.final_loss < below.loss[0]
    assert above.diverged_at is not None


def test_polyak_optimum_is_the_fastest_heavy_ball():
    c = theory.curvature(oc.get_surface("ravine", kappa=25.0))
    lr, momentum, rate = theory.polyak_optimum(c.L, c.m)
    assert rate == pytest.approx((math.sqrt(c.kappa) - 1) / (math.sqrt(c.kappa) + 1))
    assert theory.predicted_rate("momentum", lr, c.eigenvalues, momentum) == pytest.approx(
        rate, rel=1e-6)
    grid = [theory.predicted_rate("momentum", lr * a, c.eigenvalues, momentum + d)
            for a in (0.8, 0.9, 1.1, 1.2) for d in (-0.1, 0.0, 0.1)]
    assert min(grid) > rate


@pytest.mark.parametrize("optimizer,lr,momentum", [("sgd", 0.05, 0.0), ("momentum", 0.05, 0.6),
                                                   ("momentum", 0.02, 0.9),
                                                   ("nesterov", 0.03, 0.8)])
def test_measured_rate_matches_predicted(optimizer, lr, momentum):
    surface = oc.get_surface("ravine", kappa=25.0)
    c = theory.curvature(surface)
    kwargs = {"momentum": momentum} if optimizer != "sgd" else {}
    run = oc.simulate(surface, [optimizer], lr=lr, steps=600, **kwargs).runs[0]
    predicted = theory.predicted_rate(optimizer, lr, c.eigenvalues, momentum)
    assert oc.summarize(run, 0.0).measured_rate == pytest.approx(predicted, abs=0.02)


def test_effective_lr_is_the_long_run_step_on_a_constant_gradient():
    opt = oc.make_optimizer("momentum", lr=0.01, momentum=0.9)
    params = np.zeros(2)
    state = opt.init(params)
    for _ in range(2000):
        new, state = opt.update(np.ones(2), state, params)
        step, params = params - new, new
    assert step[0] == pytest.approx(theory.effective_lr(0.01, 0.9))


def test_regression_curvature_is_exact_and_rosenbrock_local():
    reg = theory.curvature(oc.get_surface("regression", points=50, seed=1))
    assert reg.exact
    s = oc.get_surface("regression", points=50, seed=1)
    hessian = 2 * np.array([[np.mean(s.data_x**2), np.mean(s.data_x)],
                            [np.mean(s.data_x), 1.0]])
    np.testing.assert_allclose(sorted(np.linalg.eigvalsh(hessian)), [reg.m, reg.L])
    assert not theory.curvature(oc.get_surface("rosenbrock")).exact


def test_measured_rate_is_undefined_without_enough_steps():
    assert theory.measured_rate([1.0, 0.0, 0.0], 0.0) is None
