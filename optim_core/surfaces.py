"""Loss surfaces: analytic value, gradient and Hessian, vectorised over points.

Every surface is a function of two parameters drawn as (x, y). The ``*_value`` and
``*_grad`` functions take ``x`` and ``y`` as floats or arrays of any (equal) shape and
use plain arithmetic only, so that numba compiles the very same functions for the
fast kernels (see ``optim_core._kernels``).

- ``ravine``: f = ½(x² + κ·y²), the quadratic with Hessian diag(1, κ).
- ``rosenbrock``: f = (1 − x)² + 100·(y − x²)², the banana valley.
- ``saddle``: f = ½x² + ¼y⁴ − ½y², a saddle at the origin between minima (0, ±1).
- ``regression``: mean squared error of the line ŷ = w·x + b over a dataset, with the
  parameters (w, b) drawn as (x, y); mini-batches give real SGD noise.

These four ("teaching") are hand-written. The classic test functions (``beale``,
``himmelblau``... the group "test functions") are each one table of
``test_functions.toml`` (:data:`TABLE` reads it): a
formula in the language of :mod:`optim_core.expression`, whose exact gradient and
Hessian programs the kernels run (code ``PROGRAM``), a window, a start, a first-race
preset; their minima are found numerically (:func:`find_minima`), never typed in.
``custom`` is the user's own f(x, y) the same way (``get_surface("custom", f="...")``).

To add a named surface: one table in ``test_functions.toml`` (a formula, a window, a
start and a preset; the file's header says what each key means). ``params``' surface
names, the CLI, the app's presets and picker follow from the table.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ._dispatch import by_code
from ._elementwise import select
from .expression import Expression, ExpressionError, evaluate_tape, parse
from .params import LIMITS, InvalidParameterError, check_params, register_surfaces

#: Each surface's code in the compiled dispatch below (named: the kernels compare them).
#: ``PROGRAM``: the surface's gradient program (a typed formula) computes f and ∇f.
RAVINE, ROSENBROCK, SADDLE, REGRESSION, PROGRAM = range(5)
SURFACE_CODES = {"ravine": RAVINE, "rosenbrock": ROSENBROCK, "saddle": SADDLE,
                 "regression": REGRESSION}

#: The 5-point dataset on the line y = x used by ``regression`` unless ``points`` is set.
DEFAULT_REGRESSION_X = (-1.414, -0.707, 0.0, 0.707, 1.414)


# --- math shared by the NumPy and compiled paths ------------------------------------


def ravine_value(x, y, kappa):
    return 0.5 * (x * x + kappa * (y * y))


def ravine_grad(x, y, kappa):
    return x, kappa * y


def rosenbrock_value(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * (b * b)


def rosenbrock_grad(x, y):
    b = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b


def saddle_value(x, y):
    y2 = y * y
    return 0.5 * (x * x) + 0.25 * (y2 * y2) - 0.5 * y2


def saddle_grad(x, y):
    return x, y * y * y - y


def regression_value(w, b, data_x, data_y):
    """Mean squared error over the whole dataset, summed in order."""
    total = 0.0 * w
    for j in range(data_x.shape[0]):
        r = w * data_x[j] + b - data_y[j]
        total = total + r * r
    return total / data_x.shape[0]


def compensated_add(total, compensation, value):
    """One step of Neumaier's compensated sum: (new total, new compensation)."""
    new_total = total + value
    lost = select(abs(total) >= abs(value), (total - new_total) + value,
                  (value - new_total) + total)
    return new_total, compensation + lost


def regression_grad(w, b, data_x, data_y, batch):
    """Gradient of the mean squared error over the points indexed by ``batch``.

    Each point contributes as autograd differentiates mean(r²): (1/n)·(2r) for b and
    that times xᵢ for w. The sums are compensated, so they are correctly rounded: on a
    symmetric dataset the exact zero of ∂f/∂b stays 0 (as in torch), instead of a 1e-16
    that Adam or RMSprop would blow up into a full step.
    """
    scale = 1.0 / batch.shape[0]
    grad_w = 0.0 * w
    grad_b = 0.0 * w
    lost_w = 0.0 * w
    lost_b = 0.0 * w
    for j in range(batch.shape[0]):
        i = batch[j]
        coefficient = scale * (2.0 * (w * data_x[i] + b - data_y[i]))
        grad_w, lost_w = compensated_add(grad_w, lost_w, coefficient * data_x[i])
        grad_b, lost_b = compensated_add(grad_b, lost_b, coefficient)
    return grad_w + lost_w, grad_b + lost_b


