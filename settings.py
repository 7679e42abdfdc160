"""The race's settings: from controls or a URL, validated; to a URL; to a race.

No Dash here: the callbacks hand this module plain values and show what it says.
Every value is checked by optim_core's parameter table, so a message in the app reads
like the library's and the CLI's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, fields, replace
from urllib.parse import parse_qsl, urlencode

import numpy as np

import optim_core as oc
from optim_core.clipping import CLIP_DEFAULTS
from optim_core.expression import ExpressionError
from optim_core.lessons import LESSONS
from optim_core.optimizers import HYPERPARAMETERS, OPTIMIZER_NAMES
from optim_core.params import (
    CONSTRAINTS,
    LIMITS,
    SURFACE_NAMES,
    Boolean,
    Interval,
    InvalidParameterError,
    Options,
    Pair,
    check_race_work,
    check_sweep_work,
)
from optim_core.rules import check_batch_size, check_batch_table
from optim_core.schedules import SCHEDULER_PARAMETERS, SCHEDULERS, check_schedule, parameters_of
from optim_core.simulate import SHARED_HYPERPARAMETERS, evaluations_per_step, resolve_runs
from optim_core.surfaces import (  # Preset: settings' name for it
    Preset,
    check_window,
    covering,
    presets,
    regression_on_points,
)
from optim_core.userdata import DataError, Points, is_digest, parse_points

DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")


def _control_kind(constraint) -> str:
    """The kind of control a hyperparameter's constraint asks for (None allowed or not)."""
    inner = getattr(constraint, "inner", constraint)  # params.Optional: the value or None
    return {Interval: "number", Boolean: "bool", Options: "option", Pair: "pair"}[type(inner)]


#: The hyperparameters the advanced panel sets per optimizer ("momentum" is μ, β₁ for the
#: Adam family: a phase-diagram cell sets the swept optimizer's own lr and μ): every one
#: of the registry, each with the kind of its control (a number box, a checkbox, a
#: dropdown of options, a box for a pair "a,b"), so a new optimizer's appear with no edit
#: here.
OVERRIDE_KINDS = {name: _control_kind(CONSTRAINTS[name]) for name in HYPERPARAMETERS}
OVERRIDE_PARAMS = tuple(OVERRIDE_KINDS)
#: The race's own settings, under the names the URL, the CSV and the CLI share.
SCALARS = ("lr", "momentum", "steps", "x0", "y0", "kappa", "noise", "batch_size", "points",
           "seed")
#: The schedule panel's settings (torch's names, as the CLI and the CSV): the scheduler
#: and its parameters, the clipping, the momentum convention, and whether the race shows
#: the racers that take one in all three conventions. Kept in ``RaceSettings.training``
#: only where given (blank: the scheduler's own default).
MOMENTUM_FORMS = oc.params.CONSTRAINTS["momentum_form"].values
TRAINING = ("scheduler", *SCHEDULER_PARAMETERS, *CLIP_DEFAULTS, "momentum_form",
            "compare_forms")


#: Each named surface's first race lives in its entry in optim_core.surfaces (one place
#: per surface); the ravine's, rosenbrock's, saddle's and the line fit's show what
#: layouts/race.default_race_text says (tests/test_app_state.py checks it from the engine).
PRESETS = presets()
#: The typed surface opens with this f(x, y) and race (the app's own: the engine has no
#: first race for a formula it has not seen).
CUSTOM_F = "x^2 + 10*y^2 + 2*sin(x)*sin(y)"
PRESETS["custom"] = Preset(0.02, 0.8, 200, {"adam": {"lr": 0.1}, "adamw": {"lr": 0.1},
                                           "nadam": {"lr": 0.1}, "rmsprop": {"lr": 0.03},
                                           "adagrad": {"lr": 0.5}})


#: The loss plot's x axis (and what the leaderboard counts to the tolerance): steps, or
#: evaluations of f and ∇f (Trajectory.evals: L-BFGS makes several a step).
AXES = {"steps": "steps", "evals": "f, ∇f evaluations"}


