"""Fixtures of the browser tests: the app, and a page with the race drawn that must end
without console errors."""

from __future__ import annotations

import pytest

from .pages import free_port, severe_console_errors, wait_for_race


@pytest.fixture(scope="module")
def app():
    from app import app as dash_app

    return dash_app


@pytest.fixture
def page(dash_duo, app):
    dash_duo.start_server(app, port=free_port())
    wait_for_race(dash_duo.driver)
    yield dash_duo
    assert severe_console_errors(dash_duo) == []
