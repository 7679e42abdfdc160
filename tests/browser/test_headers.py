"""The page under its Content-Security-Policy in headless Chromium: everything it does
(a race, a slider move, a sweep) runs without one violation."""

from __future__ import annotations

import urllib.request

from selenium.webdriver.common.keys import Keys

from .pages import free_port, severe_console_errors, text, type_into, wait, wait_for_race

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_page_works_under_its_content_security_policy(dash_duo, app):
    dash_duo.start_server(app, port=free_port())
    driver = dash_duo.driver
    url = dash_duo.server_url
    with urllib.request.urlopen(url + "/") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-eval" not in policy
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": RECORD_VIOLATIONS})
    driver.get(url + "/?surface=rosenbrock")
    wait_for_race(driver)
    slider = driver.find_element("css selector", "#lr-slider [role=slider]")
    driver.execute_script("arguments[0].focus()", slider)
    slider.send_keys(Keys.ARROW_RIGHT)
    type_into(driver, "#sweep-resolution-input", "16")
    type_into(driver, "#sweep-steps-input", "100")
    button = driver.find_element("css selector", "#sweep-run-button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait(driver, lambda: "cells" in text(driver, "#sweep-status"), 60)
    assert driver.execute_script("return window.__cspViolations") == []
    assert severe_console_errors(dash_duo) == []