@dataclass(frozen=True)
class RaceSettings:
    surface: str = "ravine"
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    lr: float = PRESETS["ravine"].lr
    momentum: float = PRESETS["ravine"].momentum
    steps: int = PRESETS["ravine"].steps
    x0: float | None = None  # None: the surface's default start
    y0: float | None = None
    kappa: float = 25.0
    noise: float = 0.0
    batch_size: int | None = None
    points: int | None = None
    seed: int = 0
    overrides: dict = field(default_factory=lambda: dict(PRESETS["ravine"].overrides))
    lesson: str | None = None  # the lesson whose text reads this race (optim_core.lessons)
    data: str | None = None  # the line fit on the user's points: their digest (kept_points)
    f: str | None = None  # custom: f(x, y) as typed
    window: tuple[float, float, float, float] | None = None  # custom: None, from f
    #: the schedule panel's values that differ from their defaults (see TRAINING)
    training: dict = field(default_factory=dict)
    axis: str = "steps"  # the loss plot's x and the leaderboard's "to tolerance": AXES

    def __post_init__(self):
        # one form for one meaning: no blank values, no optimizer with nothing set
        clean = {name: {k: v for k, v in values.items() if v is not None}
                 for name, values in (self.overrides or {}).items()}
        object.__setattr__(self, "overrides", {k: v for k, v in clean.items() if v})

    @classmethod
    def preset(cls, surface: str, optimizers=DEFAULT_OPTIMIZERS, seed: int = 0,
               noise: float = 0.0) -> RaceSettings:
        p = PRESETS[surface]
        return cls(surface=surface, optimizers=tuple(optimizers), lr=p.lr, momentum=p.momentum,
                   steps=p.steps, points=p.points, batch_size=p.batch_size, seed=seed,
                   noise=noise, overrides={k: dict(v) for k, v in p.overrides.items()},
                   f=CUSTOM_F if surface == "custom" else None)

    def surface_object(self) -> oc.Surface:
        if self.surface == "regression" and self.data is not None:
            return regression_on_points(*_user_points(self.data), kappa=self.kappa)
        if self.surface == "custom":
            surface = oc.get_surface("custom", kappa=self.kappa, f=self.f,
                                     window=None if self.window is None else tuple(self.window))
            return covering(surface, self.start(surface))  # a start typed off the map
        return oc.get_surface(self.surface, kappa=self.kappa, points=self.points,
                              seed=self.seed)

    def start(self, surface: oc.Surface) -> tuple[float, float]:
        default = surface.default_start
        return (default[0] if self.x0 is None else self.x0,
                default[1] if self.y0 is None else self.y0)

    def runs(self) -> list[oc.Run]:
        """The racers; with ``compare_forms``, each one that takes a momentum
        convention again in the other two (after the racers, so colours stay)."""
        runs = [oc.Run(name, {k: v for k, v in self.overrides.get(name, {}).items()
                              if k in oc.OPTIMIZERS[name].defaults})
                for name in self.optimizers]
        if self.training.get("compare_forms"):
            chosen = self.training.get("momentum_form", "pytorch")
            runs += [oc.Run(run.optimizer, {**run.hyperparameters, "momentum_form": form})
                     for run in list(runs) if "momentum_form" in
                     oc.OPTIMIZERS[run.optimizer].defaults
                     for form in MOMENTUM_FORMS if form != chosen]
        return runs

    def control_value(self, name: str):
        """What the control of setting ``name`` shows (a schedule panel box: its text,
        blank for the default)."""
        if name not in TRAINING:
            return getattr(self, name)
        value = self.training.get(name)
        if name == "compare_forms":
            return ["on"] if value else []
        if name in ("scheduler", "momentum_form"):
            return value or {"scheduler": "constant", "momentum_form": "pytorch"}[name]
        return None if value is None else training_text(value)

    def schedule_kwargs(self) -> dict:
        """simulate's keywords for the scheduler, its parameters and the clipping."""
        return {k: v for k, v in self.training.items() if k not in ("compare_forms",
                                                                    "momentum_form")}

    def simulate(self, state: bool = False) -> oc.Race:
        """The race these settings describe (the CLI gives the same numbers); ``state``:
        with each optimizer's state per step (what the export writes)."""
        surface = self.surface_object()
        shared = {"lr": self.lr, "momentum": self.momentum}
        if "momentum_form" in self.training:
            shared["momentum_form"] = self.training["momentum_form"]
        return oc.simulate(surface, self.runs(), steps=self.steps, start=self.start(surface),
                           noise=self.noise, batch_size=self.batch_size, seed=self.seed,
                           state=state, **shared, **self.schedule_kwargs())

    def structure(self, theme: str) -> str:
        """What the race map's traces are made of: equal structure, patchable figure."""
        return repr((self.surface, self.kappa, self.points,
                     self.seed if self.points is not None else 0, self.optimizers, theme,
                     self.data, self.f, self.window,
                     # the conventions compared are racers of their own
                     self.training.get("compare_forms", False), self.axis))

    def to_dict(self) -> dict:
        """The race store's form; ``settings_from_state`` reads it back, checked."""
        return asdict(self) | {"optimizers": list(self.optimizers),
                               "window": window_text(self.window),
                               "training": {k: list(v) if isinstance(v, tuple) else v
                                            for k, v in self.training.items()}}

    def cli_args(self) -> list[str]:
        """The ``python -m optim_core run`` arguments that write this race's CSV, byte for
        byte the app's export (the file name included)."""
        surface = self.surface_object()
        args = ["run", "--surface", self.surface, "--optimizer", ",".join(self.optimizers),
                "--steps", str(self.steps), "--lr", _text(self.lr), "--state"]
        if self.f is not None:
            args += ["--f", self.f]
        if self.window is not None:
            args += ["--window", *(_text(float(v)) for v in self.window)]
        if any("momentum" in oc.OPTIMIZERS[name].defaults for name in self.optimizers):
            args += ["--momentum", _text(self.momentum)]
        if self.x0 is not None or self.y0 is not None:
            args += ["--start", *(_text(float(v)) for v in self.start(surface))]
        if self.surface == "ravine" and self.kappa != RaceSettings.kappa:
            args += ["--kappa", _text(self.kappa)]
        if self.points is not None:
            args += ["--points", str(self.points)]
        if self.data is not None:
            args += ["--data", points_file_name(self.data)]
        if self.batch_size is not None:
            args += ["--batch-size", str(self.batch_size)]
        if self.noise:
            args += ["--noise", _text(self.noise)]
        if self.seed:
            args += ["--seed", str(self.seed)]
        for run in self.runs()[:len(self.optimizers)]:  # the compared forms have no flag
            for param, value in run.hyperparameters.items():
                args += ["--set", f"{run.optimizer}.{param}={override_text(value)}"]
        for name, value in self.training.items():
            if name == "compare_forms":
                continue
            if isinstance(value, bool):  # --three-phase, --no-cycle-momentum
                args += [f"--{'' if value else 'no-'}{name.lower().replace('_', '-')}"]
            else:
                args += [f"--{name.lower().replace('_', '-')}", training_text(value)]
        return [*args, "--out", self.export_name()]

    def export_name(self) -> str:
        return f"optimizer-race-{self.surface}.csv"

    def to_query(self) -> str:
        """The URL query: the surface, the optimizers, lr, momentum, steps and every racing
        optimizer's own values (``adam.lr=0.5``) always, so the link says what runs; any
        other setting where it differs from the surface's preset (``adam.lr=`` where the
        preset's own lr was dropped)."""
        if self.lesson is not None and self == lesson_settings(self.lesson):
            return "?" + urlencode([("lesson", self.lesson)])  # the lesson's own link
        preset = RaceSettings.preset(self.surface)
        pairs = [("surface", self.surface), ("optimizers", ",".join(self.optimizers))]
        for name in SCALARS:
            value = getattr(self, name)
            if name in ("lr", "momentum", "steps") or value != getattr(preset, name):
                pairs.append((name, "" if value is None else _text(value)))
        if self.data is not None:
            pairs.append(("data", self.data))
        if self.f is not None:
            pairs.append(("f", self.f))
        if self.window is not None:
            pairs.append(("window", window_text(self.window)))
        for optimizer in OPTIMIZER_NAMES:
            mine = self.overrides.get(optimizer, {})
            for param in OVERRIDE_PARAMS:
                value = mine.get(param)
                racing = optimizer in self.optimizers and value is not None
                if racing or value != preset.overrides.get(optimizer, {}).get(param):
                    pairs.append((f"{optimizer}.{param}",
                                  "" if value is None else override_text(value)))
        pairs += [(name, training_text(value)) for name, value in self.training.items()]
        if self.lesson is not None:
            pairs.append(("lesson", self.lesson))
        if self.axis != RaceSettings.axis:
            pairs.append(("axis", self.axis))
        return "?" + urlencode(pairs, safe=",")