#: Each hand-written surface's f by its code, as a function of the same five arguments.
SURFACE_VALUES = {
    RAVINE: lambda x, y, kappa, data_x, data_y: ravine_value(x, y, kappa),
    ROSENBROCK: lambda x, y, kappa, data_x, data_y: rosenbrock_value(x, y),
    SADDLE: lambda x, y, kappa, data_x, data_y: saddle_value(x, y),
    REGRESSION: lambda x, y, kappa, data_x, data_y: regression_value(x, y, data_x, data_y),
}
#: ∇f likewise, of six: the sixth is the mini-batch (regression's gradient's alone).
SURFACE_GRADS = {
    RAVINE: lambda x, y, kappa, data_x, data_y, batch: ravine_grad(x, y, kappa),
    ROSENBROCK: lambda x, y, kappa, data_x, data_y, batch: rosenbrock_grad(x, y),
    SADDLE: lambda x, y, kappa, data_x, data_y, batch: saddle_grad(x, y),
    REGRESSION: lambda x, y, kappa, data_x, data_y, batch:
    regression_grad(x, y, data_x, data_y, batch),
}
#: surface_value(code, x, y, kappa, data_x, data_y) and
#: surface_grad(code, x, y, kappa, data_x, data_y, batch): a hand-written surface's.
surface_value = by_code(SURFACE_VALUES)
surface_grad = by_code(SURFACE_GRADS)


# --- the Surface objects -------------------------------------------------------------

#: The surface picker's groups, in order (``Surface.group``).
GROUPS = ("teaching", "test functions", "your own")


@dataclass(frozen=True)
class Preset:
    """Settings that make a good first race on one surface (the app opens with them):
    the slider's lr and μ, the steps, and per optimizer its own values (adaptive methods
    move about lr per step, so a fair race gives them their own lr)."""

    lr: float
    momentum: float
    steps: int
    overrides: dict = field(default_factory=dict)
    points: int | None = None
    batch_size: int | None = None
    #: what the race shows, formatted with {lr}, {momentum}, {steps} and {adam} (Adam's
    #: own lr); tests/test_surface_functions.py checks each claim against the engine.
    #: Empty for the teaching four: layouts/race.default_race_text words theirs.
    text: str = ""


#: The adaptive methods' own lr, as a multiple of Adam's, in every preset below: RMSprop
#: and Adagrad take smaller and larger steps at the same lr. L-BFGS keeps its unit step
#: (torch's lr 1): its direction is already scaled by the curvature it has seen.
def _adaptive(adam: float, rmsprop: float, adagrad: float) -> dict:
    return {"adam": {"lr": adam}, "adamw": {"lr": adam}, "nadam": {"lr": adam},
            "rmsprop": {"lr": rmsprop}, "adagrad": {"lr": adagrad}, "lbfgs": {"lr": 1.0}}


