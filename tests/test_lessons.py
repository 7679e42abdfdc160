"""The lessons: each race runs, its text carries the engine's numbers, its claim holds."""

import math

import numpy as np
import pytest

import optim_core as oc
from optim_core import lessons, theory
from optim_core.cli import main
from optim_core.doctor import diagnose, fmt, overshoot
from optim_core.lessons import LESSONS, lesson_race, lesson_text, race_of

ISSUE_LESSONS = ("ravine", "stable-lr", "beta", "momentum-099", "saddle", "nesterov",
                 "polyak", "batch", "adam-rosenbrock")


def text_of(name, race=None):
    lesson = LESSONS[name]
    return lesson.text_for(lesson_race(lesson) if race is None else race)


def test_the_nine_lessons_each_with_its_own_link_name_and_prompt():
    assert tuple(LESSONS) == ISSUE_LESSONS
    for name, lesson in LESSONS.items():
        assert lesson.name == name and name.replace("-", "").isalnum()
        assert lesson.title and lesson.try_this
        race = lesson_race(lesson)
        assert len(race.runs) == len(lesson.settings["optimizers"])
        assert all(np.isfinite(run.loss).all() for run in race.runs)


@pytest.mark.parametrize("name", ISSUE_LESSONS)
def test_each_text_follows_the_race_it_is_given(name):
    """The text is computed from the race: another race gives another text."""
    lesson = LESSONS[name]
    race = lesson_race(lesson)
    other = race_of(lesson.settings, lr=0.8 * lesson.settings["lr"])
    assert lesson.text_for(race) != lesson.text_for(other)


def test_ravine_lesson_is_the_pages_race_and_its_finals_side_by_side():
    settings = LESSONS["ravine"].settings
    race = lesson_race(LESSONS["ravine"])
    sgd, momentum = race.runs
    assert race.surface.hessian(0, 0)[2] == 25 and sgd.start == (6.0, 6.0) and race.steps == 60
    assert sgd.hyperparameters["lr"] == 0.08 and settings["sgd.lr"] == 0.08
    assert momentum.hyperparameters == {**momentum.hyperparameters, "lr": 0.02,
                                        "momentum": 0.9}
    text = text_of("ravine")
    assert f"sgd (lr 0.08): loss {fmt(sgd.final_loss)}" in text
    assert f"momentum (lr 0.02, μ 0.9): loss {fmt(momentum.final_loss)}" in text
    # the pages' lr 0.08 is exactly 2/L: SGD's steep coordinate bounces forever
    assert abs(sgd.params[-1, 1]) == pytest.approx(6.0)
    assert "exactly 2/L = 0.08" in text and momentum.final_loss < sgd.final_loss / 100
    rate = theory.measured_rate(momentum.loss, 0.0)
    assert f"measured {fmt(rate)}" in text


def test_stable_lr_lesson_just_below_oscillates_and_just_above_diverges():
    race = lesson_race(LESSONS["stable-lr"])
    limit = theory.max_stable_lr("sgd", theory.curvature(race.surface).L)
    assert race.runs[0].hyperparameters["lr"] < limit
    assert diagnose(race)[0].verdict == "oscillating"
    above = oc.simulate("ravine", ["sgd"], lr=lessons.NEAR_LIMIT[1] * limit, steps=race.steps)
    assert diagnose(above)[0].verdict == "diverged"
    text = text_of("stable-lr")
    assert f"lr < 2/L = {fmt(limit)}" in text and f"= {fmt(lessons.NEAR_LIMIT[1] * limit)}: " \
        "diverged at step 1" in text


def test_beta_lesson_table_is_the_engine_s_losses_at_steps_1_5_20():
    race = lesson_race(LESSONS["beta"])
    assert race.surface.name == "regression" and race.surface.points is None
    np.testing.assert_array_equal(race.surface.data_x, [-1.414, -0.707, 0, 0.707, 1.414])
    text = text_of("beta")
    for beta in lessons.BETAS:
        run = oc.simulate("regression", [oc.Run("momentum", {"momentum": beta})], lr=0.1,
                          steps=20).runs[0]
        row = f"{beta:<6g}" + "".join(f"{run.loss[k]:<13.4g}" for k in (1, 5, 20))
        assert row in text
    assert "At step 20 β = 0.5 is best" in text


def test_high_momentum_lesson_effective_lr_and_heavy_ball_limit():
    race = lesson_race(LESSONS["momentum-099"])
    (run,) = race.runs
    text = text_of("momentum-099")
    assert f"γ/(1 − μ) is {fmt(theory.effective_lr(0.02, 0.99))}" in text
    limit = theory.max_stable_lr("momentum", 25.0, 0.99)
    assert f"2(1 + μ)/L = {fmt(limit)}" in text
    # the pages' claim does not hold here: below the limit it rings, it does not diverge
    assert run.diverged_at is None and "does not diverge" in text
    assert theory.measured_rate(run.loss, 0.0) == pytest.approx(math.sqrt(0.99), abs=2e-3)
    above = race_of(LESSONS["momentum-099"].settings, lr=1.05 * limit)
    assert above.runs[0].diverged_at is not None


