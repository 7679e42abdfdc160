r"""Guided races: the pages' claims as lessons whose numbers the engine computes live.

A :class:`Lesson` is a race's settings (a state, so a link ``?lesson=NAME``), a "try
this" prompt, and a text function of the *current* race: every number in the text is
computed from that race (its surface, steps and the runs' own hyperparameters) by the
engine, :mod:`optim_core.theory` and :mod:`optim_core.doctor`, never typed in. Where a
page's claim does not hold for its settings the text says what does (lesson 1's lr
0.08 is exactly 2/L; lesson 4's μ 0.99 does not diverge at lr 0.02).

Settings use the URL's names: ``surface``, ``optimizers``, ``lr``, ``momentum``,
``steps``, ``x0``, ``y0``, ``kappa``, ``noise``, ``batch_size``, ``points``, ``seed``,
and ``optimizer.param`` for one optimizer's own value (``sgd.lr``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import theory
from .analysis import leaderboard
from .doctor import diagnose, diagnose_run, fastest_momentum, fmt, overshoot
from .simulate import SHARED_HYPERPARAMETERS, Run, simulate
from .surfaces import get_surface

#: Lesson 3's momentum factors and the steps its table shows.
BETAS = (0.0, 0.5, 0.9, 0.99)
BETA_STEPS = (1, 5, 20)
#: Lesson 2's "just above" and "just below" the limit, as factors of 2/L.
NEAR_LIMIT = (0.975, 1.025)
#: Lesson 5: a run has escaped the saddle once its loss is halfway from the saddle's
#: value to the minimum's.
ESCAPE_FRACTION = 0.5
#: Lesson 8: the noise floor is the mean loss gap over this last fraction of the steps.
FLOOR_FRACTION = 0.25
#: Lesson 8: progress is the first step within this factor of the highest floor.
REACH_FACTOR = 2.0

SURFACE_KEYS = ("kappa", "points")


@dataclass(frozen=True)
class Lesson:
    name: str  # the slug of ?lesson=NAME
    title: str
    settings: dict  # the race, under the URL's names
    try_this: str  # a change to make and what to watch for
    text: Callable  # text(race) -> str, numbers computed from the race
    needs: tuple = ()  # the optimizers the text reads (it says so when one is missing)

    def text_for(self, race) -> str:
        """The text for ``race``, or what to race to read it: the current race may have
        left the lesson's surface or dropped an optimizer it reads."""
        surface = self.settings["surface"]
        if race.surface.name != surface:
            return f"This lesson's text is about the {surface} surface: race on it to read it."
        missing = [name for name in self.needs if name not in
                   {run.optimizer for run in race.runs}]
        if missing:
            return f"This lesson's text reads {' and '.join(missing)}: add it to the race."
        return self.text(race)


def race_of(settings: dict, **changes):
    """The race ``settings`` describe (with ``changes`` to its settings)."""
    settings = {**settings, **changes}
    own: dict = {}
    for key, value in settings.items():
        if "." in key:
            optimizer, param = key.split(".", 1)
            own.setdefault(optimizer, {})[param] = value
    runs = [Run(name, own.get(name, {})) for name in settings["optimizers"]]
    start = (settings["x0"], settings["y0"]) if "x0" in settings else None
    surface = get_surface(settings["surface"], seed=settings.get("seed", 0),
                          **{k: settings[k] for k in SURFACE_KEYS if k in settings})
    return simulate(surface, runs, steps=settings["steps"], start=start,
                    noise=settings.get("noise", 0.0), batch_size=settings.get("batch_size"),
                    seed=settings.get("seed", 0), lr=settings["lr"],
                    momentum=settings["momentum"])


def lesson_race(lesson: Lesson):
    return race_of(lesson.settings)


def lesson_text(lesson: Lesson, race=None) -> str:
    """The lesson's title, its text for ``race`` (default: its own) and its prompt."""
    race = lesson_race(lesson) if race is None else race
    return f"{lesson.title}\n\n{lesson.text_for(race)}\n\nTry this: {lesson.try_this}"


def _run(race, optimizer):
    return next(r for r in race.runs if r.optimizer == optimizer)


