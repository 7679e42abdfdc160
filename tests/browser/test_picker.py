"""The optimizer picker in headless Chromium: grouped, searchable, keyboard-usable, its
value the list of names the URL holds."""

from __future__ import annotations

from selenium.webdriver.common.keys import Keys

from optim_core import OPTIMIZERS
from optim_core.optimizers import GROUPS

from .pages import pick_optimizer, picker, type_into, wait
from .test_sweep import page_settings


def test_the_picker_lists_every_optimizer_under_its_group_defaults_checked(page):
    shown = picker(page.driver)
    expected = []
    for group in GROUPS:
        names = [n for n, spec in OPTIMIZERS.items() if spec.group == group]
        if names:
            expected.append((f"group:{group}", False, True))
            expected += [(n, n in ("sgd", "momentum", "nesterov", "adam"), False)
                         for n in names]
    assert shown == expected


def test_search_then_pick_in_a_group_races_it(page):
    driver = page.driver
    pick_optimizer(driver, "adagrad", search="grad")
    shown = picker(driver)
    assert [v for v, _, _ in shown] == ["group:adaptive", "adagrad"]
    wait(driver, lambda: "adagrad" in page_settings(driver).get("optimizers", ""), 20,
         "the picked optimizer did not join the race")
    assert set(page_settings(driver)["optimizers"].split(",")) == {
        "sgd", "momentum", "nesterov", "adam", "adagrad"}
    type_into(driver, "#optimizer-search", "ADAPTIVE")  # a group's name finds its members
    assert [v for v, _, _ in picker(driver)] == ["group:adaptive"] + [
        n for n, spec in OPTIMIZERS.items() if spec.group == "adaptive"]
    type_into(driver, "#optimizer-search", "")
    assert ("sgd", True, False) in picker(driver) and ("adagrad", True, False) in picker(driver)


def test_the_keyboard_searches_and_picks(page):
    driver = page.driver
    search = driver.find_element("css selector", "#optimizer-search")
    search.click()
    search.send_keys("rms")
    wait(driver, lambda: [v for v, _, _ in picker(driver)] == ["group:adaptive", "rmsprop"])
    search.send_keys(Keys.TAB)  # the heading is disabled: focus goes to RMSprop's box
    driver.switch_to.active_element.send_keys(Keys.SPACE)
    wait(driver, lambda: ("rmsprop", True, False) in picker(driver), 10)
    wait(driver, lambda: "rmsprop" in page_settings(driver).get("optimizers", ""), 20,
         "the optimizer picked by keyboard did not join the race")
