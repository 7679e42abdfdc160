"""Your own surface and your own points, in headless Chromium: type f(x, y) and see the
race, a bad one keeps the race and says what and where, paste or upload points and see
the fit, and a link reopens both."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from layouts.figures import drawn_path
from optim_core.userdata import parse_points
from settings import RaceSettings, keep_points

from .pages import race, text, type_into, value, wait, wait_for_change, wait_for_race

POINTS = "x, y\n-1, -2.5\n0, -1.1\n1, 0.4\n2, 2.1\n3, 3.4\n"

DATA_JS = """
const gd = document.querySelector('#data-graph .js-plotly-plot');
if (!gd || !gd._fullData || !gd._fullData.length) return null;
return [Array.from(gd._fullData[0].x), Array.from(gd._fullData[0].y)];
"""


def query(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def pick(driver, surface: str) -> None:
    driver.find_element("css selector", f"#surface-select input[value={surface}]").click()


def open_data_panel(driver) -> None:
    summary = driver.find_element("xpath", "//summary[text()='Noise, data and seed']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()


def data_points(driver):
    return driver.execute_script(DATA_JS)


def type_surface(driver, f: str) -> dict:
    """Pick "your own f(x, y)" and type ``f``: the race drawn before ``f`` was typed."""
    before = race(driver)
    pick(driver, "custom")
    drawn = wait_for_change(driver, before)
    type_into(driver, "#custom-surface-input", f)
    return drawn


def test_a_typed_surface_races_and_a_bad_one_keeps_the_race(page):
    driver = page.driver
    f = "(1 - x)^2 + 100*(y - x^2)^2"
    drawn = type_surface(driver, f)
    wait(driver, lambda: query(driver).get("f") == f, message="f is not in the URL")
    drawn = wait_for_change(driver, drawn)
    settings = RaceSettings.preset("custom")
    expected = RaceSettings(**{**settings.__dict__, "f": f}).simulate()
    for (x, y), run in zip(drawn["paths"], expected.runs, strict=True):
        points, _ = drawn_path(run, expected.surface.window)
        assert x == pytest.approx(points[:, 0], rel=1e-6, abs=1e-6)
        assert y == pytest.approx(points[:, 1], rel=1e-6, abs=1e-6)
    wait(driver, lambda: "where the runs approach" in text(driver, "#theory-readout"))

    type_into(driver, "#custom-surface-input", "2x + y")
    wait(driver, lambda: "column 2" in text(driver, "#custom-surface-input-error")
         and "write 2*x" in text(driver, "#custom-surface-input-error"))
    assert race(driver)["paths"] == drawn["paths"]  # the race drawn before stays
    type_into(driver, "#custom-surface-input", "__import__('os')")
    wait(driver, lambda: "not allowed" in text(driver, "#custom-surface-input-error"))
    assert race(driver)["paths"] == drawn["paths"]
    assert query(driver)["f"] == f  # the link still names the race on screen


def test_a_link_reopens_a_typed_surface(fresh_tab):
    driver = fresh_tab.driver
    f = "x^2 + 3*y^2 - x*y"
    settings = RaceSettings(**{**RaceSettings.preset("custom").__dict__, "f": f,
                               "window": (-4.0, 4.0, -3.0, 3.0)})
    driver.get(fresh_tab.server_url + "/" + settings.to_query())
    drawn = wait_for_race(driver)
    assert value(driver, "#custom-surface-input") == f
    assert value(driver, "#custom-window-input") == "-4.0, 4.0, -3.0, 3.0"
    expected = settings.simulate()
    x, _ = drawn["paths"][0]
    assert x == pytest.approx(drawn_path(expected.runs[0], expected.surface.window)[0][:, 0],
                              rel=1e-6, abs=1e-6)


def test_pasted_points_are_fitted_and_a_link_reopens_them(page):
    driver = page.driver
    before = race(driver)
    pick(driver, "regression")
    wait_for_change(driver, before)
    open_data_panel(driver)
    box = driver.find_element("css selector", "#points-paste-input")
    box.send_keys(POINTS)
    drawn = race(driver)
    driver.find_element("css selector", "#points-paste-button").click()
    digest = parse_points(POINTS).digest
    wait(driver, lambda: "Fitting your 5 points" in text(driver, "#points-info"))
    wait(driver, lambda: query(driver).get("data") == digest, message="no data= in the URL")
    wait_for_change(driver, drawn)
    wait(driver, lambda: (data_points(driver) or [[]])[0] == [-1, 0, 1, 2, 3])
    assert data_points(driver)[1] == pytest.approx([-2.5, -1.1, 0.4, 2.1, 3.4])

    driver.get(page.server_url + "/?surface=regression&data=" + digest)
    wait_for_race(driver)
    wait(driver, lambda: (data_points(driver) or [[]])[0] == [-1, 0, 1, 2, 3])
    assert "Fitting your 5 points" in driver.find_element(
        "css selector", "#points-info").get_attribute("textContent")

    # a bad paste names the row and keeps the points in use
    open_data_panel(driver)
    box = driver.find_element("css selector", "#points-paste-input")
    box.send_keys("x,y\n1,2\n3,NaN\n")
    driver.find_element("css selector", "#points-paste-button").click()
    wait(driver, lambda: "row 3" in text(driver, "#points-error"))
    assert query(driver).get("data") == digest


def test_an_uploaded_file_is_fitted_and_a_large_one_refused_before_it_is_read(page, tmp_path):
    driver = page.driver
    before = race(driver)
    pick(driver, "regression")
    wait_for_change(driver, before)
    open_data_panel(driver)
    good = tmp_path / "points.csv"
    good.write_text("0,1\n1,2\n2,2.9\n")
    upload = driver.find_element("css selector", "#points-upload input[type=file]")
    upload.send_keys(str(good))
    wait(driver, lambda: "Fitting your 3 points" in text(driver, "#points-info"))
    digest = keep_points(good.read_text()).digest
    wait(driver, lambda: query(driver).get("data") == digest, message="no data= in the URL")
    big = tmp_path / "big.csv"
    big.write_text("1,1\n" * 60_000)  # 240 KB
    upload = driver.find_element("css selector", "#points-upload input[type=file]")
    upload.send_keys(str(big))
    wait(driver, lambda: "big.csv" in text(driver, "#points-error")
         and "at most 128 KB" in text(driver, "#points-error"))
    assert query(driver).get("data") == digest


def test_the_blank_start_and_window_boxes_follow_f_as_typed(page):
    driver = page.driver
    f = "(x - 3)^2 + 10*(y + 1)^2"
    drawn = type_surface(driver, f)
    wait_for_change(driver, drawn)
    surface = RaceSettings(surface="custom", f=f).surface_object()
    placeholder = lambda css: driver.find_element(  # noqa: E731
        "css selector", css).get_attribute("placeholder")
    wait(driver, lambda: placeholder("#start-x-input") == f"{surface.default_start[0]:g}"
         and placeholder("#start-y-input") == f"{surface.default_start[1]:g}",
         message="the start boxes do not show the typed f's start")
    (x0, x1), (y0, y1) = surface.window
    assert placeholder("#custom-window-input") == \
        f"from f: {x0:.3g}, {x1:.3g}, {y0:.3g}, {y1:.3g}"
