"""The race: controls, the map and the loss plot, the leaderboard and the theory panel."""

from __future__ import annotations

import math

from dash import dcc, html

import optim_core as oc
from callbacks.state import OVERRIDE_PARAMS, RaceSettings
from optim_core import theory
from optim_core.analysis import TOLERANCE, ranked
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import LIMITS

from . import ids
from .components import (
    card,
    control,
    html_panel,
    linear_slider,
    log_slider,
    number_input,
    swatch,
    table,
)
from .figures import COLORS, TITLES

SURFACE_LABELS = {name: oc.get_surface(name).label for name in oc.SURFACES}
GRAPH_HEIGHT = "clamp(420px, calc(100vh - 190px), 640px)"
OVERRIDE_LABELS = {"lr": "lr", "dampening": "damp\u00adening", "weight_decay": "weight decay",
                   "beta2": "β₂", "eps": "ε", "alpha": "α"}


def controls(settings: RaceSettings) -> html.Div:
    surface = settings.surface_object()
    return html.Div([
        control("Surface", dcc.RadioItems(
            id=ids.SURFACE, value=settings.surface, className="segmented",
            options=[{"label": SURFACE_LABELS[s], "value": s} for s in oc.SURFACES],
            inline=True), ids.SURFACE),
        html.Div(surface_about(surface), id=ids.SURFACE_ABOUT, className="control-hint"),
        control("Optimizers", dcc.Checklist(
            id=ids.OPTIMIZERS, value=list(settings.optimizers), className="optimizer-list",
            options=[{"label": html.Span([swatch(COLORS[o]), TITLES[o]]), "value": o}
                     for o in OPTIMIZER_NAMES], inline=True), ids.OPTIMIZERS),
        log_slider(ids.LR_SLIDER, ids.LR_INPUT, settings.lr, -5, 1,
                   "Learning rate γ (lr)", "Log scale. Each optimizer's own lr in Advanced "
                                           "overrides this one."),
        linear_slider(ids.MOMENTUM_SLIDER, ids.MOMENTUM_INPUT, settings.momentum, 0.0, 0.999,
                      0.001, {0: "0", 0.5: "0.5", 0.9: "0.9"}, "Momentum μ",
                      "β₁ for Adam, AdamW and NAdam; RMSprop's momentum. SGD and Adagrad "
                      "ignore it."),
        html.Div([
            html.Div("Theory, live", className="control-label"),
            html_panel(ids.THEORY),
            html.Button("Set lr and μ to Polyak's optimum", id=ids.POLYAK_BUTTON,
                        className="small-button", style={"display": "none"}),
        ], className="theory-box"),
        html.Div([
            control("Steps", number_input(ids.STEPS, settings.steps, minimum=1,
                                          maximum=LIMITS["steps"], step=1), ids.STEPS,
                    f"1 to {LIMITS['steps']:,}"),
            control("κ (condition number)", number_input(
                ids.KAPPA, settings.kappa, minimum=1, maximum=LIMITS["kappa"]), ids.KAPPA,
                "Ravine only: Hessian diag(1, κ)", class_name="only-ravine"),
        ], className="control-pair"),
        html.Div([
            control("Start x₀", number_input(ids.START_X, settings.x0,
                                             placeholder=f"{surface.default_start[0]:g}"),
                    ids.START_X),
            control("Start y₀", number_input(ids.START_Y, settings.y0,
                                             placeholder=f"{surface.default_start[1]:g}"),
                    ids.START_Y),
        ], className="control-pair"),
        html.Div([html.Span("Or click the map to move the start. ", className="control-hint"),
                  html.Button("Reset start", id=ids.START_RESET, className="link-button")],
                 className="start-hint"),
        html.Details([
            html.Summary("Noise, data and seed"),
            html.Div([
                control("Gradient noise σ", number_input(ids.NOISE, settings.noise, minimum=0,
                                                         maximum=LIMITS["noise"]), ids.NOISE,
                        "Gaussian noise added to every gradient"),
                control("Seed", number_input(ids.SEED, settings.seed, minimum=0, step=1),
                        ids.SEED, "Noise, mini-batches and data"),
            ], className="control-pair"),
            html.Div([
                control("Data points", number_input(
                    ids.POINTS, settings.points, minimum=2, maximum=LIMITS["points"], step=1,
                    placeholder="5 on y = x"), ids.POINTS, "Line fit: noisy points"),
                control("Batch size", number_input(
                    ids.BATCH_SIZE, settings.batch_size, minimum=1, maximum=LIMITS["points"],
                    step=1, placeholder="full batch"), ids.BATCH_SIZE, "Line fit: mini-batch"),
            ], className="control-pair only-regression"),
        ], className="details", open=False),
        advanced(),
    ], id=ids.CONTROLS, className=f"controls surface-{settings.surface}")


