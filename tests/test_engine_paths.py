"""The compiled path and the NumPy reference path give bit-identical results."""

import warnings

import numpy as np
import pytest

import optim_core as oc
from optim_core.simulate import Run
from optim_core.sweep import sweep

ALL = list(oc.OPTIMIZERS)
VARIANTS = [
    Run("adam", {"amsgrad": True, "lr": 0.3}),
    Run("rmsprop", {"centered": True, "momentum": 0.5}),
    Run("momentum", {"dampening": 0.3, "weight_decay": 0.1}),
    Run("nadam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    Run("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    Run("sgd", {"lr": 5.0}),  # diverges
    Run("nesterov", {"lr": 0.01}, start=(1.0, -2.0)),
]
SETTINGS = [
    ("ravine", {"kappa": 40.0}),
    ("rosenbrock", {}),
    ("saddle", {"noise": 0.3, "seed": 5}),
    ("regression", {}),
    ("regression", {"points": 40, "batch_size": 8, "noise": 0.1, "seed": 2}),
]


def assert_identical(a, b):
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert ra.diverged_at == rb.diverged_at
        for field in ("params", "loss", "grads"):
            np.testing.assert_array_equal(getattr(ra, field), getattr(rb, field))


@pytest.mark.parametrize("surface,options", SETTINGS, ids=[s for s, _ in SETTINGS])
def test_race_paths_identical(surface, options):
    runs = ALL + VARIANTS
    a = oc.simulate(surface, runs, steps=250, lr=0.01, momentum=0.9, backend="numpy",
                    **options)
    b = oc.simulate(surface, runs, steps=250, lr=0.01, momentum=0.9, backend="numba",
                    **options)
    assert_identical(a, b)


@pytest.mark.parametrize("surface,optimizer,options", [
    ("ravine", "momentum", {}), ("rosenbrock", "adam", {}), ("saddle", "nesterov",
                                                            {"noise": 0.05}),
    ("regression", "rmsprop", {"points": 30, "batch_size": 6}), ("ravine", "sgd", {}),
    ("ravine", "nadam", {}), ("saddle", "adagrad", {}), ("rosenbrock", "adamw", {}),
])
def test_sweep_paths_identical(surface, optimizer, options):
    a = sweep(surface, optimizer, steps=120, resolution=10, backend="numpy", **options)
    b = sweep(surface, optimizer, steps=120, resolution=10, backend="numba", **options)
    for field in ("final_loss", "steps_to_tolerance", "rate", "diverged_at"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_sweep_cells_equal_single_races():
    """A sweep cell is the race of the same optimizer at that (lr, momentum)."""
    result = sweep("ravine", "momentum", steps=200, resolution=6)
    for i in (0, 3, 5):
        for j in (0, 2, 5):
            run = oc.simulate("ravine", ["momentum"], steps=200, lr=float(result.lrs[j]),
                              momentum=float(result.momenta[i])).runs[0]
            assert result.final_loss[i, j] == run.final_loss
            expected = oc.steps_to_tolerance(run.loss, 0.0)
            assert result.steps_to_tolerance[i, j] == (-1 if expected is None else expected)
            assert result.diverged_at[i, j] == (-1 if run.diverged_at is None
                                                else run.diverged_at)


def test_divergence_is_cut_and_flagged():
    race = oc.simulate("ravine", ["sgd", "momentum"], lr=0.5, steps=200)
    for run in race.runs:
        assert run.diverged_at is not None and run.diverged_at < 200
        assert len(run.loss) == run.diverged_at  # rows 0..diverged_at-1
        assert np.isfinite(run.params).all() and np.isfinite(run.loss).all()
        assert np.isfinite(run.grads).all()
        assert np.abs(run.params).max() <= oc.DIVERGENCE_BOUND


def test_huge_learning_rate_never_returns_non_finite():
    race = oc.simulate("rosenbrock", ALL, lr=1e300, steps=50)
    for run in race.runs:
        assert np.isfinite(run.params).all() and np.isfinite(run.loss).all()


def test_stochastic_runs_are_reproducible_and_seeded():
    def race(seed):
        return oc.simulate("regression", ["sgd", "adam"], points=50, batch_size=5, noise=0.2,
                           seed=seed, steps=100, lr=0.05)
    a, b, c = race(1), race(1), race(2)
    np.testing.assert_array_equal(a.runs[0].params, b.runs[0].params)
    assert not np.array_equal(a.runs[0].params, c.runs[0].params)


#: Muon's eps floors a norm (‖B̃‖ > 0 here), not √v: it does not meet 0/0
EPS_OPTIMIZERS = [name for name in ALL if "eps" in oc.OPTIMIZERS[name].defaults
                  and name != "muon"]


@pytest.mark.parametrize("optimizer", ALL)
def test_zero_eps_is_flagged_alike_on_both_paths(optimizer):
    """eps = 0 is allowed: on the default line fit ∂f/∂b is exactly 0, so every method
    that divides by √v + eps meets 0/0 at the first step (torch gives NaN). Both paths
    flag it as diverged at step 1, alike, without an exception or a RuntimeWarning."""
    runs = [oc.Run(optimizer, {"eps": 0.0} if optimizer in EPS_OPTIMIZERS else {}),
            oc.Run("adam", {"eps": 0.0, "amsgrad": True}),
            oc.Run("rmsprop", {"eps": 0.0, "centered": True, "momentum": 0.5})]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, b = (oc.simulate("regression", runs, steps=30, backend=backend)
                for backend in ("numpy", "numba"))
        sweeps = [sweep("regression", optimizer, steps=30, resolution=3, backend=backend,
                        **({"eps": 0.0} if optimizer in EPS_OPTIMIZERS else {}))
                  for backend in ("numpy", "numba")]
    assert_identical(a, b)
    # RAdam's first steps (ρ_t ≤ 5) are momentum steps: it divides from step 6 on
    expected = {"radam": 6}.get(optimizer, 1) if optimizer in EPS_OPTIMIZERS else None
    assert [run.diverged_at for run in a.runs] == [expected, 1, 1]
    np.testing.assert_array_equal(sweeps[0].diverged_at, sweeps[1].diverged_at)
    if expected is not None:  # (SGD's large-lr cells diverge on their own)
        assert (sweeps[0].diverged_at == expected).all()


def test_every_race_and_sweep_runs_the_kernels_the_app_compiles_at_start():
    """The app compiles one race and one sweep at start (``app.warm_up``); any race or
    sweep whose arguments numba types differently (a writable array, another dtype)
    would compile the kernels again, a minute or two in the middle of a user's session."""
    from app import warm_up
    from optim_core import _kernels

    warm_up()
    race_types = set(_kernels.race_kernel.signatures)
    sweep_types = set(_kernels.sweep_kernel.signatures)
    typed = {"f": "(1 - x)^2 + 100*(y - x^2)^2 + sin(x)", "window": (-2, 2, -1, 3)}
    for surface in [*oc.SURFACES, "custom"]:
        options = typed if surface == "custom" else {}
        oc.simulate(surface, ["momentum", "adam", "lbfgs", "adamw_schedulefree"], steps=3,
                    state=True, scheduler="cosine", clip_grad_norm=1.0, noise=0.1,
                    batch_size=4 if surface == "regression" else None, **options)
        sweep(surface, "momentum", steps=3, resolution=2, noise=0.1, **options)
    assert set(_kernels.race_kernel.signatures) == race_types
    assert set(_kernels.sweep_kernel.signatures) == sweep_types
