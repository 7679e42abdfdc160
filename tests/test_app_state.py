"""The app's settings, URL and figures, without a browser."""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np
import pytest
from dash import Patch, dcc
from dash._utils import to_json
from dash.development.base_component import Component

import optim_core as oc
from layouts import figures, ids
from settings import (
    PRESETS,
    RaceSettings,
    SweepSettings,
    from_query,
    pair_sliders,
    parse_controls,
)

VALUES = {"surface": "ravine", "optimizers": ["sgd", "adam"], "lr": 0.02, "momentum": 0.9,
          "steps": 100, "kappa": 25.0, "noise": 0.0, "batch_size": None, "points": None,
          "seed": 0, "x0": None, "y0": None}


def test_url_round_trip_is_exact():
    settings = RaceSettings(surface="regression", optimizers=("momentum", "adam", "rmsprop"),
                            lr=0.1234567890123, momentum=0.987654321, steps=321, x0=-0.3,
                            y0=1 / 3, noise=0.05, points=40, batch_size=8, seed=7,
                            overrides={"adam": {"lr": 0.3, "beta2": 0.95},
                                       "rmsprop": {"alpha": 0.9}})
    restored, notes = from_query(settings.to_query())
    assert notes == [] and restored == settings


def test_missing_values_take_the_surfaces_preset():
    settings, notes = from_query("?surface=rosenbrock")
    assert notes == [] and settings == RaceSettings.preset("rosenbrock")
    assert from_query("")[0] == RaceSettings()


@pytest.mark.parametrize("query,fragment", [
    ("?lr=abc", "lr='abc'"), ("?lr=nan", "lr='nan'"), ("?steps=0", "steps='0'"),
    ("?surface=bowl", "not a surface"), ("?optimizers=warp", "Ignored unknown optimizers"),
    ("?adam.beta2=2", "adam.beta2='2'"), ("?zeta=1", "unknown setting 'zeta'"),
    ("?momentum=1", "momentum='1'"), ("?x0=1e9", "x0='1e9'"),
    ("?optimizers=nesterov&momentum=0", "Nesterov needs μ > 0"),
])
def test_bad_url_values_fall_back_with_a_note(query, fragment):
    settings, notes = from_query(query)
    assert any(fragment in note for note in notes), notes
    settings.simulate()  # whatever was ignored, the rest runs


def test_controls_parse_into_settings():
    settings, errors = parse_controls({**VALUES, "overrides": {"adam": {"lr": 0.3}}})
    assert errors == {} and settings.optimizers == ("sgd", "adam")
    race = settings.simulate()
    assert race.runs[1].hyperparameters["lr"] == 0.3 and race.runs[0].hyperparameters["lr"] == 0.02


@pytest.mark.parametrize("changes,control", [
    ({"lr": -1}, "lr"), ({"lr": "x"}, "lr"), ({"momentum": 1.0}, "momentum"),
    ({"steps": 2.5}, "steps"), ({"steps": None}, "steps"), ({"kappa": 0}, "kappa"),
    ({"x0": 1e5}, "x0"), ({"seed": -1}, "seed"), ({"optimizers": []}, "optimizers"),
    ({"surface": "bowl"}, "surface"), ({"batch_size": 3}, "batch_size"),
])
def test_each_bad_control_gets_its_own_message(changes, control):
    settings, errors = parse_controls({**VALUES, **changes, "overrides": {}})
    assert settings is None and list(errors) == [control]
    assert errors[control]


def test_override_errors_name_the_optimizer_and_parameter():
    settings, errors = parse_controls({**VALUES, "overrides": {"adam": {"beta2": 1.5}}})
    assert settings is None and "Must be a float in the range [0, 1)" in errors["adam.beta2"]


@pytest.mark.parametrize("surface", sorted(PRESETS))
def test_every_preset_runs_a_race_where_nobody_diverges(surface):
    race = RaceSettings.preset(surface, optimizers=tuple(oc.OPTIMIZERS)).simulate()
    assert all(run.diverged_at is None for run in race.runs)


def decode(typed_array: dict) -> np.ndarray:
    assert typed_array["dtype"] == "f4"
    return np.frombuffer(base64.b64decode(typed_array["bdata"]), dtype="<f4")