def surface_about(surface: oc.Surface) -> list:
    return [html.Span(surface.formula, className="formula"), " ", surface.description]


def advanced() -> html.Details:
    """Per-optimizer hyperparameters, in a panel closed at first. Its grid (~80 Dash
    components) is drawn the first time it opens (callbacks/url.py): every component on
    the page hears every store update of every slider move, and most races never need
    it. Until then the overrides live in the overrides store alone."""
    return html.Details([
        html.Summary("Advanced: each optimizer's own hyperparameters",
                     id=ids.ADVANCED_SUMMARY),
        html.P("A fair race often needs different learning rates: Adam's step is about lr "
               "whatever the gradient's size, SGD's is lr × gradient. Blank cells use the lr "
               "slider or torch.optim's default.", className="control-hint"),
        html.Div(html.Span("…", className="muted"), id=ids.OVERRIDES_GRID),
        html.Div(id=ids.OVERRIDES_ERROR, className="control-error", role="alert"),
    ], id=ids.ADVANCED, className="details")


#: The Advanced panel's two grids: three columns each fit the sidebar without scrolling.
OVERRIDE_GROUPS = (OVERRIDE_PARAMS[:3], OVERRIDE_PARAMS[3:])  # lr, dampening, wd | β₂, ε, α


def overrides_grid(overrides: dict) -> html.Div:
    """One input per optimizer and hyperparameter it has; a blank cell takes the slider
    (lr) or torch's default. CSS grids rather than tables: one component a cell. The
    second grid lists only the optimizers that have β₂, ε or α."""
    grids = []
    for params in OVERRIDE_GROUPS:
        cells = [html.Span(""), *[html.Span(OVERRIDE_LABELS[p], className="grid-head")
                                  for p in params]]
        for name in OPTIMIZER_NAMES:
            spec = oc.OPTIMIZERS[name]
            if not any(param in spec.defaults for param in params):
                continue
            cells.append(html.Span([swatch(COLORS[name]), TITLES[name]], className="nowrap"))
            for param in params:
                if param not in spec.defaults:
                    cells.append(html.Span("—", className="muted"))
                    continue
                placeholder = "slider" if param == "lr" else f"{spec.defaults[param]:g}"
                cells.append(dcc.Input(
                    id=ids.override_id(name, param), type="number", debounce=True, step="any",
                    value=overrides.get(name, {}).get(param), placeholder=placeholder,
                    className="number-input compact", name=f"{name}.{param}"))
        grids.append(html.Div(cells, className="overrides-grid with-lr" if "lr" in params
                              else "overrides-grid"))  # room for the lr's "slider"
    return html.Div(grids, className="overrides-grids")


#: How the race map applies a slider move's patch (the race callback sets ``animate``
#: for patches only): ``Plotly.animate`` without a redraw replots just the scatter traces,
#: where ``Plotly.react`` redraws the whole plot (axes, image, hover layer) on any data
#: change. Zero duration: the paths jump to where they are, as the numbers do.
PATHS_ONLY = {"frame": {"redraw": False, "duration": 0}, "transition": {"duration": 0},
              "mode": "immediate"}


