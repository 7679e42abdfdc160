"""The phase diagram: a (lr, μ) sweep as a heatmap, with the theory drawn on top."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from dash import dcc, html

from optim_core import theory
from optim_core.analysis import TOLERANCE
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import LIMITS
from optim_core.sweep import Sweep

from . import ids
from .components import card, control, graph_config, number_input
from .figures import LOSS_FLOOR, THEMES, TITLES, float32, themed_layout

METRICS = {"final_loss": "final loss f − f* (log)", "steps": f"steps to reach {TOLERANCE:g}",
           "rate": "measured linear rate"}
METRIC_ORDER = tuple(METRICS)
#: What the hover label adds to a cell's (lr, μ) per metric (customdata: final gap,
#: steps to tolerance, rate, predicted rate, diverged at; -1 where none).
METRIC_HOVER = {"final_loss": "final f − f* %{customdata[0]:.3g}",
                "steps": f"first within {TOLERANCE:g} at step %{{customdata[1]}} (−1: never)",
                "rate": "measured rate %{customdata[2]:.4f} (−1: too fast to fit)"}
#: Opaque, so that the key's swatch is the colour of the cells it names.
DIVERGED_COLOR = {"light": "rgb(150, 30, 30)", "dark": "rgb(225, 90, 80)"}
#: The typed ranges (text boxes: a bad value gets a message, not a silent default).
RANGE_INPUTS = (("lr from", ids.SWEEP_LR_MIN, "lr ÷ 100", "blank: centred on the "
                 "optimizer's lr"),
                ("lr to", ids.SWEEP_LR_MAX, "lr × 100", None),
                ("μ from", ids.SWEEP_MOMENTUM_MIN, "0", "μ, or β₁"),
                ("μ to", ids.SWEEP_MOMENTUM_MAX, "0.999", None))


def sweep_section() -> html.Section:
    return card("Phase diagram: which (lr, μ) work?", [
        html.P(["Every cell races one optimizer from the race's start on the race's surface "
                "(same noise, seed and the optimizer's other settings) at one (lr, μ). The "
                "grid runs in the background; ", html.B("click a cell"), " to race that "
                "optimizer at the cell's (lr, μ): they become its own lr and μ (Advanced), "
                "so the sliders and the other racers stay as they are. The ring marks its "
                "(lr, μ) in the race. A diagram drawn for other race settings is marked "
                "stale and cannot be applied."], className="control-hint"),
        html.Div([
            control("Optimizer", dcc.Dropdown(
                id=ids.SWEEP_OPTIMIZER, value="momentum", clearable=False,
                options=[{"label": TITLES[o], "value": o} for o in OPTIMIZER_NAMES]),
                ids.SWEEP_OPTIMIZER),
            control("Colour by", dcc.RadioItems(
                id=ids.SWEEP_METRIC, value="final_loss", className="segmented",
                options=[{"label": label, "value": key} for key, label in METRICS.items()],
                inline=True), ids.SWEEP_METRIC),
            control("Grid", number_input(ids.SWEEP_RESOLUTION, 128, integer=True),
                    ids.SWEEP_RESOLUTION, f"cells per axis, ≤ {LIMITS['sweep_resolution']}"),
            control("Steps", number_input(ids.SWEEP_STEPS, None, integer=True,
                                          placeholder="the race's"),
                    ids.SWEEP_STEPS, f"per cell, ≤ {LIMITS['sweep_steps']:,}"),
            *[control(label, number_input(control_id, None, placeholder=placeholder),
                      control_id, hint)
              for label, control_id, placeholder, hint in RANGE_INPUTS],
        ], className="sweep-controls"),
        html.Div([
            html.Button("Run sweep", id=ids.SWEEP_RUN, className="button primary"),
            html.Button("Cancel", id=ids.SWEEP_CANCEL, className="button", disabled=True),
            # shown while a sweep runs (callbacks/sweep.py), its place kept when hidden
            html.Progress(id=ids.SWEEP_PROGRESS, value="0", max="1", className="progress",
                          style={"visibility": "hidden"}),
            html.Span(id=ids.SWEEP_STATUS, className="control-hint", role="status"),
            html.Button("Export grid CSV", id=ids.SWEEP_EXPORT, className="button",
                        disabled=True),
            dcc.Download(id=ids.SWEEP_DOWNLOAD),
        ], className="sweep-actions"),
        html.Div(id=ids.SWEEP_ERROR, className="control-error", role="alert"),
        html.Div([
            dcc.Graph(id=ids.SWEEP_GRAPH, figure=empty_sweep_figure("light"),
                      config=graph_config(),
                      className="sweep-graph"),
            html.Div(id=ids.SWEEP_HOVER, className="sweep-hover", role="status"),
        ], className="sweep-body"),
    ], card_id="phase-diagram")


def hover_template(metric: str, takes_momentum: bool) -> str:
    where = "lr %{x:.3g}, μ %{y:.3f}" if takes_momentum else "lr %{x:.3g}"
    return (f"{where}<br>{METRIC_HOVER[metric]}<br>diverged at step %{{customdata[4]}} "
            "(−1: never)<extra></extra>")


def empty_sweep_figure(theme: str, message: str = "Run a sweep to draw the phase diagram."):
    colors = THEMES[theme]
    fig = go.Figure()
    fig.update_layout(
        **themed_layout(theme),
        margin={"l": 64, "r": 10, "t": 30, "b": 50},
        xaxis={"visible": False}, yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 15,
                                                                     "color": colors["muted"]},
                      "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}])
    return fig


def edges(centres: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around cell centres (geometric for a log axis)."""
    values = np.log10(centres) if log else centres
    half = (values[1] - values[0]) / 2 if len(values) > 1 else 0.5
    out = np.concatenate([values - half, values[-1:] + half])
    return 10.0**out if log else out


