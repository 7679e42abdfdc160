"""Issue 19's app half without a browser: the doctor's fixes applied through the app's
settings and callbacks, lessons as race settings and links, the embedded view's keys."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from dash.exceptions import PreventUpdate

from callbacks.teach import doctor_view, fix_request, lesson_view
from layouts.components import to_html
from optim_core import doctor
from optim_core.doctor import diagnose
from optim_core.lessons import LESSONS, lesson_race
from optim_core.params import LIMITS
from settings import (
    RaceSettings,
    apply_fix,
    from_query,
    lesson_settings,
    parse_controls,
)


def state_of(settings: RaceSettings) -> dict:
    """The race store as the race callback writes it."""
    return {"settings": settings.to_dict(), "query": settings.to_query(), "cause": "other"}


def verdicts(settings: RaceSettings) -> dict:
    return {d.optimizer: d for d in diagnose(settings.simulate())}


def applied(settings: RaceSettings, optimizer: str) -> tuple[RaceSettings, dict]:
    """The race after clicking ``optimizer``'s apply-fix button: the query the callback
    hands to the controls, read back as the page reads a URL."""
    answer = fix_request(state_of(settings), optimizer)
    fixed, notes = from_query(answer["query"])
    assert notes == []
    return fixed, answer["applied"]


RAVINE = RaceSettings.preset("ravine")
# (case, settings, the run whose fix is applied, its verdict)
CASES = [
    ("diverged", replace(RAVINE, optimizers=("sgd", "adam"), lr=0.085, steps=60), "sgd",
     "diverged"),
    ("oscillating", replace(RAVINE, optimizers=("sgd",), lr=0.075, steps=60), "sgd",
     "oscillating"),
    ("overshooting", replace(RAVINE, optimizers=("momentum", "nesterov"), lr=0.02,
                             momentum=0.9, steps=60), "momentum", "overshooting"),
    ("plateau", replace(RaceSettings.preset("saddle"), optimizers=("sgd",), lr=0.01,
                        steps=300, x0=-2.0, y0=0.01), "sgd", "plateau"),
    ("on the ridge", replace(RaceSettings.preset("saddle"), optimizers=("sgd", "momentum"),
                             lr=0.01, momentum=0.9, steps=300, x0=-2.0, y0=0.0), "momentum",
     "plateau"),
    ("slow", replace(RAVINE, optimizers=("sgd", "adam"), lr=0.005, steps=200), "sgd", "slow"),
    ("slow for its budget", replace(RaceSettings.preset("rosenbrock"), optimizers=("adam",),
                                    steps=300), "adam", "slow"),
]


@pytest.mark.parametrize(("case", "settings", "optimizer", "verdict"), CASES,
                         ids=[c[0] for c in CASES])
def test_applying_each_fix_in_the_app_makes_the_verdict_better(case, settings, optimizer,
                                                               verdict):
    before = verdicts(settings)[optimizer]
    assert before.verdict == verdict, before
    fixed, record = applied(settings, optimizer)
    assert fixed != settings
    after = verdicts(fixed)
    target = before.apply.get("optimizer", optimizer)
    cured = after[target]
    assert cured.verdict not in (verdict, "diverged"), (case, cured)
    race_before, race_after = settings.simulate(), fixed.simulate()
    loss = {run.optimizer: run.final_loss for run in race_after.runs}
    assert loss[target] < next(r.final_loss for r in race_before.runs
                               if r.optimizer == optimizer)
    assert record["optimizer"] == optimizer and record["target"] == target
    assert record["before"].startswith(verdict)
    # the other racers run as they did
    for run in race_before.runs:
        if run.optimizer not in (optimizer, target) and "steps" not in before.apply \
                and "start" not in before.apply:
            other = next(r for r in race_after.runs if r.optimizer == run.optimizer)
            assert other.hyperparameters == run.hyperparameters


def test_an_lr_fix_moves_the_slider_when_the_run_alone_follows_it():
    settings = CASES[0][1]  # SGD diverges; Adam has its own lr
    fixed, record = applied(settings, "sgd")
    assert fixed.lr == 0.085 / 2 and fixed.overrides == settings.overrides
    assert record["changed"] == "lr slider 0.085 → 0.0425"


def test_an_lr_fix_is_the_runs_own_when_others_follow_the_slider():
    settings = replace(RAVINE, optimizers=("sgd", "momentum"), lr=0.085, momentum=0.0,
                       steps=60)
    fixed, _ = applied(settings, "sgd")
    assert fixed.lr == 0.085 and fixed.overrides["sgd"] == {"lr": 0.085 / 2}


def test_a_switch_to_momentum_adds_it_at_the_runs_lr_with_its_own_mu():
    settings = CASES[5][1]  # slow SGD beside Adam, who follows the μ slider
    fix = verdicts(settings)["sgd"].apply
    fixed, _ = applied(settings, "sgd")
    assert fixed.optimizers == ("sgd", "momentum", "adam")
    assert fixed.overrides["momentum"] == {"momentum": fix["momentum"]}  # lr: the slider's
    assert fixed.momentum == settings.momentum  # Adam's β₁ stays


def test_a_ridge_fix_moves_the_start_and_a_steps_fix_the_budget():
    fixed, _ = applied(CASES[4][1], "momentum")
    assert (fixed.x0, fixed.y0) == tuple(verdicts(CASES[4][1])["momentum"].apply["start"])
    fixed, record = applied(CASES[6][1], "adam")
    assert fixed.steps == verdicts(CASES[6][1])["adam"].apply["steps"] > 300
    assert record["changed"].startswith("steps 300 → ")


def test_a_fix_already_in_the_race_says_so():
    settings = lesson_settings("saddle")  # momentum 0.9 races beside SGD already
    assert verdicts(settings)["sgd"].apply == {"optimizer": "momentum", "momentum": 0.9}
    fixed, said = apply_fix(settings, "sgd", {"optimizer": "momentum", "momentum": 0.9})
    assert fixed == settings and said.startswith("nothing to change")


def test_a_fix_that_breaks_a_rule_of_the_race_gets_a_message():
    fixed, said = apply_fix(RAVINE, "sgd", {"steps": LIMITS["steps"] + 1})
    assert fixed is None and said.startswith("The fix does not fit this race: Must be")
    assert str(LIMITS["steps"] + 1) in said


def test_a_fix_request_names_only_a_racing_optimizer():
    with pytest.raises(PreventUpdate):
        fix_request(state_of(RAVINE), "lion")
    with pytest.raises(PreventUpdate):
        fix_request({"settings": {"lr": "a"}}, "sgd")
    converged = replace(RAVINE, optimizers=("sgd",), lr=0.07, steps=300)
    assert fix_request(state_of(converged), "sgd") == {"message": "sgd: nothing to fix."}


def test_the_doctor_panel_has_a_line_and_an_apply_button_per_run_to_fix():
    settings = replace(RAVINE, optimizers=("sgd", "momentum", "adam"), lr=0.085, steps=60)
    view = doctor_view(state_of(settings), None)
    diagnoses = diagnose(settings.simulate())
    buttons = re.findall(r'<button[^>]*name="apply-fix"[^>]*value="(\w+)"', view["doctor"])
    assert buttons == [d.optimizer for d in diagnoses if d.apply]
    for d in diagnoses:  # a converged run says only that, with its step
        assert to_html(d.cause if d.verdict != "converged" else f"from step {d.step}") \
            in view["doctor"]
    assert "diverged at step 1" in view["doctor"] and view["note"] is None
    # after a fix, the note says what changed, the verdict before and the one now
    fixed, record = applied(replace(settings, optimizers=("sgd", "adam")), "sgd")
    note = to_html(doctor_view(state_of(fixed), record)["note"])
    now = verdicts(fixed)["sgd"]
    assert "Before: SGD diverged at step 1" in note and f"SGD {now.verdict}" in note
    assert doctor_view(state_of(RAVINE), record)["note"] is None  # another race


@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_is_a_race_setting_with_its_own_link(name):
    settings = lesson_settings(name)
    assert settings.to_query() == f"?lesson={name}"
    assert from_query(f"?lesson={name}") == (settings, [])
    assert parse_controls(settings.to_dict()) == (settings, {})  # the controls keep it
    # the app's race is the lesson's: the same text as the CLI prints
    lesson = LESSONS[name]
    assert lesson.text_for(settings.simulate()) == lesson.text_for(lesson_race(lesson))
    shown = to_html(lesson_view(state_of(settings)))
    assert to_html(lesson.try_this) in shown and "You changed" not in shown
    # changed, the link holds the race and the lesson; the text reads the race as it is
    changed = replace(settings, steps=settings.steps + 7)
    assert "lesson=" + name in changed.to_query()
    assert from_query(changed.to_query()) == (changed, [])
    shown = to_html(lesson_view(state_of(changed)))
    assert "You changed" in shown
    assert to_html(lesson.text_for(changed.simulate()).split("\n")[0]) in shown


def test_a_race_that_left_the_lessons_surface_says_so():
    settings = replace(RaceSettings.preset("rosenbrock"), lesson="saddle")
    shown = to_html(lesson_view(state_of(settings)))
    assert "about the saddle surface" in shown
    assert lesson_view(state_of(RAVINE)) == []


def test_the_views_keys_are_no_race_settings_and_bad_ones_get_a_note():
    assert from_query("?lesson=beta&embed=1&controls=lr") == (lesson_settings("beta"), [])
    assert from_query("?embed=1&controls=lr,momentum") == (RaceSettings(), [])
    settings, notes = from_query("?lesson=nope&embed=yes&controls=lr,zoom")
    assert settings == RaceSettings()
    assert ["embed='yes'" in notes[0], "'zoom'" in notes[1], "lesson='nope'" in notes[2]] \
        == [True] * 3


@pytest.mark.parametrize("bad", ["nope", ["ravine"], 3])
def test_a_crafted_lesson_value_gets_a_message_naming_it(bad):
    settings, errors = parse_controls({**RAVINE.to_dict(), "lesson": bad})
    assert settings is None and repr(bad)[:20] in errors["lesson"]


def test_the_doctors_plateau_constants_move_the_start_by_the_saddle_radius():
    (d,) = diagnose(replace(CASES[4][1], optimizers=("momentum",)).simulate())
    assert d.apply["start"][1] == pytest.approx(doctor.SADDLE_RADIUS * (5 ** 2 + 4 ** 2) ** 0.5)