def test_a_slider_update_sends_only_the_paths_as_float32():
    race = RaceSettings(steps=500).simulate()
    patch = Patch()
    figures.patch_race_figure(patch, race)
    body = to_json(patch)
    assert "images" not in body and "template" not in body  # no surface, no layout
    operations = json.loads(body)["operations"]
    xs = [op["params"]["value"] for op in operations
          if op["location"][-1] == "x" and isinstance(op["params"].get("value"), dict)]
    assert len(xs) >= 4
    np.testing.assert_allclose(decode(xs[0]), race.runs[0].params[:, 0].astype(np.float32))
    # 4 optimizers × 501 steps: the path patch is a few tens of KB, a few KB gzipped
    assert len(gzip.compress(body.encode())) < 30_000


def test_a_moved_slider_writes_its_number_box():
    values, boxes, sliders = pair_sliders({"lr": 0.03, "momentum": 0.8},
                                          {"lr": -1.0, "momentum": 0.9011}, {"lr", "momentum"})
    assert values["lr"] == boxes["lr"] == 0.1  # 10 ** -1, to 3 significant digits
    assert values["momentum"] == boxes["momentum"] == 0.901
    assert sliders == {}
    values, boxes, _ = pair_sliders({"lr": 0.03}, {"lr": -1.234, "momentum": 0.8}, {"lr"})
    assert values["lr"] == boxes["lr"] == 0.0583  # 10 ** -1.234 = 0.05834...


def test_a_typed_number_is_used_exactly_and_moves_its_slider():
    values, boxes, sliders = pair_sliders({"lr": 0.0123456, "momentum": 0.5},
                                          {"lr": -2.0, "momentum": 0.5}, set())
    assert values["lr"] == 0.0123456 and boxes == {}
    assert sliders == {"lr": pytest.approx(np.log10(0.0123456))}  # μ's slider is there
    _, _, sliders = pair_sliders({"lr": 1e6, "momentum": 0.9995}, {"lr": 0.0, "momentum": 0.5},
                                 set())
    assert sliders == {"lr": 1.0, "momentum": 0.999}  # clipped to the sliders' ranges
    _, _, sliders = pair_sliders({"lr": 0, "momentum": 0.5}, {"lr": -1.0, "momentum": 0.5},
                                 set())
    assert sliders == {"lr": -5.0}  # lr 0: the log slider's low end


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "abc", None, [1]])
def test_a_bad_typed_number_leaves_the_slider_and_gets_a_message(bad):
    values, boxes, sliders = pair_sliders({"lr": bad, "momentum": 0.8},
                                          {"lr": -2.0, "momentum": 0.8}, set())
    assert boxes == {} and sliders == {}
    settings, errors = parse_controls({**RaceSettings().to_dict(), **values})
    assert settings is None and errors["lr"]


def test_an_impossible_slider_position_is_not_used():
    values, boxes, _ = pair_sliders({"lr": 0.03, "momentum": 0.8},
                                    {"lr": float("nan"), "momentum": "x"}, {"lr", "momentum"})
    assert values == {"lr": 0.03, "momentum": 0.8} and boxes == {}


def test_step_dots_only_while_they_are_cheap_to_redraw():
    few, many = RaceSettings(steps=50).simulate(), RaceSettings(steps=500).simulate()
    assert figures.path_mode(few) == "lines+markers"
    assert figures.path_mode(many) == "lines"
    patch = Patch()
    figures.patch_race_figure(patch, few)
    modes = {op["params"]["value"] for op in json.loads(to_json(patch))["operations"]
             if op["location"][-1] == "mode"}
    assert modes == {"lines+markers"}  # a patch switches the mode when steps change


def test_the_race_callback_leaves_unchanged_messages_alone():
    from app import create_app
    from callbacks.race import SETTING_CONTROLS

    app, _ = create_app()
    key = next(k for k in app.callback_map if k.startswith("..race-graph.figure"))
    outputs = key.strip(".").split("...")
    states = [f"{item['id']}.{item['property']}" for item in app.callback_map[key]["state"]]
    for _, control in SETTING_CONTROLS:  # every message line is an output and a state
        assert f"{ids.error_id(control)}.children" in outputs
        assert f"{ids.error_id(control)}.children" in states
    assert {o.split("@")[0] for o in outputs} >= {"lr-slider.value", "lr-input.value"}


def layout_props(node, found=None) -> dict:
    """Each component of a layout by id: its props as the browser first gets them."""
    found = {} if found is None else found
    if isinstance(node, (list, tuple)):
        for child in node:
            layout_props(child, found)
    elif isinstance(node, Component):
        props = node.to_plotly_json()["props"]
        if isinstance(props.get("id"), str):  # (pattern-matching ids are dicts)
            found[props["id"]] = props
        for value in props.values():
            layout_props(value, found)
    return found