def hover_table(result: Sweep) -> np.ndarray:
    """Per cell: final gap, steps to tolerance, measured rate, predicted rate, diverged-at
    (-1: none), as float32 (M, R, 5) for the hover box."""
    c = theory.curvature(result.surface)
    lrs, momenta = np.meshgrid(result.lrs, result.momenta)
    predicted = theory.predicted_rate_grid(
        result.optimizer, lrs, momenta if result.takes_momentum else 0.0, c.eigenvalues,
        result.hyperparameters.get("dampening", 0.0),
        result.hyperparameters.get("weight_decay", 0.0))
    gap = np.maximum(result.final_loss - result.surface.f_min, 0.0)
    table = np.stack([gap, result.steps_to_tolerance.astype(float),
                      np.nan_to_num(result.rate, nan=-1.0),
                      -np.ones_like(gap) if predicted is None else predicted,
                      result.diverged_at.astype(float)], axis=-1)
    return float32(table)


def metric_values(result: Sweep) -> dict[str, np.ndarray]:
    """Finite values to colour by (a diverged cell is covered by its own layer)."""
    gap = np.maximum(result.final_loss - result.surface.f_min, LOSS_FLOOR)
    steps = np.where(result.steps_to_tolerance < 0, result.steps + 1,
                     result.steps_to_tolerance)
    rate = np.nan_to_num(result.rate, nan=0.0)
    finite_gap = np.where(result.diverged_at >= 0, np.nan, gap)
    top = np.nanmax(finite_gap) if np.isfinite(finite_gap).any() else 1.0
    return {"final_loss": np.log10(np.minimum(gap, top)), "steps": steps.astype(float),
            "rate": np.clip(rate, 0.0, 1.0)}


def sweep_figure(result: Sweep, metric: str, theme: str,
                 current: tuple[float, float] | None = None) -> go.Figure:
    colors = THEMES[theme]
    x = edges(result.lrs, log=True)
    y = edges(result.momenta, log=False) if result.takes_momentum else np.array([0.0, 1.0])
    values = metric_values(result)
    custom = hover_table(result)
    fig = go.Figure()
    titles = {"final_loss": "log₁₀(f − f*)",
              "steps": f"steps to {TOLERANCE:g} (top: never)", "rate": "rate / step"}
    scales = {"final_loss": "Viridis", "steps": "Cividis", "rate": "Viridis"}
    for key in METRIC_ORDER:
        bar = {"thickness": 12, "len": 0.85, "outlinewidth": 0,
               "title": {"text": titles[key], "side": "right"}}
        fig.add_trace(go.Heatmap(
            x=x, y=y, z=float32(values[key]), colorscale=scales[key], hoverinfo="skip",
            reversescale=key == "rate", colorbar=bar, visible=key == metric, name=METRICS[key],
            zmax=float(result.steps + 1) if key == "steps" else None,
            zmin=0.0 if key in ("steps", "rate") else None))
    # the diverged layer covers every cell (transparent where nothing diverged), so it
    # alone carries the per-cell numbers that hover and click read
    diverged = (result.diverged_at >= 0).astype(np.uint8)
    diverged_layer = len(fig.data)
    fig.add_trace(go.Heatmap(
        x=x, y=y, z=diverged, customdata=custom, showscale=False, name="diverged",
        colorscale=diverged_scale(theme), zmin=0, zmax=1,
        hovertemplate=hover_template(metric, result.takes_momentum)))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="diverged",
                             marker={"symbol": "square", "size": 12,
                                     "color": DIVERGED_COLOR[theme]}, hoverinfo="skip"))
    ink_lines = _theory_overlay(fig, result, colors)
    fig.add_trace(go.Scatter(
        x=[current[0]] if current else [], y=[current_y(result, current)] if current else [],
        mode="markers", name=f"{TITLES[result.optimizer]}'s (lr, μ) in the race",
        hoverinfo="skip",
        marker={"symbol": "circle-open", "size": 16, "color": colors["ink"],
                "line": {"width": 3}}))
    what = (f"{TITLES[result.optimizer]} on {result.surface.name}, {result.steps} steps, "
            f"{len(result.momenta)}×{len(result.lrs)} cells")
    fig.update_layout(
        **themed_layout(theme),
        title={"text": what, "font": {"size": 13}, "x": 0.01},
        margin={"l": 64, "r": 10, "t": 36, "b": 50}, uirevision=what,
        xaxis={"type": "log", "title": {"text": "learning rate γ (log scale)"},
               "exponentformat": "e",  # 1e-4, as on the lr slider (not SI: 100μ)
               "range": [math.log10(x[0]), math.log10(x[-1])], "showgrid": False},
        yaxis={"title": {"text": "momentum μ" if result.takes_momentum
                         else f"{TITLES[result.optimizer]} has no μ"},
               "range": [y[0], y[-1]], "showgrid": False},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        meta={"current_trace": len(fig.data) - 1, "ink_lines": ink_lines, "title": what,
              "takes_momentum": result.takes_momentum,
              "diverged_layer": diverged_layer, "diverged_key": diverged_layer + 1})
    return fig


