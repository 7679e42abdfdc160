"""The phase diagram in headless Chromium: a background sweep, progress, cancel, click a
cell to race there, switch the metric, export the grid."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from layouts.figures import THEMES
from optim_core.sweep import sweep_to_csv
from settings import RaceSettings, SweepSettings

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
    wait(driver, lambda: "momentum.lr" in page_settings(driver), 20, "the race kept its lr")
    lr, momentum = (float(page_settings(driver)[f"momentum.{k}"]) for k in ("lr", "momentum"))
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
    assert text(driver, "#sweep-status") == "Cancelled."
    assert text(driver, "#sweep-error") == ""  # cancelled is not a lost job
    wait(driver, lambda: not driver.find_element("css selector", "#sweep-progress")
         .is_displayed(), 10, "the progress bar stayed after the sweep")
    assert heatmap(driver) is None


def test_bad_sweep_settings_get_a_message(page):
    driver = page.driver
    type_into(driver, "#sweep-resolution-input", "1000")
    driver.find_element("css selector", "#sweep-run-button").click()
    wait(driver, lambda: "int in the range [2, 512]" in text(
        driver, "#sweep-resolution-input-error"), 20, "no message under the grid's box")


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


def choose_sweep_optimizer(driver, title: str) -> None:
    dropdown = driver.find_element("css selector", "#sweep-optimizer-select")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", dropdown)
    dropdown.click()
    controls = dropdown.get_attribute("aria-controls")
    wait(driver, lambda: driver.find_elements("css selector", f"[id='{controls}'] [role=option]"))
    next(o for o in driver.find_elements("css selector", f"[id='{controls}'] [role=option]")
         if o.text == title).click()
    wait(driver, lambda: title in text(driver, "#sweep-optimizer-select"))


def click_cell(driver, fraction_x: float, fraction_y: float) -> None:
    area = driver.find_element("css selector", "#sweep-graph .nsewdrag")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", area)
    ActionChains(driver).move_to_element(area).move_by_offset(
        int(area.size["width"] * (fraction_x - 0.5)),
        int(area.size["height"] * (fraction_y - 0.5))).click().perform()


def page_settings(driver) -> dict:
    """The race's settings as the URL holds them."""
    from urllib.parse import parse_qsl, urlparse

    return dict(parse_qsl(urlparse(driver.current_url).query, keep_blank_values=True))


