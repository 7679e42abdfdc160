"""Reusable, declarative pieces: labelled controls with an error line, cards, tables.

Factories take the ids they render and use them; styles live in assets/style.css.
"""

from __future__ import annotations

import html as html_text
import math
import re

from dash import dcc, html
from dash.development.base_component import Component

from . import ids


def control(label: str, body, control_id: str, hint: str | None = None,
            class_name: str = "") -> html.Div:
    """A labelled control with its hint and the line where its error message goes."""
    return html.Div([
        html.Label(label, htmlFor=control_id, className="control-label"),
        body,
        html.Div(hint, className="control-hint") if hint else None,
        html.Div(id=ids.error_id(control_id), className="control-error", role="alert"),
    ], className=f"control {class_name}".strip())


def number_input(control_id, value, *, placeholder: str = "", width: str | None = "100%",
                 class_name: str = "", integer: bool = False, **kwargs) -> dcc.Input:
    """A box for one number, as text: the server parses and checks what was typed and
    names it in its message. (A ``type=number`` box sends nothing for text the browser
    deems invalid, out of its min/max or off its step, so the message could only say
    "got nothing"; and Dash's number box ignores an Enter that retypes the value the box
    held before a callback last wrote it.)"""
    return dcc.Input(id=control_id, type="text", inputMode="numeric" if integer else "decimal",
                     value=value, placeholder=placeholder, debounce=True, autoComplete="off",
                     className=f"number-input {class_name}".strip(),
                     style={"width": width} if width else None, **kwargs)


def _slider_box(slider, drag: str | None) -> html.Div:
    return html.Div(slider, className="slider", **({"data-drag": drag} if drag else {}))


def log_slider(slider_id: str, input_id: str, value: float, low: int, high: int,
               label: str, hint: str, drag: str | None = None) -> html.Div:
    """A log-scale slider (value in log10 units) with the real value as a number input.

    ``drag``: the setting a pointer drag moves through assets/drag.js (the slider then
    tells Dash only where the drag ends), else None (every move is a Dash update)."""
    marks = {e: {"label": _decade(e)} for e in range(low, high + 1) if (high - e) % 2 == 0}
    return control(label, html.Div([
        _slider_box(dcc.Slider(id=slider_id, min=low, max=high, step=0.01,
                               value=math.log10(value), marks=marks,
                               updatemode="mouseup" if drag else "drag",
                               allow_direct_input=False), drag),
        number_input(input_id, value, width="6.5em"),
    ], className="slider-row"), input_id, hint)


def linear_slider(slider_id: str, input_id: str, value: float, low: float, high: float,
                  step: float, marks: dict, label: str, hint: str,
                  drag: str | None = None) -> html.Div:
    """A slider with its value as a number input (``drag``: as :func:`log_slider`)."""
    return control(label, html.Div([
        _slider_box(dcc.Slider(id=slider_id, min=low, max=high, step=step, value=value,
                               marks={k: {"label": v} for k, v in marks.items()},
                               updatemode="mouseup" if drag else "drag",
                               allow_direct_input=False), drag),
        number_input(input_id, value, width="6.5em"),
    ], className="slider-row"), input_id, hint)


def graph_config(**config) -> dict:
    """A graph's config: no Plotly logo, and no "Share chart" button, which uploads the
    figure to Plotly Cloud (the app's link is its URL)."""
    remove = ["sendChartToCloud", *config.pop("modeBarButtonsToRemove", [])]
    return {"displaylogo": False, "responsive": True, **config,
            "modeBarButtonsToRemove": remove}


def _decade(exponent: int) -> str:
    return {-1: "0.1", 0: "1", 1: "10", -2: "0.01"}.get(exponent, f"1e{exponent}")


def card(title: str, children, *, card_id: str | None = None, actions=None,
         class_name: str = "") -> html.Section:
    header = html.Div([html.H2(title), html.Div(actions, className="card-actions")],
                      className="card-header")
    props = {"id": card_id} if card_id else {}
    return html.Section([header, *children], className=f"card {class_name}".strip(), **props)


def swatch(color: str) -> html.Span:
    return html.Span(className="swatch", style={"background": color})


def table(header: list, rows: list, class_name: str = "") -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                      className=f"table {class_name}".strip())


# --- panels that change on every slider move -------------------------------------------------

def html_panel(panel_id: str, class_name: str = "") -> dcc.Markdown:
    """A panel whose content a callback sends as an HTML string (see :func:`to_html`).

    The leaderboard and the theory readout change on every slider move. Sent as Dash
    components, each update would replace ~85 components, and Dash re-indexes the layout
    and resets the state of every one it removes, in the browser, before the paths are
    drawn. As one string they are one property of one component."""
    return dcc.Markdown(id=panel_id, className=class_name, dangerously_allow_html=True,
                        dedent=False)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_ATTRIBUTES = {"className": "class", "htmlFor": "for"}


def to_html(node) -> str:
    """Dash ``html`` components (and strings, numbers, lists) as an escaped HTML string.

    Layouts stay declarative: they build components as everywhere else, and this renders
    them for an :func:`html_panel`. One line, so Markdown takes it as one HTML block."""
    if node is None:
        return ""
    if isinstance(node, (list, tuple)):
        return "".join(to_html(child) for child in node)
    if isinstance(node, (str, int, float)):
        return html_text.escape(str(node), quote=False)
    if not isinstance(node, Component) or node._namespace != "dash_html_components":
        raise TypeError(f"to_html renders dash.html components, not {type(node).__name__}")
    tag = node._type.lower()
    attributes = []
    for name in node._prop_names:
        value = getattr(node, name, None)
        if name == "children" or value is None:
            continue
        if name == "style":
            value = ";".join(f"{_CAMEL.sub('-', key).lower()}:{item}"
                             for key, item in value.items())
        attributes.append(f' {_ATTRIBUTES.get(name, name.lower())}="'
                          f'{html_text.escape(str(value), quote=True)}"')
    return f"<{tag}{''.join(attributes)}>{to_html(getattr(node, 'children', None))}</{tag}>"
