"""The race: controls, the map and the loss plot, the leaderboard and the theory panel."""

from __future__ import annotations

import math

from dash import dcc, html

import optim_core as oc
from optim_core import theory
from optim_core.analysis import TO_TOLERANCE, TOLERANCE, ranked
from optim_core.expression import FUNCTION_NAMES, MAX_LENGTH
from optim_core.optimizers import GROUPS as OPTIMIZER_GROUPS
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import CONSTRAINTS, LIMITS
from optim_core.simulate import SHARED_HYPERPARAMETERS
from optim_core.surfaces import GROUPS
from settings import (
    AXES,
    CUSTOM_F,
    OVERRIDE_KINDS,
    OVERRIDE_PARAMS,
    PRESETS,
    SLIDER_RANGES,
    RaceSettings,
    custom_placeholders,
    override_text,
    own_lrs,
    window_text,
)

from . import ids
from .components import (
    card,
    control,
    graph_config,
    html_panel,
    linear_slider,
    log_slider,
    number_input,
    swatch,
    table,
)
from .figures import COLORS, DASHES, TITLES, racer_title
from .schedule import schedule_panel
from .scrub import scrubber_row, walkthrough_card
from .tune import tune_bar
from .userdata import points_panel

SURFACE_LABELS = {name: oc.get_surface(name).label for name in oc.SURFACES} | {
    "custom": "Type f(x, y)"}
#: The picker's groups, in order, and their surfaces (the engine's registry says which).
SURFACE_GROUPS = {group: [name for name in oc.SURFACES if oc.get_surface(name).group == group]
                  for group in GROUPS} | {"your own": ["custom"]}
GROUP_TITLES = {"teaching": "Teaching", "test functions": "Test functions",
                "your own": "Your own"}
#: The map and loss plot leave room for the header above, the step scrubber and the
#: legend below them, so a 720-pixel-high laptop screen shows them all at once.
GRAPH_HEIGHT = "clamp(340px, calc(100vh - 350px), 640px)"
#: The Advanced panel's column heads where the name is not the head (the others: the
#: name, with spaces).
SHORT_LABELS = {"momentum": "μ / β₁", "dampening": "damp\u00adening", "beta2": "β₂",
                "eps": "ε", "alpha": "α", "momentum_decay": "ψ (mom. decay)",
                "initial_accumulator_value": "initial acc\u00adumulator",
                "decoupled_weight_decay": "de\u00adcoupled weight decay"}
OVERRIDE_LABELS = {name: SHORT_LABELS.get(name, name.replace("_", " "))
                   for name in OVERRIDE_PARAMS}


