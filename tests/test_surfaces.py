"""Surfaces: gradients and Hessians agree with finite differences; minima are minima."""

import numpy as np
import pytest

import optim_core as oc
from optim_core.surfaces import regression_dataset

SURFACES = [oc.get_surface("ravine", kappa=7.0), oc.get_surface("rosenbrock"),
            oc.get_surface("saddle"), oc.get_surface("regression"),
            oc.get_surface("regression", points=30, seed=3)]
IDS = ["ravine", "rosenbrock", "saddle", "regression", "regression-30"]
POINTS = np.random.default_rng(0).uniform(-2, 2, size=(25, 2))


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_gradient_matches_central_differences(surface):
    h = 1e-6
    x, y = POINTS[:, 0], POINTS[:, 1]
    gx, gy = surface.grad(x, y)
    fd_x = (surface.value(x + h, y) - surface.value(x - h, y)) / (2 * h)
    fd_y = (surface.value(x, y + h) - surface.value(x, y - h)) / (2 * h)
    np.testing.assert_allclose(gx, fd_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gy, fd_y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(surface):
    h = 1e-6
    x, y = POINTS[:, 0], POINTS[:, 1]
    hxx, hxy, hyy = surface.hessian(x, y)
    np.testing.assert_allclose(hxx, (surface.grad(x + h, y)[0] - surface.grad(x - h, y)[0])
                               / (2 * h), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hxy, (surface.grad(x, y + h)[0] - surface.grad(x, y - h)[0])
                               / (2 * h), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hyy, (surface.grad(x, y + h)[1] - surface.grad(x, y - h)[1])
                               / (2 * h), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_minima_are_stationary_and_lowest(surface):
    grid_x, grid_y, z = surface.grid(120)
    assert z.min() >= surface.f_min - 1e-12
    for mx, my in surface.minima:
        gx, gy = surface.grad(mx, my)
        assert abs(gx) < 1e-9 and abs(gy) < 1e-9
        assert surface.value(mx, my) == pytest.approx(surface.f_min, abs=1e-12)
        hxx, hxy, hyy = surface.hessian(mx, my)
        assert hxx > 0 and hxx * hyy - hxy**2 > 0  # a strict local minimum
    (x0, x1), (y0, y1) = surface.window
    sx, sy = surface.default_start
    assert x0 < sx < x1 and y0 < sy < y1


def test_saddle_has_a_saddle_at_the_origin():
    s = oc.get_surface("saddle")
    assert s.grad(0.0, 0.0) == (0.0, 0.0)
    hxx, _, hyy = s.hessian(0.0, 0.0)
    assert hxx > 0 > hyy


def test_regression_minimum_is_least_squares_and_data_is_seeded():
    s = oc.get_surface("regression", points=40, seed=9)
    w, b = np.polyfit(s.data_x, s.data_y, 1)
    np.testing.assert_allclose(s.minima[0], (w, b), rtol=1e-9)
    again = regression_dataset(40, 9)
    np.testing.assert_array_equal(again[0], s.data_x)
    assert not np.array_equal(regression_dataset(40, 10)[0], s.data_x)


def test_symmetric_dataset_keeps_the_intercept_gradient_exactly_zero():
    """The default data is symmetric: ∂f/∂b at b = 0 is exactly 0 for any w (torch gets
    0 too); a 1e-16 here would send Adam off by a full step."""
    s = oc.get_surface("regression")
    for w in np.linspace(-3, 3, 61):
        assert s.grad(w, 0.0)[1] == 0.0
    race = oc.simulate("regression", ["adam", "rmsprop", "adagrad"], lr=0.05, steps=200)
    for run in race.runs:
        assert np.all(run.params[:, 1] == 0.0)


@pytest.mark.parametrize("points,seed", [(None, 0), (2, 1), (30, 3), (1000, 7)])
def test_map_value_equals_the_direct_loss(points, seed):
    """The maps' O(1)-a-point line-fit loss (from sums over the data) is the in-order
    mean over every point, to rounding, on the window and far outside it."""
    s = oc.get_surface("regression", points=points, seed=seed)
    (x0, x1), (y0, y1) = s.window
    w, b = np.meshgrid(np.linspace(x0 - 50, x1 + 50, 101), np.linspace(y0 - 50, y1 + 50, 99))
    w, b = np.append(w, s.minima[0][0]), np.append(b, s.minima[0][1])
    np.testing.assert_allclose(s.map_value(w, b), s.value(w, b), rtol=1e-13, atol=1e-15)
    assert s.map_value(w, b).shape == w.shape
    assert s.grid(50)[2].shape == (50, 50)


@pytest.mark.parametrize("surface", SURFACES[:3], ids=IDS[:3])
def test_map_value_is_the_value_elsewhere(surface):
    x, y = POINTS[:, 0], POINTS[:, 1]
    np.testing.assert_array_equal(surface.map_value(x, y), surface.value(x, y))


class CountingArray(np.ndarray):
    """Data points that count how often they are read and the largest array made with them."""

    reads = 0
    largest = 0

    def __getitem__(self, index):
        CountingArray.reads += 1
        return super().__getitem__(index)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, CountingArray) else x for x in inputs]
        result = getattr(ufunc, method)(*plain, **kwargs)
        CountingArray.largest = max(CountingArray.largest, np.size(result))
        return result


def test_map_value_work_does_not_grow_with_the_data():
    """Drawing the line fit reads its 1000 points a few times, not once per pixel (the
    surface image once evaluated a 640 × 640 × points array)."""
    from dataclasses import replace

    s = oc.get_surface("regression", points=1000, seed=4)
    counted = replace(s, data_x=s.data_x.view(CountingArray),
                      data_y=s.data_y.view(CountingArray))
    w, b = np.meshgrid(np.linspace(-3, 3, 64), np.linspace(-3, 3, 64))
    CountingArray.reads = CountingArray.largest = 0
    z = counted.map_value(w, b)
    assert CountingArray.reads < 10 and CountingArray.largest <= 1000
    np.testing.assert_allclose(z, s.value(w, b), rtol=1e-13)