@dataclass(frozen=True)
class Surface:
    """A configured loss surface.

    ``window`` is the plotting window ((x_min, x_max), (y_min, y_max)); ``minima`` the
    known global minimisers and ``f_min`` their value (on ``custom``: the lowest points
    found in the window, see :func:`find_minima`). ``expression`` is set on the surfaces
    given by a formula (the test functions and ``custom``): its programs compute f, ∇f
    and the Hessian.
    """

    name: str
    title: str
    label: str  # its short name, on a button
    description: str
    formula: str
    x_label: str
    y_label: str
    window: tuple[tuple[float, float], tuple[float, float]]
    default_start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    f_min: float
    quadratic: bool  # theory's predictions are exact on it (else local to the minimum)
    lr_range: tuple[float, float]  # a sweep's default: ~1e-4× to 10× GD's stability limit
    kappa: float = 25.0  # the ravine's κ (kept by every surface: it is part of the key)
    points: int | None = None  # regression: the size of the noisy dataset, None: 5 points
    seed: int = 0  # regression: the seed of the noisy dataset
    data: str | None = None  # regression: the digest of the user's own points (userdata.py)
    data_x: np.ndarray = field(default_factory=lambda: np.zeros(1), repr=False)
    data_y: np.ndarray = field(default_factory=lambda: np.zeros(1), repr=False)
    group: str = "teaching"  # one of GROUPS
    preset: Preset | None = None  # the first race (None on custom: the app's own)
    expression: Expression | None = field(default=None, repr=False, compare=False)
    given_window: tuple[float, float, float, float] | None = None  # custom: as asked
    minimum_found: bool = True  # custom: whether the gradient vanishes at ``minima``

    @property
    def key(self) -> tuple:
        """The options that make this surface: equal keys, equal surfaces (without
        ``data``, get_surface(*key) rebuilds it)."""
        if self.name == "custom":
            return (self.name, self.kappa, self.points, self.seed, self.expression.text,
                    self.given_window)
        return (self.name, self.kappa, self.points, self.seed) + (
            (self.data,) if self.data else ())

    @property
    def f(self) -> str | None:
        """The typed formula of ``custom`` (canonical form), else None."""
        return self.expression.text if self.name == "custom" else None

    @property
    def code(self) -> int:
        return PROGRAM if self.expression is not None else SURFACE_CODES[self.name]

    @property
    def n_points(self) -> int:
        return int(self.data_x.shape[0]) if self.name == "regression" else 0

    def program_args(self) -> tuple[np.ndarray, ...]:
        """The gradient program as the kernels take it (ops, first, second, slots,
        outputs); empty arrays on the hand-written surfaces."""
        return _NO_PROGRAM if self.expression is None else _gradient_tape(self.expression)

    def value(self, x, y):
        """f(x, y) for floats or arrays (the full dataset for ``regression``)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.expression is not None:
            return self.expression.value(x, y)
        return surface_value(self.code, x, y, self.kappa, self.data_x, self.data_y)

    def grad(self, x, y, batch=None):
        """∇f(x, y); for ``regression`` over the points in ``batch`` (default: all)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.expression is not None:
            return self.expression.grad(x, y)
        if batch is None:
            batch = np.arange(max(self.n_points, 1))
        gx, gy = surface_grad(self.code, x, y, self.kappa, self.data_x, self.data_y,
                              np.asarray(batch))
        return np.broadcast_to(gx, x.shape).copy(), np.broadcast_to(gy, y.shape).copy()

    def hessian(self, x, y):
        """(f_xx, f_xy, f_yy) at (x, y)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.expression is not None:
            return self.expression.hessian(x, y)
        one = np.ones(np.broadcast(x, y).shape)
        if self.name == "ravine":
            return one, 0.0 * one, self.kappa * one
        if self.name == "rosenbrock":
            return 2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x, 200.0 * one
        if self.name == "saddle":
            return one, 0.0 * one, 3.0 * y * y - 1.0
        n = self.data_x.shape[0]
        return (2.0 * np.sum(self.data_x**2) / n * one, 2.0 * np.sum(self.data_x) / n * one,
                2.0 * one)

    def map_value(self, x, y):
        """f at many points, for maps and images: O(1) work and memory per point.

        Equal to :meth:`value` up to rounding. The line fit's loss is quadratic in
        (w, b), so it is exactly its Taylor expansion about the minimum,
        f* + ½·ΔᵀHΔ with Δ = (w − w*, b − b*): five sums over the data instead of every
        point, mean(x²) and mean(x) in the Hessian H, mean(xy), mean(y) and mean(y²)
        through the least-squares minimum (w*, b*) and f*. About the minimum, the gap
        to f* (which the maps draw on a log scale) has no cancellation.

        A formula is computed with NumPy's vectorised functions (100× faster than the C
        library point by point, as a race computes it); where it is not finite (log of
        a negative number) the map shows the highest finite value drawn.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.expression is not None:
            return _finite_for_maps(_fast_value(self.expression, x, y))
        if self.name != "regression":
            return self.value(x, y)
        hxx, hxy, hyy = (float(h) for h in self.hessian(0.0, 0.0))
        (w_min, b_min), = self.minima
        dw, db = x - w_min, y - b_min
        return self.f_min + 0.5 * (hxx * (dw * dw) + 2.0 * hxy * (dw * db) + hyy * (db * db))

    def grid(self, resolution: int = 200):
        """Values on a ``resolution``² grid over the window: (xs, ys, z[y, x])."""
        (x0, x1), (y0, y1) = self.window
        xs = np.linspace(x0, x1, resolution)
        ys = np.linspace(y0, y1, resolution)
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, self.map_value(gx, gy)