def controls(settings: RaceSettings, fast_drag: bool = True) -> html.Div:
    surface = settings.surface_object()
    return html.Div([
        control("Surface", dcc.RadioItems(
            id=ids.SURFACE, value=settings.surface, className="segmented surface-picker",
            options=surface_options(), inline=True), ids.SURFACE),
        html.Div(surface_about(surface), id=ids.SURFACE_ABOUT, className="control-hint"),
        custom_controls(settings),
        control("Optimizers", optimizer_picker(settings), ids.OPTIMIZERS),
        log_slider(ids.LR_SLIDER, ids.LR_INPUT, settings.lr, *map(int, SLIDER_RANGES["lr"]),
                   "Learning rate γ (lr)", "Log scale. An optimizer with its own lr "
                                           "(below, and in Advanced) does not follow it.",
                   drag="lr" if fast_drag else None),
        html.Div(own_lr_line(own_lrs(settings.overrides, settings.optimizers)), id=ids.OWN_LR,
                 className="own-lr"),
        linear_slider(ids.MOMENTUM_SLIDER, ids.MOMENTUM_INPUT, settings.momentum,
                      *SLIDER_RANGES["momentum"],
                      0.001, {0: "0", 0.5: "0.5", 0.9: "0.9"}, "Momentum μ",
                      "β₁ for Adam, AdamW and NAdam; RMSprop's momentum. SGD and Adagrad "
                      "ignore it.", drag="momentum" if fast_drag else None),
        html.Div([
            html.Div("Theory, live", className="control-label"),
            html_panel(ids.THEORY),
            html.Button("Set lr and μ to Polyak's optimum", id=ids.POLYAK_BUTTON,
                        className="small-button", style={"display": "none"}),
        ], className="theory-box"),
        html.Div([
            control("Steps", number_input(ids.STEPS, settings.steps, integer=True), ids.STEPS,
                    f"1 to {LIMITS['steps']:,}"),
            control("κ (condition number)", number_input(ids.KAPPA, settings.kappa), ids.KAPPA,
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
                control("Gradient noise σ", number_input(ids.NOISE, settings.noise), ids.NOISE,
                        "Gaussian noise added to every gradient"),
                control("Seed", number_input(ids.SEED, settings.seed, integer=True),
                        ids.SEED, "Noise, mini-batches and data"),
            ], className="control-pair"),
            html.Div([
                control("Data points", number_input(
                    ids.POINTS, settings.points, integer=True, placeholder="5 on y = x"),
                    ids.POINTS, "Line fit: noisy points"),
                control("Batch size", number_input(
                    ids.BATCH_SIZE, settings.batch_size, integer=True,
                    placeholder="full batch"), ids.BATCH_SIZE, "Line fit: mini-batch"),
            ], className="control-pair only-regression"),
            points_panel(settings),
        ], className="details", open=False),
        advanced(),
        schedule_panel(settings),
    ], id=ids.CONTROLS, className=f"controls surface-{settings.surface}")


def optimizer_options() -> list[dict]:
    """The optimizers by group (``spec.group``, in the order of optimizers.GROUPS), each
    group after its heading (a disabled option); an option's title is what the search
    matches: its title, name and group."""
    options = []
    for group in OPTIMIZER_GROUPS:
        names = [o for o in OPTIMIZER_NAMES if oc.OPTIMIZERS[o].group == group]
        if not names:
            continue
        options.append({"label": html.Span(group, className="picker-group"),
                        "value": f"group:{group}", "disabled": True, "title": group})
        options += [{"label": html.Span([swatch(COLORS[o]), TITLES[o]]), "value": o,
                     "title": f"{TITLES[o]} ({o}), {group}"} for o in names]
    return options


def optimizer_picker(settings: RaceSettings) -> html.Div:
    """A search box over the grouped checklist: typing keeps the optimizers whose title,
    name or group holds the text (in the browser, from the full list in a store); the
    checked ones stay checked while hidden."""
    options = optimizer_options()
    return html.Div([
        html.Label("Search optimizers", htmlFor=ids.OPTIMIZER_SEARCH, className="sr-only"),
        dcc.Input(id=ids.OPTIMIZER_SEARCH, type="search", placeholder="Search optimizers",
                  autoComplete="off", className="optimizer-search"),
        dcc.Checklist(id=ids.OPTIMIZERS, value=list(settings.optimizers), options=options,
                      className="optimizer-list optimizer-picker", inline=True),
        dcc.Store(id=ids.OPTIMIZER_CHOICES, data=options),
    ], className="optimizer-box")


def surface_options() -> list[dict]:
    """The picker's options by group, each group after its heading (a disabled option:
    RadioItems has no groups of its own)."""
    options = []
    for group, names in SURFACE_GROUPS.items():
        options.append({"label": html.Span(GROUP_TITLES[group], className="picker-group"),
                        "value": f"group:{group}", "disabled": True})
        options += [{"label": SURFACE_LABELS[name], "value": name} for name in names]
    return options