#: The fields of the race store (RaceSettings.to_dict).
STORED_FIELDS = frozenset(f.name for f in fields(RaceSettings))


def _text(value) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def training_text(value) -> str:
    """A schedule panel value as the URL, the CLI and its box write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return _text(value)


def parse_training(values: dict, steps) -> tuple[dict, dict[str, str]]:
    """(the schedule panel's settings, a message per bad control) from its controls'
    values (text, numbers, bools; blank: default). Only the picked scheduler's own
    parameters count: the others keep their boxes for when it is picked again."""
    scheduler = values.get("scheduler") or "constant"
    given = {}
    for name in TRAINING:
        value = values.get(name)
        if name == "compare_forms" and isinstance(value, list):
            value = bool(value)
        if isinstance(value, str):
            value = {"true": True, "false": False}.get(value.strip().lower(), value)
            value = _number(value) if not isinstance(value, bool) else value
        if value is None or value == "":
            continue
        if name in SCHEDULER_PARAMETERS and name not in parameters_of(scheduler):
            continue
        given[name] = value
    errors: dict[str, str] = {}
    training = {}
    schedule = {k: v for k, v in given.items() if k in SCHEDULER_PARAMETERS}
    try:
        values_all = check_schedule("the race", scheduler, schedule,
                                    steps if isinstance(steps, int) else 1)
        if scheduler != "constant":
            training["scheduler"] = scheduler
        own_defaults = SCHEDULERS[scheduler].defaults  # one form per meaning: no defaults
        training.update({k: values_all[k] for k in schedule if values_all[k] != own_defaults[k]})
    except InvalidParameterError as error:
        errors[error.parameter] = _message(error)
    others = {k: v for k, v in given.items() if k not in SCHEDULER_PARAMETERS
              and k != "scheduler"}
    clean, bad = oc.validate("the race", {k: v for k, v in others.items()
                                         if k != "compare_forms"})
    errors.update({name: _message(error) for name, error in bad.items()})
    defaults = {**CLIP_DEFAULTS, "momentum_form": "pytorch"}
    training.update({k: v for k, v in clean.items() if v != defaults.get(k)})
    if others.get("compare_forms") is True:
        training["compare_forms"] = True
    return training, errors


def override_text(value) -> str:
    """A hyperparameter as the URL and the CLI's ``--set`` write it (``adam.amsgrad=true``,
    ``rprop.etas=0.3,1.5``, ``lbfgs.line_search_fn=strong_wolfe``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(_text(float(v)) for v in value)
    return _text(value)


def parse_override(optimizer: str, param: str, raw) -> tuple[object, str | None]:
    """(value, None) for one of ``optimizer``'s own values as a control, the store or the
    URL holds it (a bool or "true"/"false"; "0.3,1.5", "0.3 1.5" or two numbers; an
    option's name; a number or its text); (None, message) for a bad one; (None, None)
    for nothing of its own (blank, or a box left at torch's default)."""
    kind = OVERRIDE_KINDS[param]
    value = raw.strip() if isinstance(raw, str) else raw
    if kind == "bool" and isinstance(value, str):
        value = {"true": True, "false": False}.get(value.lower(), value)
    elif kind == "pair" and isinstance(value, (str, list, tuple)):
        parts = value.replace(",", " ").split() if isinstance(value, str) else value
        value = tuple(_number(part) for part in parts) or None
    elif kind != "option":
        value = _number(value)
    if value is None or value == "":
        return None, None
    ok, bad = oc.validate(optimizer, {param: value})
    if bad:
        return None, _message(bad[param])
    if kind == "bool" and ok[param] == oc.OPTIMIZERS[optimizer].defaults.get(param):
        return None, None  # an unticked box where torch's default is False: not its own
    return ok[param], None


# --- the line fit on the user's points, kept by digest ------------------------------------

#: how long the store keeps a dataset after it was last used (a link to it works as long)
POINTS_TTL_S = 30 * 24 * 3600
POINTS_KEY = "optimizer-race-points:"


class _MemoryStore:
    """Where points are kept when no shared store is set (the library, tests): a few,
    in this process."""

    def __init__(self, size: int = 64):
        self.size, self.items = size, {}

    def keep(self, key: str, text: str, ttl: float) -> None:
        self.items.pop(key, None)
        self.items[key] = text
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))

    def fetch(self, key: str) -> str | None:
        return self.items.get(key)


_STORE = {"points": _MemoryStore()}


def use_points_store(store) -> None:
    """Keep the users' points in ``store`` (``keep(key, text, ttl)``, ``fetch(key)``): the
    app gives the background jobs' store (callbacks/jobs.py), which every worker shares,
    so a link with points opens on any worker of the deployment."""
    _STORE["points"] = store
    _points_by_digest.cache_clear()


def keep_points(data: str | bytes) -> Points:
    """Parse a user's CSV (DataError if it is not one) and keep its points by digest."""
    points = parse_points(data)
    _STORE["points"].keep(POINTS_KEY + points.digest, points.to_csv(), POINTS_TTL_S)
    return points


class _NotKept(LookupError):
    pass


@functools.lru_cache(maxsize=32)
def _points_by_digest(digest: str) -> Points:
    # content-addressed, so caching in the process is safe: a digest names one dataset;
    # a miss raises, and is not cached (the points may be kept later)
    text = _STORE["points"].fetch(POINTS_KEY + digest)
    try:
        points = parse_points(text) if text is not None else None
    except DataError:
        points = None
    if points is None or points.digest != digest:
        raise _NotKept(digest)
    return points


def stored_points(digest) -> Points | None:
    """The kept points of ``digest``, or None (not a digest, expired or never kept)."""
    if not is_digest(digest):
        return None
    try:
        return _points_by_digest(digest)
    except _NotKept:
        return None


def _user_points(digest: str) -> tuple:
    points = stored_points(digest)
    if points is None:
        raise DataError("these points are no longer kept on this server", row=None, got=digest)
    return points.x, points.y, points.digest


def with_kept_points(settings: RaceSettings, digest) -> RaceSettings:
    """A line fit's preset on the user's points ``digest`` if they are kept (generated
    points and the preset's batch size are for the generated data)."""
    if settings.surface != "regression" or stored_points(digest) is None:
        return settings
    return replace(settings, data=digest, points=None, batch_size=None)


