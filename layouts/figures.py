"""Figures as plain functions: arrays and settings in, Plotly figures (or patches) out.

The race map draws the surface once, as a filled-contour PNG placed in
``layout.images`` in data coordinates (it zooms and pans with the axes, and Plotly does
not re-decode an image whose source has not changed), so a slider drag only redraws
the paths. The paths travel as float32 typed arrays.
"""

from __future__ import annotations

import base64
import colorsys
import functools
import hashlib
import math
import struct
import zlib

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from optim_core import OPTIMIZERS, Race, Surface, mechanism
from optim_core.analysis import TOLERANCE
from settings import own_values

#: One colour per optimizer and theme, after Okabe & Ito's colour-blind-safe hues: dark
#: on the light surface, bright on the dark one, each at least 3:1 (WCAG contrast)
#: against every colour of the surface image, its iso-lines included
#: (tests/test_app_state.py checks). The first eight are chosen by hand; any other
#: optimizer of the registry gets a generated one (:func:`generated_color`).
CHOSEN_COLORS = {
    "light": {"sgd": "#A63A06", "momentum": "#0058A8", "nesterov": "#006A50",
              "adam": "#953480", "adamw": "#7D5100", "nadam": "#3D4FC4",
              "rmsprop": "#5A5A00", "adagrad": "#404040"},
    "dark": {"sgd": "#FF8A5C", "momentum": "#5EBBF2", "nesterov": "#2FD3A0",
             "adam": "#F28AD2", "adamw": "#F2B33D", "nadam": "#A8A8FF",
             "rmsprop": "#DDD34A", "adagrad": "#C8C8C8"},
}
#: Line dashes: racers of near hues (SGD, AdamW, RMSprop; momentum, NAdam) differ in
#: their dash as well as their colour. Chosen for the first eight, assigned to the
#: others in registry order (:func:`_dashes`).
CHOSEN_DASHES = {"sgd": "solid", "momentum": "solid", "nesterov": "solid", "adam": "solid",
                 "adamw": "dash", "nadam": "dash", "rmsprop": "dot", "adagrad": "dashdot"}
DASH_STYLES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
NEAR_HUE = 30.0  # degrees: hues closer than this are told apart by their dash
MIN_CONTRAST = 3.0


def name_hue(name: str) -> float:
    """A hue in [0, 360) from the name alone (sha256: the same on every run and machine)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 3600 / 10


def _luminance(rgb) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b) -> float:
    """WCAG 2 contrast ratio of two sRGB colours given as 0..255 triples."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def surface_colors(theme: str) -> list[tuple]:
    """The surface image's colours: its low and high ends and their iso-lines."""
    colors = THEMES[theme]
    ends = [colors["low"], colors["high"]]
    return ends + [tuple(min(255, round(c * colors["line"])) for c in end) for end in ends]


def generated_color(name: str, theme: str) -> str:
    """``name``'s hue at the lightness nearest mid-grey that keeps MIN_CONTRAST against
    every surface colour of ``theme``: darker on light, brighter on dark."""
    hue = name_hue(name) / 360
    steps = np.linspace(0.5, 0.05, 46) if theme == "light" else np.linspace(0.5, 0.95, 46)
    for lightness in steps:
        rgb = tuple(round(255 * c) for c in colorsys.hls_to_rgb(hue, lightness, 0.8))
        if all(contrast(rgb, bg) >= MIN_CONTRAST for bg in surface_colors(theme)):
            return "#{:02X}{:02X}{:02X}".format(*rgb)
    raise ValueError(f"no colour of hue {hue * 360:.1f} stands out on the {theme} surface")


def _hue_of(color: str) -> float | None:
    h, _, s = colorsys.rgb_to_hls(*(int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)))
    return h * 360 if s > 0.15 else None  # a grey has no hue to confuse


def _dashes(palette: dict) -> dict:
    """The chosen dashes, then for each other racer the first style that no racer of a
    near hue (in either theme's colours) already has."""
    dashes = dict(CHOSEN_DASHES)
    for name in palette["light"]:
        if name in dashes:
            continue
        near = {dashes[other] for other in dashes for theme in palette
                if _near(palette[theme][name], palette[theme][other])}
        free = [style for style in DASH_STYLES if style not in near]
        dashes[name] = (free or DASH_STYLES)[0]
    return dashes


def _near(a: str, b: str) -> bool:
    hue_a, hue_b = _hue_of(a), _hue_of(b)
    if hue_a is None or hue_b is None:
        return False
    return min(abs(hue_a - hue_b), 360 - abs(hue_a - hue_b)) < NEAR_HUE