def custom_controls(settings: RaceSettings) -> html.Div:
    """f(x, y) as typed, and its map window (shown on surface "custom")."""
    return html.Div([
        control("f(x, y)", dcc.Input(
            id=ids.CUSTOM_F, type="text", value=settings.f, debounce=True,  # picking the
            # surface fills in an example (callbacks/url.py)
            placeholder="e.g. x^2 + 10*y^2", spellCheck=False, autoComplete="off",
            className="expression-input"), ids.CUSTOM_F,
            f"Numbers, x, y, pi, e, + − * / ^ (or **), ( ); {', '.join(FUNCTION_NAMES)}. "
            f"Press Enter to race; at most {MAX_LENGTH} characters."),
        control("Map window", dcc.Input(
            id=ids.CUSTOM_WINDOW, type="text", value=window_text(settings.window),
            debounce=True, placeholder=window_placeholder(settings),
            autoComplete="off", className="expression-input"), ids.CUSTOM_WINDOW,
            "Where the map looks, and where the minimum is looked for."),
    ], className="only-custom", **{"data-max-length": str(MAX_LENGTH)})


def window_placeholder(settings: RaceSettings) -> str:
    """The window box's text while blank: the window f gives (see the callback that
    keeps it up to date as f is typed, callbacks/userdata.py)."""
    shown = custom_placeholders(settings.f or CUSTOM_F, None, settings.x0, settings.y0)
    return shown["window"] if shown else "x_min, x_max, y_min, y_max (blank: from f)"


def own_lr_line(own: dict) -> list:
    """The racers that do not follow the lr slider (``own``: {optimizer: its own lr}),
    each with a button that drops its lr (the optimizer then follows the slider)."""
    if not own:
        return []
    items = [html.Span([swatch(COLORS[name]), f"{TITLES[name]}: own lr {_fmt(lr, 4)} ",
                        html.Button("follow slider", id=ids.follow_slider_id(name),
                                    className="link-button",
                                    title=f"Drop {TITLES[name]}'s own lr: it follows the "
                                          "lr slider")], className="nowrap")
             for name, lr in own.items()]
    return [html.Span("Not following the slider: ", className="muted"), *_join(items, " · ")]


def surface_about(surface: oc.Surface) -> list:
    return [html.Span(surface.formula, className="formula"), " ", surface.description, " ",
            html.Span(default_race_text(surface.name), className="default-race")]


def default_race_text(surface: str) -> str:
    """What the surface's preset race shows, its numbers taken from the preset and the
    theory (tests/test_app_state.py checks each claim against the engine)."""
    p = PRESETS[surface]
    own = {name: values["lr"] for name, values in p.overrides.items()}
    if surface == "ravine":
        limit = 2 / theory.curvature(RaceSettings.preset(surface).surface_object()).L
        return (f"First race: at lr {p.lr:g}, near its limit 2/L = {limit:g}, gradient "
                f"descent zig-zags across the valley; heavy-ball momentum (μ {p.momentum:g}) "
                f"damps the zig-zag and arrives sooner; Nesterov overshoots the steep axis at "
                f"this lr and swings longest; Adam (own lr {own['adam']:g}) cuts straight "
                "across and arrives first.")
    if surface == "rosenbrock":
        return (f"First race ({p.steps:,} steps at lr {p.lr:g}): all find the valley; "
                f"along its flat floor GD crawls and stays far from (1, 1), and only momentum "
                f"(μ {p.momentum:g}) reaches the minimum; Adam (own lr {own['adam']:g}) comes "
                "closest of the rest.")
    if surface == "saddle":
        return (f"First race: starting just off the ridge, GD lingers near the saddle "
                f"longest; Adam, whose step does not shrink with the gradient, leaves it at "
                f"once; momentum and Nesterov (μ {p.momentum:g}) escape sooner than GD, and "
                "Nesterov settles in a minimum first.")
    if surface == "custom":
        return ("Type your own f(x, y) below (Enter races it); the map's window and the "
                "start follow from it, or set them.")
    if p.text:  # a surface of optim_core.surfaces.TABLE says it in its preset
        return p.text.format(lr=p.lr, momentum=p.momentum, steps=p.steps, adam=own["adam"])
    return (f"First race: mini-batches of {p.batch_size} of {p.points} noisy points "
            "make every optimizer jitter around the least-squares line instead of settling "
            "on it.")


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


