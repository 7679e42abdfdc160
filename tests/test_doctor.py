"""The doctor: each verdict built on a surface, its numbers from theory, its fix works."""

import json

import numpy as np
import pytest

import optim_core as oc
from optim_core import doctor, theory
from optim_core.analysis import TOLERANCE, steps_to_tolerance
from optim_core.cli import main
from optim_core.doctor import diagnose, fmt
from optim_core.params import constraint_for

# (case, surface, optimizer, settings, verdict): one race per verdict
CASES = [
    ("diverging", "ravine", "sgd", {"lr": 0.085, "steps": 60}, "diverged"),
    ("blown up", "ravine", "sgd", {"lr": 0.5, "steps": 60}, "diverged"),
    ("zig-zag", "ravine", "sgd", {"lr": 0.075, "steps": 60}, "oscillating"),
    ("ringing", "ravine", "momentum", {"lr": 0.02, "momentum": 0.9, "steps": 60},
     "overshooting"),
    ("ringing fit", "regression", "momentum", {"lr": 0.1, "momentum": 0.9, "steps": 20},
     "overshooting"),
    ("saddle", "saddle", "sgd", {"lr": 0.01, "steps": 300}, "plateau"),
    ("on the ridge", "saddle", "momentum", {"lr": 0.01, "steps": 300, "start": (-2.0, 0.0)},
     "plateau"),
    ("crawl", "ravine", "sgd", {"lr": 0.005, "steps": 200}, "slow"),
    ("banana", "rosenbrock", "momentum", {"lr": 0.001, "momentum": 0.9, "steps": 500},
     "slow"),
    ("adam crawl", "ravine", "adam", {"lr": 0.001, "steps": 100}, "slow"),
    ("done", "ravine", "sgd", {"lr": 0.07, "steps": 300}, "converged"),
]
IDS = [case[0] for case in CASES]


def race_of(surface, optimizer, settings, fix=None):
    """The race of ``settings``, with a diagnosis' ``apply`` merged in."""
    merged = {**settings, **(fix or {})}
    optimizer = merged.pop("optimizer", optimizer)
    return oc.simulate(surface, [optimizer], **merged)


@pytest.mark.parametrize(("case", "surface", "optimizer", "settings", "verdict"), CASES,
                         ids=IDS)
def test_each_verdict_on_its_race(case, surface, optimizer, settings, verdict):
    (diagnosis,) = diagnose(race_of(surface, optimizer, settings))
    assert diagnosis.verdict == verdict, diagnosis


@pytest.mark.parametrize(("case", "surface", "optimizer", "settings", "verdict"),
                         [c for c in CASES if c[4] != "converged"],
                         ids=[c[0] for c in CASES if c[4] != "converged"])
def test_applying_the_fix_makes_it_better(case, surface, optimizer, settings, verdict):
    before = race_of(surface, optimizer, settings)
    (diagnosis,) = diagnose(before)
    assert diagnosis.apply
    after = race_of(surface, optimizer, settings, diagnosis.apply)
    (cured,) = diagnose(after)
    assert cured.verdict != "diverged", cured
    if before.runs[0].diverged_at is None:
        assert after.runs[0].final_loss < before.runs[0].final_loss
    # a symptom goes; a slow run may stay slow, but much nearer the minimum
    if cured.verdict == verdict:
        assert verdict == "slow", cured
        assert after.runs[0].final_loss < before.runs[0].final_loss / 100


def test_the_fixes_converge_where_theory_says_they_are_fast():
    for case in ("zig-zag", "saddle", "crawl"):
        _, surface, optimizer, settings, _ = CASES[IDS.index(case)]
        (diagnosis,) = diagnose(race_of(surface, optimizer, settings))
        (cured,) = diagnose(race_of(surface, optimizer, settings, diagnosis.apply))
        assert cured.verdict == "converged", (case, cured)


def test_diverging_names_the_stability_limit_and_halves_the_lr():
    race = race_of("ravine", "sgd", {"lr": 0.085, "steps": 60})
    (d,) = diagnose(race)
    limit = theory.max_stable_lr("sgd", theory.curvature(race.surface).L)
    assert f"lr 0.085 > 2/L = {fmt(limit)} for this surface" in d.cause
    assert fmt(limit) == "0.08"
    assert d.apply == {"lr": 0.085 / 2} and "halve it" in d.fix
    # the step: the first whose loss rose above the start's
    assert d.step == int(np.argmax(race.runs[0].loss > race.runs[0].loss[0]))


def test_a_blown_up_run_gets_half_the_limit_when_half_its_lr_is_still_unstable():
    race = race_of("ravine", "sgd", {"lr": 0.5, "steps": 60})
    (d,) = diagnose(race)
    assert d.step == race.runs[0].diverged_at is not None
    limit = theory.max_stable_lr("sgd", 25.0)
    assert d.apply == {"lr": limit / 2} and fmt(limit / 2) in d.fix


