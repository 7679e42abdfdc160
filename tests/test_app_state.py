"""The app's settings, URL and figures, without a browser."""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np
import pytest
from dash import Patch, dcc
from dash._utils import to_json

import optim_core as oc
from callbacks.state import (
    PRESETS,
    RaceSettings,
    SweepSettings,
    from_query,
    pair_sliders,
    parse_controls,
)
from layouts import figures, ids

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


def test_the_legend_names_the_racers_and_is_sent_only_when_they_change():
    from dash import no_update

    from callbacks.race import update_race

    values = {**RaceSettings().to_dict(), "optimizers": ["sgd", "adam"]}
    first = update_race(values, {}, "light", None)
    names = [item.children[1] for item in first["legend"]]
    assert names == ["SGD", "Adam"]
    moved = update_race({**values, "lr": 0.02}, {}, "light", first["structure"])
    assert moved["legend"] is no_update and isinstance(moved["race"], Patch)
    more = update_race({**values, "optimizers": ["sgd", "adam", "nadam"]}, {}, "light",
                       first["structure"])
    assert [item.children[1] for item in more["legend"]] == ["SGD", "Adam", "NAdam"]


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
    curves = moved["follow_up"]["loss"]
    assert len(curves) == len(race.runs)
    for curve, run in zip(curves, race.runs, strict=True):
        drawn = np.frombuffer(base64.b64decode(curve["bdata"]), "<f4")
        assert curve["dtype"] == "f4"
        np.testing.assert_allclose(drawn, figures.loss_gap(race, run), rtol=1e-6)


def test_overrides_from_the_store_keep_only_what_has_the_right_shape():
    from callbacks.state import override_values

    assert override_values({"adam": {"lr": 0.1}, "sgd": "x", 3: {"lr": 1}}) == \
        {"adam": {"lr": 0.1}}
    assert override_values("oops") == {} and override_values(None) == {}


def test_racing_at_a_phase_diagram_cell_clears_only_the_swept_optimizers_lr():
    from callbacks.state import without_override

    stored = {"adam": {"lr": 0.5, "beta2": 0.95}, "nadam": {"lr": 0.5}}
    assert without_override(stored, "adam", "lr") == {"adam": {"beta2": 0.95},
                                                      "nadam": {"lr": 0.5}}
    assert without_override(stored, "nadam", "lr") == {"adam": {"lr": 0.5, "beta2": 0.95}}
    assert without_override(stored, "sgd", "lr") == stored
    assert stored == {"adam": {"lr": 0.5, "beta2": 0.95}, "nadam": {"lr": 0.5}}  # untouched


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


def test_the_leaderboard_lists_the_best_run_first():
    """The view draws the engine's ranking (optim_core.analysis.ranked), best first."""
    from layouts.race import leaderboard_table

    race = RaceSettings(optimizers=("sgd", "momentum", "nesterov", "adam")).simulate()
    summaries = oc.leaderboard(race)
    html_text = str(leaderboard_table(summaries))
    titles = [figures.TITLES[summaries[i].optimizer] for i in oc.analysis.ranked(summaries)]
    assert [html_text.index(f"'{t}'") for t in titles] == sorted(
        html_text.index(f"'{t}'") for t in titles)
    best = summaries[oc.analysis.ranked(summaries)[0]]
    assert all(best.final_gap <= s.final_gap or s.status == "converged" for s in summaries)