def _describe(run) -> str:
    h = run.hyperparameters
    said = f"lr {fmt(h['lr'])}"
    if h.get("momentum"):
        said += f", μ {fmt(h['momentum'])}"
    return f"{run.optimizer} ({said})"


def _predicted(run, surface) -> str:
    h = run.hyperparameters
    rate = theory.predicted_rate(run.optimizer, h["lr"], theory.curvature(surface).eigenvalues,
                                 h.get("momentum", 0.0), h.get("dampening", 0.0),
                                 h.get("weight_decay", 0.0))
    return "no predicted rate (theory covers sgd, momentum, nesterov)" if rate is None else (
        f"predicted rate {fmt(rate)} per step")


def _measured(run, surface) -> str:
    rate = theory.measured_rate(run.loss, surface.f_min)
    return "none" if rate is None else fmt(rate)


def _verdict(d) -> str:
    return d.verdict + ("" if d.step is None else f" at step {d.step}")


def _finals(race) -> str:
    doctor = diagnose(race)
    return "; ".join(f"{_describe(run)}: loss {fmt(run.final_loss)}, {_verdict(d)}"
                     for run, d in zip(race.runs, doctor, strict=True))


# --- the lessons' texts --------------------------------------------------------------------

def ravine_text(race) -> str:
    c = theory.curvature(race.surface)
    lines = [f"The ravine f = ½(x² + κy²) has Hessian diag({fmt(c.m)}, {fmt(c.L)}), "
             f"κ = {fmt(c.kappa)}. After {race.steps} steps: {_finals(race)}."]
    for run in race.runs:
        if run.optimizer == "sgd":
            factor = 1 - run.hyperparameters["lr"] * c.L
            lines.append(f"SGD multiplies the steep coordinate by 1 − lr·L = {fmt(factor)} "
                         "per step" + (": lr is exactly 2/L = "
                                       f"{fmt(2 / c.L)}, so its zig-zag across the ravine "
                                       "never shrinks and SGD never arrives."
                                       if abs(abs(factor) - 1) < 1e-9 else "."))
        else:
            lines.append(f"{_describe(run)}: {_predicted(run, race.surface)}, measured "
                         f"{_measured(run, race.surface)}.")
    return " ".join(lines)


def stable_lr_text(race) -> str:
    c = theory.curvature(race.surface)
    limit = theory.max_stable_lr("sgd", c.L)
    run = _run(race, "sgd")
    lr = run.hyperparameters["lr"]
    lines = [f"Gradient descent is stable while |1 − lr·L| < 1, that is lr < 2/L = "
             f"{fmt(limit)} (L = {fmt(c.L)}). At lr {fmt(lr)} ({fmt(lr / limit)} of it) the "
             f"steep coordinate is multiplied by {fmt(1 - lr * c.L)} per step: "
             f"{_verdict(diagnose_run(run, race))}."]
    factor = NEAR_LIMIT[1]
    above = race_of(_settings_of(race), **{"sgd.lr": factor * limit})
    lines.append(f"Just above, at {factor:g} × 2/L = {fmt(factor * limit)}: "
                 f"{_verdict(diagnose(above)[0])} (loss {fmt(above.runs[0].final_loss)} after "
                 f"{race.steps} steps).")
    return " ".join(lines)


def beta_text(race) -> str:
    run = race.runs[0]
    lr = run.hyperparameters["lr"]
    shown = [k for k in BETA_STEPS if k <= race.steps]
    rows = beta_table(race)
    head = "β     " + "".join(f"step {k:<8d}" for k in shown)
    table = "\n".join(f"{beta:<6g}" + "".join(f"{loss:<13.4g}" for loss in losses)
                      for beta, losses in rows.items())
    best = min(rows, key=lambda b: rows[b][-1])
    mu, rate = fastest_momentum("momentum", lr, race.surface)
    return (f"Heavy ball at lr {fmt(lr)} on the {race.surface.title.lower()}, loss at steps "
            f"{', '.join(map(str, shown))}:\n{head}\n{table}\n"
            f"Step 1 is the same for every β (torch's buffer starts as the first "
            f"gradient). At step {shown[-1]} β = {best:g} is best; theory's fastest β at this "
            f"lr is {fmt(mu)} (rate {fmt(rate)} per step), and β 0.99 has barely moved.")