def test_the_page_opens_with_what_the_url_callback_leaves_unsent():
    """As the page opens, apply_settings sends only what differs from ``opened_page()``:
    that must be what the layout shows, output by output."""
    from callbacks.url import SETTINGS_OUTPUTS, opened_page
    from layouts.page import build_layout

    shown = layout_props(build_layout(True))
    opened = opened_page()
    checked = 0
    for name, outputs in SETTINGS_OUTPUTS.items():
        for key, output in (outputs.items() if isinstance(outputs, dict) else [(None, outputs)]):
            if name not in opened:
                continue
            value = opened[name] if key is None else opened[name][key]
            props = shown[output.component_id]
            assert to_json(props.get(output.component_property)) == to_json(value), output
            checked += 1
    assert checked == sum(len(opened[name]) if isinstance(SETTINGS_OUTPUTS[name], dict) else 1
                          for name in opened)


def test_an_opening_page_is_sent_only_what_its_link_changes():
    from dash import no_update

    from callbacks.url import changed, control_values, opened_page

    settings, _ = from_query("surface=ravine&lr=0.02&steps=40")
    sent = changed(control_values(settings, []) | {"note": None, "step": {"step": None},
                                                   "overrides_store": settings.overrides},
                   opened_page())
    assert {k for k, v in sent["controls"].items() if v is not no_update} == {"lr", "steps"}
    assert sent["sliders"]["lr"] is not no_update and sent["sliders"]["momentum"] is no_update
    assert sent["about"] is no_update and sent["note"] is no_update
    assert sent["overrides"] == [] and sent["step"] == {"step": None}


