"""The browser code's component ids are layouts/ids.py's: every id that assets/*.js, the
benchmarks, the browser tests' page helpers and the screenshot script spell out as a
literal (a CSS ``#id``, ``getElementById``, ``set_props``, an ``id`` compared or given, a
``"<id>.<property>"``) must be one of its values, so renaming an id there fails here
rather than in a page that silently stops updating."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layouts import ids

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("assets/*.js"), *ROOT.glob("benchmarks/*.py"),
                  ROOT / "tests" / "browser" / "pages.py", ROOT / "scripts" / "screenshot.py"])
#: the Dash properties the browser code reads or sets by ``"<id>.<property>"``
PROPERTIES = ("figure", "value", "data", "children", "n_clicks", "style", "className",
              "search", "href", "pathname", "hash", "clickData", "relayoutData", "hoverData",
              "options", "disabled", "hidden", "open")
QUOTE = r"""["'`]"""
LITERAL = QUOTE + r"""(?P<id>[^"'`]+?)""" + QUOTE
PATTERNS = [
    # a CSS id selector, anywhere in a selector ("#race-graph .js-plotly-plot"); a
    # "#" followed by a space (a comment) or by "{" (an f-string) is none
    re.compile(r"(?<![&#])#(?P<id>[A-Za-z][\w-]*)"),
    re.compile(r"getElementById\(\s*" + LITERAL),
    re.compile(r"set_props\(\s*" + LITERAL),
    # an id given ({id: "x"}, {"id": "x"}) or compared (c.props.id === "x",
    # item.get("id") == "x", item["id"] != "x")
    re.compile(r"""\bid["'`]?\s*:\s*""" + LITERAL),
    re.compile(r"""\bid\b["'`\])]*\s*[!=]==?\s*""" + LITERAL),
    # a property of a component: "race-graph.figure", ``lr-slider.value``
    re.compile(r"(?<![\w.-])(?P<id>[A-Za-z][\w]*(?:-[\w]+)+)\.(?:" + "|".join(PROPERTIES)
               + r")\b"),
    re.compile(r"""["'`](?P<id>[A-Za-z][\w-]*)\.(?:""" + "|".join(PROPERTIES)
               + r""")["'`]"""),
]
HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3,8}")


def known_ids() -> set[str]:
    """Every id layouts/ids.py defines, and each one's ``-error`` line."""
    values = {value for value in vars(ids).values() if isinstance(value, str)}
    for value in vars(ids).values():
        if isinstance(value, dict):
            values |= {v for v in value.values() if isinstance(v, str)}
    return values | {ids.error_id(value) for value in values}


def literal_ids(text: str) -> list[tuple[int, str]]:
    """(line, id) of every component id spelled out in ``text``, in order, each once."""
    found = set()
    for pattern in PATTERNS:
        for match in pattern.finditer(text):
            name = match.group("id")
            if pattern is PATTERNS[0] and HEX_COLOUR.fullmatch(name):
                continue  # a colour (#1f77b4), not a selector
            found.add((text.count("\n", 0, match.start()) + 1, name))
    return sorted(found)


@pytest.mark.parametrize("snippet, expected", [
    ("document.querySelector('#race-graph .js-plotly-plot')", "race-graph"),
    ('target.closest("#race-graph")', "race-graph"),
    ("event.target.matches('#lr-slider [role=slider]')", "lr-slider"),
    ("div#leaderboard > table", "leaderboard"),
    ('document.getElementById("race-graph")', "race-graph"),
    ('window.dash_clientside.set_props("share-note", { children: null })', "share-note"),
    ('props: { id: "share-text", children: 1 }', "share-text"),
    ('c.props && c.props.id === "share-text"', "share-text"),
    ('if item.get("id") == "race-structure-store":', "race-structure-store"),
    ('item["id"] != "race-structure-store"', "race-structure-store"),
    ("t.prop_id === 'race-follow-up-store.data'", "race-follow-up-store"),
    ('RACE_OUTPUT = "race-graph.figure"', "race-graph"),
    ("outputs ``url.search`` and", "url"),
])
def test_the_scan_finds_each_way_of_writing_an_id(snippet, expected):
    assert [name for _, name in literal_ids(snippet)] == [expected]


@pytest.mark.parametrize("snippet", [
    "# a comment", "#: a documented constant", 'f"#{ids.LR_SLIDER} [role=slider]"',
    "color: '#1f77b4'", "see issue #14", "a.b && c", "x.closest('.slider')",
])
def test_the_scan_ignores_what_is_no_id(snippet):
    assert literal_ids(snippet) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_literal_id_in_the_browser_code_is_one_of_layouts_ids(path):
    known = known_ids()
    unknown = [(line, name) for line, name in literal_ids(path.read_text())
               if name not in known]
    assert not unknown, (f"{path.relative_to(ROOT)}: ids not in layouts/ids.py (line, id): "
                         f"{unknown}")


def test_the_scan_reads_the_browser_code():
    # the ids the page's script is known to use are seen (a scan that finds nothing
    # would pass above whatever the files held)
    seen = {name for _, name in literal_ids((ROOT / "assets" / "app.js").read_text())}
    assert {ids.RACE_GRAPH, ids.LOSS_GRAPH, ids.SHARE_TEXT, ids.HISTORY, ids.START_CLICK,
            ids.RACE_FOLLOW_UP} <= seen
