"""The schedule panel: the scheduler and its parameters (generated from its signature and
the parameter table), clipping, the momentum convention, presets, and the small plot of
lr(t), μ(t) and the effective step γ_t/(1 − μ_t)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import dcc, html

from layouts import ids
from layouts.components import control, graph_config, number_input
from layouts.figures import themed_layout
from optim_core.params import CONSTRAINTS, Boolean, Options
from optim_core.schedules import SCHEDULER_PARAMETERS, SCHEDULERS
from settings import MOMENTUM_FORMS, RaceSettings

#: The presets the teaching pages name: settings.TRAINING values (and lr, μ) to apply.
SCHEDULE_PRESETS = {
    "warmup + high momentum": {"scheduler": "warmup-cosine", "warmup_steps": "20",
                               "start_factor": "0.05", "momentum": 0.95},
    "1cycle": {"scheduler": "onecycle"},
    "β = 0.99, no clipping": {"scheduler": "constant", "momentum": 0.99,
                              "clip_grad_norm": None},
    "β = 0.99, clipped": {"scheduler": "constant", "momentum": 0.99, "clip_grad_norm": "1"},
}
FORM_TEXT = {"pytorch": "pytorch: v ← μv + g, θ ← θ − γv",
             "sutskever": "sutskever: v ← μv − γg, θ ← θ + v",
             "ema": "ema: v ← μv + (1 − μ)g, θ ← θ − γv"}


def _label(name: str) -> str:
    takers = [n for n, s in SCHEDULERS.items() if name in s.defaults]
    return f"{name} ({', '.join(takers)})" if len(takers) < 3 else name


def parameter_box(name: str, settings: RaceSettings):
    """One scheduler parameter's control, from its constraint: a choice for options and
    switches, a text box otherwise (its placeholder the default)."""
    box_id = ids.schedule_param_id(name)
    value = settings.control_value(name)
    constraint = CONSTRAINTS[name]
    default = next(s.defaults[name] for s in SCHEDULERS.values() if name in s.defaults)
    if isinstance(constraint, (Options, Boolean)):
        choices = constraint.values if isinstance(constraint, Options) else ("true", "false")
        body = dcc.Dropdown(id=box_id, value=value, clearable=True,
                            placeholder=f"default {str(default).lower()}",
                            options=[{"label": v, "value": v} for v in choices])
    else:
        shown = ("the run's lr" if default is None and "lr" in name else
                 "the race's steps" if default is None else
                 ",".join(map(str, default)) if isinstance(default, tuple) else f"{default:g}")
        body = number_input(box_id, value, placeholder=shown)
    return html.Div(control(name, body, box_id, constraint.describe()),
                    id=ids.schedule_row_id(name), style=row_style(name, settings))


def row_style(name: str, settings: RaceSettings) -> dict:
    scheduler = settings.control_value("scheduler")
    return {} if name in SCHEDULERS[scheduler].defaults else {"display": "none"}


def schedule_panel(settings: RaceSettings) -> html.Details:
    return html.Details([
        html.Summary("Schedule, clipping and momentum convention"),
        control("Scheduler", dcc.Dropdown(
            id=ids.SCHEDULER, value=settings.control_value("scheduler"), clearable=False,
            options=[{"label": f"{name} ({spec.torch})", "value": name}
                     for name, spec in SCHEDULERS.items()]), ids.SCHEDULER,
            "torch.optim.lr_scheduler, stepped after every step"),
        html.Div([parameter_box(name, settings) for name in SCHEDULER_PARAMETERS],
                 className="schedule-params"),
        dcc.Graph(id=ids.SCHEDULE_GRAPH, config=graph_config(displayModeBar=False),
                  style={"height": "180px"}, figure=go.Figure()),
        html.Div([
            control("clip_grad_norm", number_input(
                ids.CLIP_GRAD_NORM, settings.control_value("clip_grad_norm"),
                placeholder="off"), ids.CLIP_GRAD_NORM, "max norm of the gradient"),
            control("clip_norm_type", number_input(
                ids.CLIP_NORM_TYPE, settings.control_value("clip_norm_type"),
                placeholder="2"), ids.CLIP_NORM_TYPE, "p of the norm, or inf"),
            control("clip_grad_value", number_input(
                ids.CLIP_GRAD_VALUE, settings.control_value("clip_grad_value"),
                placeholder="off"), ids.CLIP_GRAD_VALUE, "clamp each component"),
        ], className="control-pair"),
        control("Momentum convention", dcc.RadioItems(
            id=ids.MOMENTUM_FORM, value=settings.control_value("momentum_form"),
            options=[{"label": form, "value": form} for form in MOMENTUM_FORMS], inline=True,
            className="segmented"), ids.MOMENTUM_FORM, "for Momentum and Nesterov"),
        control("Compare conventions", dcc.Checklist(
            id=ids.COMPARE_FORMS, value=settings.control_value("compare_forms"),
            options=[{"label": "race Momentum and Nesterov in all three forms",
                      "value": "on"}]), ids.COMPARE_FORMS,
            "extra racers: sutskever dashed, ema dotted"),
        html.Div(id=ids.FORMS_READOUT, className="control-hint forms-readout"),
        html.Div([html.Span("Presets: ", className="control-hint")] + [
            html.Button(name, id=ids.schedule_preset_id(name), className="small-button")
            for name in SCHEDULE_PRESETS]),
        html.P("The phase diagram sweeps with a constant schedule and no clipping.",
               className="control-hint"),
    ], id=ids.SCHEDULE_PANEL, className="details")


def schedule_run(race):
    """The run whose schedule the plot shows: the first with a momentum, else the first."""
    return next((run for run in race.runs if run.step_momentum is not None), race.runs[0])


def schedule_figure(race, theme: str = "light") -> go.Figure:
    """lr(t), μ(t) and the effective step γ_t/(1 − μ_t) of :func:`schedule_run`, with a
    vertical marker (shape ``step-marker``) that the step scrubber moves
    (assets/schedule.js)."""
    run = schedule_run(race)
    steps = np.arange(len(run.step_lr))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=run.step_lr, name="lr γ_t", mode="lines"))
    if run.step_momentum is not None:
        fig.add_trace(go.Scatter(x=steps, y=run.step_momentum, name="μ_t", mode="lines",
                                 yaxis="y2", line={"dash": "dot"}))
        effective = run.step_lr / (1.0 - run.step_momentum)
        fig.add_trace(go.Scatter(x=steps, y=effective, name="γ_t/(1 − μ_t)", mode="lines",
                                 line={"dash": "dash"}))
    end = race.steps  # where the scrubber opens (assets/schedule.js moves it)
    fig.add_shape(type="line", x0=end, x1=end, y0=0, y1=1, yref="paper", name="step-marker",
                  line={"width": 1, "color": "gray"})
    fig.update_layout(**themed_layout(theme))
    fig.update_layout(margin={"l": 40, "r": 40, "t": 10, "b": 30}, showlegend=True,
                      legend={"orientation": "h", "y": -0.25},
                      yaxis={"title": None, "rangemode": "tozero"},
                      yaxis2={"overlaying": "y", "side": "right", "range": [0, 1],
                              "showgrid": False})
    return fig


def forms_readout(numbers: dict) -> list:
    """The equivalences written out with this race's measured largest differences."""
    if not numbers:
        return ["Race Momentum or Nesterov to compare the conventions."]
    name, beta, lr = numbers["optimizer"], numbers["beta"], numbers["lr"]
    lines = [f"{FORM_TEXT['pytorch']}; {FORM_TEXT['sutskever']}; {FORM_TEXT['ema']}.",
             f"{name}, this race: sutskever vs pytorch, largest difference "
             f"{numbers['sutskever']:.3g}"
             + (" (a constant lr: equal up to rounding)." if numbers["constant_lr"] else
                " (the lr changes: they part ways)."),
             f"ema at γ = {lr:g} vs pytorch at γ(1 − β) = {lr * (1 - beta):g}: "
             f"{numbers['ema']:.3g}."]
    if "dampening" in numbers:
        lines.append(f"pytorch with dampening = β = {beta:g} vs ema: {numbers['dampening']:.3g} "
                     "(not the EMA form: torch's first step is not damped).")
    return [html.Div(line) for line in lines]
