"""The step scrubber in a real headless Chromium: keys, play, the link's step, a diverged
run's marker; all drawn in the browser, with no request to the server."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from layouts.figures import drawn_path
from settings import RaceSettings, from_query

from .pages import text, wait, wait_for_race

#: What the page shows of the step: the scrubber's step, each at-step marker's point in
#: data coordinates (read back from its SVG transform), the loss line, the leaderboard's
#: loss cells, and how many callback requests the page has sent.
AT_STEP_JS = """
const gd = document.querySelector('#race-graph .js-plotly-plot');
const scrub = window.optimizerRaceScrub;
if (!gd || !gd._fullLayout || !scrub || !scrub.data) return null;
const meta = gd._fullLayout.meta.traces, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const group = Array.from(gd.querySelectorAll('.scatterlayer .trace'))
  .find(g => g.__data__ && g.__data__[0].trace.index === meta.at_step);
const marks = Array.from(group.querySelectorAll('path.point')).map(function (mark) {
  const m = /translate\\(([-0-9.e]+),([-0-9.e]+)\\)/.exec(mark.getAttribute('transform'));
  return [xa.p2c(Number(m[1])), ya.p2c(Number(m[2]))];
});
const line = document.querySelector('#loss-graph .step-line');
return {
  step: Number(document.getElementById('step-slider').value),
  steps: Number(document.getElementById('step-slider').max),
  readout: document.getElementById('step-readout').textContent,
  shown: group.style.display !== 'none', marks: marks,
  line: !!line && line.style.display !== 'none',
  requests: performance.getEntriesByType('resource')
    .filter(e => e.name.indexOf('_dash-update-component') >= 0).length,
};
"""


def at_step(driver) -> dict | None:
    return driver.execute_script(AT_STEP_JS)


def open_page(tab, search: str = ""):
    """The page in a fresh tab of the shared browser, at ``search``, its race drawn."""
    tab.driver.get(tab.server_url + "/" + search)
    wait_for_race(tab.driver)
    wait(tab.driver, lambda: at_step(tab.driver), 20, "no scrub data")
    return tab.driver


def key(driver, name) -> None:
    """A key pressed on the page (the focus on the body, outside any control)."""
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    driver.find_element("css selector", "body").send_keys(name)


def query(driver) -> dict:
    return dict(parse_qsl(urlparse(driver.current_url).query, keep_blank_values=True))


def near(marks, points, race) -> bool:
    """Markers at ``points`` (data coordinates) within a pixel or so: 1/200 of the map."""
    (x0, x1), (y0, y1) = race.surface.window
    gap = np.abs(np.asarray(marks, float) - np.asarray(points, float))
    return bool((gap < np.array([x1 - x0, y1 - y0]) / 200).all())


def test_keys_scrub_the_race_with_no_request(fresh_tab):
    driver = open_page(fresh_tab)
    race = RaceSettings().simulate()
    start = at_step(driver)
    assert start["steps"] == race.steps and start["step"] == race.steps
    assert not start["shown"] and not start["line"]  # at the end: the race as it was
    wait(driver, lambda: "final loss" in text(driver, "#leaderboard"))
    before = at_step(driver)["requests"]
    key(driver, Keys.HOME)
    for _ in range(3):
        key(driver, Keys.ARROW_RIGHT)
    key(driver, Keys.ARROW_LEFT)
    wait(driver, lambda: at_step(driver)["step"] == 2)
    now = at_step(driver)
    assert now["readout"] == f"step 2 of {race.steps}" and now["shown"] and now["line"]
    # each marker at its run's point 2, as the engine computed it (within a pixel or so)
    expected = np.array([run.params[2] for run in race.runs])
    assert near(now["marks"], expected, race)
    wait(driver, lambda: "loss at step 2" in text(driver, "#leaderboard"))
    adam = race.runs[[r.optimizer for r in race.runs].index("adam")]
    shown = driver.find_element("css selector", "#leaderboard .board-loss-adam").text
    assert float(shown) == pytest.approx(float(adam.loss[2]), rel=1e-3)
    wait(driver, lambda: query(driver).get("step") == "2", 5, "the address holds the step")
    assert at_step(driver)["requests"] == before, "a scrub sent a request"
    key(driver, Keys.END)
    wait(driver, lambda: at_step(driver)["step"] == race.steps)
    assert not at_step(driver)["shown"]
    wait(driver, lambda: "step" not in query(driver), 5, "no step= at the end")
    assert at_step(driver)["requests"] == before


def test_play_advances_the_step_and_space_pauses(fresh_tab):
    driver = open_page(fresh_tab)
    key(driver, Keys.HOME)
    wait(driver, lambda: at_step(driver)["step"] == 0)
    before = at_step(driver)["requests"]
    # the slowest speed: 15 s for the race, so that the space (which can take seconds to
    # arrive on a loaded machine) comes while it plays, not after it ended
    Select(driver.find_element("css selector", "#play-speed-select")).select_by_value("10")
    driver.find_element("css selector", "#play-button").click()
    wait(driver, lambda: at_step(driver)["step"] >= 2, 10, "play did not advance")
    key(driver, Keys.SPACE)
    wait(driver, lambda: "Play" in text(driver, "#play-button"), 10, "space did not pause")
    paused = at_step(driver)["step"]
    assert 2 <= paused < RaceSettings().steps
    driver.execute_script("return new Promise(r => setTimeout(r, 300))")
    assert at_step(driver)["step"] == paused, "it went on after the pause"
    assert at_step(driver)["requests"] == before


def test_a_link_opens_at_its_step_and_a_new_race_keeps_it(fresh_tab):
    driver = open_page(fresh_tab, "?surface=ravine&steps=150&step=12")
    wait(driver, lambda: at_step(driver)["step"] == 12, 10, "step=12 not restored")
    race = RaceSettings().simulate()
    expected = np.array([run.params[12] for run in race.runs])
    assert near(at_step(driver)["marks"], expected, race)
    assert query(driver).get("step") == "12"
    # a new race (fewer steps, still past 12) keeps the step, and the address its step
    steps = driver.find_element("css selector", "#steps-input")
    steps.send_keys(Keys.CONTROL, "a")
    steps.send_keys("40", Keys.ENTER)
    wait(driver, lambda: at_step(driver)["steps"] == 40, 20)
    assert at_step(driver)["step"] == 12
    wait(driver, lambda: query(driver).get("steps") == "40" and query(driver).get("step") == "12")
    # one whose steps end before it goes to its end
    steps.send_keys(Keys.CONTROL, "a")
    steps.send_keys("8", Keys.ENTER)
    wait(driver, lambda: at_step(driver)["steps"] == 8, 20)
    assert at_step(driver)["step"] == 8
    wait(driver, lambda: "step" not in query(driver), 5)


def test_a_diverged_runs_marker_stops_at_its_last_finite_step(fresh_tab):
    search = "?surface=ravine&optimizers=sgd,adam&lr=0.5&steps=60&step=50"
    driver = open_page(fresh_tab, search)
    settings, _ = from_query(search)
    race = settings.simulate()
    sgd, adam = race.runs
    assert sgd.diverged_at is not None and sgd.last_step < 50  # the premise
    wait(driver, lambda: at_step(driver)["step"] == 50, 10)
    assert at_step(driver)["steps"] == 60  # the scrubber's range is the race's
    # SGD's last finite point is far off the map: its marker stays where its path leaves
    # the map (the cross), while Adam's moves on
    points, cut = drawn_path(sgd, race.surface.window)
    assert cut
    marks = at_step(driver)["marks"]
    assert near(marks[0], points[-1], race) and near(marks[1], adam.params[50], race)
    key(driver, Keys.ARROW_RIGHT)
    wait(driver, lambda: at_step(driver)["step"] == 51)
    assert near(at_step(driver)["marks"][0], points[-1], race)
    wait(driver, lambda: "(diverged)" in text(driver, "#leaderboard"))


ARROWS_JS = """
return Array.from(document.querySelectorAll('#race-graph svg.mechanism-layer [data-kind]'))
  .filter(e => e.closest('svg').style.display !== 'none')
  .map(e => ({optimizer: e.getAttribute('data-optimizer'), kind: e.getAttribute('data-kind'),
              tag: e.tagName, cut: e.getAttribute('data-cut'),
              hover: (e.getAttribute('data-hover') ||
                      (e.querySelector('[data-hover]') || {getAttribute: () => ''})
                        .getAttribute('data-hover'))}));