def test_heavy_ball_limit_is_read_on_the_curvature_the_path_met():
    race = oc.simulate("ravine", ["momentum"], lr=0.2, momentum=0.5, steps=60)
    (d,) = diagnose(race)
    limit = theory.max_stable_lr("momentum", 25.0, 0.5)
    assert d.verdict == "diverged"
    assert f"2(1+μ)/L = {fmt(limit)}" in d.cause and d.apply == {"lr": 0.1}


def test_oscillating_and_overshooting_fixes_are_theory_s_fastest_momentum():
    race = race_of("ravine", "sgd", {"lr": 0.075, "steps": 60})
    (d,) = diagnose(race)
    mu, best = doctor.fastest_momentum("momentum", 0.075, race.surface)
    # heavy ball is fastest at lr γ with the slow direction critically damped
    assert mu == pytest.approx((1 - np.sqrt(0.075 * 1.0)) ** 2, abs=1e-3)
    assert d.apply == {"optimizer": "momentum", "momentum": mu}
    assert f"raise μ to {fmt(mu)}" in d.fix and f"predicted rate {fmt(best)}" in d.fix
    now = theory.predicted_rate("sgd", 0.075, (1.0, 25.0))
    assert f"against {fmt(now)}" in d.fix
    race = race_of("ravine", "momentum", {"lr": 0.02, "momentum": 0.9, "steps": 60})
    (d,) = diagnose(race)
    mu, _ = doctor.fastest_momentum("momentum", 0.02, race.surface, below=0.9)
    assert d.apply == {"momentum": mu} and f"lower μ to {fmt(mu)}" in d.fix
    assert f"overshoots by {fmt(doctor.overshoot(race.runs[0], race.surface))}" in d.cause


def test_plateau_names_the_negative_curvature_direction_from_the_hessian():
    race = race_of("saddle", "sgd", {"lr": 0.01, "steps": 300})
    (d,) = diagnose(race)
    first, last = doctor.plateau_stretch(race.runs[0], race.surface)
    assert d.step == first and last - first + 1 >= doctor.PLATEAU_STEPS
    x, y = race.runs[0].params[first:last + 1].mean(axis=0)
    fxx, _, fyy = race.surface.hessian(x, y)
    assert fyy < 0 < fxx
    assert "negative along y" in d.cause and f"eigenvalue {fmt(float(fyy))}" in d.cause
    assert d.apply == {"optimizer": "momentum", "momentum": 0.9}


@pytest.mark.parametrize("start", [(0.0, 0.0), (-2.0, 0.0)])
def test_a_path_on_the_ridge_gets_its_start_moved_off_it(start):
    """From the saddle, or from its stable line y = 0, the gradient never has a y part:
    momentum cannot help (it is zero too); the fix moves the start along y."""
    race = oc.simulate("saddle", ["sgd", "momentum"], lr=0.01, steps=300, start=start)
    for d in diagnose(race):
        assert d.verdict == "plateau" and "never leaves the ridge" in d.cause
        (x0, y0) = d.apply["start"]
        assert x0 == start[0] and y0 == pytest.approx(
            doctor.SADDLE_RADIUS * np.hypot(5, 4))  # the saddle's 5 × 4 window
        assert f"to ({x0:.3g}, {y0:.3g})" in d.fix
        moved = oc.simulate("saddle", [d.optimizer], lr=0.01, steps=300, start=(x0, y0))
        assert diagnose(moved)[0].verdict != "plateau"


def test_a_curved_valley_is_slow_not_a_saddle():
    """Rosenbrock's valley has negative curvature too, but no critical point near."""
    race = oc.simulate("rosenbrock", ["sgd"], lr=0.001, steps=500)
    assert doctor.plateau_stretch(race.runs[0], race.surface) is None
    assert diagnose(race)[0].verdict == "slow"


def test_slow_sgd_gets_momentum_at_theory_s_fastest_value():
    race = race_of("ravine", "sgd", {"lr": 0.005, "steps": 200})
    (d,) = diagnose(race)
    mu, _ = doctor.fastest_momentum("sgd", 0.005, race.surface)
    assert d.apply == {"optimizer": "momentum", "momentum": mu}
    gap = race.runs[0].final_loss
    assert f"loss gap {fmt(gap)} after 200 steps" in d.cause
    assert f"measured rate {fmt(theory.measured_rate(race.runs[0].loss, 0.0))}" in d.cause