def test_saddle_lesson_momentum_escapes_sooner_and_sgd_plateaus():
    race = lesson_race(LESSONS["saddle"])
    escapes = lessons.saddle_escapes(race)
    level = lessons.escape_level(race)
    assert level == pytest.approx(-0.125)
    momentum_escape = escapes["momentum"]
    assert momentum_escape is not None
    assert escapes["sgd"] is None or escapes["sgd"] > momentum_escape
    sgd, momentum = diagnose(race)
    assert sgd.verdict == "plateau" and "negative along y" in sgd.cause
    text = text_of("saddle")
    assert f"escapes at step {momentum_escape}" in text and sgd.cause in text


def test_nesterov_lesson_overshoots_less_than_momentum_by_a_measured_amount():
    race = lesson_race(LESSONS["nesterov"])
    momentum, nesterov = race.runs
    swing = {run.optimizer: overshoot(run, race.surface) for run in race.runs}
    assert 0 < swing["nesterov"] < 0.9 * swing["momentum"]
    text = text_of("nesterov")
    for run in race.runs:
        assert f"by {fmt(swing[run.optimizer])} of its farthest distance" in text
    assert nesterov.final_loss < momentum.final_loss


def test_polyak_lesson_predicted_against_measured_rates():
    race = lesson_race(LESSONS["polyak"])
    c = theory.curvature(race.surface)
    root = math.sqrt(c.kappa)
    text = text_of("polyak")
    assert f"(√κ − 1)/(√κ + 1) = {fmt((root - 1) / (root + 1))}" in text
    assert f"(κ − 1)/(κ + 1) = {fmt((c.kappa - 1) / (c.kappa + 1))}" in text
    for run in race.runs:
        measured = theory.measured_rate(run.loss, 0.0)
        assert f"measured {fmt(measured)}" in text
    sgd, momentum = (theory.measured_rate(run.loss, 0.0) for run in race.runs)
    assert sgd == pytest.approx((c.kappa - 1) / (c.kappa + 1), abs=1e-3)
    assert momentum == pytest.approx((root - 1) / (root + 1), abs=0.03)  # k·ρ^k: a bit above


def test_batch_lesson_linear_scaling_rule():
    race = lesson_race(LESSONS["batch"])
    variants = lessons.batch_variants(race)
    base, batch_only, both = (variants[key] for key in variants)
    floors = [lessons.noise_floor(r) for r in (base, batch_only, both)]
    level = lessons.REACH_FACTOR * max(floors)
    steps = [lessons.reach_step(r, level) for r in (base, batch_only, both)]
    # doubling batch and lr keeps the noise floor and halves the steps (same samples)
    assert 0.7 < floors[2] / floors[0] < 1.4 and 0.35 < steps[2] / steps[0] < 0.65
    # doubling the batch alone lowers the floor and takes about as many steps
    assert floors[1] < 0.5 * floors[0] and 0.8 < steps[1] / steps[0] < 1.2
    text = text_of("batch")
    for floor, step in zip(floors, steps, strict=True):
        assert f"noise floor {fmt(floor)}, gap {fmt(level)} reached at step {step}" in text


def test_adam_lesson_reports_the_leaderboard():
    race = lesson_race(LESSONS["adam-rosenbrock"])
    text = text_of("adam-rosenbrock")
    for summary in oc.leaderboard(race):
        assert f"loss {fmt(summary.final_loss)}" in text
    best = min(race.runs, key=lambda r: r.final_loss).optimizer
    assert f"Lower at the end: {best}." in text


def test_lesson_cli_lists_and_prints(capsys):
    assert main(["lesson", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ISSUE_LESSONS)
    assert main(["lesson", "nesterov"]) == 0
    assert capsys.readouterr().out == lesson_text(LESSONS["nesterov"]) + "\n"
    assert main(["lesson", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nope'" in err


@pytest.mark.parametrize("name", ISSUE_LESSONS)
def test_each_text_reads_any_race_the_app_may_give_it(name):
    """The current race may race other optimizers, drop a batch, leave the surface."""
    lesson = LESSONS[name]
    settings = {k: v for k, v in lesson.settings.items() if "." not in k}
    settings["momentum"] = settings["momentum"] or 0.5  # nesterov needs μ > 0
    everyone = race_of(settings, optimizers=sorted(oc.OPTIMIZERS), batch_size=None)
    assert lesson.text_for(everyone)
    for needed in lesson.needs:
        others = race_of(settings, optimizers=[n for n in ("adam", "nesterov") if n != needed])
        assert lesson.text_for(others) == (f"This lesson's text reads {needed}: add it to "
                                           "the race.")
    elsewhere = "saddle" if settings["surface"] != "saddle" else "ravine"
    moved = race_of({k: v for k, v in settings.items() if k not in ("points", "batch_size")},
                    surface=elsewhere)
    assert "race on it to read it" in lesson.text_for(moved)