def points_file_name(digest: str) -> str:
    """The file the points download as (and the CLI command's ``--data`` names)."""
    return f"optimizer-race-points-{digest[:8]}.csv"


# --- the typed surface: f(x, y) and its window ----------------------------------------------

def window_text(window) -> str | None:
    """The window as its box shows it: "x_min, x_max, y_min, y_max" (None: from f)."""
    return None if window is None else ", ".join(_text(float(v)) for v in window)


def _window(value):
    """(window or None, message or None) from the window box: blank is None (the default
    from f), else four numbers, checked by the engine."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, str):
        parts = value.replace(";", ",").replace(",", " ").split()
        value = [_number(part) for part in parts]
    try:
        return check_window(value, "the window"), None
    except InvalidParameterError as error:
        return None, _message(error)


def custom_placeholders(f, window, x0, y0) -> dict[str, str] | None:
    """What the start and window boxes show when blank, for f(x, y) as typed (None
    while f or the window is bad: the race callback names the error): the default start
    and the window the map then uses."""
    window, message = _window(window)
    if message or not isinstance(f, str):
        return None
    try:
        surface = oc.get_surface("custom", f=f, window=window)
    except (ExpressionError, InvalidParameterError):
        return None
    typed = [_number(v) for v in (x0, y0)]
    start = [t if isinstance(t, (int, float)) and math.isfinite(t) else d
             for t, d in zip(typed, surface.default_start, strict=True)]
    (wx0, wx1), (wy0, wy1) = covering(surface, start).window
    return {"x0": f"{surface.default_start[0]:g}", "y0": f"{surface.default_start[1]:g}",
            "window": f"from f: {wx0:.3g}, {wx1:.3g}, {wy0:.3g}, {wy1:.3g}"}


def _custom_errors(f, window) -> dict[str, str]:
    """The messages for a typed f(x, y) and its window: the engine's, naming what is
    wrong and where (its column)."""
    try:
        oc.get_surface("custom", f=f, window=window)
    except ExpressionError as error:
        return {"f": f"{error.reason[:1].upper()}{error.reason[1:]}."}
    except InvalidParameterError as error:
        return {"window" if error.parameter == "window" else "f": _message(error)}
    return {}


def _message(error: InvalidParameterError) -> str:
    """The library's message, shortened for a line under a control."""
    if error.allowed:
        return f"Must be {error.allowed}; got {_show(error.got)}."
    return str(error)


def _show(value) -> str:
    if value is None or value == "":
        return "nothing"
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _number(value):
    """A control's number: numbers pass through, numeric text is parsed (integer text as
    an int, so a message shows ``2.5`` or ``100000`` as typed), blank is None, else the
    text as is (and its message quotes it)."""
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-")  # a typographic minus
        return _parse_number(text) if text else None
    return value


#: The lr slider moves in log10 units over this range; the μ slider in μ over this one.
SLIDER_RANGES = {"lr": (-5.0, 1.0), "momentum": (0.0, 0.999)}


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def from_slider(name: str, position) -> float | None:
    """The value a slider position stands for, as its number box shows it (lr to 3
    significant digits, μ to 3 decimals); None for a position no slider can have."""
    if not _finite(position):
        return None
    if name == "lr":
        return float(f"{10.0 ** position:.3g}")
    return float(f"{position:.3f}")


def slider_position(name: str, value) -> float | None:
    """Where the slider of ``name`` shows ``value`` (clipped to its range: lr 0 at the log
    slider's low end); None when the value is not one a slider can show (the number box
    then shows a message)."""
    number = _number(value)
    if not _finite(number) or number < 0:
        return None
    low, high = SLIDER_RANGES[name]
    if name == "lr":
        return low if number == 0 else min(high, max(low, math.log10(number)))
    return min(high, max(low, float(number)))


def pair_sliders(values: dict, sliders: dict, moved: set) -> tuple[dict, dict, dict]:
    """lr and μ each have a slider and a number box; one callback keeps them together.

    ``values`` holds the boxes' values, ``sliders`` the sliders' positions, ``moved`` the
    names whose slider (and not whose box) the user just moved. Returns the values to race
    with, and the boxes and sliders to update: a moved slider writes its number, a typed
    number (used exactly) moves its slider."""
    values, boxes, positions = dict(values), {}, {}
    for name in SLIDER_RANGES:
        if name in moved and (value := from_slider(name, sliders.get(name))) is not None:
            values[name] = boxes[name] = value
            continue
        position = slider_position(name, values.get(name))
        current = sliders.get(name)
        if position is not None and not (_finite(current) and abs(position - current) < 1e-9):
            positions[name] = position
    return values, boxes, positions


def override_values(stored) -> dict:
    """{optimizer: {param: value}} from the overrides store (anything else in it is
    skipped: it can only come from a crafted request)."""
    if not isinstance(stored, dict):
        return {}
    return {optimizer: {param: value for param, value in params.items()
                        if isinstance(param, str)}
            for optimizer, params in stored.items()
            if isinstance(optimizer, str) and isinstance(params, dict)}


def own_lrs(stored, optimizers) -> dict:
    """{optimizer: its own lr} for the racing ``optimizers`` that have a valid one in the
    overrides store (typed text included)."""
    overrides = override_values(stored)
    own = {}
    for name in optimizers if isinstance(optimizers, (list, tuple)) else ():
        lr = _number(overrides.get(name, {}).get("lr")) if isinstance(name, str) else None
        if _finite(lr) and lr >= 0:
            own[name] = float(lr)
    return own


def without_override(stored, optimizer: str, param: str) -> dict:
    """The overrides store's values with ``optimizer``'s own ``param`` cleared."""
    kept = override_values(stored)
    rest = {k: v for k, v in kept.pop(optimizer, {}).items() if k != param}
    return kept | ({optimizer: rest} if rest else {})


def with_own(stored, optimizer: str, values: dict) -> dict:
    """The overrides store's values with ``optimizer``'s own ``values`` set."""
    kept = override_values(stored)
    return kept | {optimizer: {**kept.get(optimizer, {}), **values}}