def current_y(result: Sweep, current: tuple[float, float | None]) -> float:
    """Where the ring sits vertically: at μ, or mid-band for an optimizer without one."""
    return current[1] if result.takes_momentum and current[1] is not None else 0.5


def retheme_sweep(patch, meta: dict, theme: str) -> None:
    """Fill a ``dash.Patch`` of a drawn phase diagram with another theme's colours (the
    sweep itself is not run again); ``meta`` is the figure's ``layout.meta``."""
    colors = THEMES[theme]
    for key, value in themed_layout(theme).items():
        patch["layout"][key] = value
    for index in meta["ink_lines"]:
        patch["data"][index]["line"]["color"] = colors["ink"]
    patch["data"][meta["current_trace"]]["marker"]["color"] = colors["ink"]
    patch["data"][meta["diverged_layer"]]["colorscale"] = diverged_scale(theme)
    patch["data"][meta["diverged_key"]]["marker"]["color"] = DIVERGED_COLOR[theme]


def diverged_scale(theme: str) -> list:
    return [[0, "rgba(0,0,0,0)"], [1, DIVERGED_COLOR[theme]]]


def _theory_overlay(fig: go.Figure, result: Sweep, colors: dict) -> list[int]:
    """On quadratics: stability limits, the GD limit and Polyak's optimum. Returns the
    indices of the lines drawn in the theme's ink."""
    c = theory.curvature(result.surface)
    if not c.exact or result.optimizer not in theory.LINEAR_METHODS:
        return []
    first = len(fig.data)
    weight_decay = result.hyperparameters.get("weight_decay", 0.0)
    dampening = result.hyperparameters.get("dampening", 0.0)
    mu = np.linspace(result.momenta[0], result.momenta[-1], 200)
    line = {"color": colors["ink"], "width": 2}
    gd_limit = theory.max_stable_lr("sgd", c.L, weight_decay=weight_decay)
    fig.add_trace(go.Scatter(x=[gd_limit, gd_limit], y=[0, 1], mode="lines",
                             name=f"GD limit 2/L = {gd_limit:.3g}",
                             line={**line, "dash": "dot"}, hoverinfo="skip"))
    if result.optimizer in ("momentum", "nesterov") and result.takes_momentum:
        limit = [theory.max_stable_lr(result.optimizer, c.L, m, dampening, weight_decay)
                 for m in mu]
        label = ("heavy ball: γ < 2(1+μ)/L" if result.optimizer == "momentum"
                 else "Nesterov: γ < 2(1+μ)/((1+2μ)L)")
        fig.add_trace(go.Scatter(x=limit, y=mu, mode="lines", name=label,
                                 line={**line, "dash": "dash"}, hoverinfo="skip"))
    ink_lines = list(range(first, len(fig.data)))
    if c.m > 0 and result.optimizer == "momentum":
        best_lr, best_mu, best_rate = theory.polyak_optimum(c.L + weight_decay,
                                                            c.m + weight_decay)
        fig.add_trace(go.Scatter(
            x=[best_lr], y=[best_mu], mode="markers",
            name=f"Polyak's optimum (rate {best_rate:.3f})",
            marker={"symbol": "star", "size": 16, "color": "#F0E442",
                    "line": {"width": 1.5, "color": "#111111"}},
            hovertemplate="Polyak: γ* = %{x:.4g}, μ* = %{y:.4f}<extra></extra>"))
    return ink_lines


def hover_text(customdata, lr: float, momentum: float | None) -> str:
    """The hover box's text for one cell (also what the clientside box shows)."""
    gap, steps, rate, predicted, diverged = customdata
    parts = [f"lr {lr:.4g}" + ("" if momentum is None else f", μ {momentum:.4f}")]
    if diverged >= 0:
        parts.append(f"diverged at step {int(diverged)}")
    else:
        parts.append(f"final f − f* {gap:.3g}")
        parts.append("never reached " + f"{TOLERANCE:g}" if steps < 0
                     else f"reached {TOLERANCE:g} at step {int(steps)}")
        parts.append("rate: too fast to measure" if rate < 0 else f"measured rate {rate:.4f}")
    if predicted >= 0:
        parts.append(f"predicted rate {predicted:.4f}")
    return " · ".join(parts)
