"""The step scrubber's Python half: what each race sends it, and the link's ``step=``."""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np
import pytest
from dash import no_update

from callbacks.race import update_race
from layouts import figures
from layouts.figures import drawn_path, scrub_data
from settings import RaceSettings, from_query, step_from_query


def decode(typed: dict) -> np.ndarray:
    assert typed["dtype"] == "f4"
    return np.frombuffer(base64.b64decode(typed["bdata"]), dtype="<f4")


def test_scrub_data_holds_every_point_and_loss_of_each_run_as_float32():
    race = RaceSettings().simulate()
    data = scrub_data(race)
    assert data["steps"] == race.steps and data["f_min"] == race.surface.f_min
    assert [run["optimizer"] for run in data["runs"]] == [r.optimizer for r in race.runs]
    for sent, run in zip(data["runs"], race.runs, strict=True):
        np.testing.assert_array_equal(decode(sent["x"]), run.params[:, 0].astype(np.float32))
        np.testing.assert_array_equal(decode(sent["y"]), run.params[:, 1].astype(np.float32))
        np.testing.assert_array_equal(decode(sent["loss"]),
                                      figures.loss_gap(race, run).astype(np.float32))


def test_a_runaway_path_says_where_the_map_cuts_it_and_a_diverged_one_stops():
    settings, _ = from_query("?surface=ravine&optimizers=sgd,adam&lr=0.5&steps=60")
    race = settings.simulate()
    sgd, adam = scrub_data(race)["runs"]
    points, cut = drawn_path(race.runs[0], race.surface.window)
    assert cut and race.runs[0].diverged_at is not None
    # the drawn path: the first `shared` points, then the edge point
    assert sgd["shared"] == len(points) - 1
    assert sgd["edge"] == pytest.approx(points[-1].tolist(), rel=1e-6)
    assert len(decode(sgd["x"])) == race.runs[0].last_step + 1 < race.steps + 1
    assert adam["edge"] is None and adam["shared"] == race.steps + 1


def test_the_scrub_store_is_sent_with_each_race_and_has_nothing_non_finite():
    values = {**RaceSettings().to_dict(), "optimizers": ["sgd", "adam"]}
    out = update_race(values, {}, "light", None)
    assert out["scrub"]["steps"] == RaceSettings().steps
    json.dumps(out["scrub"], allow_nan=False)
    # 8 optimizers × 1000 steps: well under 100 KB on the wire (gzipped)
    big, _ = from_query("?surface=rosenbrock&optimizers=sgd,momentum,nesterov,adam,adamw,"
                        "nadam,rmsprop,adagrad&steps=1000")
    body = json.dumps(scrub_data(big.simulate())).encode()
    assert len(gzip.compress(body)) < 100_000


def test_a_bad_control_sends_no_new_scrub_data():
    out = update_race({**RaceSettings().to_dict(), "steps": -3}, {}, "light", None)
    assert out["scrub"] is no_update  # the scrubber keeps the race drawn


@pytest.mark.parametrize(("query", "steps", "step"), [
    ("?step=12", 150, 12), ("?step=0", 150, 0), ("?surface=ravine", 150, None),
    ("?step=150", 150, None), ("?step=151", 150, None), ("?step=-1", 150, None),
    ("?step=1.5", 150, None), ("?step=abc", 150, None), ("?step=", 150, None),
    ("?step=%EF%BC%91", 150, None),  # a full-width digit is no step
])
def test_a_links_step_is_a_whole_step_before_the_races_end(query, steps, step):
    assert step_from_query(query, steps) == step


@pytest.mark.parametrize(("query", "note"), [
    ("?step=abc", "Ignored step='abc'"), ("?step=-2", "Ignored step='-2'"),
    ("?steps=40&step=90", "step=90 is past the race's 40 steps"),
])
def test_a_bad_or_late_step_in_a_link_gets_a_note(query, note):
    _, notes = from_query(query)
    assert any(note in text for text in notes), notes


def test_a_good_step_is_a_view_key_not_a_race_setting():
    settings, notes = from_query("?steps=40&step=12")
    assert notes == [] and settings == from_query("?steps=40")[0]
    assert "step=" not in settings.to_query()