def test_an_adam_cell_sets_adams_own_lr_and_beta1_and_nothing_shared(page):
    driver = page.driver
    summary = driver.find_element("css selector", "#advanced-summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()  # the Advanced grid is drawn: its inputs follow the click too
    wait(driver, lambda: driver.find_elements("css selector", "input[name='adam.momentum']"))
    choose_sweep_optimizer(driver, "Adam")
    run_sweep(driver, 12, 60)
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    # the ring marks Adam's own lr (0.5 in the ravine preset) and the slider's μ
    assert heatmap(driver)["current"] == [pytest.approx(0.5)]
    click_cell(driver, 0.3, 0.75)  # low on the μ axis
    wait(driver, lambda: "adam.momentum" in page_settings(driver), 20, "no own μ in the URL")
    query = page_settings(driver)
    lr, mu = f"{RaceSettings().lr:g}", f"{RaceSettings().momentum:g}"
    assert query["lr"] == lr and query["momentum"] == mu  # the sliders stay
    assert value(driver, "#lr-input") == lr and value(driver, "#momentum-input") == mu
    own_lr, own_mu = float(query["adam.lr"]), float(query["adam.momentum"])
    assert own_lr != 0.5 and 0 < own_mu < 0.6
    assert all(v != "" for v in query.values())  # no empty adam.lr=
    wait(driver, lambda: (heatmap(driver) or {}).get("current") == [pytest.approx(own_lr)])
    assert "Adam races at its own" in text(driver, "#sweep-status")
    assert float(value(driver, "input[name='adam.momentum']")) == own_mu
    assert float(value(driver, "input[name='adam.lr']")) == own_lr
    assert value(driver, "input[name='momentum.momentum']") in ("", None)
    # the race came into view
    top = driver.execute_script(
        "return document.getElementById('race-graph').getBoundingClientRect().top")
    assert 0 <= top < driver.execute_script("return window.innerHeight")


STALE_JS = """
const gd = document.querySelector('#sweep-graph .js-plotly-plot');
return {title: gd._fullLayout.title.text, opacity: gd._fullData[0].opacity,
        current: Array.from(gd._fullData[gd._fullLayout.meta.current_trace].x || [])};
"""


def test_a_diagram_of_another_surface_is_marked_stale_and_not_applied(page):
    driver = page.driver
    run_sweep(driver, 12, 60)
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    assert driver.execute_script(STALE_JS)["opacity"] == 1
    surface = driver.find_element("css selector", "#surface-select input[value=rosenbrock]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", surface)
    surface.click()
    wait(driver, lambda: "Stale" in driver.execute_script(STALE_JS)["title"], 20,
         "the old surface's diagram was not marked stale")
    drawn = driver.execute_script(STALE_JS)
    assert drawn["opacity"] < 1 and drawn["current"] == []  # no ring of the new race on it
    lr = value(driver, "#lr-input")
    click_cell(driver, 0.6, 0.5)
    wait(driver, lambda: "Not applied" in text(driver, "#sweep-status"), 20)
    assert "surface 'ravine' → 'rosenbrock'" in text(driver, "#sweep-status")
    assert value(driver, "#lr-input") == lr
    assert not any(key.startswith("momentum.") for key in page_settings(driver))
    # back to the diagram's surface: it describes the race again
    surface = driver.find_element("css selector", "#surface-select input[value=ravine]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", surface)
    surface.click()
    wait(driver, lambda: "Stale" not in driver.execute_script(STALE_JS)["title"], 20)


def test_hovering_a_cell_shows_what_its_colour_encodes(page):
    driver = page.driver
    run_sweep(driver, 12, 60)
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    area = driver.find_element("css selector", "#sweep-graph .nsewdrag")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", area)
    label = ("return Array.from(document.querySelectorAll('#sweep-graph .hovertext'))"
             ".map(e => e.textContent).join(' ')")
    for fraction in (0.25, 0.3, 0.35):  # a cell that did not diverge
        ActionChains(driver).move_to_element(area).move_by_offset(
            int(area.size["width"] * (fraction - 0.5)), 0).perform()
        wait(driver, lambda: "final f − f*" in driver.execute_script(label), 10,
             "the hover label does not show the final loss")
        wait(driver, lambda: "lr" in text(driver, "#sweep-hover-info"), 10,
             "the hover line stayed empty")
        if "diverged" not in text(driver, "#sweep-hover-info"):
            break
    info = text(driver, "#sweep-hover-info")
    assert "final f − f*" in info and "rate" in info, info
    driver.find_element("css selector", "#sweep-metric input[value=steps]").click()
    ActionChains(driver).move_by_offset(3, 0).perform()
    wait(driver, lambda: "first within" in driver.execute_script(label), 10)


def test_sweep_ranges_are_checked_and_steps_follow_the_race(page):
    driver = page.driver
    assert value(driver, "#sweep-steps-input") in ("", None)
    type_into(driver, "#sweep-lr-min-input", "-1")
    button = driver.find_element("css selector", "#sweep-run-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait(driver, lambda: "got -1" in text(driver, "#sweep-lr-min-input-error"), 20,
         "a bad lr from was not named")
    type_into(driver, "#sweep-lr-min-input", "abc")
    # the line under the box comes first; the refused job gives the button back after it
    wait(driver, button.is_enabled, 20, "the run button did not come back")
    button.click()
    wait(driver, lambda: "got 'abc'" in text(driver, "#sweep-lr-min-input-error"), 20)
    type_into(driver, "#sweep-lr-min-input", "")
    type_into(driver, "#sweep-momentum-min-input", "0.5")
    type_into(driver, "#sweep-resolution-input", "8")
    wait(driver, button.is_enabled, 20, "the run button did not come back")
    button.click()
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60, "the sweep never ended")
    assert text(driver, "#sweep-lr-min-input-error") == ""
    assert "150 steps" in driver.execute_script(STALE_JS)["title"]  # the race's steps
    low = driver.execute_script("const gd = document.querySelector('#sweep-graph "
                                ".js-plotly-plot'); return gd._fullLayout.yaxis.range[0];")
    assert low == pytest.approx(0.5)


def test_a_sweep_that_ends_after_the_surface_changed_is_stale(page):
    driver = page.driver
    run_sweep(driver, 384, 2000)
    wait(driver, lambda: driver.find_element("css selector", "#sweep-cancel-button")
         .is_enabled(), 20, "the sweep did not start")
    surface = driver.find_element("css selector", "#surface-select input[value=saddle]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", surface)
    surface.click()  # while it sweeps the ravine
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 90, "the sweep never ended")
    wait(driver, lambda: "Stale" in driver.execute_script(STALE_JS)["title"], 20,
         "a diagram of the old surface arrived unmarked")
    assert driver.execute_script(STALE_JS)["current"] == []
