"""Shared test configuration: browser tests run in Debian's headless Chromium.

Tests under tests/browser/ are marked ``browser``. Where Chromium or chromedriver is
missing they are skipped locally, and fail in CI (CI=true): CI must run them.
"""

import os
import shutil

import pytest

from benchmarks.harness import CHROMIUM

os.environ.setdefault("DASH_TEST_CHROMEPATH", CHROMIUM)

# under pytest-xdist each worker keeps its background sweeps in a folder of its own, so
# that one worker's jobs (and their cancelling) never meet the other's
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OPTIMIZER_RACE_CACHE", os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache",
        "background-" + os.environ["PYTEST_XDIST_WORKER"]))


def pytest_setup_options():
    """Chrome options for dash.testing's browser. It adds --no-sandbox, --disable-gpu and
    --disable-dev-shm-usage itself, and --headless because pyproject's addopts pass it
    (without it Chromium looks for an X display and exits)."""
    from selenium.webdriver.chrome.options import Options

    from benchmarks.harness import CHROME_FLAGS

    options = Options()
    for flag in CHROME_FLAGS:  # the benchmarks' browser has the same
        options.add_argument(flag)
    return options


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _browser_available(request):
    if request.node.get_closest_marker("browser") is None:
        return
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if missing:
        message = f"{' and '.join(missing)} not installed (apt-get install chromium " \
                  "chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {message}")
        pytest.skip(message)
