"""The controls say what runs: typed values, messages, history, per-optimizer settings."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from settings import PRESETS

from .pages import press, race, text, type_into, value, wait, wait_for_change, wait_for_race

ROOT = Path(__file__).resolve().parents[2]
PRESET = PRESETS["ravine"]  # the page opens on it


@pytest.mark.parametrize(("slider", "box", "typed", "in_url"), [
    ("#momentum-slider", "#momentum-input", f"{PRESET.momentum:g}",
     f"momentum={PRESET.momentum:g}&"),
    ("#lr-slider", "#lr-input", f"{PRESET.lr:g}", f"lr={PRESET.lr:g}&"),
])
def test_typing_back_the_value_before_a_slider_move_is_used(page, slider, box, typed, in_url):
    driver = page.driver
    before = race(driver)
    press(driver, f"{slider} [role=slider]", times=5)
    moved = wait_for_change(driver, before)
    assert value(driver, box) != typed
    type_into(driver, box, typed)  # the value the box held before the slider moved
    wait(driver, lambda: in_url in driver.current_url, 20, "the URL kept the slider's value")
    assert race(driver)["paths"] == before["paths"] != moved["paths"]


@pytest.mark.parametrize(("box", "typed", "shown"), [
    ("#momentum-input", "-0.1", "-0.1"), ("#momentum-input", "1", "1"),
    ("#lr-input", "-0.1", "-0.1"), ("#steps-input", "2.5", "2.5"),
    ("#steps-input", "100000", "100000"), ("#kappa-input", "0.5", "0.5"),
])
def test_a_bad_typed_value_is_named_in_its_message(page, box, typed, shown):
    driver = page.driver
    type_into(driver, box, typed)
    error = f"{box}-error"
    wait(driver, lambda: text(driver, error) != "", 20, "no message")
    assert "nothing" not in text(driver, error) and shown in text(driver, error)


def test_back_undoes_each_settled_change_and_a_drag_is_one_entry(page):
    driver = page.driver
    start = driver.execute_script("return history.length")
    first = race(driver)
    type_into(driver, "#lr-input", "0.05")
    wait(driver, lambda: "lr=0.05&" in driver.current_url)
    typed = wait_for_change(driver, first)
    handle = driver.find_element("css selector", "#momentum-slider [role=slider]")
    drag = ActionChains(driver).click_and_hold(handle)
    for _ in range(3):  # μ 0.2 → ~0.1 (at 0 Nesterov refuses the race)
        drag = drag.move_by_offset(-8, 0).pause(0.1)
    drag.release().perform()
    wait(driver, lambda: f"momentum={PRESET.momentum:g}&" not in driver.current_url)
    dragged = wait_for_change(driver, typed)
    wait(driver, lambda: race(driver)["paths"] != typed["paths"])
    assert driver.execute_script("return history.length") == start + 2  # typed, dragged
    driver.back()  # the drag undone, all of it
    wait(driver, lambda: f"momentum={PRESET.momentum:g}&" in driver.current_url and
         race(driver)["paths"] == typed["paths"], 20, "Back did not undo the drag")
    assert value(driver, "#momentum-input") == f"{PRESET.momentum:g}"
    assert value(driver, "#lr-input") == "0.05"
    driver.back()  # the typed lr undone
    wait(driver, lambda: race(driver)["paths"] == first["paths"], 20,
         "Back did not undo the typed value")
    assert value(driver, "#lr-input") == f"{PRESET.lr:g}"
    driver.forward()
    wait(driver, lambda: race(driver)["paths"] == typed["paths"], 20, "Forward did not redo")
    assert dragged["paths"] != typed["paths"]


def test_every_racers_own_values_are_named_and_the_slider_relation_is_explicit(page):
    driver = page.driver
    assert "adam.lr=0.5" in driver.current_url
    lr, mu = f"{PRESET.lr:g}", f"{PRESET.momentum:g}"
    wait(driver, lambda: f"Adam own lr 0.5, β₁ {mu}" in text(driver, "#race-legend"))
    assert f"SGD lr {lr}" in text(driver, "#race-legend")
    assert f"Momentum lr {lr}, μ {mu}" in text(driver, "#race-legend")
    # the leaderboard puts a racer's settings on the line under its name
    wait(driver, lambda: "Adam\nown lr 0.5" in text(driver, "#leaderboard"))
    assert "Adam: own lr 0.5" in text(driver, "#own-lr")
    open_advanced(driver)  # its cell holds the own lr, and must let it go too
    assert value(driver, '[name="adam.lr"]') == "0.5"
    before = race(driver)
    button = driver.find_element("css selector", "#own-lr button")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()  # follow the slider
    wait(driver, lambda: "adam.lr=&" in driver.current_url + "&", 20, "the URL kept adam.lr")
    wait_for_change(driver, before)
    wait(driver, lambda: f"Adam lr {lr}, β₁ {mu}" in text(driver, "#race-legend"))
    assert text(driver, "#own-lr") == "" and value(driver, '[name="adam.lr"]') == ""
    press(driver, "#lr-slider [role=slider]", times=2)  # Adam follows the slider now
    wait(driver, lambda: f"Adam lr {value(driver, '#lr-input')}," in text(driver, "#race-legend"))


def test_typing_a_cells_own_value_into_it_keeps_that_value(page):
    driver = page.driver
    open_advanced(driver)
    cell = '[name="adam.lr"]'
    assert value(driver, cell) == "0.5"
    box = driver.find_element("css selector", cell)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    box.send_keys("0.5", Keys.ENTER)
    box.send_keys(Keys.TAB)
    assert value(driver, cell) == "0.5"
    assert text(driver, "#overrides-error") == ""
    assert "adam.lr=0.5&" in driver.current_url + "&"


def test_copy_cli_command_writes_the_exports_bytes_and_copy_link_gives_the_address(
        page, tmp_path):
    driver = page.driver
    type_into(driver, "#steps-input", "40")  # a race that differs from the default
    wait(driver, lambda: "steps=40" in driver.current_url)
    driver.find_element("css selector", "#copy-cli-button").click()
    wait(driver, lambda: driver.find_elements("css selector", "#share-text"), 20, "no command")
    command = shlex.split(text(driver, "#share-text"))
    assert command[:3] == ["python", "-m", "optim_core"] and "adam.lr=0.5" in command
    done = subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, timeout=120,
                          capture_output=True, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    driver.find_element("css selector", "#export-csv-button").click()
    exported = Path(page.download_path) / "optimizer-race-ravine.csv"
    wait(driver, lambda: exported.exists() and exported.stat().st_size > 0, 20, "no CSV")
    assert (tmp_path / "optimizer-race-ravine.csv").read_bytes() == exported.read_bytes()

    driver.find_element("css selector", "#copy-link-button").click()
    wait(driver, lambda: text(driver, "#share-text") == driver.current_url, 20, "no link")
    assert "address bar" in text(driver, "#share-note")
    wait(driver, lambda: text(driver, "#share-status") != "")  # copied, or says it was not
    titles = driver.execute_script("return Array.from(document.querySelectorAll("
                                   "'.modebar-btn')).map(b => b.getAttribute('data-title'))")
    assert titles and not [t for t in titles if "Share" in t or "Cloud" in t]
    type_into(driver, "#steps-input", "50")  # what was copied no longer describes the race
    wait(driver, lambda: not driver.find_elements("css selector", "#share-text"), 20,
         "the copied text stayed after the race changed")


CLIPPED_JS = """
return Array.from(document.querySelectorAll('.number-input input')).filter(box => {
  const old = box.value;
  box.value = arguments[0];
  const clipped = box.scrollWidth > box.clientWidth;
  box.value = old;
  return clipped && box.offsetParent !== null;
}).map(box => box.id || box.name);
"""
VISIBLE_JS = """
const r = arguments[0].getBoundingClientRect();
const s = document.querySelector('.sidebar').getBoundingClientRect();
return r.height > 0 && r.top >= s.top && r.bottom <= Math.min(s.bottom, window.innerHeight);
"""


def open_advanced(driver):
    summary = driver.find_element("css selector", "#advanced-summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    wait(driver, lambda: driver.find_elements("css selector", '[name="adam.lr"]'), 20,
         "no Advanced grid")


def test_the_small_things_say_what_is_true(page):
    driver = page.driver
    # five digits fit every number box, the Advanced grid's included
    open_advanced(driver)
    assert driver.execute_script(CLIPPED_JS, "10000") == []
    # an Advanced error is in view, not below the sidebar's fold
    cell = driver.find_element("css selector", '[name="adagrad.eps"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", cell)
    cell.click()
    cell.send_keys("-1", Keys.ENTER)
    error = driver.find_element("css selector", "#overrides-error")
    wait(driver, lambda: "-1" in error.text, 20, "no Advanced error")
    assert driver.execute_script(VISIBLE_JS, error)
    # lr 0 puts the log slider at its low end
    type_into(driver, "#lr-input", "0")
    handle = "#lr-slider [role=slider]"
    wait(driver, lambda: driver.find_element("css selector", handle)
         .get_attribute("aria-valuenow") == "-5", 20, "the lr slider did not go to its end")
    # the tolerance label sits on its line; the loss floor is said
    label, line = driver.execute_script("""
        const gd = document.querySelector('#loss-graph .js-plotly-plot');
        const ya = gd._fullLayout.yaxis;
        const note = gd._fullLayout.annotations.find(a => a.text.startsWith('tolerance'));
        return [note.y, Math.log10(gd._fullLayout.shapes[0].y0)];""")
    assert label == pytest.approx(line)
    assert "below 1e-30 drawn at 1e-30" in driver.execute_script(
        "return document.querySelector('#loss-graph .js-plotly-plot')"
        "._fullLayout.yaxis.title.text")


def test_the_links_note_can_be_dismissed_and_goes_once_the_address_changes(fresh_tab):
    driver = fresh_tab.driver
    for leave in ("dismiss", "fix"):
        driver.get(fresh_tab.server_url + "/?lr=banana")
        wait_for_race(driver)
        wait(driver, lambda: "lr='banana'" in text(driver, "#url-note"))
        if leave == "dismiss":
            driver.find_element("css selector", "#url-note-dismiss-button").click()
        else:
            type_into(driver, "#lr-input", "0.05")
        wait(driver, lambda: not driver.find_element("css selector", "#url-note")
             .is_displayed(), 20, f"the note stayed ({leave})")


def test_a_switch_and_a_pair_in_the_advanced_panel_change_the_race_and_the_url(page):
    driver = page.driver
    open_advanced(driver)
    amsgrad = """[id*='"optimizer":"adam","param":"amsgrad"'] input"""
    box = driver.find_element("css selector", amsgrad)
    assert not box.is_selected()  # torch's default
    before = race(driver)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    wait(driver, lambda: "adam.amsgrad=true" in driver.current_url, 20, "no amsgrad in the URL")
    after = wait_for_change(driver, before)
    adam = after["names"].index("Adam")
    assert after["paths"][adam] != before["paths"][adam]
    wait(driver, lambda: "amsgrad true" in text(driver, "#race-legend"))
    # a pair that breaks its rule is named next to the panel, and the race stays
    etas = driver.find_element("css selector", '[name="rprop.etas"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", etas)
    etas.click()
    etas.send_keys("1.5, 0.3", Keys.ENTER)
    wait(driver, lambda: "Rprop · etas" in text(driver, "#overrides-error"), 20,
         "no message for the pair")
    assert race(driver)["paths"] == after["paths"]
    type_into(driver, '[name="rprop.etas"]', "0.3, 1.5")
    wait(driver, lambda: text(driver, "#overrides-error") == "", 20, "the message stayed")
    wait(driver, lambda: "rprop.etas=0.3,1.5" in driver.current_url, 20, "no etas in the URL")