_NO_PROGRAM = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
               np.zeros(0, dtype=np.int64), np.zeros(2), np.zeros(3, dtype=np.int64))
for _array in _NO_PROGRAM:
    _array.flags.writeable = False


def _fast_value(expression: Expression, x, y) -> np.ndarray:
    program = expression.value_program
    (f,) = evaluate_tape(program.ops, program.first, program.second,
                         program.initial_slots(), program.outputs, x, y, exact=False)
    return f


def _finite_for_maps(z: np.ndarray) -> np.ndarray:
    finite = np.isfinite(z)
    if finite.all():
        return z
    return np.where(finite, z, np.max(z[finite]) if finite.any() else 0.0)


def window_around(points) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square-ish window around ``points`` (the start and the minimum): their bounding
    box, padded by 0.6 of its larger side plus 0.5 on every side."""
    points = np.asarray(points, dtype=np.float64)
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.6 * np.max(hi - lo) + 0.5
    centre = (lo + hi) / 2
    half = (hi - lo) / 2 + pad
    return tuple((float(c - h), float(c + h)) for c, h in zip(centre, half, strict=True))


def regression_dataset(points: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset of ``regression``: the 5 default points, or ``points`` noisy ones.

    The noisy dataset is y = 1.5·x − 1 + 0.5·ε with x uniform on [−1, 3] (off-centre, so
    that w and b are correlated and the valley is tilted), drawn from ``seed``.
    """
    if points is None:
        data = np.array(DEFAULT_REGRESSION_X)
        return data, data.copy()
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])
    data_x = np.sort(rng.uniform(-1.0, 3.0, points))
    data_y = 1.5 * data_x - 1.0 + 0.5 * rng.standard_normal(points)
    return data_x, data_y


def _regression_surface(points, seed):
    data_x, data_y = regression_dataset(points, seed)
    source = ("the 5 points x = y = (−1.414, −0.707, 0, 0.707, 1.414)" if points is None
              else f"{points} noisy points y = 1.5x − 1 + 0.5ε (seed {seed})")
    return _line_fit(data_x, data_y, source, points=points,
                     seed=seed if points is not None else 0)


def regression_on_points(data_x, data_y, digest: str, kappa: float = 25.0) -> Surface:
    """The line fit on the user's own points (``optim_core.userdata`` parses and checks
    them; ``digest`` is their content hash, part of the surface's key)."""
    data_x, data_y = np.array(data_x, dtype=np.float64), np.array(data_y, dtype=np.float64)
    source = f"your {data_x.shape[0]:,} points"
    return replace(_line_fit(data_x, data_y, source, points=None, seed=0, data=digest),
                   kappa=float(kappa))


def _line_fit(data_x, data_y, source, **options):
    design = np.stack([data_x, np.ones_like(data_x)], axis=1)
    (w_min, b_min), *_ = np.linalg.lstsq(design, data_y, rcond=None)
    f_min = float(regression_value(w_min, b_min, data_x, data_y))
    start = (0.0, 0.0)
    window = window_around([(w_min, b_min), start])
    return Surface(
        name="regression",
        title="Line-fit regression",
        label="Line fit",
        description=("Mean squared error of the line ŷ = w·x + b fitted to "
                     f"{source}; the parameters (w, b) are drawn as (x, y). "
                     "Mini-batches make the gradient noisy, as in real SGD."),
        formula="f(w, b) = mean((w·xᵢ + b − yᵢ)²)",
        x_label="w (slope)", y_label="b (intercept)",
        window=window, default_start=start,
        minima=((float(w_min), float(b_min)),), f_min=max(f_min, 0.0),
        quadratic=True, lr_range=(1e-3, 10.0),
        data_x=data_x, data_y=data_y, preset=_REGRESSION_PRESET, **options,
    )


_REGRESSION_PRESET = Preset(0.05, 0.8, 200, _adaptive(0.1, 0.03, 0.5), points=50,
                            batch_size=10)