def beta_table(race) -> dict:
    """{β: [loss at each of BETA_STEPS within the race]} for heavy ball at the race's lr."""
    run = race.runs[0]
    shown = [k for k in BETA_STEPS if k <= race.steps]
    rows = {}
    for beta in BETAS:
        other = simulate(race.surface, [Run("momentum", {"lr": run.hyperparameters["lr"],
                                                         "momentum": beta})],
                         steps=race.steps, start=run.start)
        rows[beta] = [float(other.runs[0].loss[k]) for k in shown]
    return rows


def high_momentum_text(race) -> str:
    c = theory.curvature(race.surface)
    run = _run(race, "momentum")
    lr, mu = run.hyperparameters["lr"], run.hyperparameters["momentum"]
    effective = theory.effective_lr(lr, mu)
    limit = theory.max_stable_lr("momentum", c.L, mu)
    d = diagnose_run(run, race)
    claim = ("and it diverges" if run.diverged_at is not None else
             "so it does not diverge: the limit bounds lr itself, not the effective lr "
             "against 2/L (the pages' claim does not hold for these settings)")
    return (f"With lr {fmt(lr)} and μ {fmt(mu)} the effective lr γ/(1 − μ) is {fmt(effective)}, "
            f"{fmt(effective * c.L / 2)} × gradient descent's limit 2/L = {fmt(2 / c.L)}; "
            f"heavy ball is stable up to 2(1 + μ)/L = {fmt(limit)}, and lr {fmt(lr)} is "
            f"{'above' if lr >= limit else 'below'} it, {claim}. The doctor: {_verdict(d)}; "
            f"it rings with rate √μ = {fmt(math.sqrt(mu))} per step (measured "
            f"{_measured(run, race.surface)}), loss "
            f"{fmt(run.final_loss)} after {race.steps} steps. It diverges once lr passes "
            f"{fmt(limit)}, or where the curvature is larger than L.")


def saddle_text(race) -> str:
    escapes = saddle_escapes(race)
    lines = [f"From ({fmt(race.runs[0].start[0])}, {fmt(race.runs[0].start[1])}), the "
             f"escape is the first step whose loss is below {fmt(escape_level(race))}, "
             "halfway from the saddle down to the minimum:"]
    for run in race.runs:
        d = diagnose_run(run, race)
        step = escapes[run.optimizer]
        lines.append(f"{_describe(run)} escapes at "
                     + (f"step {step}" if step is not None else f"no step of {race.steps}")
                     + f" ({_verdict(d)}" + (f"; {d.cause}" if d.verdict == "plateau" else "")
                     + ").")
    return " ".join(lines)


def escape_level(race) -> float:
    saddle = float(race.surface.value(0.0, 0.0))
    return saddle + ESCAPE_FRACTION * (race.surface.f_min - saddle)


def saddle_escapes(race) -> dict:
    """{optimizer: the first step below the escape level, or None}."""
    level = escape_level(race)
    return {run.optimizer: (int(np.argmax(run.loss < level)) if (run.loss < level).any()
                            else None) for run in race.runs}


def nesterov_text(race) -> str:
    parts = []
    for run in race.runs:
        parts.append(f"{_describe(run)} swings past the minimum by "
                     f"{fmt(overshoot(run, race.surface))} of its farthest distance along the "
                     f"slow direction ({_predicted(run, race.surface)}, final loss "
                     f"{fmt(run.final_loss)})")
    return ("Nesterov evaluates the gradient where momentum is taking it, so it brakes "
            "before the minimum: " + "; ".join(parts) + ".")


def polyak_text(race) -> str:
    c = theory.curvature(race.surface)
    best_lr, best_mu, best_rate = theory.polyak_optimum(c.L, c.m)
    gd_rate = (c.kappa - 1) / (c.kappa + 1)
    parts = [f"{_describe(run)}: {_predicted(run, race.surface)}, measured "
             f"{_measured(run, race.surface)}" for run in race.runs]
    return (f"κ = {fmt(c.kappa)}. Polyak's heavy ball, lr 4/(√L + √m)² = {fmt(best_lr)} and "
            f"μ ((√κ − 1)/(√κ + 1))² = {fmt(best_mu)}, reaches the rate (√κ − 1)/(√κ + 1) = "
            f"{fmt(best_rate)}; gradient descent at its best lr 2/(L + m) = "
            f"{fmt(2 / (c.L + c.m))} reaches (κ − 1)/(κ + 1) = {fmt(gd_rate)}. "
            + "; ".join(parts) + ". (At the optimum the two roots coincide, so the loss "
            "falls like k·ρ^k and the fit over a finite run reads a little above ρ.)")


