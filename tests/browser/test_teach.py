"""Lessons, the doctor and the embedded view in headless Chromium (issue 19)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

from optim_core.doctor import diagnose, fmt
from optim_core.lessons import LESSONS
from settings import from_query, lesson_settings

from .pages import race, text, type_into, value, wait, wait_for_change, wait_for_race

VISIBLE_JS = """
return Object.fromEntries(arguments[0].map(css => {
  const e = document.querySelector(css);
  return [css, !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'];
}));
"""


def query(driver) -> dict:
    return dict(parse_qsl(urlparse(driver.current_url).query, keep_blank_values=True))


def visible(driver, *css) -> dict:
    return driver.execute_script(VISIBLE_JS, list(css))


def open_page(duo, search: str) -> dict:
    duo.driver.get(duo.server_url + "/" + search)
    return wait_for_race(duo.driver)


def test_a_lessons_link_opens_its_race_and_its_live_text(fresh_tab):
    driver = fresh_tab.driver
    drawn = open_page(fresh_tab, "?lesson=ravine")
    assert drawn["names"] == ["SGD", "Momentum"] and drawn["start"] == [6, 6]
    assert all(len(x) == 61 for x, _ in drawn["paths"])  # 60 steps
    race_now = lesson_settings("ravine").simulate()
    sgd, momentum = race_now.runs
    wait(driver, lambda: "Try this:" in text(driver, "#lesson-text"), 20, "no lesson text")
    shown = text(driver, "#lesson-text")
    assert LESSONS["ravine"].title in shown and LESSONS["ravine"].try_this in shown
    assert f"sgd (lr 0.08): loss {fmt(sgd.final_loss)}" in shown
    assert f"momentum (lr 0.02, μ 0.9): loss {fmt(momentum.final_loss)}" in shown
    assert "You changed" not in shown
    assert query(driver) == {"lesson": "ravine"}  # the lesson's own link stays
    assert "1. The ravine" in text(driver, "#lesson-select")
    # the user changes the race: the text reads the race as it is now
    type_into(driver, "#lr-input", "0.01")
    wait(driver, lambda: "You changed" in text(driver, "#lesson-text"), 20)
    changed, _ = from_query("?" + urlparse(driver.current_url).query)
    assert changed.lesson == "ravine" and changed.lr == 0.01
    momentum = changed.simulate().runs[1]
    wait(driver, lambda: f"momentum (lr 0.01, μ 0.9): loss {fmt(momentum.final_loss)}"
         in text(driver, "#lesson-text"), 20, "the text did not follow the race")


def test_picking_a_lesson_from_the_select_sets_its_race(fresh_tab):
    driver = fresh_tab.driver
    before = open_page(fresh_tab, "")
    dropdown = driver.find_element("css selector", "#lesson-select")
    dropdown.click()
    controls = dropdown.get_attribute("aria-controls")
    options = f"[id='{controls}'] [role=option]"
    wait(driver, lambda: driver.find_elements("css selector", options))
    links = driver.find_elements("css selector", options + " a.lesson-link")
    # every lesson is listed as its own link
    assert [urlparse(a.get_attribute("href")).query for a in links] == [
        f"lesson={name}" for name in LESSONS]
    next(a for a in links if a.text == LESSONS["saddle"].title).click()
    drawn = wait_for_change(driver, before)
    wait(driver, lambda: query(driver) == {"lesson": "saddle"}, 20, "the URL is not the lesson's")
    assert drawn["names"] == ["SGD", "Momentum"]
    assert value(driver, "#lr-input") == "0.01" and value(driver, "#steps-input") == "300"
    wait(driver, lambda: "escapes at step" in text(driver, "#lesson-text"), 20)
    driver.back()  # one history entry: Back is the race before
    wait(driver, lambda: race(driver)["names"] == before["names"], 20)
    wait(driver, lambda: text(driver, "#lesson-text") == "", 20)


def test_apply_fix_sets_the_controls_and_the_new_race_shows_it_worked(fresh_tab):
    driver = fresh_tab.driver
    open_page(fresh_tab, "?surface=ravine&optimizers=sgd,adam&lr=0.085&steps=60")
    wait(driver, lambda: "diverged at step 1" in text(driver, "#doctor-panel"), 20)
    assert "lr 0.085 > 2/L = 0.08" in text(driver, "#doctor-panel")
    buttons = driver.find_elements("css selector", "#doctor-panel button[name=apply-fix]")
    sgd_button = next(b for b in buttons if b.get_attribute("value") == "sgd")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", sgd_button)
    sgd_button.click()
    # SGD is the only racer on the lr slider (Adam has its own): the slider takes the fix
    wait(driver, lambda: value(driver, "#lr-input") == "0.0425", 20, "the fix was not applied")
    wait(driver, lambda: "Fix applied" in text(driver, "#fix-note"), 20)
    fixed, _ = from_query("?" + urlparse(driver.current_url).query)
    verdict = diagnose(fixed.simulate())[0].verdict
    assert verdict != "diverged"
    assert f"SGD {verdict}" in text(driver, "#fix-note")
    assert "Before: SGD diverged at step 1" in text(driver, "#fix-note")
    driver.back()  # the fix is one history entry
    wait(driver, lambda: value(driver, "#lr-input") == "0.085", 20)


EMBED_PARTS = ("#race-graph", "#lr-slider", "#momentum-slider", "#race-legend",
               "#doctor-panel", "#embed-full-app-link")
FULL_PARTS = (".page-header", "#loss-graph", "#leaderboard", "#phase-diagram",
              "#steps-input", "#surface-select", "#optimizer-select")


def test_embed_at_480_px_shows_only_the_compact_view_with_a_link_to_the_full_app(fresh_tab):
    driver = fresh_tab.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 480, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    try:
        open_page(fresh_tab, "?lesson=momentum-099&embed=1")
        wait(driver, lambda: driver.execute_script("return innerWidth") == 480)
        wait(driver, lambda: "Try this" in text(driver, "#lesson-text"), 20)
        wait(driver, lambda: "#race-legend .legend-item" and driver.find_elements(
            "css selector", "#race-legend .legend-item"), 20)
        wait(driver, lambda: text(driver, "#doctor-panel"), 20)
        shown = visible(driver, *EMBED_PARTS, *FULL_PARTS)
        assert all(shown[css] for css in EMBED_PARTS), shown
        assert not any(shown[css] for css in FULL_PARTS), shown
        width = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], width  # no sideways scrolling (a scroll bar may take 15 px)
        right = driver.execute_script(
            "return document.querySelector('#race-graph').getBoundingClientRect().right")
        assert right <= 480
        link = driver.find_element("css selector", "#embed-full-app-link")
        assert link.get_attribute("target") == "_blank"
        assert urlparse(link.get_attribute("href")).query == "lesson=momentum-099"
        # the race changes: the address keeps the view, the link follows the race
        type_into(driver, "#lr-input", "0.03")
        wait(driver, lambda: query(driver).get("lr") == "0.03", 20)
        assert query(driver)["embed"] == "1" and query(driver)["lesson"] == "momentum-099"
        wait(driver, lambda: "embed" not in link.get_attribute("href")
             and "lr=0.03" in link.get_attribute("href"), 20)
        full = dict(parse_qsl(urlparse(link.get_attribute("href")).query))
        assert full == {k: v for k, v in query(driver).items() if k not in ("embed", "controls")}
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_controls_limit_what_the_embedded_view_shows(fresh_tab):
    driver = fresh_tab.driver
    open_page(fresh_tab, "?embed=1&controls=lr,steps")
    shown = visible(driver, "#lr-slider", "#momentum-slider", "#steps-input", "#kappa-input")
    assert shown == {"#lr-slider": True, "#momentum-slider": False, "#steps-input": True,
                     "#kappa-input": False}
