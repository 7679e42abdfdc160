"""What the figures show, in headless Chromium: runaway paths kept on the map, the map's
view kept, laptop layouts, colours against the surface, slide-ready exports, the line
fit's data."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from settings import RaceSettings

from .pages import diverge, race, type_into, wait

RANGES_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
return gd._fullLayout.xaxis.range.concat(gd._fullLayout.yaxis.range);
"""


def test_a_diverged_path_ends_where_it_leaves_the_map(page):
    driver = page.driver
    after = diverge(driver)
    (x0, x1), (y0, y1) = RaceSettings().surface_object().window
    slack = 1e-5 * (x1 - x0)
    for name, (xs, ys) in zip(after["names"], after["paths"], strict=True):
        assert all(x0 - slack <= x <= x1 + slack for x in xs), name
        assert all(y0 - slack <= y <= y1 + slack for y in ys), name
    assert after["ends"].count("x-thin-open") == 3  # SGD, momentum, Nesterov cut at the edge


def pan_map(driver) -> list:
    area = driver.find_element("css selector", "#race-graph .nsewdrag")
    ActionChains(driver).move_to_element(area).click_and_hold().move_by_offset(60, 40) \
        .move_by_offset(60, 40).release().perform()
    wait(driver, lambda: driver.execute_script(RANGES_JS)[0] != -10, 10, "no pan")
    return driver.execute_script(RANGES_JS)


def test_the_map_keeps_its_view_when_optimizers_or_steps_change(page):
    driver = page.driver
    view = pan_map(driver)
    before = race(driver)
    type_into(driver, "#steps-input", "80")
    wait(driver, lambda: len((race(driver) or before)["paths"][0][0]) == 81, 20)
    assert driver.execute_script(RANGES_JS) == pytest.approx(view)
    before = race(driver)
    driver.find_element("css selector", "#optimizer-select input[value=adamw]").click()
    wait(driver, lambda: len((race(driver) or before)["paths"]) == 5, 20)
    wait(driver, lambda: driver.execute_script(RANGES_JS) == pytest.approx(view), 5,
         "a toggled optimizer reset the view")


COLOURS_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
const t = gd._fullLayout.meta.traces;
const swatch = document.querySelector('#race-legend .line-swatch');
return {paths: t.paths.map(i => gd._fullData[i].line.color),
        dashes: t.paths.map(i => gd._fullData[i].line.dash),
        swatch: swatch ? getComputedStyle(swatch).borderTopColor : null,
        legendDashes: Array.from(document.querySelectorAll('#race-legend .line-swatch'))
          .map(e => getComputedStyle(e).borderTopStyle)};
"""


def rgb_text(color: str) -> str:
    return "rgb({}, {}, {})".format(*(int(color[i:i + 2], 16) for i in (1, 3, 5)))


def test_dark_mode_draws_the_racers_in_the_dark_palette(page):
    from layouts.figures import PALETTES

    driver = page.driver
    shown = driver.execute_script(COLOURS_JS)
    order = ("sgd", "momentum", "nesterov", "adam")
    assert shown["paths"] == [PALETTES["light"][o] for o in order]
    assert shown["swatch"] == rgb_text(PALETTES["light"]["sgd"])
    assert shown["dashes"] == ["solid"] * 4 and shown["legendDashes"] == ["solid"] * 4
    driver.find_element("css selector", "#optimizer-select input[value=adamw]").click()
    driver.find_element("css selector", "#optimizer-select input[value=rmsprop]").click()
    wait(driver, lambda: len(driver.execute_script(COLOURS_JS)["paths"]) == 6)
    wait(driver, lambda: driver.execute_script(COLOURS_JS)["legendDashes"][4:]
         == ["dashed", "dotted"], 10, "the legend does not show the dashes")
    assert driver.execute_script(COLOURS_JS)["dashes"][4:] == ["dash", "dot"]
    order = (*order, "adamw", "rmsprop")
    driver.find_element("css selector", "#theme-toggle-button").click()
    wait(driver, lambda: driver.execute_script(COLOURS_JS)["paths"]
         == [PALETTES["dark"][o] for o in order], 20, "the paths kept the light colours")
    assert driver.execute_script(COLOURS_JS)["swatch"] == rgb_text(PALETTES["dark"]["sgd"])


FIT_JS = """
const rect = (css) => { const r = document.querySelector(css).getBoundingClientRect();
                        return [r.left, r.top, r.right, r.bottom]; };