# --- the mechanism arrows and the walkthrough's data -------------------------------------

def pairs(typed: dict) -> np.ndarray:
    dtype = {"f4": "<f4", "f8": "<f8"}[typed["dtype"]]
    return np.frombuffer(base64.b64decode(typed["bdata"]), dtype=dtype).reshape(-1, 2)


def test_mechanism_data_carries_stateng_arrows_with_a_step_as_to_next():
    from optim_core import mechanism

    settings = RaceSettings(optimizers=("sgd", "momentum", "nesterov", "adam"))
    race = settings.simulate(state=True)
    sent = figures.mechanism_data(race)
    for data, run in zip(sent, mechanism.arrows(race), strict=True):
        assert data["labels"] == run.labels
        assert set(data["arrows"]) == set(run.arrows)
        for name, arrow in run.arrows.items():
            travelled = data["arrows"][name]
            assert travelled["origin"] == arrow.origin
            if travelled.get("to_next"):  # the browser draws it between two engine points
                origins = run.points[arrow.origin]
                np.testing.assert_array_equal(arrow.vector[:-1], origins[1:] - origins[:-1])
            else:
                np.testing.assert_array_equal(pairs(travelled["vector"]),
                                              arrow.vector.astype(np.float32))
        # the path's own points are not sent again
        assert set(data["points"]) == set(run.points) - set(figures.PATH_POINTS)
    nesterov = sent[2]
    np.testing.assert_array_equal(
        pairs(nesterov["points"]["classical"]),
        mechanism.arrows(race)[2].points["classical"].astype(np.float32))
    assert sent[3]["step_size"] is not None and sent[0]["step_size"] is None
    assert sent[0]["arrows"]["step"].get("to_next") and "vector" in sent[1]["arrows"][
        "momentum_carry"]


def test_walkthrough_data_is_the_engines_table_at_every_step_by_column():
    from optim_core import mechanism

    run = RaceSettings(optimizers=("momentum",)).simulate(state=True).runs[0]
    data = figures.walkthrough_data(run)
    table = mechanism.walkthrough(run, 0, around=len(run.loss))
    assert data["rows"] == len(run.loss) and data["columns"] == list(table.columns[1:])
    assert data["formulas"]["momentum_buffer"] == table.formulas["momentum_buffer"]
    buffer = pairs(data["values"]["momentum_buffer"])
    for k in (0, 7, len(run.loss) - 2):
        np.testing.assert_array_equal(buffer[k], table.rows[k]["momentum_buffer"])  # float64
    assert np.isnan(pairs(data["values"]["update"])[-1]).all()  # no step from the last row


def test_the_mechanism_callback_keeps_the_chosen_optimizer_while_it_races():
    from callbacks.mechanism import mechanism_update, walkthrough_choice

    assert walkthrough_choice(("sgd", "adam"), "adam") == "adam"
    assert walkthrough_choice(("sgd", "adam"), "nadam") == "sgd"
    state = {"settings": RaceSettings(optimizers=("sgd", "adam")).to_dict(), "query": "?q"}
    out = mechanism_update(state, "adam", only_walkthrough=True)
    assert out["value"] == "adam" and out["store"]["runs"] is None
    assert out["store"]["walkthrough"]["optimizer"] == "adam"
    assert [o["value"] for o in out["options"]] == ["sgd", "adam"]
    full = mechanism_update(state, None, only_walkthrough=False)
    assert len(full["store"]["runs"]) == 2 and full["store"]["query"] == "?q"
    json.dumps(full["store"], allow_nan=False)


def test_the_mechanism_store_for_eight_optimizers_by_1000_steps_stays_reasonable():
    big, _ = from_query("?surface=rosenbrock&optimizers=sgd,momentum,nesterov,adam,adamw,"
                        "nadam,rmsprop,adagrad&steps=1000")
    body = json.dumps(figures.mechanism_data(big.simulate(state=True))).encode()
    assert len(gzip.compress(body)) < 200_000  # measured: ~135 KB
