"""Fail when a pytest run executed no test, or (with CI=true) skipped a browser test.

    python scripts/check_test_report.py build/junit.xml

pytest's own exit status already fails a run with failures or with no tests collected;
this also catches a suite where every test was skipped, and, in CI, a browser test
skipped because Chromium was missing: CI must run them.
"""

import os
import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    cases = root.findall(".//testcase")
    skipped = [c for c in cases if c.find("skipped") is not None]
    ran = len(cases) - len(skipped)
    browser_skipped = [c for c in skipped if "browser" in (c.get("classname", "") +
                                                          c.get("name", "")).lower()]
    print(f"test report: {len(cases)} collected, {ran} ran, {len(skipped)} skipped")
    if ran == 0:
        print("test report: no test ran", file=sys.stderr)
        return 1
    if os.environ.get("CI") == "true" and browser_skipped:
        names = ", ".join(c.get("name", "?") for c in browser_skipped)
        print(f"test report: browser tests were skipped in CI: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/junit.xml"))