def test_a_full_figure_carries_the_surface_once_as_an_image():
    race = RaceSettings().simulate()
    figure = figures.race_figure(race)
    image = figure.layout.images[0]
    assert image.source.startswith("data:image/png;base64,")
    png = base64.b64decode(image.source.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (x0, x1), (y0, y1) = race.surface.window
    assert (image.x, image.y, image.sizex, image.sizey) == (x0, y1, x1 - x0, y1 - y0)
    layout = figure.layout.meta["traces"]
    assert [figure.data[i].name for i in layout["paths"]] == ["SGD", "Momentum", "Nesterov",
                                                               "Adam"]


def test_png_encoder_writes_what_it_was_given():
    import zlib

    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    png = figures.png_bytes(rgb)
    start = png.index(b"IDAT") + 4
    length = int.from_bytes(png[start - 8:start - 4], "big")
    raw = zlib.decompress(png[start:start + length])
    rows = np.frombuffer(raw, np.uint8).reshape(2, 1 + 9)
    assert (rows[:, 0] == 0).all() and (rows[:, 1:].reshape(2, 3, 3) == rgb).all()


def test_nothing_non_finite_reaches_a_figure():
    race = RaceSettings(lr=5.0, optimizers=tuple(oc.OPTIMIZERS)).simulate()  # diverges
    body = to_json(figures.race_figure(race)) + to_json(figures.loss_figure(race))
    assert "NaN" not in body and "Infinity" not in body


def test_the_legend_names_each_racer_with_the_values_it_runs_with():
    from callbacks.race import update_race

    values = {**RaceSettings(lr=0.03, momentum=0.8).to_dict(), "optimizers": ["sgd", "adam"]}
    overrides = {"adam": {"lr": 0.5, "beta2": 0.99}}
    first = update_race(values, overrides, "light", None)["follow_up"]
    assert "SGD <span class=\"racer-settings\">lr 0.03</span>" in first["legend"]
    assert "Adam <span class=\"racer-settings\">own lr 0.5, β₁ 0.8, β₂ 0.99" in first["legend"]
    moved = update_race({**values, "lr": 0.02}, {}, "light", None)["follow_up"]
    assert "SGD <span class=\"racer-settings\">lr 0.02" in moved["legend"]
    assert "Adam <span class=\"racer-settings\">lr 0.02, β₁ 0.8" in moved["legend"]
    assert "Adam <span class=\"racer-settings\">lr 0.02, β₁ 0.8" in moved["board"]


def test_panels_render_as_escaped_html_from_dash_components():
    from dash import html

    from layouts.components import swatch, to_html

    node = html.Div([swatch("#0072B2"), "f < 1 & g > 2", html.Span("x", className="muted")],
                    id="p", title='say "hi"')
    assert to_html(node) == ('<div id="p" title="say &quot;hi&quot;"><span class="swatch" '
                             'style="background:#0072B2"></span>f &lt; 1 &amp; g &gt; 2'
                             '<span class="muted">x</span></div>')
    assert to_html(html.Td(style={"fontWeight": "bold"})) == '<td style="font-weight:bold"></td>'
    with pytest.raises(TypeError, match="dash.html"):
        to_html(dcc.Input(id="x"))


def test_a_slider_move_animates_the_paths_and_sends_the_rest_to_follow():
    from dash import no_update

    from callbacks.race import update_race

    values = RaceSettings().to_dict()
    overrides = values.pop("overrides")
    first = update_race(values, overrides, "light", None)
    assert first["animate"] is False and first["loss"] is not no_update
    assert first["follow_up"]["loss"] is None  # the whole loss figure came with it
    assert "<table" in first["follow_up"]["board"] and "κ" in first["follow_up"]["theory"]
    moved = update_race({**values, "lr": 0.02}, overrides, "light", first["structure"])
    assert moved["animate"] is True and moved["loss"] is no_update
    race = RaceSettings(**{**values, "lr": 0.02}, overrides=overrides).simulate()
    curves = moved["follow_up"]["loss"]["y"]
    assert len(curves) == len(race.runs)
    for curve, run in zip(curves, race.runs, strict=True):
        drawn = np.frombuffer(base64.b64decode(curve["bdata"]), "<f4")
        assert curve["dtype"] == "f4"
        np.testing.assert_allclose(drawn, figures.loss_gap(race, run), rtol=1e-6)


def test_overrides_from_the_store_keep_only_what_has_the_right_shape():
    from settings import override_values

    assert override_values({"adam": {"lr": 0.1}, "sgd": "x", 3: {"lr": 1}}) == \
        {"adam": {"lr": 0.1}}
    assert override_values("oops") == {} and override_values(None) == {}


def test_racing_at_a_phase_diagram_cell_sets_only_the_swept_optimizers_own_values():
    from settings import with_own

    stored = {"adam": {"lr": 0.5, "beta2": 0.95}, "nadam": {"lr": 0.5}}
    assert with_own(stored, "adam", {"lr": 0.1, "momentum": 0.5}) == {
        "adam": {"lr": 0.1, "momentum": 0.5, "beta2": 0.95}, "nadam": {"lr": 0.5}}
    assert with_own(stored, "sgd", {"lr": 0.2}) == {**stored, "sgd": {"lr": 0.2}}
    assert stored == {"adam": {"lr": 0.5, "beta2": 0.95}, "nadam": {"lr": 0.5}}  # untouched


def test_an_optimizers_own_lr_and_momentum_race_and_the_others_keep_the_sliders():
    from settings import RaceSettings, own_values

    race = RaceSettings(optimizers=("sgd", "momentum", "adam"),
                        overrides={"adam": {"lr": 0.1, "momentum": 0.5}})
    assert own_values(race, "adam") == {"lr": 0.1, "momentum": 0.5}
    assert own_values(race, "momentum") == {"lr": race.lr, "momentum": race.momentum}
    assert own_values(race, "sgd") == {"lr": race.lr}  # SGD takes no μ
    hyper = {run.optimizer: run.hyperparameters for run in race.simulate().runs}
    assert hyper["adam"]["lr"] == 0.1 and hyper["adam"]["momentum"] == 0.5
    assert hyper["momentum"]["momentum"] == race.momentum
    assert "adam.momentum=0.5" in race.to_query()


def test_a_phase_diagram_is_stale_when_the_race_changes_what_its_cells_depend_on():
    from dataclasses import replace

    from settings import RaceSettings, stale_reasons, sweep_context

    race = RaceSettings()
    drawn = sweep_context(race, "adam")
    assert stale_reasons(drawn, race, "adam") == []
    # its (lr, μ) and the sliders are what a cell sets: not a reason
    moved = replace(race, lr=0.5, momentum=0.3, overrides={"adam": {"lr": 0.01}})
    assert stale_reasons(drawn, moved, "adam") == []
    assert stale_reasons(drawn, RaceSettings.preset("rosenbrock"), "adam") == [
        "surface 'ravine' → 'rosenbrock'"]
    assert stale_reasons(drawn, replace(race, x0=3.0), "adam") == ["x0 nothing → 3.0"]
    assert stale_reasons(drawn, replace(race, overrides={"adam": {"beta2": 0.9}}),
                         "adam") == ["own.beta2 nothing → 0.9"]


def test_sweep_settings_default_to_the_race_and_the_swept_optimizers_lr():
    from settings import RaceSettings, parse_sweep

    race = RaceSettings.preset("rosenbrock", optimizers=("sgd", "adam"))
    state = {"settings": race.to_dict()}
    settings, errors = parse_sweep(state, "adam", 16, None, {})
    assert errors == {} and settings.steps == race.steps == 1000
    assert settings.lr_range() == (0.0005, 5.0)  # centred on Adam's own 0.05
    assert (settings.momentum_min, settings.momentum_max) == (0.0, 0.999)
    result = parse_sweep(state, "adam", 16, "", {"momentum_min": "0.5", "momentum_max": 0.99,
                                                 "lr_min": "1e-3"})[0]
    assert (result.momentum_min, result.momentum_max, result.lr_range()) == (0.5, 0.99,
                                                                              (1e-3, 5.0))
    assert parse_sweep({"settings": RaceSettings(steps=5000).to_dict()}, "sgd", 8, None,
                       {})[0].steps == 2000  # the sweep's limit
    still = parse_sweep({"settings": RaceSettings(lr=0.0).to_dict()}, "sgd", 8, None, {})[0]
    assert still.lr_range() == (1e-4, 1.0)  # lr 0: the surface's range
    for typed, message in (("-1", "got -1."), ("abc", "got 'abc'"), ("10", "below 5.0")):
        _, errors = parse_sweep(state, "adam", 16, None, {"lr_min": typed})
        assert list(errors) == ["lr_min"] and message in errors["lr_min"], errors
    _, errors = parse_sweep(state, "adam", 16, None, {"momentum_min": 0.9,
                                                      "momentum_max": "0.5"})
    assert list(errors) == ["momentum_min"]
    _, errors = parse_sweep(state, "adam", 16, 0, {})
    assert list(errors) == ["steps"]


def apply_patch(figure: dict, patch: Patch) -> dict:
    """A figure dict with a Patch's assignments applied, as the browser applies them."""
    for operation in json.loads(to_json(patch))["operations"]:
        assert operation["operation"] == "Assign"
        *path, last = operation["location"]
        target = figure
        for key in path:
            target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
        target[last] = operation["params"]["value"]
    return figure


def test_a_drawn_phase_diagram_follows_the_theme_without_a_new_sweep():
    from layouts.sweep import retheme_sweep, sweep_figure

    result = SweepSettings(RaceSettings(), "momentum", 8, 50).run()
    light = json.loads(sweep_figure(result, "final_loss", "light", (0.03, 0.8)).to_json())
    dark = json.loads(sweep_figure(result, "final_loss", "dark", (0.03, 0.8)).to_json())
    assert light != dark
    patch = Patch()
    retheme_sweep(patch, light["layout"]["meta"], "dark")
    assert apply_patch(light, patch) == dark
    assert len(light["layout"]["meta"]["ink_lines"]) == 2  # the GD and heavy-ball limits


def test_map_flags_say_where_a_diverged_or_escaping_path_ends():
    from layouts.components import to_html
    from layouts.race import map_flags

    calm = RaceSettings(lr=0.03).simulate()
    assert map_flags(calm) == []
    wild = RaceSettings(lr=0.5, optimizers=("sgd", "adam")).simulate()
    sgd, adam = wild.runs
    assert sgd.diverged_at is not None and adam.diverged_at is None
    html_text = to_html(map_flags(wild))
    x, y = sgd.params[-1]
    assert f"diverged at step {sgd.diverged_at}" in html_text and "off the map" in html_text
    assert f"{y:.2e}" in html_text  # the last finite point, far outside the window
    assert "Adam" not in html_text


@pytest.mark.parametrize("stored", [None, "", "sepia", ["dark"], {"theme": "dark"}, 3])
def test_a_theme_store_that_names_no_theme_means_light(stored):
    assert figures.theme_name(stored) == "light"
    assert figures.theme_name("dark") == "dark"


def test_the_url_names_every_racing_optimizers_own_values():
    query = RaceSettings().to_query()  # the ravine's preset gives Adam its own lr
    assert "adam.lr=0.5" in query and "rmsprop.lr" not in query  # rmsprop is not racing
    dropped = RaceSettings(overrides={})  # Adam follows the slider: the URL says so
    assert "adam.lr=&" in dropped.to_query() + "&"
    assert from_query(dropped.to_query())[0] == dropped


def _sign_changes(y, above: float = 0.1) -> int:
    """How often a coordinate crosses 0 from a visible distance (|y| > ``above``)."""
    return int(np.sum((np.sign(y[1:]) != np.sign(y[:-1])) & (np.abs(y[:-1]) > above)))


def test_each_surfaces_text_says_what_its_first_race_shows():
    """The claims of layouts.race.default_race_text, from the engine."""
    from layouts.race import default_race_text

    def board(surface):
        race = RaceSettings.preset(surface).simulate()
        return race, {s.optimizer: s for s in oc.leaderboard(race)}

    race, ravine = board("ravine")
    flips = {run.optimizer: _sign_changes(run.params[:, 1]) for run in race.runs}
    assert flips["sgd"] >= 5 and flips["momentum"] <= flips["sgd"] / 2  # damped
    assert flips["nesterov"] > flips["sgd"] and flips["adam"] == 0  # swings longest; straight
    steps = {name: s.steps_to_tolerance for name, s in ravine.items()}
    assert None not in steps.values()
    assert steps["adam"] < steps["momentum"] < steps["sgd"]  # first; sooner than GD
    assert "limit 2/L = 0.08" in default_race_text("ravine")

    _, rosenbrock = board("rosenbrock")
    assert [n for n, s in rosenbrock.items() if s.status == "converged"] == ["momentum"]
    assert rosenbrock["sgd"].final_gap > 0.1  # far from (1, 1)
    assert rosenbrock["adam"].final_gap == min(s.final_gap for n, s in rosenbrock.items()
                                               if n != "momentum")

    race, saddle = board("saddle")
    escaped = {run.optimizer: int(np.argmax(np.abs(run.params[:, 1]) > 0.5))
               for run in race.runs}  # the first step well off the ridge
    assert escaped["adam"] < escaped["nesterov"] <= escaped["momentum"] < escaped["sgd"]
    first = min(saddle, key=lambda name: saddle[name].steps_to_tolerance)
    assert first == "nesterov"

    _, regression = board("regression")
    assert {s.status for s in regression.values()} == {"oscillating"}


def test_a_diverged_path_is_drawn_to_where_it_leaves_the_map():
    from layouts.figures import drawn_path, path_traces_data, window_exit

    assert window_exit((0.0, 0.0), (20.0, 10.0), ((-10, 10), (-10, 10))) == (10.0, 5.0)
    assert window_exit((1.0, 1.0), (1.0, -30.0), ((-10, 10), (-10, 10))) == (1.0, -10.0)
    race = RaceSettings(lr=0.5, optimizers=("sgd", "adam")).simulate()
    (x0, x1), (y0, y1) = race.surface.window
    sgd, adam = race.runs
    points, cut = drawn_path(sgd, race.surface.window)
    assert cut and sgd.diverged_at is not None
    inside = (x0 <= points[:, 0]) & (points[:, 0] <= x1) & (y0 <= points[:, 1]) \
        & (points[:, 1] <= y1)
    assert inside.all()  # no segment crosses the map to a point far outside it
    edge = points[-1]
    assert np.isclose(edge[0], x0) or np.isclose(edge[0], x1) or np.isclose(edge[1], y0) \
        or np.isclose(edge[1], y1)
    np.testing.assert_array_equal(points[:-1], sgd.params[:len(points) - 1])
    assert drawn_path(adam, race.surface.window)[0] is adam.params  # drawn in full
    data = path_traces_data(race)
    assert data["ends"]["marker.symbol"] == ["x-thin-open", "circle"]
    assert "leaves the map" in data["ends"]["text"][0] and "end" in data["ends"]["text"][1]
    assert float(data["ends"]["x"][0]) == np.float32(edge[0])


def relative_luminance(rgb) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0..255 channels)."""
    def linear(channel):
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_rgb(color: str) -> tuple:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_racers_colour_stands_out_on_the_surface(theme):
    colors = figures.THEMES[theme]
    # the image's colours run from low to high; iso-lines are those times the line factor
    surface = [colors["low"], colors["high"],
               tuple(min(255, round(c * colors["line"])) for c in colors["low"]),
               tuple(min(255, round(c * colors["line"])) for c in colors["high"])]
    for optimizer, color in figures.PALETTES[theme].items():
        for background in surface:
            assert contrast(hex_rgb(color), background) >= 3.0, (optimizer, background)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_racers_of_near_hues_differ_in_dash(theme):
    import colorsys

    hues = {}
    for optimizer, color in figures.PALETTES[theme].items():
        h, _, s = colorsys.rgb_to_hls(*(c / 255 for c in hex_rgb(color)))
        if s > 0.15:  # a grey has no hue to confuse
            hues[optimizer] = h * 360
    for a in hues:
        for b in hues:
            near = min(abs(hues[a] - hues[b]), 360 - abs(hues[a] - hues[b])) < 30
            if a < b and near:
                assert figures.DASHES[a] != figures.DASHES[b], (a, b)
    drawn = figures.race_figure(RaceSettings(optimizers=("sgd", "adamw", "rmsprop")).simulate(),
                                theme)
    assert [fig.line.dash for fig in drawn.data[1:4]] == ["solid", "dash", "dot"]
    assert [fig.line.color for fig in drawn.data[1:4]] == [
        figures.PALETTES[theme][o] for o in ("sgd", "adamw", "rmsprop")]


def test_an_exported_images_caption_names_the_settings_and_each_racers_own_values():
    settings = RaceSettings(optimizers=("sgd", "momentum", "adam", "rmsprop"), noise=0.1,
                            lr=0.03, momentum=0.8,
                            overrides={"adam": {"lr": 0.5}, "rmsprop": {"momentum": 0.5}})
    export = figures.image_export(settings, settings.surface_object(), "svg")
    lines = export["caption"].split("<br>")
    assert all(len(line) <= figures.CAPTION_WIDTH for line in lines)
    text = " · ".join(lines)
    assert text == ("ravine (κ = 25) · start (6, 6) · 150 steps · noise σ 0.1, seed 0 · "
                    "SGD lr 0.03 · Momentum lr 0.03, μ 0.8 · Adam lr 0.5, β₁ 0.8 · "
                    "RMSprop lr 0.03, μ 0.5")
    assert export["names"] == {"map": "optimizer-race-map-ravine",
                               "loss": "optimizer-race-loss-ravine"}
    assert export["format"] == "svg"


def test_the_line_fits_data_plot_draws_each_runs_line_at_a_step():
    race = RaceSettings.preset("regression", optimizers=("sgd", "adam")).simulate()
    lines = figures.fit_lines(race)
    data_x = race.surface.data_x
    assert lines["x"] == [data_x.min(), data_x.max()]
    for run, (y0, y1) in zip(race.runs, lines["y"], strict=True):
        w, b = run.params[-1]
        assert (y0, y1) == (w * data_x.min() + b, w * data_x.max() + b)
    early = figures.fit_lines(race, step=0)  # every run starts at (0, 0): y = 0
    assert early["y"] == [[0.0, 0.0], [0.0, 0.0]]
    fig = figures.fit_figure(race, "dark")
    assert [t.name for t in fig.data] == ["data", "least squares", "SGD", "Adam"]
    assert len(fig.data[0].x) == race.surface.n_points
    assert fig.data[3].line.color == figures.PALETTES["dark"]["adam"]


def test_the_advanced_grids_hold_every_override_once():
    from layouts.race import OVERRIDE_GROUPS, OVERRIDE_LABELS
    from settings import OVERRIDE_PARAMS

    assert sorted(sum(OVERRIDE_GROUPS, ())) == sorted(OVERRIDE_PARAMS) == sorted(OVERRIDE_LABELS)


def test_a_hovered_cells_numbers_arrive_as_a_float32_row_and_read_back():
    from callbacks.sweep import cell_values
    from layouts.sweep import hover_text

    row = {"0": 3.2e-7, "1": 143, "2": 0.87, "3": 0.86, "4": -1}  # a Float32Array, as JSON
    assert cell_values(row) == [3.2e-7, 143, 0.87, 0.86, -1]
    assert cell_values([1, 2, 3]) is None and cell_values("x") is None
    assert cell_values({"0": 1}) is None
    text = hover_text(cell_values(row), 0.03, 0.8)
    assert text == ("lr 0.03, μ 0.8000 · final f − f* 3.2e-07 · reached 1e-06 at step 143 · "
                    "measured rate 0.8700 · predicted rate 0.8600")
    assert "diverged at step 7" in hover_text([1e9, -1, -1, -1, 7], 0.5, None)


def test_the_leaderboard_lists_the_best_run_first():
    """The view draws the engine's ranking (optim_core.analysis.ranked), best first."""
    from layouts.race import leaderboard_table

    race = RaceSettings(optimizers=("sgd", "momentum", "nesterov", "adam")).simulate()
    summaries = oc.leaderboard(race)
    html_text = str(leaderboard_table(summaries, race, {}))
    titles = [figures.TITLES[summaries[i].optimizer] for i in oc.analysis.ranked(summaries)]
    assert [html_text.index(f"'{t}'") for t in titles] == sorted(
        html_text.index(f"'{t}'") for t in titles)
    best = summaries[oc.analysis.ranked(summaries)[0]]
    assert all(best.final_gap <= s.final_gap or s.status == "converged" for s in summaries)