#: The hand-written surfaces without data, as data (ravine's description is formatted
#: with its κ).
_NAMED = {surface.name: surface for surface in (
    Surface(name="ravine", title="Ravine quadratic", label="Ravine",
            description=("A quadratic bowl stretched into a narrow valley: curvature 1 "
                         "along x and κ = {kappa:g} along y."),
            formula="f(x, y) = ½(x² + κ·y²)", x_label="x", y_label="y",
            window=((-7.5, 7.5), (-7.5, 7.5)), default_start=(6.0, 6.0),
            minima=((0.0, 0.0),), f_min=0.0, quadratic=True, lr_range=(1e-4, 1.0),
            preset=Preset(0.065, 0.2, 150, _adaptive(0.5, 0.15, 1.5))),
    Surface(name="rosenbrock", title="Rosenbrock", label="Rosenbrock",
            description=("Rosenbrock's banana: a curved, flat-bottomed valley. Easy to find "
                         "the valley, hard to follow it to the minimum at (1, 1)."),
            formula="f(x, y) = (1 − x)² + 100·(y − x²)²", x_label="x", y_label="y",
            window=((-2.0, 2.0), (-1.0, 3.0)), default_start=(-1.2, 1.0),
            minima=((1.0, 1.0),), f_min=0.0, quadratic=False, lr_range=(1e-5, 0.1),
            preset=Preset(0.0015, 0.9, 1000, _adaptive(0.05, 0.01, 0.5))),
    Surface(name="saddle", title="Saddle", label="Saddle",
            description=("A saddle point at the origin between two minima at (0, ±1). "
                         "Starting just off the ridge shows how long each optimizer "
                         "takes to escape it."),
            formula="f(x, y) = ½x² + ¼y⁴ − ½y²", x_label="x", y_label="y",
            window=((-2.5, 2.5), (-2.0, 2.0)), default_start=(-2.0, 0.01),
            minima=((0.0, -1.0), (0.0, 1.0)), f_min=-0.25, quadratic=False,
            lr_range=(1e-3, 10.0), preset=Preset(0.1, 0.8, 150, _adaptive(0.1, 0.03, 0.3))),
)}


# --- surfaces given by a formula ---------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A named surface given by its formula, as ``test_functions.toml`` declares it.

    ``f`` is typed in the language of :mod:`optim_core.expression` (the kernels run its
    programs); ``fields`` are the :class:`Surface` fields the table gives (its title,
    formula, description, window, start and preset). The rest follow from ``f``: the
    minima are not declared but found in the window (:func:`find_minima`; a test checks
    them on a finer grid), and so are ``f_min`` and the sweep's ``lr_range``."""

    f: str
    fields: dict

    @property
    def name(self) -> str:
        return self.fields["name"]

    @property
    def preset(self) -> Preset:
        return self.fields["preset"]


def _entry(t: dict) -> Entry:
    """One table of ``test_functions.toml`` (its header says what each key means)."""
    p = t["preset"]
    preset = Preset(p["lr"], p["momentum"], p["steps"], _adaptive(*p["adaptive_lr"]),
                    text=t["text"])
    return Entry(t["f"], dict(
        name=t["name"], title=t["title"], label=t["title"], formula=t["formula"],
        description=t["description"], window=tuple(map(tuple, t["window"])),
        default_start=tuple(t["start"]), preset=preset, group="test functions"))


def _read_table(path: Path) -> tuple[Entry, ...]:
    """The entries of ``test_functions.toml``: data, so that a new surface is one table."""
    with path.open("rb") as file:
        return tuple(map(_entry, tomllib.load(file)["surface"]))


#: The classic test functions, in the picker's order (``test_functions.toml``). Each
#: start makes a race worth watching (its preset's text in the app says what it shows).
TABLE = _read_table(Path(__file__).with_name("test_functions.toml"))
_ENTRIES = {entry.name: entry for entry in TABLE}

#: Every named surface, in the picker's order: the teaching four, then the test functions.
SURFACES = (*SURFACE_CODES, *_ENTRIES)
#: What ``get_surface`` takes: the named surfaces and ``custom`` (your own f(x, y)).
SURFACE_NAMES = (*SURFACES, "custom")
register_surfaces(SURFACE_NAMES)

# --- minima found numerically ------------------------------------------------------------

SEARCH_GRID = 129  # points per axis of the grid a search starts from
SEARCH_CANDIDATES = 16  # the lowest local minima of that grid polished by Newton's method
NEWTON_STEPS = 60
MAX_MINIMA = 8  # minima listed at most (Himmelblau has four)


