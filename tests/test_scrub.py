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