def racer_color(optimizer: str, theme: str) -> str:
    return PALETTES[theme][optimizer]


TITLES = {name: spec.title for name, spec in OPTIMIZERS.items()}

THEMES = {
    "light": {"paper": "#ffffff", "ink": "#1f2328", "muted": "#59636e", "grid": "#d8dee4",
              "low": (250, 251, 252), "high": (196, 208, 224), "line": 0.86,
              "start": "#111111", "base": "plotly_white"},
    "dark": {"paper": "#0d1117", "ink": "#e6edf3", "muted": "#9198a1", "grid": "#30363d",
             "low": (22, 27, 34), "high": (44, 56, 74), "line": 1.50,
             "start": "#f5f5f5", "base": "plotly_dark"},
}
#: Every optimizer of the registry's colour per theme: the chosen ones, else generated.
PALETTES = {theme: {name: CHOSEN_COLORS[theme].get(name) or generated_color(name, theme)
                    for name in OPTIMIZERS} for theme in CHOSEN_COLORS}
DASHES = _dashes(PALETTES)
#: The HTML swatches' colours: CSS variables that the theme sets (assets/app.js
#: ``theme``, from the palette store), the light colour until it has.
COLORS = {name: f"var(--racer-{name}, {color})" for name, color in PALETTES["light"].items()}
#: What the figures take from Plotly's light and dark templates: fonts, axes, hover
#: labels. Not the per-trace-type defaults of every chart type, which the browser would
#: merge into the figure again on every redraw (a few ms per slider move).
TEMPLATE_LAYOUT = ("font", "hoverlabel", "xaxis", "yaxis", "colorway", "title",
                   "annotationdefaults", "shapedefaults", "autotypenumbers")
for _colors in THEMES.values():
    _layout = pio.templates[_colors["base"]].layout
    _colors["template"] = go.layout.Template(
        layout={key: _layout[key] for key in TEMPLATE_LAYOUT if _layout[key] is not None})


def theme_name(stored) -> str:
    """The theme store's value if it names a theme, else light (a crafted or empty one)."""
    return stored if isinstance(stored, str) and stored in THEMES else "light"


def themed_layout(theme: str) -> dict:
    """The layout keys every figure takes from the theme: template, background, ink."""
    colors = THEMES[theme]
    return {"template": colors["template"], "paper_bgcolor": colors["paper"],
            "plot_bgcolor": colors["paper"], "font": {"color": colors["ink"]}}


LOSS_FLOOR = 1e-30  # log axes cannot show 0; gaps below this are drawn at it
FLOAT32_MAX = float(np.finfo(np.float32).max)
BANDS = 22
HOVER_GRID = 60
#: Step dots are drawn while the paths hold at most this many points in all. Each dot is
#: an SVG element that the browser restyles on every redraw (~0.1 ms a dot in headless
#: Chromium): 4 paths × 500 steps with dots redraw in ~200 ms, as lines in ~30 ms.
#: Past the budget the paths' corners still show every step.
STEP_DOT_BUDGET = 400


# --- the surface as an image -------------------------------------------------------------

