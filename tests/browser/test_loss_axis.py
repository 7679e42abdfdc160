"""The loss plot's x axis in a real headless Chromium: switched to f, ∇f evaluations, an
L-BFGS race's curves are drawn against their evaluations, the scrubber's line sits at
the evaluations of its step, the leaderboard counts evaluations to the tolerance and the
address holds ``axis=evals``."""

from __future__ import annotations

from settings import from_query

from .pages import text, wait

# L-BFGS with three iterations a step (the URL's override syntax): several evaluations
# of f and ∇f a step, where SGD makes one
SEARCH = "?surface=ravine&optimizers=sgd,lbfgs&steps=100&lr=0.065&lbfgs.lr=1&lbfgs.max_iter=3"

#: each loss curve's drawn x (Plotly's calcdata: x0 + k dx where the trace has no x)
LOSS_X_JS = """
const gd = document.querySelector('#loss-graph .js-plotly-plot');
if (!gd || !gd.calcdata) return null;
return gd.calcdata.map(cd => cd.map(p => p.x));
"""

#: the scrubber's loss line's left edge, and where step evaluations ``e`` sits on the axis
LINE_JS = """
const gd = document.querySelector('#loss-graph .js-plotly-plot');
const line = gd && gd.parentElement.querySelector('.step-line');
if (!line || line.style.display === 'none') return null;
const xa = gd._fullLayout.xaxis;
return [parseFloat(line.style.left), xa._offset + xa.c2p(arguments[0])];
"""


def test_the_evaluations_axis_draws_lbfgs_against_its_evaluations(page):
    driver = page.driver
    driver.get(page.server_url + "/" + SEARCH + "&step=2")
    race = from_query(SEARCH)[0].simulate()
    sgd, lbfgs = (run.evals.tolist() for run in race.runs)
    assert lbfgs[-1] > sgd[-1]  # the two axes differ
    wait(driver, lambda: driver.execute_script(LOSS_X_JS) == [list(range(101))] * 2, 30,
         "the loss plot is not against steps")
    driver.find_element("css selector", "#loss-axis-select input[value=evals]").click()
    wait(driver, lambda: driver.execute_script(LOSS_X_JS) == [sgd, lbfgs], 30,
         "the loss curves are not drawn against their evaluations")
    wait(driver, lambda: "axis=evals" in driver.current_url, 10, "the URL has no axis")
    wait(driver, lambda: "evaluations to within" in text(driver, "#leaderboard"), 10,
         "the leaderboard does not count evaluations")
    # the line at step 2 sits at L-BFGS's evaluations after 2 steps (the run with most)
    wait(driver, lambda: (lambda got: got is not None and abs(got[0] - got[1]) < 0.6)(
        driver.execute_script(LINE_JS, lbfgs[2])), 10,
        f"the step line is not at {lbfgs[2]} evaluations")
    driver.find_element("css selector", "#loss-axis-select input[value=steps]").click()
    wait(driver, lambda: driver.execute_script(LOSS_X_JS) == [list(range(101))] * 2, 30,
         "back to steps, the loss plot is not against steps")
    wait(driver, lambda: "axis=" not in driver.current_url, 10, "the URL kept the axis")