def test_slow_at_the_fastest_momentum_asks_for_the_steps_the_measured_rate_needs():
    race = oc.simulate("rosenbrock", ["adam"], lr=0.05, steps=300)
    (d,) = diagnose(race)
    assert d.verdict == "slow"
    gap = race.runs[0].final_loss
    rho = theory.measured_rate(race.runs[0].loss, 0.0)
    # f − f* ≈ C·ρ^{2k}: the steps that take the gap from here to the tolerance
    needed = 300 + int(np.ceil(np.log(gap / TOLERANCE) / (-2 * np.log(rho))))
    assert d.apply == {"steps": needed} and f"about {needed}" in d.fix
    assert diagnose(oc.simulate("rosenbrock", ["adam"], lr=0.05, steps=needed))[0].verdict \
        == "converged"


def test_a_crawling_adaptive_method_gets_the_lr_that_covers_the_distance():
    race = race_of("ravine", "adam", {"lr": 0.001, "steps": 100})
    (d,) = diagnose(race)
    distance = float(np.linalg.norm(race.runs[0].params[-1]))
    assert d.apply == {"lr": distance / 100} and f"still {fmt(distance)} from" in d.fix


def test_noisy_mini_batches_ringing_about_the_minimum_get_a_smaller_lr():
    settings = {"lr": 0.05, "steps": 400, "points": 100, "batch_size": 8}
    race = race_of("regression", "sgd", settings)
    (d,) = diagnose(race)
    assert d.verdict == "overshooting" and "noisy" in d.cause and d.apply == {"lr": 0.025}
    calmer = race_of("regression", "sgd", settings, d.apply)
    tail = slice(-100, None)
    assert np.mean(calmer.runs[0].loss[tail]) < np.mean(race.runs[0].loss[tail])


def test_converged_gives_the_step_it_got_there():
    race = race_of("ravine", "sgd", {"lr": 0.07, "steps": 300})
    (d,) = diagnose(race)
    assert d.step == steps_to_tolerance(race.runs[0].loss, 0.0, TOLERANCE)
    assert d.apply == {}


def test_diagnose_cli_prints_verdict_step_cause_and_fix(capsys):
    assert main(["diagnose", "--optimizer", "sgd,momentum", "--lr", "0.085",
                 "--steps", "60"]) == 0
    out = capsys.readouterr().out
    race = oc.simulate("ravine", ["sgd", "momentum"], lr=0.085, steps=60)
    for d in diagnose(race):
        head = f"{d.optimizer}: {d.verdict}" + ("" if d.step is None else f" at step {d.step}")
        assert f"{head}\n  cause: {d.cause}\n  fix: {d.fix}\n" in out


def test_diagnose_cli_json_is_one_object_per_run_with_apply(capsys):
    assert main(["diagnose", "--surface", "saddle", "--optimizer", "sgd", "--optimizer",
                 "momentum", "--lr", "0.01", "--steps", "300", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    race = oc.simulate("saddle", ["sgd", "momentum"], lr=0.01, steps=300)
    assert rows == [d.as_dict() for d in diagnose(race)]
    assert [set(r) for r in rows] == [{"optimizer", "verdict", "step", "cause", "fix",
                                       "apply"}] * 2
    assert rows[0]["verdict"] == "plateau"


@pytest.mark.parametrize(("args", "flag"), [
    (["--lr", "-1"], "--lr"), (["--optimizer", "sgdd"], "--optimizer"),
    (["--steps", "0"], "--steps"), (["--kappa", "3", "--surface", "saddle"], "--kappa"),
])
def test_diagnose_bad_flags_exit_2_with_one_line(args, flag, capsys):
    assert main(["diagnose", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err and "Traceback" not in err


def test_every_race_gets_a_diagnosis_whose_fix_is_valid_settings():
    """Random races (short, long, noisy, from the minimum) never break the doctor, and
    every ``apply`` is finite settings that simulate accepts."""
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(150):
        surface = str(rng.choice(oc.SURFACES))
        optimizer = str(rng.choice(sorted(oc.OPTIMIZERS)))
        takes_zero = constraint_for(optimizer, "momentum").coerce(0.0) is not None  # not
        # nesterov nor Schedule-Free
        momentum = float(rng.choice([0.5, 0.9, 0.99] + ([0.0] * takes_zero)))
        settings = {"lr": float(10 ** rng.uniform(-4, 0.5)), "momentum": momentum,
                    "steps": int(rng.choice([1, 2, 3, 10, 100, 400])),
                    "noise": float(rng.choice([0.0, 0.3]))}
        if rng.random() < 0.15:
            settings["start"] = oc.get_surface(surface).minima[0]
        race = race_of(surface, optimizer, settings)
        (d,) = diagnose(race)
        seen.add(d.verdict)
        assert d.verdict in doctor.VERDICTS and d.cause and d.fix
        assert all(np.isfinite(v).all() for v in d.apply.values() if not isinstance(v, str))
        assert "nan" not in d.cause + d.fix
        race_of(surface, optimizer, settings, d.apply)
    assert seen == set(doctor.VERDICTS)
