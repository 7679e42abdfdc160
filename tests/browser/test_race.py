"""The live race in a real headless Chromium: what a user does, and what they see."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from benchmarks.harness import RECORD_REQUESTS_JS
from layouts.figures import LOSS_FLOOR, drawn_path
from optim_core.export import race_to_csv, read_race_csv
from settings import RaceSettings

from .pages import (
    diverge,
    losses,
    press,
    race,
    text,
    type_into,
    value,
    wait,
    wait_for_change,
    wait_for_race,
)


def test_page_shows_a_contour_map_with_paths(page):
    drawn = race(page.driver)
    assert drawn["image"], "the surface is drawn as an image under the paths"
    assert drawn["names"] == ["SGD", "Momentum", "Nesterov", "Adam"]
    assert all(len(x) == 151 for x, _ in drawn["paths"])  # 150 steps: rows 0..150
    assert drawn["start"] == [6, 6]
    # the leaderboard follows the paths (drawn once their frame is on screen)
    wait(page.driver, lambda: "converged" in text(page.driver, "#leaderboard"))
    def legend():
        return [item.text for item in page.driver.find_elements(
            "css selector", "#race-legend .legend-item")]

    wait(page.driver, legend)
    lr, mu = f"{RaceSettings().lr:g}", f"{RaceSettings().momentum:g}"
    assert legend() == [f"SGD lr {lr}", f"Momentum lr {lr}, μ {mu}",
                        f"Nesterov lr {lr}, μ {mu}", f"Adam own lr 0.5, β₁ {mu}"]


def test_keyboard_on_the_lr_slider_redraws_the_paths(page):
    before = race(page.driver)
    press(page.driver, "#lr-slider [role=slider]", times=3)
    after = wait_for_change(page.driver, before)
    lr = float(value(page.driver, "#lr-input"))
    # three steps of 0.01 decades
    assert lr == pytest.approx(RaceSettings().lr * 10 ** 0.03, rel=0.01)
    # the new paths are the engine's paths for the new lr (a runaway one drawn to where it
    # leaves the map: at this lr Nesterov's μ 0.2 is just past its stability limit)
    expected = RaceSettings(lr=lr).simulate()
    for (x, y), run in zip(after["paths"], expected.runs, strict=True):
        points, _ = drawn_path(run, expected.surface.window)
        assert x == pytest.approx(points[:, 0], rel=1e-6, abs=1e-6)
        assert y == pytest.approx(points[:, 1], rel=1e-6, abs=1e-6)
    # the loss plot, leaderboard and theory readout follow, for the same lr
    gaps = [np.maximum(run.loss - expected.surface.f_min, LOSS_FLOOR) for run in expected.runs]
    wait(page.driver, lambda: all(
        np.allclose(drawn, gap, rtol=1e-6, atol=0)
        for drawn, gap in zip(losses(page.driver) or [[]] * len(gaps), gaps, strict=True)))
    wait(page.driver, lambda: f"now {lr:.3g}" in text(page.driver, "#theory-readout"))


def test_momentum_slider_moves_by_keyboard(page):
    before = race(page.driver)
    press(page.driver, "#momentum-slider [role=slider]", times=5)
    wait_for_change(page.driver, before)
    assert float(value(page.driver, "#momentum-input")) == pytest.approx(
        RaceSettings().momentum + 0.005)


def test_clicking_the_map_moves_every_start(page):
    driver = page.driver
    area = driver.find_element("css selector", "#race-graph .nsewdrag")
    before = race(driver)
    width, height = area.size["width"], area.size["height"]
    # selenium 4.2 (pinned by dash[testing]) measures the offset from the top-left corner
    ActionChains(driver).move_to_element_with_offset(area, width // 4, 3 * height // 4) \
        .click().perform()
    after = wait_for_change(driver, before)
    x0, y0 = float(value(driver, "#start-x-input")), float(value(driver, "#start-y-input"))
    assert -7.5 < x0 < 0 and -7.5 < y0 < 0  # lower left quarter of the ravine's window
    assert after["start"] == pytest.approx([x0, y0], rel=1e-6)
    assert all(path[0][0] == pytest.approx(x0, rel=1e-6) for path in after["paths"])


HOVERED_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return (gd._hoverdata || []).map(p => [p.curveNumber, p.pointNumber]);
"""
PATH_POINT_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
const trace = gd._fullData[gd._fullLayout.meta.traces.paths[arguments[0]]];
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
return [xa.d2p(trace.x[arguments[1]]), ya.d2p(trace.y[arguments[1]])];
"""


def test_hovering_a_step_shows_every_optimizers_same_step_on_both_plots(page):
    driver = page.driver
    paths = driver.execute_script("const gd = document.querySelector('#race-graph "
                                  ".js-plotly-plot'); return gd._fullLayout.meta.traces.paths;")

    def same_step_on_the_map():
        hovered = driver.execute_script(HOVERED_JS, "race-graph")
        steps = {k for _, k in hovered}
        return hovered if sorted(c for c, _ in hovered) == paths and len(steps) == 1 else None

    # on the loss plot, a third of the way along: the map shows that step of every path
    area = driver.find_element("css selector", "#loss-graph .nsewdrag")
    ActionChains(driver).move_to_element_with_offset(area, area.size["width"] // 3,
                                                     area.size["height"] // 2).perform()
    wait(driver, same_step_on_the_map, 10, "the map did not show every path's step")
    k = same_step_on_the_map()[0][1]
    assert 0 < k < 150 and {p for _, p in driver.execute_script(HOVERED_JS, "loss-graph")} == {k}

    # on the map, on step 12 of the second path: both plots show step 12
    ActionChains(driver).move_by_offset(-400, -300).perform()  # off the plots
    wait(driver, lambda: not driver.execute_script(HOVERED_JS, "race-graph"), 10)
    x, y = driver.execute_script(PATH_POINT_JS, 1, 12)
    area = driver.find_element("css selector", "#race-graph .nsewdrag")
    ActionChains(driver).move_to_element_with_offset(area, round(x), round(y)).perform()
    wait(driver, lambda: (same_step_on_the_map() or [[0, 0]])[0][1] == 12, 10,
         "hovering step 12 on the map did not show every path's step 12")
    loss_points = driver.execute_script(HOVERED_JS, "loss-graph")
    assert len(loss_points) == len(paths) and {p for _, p in loss_points} == {12}


def test_export_is_what_is_drawn_and_equals_the_engine(page):
    driver = page.driver
    driver.find_element("css selector", "#export-csv-button").click()
    target = Path(page.download_path) / "optimizer-race-ravine.csv"
    wait(driver, target.exists, 20, "no CSV was downloaded")
    wait(driver, lambda: target.stat().st_size > 0)
    exported = target.read_text()
    assert exported == race_to_csv(RaceSettings().simulate(state=True), state=True)
    assert "momentum_buffer_x" in exported.partition("\n")[0]  # the state, always
    frame = read_race_csv(io.StringIO(exported))
    drawn = race(driver)
    for name, (x, _) in zip(["sgd", "momentum", "nesterov", "adam"], drawn["paths"],
                            strict=True):
        assert list(frame[frame.optimizer == name].x) == pytest.approx(x, rel=1e-6)


def open_recording(tab, search: str = "") -> list:
    """The page opened at ``search`` with its first race drawn and the page settled: the
    callback requests it sent."""
    driver = tab.driver
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": RECORD_REQUESTS_JS})
    driver.get(tab.server_url + "/" + search)
    wait_for_race(driver)
    wait(driver, lambda: "final loss" in text(driver, "#leaderboard"))
    wait(driver, lambda: driver.execute_script("return window.__requests.length") == len(
        driver.execute_script("return performance.getEntriesByType('resource')"
                              ".filter(e => e.name.includes('_dash-update-component'))")))
    return driver.execute_script("return window.__requests")


def test_the_page_opens_with_one_race_and_no_redraw_of_what_it_shows(fresh_tab):
    """The layout is the default race's: opening the page sends the URL callback, one race
    and the panels that follow it, not again what the layout already shows."""
    requests = open_recording(fresh_tab)
    outputs = [r["output"] for r in requests]
    assert sum("race-graph.figure" in o for o in outputs) == 1, outputs
    for shown in ("sweep-graph.figure", "own-lr.children", "..scheduler-step-size-row.style",
                  "..start-x-input.placeholder@", "..points-info.children"):
        assert not any(o.startswith(shown) for o in outputs), f"{shown} drawn again: {outputs}"
    race_request = next(r for r in requests if "race-graph.figure" in r["output"])
    # the race fired as the page opened, not by controls the URL callback set again
    assert not any(c.startswith(("surface-select", "lr-input", "optimizer-select"))
                   for c in race_request["changed"]), race_request["changed"]


def test_url_state_is_restored_and_follows_the_controls(fresh_tab):
    driver = fresh_tab.driver
    query = ("?surface=rosenbrock&optimizers=adam,sgd&lr=0.002&momentum=0.5&steps=300"
             "&x0=-1&y0=2")
    requests = open_recording(fresh_tab, query)
    # one race, the link's: none of the default race drawn first
    assert sum("race-graph.figure" in r["output"] for r in requests) == 1
    drawn = race(driver)
    assert drawn["names"] == ["SGD", "Adam"]
    assert drawn["start"] == [-1, 2] and len(drawn["paths"][0][0]) == 301
    assert value(driver, "#lr-input") == "0.002"
    assert value(driver, "#momentum-input") == "0.5"
    assert "surface=rosenbrock" in driver.current_url
    press(driver, "#momentum-slider [role=slider]", times=2)
    wait(driver, lambda: "momentum=0.502" in driver.current_url)


def test_bad_url_values_fall_back_with_a_note(fresh_tab):
    driver = fresh_tab.driver
    driver.get(fresh_tab.server_url + "/?surface=ravine&lr=banana&steps=-4"
                                      "&optimizers=sgd,warp&momentum=1.5")
    wait_for_race(driver)
    note = text(driver, "#url-note")
    assert "lr='banana'" in note and "steps='-4'" in note and "warp" in note
    assert "momentum='1.5'" in note
    assert value(driver, "#lr-input") == f"{RaceSettings().lr:g}"  # the preset
    wait(driver, lambda: race(driver)["names"] == ["SGD"])


def test_diverging_settings_are_flagged(page):
    driver = page.driver
    after = diverge(driver)
    assert "x-thin-open" in after["ends"]  # a diverged path ends in a cross
    assert all(abs(v) <= 1e8 for x, y in after["paths"] for v in (*x, *y))
    # the cross is far off the map: the flags under it say where the path was cut
    wait(driver, lambda: "diverged at step" in text(driver, "#map-flags"))
    assert "off the map" in text(driver, "#map-flags")
    type_into(driver, "#lr-input", f"{RaceSettings().lr:g}")
    wait(driver, lambda: text(driver, "#map-flags") == "", 20, "the flags stayed")


def test_a_bad_value_gets_a_message_next_to_its_control(page):
    driver = page.driver
    before = race(driver)
    type_into(driver, "#steps-input", "0")
    wait(driver, lambda: text(driver, "#steps-input-error") != "")
    assert "int in the range [1, 10000]" in text(driver, "#steps-input-error")
    assert race(driver)["paths"] == before["paths"]  # nothing lost: the race stays drawn
    type_into(driver, "#steps-input", "40")
    wait(driver, lambda: text(driver, "#steps-input-error") == "")
    wait(driver, lambda: len(race(driver)["paths"][0][0]) == 41)


def test_changing_surface_applies_its_preset(page):
    driver = page.driver
    driver.find_element("css selector", "#surface-select input[value=saddle]").click()
    wait(driver, lambda: race(driver)["start"] == [-2, pytest.approx(0.01)])
    assert value(driver, "#lr-input") == "0.1"


def test_an_optimizer_of_its_own_lr_races_with_it_and_keeps_it_in_the_url(page):
    driver = page.driver
    before = race(driver)
    assert driver.find_elements("css selector", "input[name='adam.lr']") == []
    driver.find_element("css selector", "#advanced-panel summary").click()  # draws the grid
    wait(driver, lambda: driver.find_elements("css selector", "input[name='adam.lr']"))
    # the grids fit the sidebar: nothing pushed wider or cut off at its edge
    widths = driver.execute_script("""return ['.sidebar', '#overrides-grid', '.controls'].map(
        s => [document.querySelector(s).scrollWidth, document.querySelector(s).clientWidth]);""")
    assert all(scroll <= client for scroll, client in widths), widths
    type_into(driver, "input[name='adam.lr']", "0.05")
    after = wait_for_change(driver, before)
    adam = after["names"].index("Adam")
    assert after["paths"][:adam] == before["paths"][:adam]  # the others keep the slider's lr
    settings = RaceSettings()
    expected = RaceSettings(overrides={**settings.overrides, "adam": {"lr": 0.05}}).simulate()
    x, y = after["paths"][adam]
    assert x == pytest.approx(expected.runs[adam].params[:, 0], rel=1e-6, abs=1e-6)
    assert y == pytest.approx(expected.runs[adam].params[:, 1], rel=1e-6, abs=1e-6)
    wait(driver, lambda: "adam.lr=0.05" in driver.current_url)
    driver.get(driver.current_url)  # the link restores it, the panel closed or open
    wait(driver, lambda: (race(driver) or {}).get("paths") == after["paths"])
    driver.find_element("css selector", "#advanced-panel summary").click()
    wait(driver, lambda: value(driver, "input[name='adam.lr']") == "0.05")
    # the other optimizers' own values (the preset's) are drawn from the store as well
    for name, params in {**RaceSettings().overrides, "adam": {"lr": 0.05}}.items():
        for param, number in params.items():
            assert float(value(driver, f"input[name='{name}.{param}']")) == number
