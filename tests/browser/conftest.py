"""Fixtures of the browser tests: a fresh tab of the shared browser, and a page with the
race drawn, each of which must end without console errors.

The ``page`` and ``fresh_tab`` tests share one Chromium and one server (per pytest
worker): starting both costs about 3 s, a third of a short test. Each test still gets a
fresh tab, with no downloads, no stored state and no console entries from the test
before it."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash.testing.application_runners import ThreadedRunner
from dash.testing.composite import DashComposite

from .pages import free_port, severe_console_errors, wait_for_race


@pytest.fixture(scope="session")
def shared_browser(request, tmp_path_factory):
    """One server and one Chromium, as dash.testing's ``dash_duo`` makes them."""
    from app import app as dash_app

    option = request.config.getoption
    with ThreadedRunner() as server, DashComposite(
            server=server, browser=option("webdriver"), remote=option("remote"),
            remote_url=option("remote_url"), headless=option("headless"),
            options=request.config.hook.pytest_setup_options(),
            download_path=str(tmp_path_factory.mktemp("downloads")),
            percy_assets_root=option("percy_assets"),
            percy_finalize=option("nopercyfinalize"), pause=option("pause")) as duo:
        duo.start_server(dash_app, port=free_port())
        yield duo


@pytest.fixture
def fresh_tab(shared_browser):
    """The shared browser in a new tab of the app's origin, nothing loaded yet."""
    duo = shared_browser
    for left in Path(duo.download_path).iterdir():
        left.unlink()
    driver = duo.driver
    driver.execute_script("localStorage.clear(); sessionStorage.clear()")
    driver.delete_all_cookies()
    # a new tab: a history of its own (tests count its entries), and the test before's
    # page closed with its last requests
    before = driver.current_window_handle
    driver.switch_to.new_window("tab")
    fresh = driver.current_window_handle
    driver.switch_to.window(before)
    driver.close()
    driver.switch_to.window(fresh)
    duo.get_logs()  # read, so that only this test's entries are checked below
    yield duo
    assert severe_console_errors(duo) == []


@pytest.fixture
def page(fresh_tab):
    """The app's page with its first race drawn."""
    fresh_tab.driver.get(fresh_tab.server_url + "/")
    wait_for_race(fresh_tab.driver)
    return fresh_tab