def batch_variants(race) -> dict:
    """{(batch, lr): the race of SGD with that batch size and lr}: the race's own, twice
    the batch, twice the batch and the lr."""
    run = race.runs[0]
    batch, lr = race.batch_size, run.hyperparameters["lr"]
    out = {}
    for b, g in ((batch, lr), (2 * batch, lr), (2 * batch, 2 * lr)):
        out[(b, g)] = simulate(race.surface, [Run("sgd", {"lr": g})], steps=race.steps,
                               start=run.start, batch_size=b, seed=race.seed,
                               noise=race.noise)
    return out


def noise_floor(race) -> float:
    loss = race.runs[0].loss
    tail = loss[-max(1, int(FLOOR_FRACTION * len(loss))):]
    return float(np.mean(tail) - race.surface.f_min)


def reach_step(race, level: float) -> int | None:
    """The first step whose loss gap is at most ``level``, or None."""
    gap = race.runs[0].loss - race.surface.f_min
    return int(np.argmax(gap <= level)) if (gap <= level).any() else None


def batch_text(race) -> str:
    if race.batch_size is None or 2 * race.batch_size > race.surface.n_points:
        return (f"Set a batch size of at most half the {race.surface.n_points} points to "
                "compare it with twice that batch.")
    variants = batch_variants(race)
    floors = {key: noise_floor(other) for key, other in variants.items()}
    level = REACH_FACTOR * max(floors.values())
    parts = []
    for (b, g), other in variants.items():
        step = reach_step(other, level)
        reach = ("never" if step is None else
                 f"at step {step} ({step * b} samples)")
        parts.append(f"batch {b}, lr {fmt(g)}: noise floor {fmt(floors[(b, g)])}, gap "
                     f"{fmt(level)} reached {reach}")
    return (f"SGD on {race.surface.n_points} noisy points, mini-batches drawn epoch by epoch "
            f"(the floor: the mean loss gap over the last {100 * FLOOR_FRACTION:g}% of "
            f"{race.steps} steps): " + "; ".join(parts) + ". The gradient noise scales with "
            "lr/batch: doubling both keeps the floor and reaches the level in about half the "
            "steps, the same samples (the linear scaling rule); doubling the batch alone "
            "lowers the floor but takes about as many steps, twice the samples.")


def adam_text(race) -> str:
    summaries = leaderboard(race)
    parts = []
    for run, s, d in zip(race.runs, summaries, diagnose(race), strict=True):
        hit = "never" if s.steps_to_tolerance is None else f"at step {s.steps_to_tolerance}"
        parts.append(f"{_describe(run)}: loss {fmt(s.final_loss)}, within the tolerance "
                     f"{hit}, {_verdict(d)}")
    best = min(race.runs, key=lambda r: r.final_loss)
    return ("Adam divides each coordinate's step by its gradient's running size, so it "
            "crosses the flat valley floor at about lr per step, where momentum's steps "
            f"follow the gradient's size. After {race.steps} steps: " + "; ".join(parts)
            + f". Lower at the end: {best.optimizer}.")


def _settings_of(race) -> dict:
    """The race's settings back under the URL's names (each run's own lr and μ)."""
    settings = {"surface": race.surface.name, "optimizers": [r.optimizer for r in race.runs],
                "steps": race.steps, "lr": race.runs[0].hyperparameters["lr"],
                "momentum": race.runs[0].hyperparameters.get("momentum", 0.0),
                "x0": race.runs[0].start[0], "y0": race.runs[0].start[1], "seed": race.seed,
                "noise": race.noise, "batch_size": race.batch_size, "kappa": race.surface.kappa}
    if race.surface.points is not None:
        settings["points"] = race.surface.points
    for run in race.runs:
        for param in SHARED_HYPERPARAMETERS:
            if param in run.hyperparameters:
                settings[f"{run.optimizer}.{param}"] = run.hyperparameters[param]
    return settings