"""


def arrows(driver) -> list:
    return driver.execute_script(ARROWS_JS)


def test_the_mechanism_arrows_show_while_paused_and_the_toggle_hides_them(fresh_tab):
    driver = open_page(fresh_tab, "?surface=ravine&optimizers=momentum,nesterov,adam"
                                      "&steps=150&step=5")
    wait(driver, lambda: at_step(driver)["step"] == 5, 10)
    wait(driver, lambda: arrows(driver), 20, "no arrows at step 5")
    drawn = arrows(driver)
    kinds = {(a["optimizer"], a["kind"]) for a in drawn}
    assert {("momentum", "gradient_step"), ("momentum", "momentum_carry"),
            ("momentum", "step"), ("nesterov", "classical"), ("nesterov", "lookahead"),
            ("adam", "step"), ("adam", "gradient_step")} <= kinds, kinds
    hover = {(a["optimizer"], a["kind"]): a["hover"] for a in drawn}
    assert "Nesterov · step 5" in hover[("nesterov", "lookahead")]
    assert "where the gradient is evaluated" in hover[("nesterov", "lookahead")]
    assert "classical iterate" in hover[("nesterov", "classical")]
    assert "effective step size γ/(√v̂ + ε)" in hover[("adam", "step")]
    # the numbers are the engine's: momentum's carry −γ·μ·b₅ at step 5
    settings, _ = from_query("?surface=ravine&optimizers=momentum,nesterov,adam&steps=150")
    from optim_core import mechanism

    carry = mechanism.arrows(settings.simulate(state=True))[0].arrows["momentum_carry"]
    x, y = carry.vector[5]
    assert f"{float(f'{x:.5g}'):g}" in hover[("momentum", "momentum_carry")].replace("−", "-")
    # every arrow is drawn: as a line (cut at the edge, or whole) or as a dot, with a hover
    assert all(a["hover"] for a in drawn)
    driver.find_element("css selector", "#mechanism-toggle input").click()
    wait(driver, lambda: not arrows(driver), 5, "the toggle did not hide the arrows")
    driver.find_element("css selector", "#mechanism-toggle input").click()
    wait(driver, lambda: arrows(driver), 5)
    key(driver, Keys.END)  # at the end the race is shown as it was
    wait(driver, lambda: not arrows(driver), 5)


def walkthrough_rows(driver) -> list:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#walkthrough-table tbody tr'))"
        ".map(r => [Number(r.dataset.k), r.classList.contains('current')])")


def test_the_walkthrough_table_follows_the_scrubber(fresh_tab):
    driver = open_page(fresh_tab, "?surface=ravine&optimizers=momentum,adam&steps=150"
                                      "&step=10")
    wait(driver, lambda: walkthrough_rows(driver) == [[8, False], [9, False], [10, True],
                                                      [11, False], [12, False]], 20)
    before = at_step(driver)["requests"]
    key(driver, Keys.ARROW_RIGHT)
    wait(driver, lambda: walkthrough_rows(driver)[2] == [11, True], 5)
    assert at_step(driver)["requests"] == before, "the table follows with no request"
    table = text(driver, "#walkthrough-table")
    assert "bₜ = μ·bₜ₋₁ + (1 − τ)·gₜ" in table and "momentum_buffer" in table
    # the numbers are the engine's: momentum's buffer after step 11 (the row of k = 11)
    settings, _ = from_query("?surface=ravine&optimizers=momentum,adam&steps=150")
    from optim_core import mechanism

    row = mechanism.walkthrough(settings.simulate(state=True).runs[0], 11, 0).rows[0]
    bx = float(f"{row['momentum_buffer'][0]:.5g}")
    assert f"{bx:g}" in table.replace("−", "-")
    driver.find_element("css selector", "#walkthrough-first-steps-toggle input").click()
    wait(driver, lambda: [k for k, _ in walkthrough_rows(driver)] == [0, 1, 2, 3, 4], 5)
    # another optimizer: its own state and formulas
    driver.find_element("css selector", "#walkthrough-optimizer-select input[value=adam]").click()
    wait(driver, lambda: "exp_avg_sq" in text(driver, "#walkthrough-table"), 20)
    assert "vₜ = β₂·vₜ₋₁ + (1 − β₂)·gₜ²" in text(driver, "#walkthrough-table")