def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 array as PNG (no filter, zlib-compressed)."""
    height, width, _ = rgb.shape
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b""))


def contour_levels(surface: Surface, z: np.ndarray) -> tuple[np.ndarray, float, float]:
    """log10 of the loss gap, offset so the minimum is visible: (t, t_min, t_max)."""
    gap = np.maximum(z - surface.f_min, 0.0)
    offset = max(float(np.percentile(gap, 50)) * 1e-4, 1e-12)
    t = np.log10(gap + offset)
    return t, float(t.min()), float(t.max())


class _ByKey:
    """A surface that a cache compares by its key (its data arrays are not hashable)."""

    def __init__(self, surface: Surface):
        self.surface, self.key = surface, surface.key

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, _ByKey) and other.key == self.key


@functools.lru_cache(maxsize=64)
def _surface_image(keyed: _ByKey, theme: str, pixels: int) -> tuple[str, float, float]:
    surface = keyed.surface
    (x0, x1), (y0, y1) = surface.window
    aspect = (y1 - y0) / (x1 - x0)
    width, height = (pixels, max(int(pixels * aspect), 2)) if aspect <= 1 else (
        max(int(pixels / aspect), 2), pixels)
    xs = np.linspace(x0, x1, width)
    ys = np.linspace(y1, y0, height)  # row 0 is the top of the image
    z = surface.map_value(*np.meshgrid(xs, ys))  # O(1) a pixel, whatever the data size
    t, t_min, t_max = contour_levels(surface, z)
    band = np.floor((t - t_min) / (t_max - t_min + 1e-300) * BANDS).clip(0, BANDS - 1)
    colors = THEMES[theme]
    low, high = np.array(colors["low"], float), np.array(colors["high"], float)
    rgb = low + (band / (BANDS - 1))[..., None] ** 0.9 * (high - low)
    edge = np.zeros(band.shape, bool)  # iso-lines where the band changes
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    rgb[edge] = np.clip(rgb[edge] * colors["line"], 0, 255)
    source = "data:image/png;base64," + base64.b64encode(
        png_bytes(rgb.round().astype(np.uint8))).decode()
    return source, t_min, t_max


def surface_image(surface: Surface, theme: str, pixels: int = 640):
    """(PNG data URI, t_min, t_max) of the surface, cached per surface options and theme."""
    return _surface_image(_ByKey(surface), theme, pixels)


# --- float32 typed arrays ------------------------------------------------------------------

def float32(values) -> np.ndarray:
    """Values as float32 (a figure sends them as a typed array: 4 bytes a number)."""
    return np.clip(np.asarray(values, dtype=np.float64), -FLOAT32_MAX, FLOAT32_MAX).astype(
        np.float32)


def typed(values) -> dict:
    """A Plotly typed array (float32, base64) for a Patch, which plotly.py does not encode."""
    return {"dtype": "f4", "bdata": base64.b64encode(float32(values).astype("<f4").tobytes())
            .decode()}


def typed64(values) -> dict:
    """A float64 typed array (the walkthrough's numbers: float32 would print 1e-50 as 0)."""
    return {"dtype": "f8", "bdata": base64.b64encode(
        np.asarray(values, dtype=np.float64).astype("<f8").tobytes()).decode()}


def loss_gap(race: Race, run) -> np.ndarray:
    return np.maximum(run.loss - race.surface.f_min, LOSS_FLOOR)


# --- the race map ---------------------------------------------------------------------------

def path_mode(race: Race) -> str:
    """Plotly's scatter mode of the paths: dots on every step while they are few."""
    points = sum(len(run.params) for run in race.runs)
    return "lines+markers" if points <= STEP_DOT_BUDGET else "lines"


def window_exit(a, b, window) -> tuple[float, float]:
    """Where the segment from ``a`` (inside ``window``) to ``b`` (outside) crosses the
    window's edge (Liang–Barsky: the smallest t in (0, 1] at which a bound is met)."""
    t_exit = 1.0
    for axis, (low, high) in enumerate(window):
        delta = b[axis] - a[axis]
        for bound in (low, high):
            if delta != 0:
                t = (bound - a[axis]) / delta
                if 0 <= t < t_exit:
                    t_exit = t
    return (a[0] + t_exit * (b[0] - a[0]), a[1] + t_exit * (b[1] - a[1]))


def runaway(run, window) -> bool:
    """A path that does not come back: it diverged, or it ends more than the window's
    size beyond its edge. Drawn in full, its last segments cross the whole map."""
    if run.diverged_at is not None:
        return True
    (x0, x1), (y0, y1) = window
    x, y = run.params[-1]
    return not (2 * x0 - x1 <= x <= 2 * x1 - x0 and 2 * y0 - y1 <= y <= 2 * y1 - y0)


def drawn_path(run, window) -> tuple[np.ndarray, bool]:
    """The points of ``run`` the map draws, and whether they were cut: a runaway path
    up to where it last leaves the window (that edge point included), else all."""
    params = run.params
    if not runaway(run, window):
        return params, False
    (x0, x1), (y0, y1) = window
    inside = ((params[:, 0] >= x0) & (params[:, 0] <= x1) & (params[:, 1] >= y0)
              & (params[:, 1] <= y1))
    if not inside.any():  # it never was on the map: its start alone
        return params[:1], True
    last = int(np.flatnonzero(inside)[-1])
    if last == len(params) - 1:
        return params, False
    edge = window_exit(params[last], params[last + 1], window)
    return np.vstack([params[:last + 1], [edge]]), True


def end_label(run, cut: bool) -> str:
    """What a run's end marker stands for (its hover text)."""
    title = f"<b>{racer_title(run)}</b>"
    why = "" if run.diverged_at is None else f", diverged at step {run.diverged_at}"
    return f"{title} leaves the map here{why}" if cut else f"{title} end{why}"


def path_traces_data(race: Race) -> dict:
    """What changes when a slider move: per run its path (a runaway one cut where it
    leaves the map); the runs' end points (one trace: a cross where a run was cut or
    diverged, at the edge of the map); the start."""
    drawn = [drawn_path(run, race.surface.window) for run in race.runs]
    paths = [{"x": float32(points[:, 0]), "y": float32(points[:, 1])} for points, _ in drawn]
    last = np.array([points[-1] for points, _ in drawn])
    ends = {"x": float32(last[:, 0]), "y": float32(last[:, 1]),
            "marker.symbol": ["x-thin-open" if cut or run.diverged_at is not None else "circle"
                              for run, (_, cut) in zip(race.runs, drawn, strict=True)],
            "text": [end_label(run, cut) for run, (_, cut) in zip(race.runs, drawn, strict=True)]}
    starts = np.array([run.start for run in race.runs])
    # where Schedule-Free took its gradients (its path is the evaluation point), as far
    # as its path is drawn
    grad_paths = [{"x": float32(run.grad_points[:len(points), 0]),
                   "y": float32(run.grad_points[:len(points), 1])}
                  for run, (points, _) in zip(race.runs, drawn, strict=True)
                  if run.grad_points is not None]
    return {"paths": paths, "ends": ends, "start": {"x": float32(starts[:1, 0]),
                                                    "y": float32(starts[:1, 1])},
            "grad_points": grad_paths}


#: The momentum conventions other than torch's, raced by "compare conventions", are
#: drawn dashed (sutskever) and dotted (ema) in their optimizer's colour.
FORM_DASHES = {"sutskever": "dash", "ema": "dot"}


def racer_title(run) -> str:
    """The optimizer's title, with its momentum convention when it is not torch's."""
    form = run.hyperparameters.get("momentum_form", "pytorch")
    return TITLES[run.optimizer] + ("" if form == "pytorch" else f" ({form})")


def racer_dash(run) -> str:
    return FORM_DASHES.get(run.hyperparameters.get("momentum_form"), DASHES[run.optimizer])


def race_figure(race: Race, theme: str = "light") -> go.Figure:
    """The contour map with one path per optimizer, start, ends and minima (no legend:
    the key under the map and the leaderboard name the colours)."""
    surface = race.surface
    colors = THEMES[theme]
    source, t_min, t_max = surface_image(surface, theme)
    (x0, x1), (y0, y1) = surface.window
    fig = go.Figure()
    hx = np.linspace(x0, x1, HOVER_GRID)
    hy = np.linspace(y0, y1, HOVER_GRID)
    hz = surface.map_value(*np.meshgrid(hx, hy))
    t, _, _ = contour_levels(surface, hz)
    fig.add_trace(go.Heatmap(
        x=hx, y=hy, z=float32(t), zmin=t_min, zmax=t_max, customdata=float32(hz), opacity=0,
        name="surface",
        colorscale=[[0, f"rgb{colors['low']}"], [1, f"rgb{colors['high']}"]], showscale=False,
        hovertemplate="f(%{x:.3g}, %{y:.3g}) = %{customdata:.4g}<extra></extra>",
        showlegend=False))
    data = path_traces_data(race)
    for run, path in zip(race.runs, data["paths"], strict=True):
        fig.add_trace(go.Scatter(
            x=path["x"], y=path["y"], mode=path_mode(race), name=racer_title(run),
            legendgroup=run.optimizer,
            line={"color": racer_color(run.optimizer, theme), "width": 2,
                  "dash": racer_dash(run)},
            marker={"size": 3.5, "color": racer_color(run.optimizer, theme)},
            hovertemplate=(f"<b>{racer_title(run)}</b> step %{{pointNumber}}<br>"
                           "x = %{x:.4g}, y = %{y:.4g}<extra></extra>")))
    ends = data["ends"]
    colours = [racer_color(run.optimizer, theme) for run in race.runs]
    fig.add_trace(go.Scatter(  # one trace for all ends: each trace costs every redraw
        x=ends["x"], y=ends["y"], mode="markers", showlegend=False, name="ends",
        text=ends["text"],
        marker={"size": 11, "color": colours, "symbol": ends["marker.symbol"],
                "line": {"width": 2.5, "color": colours}},
        hovertemplate="%{text} (%{x:.4g}, %{y:.4g})<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=data["start"]["x"], y=data["start"]["y"], mode="markers", name="start",
        marker={"symbol": "star", "size": 15, "color": colors["start"],
                "line": {"width": 1, "color": colors["paper"]}},
        hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>"))
    minima = np.array(surface.minima)
    fig.add_trace(go.Scatter(
        x=minima[:, 0], y=minima[:, 1], mode="markers", name="minimum",
        marker={"symbol": "cross-thin-open", "size": 14, "color": colors["ink"],
                "line": {"width": 2, "color": colors["ink"]}},
        hovertemplate="minimum (%{x:.4g}, %{y:.4g}), f = " + f"{surface.f_min:.4g}"
                      + "<extra></extra>"))
    fig.add_trace(go.Scatter(  # each run's point at the scrubber's step (assets/scrub.js)
        x=ends["x"], y=ends["y"], mode="markers", name="at step", visible=True,
        marker={"size": 9, "color": colours, "line": {"width": 1.5, "color": colors["paper"]}},
        hoverinfo="skip"))
    moved = [run for run in race.runs if run.grad_points is not None]
    for run, path in zip(moved, data["grad_points"], strict=True):  # after the others:
        # their indices stay as they were
        fig.add_trace(go.Scatter(
            x=path["x"], y=path["y"], mode="lines", name=f"{TITLES[run.optimizer]} gradient points",
            line={"color": racer_color(run.optimizer, theme), "width": 0.8},
            opacity=0.7, showlegend=False,
            hovertemplate=(f"<b>{TITLES[run.optimizer]}</b> gradient taken at step "
                           "%{pointNumber}<br>x = %{x:.4g}, y = %{y:.4g}<extra></extra>")))
    fig.update_layout(
        **themed_layout(theme),
        margin={"l": 56, "r": 10, "t": 30, "b": 48}, uirevision=str(surface.key),
        images=[{"source": source, "xref": "x", "yref": "y", "x": x0, "y": y1,
                 "sizex": x1 - x0, "sizey": y1 - y0, "sizing": "stretch", "layer": "below"}],
        xaxis={"range": [x0, x1], "title": {"text": surface.x_label}, "showgrid": False,
               "zeroline": False, "constrain": "domain"},
        yaxis={"range": [y0, y1], "title": {"text": surface.y_label}, "showgrid": False,
               "zeroline": False, "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        # no legend: the page's key and the leaderboard name the colours, and a legend
        # would be redrawn on every slider move (~10 ms)
        showlegend=False, hovermode="closest", dragmode="pan",
        meta={"traces": race_trace_layout(race)})
    return fig


def race_trace_layout(race: Race) -> dict:
    """Indices of the traces of the race map, for patches and the hover link: one path
    per run, the ends, the start, the minima, then a thin path per run that takes its
    gradients elsewhere than its path (Schedule-Free)."""
    n_runs = len(race.runs)
    n_moved = sum(run.grad_points is not None for run in race.runs)
    return {"paths": list(range(1, 1 + n_runs)), "ends": 1 + n_runs,
            "start": 2 + n_runs, "minimum": 3 + n_runs, "at_step": 4 + n_runs,
            "grad_points": list(range(5 + n_runs, 5 + n_runs + n_moved))}


def path_updates(race: Race) -> dict[int, dict]:
    """What a slider move changes on the race map: per trace index, its attributes
    (Plotly's restyle names, ``marker.symbol``; arrays float32). A ``Patch`` of the map
    (:func:`patch_race_figure`) and a drag's frames (callbacks/drag.py) both carry it."""
    layout = race_trace_layout(race)
    data = path_traces_data(race)
    mode = path_mode(race)
    updates = {index: {"x": path["x"], "y": path["y"], "mode": mode}
               for index, path in zip(layout["paths"], data["paths"], strict=True)}
    updates[layout["ends"]] = data["ends"]
    updates[layout["start"]] = data["start"]
    for index, path in zip(layout["grad_points"], data["grad_points"], strict=True):
        updates[index] = {"x": path["x"], "y": path["y"], "mode": "lines"}
    return updates


def decimated(points: dict, view) -> dict:
    """A path's points ({"x", "y"} arrays) with no more vertices than ``view`` has pixels
    for: ``view`` = (x0, x1, y0, y1, width px, height px); of consecutive points in the
    same half-pixel cell only the first is kept (and the last point), so the line drawn
    is within half a pixel of the full one."""
    x0, x1, y0, y1, width, height = view
    x, y = np.asarray(points["x"], dtype=np.float64), np.asarray(points["y"], dtype=np.float64)
    with np.errstate(all="ignore"):
        cell_x = np.round((x - x0) / (x1 - x0) * width * 2)
        cell_y = np.round((y - y0) / (y1 - y0) * height * 2)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = (cell_x[1:] != cell_x[:-1]) | (cell_y[1:] != cell_y[:-1])
    keep[-1] = True
    return {"x": points["x"][keep], "y": points["y"][keep]}


def encoded(value):
    """An attribute's value as it travels: arrays as float32 typed arrays."""
    return typed(value) if isinstance(value, np.ndarray) else value


def patch_race_figure(patch, race: Race) -> None:
    """Fill a ``dash.Patch`` of the race map with what a slider move changes."""
    for index, attributes in path_updates(race).items():
        for name, value in attributes.items():
            target = patch["data"][index]
            *parents, last = name.split(".")
            for parent in parents:
                target = target[parent]
            target[last] = encoded(value)


# --- the step scrubber ----------------------------------------------------------------------

def scrub_data(race: Race, axis: str = "steps") -> dict:
    """What the browser scrubs and plays from (assets/scrub.js), sent once per race: per
    run every point (a diverged run's stop at its last finite step), the number of points
    its drawn path shares with them and the edge point where a runaway path is cut
    (:func:`drawn_path`), and its loss gap; float32 typed arrays. On the evaluations
    ``axis``, each run's evaluations too (where the loss line at step k sits)."""
    runs = []
    for run in race.runs:
        drawn, cut = drawn_path(run, race.surface.window)
        runs.append({"optimizer": run.optimizer, "x": typed(run.params[:, 0]),
                     "y": typed(run.params[:, 1]), "loss": typed(loss_gap(race, run)),
                     "shared": len(drawn) - 1 if cut else len(drawn),
                     "edge": [float(v) for v in float32(drawn[-1])] if cut else None})
        if loss_x(run, axis) is not None:
            runs[-1]["evals"] = typed64(loss_x(run, axis).astype(np.float64))
    return {"steps": race.steps, "f_min": float(race.surface.f_min), "runs": runs,
            "axis": axis}


# --- inside a step: the mechanism arrows and the walkthrough --------------------------------

#: the points the scrub store already holds (each run's θ_k; Nesterov's look-ahead p_k is
#: torch's parameter, the same rows): named, not sent again
PATH_POINTS = (mechanism.ITERATE, mechanism.LOOKAHEAD)


def mechanism_data(race: Race) -> list[dict]:
    """Per run (``race`` simulated with ``state=True``), what its arrows at every step are
    drawn from (optim_core.mechanism): points other than the path's, arrows (origin, vector),
    the effective per-coordinate step size, hover labels; float32 typed arrays of
    (x, y) pairs, NaN where a quantity does not exist (never sent as JSON NaN)."""
    out = []
    for run in mechanism.arrows(race):
        out.append({
            "optimizer": run.optimizer, "labels": run.labels,
            "points": {name: typed(p.ravel()) for name, p in run.points.items()
                       if name not in PATH_POINTS},
            "arrows": {name: _arrow(a, run.points[a.origin]) for name, a in run.arrows.items()},
            "step_size": None if run.step_size is None else typed(run.step_size.ravel())})
    return out


def _arrow(arrow, origins: np.ndarray) -> dict:
    """An arrow as it travels: one from each point k to point k + 1 of its origin (the
    step) as ``to_next`` (the browser has both points: half the store's bytes), any
    other with its vectors."""
    following = np.full_like(origins, np.nan)
    following[:-1] = origins[1:] - origins[:-1]
    if np.array_equal(arrow.vector, following, equal_nan=True):
        return {"origin": arrow.origin, "to_next": True}
    return {"origin": arrow.origin, "vector": typed(arrow.vector.ravel())}


#: the walkthrough's column titles (a state field's is its torch name)
WALKTHROUGH_TITLES = {"k": "k", "theta": "θₖ (torch's parameter)", "gradient": "gradient",
                      "update": "update"}


def walkthrough_data(trajectory) -> dict:
    """One run's walkthrough at every step (optim_core.mechanism.walkthrough): its columns,
    their titles and formulas, each column as a float64 typed array (a pair per row for
    the (x, y) ones); the browser shows rows k − 2 … k + 2 (or the first five)."""
    table = mechanism.walkthrough(trajectory, 0, around=len(trajectory.loss))
    values, pairs = {}, []
    for column in table.columns[1:]:
        cells = [row[column] for row in table.rows]
        if any(isinstance(cell, list) for cell in cells):
            pairs.append(column)
            cells = [cell if isinstance(cell, list) else [None, None] for cell in cells]
        values[column] = typed64(np.array(cells, dtype=np.float64).ravel())
    return {"optimizer": trajectory.optimizer, "title": TITLES[trajectory.optimizer],
            "rows": len(table.rows), "columns": list(table.columns[1:]), "pairs": pairs,
            "titles": {c: WALKTHROUGH_TITLES.get(c, c) for c in table.columns[1:]},
            "formulas": {c: table.formulas[c] for c in table.columns[1:]}, "values": values}


# --- loss versus step ------------------------------------------------------------------------

def loss_x(run, axis: str):
    """A run's loss curve's x: None for steps (x0 = 0, dx = 1), else its evaluations of
    f and ∇f up to each step (``axis`` "evals": settings.AXES)."""
    return None if axis == "steps" else run.evals


def loss_figure(race: Race, theme: str = "light", axis: str = "steps") -> go.Figure:
    colors = THEMES[theme]
    fig = go.Figure()
    for run in race.runs:
        x = loss_x(run, axis)
        fig.add_trace(go.Scatter(
            y=float32(loss_gap(race, run)), x0=0, dx=1, mode="lines",
            x=None if x is None else x.astype(np.float64),
            name=racer_title(run), legendgroup=run.optimizer,
            line={"color": racer_color(run.optimizer, theme), "width": 2,
                  "dash": racer_dash(run)},
            hovertemplate=f"{racer_title(run)}: %{{y:.3e}}<extra></extra>"))
    fig.add_hline(y=TOLERANCE, line={"dash": "dot", "width": 1, "color": colors["muted"]})
    # on a log axis an annotation's y is log10 of the value (add_hline's own label would
    # sit at 10^1e-6, i.e. at 1, far above its line)
    fig.add_annotation(text=f"tolerance {TOLERANCE:g}", x=1, xref="paper", xanchor="right",
                       y=math.log10(TOLERANCE), yref="y", yanchor="top", showarrow=False,
                       font={"size": 10, "color": colors["muted"]})
    fig.update_layout(
        **themed_layout(theme),
        margin={"l": 64, "r": 10, "t": 30, "b": 48}, showlegend=False,
        uirevision=str(race.surface.key), hovermode="x unified",
        xaxis={"title": {"text": "step" if axis == "steps" else "f, ∇f evaluations"},
               "gridcolor": colors["grid"], "zeroline": False,
               "showspikes": True, "spikemode": "across", "spikethickness": 1},
        yaxis={"title": {"text": f"f(x) − f*  (log scale; below {LOSS_FLOOR:g} drawn at "
                                 f"{LOSS_FLOOR:g})"}, "type": "log",
               "gridcolor": colors["grid"], "exponentformat": "power"})
    return fig


def loss_curves(race: Race, axis: str = "steps") -> dict:
    """What a slider move changes on the loss plot: each run's curve's y (typed arrays,
    in trace order) and, on the evaluations axis, its x (an L-BFGS run's evaluations
    move with lr). The browser patches them in (``drawLoss`` in assets/app.js,
    ``draw`` in assets/drag.js)."""
    curves = {"y": [typed(loss_gap(race, run)) for run in race.runs]}
    if axis != "steps":
        curves["x"] = [typed64(loss_x(run, axis).astype(np.float64)) for run in race.runs]
    return curves


# --- the line fit in data space ---------------------------------------------------------------

def fit_lines(race: Race, step: int | None = None) -> dict:
    """Each run's line y = w·x + b at ``step`` (None: its last; a run ends where it
    diverged), over the data's x range: {"x": [x0, x1], "y": [[y0, y1] per run]}."""
    surface = race.surface
    ends = np.array([surface.data_x.min(), surface.data_x.max()])
    lines = []
    for run in race.runs:
        k = len(run.params) - 1 if step is None else min(step, len(run.params) - 1)
        w, b = run.params[k]
        lines.append((w * ends + b).tolist())
    return {"x": ends.tolist(), "y": lines}


def fit_figure(race: Race, theme: str = "light", step: int | None = None) -> go.Figure:
    """The line fit's data points and each optimizer's fitted line (its (w, b) on the
    map) at ``step``: what the path means in data space. The least-squares line is the
    map's minimum."""
    surface = race.surface
    colors = THEMES[theme]
    lines = fit_lines(race, step)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=float32(surface.data_x), y=float32(surface.data_y), mode="markers", name="data",
        marker={"size": 6, "color": colors["muted"], "opacity": 0.8},
        hovertemplate="(%{x:.3g}, %{y:.3g})<extra>data</extra>"))
    (w_best, b_best), = surface.minima[:1]
    fig.add_trace(go.Scatter(
        x=lines["x"], y=[w_best * x + b_best for x in lines["x"]], mode="lines",
        name="least squares", line={"color": colors["ink"], "width": 1, "dash": "dot"},
        hovertemplate=f"least squares: y = {w_best:.4g}·x + {b_best:.4g}<extra></extra>"))
    for run, y in zip(race.runs, lines["y"], strict=True):
        fig.add_trace(go.Scatter(
            x=lines["x"], y=y, mode="lines", name=racer_title(run),
            line={"color": racer_color(run.optimizer, theme), "width": 2,
                  "dash": racer_dash(run)},
            hovertemplate=_fit_hover(run, step)))
    low, high = float(surface.data_y.min()), float(surface.data_y.max())
    pad = 0.25 * (high - low or 1.0)
    fig.update_layout(
        **themed_layout(theme),
        title={"text": "The data, and each optimizer's line y = w·x + b at its last step",
               "font": {"size": 12}, "x": 0.01},
        margin={"l": 48, "r": 10, "t": 28, "b": 36}, showlegend=False,
        uirevision=str(surface.key), hovermode="closest",
        xaxis={"title": {"text": "x"}, "gridcolor": colors["grid"], "zeroline": False},
        yaxis={"title": {"text": "y"}, "gridcolor": colors["grid"], "zeroline": False,
               "range": [low - pad, high + pad]})
    return fig


#: the fit figure's traces: the data, the least-squares line, then one line per run
FIT_FIRST_LINE = 2


def _fit_hover(run, step: int | None) -> str:
    k = len(run.params) - 1 if step is None else min(step, len(run.params) - 1)
    w, b = run.params[k]
    return f"<b>{racer_title(run)}</b> step {k}: y = {w:.4g}·x + {b:.4g}<extra></extra>"


def patch_fit_figure(patch, race: Race, step: int | None = None) -> None:
    """Fill a ``dash.Patch`` of the fit figure with what a move changes: the fitted lines
    (the data points are not sent again)."""
    for i, (run, y) in enumerate(zip(race.runs, fit_lines(race, step)["y"], strict=True)):
        patch["data"][FIT_FIRST_LINE + i]["y"] = y
        patch["data"][FIT_FIRST_LINE + i]["hovertemplate"] = _fit_hover(run, step)


# --- images for slides -------------------------------------------------------------------------

#: Pixel size of the exported images (Plotly scales the fonts with them).
IMAGE_SIZES = {"map": (1000, 900), "loss": (1000, 700)}
CAPTION_WIDTH = 110


def image_caption(settings, surface: Surface) -> str:
    """One line of settings under an exported plot: the surface and the race, then each
    racer's own lr and μ (``settings``: settings.RaceSettings)."""
    start = settings.start(surface)
    parts = [surface.name + (f" (κ = {surface.kappa:g})" if surface.name == "ravine" else ""),
             f"start ({start[0]:g}, {start[1]:g})", f"{settings.steps} steps"]
    if settings.noise:
        parts.append(f"noise σ {settings.noise:g}, seed {settings.seed}")
    if settings.batch_size:
        parts.append(f"batch {settings.batch_size}")
    for optimizer in settings.optimizers:
        own = own_values(settings, optimizer)
        mu = "β₁" if optimizer in ("adam", "adamw", "nadam") else "μ"
        parts.append(f"{TITLES[optimizer]} lr {own['lr']:g}"
                     + (f", {mu} {own['momentum']:g}" if "momentum" in own else ""))
    lines = [parts[0]]
    for part in parts[1:]:  # lines of at most CAPTION_WIDTH characters, cut at a " · "
        if len(lines[-1]) + 3 + len(part) > CAPTION_WIDTH:
            lines.append(part)
        else:
            lines[-1] += " · " + part
    return "<br>".join(lines)


def image_export(settings, surface: Surface, image_format: str) -> dict:
    """What the browser needs to export both plots (assets/app.js ``exportImages``):
    the caption, the file names and sizes."""
    names = {plot: f"optimizer-race-{plot}-{surface.name}" for plot in IMAGE_SIZES}
    return {"format": image_format, "caption": image_caption(settings, surface),
            "names": names, "sizes": {k: list(v) for k, v in IMAGE_SIZES.items()}}