const board = document.querySelector('#leaderboard');
return {width: innerWidth, height: innerHeight,
        map: rect('#race-graph'), loss: rect('#loss-graph'), legend: rect('#race-legend'),
        page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
        board: [board.scrollWidth, board.clientWidth]};
"""


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
def test_a_laptop_screen_shows_map_loss_plot_and_legend_at_once(page, size):
    driver = page.driver
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        driver.execute_script("window.scrollTo(0, 0); window.dispatchEvent(new Event('resize'))")
        wait(driver, lambda: driver.execute_script("return innerWidth") == width)
        wait(driver, lambda: driver.execute_script(
            "return document.querySelector('#race-legend .legend-item') !== null"))
        # the responsive plots follow the new size a moment later
        wait(driver, lambda: (lambda f: f["page"][0] <= f["page"][1])(
            driver.execute_script(FIT_JS)), 10, "the page scrolls sideways")
        fit = driver.execute_script(FIT_JS)
        for name in ("map", "loss", "legend"):
            left, top, right, bottom = fit[name]
            assert left >= 0 and right <= width and top >= 0 and bottom <= height, (name, fit)
        assert fit["map"][2] <= fit["loss"][0]  # side by side, not stacked
        assert fit["page"][0] <= fit["page"][1], fit  # no sideways scrolling
        assert fit["board"][0] <= fit["board"][1], fit  # nor in the leaderboard
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_images_for_slides_have_legend_caption_and_distinct_names(page):
    from pathlib import Path

    driver = page.driver
    folder = Path(page.download_path)
    button = driver.find_element("css selector", "#export-svg-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    names = ("optimizer-race-map-ravine.svg", "optimizer-race-loss-ravine.svg")
    wait(driver, lambda: all((folder / n).exists() and (folder / n).stat().st_size > 1000
                             for n in names), 30, "no SVGs were downloaded")
    for name in names:
        svg = (folder / name).read_text()
        for title in ("SGD", "Momentum", "Nesterov", "Adam"):  # the legend
            assert f">{title}</text>" in svg, (name, title)
        assert "ravine (κ = 25) · start (6, 6) · 150 steps" in svg  # the caption, in the image
        assert f"Adam lr 0.5, β₁ {RaceSettings().momentum:g}" in svg
    driver.find_element("css selector", "#export-png-button").click()
    pngs = [n.replace(".svg", ".png") for n in names]
    wait(driver, lambda: all((folder / n).exists() and (folder / n).stat().st_size > 1000
                             for n in pngs), 30, "no PNGs were downloaded")
    assert (folder / pngs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


FIT_JS_LINES = """
const gd = document.querySelector('#data-graph .js-plotly-plot');
const cell = document.getElementById('data-graph-cell');
if (!gd || !gd._fullData || getComputedStyle(cell).display === 'none') return null;
return gd._fullData.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),
                               color: t.line ? t.line.color : null}));
"""


def test_the_line_fit_shows_its_data_and_each_optimizers_line(page):
    driver = page.driver
    assert driver.execute_script(FIT_JS_LINES) is None  # not on the ravine
    surface = driver.find_element("css selector", "#surface-select input[value=regression]")
    surface.click()
    wait(driver, lambda: driver.execute_script(FIT_JS_LINES), 20, "no data plot")
    settings = RaceSettings.preset("regression")
    race_ = settings.simulate()
    drawn = driver.execute_script(FIT_JS_LINES)
    assert drawn[0]["name"] == "data" and len(drawn[0]["x"]) == settings.points
    lines = {t["name"]: t for t in drawn[2:]}
    assert list(lines) == ["SGD", "Momentum", "Nesterov", "Adam"]
    for run in race_.runs:
        w, b = run.params[-1]
        line = lines[{"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov",
                      "adam": "Adam"}[run.optimizer]]
        assert line["y"] == pytest.approx([w * x + b for x in line["x"]], rel=1e-5)
    before = drawn
    type_into(driver, "#steps-input", "3")  # early in the race: other lines
    wait(driver, lambda: driver.execute_script(FIT_JS_LINES) not in (None, before), 20)
    back = driver.find_element("css selector", "#surface-select input[value=ravine]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", back)
    back.click()
    wait(driver, lambda: driver.execute_script(FIT_JS_LINES) is None, 20, "the plot stayed")
