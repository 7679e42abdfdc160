"""docs/screenshot.png: the running app, as headless Chromium renders it.

    python scripts/screenshot.py [OUTPUT] [--query '?surface=...'] [--size 1280,720]
                                 [--theme dark]                    (make screenshot)

Serves the app on a free loopback port, opens it in headless Chromium (Debian's
chromium and chromedriver), waits until the race is drawn, and saves the page.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages first
from benchmarks.harness import chromium, dev_server  # noqa: E402 (after the path)

DEFAULT_QUERY = "?surface=ravine&optimizers=sgd,momentum,nesterov,adam,rmsprop"
DRAWN = """const gd = document.querySelector('#race-graph .js-plotly-plot');
return !!(gd && gd._fullLayout && gd._fullLayout.meta && gd._fullData.length > 5
          && document.querySelector('#leaderboard table'));"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", default="docs/screenshot.png", type=Path)
    parser.add_argument("--query", default=DEFAULT_QUERY)
    parser.add_argument("--size", default="1440,900")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args(argv)
    server = dev_server("screenshot")
    driver = None
    try:
        server.start()
        driver = chromium("--hide-scrollbars", f"--window-size={args.size}",
                          "--force-device-scale-factor=1")
        width, height = (int(v) for v in args.size.split(","))  # the page's own size
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        driver.get(f"{server.url}/{args.query}")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(DRAWN))
        if args.theme != driver.execute_script("return document.documentElement.dataset.theme"):
            driver.find_element("css selector", "#theme-toggle-button").click()
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return document.documentElement.dataset.theme") == args.theme)
        time.sleep(1.0)  # let the last repaint settle
        args.output.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(args.output))
        print(f"wrote {args.output}")
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