def graphs() -> html.Div:
    config = {"displaylogo": False, "scrollZoom": True, "responsive": True,
              "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
              "toImageButtonOptions": {"filename": "optimizer-race"}}
    return html.Div([
        html.Div(dcc.Graph(id=ids.RACE_GRAPH, config=config, className="race-graph",
                           style={"height": GRAPH_HEIGHT}, clear_on_unhover=True,
                           animation_options=PATHS_ONLY),
                 className="graph-cell"),
        html.Div(dcc.Graph(id=ids.LOSS_GRAPH, config={**config, "scrollZoom": False},
                           className="loss-graph", style={"height": GRAPH_HEIGHT},
                           clear_on_unhover=True), className="graph-cell"),
    ], className="graphs")


# --- pieces the race callback fills in -------------------------------------------------------

def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.{digits}g}"
    return f"{value:.{max(digits - 1, 1)}e}"


def leaderboard_table(summaries: list) -> html.Table:
    """Best first: converged runs by how soon, then the rest by final loss
    (``summaries``: :func:`optim_core.analysis.leaderboard` of the race)."""
    order = ranked(summaries)
    rows = []
    for rank, i in enumerate(order, start=1):
        s = summaries[i]
        status = html.Span(s.status_text,
                           className=f"status status-{s.status.replace(' ', '-')}")
        rows.append([str(rank), html.Span([swatch(COLORS[s.optimizer]), TITLES[s.optimizer]],
                                          className="nowrap"), status,
                     "never" if s.steps_to_tolerance is None else str(s.steps_to_tolerance),
                     _fmt(s.final_loss, 4), _fmt(s.final_gap, 3), _fmt(s.measured_rate, 4)])
    return table(["#", "optimizer", "status", f"first step within {TOLERANCE:g} of f*",
                  "final loss", "final f − f*", "measured rate / step"], rows, "leaderboard")


def theory_panel(settings: RaceSettings, surface: oc.Surface, race: oc.Race,
                 summaries: list) -> list:
    """Live readouts from the current values: limits, κ, Polyak, predicted vs measured
    (the measured rates are the leaderboard's ``summaries``')."""
    lr, mu = settings.lr, settings.momentum
    r = theory.readout(surface, lr, mu, race.runs, [s.measured_rate for s in summaries])
    c = r.curvature
    where = "exact (quadratic)" if c.exact else "at the minimum"
    items = [
        html.Li([html.B("κ"), f" = {_fmt(c.kappa, 4)} ",
                 html.Span(f"(L = {_fmt(c.L, 4)}, m = {_fmt(c.m, 4)}, {where})",
                           className="muted")]),
        html.Li([html.B("effective lr"), " γ/(1−μ) = ", _fmt(r.effective_lr, 4)]),
    ]
    labels = {"sgd": "GD", "momentum": "heavy ball", "nesterov": "Nesterov"}
    limits = [html.Span([f"{labels[limit.optimizer]} {_fmt(limit.lr_max, 3)} ",
                         html.Span("✓" if limit.stable else "✗ unstable",
                                   className="verdict-stable" if limit.stable
                                   else "verdict-unstable")], className="nowrap")
              for limit in r.limits]
    items.append(html.Li([html.B("largest stable lr"), f" (now {_fmt(lr)}): ",
                          *_join(limits, ", ")]))
    rates = [html.Span([swatch(COLORS[rate.optimizer]),
                        f"{_fmt(rate.predicted, 4)} → {_fmt(rate.measured, 4)}"],
                       className="nowrap") for rate in r.rates]
    if rates:
        items.append(html.Li([html.B("rate / step"), " predicted → measured: ",
                              *_join(rates, ", ")]))
    if r.polyak is not None:
        best_lr, best_mu, best_rate = r.polyak
        items.append(html.Li([html.B("Polyak's optimum"),
                              f" γ* = {_fmt(best_lr, 4)}, μ* = {_fmt(best_mu, 4)}, rate "
                              f"(√κ−1)/(√κ+1) = {_fmt(best_rate, 4)}"]))
    return [html.Ul(items, className="theory-list")]