# --- the Advanced panel's switches, options and pairs (issue 18) -----------------------

OWN_OF_EACH_KIND = {"adam": {"amsgrad": True}, "rprop": {"etas": (0.3, 1.5)},
                    "lbfgs": {"line_search_fn": "strong_wolfe"}, "muon": {"nesterov": False}}


def test_overrides_of_each_kind_round_trip_through_the_url_and_the_cli_vocabulary():
    from settings import RaceSettings, from_query

    race = RaceSettings(optimizers=("adam", "rprop", "lbfgs", "muon"), overrides=OWN_OF_EACH_KIND)
    query = race.to_query()
    for text in ("adam.amsgrad=true", "rprop.etas=0.3,1.5", "lbfgs.line_search_fn=strong_wolfe",
                 "muon.nesterov=false"):
        assert text in query and f"--set={text}" in "--set=".join([""] + race.cli_args())
    again, notes = from_query(query)
    assert notes == [] and again == race


def test_controls_values_of_each_kind_reach_the_race():
    from settings import RaceSettings, parse_controls

    base = RaceSettings(optimizers=("adam", "rprop", "lbfgs", "muon"))
    controls = {**{k: getattr(base, k) for k in ("surface", "lr", "momentum", "steps", "kappa",
                                                  "noise", "seed")},
                "optimizers": list(base.optimizers)}
    # as the browser gathers them: a ticked box is True, a pair is its text
    typed = {"adam": {"amsgrad": True}, "rprop": {"etas": "0.3, 1.5"},
             "lbfgs": {"line_search_fn": "strong_wolfe"}, "muon": {"nesterov": False},
             "radam": {"decoupled_weight_decay": False}}  # at torch's default: not its own
    settings, errors = parse_controls({**controls, "overrides": typed})
    assert errors == {} and settings.overrides == OWN_OF_EACH_KIND
    runs = {r.optimizer: r for r in settings.simulate().runs}
    assert runs["adam"].hyperparameters["amsgrad"] is True
    assert runs["rprop"].hyperparameters["etas"] == (0.3, 1.5)
    assert runs["lbfgs"].hyperparameters["line_search_fn"] == "strong_wolfe"
    assert runs["muon"].hyperparameters["nesterov"] is False