def _newton(expression: Expression, points: np.ndarray) -> np.ndarray:
    """Damped Newton steps from each point, with the exact gradient and Hessian: the
    Newton step where the Hessian is positive definite, else a gradient step scaled by
    the curvature; each halved until f does not rise. A point whose derivatives are
    not finite (Ackley's cusp at its minimum) stays where it is."""
    points = points.copy()
    for _ in range(NEWTON_STEPS):
        x, y = points[:, 0], points[:, 1]
        f = expression.value(x, y)
        gx, gy = expression.grad(x, y)
        hxx, hxy, hyy = expression.hessian(x, y)
        with np.errstate(all="ignore"):
            det = hxx * hyy - hxy * hxy
            definite = (hxx > 0) & (det > 0)
            scale = 1.0 / np.maximum(np.abs(hxx) + np.abs(hyy) + 2 * np.abs(hxy), 1e-12)
            dx = np.where(definite, -(hyy * gx - hxy * gy) / det, -gx * scale)
            dy = np.where(definite, -(hxx * gy - hxy * gx) / det, -gy * scale)
        moving = np.isfinite(dx) & np.isfinite(dy) & ((dx != 0) | (dy != 0))
        if not moving.any():
            break
        t = np.where(moving, 1.0, 0.0)
        for _ in range(30):
            trial = points + t[:, None] * np.stack([dx, dy], axis=1)
            ft = expression.value(trial[:, 0], trial[:, 1])
            worse = moving & ~(np.isfinite(ft) & (ft <= f))
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        step = np.where((moving & (t > 0))[:, None],
                        t[:, None] * np.stack([dx, dy], axis=1), 0.0)
        step[~np.isfinite(step)] = 0.0
        if not np.any(step):
            break
        points = points + step
    return points


def find_minima(expression: Expression, window) -> tuple[tuple, float, bool]:
    """The lowest points of f in ``window``: (minima, f_min, found).

    The lowest local minima of a 129² grid over the window are polished by Newton's
    method with the exact derivatives; the minima are those of the lowest value (equal
    within 1e-9 relative, one per basin, at most ``MAX_MINIMA``) still in the window.
    ``found`` says whether the gradient vanishes there (a minimum rather than the lowest
    point of the window's edge, as on an f unbounded below)."""
    (x0, x1), (y0, y1) = window
    gx, gy = np.meshgrid(np.linspace(x0, x1, SEARCH_GRID), np.linspace(y0, y1, SEARCH_GRID))
    z = _fast_value(expression, gx, gy)
    z = np.where(np.isfinite(z), z, np.inf)
    padded = np.pad(z, 1, constant_values=np.inf)
    rows, cols = z.shape
    lowest_near = np.min([padded[1 + i:1 + i + rows, 1 + j:1 + j + cols]
                          for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)], axis=0)
    local = np.isfinite(z) & (z <= lowest_near)
    if not local.any():
        raise ExpressionError("it is not a finite number anywhere in the window", column=None,
                              text=expression.text)
    order = np.argsort(z[local], kind="stable")[:SEARCH_CANDIDATES]
    candidates = np.stack([gx[local][order], gy[local][order]], axis=1)
    polished = _newton(expression, candidates)
    span = max(x1 - x0, y1 - y0)
    inside = ((polished[:, 0] >= x0) & (polished[:, 0] <= x1) & (polished[:, 1] >= y0)
              & (polished[:, 1] <= y1))
    points = np.where(inside[:, None], polished, candidates)
    values = expression.value(points[:, 0], points[:, 1])
    values = np.where(np.isfinite(values), values, np.inf)
    best = float(np.min(values))
    minima = []
    for i in np.argsort(values, kind="stable"):
        if values[i] > best + 1e-9 * max(1.0, abs(best)):
            break
        if len(minima) == MAX_MINIMA:  # a plateau (f = 1) ties everywhere
            break
        if all(math.dist(points[i], m) > 1e-6 * span for m in minima):
            minima.append((float(points[i, 0]), float(points[i, 1])))
    gradient = np.hypot(*expression.grad(*np.array(minima).T))
    found = bool(np.all(~np.isfinite(gradient) | (gradient <= 1e-6 * max(1.0, abs(best)))))
    return tuple(sorted(minima)), best, found


