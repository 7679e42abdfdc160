"""The page under its Content-Security-Policy in headless Chromium: everything it does
(a race, a slider move, a sweep) runs without one violation."""

from __future__ import annotations

import http.server
import threading
import urllib.request

from selenium.webdriver.common.keys import Keys

from .pages import free_port, text, type_into, wait, wait_for_race

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_page_works_under_its_content_security_policy(fresh_tab):
    driver = fresh_tab.driver
    url = fresh_tab.server_url
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


def test_another_site_may_frame_the_embedded_view(fresh_tab):
    """No X-Frame-Options and no frame-ancestors: a course page (here a page of another
    origin) shows the embedded race in an iframe; the other headers stay."""
    driver = fresh_tab.driver
    src = fresh_tab.server_url + "/?lesson=ravine&embed=1"
    with urllib.request.urlopen(src) as response:
        headers = response.headers
    assert headers["X-Frame-Options"] is None
    assert "frame-ancestors" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    course = (f"<title>course</title><iframe id=race width=500 height=900 src='{src}'>"
              "</iframe>").encode()

    class CoursePage(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # http.server calls it by this name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(course)

        def log_message(self, *args):
            pass

    # another origin on this machine (Chromium keeps a data: page off local servers)
    other = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), CoursePage)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        driver.get(f"http://127.0.0.1:{other.server_port}/")
        driver.switch_to.frame(driver.find_element("css selector", "#race"))
        drawn = wait_for_race(driver)
        assert drawn["names"] == ["SGD", "Momentum"]
        wait(driver, lambda: "Open in the full app" in text(driver, "#embed-full-app-link"))
    finally:
        driver.switch_to.default_content()
        other.shutdown()