def test_bad_overrides_of_each_kind_get_a_message_naming_them():
    from settings import RaceSettings, from_query, parse_controls

    base = RaceSettings(optimizers=("adam", "rprop", "lbfgs"))
    controls = {**{k: getattr(base, k) for k in ("surface", "lr", "momentum", "steps", "kappa",
                                                  "noise", "seed")},
                "optimizers": list(base.optimizers)}
    bad = {"rprop": {"etas": "1.5, 0.3", "step_sizes": "1e-6"},
           "lbfgs": {"line_search_fn": "armijo"}, "adam": {"amsgrad": "maybe"}}
    settings, errors = parse_controls({**controls, "overrides": bad})
    assert settings is None
    assert set(errors) == {"rprop.etas", "rprop.step_sizes", "lbfgs.line_search_fn",
                           "adam.amsgrad"}
    assert "etaminus < etaplus" in errors["rprop.etas"]
    assert "armijo" in errors["lbfgs.line_search_fn"]
    _, notes = from_query("?optimizers=rprop&rprop.etas=2,1&adam.amsgrad=perhaps")
    assert any("rprop.etas" in n for n in notes) and any("adam.amsgrad" in n for n in notes)


def test_a_sweep_with_a_pair_of_its_own_is_not_stale_once_its_context_comes_back():
    import json

    from settings import RaceSettings, stale_reasons, sweep_context

    race = RaceSettings(optimizers=("rprop",), overrides={"rprop": {"etas": (0.3, 1.5)}})
    drawn = json.loads(json.dumps(sweep_context(race, "rprop")))  # through the browser
    assert stale_reasons(drawn, race, "rprop") == []