def _lr_range(expression: Expression, point) -> tuple[float, float]:
    """A sweep's default lr range: 1e-3× to 10× GD's limit 2/L at ``point``."""
    hxx, hxy, hyy = (float(h) for h in expression.hessian(*point))
    with np.errstate(all="ignore"):
        largest = float(np.max(np.linalg.eigvalsh([[hxx, hxy], [hxy, hyy]]))) \
            if all(map(math.isfinite, (hxx, hxy, hyy))) else math.nan
    if not (math.isfinite(largest) and largest > 0):
        return (1e-4, 1.0)
    limit = 2.0 / largest
    return (float(f"{1e-3 * limit:.1g}"), float(f"{10 * limit:.1g}"))


@functools.cache
def _formula_surface(name: str) -> Surface:
    entry = _ENTRIES[name]
    expression = parse(entry.f)
    minima, f_min, _ = find_minima(expression, entry.fields["window"])
    return Surface(**entry.fields, x_label="x", y_label="y", minima=minima, f_min=f_min,
                   quadratic=expression.quadratic, lr_range=_lr_range(expression, minima[0]),
                   expression=expression)


# --- custom: your own f(x, y) ----------------------------------------------------------

#: Where a custom surface's minimum is looked for when no window is given.
SEARCH_BOX = ((-5.0, 5.0), (-5.0, 5.0))
#: A custom surface's default start, from its (first) minimum.
START_OFFSET = (-2.0, 2.0)


def check_window(window, caller: str = "custom") -> tuple[float, float, float, float] | None:
    """``window`` as (x_min, x_max, y_min, y_max) floats, checked: finite, within the
    start's bounds, each min below its max."""
    if window is None:
        return None
    allowed = (f"(x_min, x_max, y_min, y_max): finite numbers in [-{LIMITS['start']:g}, "
               f"{LIMITS['start']:g}], each min below its max")

    def fail(why: str):
        return InvalidParameterError(
            f"The 'window' parameter of {caller} must be {allowed}{why}. Got {window!r} "
            "instead.", parameter="window", caller=caller, allowed=allowed, got=window)

    try:
        values = tuple(window)
    except TypeError:
        raise fail("") from None
    if len(values) != 4:
        raise fail("")
    clean = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                             np.floating)):
            raise fail("")
        value = float(value)
        if not (math.isfinite(value) and abs(value) <= LIMITS["start"]):
            raise fail("")
        clean.append(value)
    x0, x1, y0, y1 = clean
    if not (x0 < x1 and y0 < y1):
        raise fail(" (a min is not below its max)")
    return x0, x1, y0, y1


def covering(surface: Surface, start) -> Surface:
    """``surface`` with a map window that shows ``start``: a custom surface whose window
    comes from f (none was given) and whose ``start`` lies outside it gets the window
    around the start and its lowest point (:func:`window_around`); any other is itself,
    so that a click inside the map never moves the map."""
    (x0, x1), (y0, y1) = surface.window
    inside = x0 <= start[0] <= x1 and y0 <= start[1] <= y1
    if surface.name != "custom" or surface.given_window is not None or inside:
        return surface
    return replace(surface, window=window_around([tuple(start), surface.minima[0]]))


def _finite_start(expression: Expression, point, offset, box) -> tuple[float, float]:
    """``point`` + ``offset`` (kept 5% inside ``box`` if one is given), or the offset
    mirrored, halved... : the first of these where f and its gradient are finite (log(x)
    has no start left of its lowest point); else ``point``."""
    for scale in (1.0, 0.5, 0.25):
        for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
            x, y = point[0] + scale * sx * offset[0], point[1] + scale * sy * offset[1]
            if box is not None:
                (x0, x1), (y0, y1) = box
                x = min(max(x, x0 + 0.05 * (x1 - x0)), x1 - 0.05 * (x1 - x0))
                y = min(max(y, y0 + 0.05 * (y1 - y0)), y1 - 0.05 * (y1 - y0))
            f, gx, gy = evaluate_tape(*_gradient_tape(expression), x, y)
            if np.isfinite(f) and np.isfinite(gx) and np.isfinite(gy):
                return (float(x), float(y))
    return (float(point[0]), float(point[1]))


