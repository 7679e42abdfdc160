"""Optimizers as pure functions: one (name, kwargs) table, shared checks (as optax)."""

import numpy as np
import pytest

import optim_core as oc
from optim_core.optimizers import make_optimizer

TABLE = [
    ("sgd", {"lr": 0.1}),
    ("momentum", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1}),
    ("nesterov", {"lr": 0.1, "momentum": 0.9}),
    ("adam", {"lr": 0.1}),
    ("adam", {"lr": 0.1, "amsgrad": True}),
    ("adamw", {"lr": 0.1, "weight_decay": 0.1}),
    ("nadam", {"lr": 0.1}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("adagrad", {"lr": 0.5}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(TABLE)]


def grad_quadratic(p):
    return p * np.array([1.0, 10.0])


@pytest.mark.parametrize("name,kwargs", TABLE, ids=IDS)
def test_update_is_pure_and_preserves_dtype_and_shape(name, kwargs):
    opt = make_optimizer(name, **kwargs)
    params = np.array([[1.0, -2.0], [0.5, 0.25]])
    state = opt.init(params)
    before = [np.copy(x) if isinstance(x, np.ndarray) else x for x in state]
    grads = grad_quadratic(params)
    new_params, new_state = opt.update(grads, state, params)
    again, again_state = opt.update(grads, state, params)
    np.testing.assert_array_equal(new_params, again)  # same inputs, same outputs
    for old, now in zip(before, state, strict=True):  # nothing mutated
        np.testing.assert_array_equal(old, now)
    assert new_params.dtype == np.float64 and new_params.shape == params.shape
    assert type(new_state) is type(state) and new_state.count == state.count + 1
    for field in new_state:
        if isinstance(field, np.ndarray):
            assert field.dtype == np.float64


@pytest.mark.parametrize("name,kwargs", TABLE, ids=IDS)
def test_minimises_a_quadratic(name, kwargs):
    opt = make_optimizer(name, **kwargs)
    params = np.array([3.0, -2.0])
    state = opt.init(params)
    for _ in range(300):
        params, state = opt.update(grad_quadratic(params), state, params)
    assert np.abs(params).max() < 0.05


@pytest.mark.parametrize("name,kwargs", TABLE, ids=IDS)
def test_batched_equals_one_at_a_time(name, kwargs):
    """A batch of runs with per-run hyperparameters equals each run alone."""
    lrs = np.array([0.01, 0.05, 0.1])
    batched = make_optimizer(name, **{**kwargs, "lr": lrs})
    params = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -3.0]])
    state = batched.init(params)
    singles = [make_optimizer(name, **{**kwargs, "lr": float(lr)}) for lr in lrs]
    single_params = [params[i].copy() for i in range(3)]
    single_states = [opt.init(p) for opt, p in zip(singles, single_params, strict=True)]
    for _ in range(20):
        params, state = batched.update(grad_quadratic(params), state, params)
        for i, opt in enumerate(singles):
            single_params[i], single_states[i] = opt.update(
                grad_quadratic(single_params[i]), single_states[i], single_params[i])
    np.testing.assert_array_equal(params, np.stack(single_params))


def test_momentum_buffer_starts_as_the_first_gradient():
    """torch's quirk: b1 = g1, not (1 - dampening) g1."""
    opt = make_optimizer("momentum", lr=0.1, momentum=0.9, dampening=0.5)
    params = np.array([1.0, 1.0])
    g = np.array([2.0, -4.0])
    new, state = opt.update(g, opt.init(params), params)
    np.testing.assert_array_equal(state.momentum_buffer, g)
    np.testing.assert_array_equal(new, params - 0.1 * g)
    new2, state2 = opt.update(g, state, new)
    np.testing.assert_array_equal(state2.momentum_buffer, g * 0.9 + 0.5 * g)


def test_adam_first_step_has_size_lr():
    """With bias correction Adam's first step is lr·sign(g) (up to eps)."""
    opt = make_optimizer("adam", lr=0.3)
    params = np.array([1.0, -1.0])
    new, _ = opt.update(np.array([5.0, -0.01]), opt.init(params), params)
    np.testing.assert_allclose(new - params, [-0.3, 0.3], rtol=1e-6)


def test_make_optimizer_rejects_unknown_hyperparameter():
    with pytest.raises(oc.InvalidParameterError, match="sgd does not take 'momentum'"):
        make_optimizer("sgd", lr=0.1, momentum=0.9)


def test_every_optimizer_has_its_math_and_a_reference_in_the_docstring():
    for spec in oc.OPTIMIZERS.values():
        doc = spec.factory.__doc__
        assert ".. math::" in doc and "References" in doc and spec.torch.split("(")[0] in doc