#: The Advanced panel's grids, each narrow enough for the sidebar. The sliders' two
#: (lr, μ) come first: blank, an optimizer follows the slider; then one kind of control
#: a grid (number boxes, switches, pairs, options), as many a grid as fit.
PER_GRID = {"number": 3, "bool": 3, "pair": 2, "option": 1}


def _override_groups() -> tuple[tuple[str, ...], ...]:
    groups = [SHARED_HYPERPARAMETERS]
    for kind, per_grid in PER_GRID.items():
        params = [p for p in OVERRIDE_PARAMS
                  if OVERRIDE_KINDS[p] == kind and p not in SHARED_HYPERPARAMETERS]
        groups += [tuple(params[i:i + per_grid]) for i in range(0, len(params), per_grid)]
    return tuple(groups)


OVERRIDE_GROUPS = _override_groups()
#: Each kind of control's column: a switch's head word, an option's name and a pair's
#: two numbers need room.
COLUMN_WIDTHS = {"number": "minmax(3em, 1fr)", "bool": "minmax(4.5em, 1fr)",
                 "pair": "minmax(5.5em, 1.5fr)", "option": "minmax(6.5em, 2fr)"}
#: A checkbox's one option (Dash's Checklist holds a list: ticked is [CHECKED]).
CHECKED = "on"


def override_control_value(optimizer: str, param: str, value):
    """What ``optimizer``'s control for ``param`` shows for its own ``value`` (None: none
    of its own): a checkbox is ticked by torch's default where none is set; a pair is
    its text "a,b"."""
    kind = OVERRIDE_KINDS[param]
    if kind == "bool":
        ticked = value if isinstance(value, bool) else oc.OPTIMIZERS[optimizer].defaults[param]
        return [CHECKED] if ticked else []
    if kind == "pair" and isinstance(value, (list, tuple)):
        return override_text(value)
    return value


def override_control(optimizer: str, param: str, value):
    """``optimizer``'s control for ``param``, from the kind its constraint asks for."""
    control_id, kind = ids.override_id(optimizer, param), OVERRIDE_KINDS[param]
    shown = override_control_value(optimizer, param, value)
    default = oc.OPTIMIZERS[optimizer].defaults[param]
    if kind == "bool":
        return dcc.Checklist(id=control_id, options=[{"label": "", "value": CHECKED}],
                             value=shown, className="override-check")
    if kind == "option":
        options = getattr(CONSTRAINTS[param], "inner", CONSTRAINTS[param]).values
        return dcc.Dropdown(id=control_id, options=list(options), value=shown,
                            placeholder=str(default), searchable=False, clearable=True,
                            className="override-option")
    placeholder = "slider" if param in SHARED_HYPERPARAMETERS else (
        "None" if default is None else override_text(default) if kind == "pair"
        else f"{default:g}")
    return number_input(control_id, shown, placeholder=placeholder, width=None,
                        class_name="compact", name=f"{optimizer}.{param}")


def overrides_grid(overrides: dict) -> html.Div:
    """One input per optimizer and hyperparameter it has; a blank cell takes the slider
    (lr, μ) or torch's default. CSS grids rather than tables: one component a cell. A
    grid lists only the optimizers that have one of its hyperparameters."""
    grids = []
    for params in OVERRIDE_GROUPS:
        cells = [html.Span(""), *[html.Span(OVERRIDE_LABELS[p], className="grid-head")
                                  for p in params]]
        for name in OPTIMIZER_NAMES:
            spec = oc.OPTIMIZERS[name]
            if not any(param in spec.defaults for param in params):
                continue
            cells.append(html.Span([swatch(COLORS[name]), TITLES[name]], className="grid-name"))
            for param in params:
                if param not in spec.defaults:
                    cells.append(html.Span("—", className="muted"))
                    continue
                cells.append(override_control(name, param,
                                              overrides.get(name, {}).get(param)))
        # the slider's pair get room for their placeholder, "slider"
        # the names' column gives way first: a long name wraps rather than push the grid
        columns = " ".join(["minmax(4.5em, max-content)"] + [
            "minmax(3.8em, 1.3fr)" if p in SHARED_HYPERPARAMETERS
            else COLUMN_WIDTHS[OVERRIDE_KINDS[p]] for p in params])
        grids.append(html.Div(cells, className="overrides-grid",
                              style={"gridTemplateColumns": columns}))
    return html.Div(grids, className="overrides-grids")


