"""Validation: every constraint rejects values derived from it, naming the parameter."""

import math

import pytest

import optim_core as oc
from optim_core.clipping import NormType
from optim_core.params import (
    CONSTRAINTS,
    Boolean,
    Optional,
    Options,
    Pair,
    check_params,
    validate,
)
from optim_core.schedules import IntList


def invalid_values(constraint):
    """Values just outside the constraint, and of wrong types (as scikit-learn derives
    them in generate_invalid_param_val)."""
    if isinstance(constraint, Optional):
        return [v for v in invalid_values(constraint.inner) if v is not None]
    if isinstance(constraint, Options):
        return ["not-a-" + constraint.values[0], 3, None]
    if isinstance(constraint, Boolean):
        return ["true", 1, None]
    if isinstance(constraint, Pair):
        first, second = valid_value(constraint)
        return [*[(v, second) for v in invalid_values(constraint.first)],
                *[(first, v) for v in invalid_values(constraint.second)],
                (second + 1, first), first, "1 2", None, (first, second, second)]
    if isinstance(constraint, IntList):
        return ["60,20", "20,x", [], [0, 5], [1.5], 3, None]
    if isinstance(constraint, NormType):
        return [0.0, -1.0, -math.inf, math.nan, "x", None, True]
    values = [math.nan, math.inf, -math.inf, "1", [1], None, True]
    if constraint.low is not None:
        values.append(constraint.low - 1 if constraint.kind is int else
                      math.nextafter(constraint.low, -math.inf))
        if constraint.closed in ("right", "neither"):
            values.append(constraint.low)
    if constraint.high is not None:
        values.append(constraint.high + 1 if constraint.kind is int else
                      math.nextafter(constraint.high, math.inf))
        if constraint.closed in ("left", "neither"):
            values.append(constraint.high)
    if constraint.kind is int:
        values.append(1.5 if constraint.low is None or constraint.low < 1.5 else
                      constraint.low + 0.5)
    return values


def valid_value(constraint):
    if isinstance(constraint, Optional):
        return None
    if isinstance(constraint, Options):
        return constraint.values[0]
    if isinstance(constraint, Boolean):
        return False
    if isinstance(constraint, Pair):
        return (valid_value(constraint.first), valid_value(constraint.second))
    if isinstance(constraint, IntList):
        return (20, 60)
    if isinstance(constraint, NormType):
        return 2.0
    low = constraint.low if constraint.low is not None else 0
    high = constraint.high if constraint.high is not None else low + 2
    value = (low + high) / 2
    return int(value) if constraint.kind is int else value


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_out_of_range_values_are_rejected_with_the_parameter_named(name):
    constraint = CONSTRAINTS[name]
    for value in invalid_values(constraint):
        with pytest.raises(oc.InvalidParameterError) as info:
            check_params("tester", {name: value})
        message = str(info.value)
        assert f"The {name!r} parameter of tester must be {constraint.describe()}." in message
        assert "Got " in message and info.value.parameter == name


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_valid_values_pass(name):
    value = valid_value(CONSTRAINTS[name])
    assert check_params("tester", {name: value}) == {name: value}


def test_message_format():
    with pytest.raises(ValueError, match=r"^The 'beta2' parameter of adam must be a float in "
                                         r"the range \[0, 1\)\. Got 1\.2 instead\.$"):
        oc.simulate("ravine", [oc.Run("adam", {"beta2": 1.2})])


def test_error_is_both_value_and_type_error():
    assert issubclass(oc.InvalidParameterError, ValueError)
    assert issubclass(oc.InvalidParameterError, TypeError)


def test_validate_collects_every_error():
    clean, errors = validate("app", {"lr": -1, "momentum": 0.5, "steps": "x"})
    assert clean == {"momentum": 0.5} and set(errors) == {"lr", "steps"}


def test_cross_parameter_rules():
    with pytest.raises(oc.InvalidParameterError, match="momentum.*nesterov.*range \\(0, 1\\)"):
        oc.simulate("ravine", ["nesterov"], momentum=0.0)
    with pytest.raises(oc.InvalidParameterError, match="batch_size.*regression"):
        oc.simulate("ravine", ["sgd"], batch_size=4)
    with pytest.raises(oc.InvalidParameterError, match="at most the number of points"):
        oc.simulate("regression", ["sgd"], batch_size=6)
    with pytest.raises(oc.InvalidParameterError, match="unexpected parameter 'beta3'"):
        oc.simulate("ravine", ["adam"], beta3=0.5)
    with pytest.raises(oc.InvalidParameterError, match="start"):
        oc.simulate("ravine", ["adam"], start=(1.0,))
    with pytest.raises(oc.InvalidParameterError, match="at most 64 runs"):
        oc.simulate("ravine", ["sgd"] * 65)


def test_shared_values_apply_only_where_taken():
    race = oc.simulate("ravine", ["sgd", "momentum", "adam", "rmsprop"], momentum=0.5,
                       alpha=0.9, steps=2)
    by_name = {r.optimizer: r.hyperparameters for r in race.runs}
    assert "momentum" not in by_name["sgd"] and by_name["momentum"]["momentum"] == 0.5
    assert by_name["adam"]["momentum"] == 0.5 and by_name["rmsprop"]["alpha"] == 0.9
    assert by_name["sgd"]["lr"] == oc.OPTIMIZERS["sgd"].defaults["lr"]


def test_sweep_work_counts_the_gradients_and_the_losss_points():
    """Every step evaluates the mini-batch for the gradient and every point for the
    recorded loss: batch 1 does not make a 1000-point sweep cheap (it once ran 294 s)."""
    from optim_core.params import points_per_step
    from optim_core.sweep import sweep

    assert points_per_step(0, None) == 1
    assert points_per_step(1000, 1) == 1001 and points_per_step(1000, None) == 2000
    assert points_per_step(50, 50) == 100
    with pytest.raises(oc.InvalidParameterError, match="1,001 points a step") as raised:
        sweep("regression", "sgd", points=1000, batch_size=1, resolution=512, steps=2000)
    assert raised.value.parameter == "resolution" and raised.value.got == 512