def _polyak_settings() -> dict:
    c = theory.curvature(get_surface("ravine"))
    best_lr, best_mu, _ = theory.polyak_optimum(c.L, c.m)
    return {"surface": "ravine", "kappa": 25.0, "optimizers": ["sgd", "momentum"],
            "lr": best_lr, "momentum": best_mu, "sgd.lr": 2 / (c.L + c.m), "steps": 100,
            "x0": 6.0, "y0": 6.0}


def _stable_lr_settings() -> dict:
    limit = theory.max_stable_lr("sgd", theory.curvature(get_surface("ravine")).L)
    return {"surface": "ravine", "kappa": 25.0, "optimizers": ["sgd"],
            "lr": NEAR_LIMIT[0] * limit, "momentum": 0.0, "steps": 100,
            "x0": 6.0, "y0": 6.0}


LESSONS = {lesson.name: lesson for lesson in (
    Lesson("ravine", "1. The ravine: gradient descent against momentum",
           {"surface": "ravine", "kappa": 25.0, "optimizers": ["sgd", "momentum"],
            "lr": 0.02, "momentum": 0.9, "sgd.lr": 0.08, "steps": 60, "x0": 6.0, "y0": 6.0},
           "lower SGD's lr a little below 2/L and watch its zig-zag die out; then give "
           "momentum a smaller μ and watch it stop ringing.", ravine_text),
    Lesson("stable-lr", "2. Pick the largest stable lr", _stable_lr_settings(),
           "drag SGD's lr up past 2/L: the doctor's verdict turns from oscillating to "
           "diverged, with the step the loss rose above its start.", stable_lr_text,
           needs=("sgd",)),
    Lesson("beta", "3. β sensitivity on the 5-point line fit",
           {"surface": "regression", "optimizers": ["momentum"], "lr": 0.1, "momentum": 0.9,
            "steps": 20},
           "set μ to each β of the table and compare the loss curve with its row; then "
           "halve lr and see which β wins now.", beta_text),
    Lesson("momentum-099", "4. \"Momentum 0.99 diverges\"",
           {"surface": "ravine", "kappa": 25.0, "optimizers": ["momentum"], "lr": 0.02,
            "momentum": 0.99, "steps": 200, "x0": 6.0, "y0": 6.0},
           "raise lr towards heavy ball's limit 2(1 + μ)/L and past it; then lower μ and "
           "watch the ringing stop.", high_momentum_text, needs=("momentum",)),
    Lesson("saddle", "5. Escaping a saddle",
           {"surface": "saddle", "optimizers": ["sgd", "momentum"], "lr": 0.01,
            "momentum": 0.9, "steps": 300},
           "move the start closer to the ridge (y nearer 0) and watch SGD's plateau grow "
           "while momentum still rolls through.", saddle_text),
    Lesson("nesterov", "6. Nesterov against momentum",
           {"surface": "ravine", "kappa": 25.0, "optimizers": ["momentum", "nesterov"],
            "lr": 0.02, "momentum": 0.9, "steps": 60, "x0": 6.0, "y0": 6.0},
           "raise μ towards 0.99: both overshoot more, Nesterov still less.", nesterov_text),
    Lesson("polyak", "7. Polyak's optimum", _polyak_settings(),
           "move μ or lr away from the optimum and watch the measured rate rise above "
           "(√κ − 1)/(√κ + 1); change κ and the optimum moves.", polyak_text),
    Lesson("batch", "8. Noise and batch size: the linear scaling rule",
           {"surface": "regression", "points": 100, "batch_size": 8, "optimizers": ["sgd"],
            "lr": 0.05, "momentum": 0.0, "steps": 400},
           "double the batch size and watch the loss curve's noise shrink; then double lr "
           "as well and watch the noise come back, with the progress per sample kept.",
           batch_text),
    Lesson("adam-rosenbrock", "9. Adam against SGD with momentum on Rosenbrock",
           {"surface": "rosenbrock", "optimizers": ["momentum", "adam"], "lr": 0.0015,
            "momentum": 0.9, "adam.lr": 0.05, "steps": 1000},
           "give Adam a ten times smaller lr, then momentum a larger one: which one breaks "
           "first, and how?", adam_text),
)}