def parse_controls(values: dict) -> tuple[RaceSettings | None, dict[str, str]]:
    """Settings from the controls' values, or None and a message per bad control.

    ``values`` holds surface, optimizers, the SCALARS, and ``overrides`` as
    {optimizer: {param: value or None}}. Blank x0/y0/batch_size/points mean default.
    """
    errors: dict[str, str] = {}
    surface = values.get("surface")
    if surface not in SURFACE_NAMES:
        errors["surface"] = f"Must be one of {', '.join(SURFACE_NAMES)}; got {_show(surface)}."
    optimizers = values.get("optimizers")
    if not isinstance(optimizers, (list, tuple)) or not optimizers:
        errors["optimizers"] = "Choose at least one optimizer."
    elif any(o not in OPTIMIZER_NAMES for o in optimizers):
        errors["optimizers"] = f"Must be among {', '.join(OPTIMIZER_NAMES)}."
    lesson = values.get("lesson") or None
    if lesson is not None and not (isinstance(lesson, str) and lesson in LESSONS):
        errors["lesson"] = f"Must be one of {', '.join(LESSONS)}; got {_show(lesson)}."
    axis = values.get("axis") or RaceSettings.axis
    if axis not in AXES:
        errors["axis"] = f"Must be one of {', '.join(AXES)}; got {_show(axis)}."
    scalars = {name: _number(values.get(name)) for name in SCALARS}
    optional = ("x0", "y0", "batch_size", "points")
    checked = {k: v for k, v in scalars.items() if not (k in optional and v is None)}
    clean, bad = oc.validate("the race", checked)
    for name, error in bad.items():
        errors[name] = _message(error)
    f = window = None
    if surface == "custom":
        f = values.get("f")
        window, window_error = _window(values.get("window"))
        if window_error:
            errors["window"] = window_error
        else:
            errors.update(_custom_errors(f, window))
    data = values.get("data") or None
    if surface != "regression":
        data = None  # kept by its control for when the line fit is picked again
    elif data is not None:
        if stored_points(data) is None:
            errors["data"] = (f"Your points are no longer kept on this server (they are kept "
                              f"{POINTS_TTL_S // 86400} days after their last use): upload "
                              "them again." if is_digest(data)
                              else f"Not the name of kept points; got {_show(data)}.")
        elif scalars.get("points") is not None:
            errors["points"] = ("Your own points are in use: remove them (Your points, "
                                "below) to generate points.")
    overrides: dict = {}
    for optimizer, params in (values.get("overrides") or {}).items():
        if optimizer not in OPTIMIZER_NAMES or not isinstance(params, dict):
            continue
        for param, value in params.items():
            if param not in OVERRIDE_PARAMS:
                continue
            value, error = parse_override(optimizer, param, value)
            if error:
                errors[f"{optimizer}.{param}"] = error
            elif value is not None:
                overrides.setdefault(optimizer, {})[param] = value
    # the panel's controls, or the race store's ``training`` (its values, checked again)
    stored = values.get("training")
    training, training_errors = parse_training(
        stored if isinstance(stored, dict) else values, scalars.get("steps"))
    errors.update(training_errors)
    if errors:
        return None, errors
    settings = RaceSettings(
        surface=surface, optimizers=tuple(o for o in OPTIMIZER_NAMES if o in optimizers),
        lr=clean["lr"], momentum=clean["momentum"], steps=clean["steps"],
        x0=clean.get("x0"), y0=clean.get("y0"), kappa=clean["kappa"], noise=clean["noise"],
        batch_size=clean.get("batch_size"), points=clean.get("points"), seed=clean["seed"],
        overrides=overrides, lesson=lesson, data=data, f=f, window=window,
        training=training, axis=axis)
    return _cross_check(settings)


def _cross_check(settings: RaceSettings) -> tuple[RaceSettings | None, dict[str, str]]:
    """Rules between settings, worded for the control that can fix them."""
    try:  # the engine's rules (optim_core.rules), mapped to the control they name
        check_batch_size(settings.surface_object(), settings.batch_size, "the race")
    except InvalidParameterError as error:
        return None, {error.parameter: _message(error)}
    try:
        check_batch_table(settings.steps, settings.batch_size, "the race")
    except InvalidParameterError:  # worded for the two controls that can fix it
        entries, batch, steps = LIMITS["batch_entries"], settings.batch_size, settings.steps
        rule = f"batch size × (steps + 1) ≤ {entries:,}: the mini-batches are drawn ahead"
        return None, {"batch_size": f"At most {entries // (steps + 1):,} with {steps:,} "
                                    f"steps ({rule}).",
                      "steps": f"At most {entries // batch - 1:,} with batch size {batch:,} "
                               f"({rule})."}
    try:  # each optimizer's values as the engine will resolve them (nesterov's μ, ...)
        runs = resolve_runs(settings.runs(), {"lr": settings.lr,
                                              "momentum": settings.momentum}, (0.0, 0.0))
        check_race_work("the race", evaluations_per_step(runs), settings.steps,
                        settings.surface_object().n_points, settings.batch_size)
    except InvalidParameterError as error:
        return None, {error.parameter: _message(error)}
    return settings, {}


def settings_from_state(state) -> tuple[RaceSettings | None, dict[str, str]]:
    """The race settings in the race's store, checked as the controls' values are.

    The store comes back from the browser, so what a request rebuilds from it (the CSV
    export, a sweep) gets the race's validation and limits, never trust."""
    data = state.get("settings") if isinstance(state, dict) else None
    if not isinstance(data, dict):
        return None, {"race": "No race is drawn."}
    return parse_controls({**data, "overrides": override_values(data.get("overrides"))})


MAX_URL_NOTES = 6