#: How the race map applies a slider move's patch (the race callback sets ``animate``
#: for patches only): ``Plotly.animate`` without a redraw replots just the scatter traces,
#: where ``Plotly.react`` redraws the whole plot (axes, image, hover layer) on any data
#: change. Zero duration: the paths jump to where they are, as the numbers do.
PATHS_ONLY = {"frame": {"redraw": False, "duration": 0}, "transition": {"duration": 0},
              "mode": "immediate"}


def loss_axis_picker() -> html.Div:
    """The loss plot's x axis: steps, or evaluations of f and ∇f (L-BFGS makes several
    a step); the leaderboard's "to tolerance" column counts the same."""
    return control("x axis:", dcc.RadioItems(
        id=ids.LOSS_AXIS, value=RaceSettings.axis, inline=True, className="segmented",
        options=[{"label": label, "value": value} for value, label in AXES.items()]),
        ids.LOSS_AXIS, class_name="loss-axis")


def graphs() -> html.Div:
    # no camera button: the card's PNG and SVG buttons export both plots with their
    # legend and a caption (callbacks/images.py), where the camera's image has neither
    config = graph_config(scrollZoom=True,
                          modeBarButtonsToRemove=["select2d", "lasso2d", "autoScale2d",
                                                  "toImage"])
    return html.Div([
        html.Div(dcc.Graph(id=ids.RACE_GRAPH, config=config, className="race-graph",
                           style={"height": GRAPH_HEIGHT}, clear_on_unhover=True,
                           animation_options=PATHS_ONLY),
                 className="graph-cell"),
        html.Div([dcc.Graph(id=ids.LOSS_GRAPH, config={**config, "scrollZoom": False},
                            className="loss-graph", style={"height": GRAPH_HEIGHT},
                            clear_on_unhover=True),
                  loss_axis_picker()], className="graph-cell"),
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


#: The Adam family's momentum is β₁ (the slider's μ); the others' is μ.
BETA1_USERS = ("adam", "adamw", "nadam")


def run_settings(run: oc.Trajectory, own: dict) -> str:
    """What one racer runs with: its lr (marked "own" where it does not follow the lr
    slider), its μ or β₁, and any other value of its own that is not torch's default
    (``own``: the optimizer's values from the Advanced panel)."""
    h, defaults = run.hyperparameters, oc.OPTIMIZERS[run.optimizer].defaults
    parts = [f"{'own lr' if 'lr' in own else 'lr'} {_fmt(h['lr'], 4)}"]
    if "momentum" in h:
        parts.append(f"{'own ' if 'momentum' in own else ''}"
                     f"{'β₁' if run.optimizer in BETA1_USERS else 'μ'} "
                     f"{_fmt(h['momentum'], 4)}")
    parts += [f"{OVERRIDE_LABELS[k].replace(chr(0xad), '')} "
              f"{_fmt(h[k], 4) if OVERRIDE_KINDS[k] == 'number' else override_text(h[k])}"
              for k in OVERRIDE_PARAMS if k not in SHARED_HYPERPARAMETERS and k in own
              and own[k] != defaults[k]]
    return ", ".join(parts)


def racer(run: oc.Trajectory, own: dict) -> html.Span:
    """A racer where its colour is named: swatch, name and what it runs with."""
    return html.Span([line_swatch(run.optimizer), racer_title(run), " ",
                      html.Span(run_settings(run, own), className="racer-settings")],
                     className="nowrap")


#: The leaderboard's "how soon" column per loss axis (settings.AXES).
TO_TOLERANCE_TITLES = {"steps": f"first step within {TOLERANCE:g} of f*",
                       "evals": f"f, ∇f evaluations to within {TOLERANCE:g} of f*"}


def leaderboard_table(summaries: list, race: oc.Race, overrides: dict,
                      axis: str = "steps") -> html.Table:
    """Best first: converged runs by how soon (in steps, or with ``axis`` "evals" in
    evaluations of f and ∇f), then the rest by final loss (``summaries``:
    :func:`optim_core.analysis.leaderboard` of the race; ``overrides``: the optimizers'
    own values)."""
    runs = {run.optimizer: run for run in race.runs}
    order = ranked(summaries, by=axis)
    field = TO_TOLERANCE[axis]
    rows = []
    for rank, i in enumerate(order, start=1):
        s = summaries[i]
        status = html.Span(s.status_text,
                           className=f"status status-{s.status.replace(' ', '-')}")
        rows.append([str(rank), racer(runs[s.optimizer], overrides.get(s.optimizer, {})),
                     status,
                     "never" if getattr(s, field) is None else str(getattr(s, field)),
                     str(int(runs[s.optimizer].evals[-1])),
                     html.Span(_fmt(s.final_loss, 4), className=f"board-loss-{s.optimizer}"),
                     html.Span(_fmt(s.final_gap, 3), className=f"board-gap-{s.optimizer}"),
                     _fmt(s.measured_rate, 4)])
    # evaluations of f and ∇f: one a step, but L-BFGS's line search and inner iterations
    return table(["#", "optimizer", "status", TO_TOLERANCE_TITLES[axis],
                  "f, ∇f evaluations",
                  html.Span("final loss", className="board-loss-title"),
                  html.Span("final f − f*", className="board-gap-title"),
                  "measured rate / step"], rows, "leaderboard")


def theory_panel(settings: RaceSettings, surface: oc.Surface, race: oc.Race,
                 summaries: list) -> list:
    """Live readouts from the current values: limits, κ, Polyak, predicted vs measured
    (the measured rates are the leaderboard's ``summaries``')."""
    lr, mu = settings.lr, settings.momentum
    r = theory.readout(surface, lr, mu, race.runs, [s.measured_rate for s in summaries])
    c = r.curvature
    at = r.at or surface.minima[0]
    point = f"({_fmt(at[0], 4)}, {_fmt(at[1], 4)})"
    where = ("exact (quadratic)" if c.exact else
             f"at {point}, where the runs approach" if surface.name == "custom"
             else "at the minimum")
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
    if surface.name == "custom":  # the Hessian itself: nothing about f is known ahead
        hxx, hxy, hyy = (float(h) for h in surface.hessian(*at))
        items.insert(0, html.Li([html.B("Hessian"), f" at {point}: [[{_fmt(hxx, 4)}, "
                                 f"{_fmt(hxy, 4)}], [{_fmt(hxy, 4)}, {_fmt(hyy, 4)}]]"]))
    if r.polyak is not None:
        best_lr, best_mu, best_rate = r.polyak
        items.append(html.Li([html.B("Polyak's optimum"),
                              f" γ* = {_fmt(best_lr, 4)}, μ* = {_fmt(best_mu, 4)}, rate "
                              f"(√κ−1)/(√κ+1) = {_fmt(best_rate, 4)}"]))
    elif r.polyak_note:
        items.append(html.Li([html.B("Polyak's optimum"), ": ", r.polyak_note],
                             className="muted"))
    return [html.Ul(items, className="theory-list")]


def _join(parts: list, separator: str) -> list:
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(separator)
        out.append(part)
    return out


def race_legend(race: oc.Race, overrides: dict) -> list:
    """The map's legend: each racer's colour and what it runs with (HTML, drawn with the
    leaderboard after the paths, where a Plotly legend would redraw the map)."""
    return [html.Div([html.Span(racer(run, overrides.get(run.optimizer, {})),
                                className="legend-item") for run in race.runs],
                     className="legend-items")]  # a block: Markdown keeps its HTML as is


def line_swatch(optimizer: str) -> html.Span:
    """A short line in the optimizer's colour and dash, as its paths are drawn."""
    return html.Span(className=f"line-swatch dash-{DASHES[optimizer]}",
                     style={"borderTopColor": COLORS[optimizer]})


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
            text = (f" diverged at step {run.diverged_at}: its last finite point is {where}"
                    + (", off the map; its path is drawn to where it leaves the map (✕)"
                       if outside else ""))
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


#: What the copy buttons say they copied (the link's is written in assets/app.js).
CLI_LABEL = "CLI command (writes the same CSV as Export CSV): "


def share_note(label: str, text: str) -> list:
    """What a copy button copied: a label and the text itself, selectable."""
    return [html.Span(label, className="muted"), html.Code(text, id=ids.SHARE_TEXT)]


def map_key() -> html.P:
    """What the marks on the map mean."""
    return html.P([
        html.Span("★", className="key-mark"), " start (click the map to move it) · ",
        html.Span("●", className="key-mark"), " last step · ",
        html.Span("✕", className="key-mark"), " where a diverged or runaway path leaves the map"
        " (or a diverged run's last finite step) · ",
        html.Span("+", className="key-mark"), " minimum · ",
        "hover a step to see every optimizer's same step, here and on the loss plot",
    ], className="map-key control-hint")


def data_plot() -> html.Div:
    """The line fit's data and fitted lines (callbacks/images.py fills it in; hidden on
    the other surfaces)."""
    return html.Div([dcc.Graph(id=ids.DATA_GRAPH, className="data-graph",
                               config={"displayModeBar": False, "responsive": True}),
                     dcc.Store(id=ids.DATA_REQUEST), dcc.Store(id=ids.DATA_DRAWN)],
                    id=ids.DATA_CELL, className="data-cell", style={"display": "none"})


def race_section(settings: RaceSettings, fast_drag: bool = True, main_top=(),
                 main_end=()) -> html.Div:
    """The sidebar and the main column (``main_top``, ``main_end``: cards of other
    features above the map and under the leaderboard)."""
    return html.Div([
        html.Aside(card("Race settings", [controls(settings, fast_drag)]), className="sidebar"),
        html.Main([
            *main_top,
            card("Paths on the surface", [
                html.Div([html.Div(id=ids.SHARE_NOTE), html.Span(id=ids.SHARE_STATUS)],
                         className="share-line"),
                graphs(),
                scrubber_row(settings.steps),
                html_panel(ids.MAP_FLAGS, "map-flags"),
                html_panel(ids.RACE_LEGEND, "race-legend"),
                map_key(),
                data_plot(),
                html.Div(id=ids.RACE_ERROR, className="control-error", role="alert"),
            ], actions=[
                html.Button("Copy link", id=ids.LINK_BUTTON, className="button ghost",
                            title="The address bar always holds this race: share it"),
                html.Button("Copy CLI command", id=ids.CLI_BUTTON, className="button ghost",
                            title="The command line that writes the same CSV as Export CSV"),
                html.Button("Export CSV", id=ids.EXPORT_BUTTON, className="button"),
                dcc.Download(id=ids.EXPORT_DOWNLOAD),
                html.Button("PNG", id=ids.EXPORT_PNG, className="button",
                            title="Both plots as images for slides: legend and settings in "
                                  "the picture"),
                html.Button("SVG", id=ids.EXPORT_SVG, className="button",
                            title="Both plots as scalable vector images"),
                dcc.Store(id=ids.EXPORT_IMAGE)]),
            card("Leaderboard", [tune_bar(), html_panel(ids.LEADERBOARD, "table-scroll"),
                                 leaderboard_key()], class_name="leaderboard-card"),
            walkthrough_card(),
            *main_end,
        ], className="main"),
    ], className="race-layout")
