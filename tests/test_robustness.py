"""Crafted requests to a running server, as a script would send them.

Whatever arrives, the server answers without a 500, the answer never holds a NaN or
Infinity token, the offending control gets a message, and the next ordinary request is
served as usual.
"""

from __future__ import annotations

import json
import math
import re
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from layouts import ids
from optim_core import OPTIMIZERS
from settings import RaceSettings

NON_FINITE = re.compile(r"\bNaN\b|\bInfinity\b")


@pytest.fixture(scope="module")
def server():
    from app import app

    http = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()


def race_callback(app) -> tuple[str, dict]:
    return next((k, v) for k, v in app.callback_map.items()
                if k.startswith("..race-graph.figure..."))


def payload(app, changes: dict | None = None, changed: str = "lr-input.value") -> dict:
    """The request the browser sends when a race control changes."""
    settings = RaceSettings()
    values = {ids.SURFACE: settings.surface, ids.OPTIMIZERS: list(settings.optimizers),
              ids.LR_INPUT: settings.lr, ids.MOMENTUM_INPUT: settings.momentum,
              ids.STEPS: settings.steps, ids.KAPPA: settings.kappa, ids.NOISE: settings.noise,
              ids.BATCH_SIZE: None, ids.POINTS: None, ids.SEED: 0, ids.START_X: None,
              ids.START_Y: None, ids.LESSON: None, ids.DATA: None, ids.CUSTOM_F: None,
              ids.CUSTOM_WINDOW: None, ids.THEME: "light", ids.LOSS_AXIS: "steps",
              ids.LR_SLIDER: math.log10(settings.lr),
              ids.MOMENTUM_SLIDER: settings.momentum, ids.OVERRIDES_STORE: settings.overrides,
              **{control: settings.control_value(name)  # the schedule panel's boxes
                 for name, control in ids.SCHEDULE_CONTROLS.items()},
              **(changes or {})}
    key, spec = race_callback(app)
    inputs = [{**item, "value": values[item["id"]]} for item in spec["inputs"]]
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    # the page as first loaded: no structure drawn yet, empty message lines
    state = [{**item, "value": None} for item in spec["state"]]
    return {"output": key, "outputs": outputs, "inputs": inputs, "changedPropIds": [changed],
            "state": state}


def overrides_at(body: dict) -> int:
    """Where the overrides store (every optimizer's own hyperparameters) is."""
    return next(i for i, item in enumerate(body["inputs"]) if item["id"] == ids.OVERRIDES_STORE)


def post(url: str, body) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url + "/_dash-update-component", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def error_text(body: str, control: str) -> str:
    """The message the response puts under ``control``."""
    response = json.loads(body)["response"]
    return str(response.get(ids.error_id(control), {}).get("children", ""))


def assert_still_serving(url: str, app) -> None:
    status, body = post(url, payload(app))
    assert status == 200
    assert "race-graph" in json.loads(body)["response"]


CRAFTED = [float("nan"), float("inf"), float("-inf"), 1e308, -1e308, "abc", "", [1, 2],
           {"a": 1}, True, None, -5, 1e12]
CONTROLS = [ids.LR_INPUT, ids.MOMENTUM_INPUT, ids.STEPS, ids.KAPPA, ids.NOISE, ids.SEED,
            ids.START_X, ids.POINTS, ids.BATCH_SIZE]


def is_valid_for(control: str, value) -> bool:
    """Values a control may legitimately take (blank optional ones, a huge finite lr)."""
    optional = (ids.START_X, ids.POINTS, ids.BATCH_SIZE)
    if value is None or value == "":
        return control in optional
    return (control, value) in ((ids.LR_INPUT, 1e308), (ids.LR_INPUT, 1e12), (ids.START_X, -5))


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("value", CRAFTED, ids=repr)
def test_crafted_values_get_a_message_not_a_crash(server, control, value):
    url, app = server
    status, body = post(url, payload(app, {control: value}, f"{control}.value"))
    assert status == 200, body[:300]
    assert not NON_FINITE.search(body)
    message = error_text(body, control)
    if is_valid_for(control, value):
        assert message == ""
    else:
        assert message.startswith("Must be") or "applies to" in message, message