def _gradient_tape(expression: Expression) -> tuple[np.ndarray, ...]:
    program = expression.grad_program
    slots = program.initial_slots()
    # read-only like _NO_PROGRAM's (the kernels copy it): a writable one is another type
    # to numba, and would compile the race and sweep kernels a second time (~2 min)
    slots.flags.writeable = False
    return program.ops, program.first, program.second, slots, program.outputs


@functools.lru_cache(maxsize=64)
def _custom_surface(f: str, window) -> Surface:
    expression = parse(f)
    if window is None:
        minima, f_min, found = find_minima(expression, SEARCH_BOX)
        start = _finite_start(expression, minima[0], START_OFFSET, None)
        box = window_around([start, minima[0]])
    else:
        x0, x1, y0, y1 = window
        box = ((x0, x1), (y0, y1))
        minima, f_min, found = find_minima(expression, box)
        # the start offset from the minimum by a fifth of the window, inside it
        start = _finite_start(expression, minima[0], (-0.2 * (x1 - x0), 0.2 * (y1 - y0)),
                              box)
    where = ", ".join(f"({x:.4g}, {y:.4g})" for x, y in minima)
    found_text = (f"Its minimum found: {where}, f = {f_min:.4g}." if found else
                  f"No minimum found: its lowest point in the window is {where}, f = "
                  f"{f_min:.4g}.")
    return Surface(
        name="custom", title="Your function", label="Your own",
        description=f"Your own f(x, y), with exact derivatives. {found_text}",
        formula=f"f(x, y) = {expression.text}", x_label="x", y_label="y",
        window=box, default_start=start, minima=minima, f_min=f_min,
        quadratic=expression.quadratic, lr_range=_lr_range(expression, minima[0]),
        group="your own", expression=expression, given_window=window,
        minimum_found=found)


def get_surface(name: str = "ravine", kappa: float = 25.0, points: int | None = None,
                seed: int = 0, f: str | None = None, window=None) -> Surface:
    """The surface ``name`` configured by its options (validated).

    Parameters
    ----------
    name : one of :data:`SURFACE_NAMES`: the named surfaces, or ``custom``.
    kappa : ravine's condition number κ (its Hessian is diag(1, κ)). Default 25.
    points : regression only: use ``points`` seeded noisy points instead of the 5-point
        default dataset.
    seed : regression only: seed of the noisy dataset.
    f : custom only: f(x, y) as typed (:func:`optim_core.expression.parse`; a bad one
        raises :class:`~optim_core.expression.ExpressionError`, parameter ``f``).
    window : custom only: the map window (x_min, x_max, y_min, y_max), where its minimum
        is looked for; None: found around the minimum near the origin (in
        :data:`SEARCH_BOX`) and the default start, :data:`START_OFFSET` from it.
    """
    check_params("surface", {"surface": name, "kappa": kappa, "points": points,
                             "seed": seed})
    if name != "custom":
        for option, value in (("f", f), ("window", window)):
            if value is not None:
                raise InvalidParameterError(
                    f"The {option!r} parameter of get_surface applies to surface 'custom' "
                    f"only. Got {option}={value!r} with surface {name!r}.",
                    parameter=option, caller="get_surface",
                    allowed="unset: it applies to surface 'custom' only", got=value)
    if name == "custom":
        if f is None:
            raise ExpressionError("it is missing (surface 'custom' takes f, an expression "
                                  "in x and y)", column=None, text=f)
        if not isinstance(f, str):
            parse(f)  # its message names the type
        return replace(_custom_surface(f, check_window(window)), kappa=float(kappa))
    if name == "ravine":
        kappa = float(kappa)
        return replace(_NAMED["ravine"], kappa=kappa,
                       description=_NAMED["ravine"].description.format(kappa=kappa))
    if name in _NAMED:
        return replace(_NAMED[name], kappa=float(kappa))
    if name in _ENTRIES:
        return replace(_formula_surface(name), kappa=float(kappa))
    return replace(_regression_surface(None if points is None else int(points), int(seed)),
                   kappa=float(kappa))


def presets() -> dict[str, Preset]:
    """Each named surface's first race (the app's ``settings.PRESETS``)."""
    hand_written = {name: surface.preset for name, surface in _NAMED.items()}
    return {name: hand_written.get(name) or (_REGRESSION_PRESET if name == "regression"
                                             else _ENTRIES[name].preset)
            for name in SURFACES}
