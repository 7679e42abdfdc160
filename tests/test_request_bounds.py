"""Every request's work and memory are bounded, whatever the (allowed) settings.

No timings here (benchmarks/engine.py times the same worst cases): the bounds checked
are the memory Python allocates (tracemalloc) and the work the limits allow.
"""

from __future__ import annotations

import tracemalloc

import pytest

from benchmarks.engine import LARGEST_RACES, largest_race
from callbacks.race import update_race
from layouts import figures
from optim_core.params import LIMITS, points_per_step
from settings import (
    RaceSettings,
    SweepSettings,
    parse_controls,
    parse_sweep,
    settings_from_state,
    stored_sweep,
)

#: What one race request may allocate at its peak (the worst cases take about 35 MB:
#: the 640-pixel surface image's float arrays and the paths).
REQUEST_MEMORY = 64e6


@pytest.mark.parametrize("values", LARGEST_RACES.values(), ids=LARGEST_RACES.keys())
def test_the_largest_race_of_every_surface_stays_small(values):
    """Through the race callback's code path, with the surface image not cached (a new
    seed draws new data): the line fit with 1000 points once took 5.6 GB here."""
    update_race(largest_race(steps=10, optimizers=["sgd"]), {}, "light", None)  # imports done
    figures._surface_image.cache_clear()
    tracemalloc.start()
    try:
        out = update_race(values, {}, "dark", None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not any(out["errors"].values()), out["errors"]
    assert out["race"].layout.images[0].source.startswith("data:image/png;base64,")
    assert peak < REQUEST_MEMORY, f"{peak / 1e6:.0f} MB"
    settings, _ = parse_controls(values)
    n_points = settings.surface_object().n_points
    work = len(settings.optimizers) * (settings.steps + 1) * points_per_step(
        n_points, settings.batch_size)
    assert work <= LIMITS["race_work"]  # the bound the README states


def test_a_race_whose_evaluations_pass_the_work_bound_is_refused_naming_the_steps():
    """L-BFGS's iterations and line search count: up to max_eval + 2 evaluations a
    step, where the others make one."""
    import optim_core as oc

    fine = oc.simulate("regression", ["sgd", "lbfgs"], steps=100, points=1000)
    assert len(fine.runs) == 2
    with pytest.raises(oc.InvalidParameterError) as refused:
        oc.simulate("regression", [oc.Run("lbfgs", {"max_iter": 100, "max_eval": 125,
                                                    "line_search_fn": "strong_wolfe"})],
                    steps=10_000, points=1000)
    assert refused.value.parameter == "steps" and "max_eval" in str(refused.value)
    out = update_race(largest_race(surface="regression", points=1000, optimizers=["lbfgs"]),
                      {"lbfgs": {"max_iter": 100, "max_eval": 125}}, "light", None)
    most = LIMITS["race_work"] // (127 * 2_000) - 1  # max_eval + 2, and 1,000 points twice
    assert f"at most {most:,} with these optimizers" in out["errors"]["steps"]


def test_a_race_past_the_mini_batch_table_limit_names_both_controls():
    out = update_race(largest_race(surface="regression", points=1000, batch_size=999), {},
                      "light", None)
    assert "At most 5,004 with batch size 999" in out["errors"]["steps"]
    assert "At most 499 with 10,000 steps" in out["errors"]["batch_size"]
    assert "5,000,000" in out["errors"]["batch_size"]


def race_state(**changes) -> dict:
    settings = RaceSettings.preset("regression")
    return {"settings": settings.to_dict() | changes, "query": settings.to_query()}


def test_a_sweep_over_the_work_limit_is_refused_before_it_starts():
    """The gradient's points and the full-batch loss's both count: line fit, 1000
    points, batch 1, 512², 2000 steps once ran 294 s of both cores."""
    state = race_state(points=1000, batch_size=1)
    settings, errors = parse_sweep(state, "sgd", 512, 2000, {})
    assert settings is None
    assert "1,001 points a step" in errors["resolution"]
    assert f"limit is {LIMITS['sweep_work']:,}" in errors["resolution"]
    settings, errors = parse_sweep(state, "sgd", 44, 1000, {})  # 1.94e9: allowed
    assert errors == {} and settings.resolution == 44
    assert parse_sweep(race_state(points=1000, batch_size=None), "sgd", 44, 1000,
                       {})[0] is None  # full batch: 2,000 points a step


def test_the_stored_race_is_checked_like_the_controls():
    """A crafted race store (the CSV export and the sweep rebuild from it) gets the race's
    validation: 64 runs × 10,000 steps once made a 100 MB export."""
    valid = RaceSettings.preset("regression")
    assert settings_from_state({"settings": valid.to_dict()}) == (valid, {})
    crowd = settings_from_state(race_state(optimizers=["adam"] * 64, steps=10_000))[0]
    assert crowd.optimizers == ("adam",)
    for bad in ({"steps": 10**6}, {"points": 10**6}, {"batch_size": 10**4},
                {"overrides": "x"}, {"optimizers": "adam"}, {"kappa": float("nan")}):
        settings, errors = settings_from_state(race_state(**bad))
        if "overrides" in bad:
            assert settings is not None and settings.overrides == {}
        else:
            assert settings is None and errors, bad
    for crafted in (None, [], {"settings": "x"}, {"settings": None}):
        assert settings_from_state(crafted)[0] is None


def test_the_stored_phase_diagram_is_checked_like_the_sweeps_controls():
    """The grid's CSV export recomputes the sweep from the browser's store."""
    drawn = SweepSettings(RaceSettings.preset("regression"), "adam", 64, 300, 1e-3, 1.0)
    assert stored_sweep(drawn.to_dict() | {"ink_lines": []}) == (drawn, {})
    for bad in ({"resolution": 10**4}, {"steps": 0}, {"optimizer": "warp"},
                {"race": drawn.race.to_dict() | {"steps": 10**6}},
                {"race": drawn.race.to_dict() | {"points": 1000, "batch_size": None},
                 "resolution": 512}):
        assert stored_sweep(drawn.to_dict() | bad)[0] is None, bad
    for crafted in (None, [], {"race": "x"}):
        assert stored_sweep(crafted)[0] is None
