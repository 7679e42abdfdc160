"""optim_core.mechanism holds its quantities to their definitions: θ_k + step = θ_{k+1};
heavy ball's carry + gradient step = step; Nesterov's classical iterate and look-ahead
are the textbook form's; the adaptive step size times the gradient is the step where
the optimizer's update is exactly that; the walkthrough reads the recorded state."""

import json

import numpy as np
import pytest

import optim_core as oc
from optim_core import mechanism
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.simulate import Run
from optim_core.surfaces import ravine_grad

TOL = dict(rtol=1e-12, atol=1e-12)


def race(*runs, surface="ravine", steps=40, **options):
    return oc.simulate(surface, list(runs), steps=steps, state=True, **options)


def only(*runs, **options):
    return mechanism.arrows(race(*runs, **options))[0]


def test_every_step_leads_to_the_next_point():
    names = list(oc.OPTIMIZERS)
    r = race(*names, surface="rosenbrock", lr=1e-3)
    for trajectory, run in zip(r.runs, mechanism.arrows(r), strict=True):
        step = run.arrows[mechanism.STEP]
        start = run.points[step.origin]
        np.testing.assert_allclose(start[:-1] + step.vector[:-1], start[1:], **TOL)
        assert np.isnan(step.vector[-1]).all()
        np.testing.assert_allclose(run.arrows[mechanism.GRADIENT_STEP].vector,
                                   -trajectory.hyperparameters["lr"] * trajectory.grads)


def test_heavy_ball_carry_plus_gradient_step_is_the_step():
    run = only(Run("momentum", {"lr": 0.02, "momentum": 0.8}))
    arrows = {name: a.vector[:-1] for name, a in run.arrows.items()}
    np.testing.assert_allclose(arrows["momentum_carry"] + arrows["gradient_step"],
                               arrows["step"], **TOL)
    assert (arrows["momentum_carry"][0] == 0).all()  # no velocity before the first step
    # the carry is μ times the last step: Polyak's θₖ₊₁ − θₖ = −γ∇f + μ(θₖ − θₖ₋₁)
    np.testing.assert_allclose(arrows["momentum_carry"][1:], 0.8 * arrows["step"][:-1], **TOL)


def test_dampening_takes_its_share_of_the_gradient():
    run = only(Run("momentum", {"lr": 0.02, "momentum": 0.8, "dampening": 0.25}))
    arrows = {name: a.vector[1:-1] for name, a in run.arrows.items()}
    np.testing.assert_allclose(arrows["momentum_carry"] + 0.75 * arrows["gradient_step"],
                               arrows["step"], **TOL)


def test_nesterov_points_are_the_textbook_form():
    lr, mu = 0.02, 0.9
    run = only(Run("nesterov", {"lr": lr, "momentum": mu}))
    theta, p = run.points["classical"], run.points["lookahead"]
    np.testing.assert_array_equal(theta[0], p[0])  # b₀ = 0
    # look-ahead = θₖ + μ·vₖ with the classical velocity vₖ = θₖ − θₖ₋₁
    np.testing.assert_allclose(p[1:], theta[1:] + mu * (theta[1:] - theta[:-1]), **TOL)
    # θₖ₊₁ = θₖ + μ·vₖ − γ∇f(pₖ): the carry leads from θₖ to pₖ, the gradient step on
    carry, gradient = run.arrows["momentum_carry"], run.arrows["gradient_step"]
    assert (carry.origin, gradient.origin) == ("classical", "lookahead")
    np.testing.assert_allclose(theta + carry.vector, p, **TOL)
    np.testing.assert_allclose((p + gradient.vector)[:-1], theta[1:], **TOL)
    # and the gradient was taken at pₖ (torch's parameter), not at θₖ
    np.testing.assert_allclose(-gradient.vector / lr, np.stack(
        ravine_grad(p[:, 0], p[:, 1], oc.get_surface("ravine").kappa), axis=1), **TOL)


@pytest.mark.parametrize("run", [Run("adam", {"lr": 0.1, "momentum": 0.0}),
                                 Run("rmsprop", {"lr": 0.01, "alpha": 0.9}),
                                 Run("rmsprop", {"lr": 0.01, "centered": True}),
                                 Run("adagrad", {"lr": 0.5, "lr_decay": 0.1,
                                                 "initial_accumulator_value": 0.2})],
                         ids=["adam-beta1-0", "rmsprop", "rmsprop-centered", "adagrad"])
def test_step_size_times_gradient_is_the_step(run):
    """Where the update is exactly −(size)·g (Adam with β₁ = 0: m̂ = g)."""
    r = race(run)
    trajectory, mech = r.runs[0], mechanism.arrows(r)[0]
    np.testing.assert_allclose((-mech.step_size * trajectory.grads)[:-1],
                               mech.arrows["step"].vector[:-1], rtol=1e-10, atol=1e-14)
    assert np.isnan(mech.step_size[-1]).all()


