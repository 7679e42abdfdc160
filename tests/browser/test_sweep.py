"""The phase diagram in headless Chromium: a background sweep, progress, cancel, click a
cell to race there, switch the metric, export the grid."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from callbacks.state import RaceSettings, SweepSettings
from layouts.figures import THEMES
from optim_core.sweep import sweep_to_csv

from .pages import text, type_into, value, wait

HEATMAP_JS = """
const gd = document.querySelector('#sweep-graph .js-plotly-plot');
if (!gd || !gd._fullData || gd._fullData.length < 4) return null;
const shown = gd._fullData.slice(0, 3).find(t => t.visible === true && t.z);
if (!shown) return null;
return {visible: gd._fullData.slice(0, 3).map(t => t.visible === true),
        rows: shown.z.length,
        names: gd._fullData.map(t => t.name),
        current: gd._fullData[gd._fullLayout.meta.current_trace].x};
"""


def heatmap(driver):
    return driver.execute_script(HEATMAP_JS)


def run_sweep(driver, resolution: int, steps: int):
    type_into(driver, "#sweep-resolution-input", str(resolution))
    type_into(driver, "#sweep-steps-input", str(steps))
    button = driver.find_element("css selector", "#sweep-run-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def test_sweep_draws_the_phase_diagram_and_a_click_races_there(page):
    driver = page.driver
    run_sweep(driver, 24, 200)
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    drawn = heatmap(driver)
    assert drawn["rows"] == 24 and drawn["visible"] == [True, False, False]
    assert "diverged" in drawn["names"]
    assert any(name.startswith("heavy ball") for name in drawn["names"])  # theory on top
    assert drawn["current"] == [pytest.approx(RaceSettings().lr)]

    driver.find_element("css selector", "#sweep-metric input[value=rate]").click()
    wait(driver, lambda: (heatmap(driver) or {}).get("visible") == [False, False, True])

    area = driver.find_element("css selector", "#sweep-graph .nsewdrag")
    ActionChains(driver).move_to_element_with_offset(area, area.size["width"] // 3,
                                                     area.size["height"] // 2).click().perform()
    wait(driver, lambda: value(driver, "#lr-input") != f"{RaceSettings().lr:g}", 20,
         "the race kept its lr")
    lr, momentum = float(value(driver, "#lr-input")), float(value(driver, "#momentum-input"))
    assert 1e-4 < lr < 1 and 0 < momentum < 0.999
    wait(driver, lambda: (heatmap(driver) or {}).get("current") == [pytest.approx(lr)])

    driver.find_element("css selector", "#sweep-export-button").click()
    target = Path(page.download_path) / "phase-diagram-ravine-momentum.csv"
    wait(driver, lambda: target.exists() and target.stat().st_size > 0, 60)
    settings = SweepSettings(RaceSettings(), "momentum", 24, 200)
    assert target.read_text() == sweep_to_csv(settings.run())
    frame = pd.read_csv(io.StringIO(target.read_text()))
    assert len(frame) == 24 * 24


def test_a_long_sweep_shows_progress_and_can_be_cancelled(page):
    driver = page.driver
    run_sweep(driver, 512, 2000)
    wait(driver, lambda: driver.find_element("css selector", "#sweep-cancel-button")
         .is_enabled(), 20, "cancel never became available")
    progress = "document.getElementById('sweep-progress')"
    wait(driver, lambda: 0 < float(driver.execute_script(f"return {progress}.value"))
         < float(driver.execute_script(f"return {progress}.max")), 60, "no progress shown")
    assert driver.find_element("css selector", "#sweep-progress").is_displayed()
    driver.find_element("css selector", "#sweep-cancel-button").click()
    wait(driver, lambda: driver.find_element("css selector", "#sweep-run-button").is_enabled(),
         20, "the run button did not come back")
    assert "cells" not in text(driver, "#sweep-status")  # no result was drawn
    wait(driver, lambda: not driver.find_element("css selector", "#sweep-progress")
         .is_displayed(), 10, "the progress bar stayed after the sweep")
    assert heatmap(driver) is None


def test_bad_sweep_settings_get_a_message(page):
    driver = page.driver
    type_into(driver, "#sweep-resolution-input", "1000")
    driver.find_element("css selector", "#sweep-run-button").click()
    wait(driver, lambda: "resolution" in text(driver, "#sweep-error"))
    assert "int in the range [2, 512]" in text(driver, "#sweep-error")


PAPERS_JS = """
return ['race-graph', 'loss-graph', 'sweep-graph'].map(function (id) {
  const gd = document.querySelector('#' + id + ' .js-plotly-plot');
  return gd && gd._fullLayout ? gd._fullLayout.paper_bgcolor : null;
});
"""


def test_the_theme_toggle_recolours_every_figure_and_a_drawn_sweep(page):
    driver = page.driver
    papers = lambda: driver.execute_script(PAPERS_JS)  # noqa: E731
    theme = lambda: driver.execute_script("return document.documentElement.dataset.theme")  # noqa: E731
    assert theme() == "light" and papers() == [THEMES["light"]["paper"]] * 3
    toggle = driver.find_element("css selector", "#theme-toggle-button")
    toggle.click()
    wait(driver, lambda: papers() == [THEMES["dark"]["paper"]] * 3, 20,
         "a figure kept the light background")
    assert theme() == "dark"

    run_sweep(driver, 12, 100)
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    current = ("const gd = document.querySelector('#sweep-graph .js-plotly-plot');"
               "return gd._fullData[gd._fullLayout.meta.current_trace].marker.color;")
    assert driver.execute_script(current) == THEMES["dark"]["ink"]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", toggle)
    toggle.click()
    wait(driver, lambda: papers() == [THEMES["light"]["paper"]] * 3, 20,
         "the phase diagram kept the dark background")
    assert driver.execute_script(current) == THEMES["light"]["ink"]
    assert heatmap(driver)["rows"] == 12  # recoloured, not swept again or cleared
