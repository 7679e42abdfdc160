"""Schedules, clipping and the three momentum conventions.

torch's side is tests/fixtures/schedules_reference.json (made by
tests/fixtures/make_schedules_reference.py with torch 2.13.0: torch.optim,
torch.optim.lr_scheduler, torch.nn.utils.clip_grad_*). ``sutskever`` and ``ema`` have no
torch class: they are checked against their equations written out below and against
the equivalences the app states (measured here, as the app measures them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from torch_reference import assert_close, assert_matches

import optim_core as oc
from optim_core import schedules
from optim_core.params import InvalidParameterError
from optim_core.simulate import Run

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "schedules_reference.json")
                     .read_text())
CASES = FIXTURE["cases"]
BACKENDS = ("numba", "numpy")


def simulate_case(case, backend):
    return oc.simulate(
        case["surface"], [Run(case["optimizer"], case["hyperparameters"])],
        steps=case["steps"], points=case.get("points"), noise=case.get("noise", 0.0),
        batch_size=case.get("batch_size"), seed=case.get("seed", 0), backend=backend,
        scheduler=case["scheduler"], **case["schedule"], **case.get("clip", {})).runs[0]


def test_fixture_covers_every_scheduler_and_clip():
    assert {c["scheduler"] for c in CASES} == set(schedules.SCHEDULER_NAMES)
    norm_types = {str(c["clip"].get("clip_norm_type", 2.0)) for c in CASES if "clip" in c
                  and "clip_grad_norm" in c["clip"]}
    assert {"inf", "1.0", "2.0"} <= norm_types
    assert any("clip_grad_value" in c.get("clip", {}) for c in CASES)
    cycled = {c["optimizer"] for c in CASES if c["schedule"].get("cycle_momentum")}
    assert {"momentum", "adam", "nadam"} <= cycled


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_trajectory_equals_torch(case, backend):
    run = simulate_case(case, backend)
    assert_matches(run, case)
    steps_taken = len(case["step_lr"])
    assert_close(run.step_lr[:steps_taken], case["step_lr"], "lr per step")
    if case["step_momentum"][0] is not None and run.step_momentum is not None:
        assert_close(run.step_momentum[:steps_taken], case["step_momentum"],
                     "momentum per step")


def test_momentum_cycling_moves_the_momentum():
    case = next(c for c in CASES if c["id"] == "onecycle-11-adam")
    run = simulate_case(case, "numba")
    assert run.step_momentum.min() == pytest.approx(0.85)
    assert run.step_momentum.max() == pytest.approx(0.95)


def test_both_paths_agree_bit_for_bit_with_schedule_clip_and_forms():
    runs = [Run(o, {"momentum_form": f}) for o in ("momentum", "nesterov")
            for f in ("pytorch", "sutskever", "ema")]
    runs += [Run(o) for o in ("sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad")]
    kwargs = dict(steps=80, lr=0.02, noise=0.05, scheduler="onecycle",
                  clip_grad_norm=2.0, clip_norm_type=3.0, clip_grad_value=0.7)
    a = oc.simulate("rosenbrock", runs, backend="numba", **kwargs)
    b = oc.simulate("rosenbrock", runs, backend="numpy", **kwargs)
    for x, y in zip(a.runs, b.runs, strict=True):
        np.testing.assert_array_equal(x.params, y.params)
        np.testing.assert_array_equal(x.grads, y.grads)


# --- the conventions, written out ------------------------------------------------------

def transcribed(form, nesterov, lrs, mus, grad, start, steps):
    """The issue's equations for one run, step by step in plain Python floats."""
    theta = np.array(start, dtype=float)
    v = np.zeros(2)
    point = theta.copy()  # where the gradient is taken
    path = [point.copy()]
    for k in range(steps):
        g = grad(point)
        lr, mu = lrs[k], mus[k]
        if form == "sutskever":
            v = mu * v - lr * g
            theta = theta + (mu * v - lr * g if nesterov else v)
            point = theta
        else:  # ema
            v = mu * v + (1 - mu) * g
            theta = theta - lr * v
            point = theta - lr * mu * v if nesterov else theta
        path.append(point.copy())
    return np.array(path)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ("sutskever", "ema"))
@pytest.mark.parametrize("optimizer", ("momentum", "nesterov"))
@pytest.mark.parametrize("scheduler", ("constant", "onecycle"))
def test_forms_follow_their_equations(optimizer, form, scheduler, backend):
    race = oc.simulate("ravine", [Run(optimizer, {"momentum_form": form})], steps=100,
                       lr=0.03, momentum=0.8, scheduler=scheduler, backend=backend)
    run = race.runs[0]
    surface = race.surface
    expected = transcribed(form, optimizer == "nesterov", run.step_lr, run.step_momentum,
                           lambda p: np.array([p[0], surface.kappa * p[1]]),
                           run.start, 100)
    np.testing.assert_allclose(run.params, expected, rtol=1e-12, atol=1e-14)


def largest_difference(a, b):
    return float(np.max(np.abs(a.params - b.params)))


