"""Reading and driving the app from the browser, for the tests and the benchmarks."""

from __future__ import annotations

import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from benchmarks.harness import free_port as free_port  # the tests take it from here

PATHS_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
if (!gd || !gd._fullLayout || !gd._fullLayout.meta || !gd._fullData) return null;
const t = gd._fullLayout.meta.traces;
return {
  names: t.paths.map(i => gd._fullData[i].name),
  paths: t.paths.map(i => [Array.from(gd._fullData[i].x), Array.from(gd._fullData[i].y)]),
  ends: [].concat(gd._fullData[t.ends].marker.symbol),
  start: [gd._fullData[t.start].x[0], gd._fullData[t.start].y[0]],
  image: !!(gd._fullLayout.images && gd._fullLayout.images.length
            && gd._fullLayout.images[0].source.startsWith('data:image/png')),
};
"""


LOSSES_JS = """
const gd = document.querySelector('#loss-graph .js-plotly-plot');
if (!gd || !gd._fullData) return null;
return gd._fullData.filter(t => t.type === 'scatter' && t.y).map(t => Array.from(t.y));
"""


def losses(driver) -> list | None:
    """The loss plot's curves (f − f*, one per optimizer, in trace order)."""
    return driver.execute_script(LOSSES_JS)


def wait(driver, condition, timeout: float = 20.0, message: str = ""):
    # a condition that met an element React was replacing is asked again, not failed
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(), message)


def race(driver) -> dict | None:
    return driver.execute_script(PATHS_JS)


def wait_for_race(driver, timeout: float = 30.0) -> dict:
    wait(driver, lambda: (race(driver) or {}).get("paths"), timeout, "no race drawn")
    return race(driver)


def wait_for_change(driver, before: dict, timeout: float = 20.0) -> dict:
    wait(driver, lambda: (race(driver) or {}).get("paths") not in (None, before["paths"]),
         timeout, "the paths did not change")
    return race(driver)


def diverge(driver) -> dict:
    """Set an lr the default race diverges at (0.5 on the ravine) and wait until the
    leaderboard says so: the race drawn."""
    before = race(driver)
    type_into(driver, "#lr-input", "0.5")
    after = wait_for_change(driver, before)
    wait(driver, lambda: "diverged at step" in text(driver, "#leaderboard"))
    return after


def press(driver, css: str, key=Keys.ARROW_RIGHT, times: int = 1) -> None:
    element = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].focus()", element)
    for _ in range(times):
        element.send_keys(key)
        time.sleep(0.05)


def type_into(driver, css: str, text: str) -> None:
    """Replace an input's text and commit it (Enter), as a user would."""
    element = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].focus(); arguments[0].select()", element)
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text, Keys.ENTER)


def _read(driver, css: str, read):
    """``read(element)`` of the element ``css`` finds, found again if React replaced it
    between the look-up and the read (a stale element, seen on a loaded machine)."""
    for _ in range(4):
        try:
            return read(driver.find_element("css selector", css))
        except StaleElementReferenceException:
            continue
    return read(driver.find_element("css selector", css))


def value(driver, css: str) -> str:
    return _read(driver, css, lambda element: element.get_attribute("value"))


def text(driver, css: str) -> str:
    return _read(driver, css, lambda element: element.text)


def severe_console_errors(dash_duo) -> list:
    return [entry for entry in dash_duo.get_logs() or []
            if entry.get("level") == "SEVERE"]


def pick_optimizer(driver, name: str, search: str | None = None) -> None:
    """Toggle one optimizer in the grouped picker, after typing ``search`` into its
    search box (which keeps the options whose title, name or group holds it)."""
    if search is not None:
        type_into(driver, "#optimizer-search", search)
    box = driver.find_element("css selector", f"#optimizer-select input[value='{name}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()


PICKER_JS = """
return Array.from(document.querySelectorAll('#optimizer-select label')).map(l => {
    const input = l.querySelector('input');
    return [input.value, input.checked, input.disabled];
});
"""


def picker(driver) -> list:
    """The picker's shown options, in order: [value, checked, disabled (a heading)]."""
    return [tuple(o) for o in driver.execute_script(PICKER_JS)]