def test_adam_step_size_uses_the_bias_corrected_moments():
    lr, b1, b2, eps = 0.1, 0.8, 0.99, 1e-8
    r = race(Run("adam", {"lr": lr, "momentum": b1, "beta2": b2, "eps": eps}))
    trajectory, mech = r.runs[0], mechanism.arrows(r)[0]
    m = np.stack([trajectory.state["exp_avg_x"], trajectory.state["exp_avg_y"]], axis=1)
    t = np.arange(1, len(m))[:, None]
    np.testing.assert_allclose(-mech.step_size[:-1] * m[1:] / (1 - b1**t),
                               mech.arrows["step"].vector[:-1], rtol=1e-10)
    assert mech.step_size[0, 1] < mech.step_size[0, 0]  # steep y: smaller steps


def test_arrows_need_the_state_and_serialise_without_nan():
    with pytest.raises(ValueError, match="state=True"):
        mechanism.arrows(oc.simulate("ravine", ["sgd"], steps=3))
    data = [m.to_dict() for m in mechanism.arrows(race("nesterov", "adam", steps=5))]
    text = json.dumps(data, allow_nan=False)
    assert data[0]["arrows"]["step"]["vector"][-1] == [None, None]
    assert set(data[0]["labels"]) == {"classical", "lookahead", "momentum_carry",
                                      "gradient_step", "step", "torch_step"}
    assert "NaN" not in text


def test_walkthrough_reads_the_recorded_state():
    trajectory = race(Run("momentum", {"lr": 0.02, "momentum": 0.9}), steps=20).runs[0]
    table = mechanism.walkthrough(trajectory, 10)
    assert table.columns == ("k", "theta", "gradient", "momentum_buffer", "update")
    assert [row["k"] for row in table.rows] == [8, 9, 10, 11, 12]
    assert table.formulas["momentum_buffer"].startswith("bₜ = μ·bₜ₋₁")
    row = table.rows[2]
    state = trajectory.state
    assert row["momentum_buffer"] == [state["momentum_buffer_x"][11],
                                      state["momentum_buffer_y"][11]]
    np.testing.assert_allclose(row["update"], -0.02 * np.array(row["momentum_buffer"]), **TOL)
    assert row["gradient"] == trajectory.grads[10].tolist()


def test_walkthrough_edges_and_optimizer_specific_columns():
    r = race("adam", Run("adam", {"amsgrad": True}), "nadam", "adagrad", steps=6, lr=0.1)
    first = mechanism.walkthrough(r.runs[0], 2)
    assert [row["k"] for row in first.rows] == [0, 1, 2, 3, 4]  # the first five steps
    assert first.columns == ("k", "theta", "gradient", "exp_avg", "exp_avg_sq", "update")
    assert "max_exp_avg_sq" in mechanism.walkthrough(r.runs[1], 0).columns
    nadam = mechanism.walkthrough(r.runs[2], 6)
    assert "mu_product" in nadam.columns and isinstance(nadam.rows[0]["mu_product"], float)
    last = nadam.rows[-1]
    assert last["k"] == 6 and last["update"] == [None, None] and last["mu_product"] is None
    assert all(mechanism.walkthrough(r.runs[3], 3).formulas[c] for c in ("sum", "update"))


def test_rmsprop_momentum_carry_plus_rescaled_gradient_is_the_step():
    r = race(Run("rmsprop", {"lr": 0.01, "momentum": 0.6, "centered": True}))
    trajectory, mech = r.runs[0], mechanism.arrows(r)[0]
    rescaled = -mech.step_size * trajectory.grads
    np.testing.assert_allclose((mech.arrows["momentum_carry"].vector + rescaled)[:-1],
                               mech.arrows["step"].vector[:-1], rtol=1e-10, atol=1e-14)
    assert "momentum_carry" not in only("adam").arrows  # β₁ is not a heavy-ball μ


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_has_its_arrows_and_its_state_in_the_walkthrough(name):
    trajectory = race(name, surface="rosenbrock", lr=1e-3, steps=8).runs[0]
    run = mechanism.run_mechanism(trajectory)
    assert {mechanism.GRADIENT_STEP, mechanism.STEP} <= set(run.arrows)
    assert np.isfinite(run.arrows[mechanism.STEP].vector[:-1]).all()
    assert "NaN" not in json.dumps(run.to_dict(), allow_nan=False)
    table = mechanism.walkthrough(trajectory, 3)
    family = oc.OPTIMIZERS[name].family
    held = {c.field for c in family.state_columns
            if c.field != "count" and not np.isnan(trajectory.state[c.name]).all()}
    assert held == set(table.columns) - {"k", "theta", "gradient", "update"}
    json.dumps(table.rows, allow_nan=False)
    for column in family.state_columns:  # row k shows the state after k + 1 steps
        if column.field in held:
            value = table.rows[2][column.field]  # k = 3
            shown = value if column.field in family.scalar_state else value[column.axis]
            assert shown == trajectory.state[column.name][4]