@pytest.mark.parametrize("changes,control,expected", [
    ({ids.SURFACE: "bowl"}, ids.SURFACE, "Must be one of ravine"),
    ({ids.SURFACE: None}, ids.SURFACE, "Must be one of ravine"),
    ({ids.OPTIMIZERS: ["sgd", "warp"]}, ids.OPTIMIZERS, "Must be among"),
    ({ids.OPTIMIZERS: "sgd"}, ids.OPTIMIZERS, "Choose at least one"),
    ({ids.OPTIMIZERS: []}, ids.OPTIMIZERS, "Choose at least one"),
    ({ids.OPTIMIZERS: [None, 3]}, ids.OPTIMIZERS, "Must be among"),
    ({ids.OPTIMIZERS: ["nesterov"], ids.MOMENTUM_INPUT: 0}, ids.MOMENTUM_INPUT, "Nesterov"),
    ({ids.BATCH_SIZE: 4}, ids.BATCH_SIZE, "regression surface only"),
    ({ids.SURFACE: "regression", ids.POINTS: 1000, ids.BATCH_SIZE: 999, ids.STEPS: 10_000},
     ids.BATCH_SIZE, "At most 499 with 10,000 steps (batch size × (steps + 1) ≤ 5,000,000"),
])
def test_unknown_names_and_broken_rules_are_explained(server, changes, control, expected):
    url, app = server
    status, body = post(url, payload(app, changes))
    assert status == 200 and not NON_FINITE.search(body)
    assert expected in error_text(body, control)


def test_huge_learning_rate_is_cut_and_flagged(server):
    url, app = server
    status, body = post(url, payload(app, {ids.LR_INPUT: 1e308}))
    assert status == 200 and not NON_FINITE.search(body)
    assert "diverged at step 1" in body


def test_bad_override_values_are_reported_per_optimizer(server):
    url, app = server
    body = payload(app)
    body["inputs"][overrides_at(body)]["value"] = {"adam": {"beta2": float("nan")}}
    status, text = post(url, body)
    assert status == 200 and not NON_FINITE.search(text)
    message = json.loads(text)["response"][ids.OVERRIDES_ERROR]["children"]
    assert message.startswith("Adam · beta2: Must be a float in the range [0, 1)")


def test_the_race_callback_takes_switches_options_and_pairs_and_names_bad_ones(server):
    url, app = server
    body = payload(app, {ids.OPTIMIZERS: ["adam", "rprop"]})
    body["inputs"][overrides_at(body)]["value"] = {"adam": {"amsgrad": True},
                                                   "rprop": {"etas": [0.3, 1.5]}}
    status, text = post(url, body)
    assert status == 200 and not NON_FINITE.search(text)
    state = json.loads(text)["response"][ids.RACE_STATE]["data"]
    assert state["settings"]["overrides"] == {"adam": {"amsgrad": True},
                                              "rprop": {"etas": [0.3, 1.5]}}
    assert "adam.amsgrad=true" in state["query"] and "rprop.etas=0.3,1.5" in state["query"]
    body["inputs"][overrides_at(body)]["value"] = {"rprop": {"etas": "1.5, 0.3"}}
    status, text = post(url, body)
    assert status == 200
    message = json.loads(text)["response"][ids.OVERRIDES_ERROR]["children"]
    assert message.startswith("Rprop · etas: Must be a pair (etaminus, etaplus)")


