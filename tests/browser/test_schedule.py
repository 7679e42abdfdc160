"""The schedule panel: a schedule changes the lr plot and the race, compare conventions
draws the three forms as racers, a bad parameter is named under its box."""

from __future__ import annotations

from .pages import race, text, type_into, wait, wait_for_change, wait_for_race

SCHEDULE_JS = """
const gd = document.querySelector('#schedule-graph .js-plotly-plot');
if (!gd || !gd._fullData || !gd._fullData.length) return null;
return {names: gd._fullData.map(t => t.name), lr: Array.from(gd._fullData[0].y)};
"""


def schedule_plot(driver):
    return driver.execute_script(SCHEDULE_JS)


def open_panel(driver):
    driver.execute_script("document.getElementById('schedule-panel').open = true")


def test_a_schedule_changes_the_lr_plot_and_the_race(page):
    driver = page.driver
    before = race(driver)
    wait(driver, lambda: schedule_plot(driver), 20, "no schedule plot")
    assert len(set(schedule_plot(driver)["lr"])) == 1  # constant
    driver.get(page.server_url + "/?scheduler=step&step_size=30")
    stepped = wait_for_change(driver, before)
    wait(driver, lambda: len(set((schedule_plot(driver) or {}).get("lr", []))) > 1, 20,
         "the lr plot stayed constant")
    lr = schedule_plot(driver)["lr"]
    assert lr[30] == lr[0] * 0.1 and "γ_t/(1 − μ_t)" in schedule_plot(driver)["names"]
    open_panel(driver)
    type_into(driver, "#scheduler-step-size-input", "10")  # its own box, typed
    wait_for_change(driver, stepped)
    wait(driver, lambda: schedule_plot(driver)["lr"][10] < schedule_plot(driver)["lr"][0],
         20, "the plot did not follow the typed step_size")
    wait(driver, lambda: "step_size=10" in driver.current_url, 20, "the URL kept 30")


def test_compare_conventions_draws_three_racers(page):
    driver = page.driver
    before = wait_for_race(driver)
    open_panel(driver)
    driver.find_element("css selector", "#compare-forms-switch input").click()
    after = wait_for_change(driver, before)
    names = after["names"]
    for optimizer in ("Momentum", "Nesterov"):
        assert {optimizer, f"{optimizer} (sutskever)", f"{optimizer} (ema)"} <= set(names)
    assert len(names) == len(before["names"]) + 4
    readout = text(driver, "#momentum-forms-readout")
    assert "sutskever vs pytorch" in readout and "dampening" in readout


def test_a_bad_scheduler_parameter_is_named(page):
    driver = page.driver
    driver.get(page.server_url + "/?scheduler=step")
    wait_for_race(driver)
    open_panel(driver)
    type_into(driver, "#scheduler-gamma-input", "-2")
    wait(driver, lambda: text(driver, "#scheduler-gamma-input-error") != "", 20,
         "no message")
    assert "-2" in text(driver, "#scheduler-gamma-input-error")


MARKER_JS = """
const gd = document.querySelector('#schedule-graph .js-plotly-plot');
const shape = gd && (gd.layout.shapes || []).find(s => s.name === 'step-marker');
return shape ? shape.x0 : null;
"""


def test_the_lr_plots_marker_follows_the_step_scrubber(page):
    from selenium.webdriver.common.keys import Keys

    driver = page.driver
    driver.get(page.server_url + "/?scheduler=cosine&steps=100")
    wait_for_race(driver)
    wait(driver, lambda: driver.execute_script(MARKER_JS) == 100, 20,
         "the marker is not at the race's end")
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    driver.find_element("css selector", "body").send_keys(Keys.HOME)
    wait(driver, lambda: driver.execute_script(MARKER_JS) == 0, 20,
         "Home did not move the lr plot's marker to step 0")
    for _ in range(3):
        driver.find_element("css selector", "body").send_keys(Keys.ARROW_RIGHT)
    wait(driver, lambda: driver.execute_script(MARKER_JS) == 3, 20,
         "→ did not move the marker with the scrubber")
