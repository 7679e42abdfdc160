"""A tuned race in headless Chromium: click tune, progress, the racers at their tuned
values (their own, in the URL), the leaderboard card saying what was tuned and how."""

from __future__ import annotations

import pytest

from optim_core.tune import describe, tune
from settings import RaceSettings

from .pages import text, type_into, wait
from .test_sweep import page_settings

WATCH_PROGRESS_JS = """
window.tuneProgress = [];
const bar = document.getElementById('tune-progress');
new MutationObserver(() => window.tuneProgress.push(
    [bar.style.visibility, Number(bar.getAttribute('value')), Number(bar.getAttribute('max'))]
)).observe(bar, {attributes: true});
"""


def shown(driver, css: str) -> bool:
    return driver.find_element("css selector", css).is_displayed()


STEPS = 2000  # the longest a tuning takes: long enough for the progress to be seen


def test_tune_races_each_optimizer_at_its_tuned_values_and_says_so(page):
    driver = page.driver
    type_into(driver, "#steps-input", str(STEPS))
    wait(driver, lambda: page_settings(driver).get("steps") == str(STEPS), 20)
    assert shown(driver, "#tune-untuned-note") and not shown(driver, "#tune-table")
    assert "Untuned race" in text(driver, "#tune-untuned-note")
    driver.execute_script(WATCH_PROGRESS_JS)
    button = driver.find_element("css selector", "#tune-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait(driver, lambda: text(driver, "#tune-status").startswith("Tuned"), 180,
         "the tuning never ended")
    race = RaceSettings(steps=STEPS)
    surface = race.surface_object()
    expected = tune(surface, race.optimizers, steps=race.steps, start=race.start(surface),
                    own=race.overrides)
    cells = sum(64 * (64 if t.momentum_range else 1) for t in expected)
    seen = driver.execute_script("return window.tuneProgress")
    assert any(shown == "visible" and 0 < done <= total == cells  # it showed progress
               for shown, done, total in seen), seen
    wait(driver, lambda: page_settings(driver).get("adam.lr") is not None, 30,
         "the tuned values did not reach the race")
    url = page_settings(driver)
    for t in expected:
        assert float(url[f"{t.optimizer}.lr"]) == pytest.approx(t.values["lr"], rel=1e-12)
        if "momentum" in t.values:
            assert float(url[f"{t.optimizer}.momentum"]) == pytest.approx(
                t.values["momentum"], rel=1e-12)
    wait(driver, lambda: shown(driver, "#tune-table"), 20, "the tuned table stayed hidden")
    assert not shown(driver, "#tune-untuned-note")
    table = text(driver, "#tune-table")
    assert "criterion final-loss" in table
    for t in expected:
        row = describe(t)
        for cell in ("tuned", "metric", "sensitivity", "grid"):
            assert row[cell] in table, (t.optimizer, cell)

    type_into(driver, "#steps-input", "90")  # another race: no longer the one tuned
    wait(driver, lambda: shown(driver, "#tune-untuned-note"), 20,
         "a changed race still claimed to be tuned")
    assert not shown(driver, "#tune-table")