def _join(parts: list, separator: str) -> list:
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(separator)
        out.append(part)
    return out


def race_legend(race: oc.Race) -> list:
    """The map's legend: each racing optimizer's colour (HTML, drawn once per set of
    optimizers, where a Plotly legend would be redrawn on every slider move)."""
    return [html.Span([swatch(COLORS[run.optimizer]), TITLES[run.optimizer]],
                      className="legend-item") for run in race.runs]


def map_flags(race: oc.Race) -> list:
    """What the map cannot show: where a diverged path was cut (its last finite point is
    usually far outside the window) and paths that end outside the window."""
    (x0, x1), (y0, y1) = race.surface.window
    flags = []
    for run in race.runs:
        x, y = (float(v) for v in run.params[-1])
        where = f"({_fmt(x)}, {_fmt(y)})"
        outside = not (x0 <= x <= x1 and y0 <= y <= y1)
        if run.diverged_at is not None:
            text = (f" diverged at step {run.diverged_at}: its path is cut at the last finite "
                    f"point, {where}" + (", off the map" if outside else ""))
        elif outside:
            text = f" ends off the map, at {where}"
        else:
            continue
        flags.append(html.Li([swatch(COLORS[run.optimizer]), html.B(TITLES[run.optimizer]),
                              text], className="diverged" if run.diverged_at is not None
                             else "off-map"))
    return [html.Ul(flags, className="map-flags-list")] if flags else []


def leaderboard_key() -> html.P:
    """What the statuses and the rate mean (the verdicts of optim_core.analysis)."""
    return html.P([
        html.B("converged"), f": the final f − f* is within {TOLERANCE:g}. ",
        html.B("still moving"), ": not there yet, and not oscillating. ",
        html.B("oscillating"), ": the loss rose on a quarter or more of the last quarter's "
        "steps (an lr near its stability limit, or gradient noise holding it at a floor). ",
        html.B("diverged at step k"), ": the parameters blew up at step k. ",
        html.B("rate"), ": ρ in f − f* ∝ ρ²ᵏ, fitted on the second half of the run "
        "(below 1 is linear convergence; near 1 under noise it means little).",
    ], className="control-hint leaderboard-key")


def map_key() -> html.P:
    """What the marks on the map mean."""
    return html.P([
        html.Span("★", className="key-mark"), " start (click the map to move it) · ",
        html.Span("●", className="key-mark"), " last step · ",
        html.Span("✕", className="key-mark"), " last finite step of a diverged run · ",
        html.Span("+", className="key-mark"), " minimum · ",
        "hover a step to see every optimizer's same step, here and on the loss plot",
    ], className="map-key control-hint")


def race_section(settings: RaceSettings) -> html.Div:
    return html.Div([
        html.Aside(card("Race settings", [controls(settings)]), className="sidebar"),
        html.Main([
            card("Paths on the surface", [
                graphs(),
                html_panel(ids.MAP_FLAGS, "map-flags"),
                html.Div(id=ids.RACE_LEGEND, className="race-legend"),
                map_key(),
                html.Div(id=ids.RACE_ERROR, className="control-error", role="alert"),
            ], actions=[html.Button("Export CSV", id=ids.EXPORT_BUTTON, className="button"),
                        dcc.Download(id=ids.EXPORT_DOWNLOAD)]),
            card("Leaderboard", [html_panel(ids.LEADERBOARD, "table-scroll"),
                                 leaderboard_key()]),
        ], className="main"),
    ], className="race-layout")