def from_query(query: str) -> tuple[RaceSettings, list[str]]:
    """Settings from a URL query; a bad or unknown value falls back, with a note."""
    pairs = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    notes = view_notes(pairs)
    lesson = pairs.pop("lesson", None)
    if lesson is not None and lesson not in LESSONS:
        notes.append(f"lesson={_show(lesson)} is not a lesson; the lessons are "
                     f"{', '.join(LESSONS)}.")
        lesson = None
    if lesson is not None and not pairs:  # ?lesson=NAME: the lesson's race
        return lesson_settings(lesson), notes
    axis = pairs.pop("axis", RaceSettings.axis)
    if axis not in AXES:
        notes.append(f"Ignored axis={_show(axis)}: must be one of {', '.join(AXES)}.")
        axis = RaceSettings.axis
    surface = pairs.pop("surface", "ravine")
    data = pairs.pop("data", None)
    f, window = pairs.pop("f", None), pairs.pop("window", None)
    batch_given = "batch_size" in pairs  # else the preset's is for the generated points
    if surface not in SURFACE_NAMES:
        notes.append(f"surface={_show(surface)} is not a surface; showing ravine.")
        surface = "ravine"
    base = RaceSettings.preset(surface)
    optimizers = base.optimizers
    if "optimizers" in pairs:
        names = [n for n in pairs.pop("optimizers").split(",") if n]
        unknown = [n for n in names if n not in OPTIMIZER_NAMES]
        if unknown:
            notes.append(f"Ignored unknown optimizers: {_show(','.join(unknown))}.")
        known = tuple(n for n in OPTIMIZER_NAMES if n in names)
        if known:
            optimizers = known
        else:
            notes.append("No known optimizer in the URL; showing the default four.")
    values = {name: getattr(base, name) for name in SCALARS}
    for name in SCALARS:
        if name not in pairs:
            continue
        text = pairs.pop(name)
        if text == "" and name in ("x0", "y0", "batch_size", "points"):
            values[name] = None
            continue
        clean, bad = oc.validate("the URL", {name: _parse_number(text)})
        if bad:
            notes.append(f"Ignored {name}={_show(text)}: {_message(bad[name])} Using "
                         f"{values[name]!r}.")
        else:
            values[name] = clean[name]
    given = {name: pairs.pop(name) for name in TRAINING if name in pairs}
    training, bad_training = parse_training(given, values["steps"])
    notes.extend(f"Ignored {name}={_show(given.get(name))}: {message}"
                 for name, message in bad_training.items())
    if bad_training:  # the schedule's parameters go together: none of a bad one
        training = {}
    overrides = {k: dict(v) for k, v in base.overrides.items()}
    for key in [k for k in pairs if "." in k]:
        optimizer, _, param = key.partition(".")
        text = pairs.pop(key)
        if optimizer not in OPTIMIZER_NAMES or param not in OVERRIDE_PARAMS:
            notes.append(f"Ignored unknown setting {_show(key)}.")
            continue
        value, error = parse_override(optimizer, param, text)
        if error:
            notes.append(f"Ignored {key}={_show(text)}: {error}")
        elif value is None:  # blank (or a switch at its default): torch's default
            overrides.get(optimizer, {}).pop(param, None)
        else:
            overrides.setdefault(optimizer, {})[param] = value
    for key in pairs:
        notes.append(f"Ignored unknown setting {_show(key)}.")
    settings = replace(base, optimizers=optimizers, overrides=overrides, lesson=lesson,
                       training=training, axis=axis, **values)
    if surface == "custom":
        settings = replace(settings, **_custom_from_query(f, window, notes))
    elif f is not None or window is not None:
        notes.append("Ignored f and window: they are for surface=custom.")
    if data:
        if surface != "regression":
            notes.append(f"Ignored data={_show(data)}: your own points are for the line fit.")
        elif stored_points(data) is None:
            notes.append(f"The link's points (data={_show(data)}) are no longer kept on "
                         "this server; showing generated points. Upload them again.")
        else:
            settings = replace(settings, data=data, points=None,
                               batch_size=settings.batch_size if batch_given else None)
    checked, errors = _cross_check(settings)
    if checked is None:
        notes.extend(f"Ignored {name} from the URL: {message}" for name, message in
                     errors.items())
        settings = replace(RaceSettings.preset(surface), optimizers=optimizers, lesson=lesson,
                           axis=axis)
    step = _step(dict(parse_qsl(query.lstrip("?"))).get("step", ""))
    if step is not None and step > settings.steps:
        notes.append(f"step={step} is past the race's {settings.steps} steps; showing the "
                     "end.")
    if len(notes) > MAX_URL_NOTES:  # a link's text is shown back to whoever opens it
        notes = [*notes[:MAX_URL_NOTES], f"({len(notes) - MAX_URL_NOTES} more not shown.)"]
    return settings, notes


def _custom_from_query(f, window, notes: list) -> dict:
    """A link's f(x, y) and window, each falling back (with a note) when bad."""
    f = CUSTOM_F if f is None else f
    errors = _custom_errors(f, None)
    if errors:
        notes.append(f"Ignored f={_show(f)}: {errors['f']} Showing f(x, y) = {CUSTOM_F}.")
        f = CUSTOM_F
    checked, message = _window(window)
    if not message:
        message = _custom_errors(f, checked).get("window")
    if message:
        notes.append(f"Ignored window={_show(window)}: {message}")
        checked = None
    return {"f": f, "window": checked}


