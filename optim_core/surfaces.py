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
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ._elementwise import select
from .params import check_params

#: Each surface's code in the compiled dispatch below (named: the kernels compare them).
RAVINE, ROSENBROCK, SADDLE, REGRESSION = range(4)
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


def surface_value(code, x, y, kappa, data_x, data_y):
    if code == RAVINE:
        return ravine_value(x, y, kappa)
    if code == ROSENBROCK:
        return rosenbrock_value(x, y)
    if code == SADDLE:
        return saddle_value(x, y)
    return regression_value(x, y, data_x, data_y)


def surface_grad(code, x, y, kappa, data_x, data_y, batch):  # the same dispatch as above
    if code == RAVINE:
        return ravine_grad(x, y, kappa)
    if code == ROSENBROCK:
        return rosenbrock_grad(x, y)
    if code == SADDLE:
        return saddle_grad(x, y)
    return regression_grad(x, y, data_x, data_y, batch)


# --- the Surface objects -------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """A configured loss surface.

    ``window`` is the plotting window ((x_min, x_max), (y_min, y_max)); ``minima`` the
    known global minimisers and ``f_min`` their value.
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

    @property
    def key(self) -> tuple:
        """The options that make this surface: equal keys, equal surfaces (without
        ``data``, get_surface(*key) rebuilds it)."""
        return (self.name, self.kappa, self.points, self.seed) + (
            (self.data,) if self.data else ())

    @property
    def code(self) -> int:
        return SURFACE_CODES[self.name]

    @property
    def n_points(self) -> int:
        return int(self.data_x.shape[0]) if self.name == "regression" else 0

    def value(self, x, y):
        """f(x, y) for floats or arrays (the full dataset for ``regression``)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        return surface_value(self.code, x, y, self.kappa, self.data_x, self.data_y)

    def grad(self, x, y, batch=None):
        """∇f(x, y); for ``regression`` over the points in ``batch`` (default: all)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if batch is None:
            batch = np.arange(max(self.n_points, 1))
        gx, gy = surface_grad(self.code, x, y, self.kappa, self.data_x, self.data_y,
                              np.asarray(batch))
        return np.broadcast_to(gx, x.shape).copy(), np.broadcast_to(gy, y.shape).copy()

    def hessian(self, x, y):
        """(f_xx, f_xy, f_yy) at (x, y)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
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
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
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
    lo = np.minimum([w_min, b_min], start)
    hi = np.maximum([w_min, b_min], start)
    pad = 0.6 * np.max(hi - lo) + 0.5
    centre = (lo + hi) / 2
    half = (hi - lo) / 2 + pad
    window = tuple((float(c - h), float(c + h)) for c, h in zip(centre, half, strict=True))
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
        data_x=data_x, data_y=data_y, **options,
    )


#: The surfaces without data, as data (ravine's description is formatted with its κ).
_NAMED = {surface.name: surface for surface in (
    Surface(name="ravine", title="Ravine quadratic", label="Ravine",
            description=("A quadratic bowl stretched into a narrow valley: curvature 1 "
                         "along x and κ = {kappa:g} along y."),
            formula="f(x, y) = ½(x² + κ·y²)", x_label="x", y_label="y",
            window=((-7.5, 7.5), (-7.5, 7.5)), default_start=(6.0, 6.0),
            minima=((0.0, 0.0),), f_min=0.0, quadratic=True, lr_range=(1e-4, 1.0)),
    Surface(name="rosenbrock", title="Rosenbrock", label="Rosenbrock",
            description=("Rosenbrock's banana: a curved, flat-bottomed valley. Easy to find "
                         "the valley, hard to follow it to the minimum at (1, 1)."),
            formula="f(x, y) = (1 − x)² + 100·(y − x²)²", x_label="x", y_label="y",
            window=((-2.0, 2.0), (-1.0, 3.0)), default_start=(-1.2, 1.0),
            minima=((1.0, 1.0),), f_min=0.0, quadratic=False, lr_range=(1e-5, 0.1)),
    Surface(name="saddle", title="Saddle", label="Saddle",
            description=("A saddle point at the origin between two minima at (0, ±1). "
                         "Starting just off the ridge shows how long each optimizer "
                         "takes to escape it."),
            formula="f(x, y) = ½x² + ¼y⁴ − ½y²", x_label="x", y_label="y",
            window=((-2.5, 2.5), (-2.0, 2.0)), default_start=(-2.0, 0.01),
            minima=((0.0, -1.0), (0.0, 1.0)), f_min=-0.25, quadratic=False,
            lr_range=(1e-3, 10.0)),
)}


def get_surface(name: str = "ravine", kappa: float = 25.0, points: int | None = None,
                seed: int = 0) -> Surface:
    """The surface ``name`` configured by its options (validated).

    Parameters
    ----------
    name : one of ``ravine``, ``rosenbrock``, ``saddle``, ``regression``.
    kappa : ravine's condition number κ (its Hessian is diag(1, κ)). Default 25.
    points : regression only: use ``points`` seeded noisy points instead of the 5-point
        default dataset.
    seed : regression only: seed of the noisy dataset.
    """
    check_params("surface", {"surface": name, "kappa": kappa, "points": points,
                             "seed": seed})
    if name == "ravine":
        kappa = float(kappa)
        return replace(_NAMED["ravine"], kappa=kappa,
                       description=_NAMED["ravine"].description.format(kappa=kappa))
    if name in _NAMED:
        return replace(_NAMED[name], kappa=float(kappa))
    return replace(_regression_surface(None if points is None else int(points), int(seed)),
                   kappa=float(kappa))


SURFACES = tuple(SURFACE_CODES)
