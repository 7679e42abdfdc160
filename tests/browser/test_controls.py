"""The controls say what runs: typed values, messages, history, per-optimizer settings."""

from __future__ import annotations

import pytest

from .pages import press, race, text, type_into, value, wait, wait_for_change


@pytest.mark.parametrize(("slider", "box", "typed", "in_url"), [
    ("#momentum-slider", "#momentum-input", "0.8", "momentum=0.8&"),
    ("#lr-slider", "#lr-input", "0.03", "lr=0.03&"),
])
def test_typing_back_the_value_before_a_slider_move_is_used(page, slider, box, typed, in_url):
    driver = page.driver
    before = race(driver)
    press(driver, f"{slider} [role=slider]", times=5)
    moved = wait_for_change(driver, before)
    assert value(driver, box) != typed
    type_into(driver, box, typed)  # the value the box held before the slider moved
    wait(driver, lambda: in_url in driver.current_url, 20, "the URL kept the slider's value")
    assert race(driver)["paths"] == before["paths"] != moved["paths"]


@pytest.mark.parametrize(("box", "typed", "shown"), [
    ("#momentum-input", "-0.1", "-0.1"), ("#momentum-input", "1", "1"),
    ("#lr-input", "-0.1", "-0.1"), ("#steps-input", "2.5", "2.5"),
    ("#steps-input", "100000", "100000"), ("#kappa-input", "0.5", "0.5"),
])
def test_a_bad_typed_value_is_named_in_its_message(page, box, typed, shown):
    driver = page.driver
    type_into(driver, box, typed)
    error = f"{box}-error"
    wait(driver, lambda: text(driver, error) != "", 20, "no message")
    assert "nothing" not in text(driver, error) and shown in text(driver, error)