@pytest.mark.parametrize("optimizer", ("momentum", "nesterov"))
def test_equivalences(optimizer):
    def race(form, lr, **kw):
        return oc.simulate("ravine", [Run(optimizer, {"momentum_form": form, "lr": lr})],
                           steps=150, momentum=0.9, **kw).runs[0]

    beta, lr = 0.9, 0.03
    # a constant lr: sutskever is pytorch (rounding only)
    assert largest_difference(race("sutskever", lr), race("pytorch", lr)) < 1e-12
    # ema at γ is pytorch at γ(1 − β)
    assert largest_difference(race("ema", lr), race("pytorch", lr * (1 - beta))) < 1e-12
    # once the lr changes, pytorch and sutskever part ways
    parted = largest_difference(race("sutskever", lr, scheduler="step", step_size=20),
                                race("pytorch", lr, scheduler="step", step_size=20))
    assert parted > 1e-3


def test_dampening_beta_is_not_ema():
    beta = 0.9
    damped = oc.simulate("ravine", [Run("momentum", {"dampening": beta, "lr": 0.3})],
                         steps=100, momentum=beta).runs[0]
    ema = oc.simulate("ravine", [Run("momentum", {"momentum_form": "ema", "lr": 0.3})],
                      steps=100, momentum=beta).runs[0]
    # the first step: torch's buffer starts as g itself, undamped; the EMA's as (1 − β)g
    first = np.abs(damped.params[1] - ema.params[1])
    assert first.max() > 0.1 * np.abs(damped.params[1] - damped.params[0]).max()


# --- validation --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, parameter", [
    (dict(scheduler="nope"), "scheduler"),
    (dict(scheduler="step", gamma=-1.0), "gamma"),
    (dict(scheduler="step", max_lr=0.1), "max_lr"),
    (dict(scheduler="multistep", milestones="60,20"), "milestones"),
    (dict(scheduler="onecycle", pct_start=1.5), "pct_start"),
    (dict(scheduler="onecycle", base_momentum=0.99), "base_momentum"),
    (dict(scheduler="warmup-cosine", warmup_steps=500), "warmup_steps"),
    (dict(clip_grad_norm=-1.0), "clip_grad_norm"),
    (dict(clip_norm_type=0.0), "clip_norm_type"),
    (dict(clip_grad_value=0.0), "clip_grad_value"),
])
def test_bad_schedule_or_clip_names_the_parameter(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as error:
        oc.simulate("ravine", ["momentum"], steps=100, **kwargs)
    assert error.value.parameter == parameter
    assert parameter in str(error.value)


def test_forms_refuse_dampening():
    with pytest.raises(InvalidParameterError) as error:
        oc.simulate("ravine", [Run("momentum", {"momentum_form": "ema", "dampening": 0.5})])
    assert error.value.parameter == "dampening"


def test_milestones_read_a_comma_list():
    race = oc.simulate("ravine", ["momentum"], steps=80, lr=0.01, scheduler="multistep",
                       milestones="20,60", gamma=0.5)
    lr = race.runs[0].step_lr
    assert (lr[19], lr[20], lr[60]) == (0.01, 0.005, 0.0025)


def test_norm_type_inf_reads_inf():
    race = oc.simulate("ravine", ["sgd"], steps=5, clip_grad_norm=0.1,
                       clip_norm_type="inf")
    assert race.clip["clip_norm_type"] == math.inf
    assert np.abs(race.runs[0].grads[1:]).max() <= 0.1


# --- the app's settings: URL, store and CLI command carry the panel --------------------

def test_the_panel_round_trips_through_the_url_and_the_cli(tmp_path, monkeypatch):
    import settings as app_settings
    from optim_core.cli import main
    from optim_core.export import race_to_csv

    query = ("?surface=ravine&optimizers=momentum,adam&scheduler=onecycle&max_lr=0.05"
             "&three_phase=true&cycle_momentum=false&clip_grad_norm=1&clip_norm_type=inf"
             "&momentum_form=sutskever")
    chosen, notes = app_settings.from_query(query)
    assert notes == []
    assert chosen.training == {"scheduler": "onecycle", "max_lr": 0.05, "three_phase": True,
                               "cycle_momentum": False, "clip_grad_norm": 1.0,
                               "clip_norm_type": math.inf, "momentum_form": "sutskever"}
    assert app_settings.from_query(chosen.to_query())[0] == chosen
    assert app_settings.settings_from_state({"settings": chosen.to_dict()})[0] == chosen
    monkeypatch.chdir(tmp_path)
    assert main(chosen.cli_args()) == 0
    written = (tmp_path / chosen.export_name()).read_text()
    assert written == race_to_csv(chosen.simulate(state=True), state=True)  # --state


def test_a_bad_panel_value_in_a_link_is_ignored_with_a_note():
    import settings as app_settings

    chosen, notes = app_settings.from_query("?scheduler=step&gamma=-1")
    assert chosen.training == {} and any("gamma" in note for note in notes)