def _parse_number(text: str):
    """``text`` as an int (integer text) or a float; text that is no number, as is."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        and math.isfinite(value) else value


#: What a phase diagram's cells depend on besides their (lr, μ): the race's settings and
#: the swept optimizer's own other hyperparameters ("own.<param>").
SWEEP_CONTEXT = ("surface", "kappa", "points", "seed", "noise", "batch_size", "x0", "y0")
#: How far the default lr range reaches either side of the swept optimizer's lr.
SWEEP_LR_DECADES = 2.0
#: The μ range a sweep takes when none is typed: the μ slider's.
MOMENTUM_RANGE = SLIDER_RANGES["momentum"]


def own_values(race: RaceSettings, optimizer: str) -> dict:
    """The lr and μ ``optimizer`` races with: its own, else the sliders' (μ only if it
    takes one)."""
    own = race.overrides.get(optimizer, {})
    values = {"lr": own.get("lr", race.lr)}
    if "momentum" in oc.OPTIMIZERS[optimizer].defaults:
        values["momentum"] = own.get("momentum", race.momentum)
    return values


def sweep_context(race: RaceSettings, optimizer: str) -> dict:
    """What a sweep of ``optimizer`` from ``race`` depends on, as {name: value}."""
    own = {f"own.{k}": list(v) if isinstance(v, tuple) else v  # a pair as its JSON
           for k, v in race.overrides.get(optimizer, {}).items() if k not in SHARED_HYPERPARAMETERS}
    return {name: getattr(race, name) for name in SWEEP_CONTEXT} | own


def stale_reasons(drawn: dict, race: RaceSettings, optimizer: str) -> list[str]:
    """Why a diagram drawn with context ``drawn`` does not describe ``race``: one
    "name: drawn → now" per difference (empty: it still does)."""
    now = sweep_context(race, optimizer)
    return [f"{name} {_show(drawn.get(name))} → {_show(now.get(name))}"
            for name in sorted(set(drawn) | set(now)) if drawn.get(name) != now.get(name)]


def default_lr_range(race: RaceSettings, optimizer: str) -> tuple[float, float]:
    """The lr range a sweep takes when none is typed: centred (log scale) on the lr the
    optimizer races with, so Adam's good region is not at an edge of SGD's range (at lr
    0, the surface's default range)."""
    lr = own_values(race, optimizer)["lr"]
    if lr <= 0:
        return race.surface_object().lr_range
    spread = 10.0 ** SWEEP_LR_DECADES
    return (float(f"{lr / spread:.3g}"), float(f"{lr * spread:.3g}"))


@dataclass(frozen=True)
class SweepSettings:
    """A phase diagram: one optimizer over (lr, μ), everything else from the race."""

    race: RaceSettings
    optimizer: str = "momentum"
    resolution: int = 128
    steps: int = 500
    lr_min: float | None = None  # None: default_lr_range
    lr_max: float | None = None
    momentum_min: float = MOMENTUM_RANGE[0]
    momentum_max: float = MOMENTUM_RANGE[1]

    def lr_range(self) -> tuple[float, float]:
        low, high = default_lr_range(self.race, self.optimizer)
        return (low if self.lr_min is None else self.lr_min,
                high if self.lr_max is None else self.lr_max)

    def run(self, progress=None):
        from optim_core.sweep import sweep

        race = self.race
        surface = race.surface_object()
        fixed = {k: v for k, v in race.overrides.get(self.optimizer, {}).items()
                 if k not in SHARED_HYPERPARAMETERS and k in oc.OPTIMIZERS[self.optimizer].defaults}
        return sweep(surface, self.optimizer, steps=self.steps, resolution=self.resolution,
                     lr_range=self.lr_range(),
                     momentum_range=(self.momentum_min, self.momentum_max),
                     start=race.start(surface), noise=race.noise, batch_size=race.batch_size,
                     seed=race.seed, progress=progress, **fixed)

    def context(self) -> dict:
        return sweep_context(self.race, self.optimizer)

    def to_dict(self) -> dict:
        return {"race": self.race.to_dict(), "optimizer": self.optimizer,
                "resolution": self.resolution, "steps": self.steps, "lr_min": self.lr_min,
                "lr_max": self.lr_max, "momentum_min": self.momentum_min,
                "momentum_max": self.momentum_max}


SWEEP_INPUTS = ("lr_min", "lr_max", "momentum_min", "momentum_max")


def parse_sweep(race_state: dict | None, optimizer, resolution, steps, ranges: dict):
    """SweepSettings from the sweep's controls and the race, or None and messages; a
    sweep past the work limit is refused here, before any job starts.

    ``ranges`` holds the typed lr_min, lr_max, momentum_min, momentum_max (text or
    numbers; blank: the default). Blank steps: the race's (at most the sweep's limit)."""
    race, errors = settings_from_state(race_state)
    if race is None:
        return None, {"race": "Draw a race first: the sweep uses its surface and start."
                      if "race" in errors else "Fix the race's settings first."}
    if optimizer not in OPTIMIZER_NAMES:
        errors["optimizer"] = f"Must be one of {', '.join(OPTIMIZER_NAMES)}."
    steps = _number(steps)
    values = {"resolution": _number(resolution),
              "sweep_steps": min(race.steps, oc.params.LIMITS["sweep_steps"])
              if steps is None else steps}
    for name in SWEEP_INPUTS:
        if _number((ranges or {}).get(name)) is not None:
            values[name] = _number(ranges[name])
    clean, bad = oc.validate("the sweep", values)
    errors.update({("steps" if name == "sweep_steps" else name): _message(error)
                   for name, error in bad.items()})
    if optimizer in OPTIMIZER_NAMES:  # each range's ends as the sweep will take them
        defaults = dict(zip(SWEEP_INPUTS, (*default_lr_range(race, optimizer),
                                           *MOMENTUM_RANGE), strict=True))
        ends = {name: defaults[name] if clean.get(name) is None else clean[name]
                for name in SWEEP_INPUTS}
        for low, high in (("lr_min", "lr_max"), ("momentum_min", "momentum_max")):
            if low not in errors and high not in errors and not ends[low] < ends[high]:
                errors[low] = f"Must be below {ends[high]!r} (the upper end); got {ends[low]!r}."
    if errors:
        return None, errors
    try:
        check_sweep_work("the sweep", clean["resolution"], clean["sweep_steps"],
                         race.surface_object().n_points, race.batch_size)
    except InvalidParameterError as error:
        return None, {error.parameter: str(error)}
    return SweepSettings(race, optimizer, clean["resolution"], clean["sweep_steps"],
                         clean.get("lr_min"), clean.get("lr_max"),
                         clean.get("momentum_min", MOMENTUM_RANGE[0]),
                         clean.get("momentum_max", MOMENTUM_RANGE[1])), {}


def stored_sweep(stored) -> tuple[SweepSettings | None, dict[str, str]]:
    """The sweep a drawn phase diagram's store describes, checked as ``parse_sweep``
    checks the controls (the grid's CSV export recomputes it from the browser's store)."""
    if not isinstance(stored, dict) or not isinstance(stored.get("race"), dict):
        return None, {"race": "No phase diagram is drawn."}
    return parse_sweep({"settings": stored["race"]}, stored.get("optimizer"),
                       stored.get("resolution"), stored.get("steps"),
                       {name: stored.get(name) for name in SWEEP_INPUTS})


# --- lessons, the doctor's fixes, the embedded view (issue 19) ----------------------------

#: The query keys of the view, not of the race: ``embed=1`` shows the compact view for an
#: iframe, ``controls=lr,momentum`` the controls it shows (assets/teach.js reads them;
#: the URL keeps them while the race changes).
#: ``step=k`` opens the step scrubber at step k (assets/scrub.js keeps it in the address
#: while it scrubs; omitted at the race's end).
VIEW_KEYS = ("embed", "controls", "step")
#: The controls an embedded view can show (the race settings' names), and its default.
EMBED_CONTROLS = ("lr", "momentum", "steps", "surface", "optimizers")
DEFAULT_EMBED_CONTROLS = SHARED_HYPERPARAMETERS  # the sliders


def view_notes(pairs: dict) -> list[str]:
    """Take the view's keys out of a query's ``pairs``; a note for each bad value."""
    notes = []
    embed = pairs.pop("embed", None)
    if embed not in (None, "0", "1"):
        notes.append(f"Ignored embed={_show(embed)}: must be 1 (the compact view) or 0.")
    step = pairs.pop("step", None)
    if step is not None and _step(step) is None:
        notes.append(f"Ignored step={_show(step)}: must be a whole number of steps, 0 or "
                     "more.")
    controls = pairs.pop("controls", None)
    unknown = [name for name in (controls or "").split(",") if name
               and name not in EMBED_CONTROLS]
    if unknown:
        notes.append(f"Ignored controls {_show(','.join(unknown))}: an embedded view shows "
                     f"{', '.join(EMBED_CONTROLS)}.")
    return notes


def _step(text: str) -> int | None:
    """A step number as a link writes it (digits only), else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def step_from_query(query: str, steps: int) -> int | None:
    """The scrubber's step that a link asks for: k, or None for the race's end (no
    ``step``, a bad one, or one at or past the last step)."""
    text = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True)).get("step")
    step = None if text is None else _step(text)
    return step if step is not None and step < steps else None


def lesson_settings(name: str) -> RaceSettings:
    """The race of lesson ``name`` (its settings are under the URL's names, with
    ``optimizer.param`` for one optimizer's own value); an optimizer the user adds races
    with its own values from the surface's preset."""
    given = LESSONS[name].settings
    # the racers' own values are the lesson's; an optimizer the user adds gets its preset's
    overrides = {optimizer: dict(values) for optimizer, values in
                 PRESETS[given["surface"]].overrides.items()
                 if optimizer not in given["optimizers"]}
    for key, value in given.items():
        if "." in key:
            optimizer, param = key.split(".", 1)
            overrides.setdefault(optimizer, {})[param] = value
    scalars = {key: given[key] for key in SCALARS if key in given}
    return RaceSettings(surface=given["surface"], optimizers=tuple(
        o for o in OPTIMIZER_NAMES if o in given["optimizers"]), overrides=overrides,
        lesson=name, **scalars)


def apply_fix(settings: RaceSettings, optimizer: str, apply: dict
              ) -> tuple[RaceSettings | None, str]:
    """The race with one run's fix applied: ``apply`` is optim_core.doctor's, under the
    CLI's names. lr and momentum (μ, β₁) are the run's own values, or the slider's where
    the run is the only racer following that slider; ``optimizer`` adds that optimizer
    (at the run's lr unless the fix names one); ``steps`` and ``start`` are the race's.
    Returns the new settings (None if they do not check) and what changed, in words."""
    changes = dict(apply)
    target = changes.pop("optimizer", optimizer)
    race_wide, said = {}, []
    if "steps" in changes:
        race_wide["steps"] = int(changes.pop("steps"))
        said.append(f"steps {settings.steps} → {race_wide['steps']}")
    if "start" in changes:
        race_wide["x0"], race_wide["y0"] = (float(v) for v in changes.pop("start"))
        said.append(f"start → ({race_wide['x0']:.3g}, {race_wide['y0']:.3g})")
    optimizers = settings.optimizers
    if target not in optimizers:
        optimizers = tuple(o for o in OPTIMIZER_NAMES if o in (*optimizers, target))
        said.append(f"added {target}")
    if target != optimizer:  # the fix races another optimizer where this one raced
        changes.setdefault("lr", own_values(settings, optimizer)["lr"])
    overrides = {name: dict(values) for name, values in settings.overrides.items()}
    shared = {}
    for param, value in changes.items():
        mine = overrides.setdefault(target, {})
        now = mine.get(param, getattr(settings, param))
        if value == now:
            continue
        followers = [o for o in optimizers if param in oc.OPTIMIZERS[o].defaults
                     and param not in overrides.get(o, {})]
        if param not in mine and followers == [target]:
            shared[param] = value  # its slider moves: nobody else follows it
            said.append(f"{param} slider {now:.4g} → {value:.4g}")
        else:
            mine[param] = value
            said.append(f"{target}'s own {param} {now:.4g} → {value:.4g}")
    fixed, errors = parse_controls({**asdict(replace(
        settings, optimizers=optimizers, overrides=overrides, **race_wide, **shared)),
        "optimizers": list(optimizers)})
    if fixed is None:
        return None, "The fix does not fit this race: " + " ".join(errors.values())
    return fixed, ("; ".join(said) if said else
                   f"nothing to change: {target} already races with these values")


# --- the momentum conventions, measured on the race --------------------------------------

def measure_forms(settings: RaceSettings) -> dict:
    """The equivalences of the momentum conventions for the race's first Momentum or
    Nesterov racer (its own lr and μ, the race's schedule and clipping): the largest
    coordinate difference of each pair of paths. {} when no racer takes a convention."""
    name = next((o for o in settings.optimizers
                 if "momentum_form" in oc.OPTIMIZERS[o].defaults), None)
    if name is None:
        return {}
    own = settings.overrides.get(name, {})
    lr, beta = own.get("lr", settings.lr), own.get("momentum", settings.momentum)
    surface = settings.surface_object()

    def path(**hyper):
        run = oc.Run(name, {"lr": lr, "momentum": beta, **hyper})
        race = oc.simulate(surface, [run], steps=settings.steps, start=settings.start(surface),
                           noise=settings.noise, batch_size=settings.batch_size,
                           seed=settings.seed, **settings.schedule_kwargs())
        return race.runs[0]

    def gap(a, b):
        n = min(len(a.params), len(b.params))
        return float(np.max(np.abs(a.params[:n] - b.params[:n])))

    pytorch = path()
    numbers = {"optimizer": oc.OPTIMIZERS[name].title, "lr": lr, "beta": beta,
               "constant_lr": bool(np.all(pytorch.step_lr == pytorch.step_lr[0])),
               "sutskever": gap(path(momentum_form="sutskever"), pytorch),
               "ema": gap(path(momentum_form="ema"), path(lr=lr * (1 - beta)))}
    if "dampening" in oc.OPTIMIZERS[name].defaults:
        numbers["dampening"] = gap(path(dampening=beta), path(momentum_form="ema"))
    return numbers