@pytest.mark.parametrize("mangle", [
    lambda b: b"{not json",
    lambda b: b"[]",
    lambda b: b"null",
    lambda b: {k: v for k, v in b.items() if k != "inputs"},
    lambda b: {k: v for k, v in b.items() if k != "output"},
    lambda b: {**b, "output": "no-such-graph.figure"},
    lambda b: {**b, "inputs": b["inputs"][:3]},
    lambda b: {**b, "inputs": "everything"},
    lambda b: {**b, "state": None},
    lambda b: {**b, "inputs": [*b["inputs"][:overrides_at(b)], "oops",
                               *b["inputs"][overrides_at(b) + 1:]]},
    lambda b: {**b, "inputs": [*b["inputs"][:overrides_at(b)],
                               {**b["inputs"][overrides_at(b)],
                                "value": {"adam": "x", "sgd": {"lr": [1, 2]}, "7": {3: 1}}},
                               *b["inputs"][overrides_at(b) + 1:]]},
    lambda b: {**b, "state": [[{"id": "x", "property": "id", "value": "x"}], *b["state"][1:]]},
], ids=["not-json", "list", "null", "no-inputs", "no-output", "unknown-output",
        "few-inputs", "inputs-string", "state-null", "override-garbage",
        "override-values-garbage", "state-garbage"])
def test_malformed_requests_are_rejected_without_a_500(server, mangle):
    url, app = server
    status, body = post(url, mangle(payload(app)))
    assert status < 500, body[:300]
    assert not NON_FINITE.search(body)
    assert_still_serving(url, app)


def export(url: str, settings) -> tuple[int, str]:
    """The CSV export's request, with ``settings`` as the race store holds them."""
    return post(url, {"output": f"{ids.EXPORT_DOWNLOAD}.data",
                      "outputs": {"id": ids.EXPORT_DOWNLOAD, "property": "data"},
                      "inputs": [{"id": ids.EXPORT_BUTTON, "property": "n_clicks", "value": 1}],
                      "state": [{"id": ids.RACE_STATE, "property": "data",
                                 "value": {"settings": settings}}],
                      "changedPropIds": [f"{ids.EXPORT_BUTTON}.n_clicks"]})


def test_the_export_obeys_the_races_limits(server):
    """A crafted store once made a 64 runs × 10,000 steps export (100 MB, 9 s)."""
    url, app = server
    settings = RaceSettings(surface="saddle", steps=50).to_dict()
    status, body = export(url, settings)
    assert status == 200
    assert json.loads(body)["response"][ids.EXPORT_DOWNLOAD]["data"]["content"].count(
        "\n") == 4 * 51 + 1
    crowd = settings | {"optimizers": ["adam"] * 64}
    status, body = export(url, crowd)
    assert status == 200  # the same optimizer once: one run
    assert json.loads(body)["response"][ids.EXPORT_DOWNLOAD]["data"]["content"].count(
        "\n") == 51 + 1
    for bad in ({"steps": 10**6}, {"points": 10**6, "surface": "regression"},
                {"kappa": "x"}, {"optimizers": None}):
        status, body = export(url, settings | bad)
        # refused by the request guard (callbacks/guard.py) before the export runs; the
        # export itself rechecks the store (tests/test_request_bounds.py)
        assert status == 400 and "race-state-store" in body, (bad, status, body[:200])
    assert_still_serving(url, app)


def test_health_endpoint(server):
    url, _ = server
    with urllib.request.urlopen(url + "/healthz") as response:
        health = json.loads(response.read())
    assert response.status == 200 and health["status"] == "ok"


def test_requests_stay_bounded():
    """The largest requests the limits allow finish and stay small in memory."""
    import tracemalloc

    from optim_core.sweep import sweep

    tracemalloc.start()
    settings = RaceSettings(optimizers=tuple(OPTIMIZERS), steps=10_000)
    settings.simulate()
    race_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    with pytest.raises(ValueError, match="data points"):
        sweep("regression", "sgd", points=1000, resolution=512, steps=2000)
    with pytest.raises(ValueError, match="mini-batches are drawn ahead"):
        RaceSettings(surface="regression", points=1000, batch_size=999,
                     steps=10_000).simulate()
    tracemalloc.stop()
    assert race_peak < 50e6  # 8 optimizers × 10,001 steps: a few MB


