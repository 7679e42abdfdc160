"""The drag endpoint (callbacks/drag.py): frames of the engine's paths, checked input."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from callbacks.drag import BadDrag, drag_frame
from layouts import figures
from settings import from_query

QUERY = "?surface=ravine&optimizers=sgd,momentum&steps=200&lr=0.01&momentum=0.8"


def floats(value) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype="<f4")


def test_a_frame_is_the_engines_race_at_the_slider_position():
    frame = drag_frame(QUERY, "lr", "-1.5", loss=True)
    assert frame["value"] == 0.0316
    settings, _ = from_query(QUERY.replace("lr=0.01", "lr=0.0316"))
    race = settings.simulate()
    expected = figures.path_updates(race)
    for index, attributes in expected.items():
        sent = frame["traces"][index]
        for key in ("x", "y"):
            assert np.array_equal(floats(sent[key]), attributes[key])
    assert [floats(curve).tolist() for curve in frame["loss"]["y"]] == \
        [floats(curve).tolist() for curve in figures.loss_curves(race)["y"]]
    assert "loss" not in drag_frame(QUERY, "lr", "-1.5")


def test_a_decimated_path_stays_within_half_a_pixel_and_keeps_its_ends():
    view = (-8.0, 8.0, -8.0, 8.0, 400.0, 400.0)
    full = figures.path_updates(from_query(QUERY)[0].simulate())[1]
    thin = figures.decimated(full, view)
    assert len(thin["x"]) < len(full["x"])
    assert (thin["x"][0], thin["x"][-1]) == (full["x"][0], full["x"][-1])
    scale = 400 / 16
    kept = np.stack([thin["x"], thin["y"]], axis=1)
    for point in np.stack([full["x"], full["y"]], axis=1):  # every point near a kept one
        assert np.min(np.abs(kept - point).max(axis=1)) * scale <= 0.5 + 1e-6
    sent = drag_frame(QUERY, "lr", "-2", ",".join(map(str, view)))["traces"][1]
    assert len(floats(sent["x"])) < len(full["x"])


@pytest.mark.parametrize(("args", "says"), [
    (("?" + "x" * 5000, "lr", "-2"), "at most"),
    ((QUERY, "beta2", "-2"), "name must be one of lr, momentum"),
    ((QUERY, "lr", "abc"), "position must be a number"),
    ((QUERY, "lr", "nan"), "position must be in"),
    ((QUERY, "lr", "7"), "position must be in [-5, 1]"),
    ((QUERY, "momentum", "1.5"), "position must be in [0, 0.999]"),
    ((QUERY, "lr", "-2", "1,0,0,1,10,10"), "view must be"),
    ((QUERY, "lr", "-2", "0,1,0,1,10,1e9"), "view must be"),
    ((QUERY, "lr", "-2", "a,b"), "view must be six numbers"),
    (("?surface=nowhere", "lr", "-2"), "not a surface"),
])
def test_a_bad_drag_request_is_named(args, says):
    with pytest.raises(BadDrag) as error:
        drag_frame(*args)
    assert says in str(error.value)


def test_the_endpoint_answers_400_with_the_reason_never_500():
    import app

    client = app.app.server.test_client()
    good = client.get("/_drag/paths", query_string={"q": QUERY, "name": "lr",
                                                    "position": "-2"})
    assert good.status_code == 200 and good.json["value"] == 0.01
    bad = client.get("/_drag/paths", query_string={"q": QUERY, "name": "lr",
                                                   "position": "inf"})
    assert bad.status_code == 400 and "position" in bad.json["error"]


def test_a_position_whose_race_is_invalid_answers_no_paths():
    frame = drag_frame("?surface=ravine&optimizers=nesterov", "momentum", "0")
    assert "traces" not in frame and "momentum" in frame["invalid"]