def test_a_fault_in_the_race_callback_keeps_the_race_and_says_so(server, monkeypatch):
    """Only the race's error line changes: the drawn race, the controls and the other
    message lines stay as they are."""
    import callbacks.race

    url, app = server

    def broken(*_args, **_kwargs):
        raise RuntimeError("a fault")

    monkeypatch.setattr(callbacks.race, "update_race", broken)
    status, text = post(url, payload(app))
    assert status == 200
    assert json.loads(text)["response"] == {
        ids.RACE_ERROR: {"children": "Something went wrong drawing this race; the server log "
                                     "has the details. Try other settings."}}


def test_the_race_callback_sends_a_message_only_when_it_changes(server):
    """A message line the page already shows is left alone (not in the answer); a
    different one is sent."""
    url, app = server
    line = ids.error_id(ids.BATCH_SIZE)

    def answer(changes, shown):
        body = payload(app, changes)
        body["state"] = [{**item, "value": shown} if item["id"] == line else item
                         for item in body["state"]]
        status, text = post(url, body)
        assert status == 200
        return json.loads(text)["response"].get(line)

    assert answer({}, "") is None  # no message, none shown: nothing sent
    assert answer({}, "an old message") == {"children": ""}
    message = answer({ids.BATCH_SIZE: 4}, "")["children"]
    assert "regression surface only" in message
    assert answer({ids.BATCH_SIZE: 4}, message) is None


HOSTILE_EXPRESSIONS = [
    "__import__('os')", "().__class__", "lambda: 0", "[x for x in (1, 2)]", "9^9^9",
    "x^(10^6)", "(" * 10_000 + "x" + ")" * 10_000, "x + " * 250_000 + "y", "x\x00+y",
    "х^2 + y^2",  # a Cyrillic х
    "x^2 + y^2; import os", "exp(1000)", "1/0", "x.real", "2x",
]


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=lambda t: repr(t[:24]))
def test_a_hostile_expression_gets_a_message_under_its_box_and_the_race_stays(server, text):
    """Through the race callback over HTTP, as the page would send it: a clear message
    under the f(x, y) box (or the request refused at the door for its size), never a 500,
    never NaN, and nothing drawn: the race before stays."""
    url, app = server
    status, body = post(url, payload(app, {ids.SURFACE: "custom", ids.CUSTOM_F: text},
                                     f"{ids.CUSTOM_F}.value"))
    assert status in (200, 400, 413), body[:200]
    if status == 200:
        assert not NON_FINITE.search(body)
        message = error_text(body, ids.CUSTOM_F)
        assert message, f"no message for {text[:40]!r}"
        assert "race-graph" not in json.loads(body)["response"]  # the race drawn before stays
    assert_still_serving(url, app)


def polyak_click(url: str, app, settings) -> tuple[int, dict]:
    """The 'use Polyak's optimum' button's request, the race store holding ``settings``."""
    key = next(k for k, v in app.callback_map.items()
               if v["inputs"] == [{"id": ids.POLYAK_BUTTON, "property": "n_clicks"}])
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    status, body = post(url, {
        "output": key, "outputs": outputs,
        "inputs": [{"id": ids.POLYAK_BUTTON, "property": "n_clicks", "value": 1}],
        "state": [{"id": ids.RACE_STATE, "property": "data", "value": {"settings": settings}}],
        "changedPropIds": [f"{ids.POLYAK_BUTTON}.n_clicks"]})
    return status, (json.loads(body)["response"] if status == 200 else {})


def test_the_polyak_button_sets_the_sliders_to_the_optimum_theory_shows(server):
    from optim_core import surfaces, theory

    url, app = server
    c = theory.curvature(surfaces.get_surface("ravine", kappa=40.0))
    lr, momentum, _ = theory.polyak_optimum(c.L, c.m)
    status, response = polyak_click(url, app, RaceSettings(kappa=40.0).to_dict())
    assert status == 200
    assert response[ids.LR_INPUT]["value"] == lr
    assert response[ids.LR_SLIDER]["value"] == math.log10(lr)
    assert response[ids.MOMENTUM_INPUT]["value"] == response[ids.MOMENTUM_SLIDER]["value"] \
        == momentum
    status, _ = polyak_click(url, app, RaceSettings(surface="rosenbrock").to_dict())
    assert status == 204  # not a quadratic: theory shows no optimum, nothing changes
