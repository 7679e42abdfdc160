"""What a callback request may hold, checked before any callback runs.

The browser sends back what the server gave it (the stores) and what the user typed (the
controls); a script can send anything. ``check_request`` answers with the reason a
request is malformed, or None: its shape must match the callback it names (Dash's
``callback_map``), and every store's value must have the shape and size the server
writes. So a request that passes is the client's own kind of request, and anything that
still fails while answering it is a fault of ours (a 5xx), not of the client (a 4xx).
"""

from __future__ import annotations

import json
import math

from layouts import ids
from optim_core.optimizers import OPTIMIZER_NAMES
from optim_core.params import LIMITS
from optim_core.userdata import MAX_BYTES as MAX_POINTS_BYTES
from settings import STORED_FIELDS, parse_controls

SETTING_NAMES = STORED_FIELDS

#: the largest request body accepted (bytes); the browser's largest, a race update with
#: every override set, is ~6 KB
MAX_BODY = 256 * 1024
#: a store without its own rule below: at most this much JSON
MAX_STORE_JSON = 64 * 1024
MAX_TEXT = 4096
#: traces of a phase diagram (its layout.meta indices point into them)
MAX_TRACES = 16
SWEEP_META = ("current_trace", "diverged_layer", "diverged_key")
#: a store's fields without a rule of their own: a few, each small
MAX_OTHER_FIELDS, MAX_OTHER_FIELD_JSON = 16, 2048


class Malformed(ValueError):
    """The reason a request is not one the page could have sent."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _small_json(value, limit: int) -> None:
    if len(json.dumps(value, separators=(",", ":"))) > limit:
        raise Malformed(f"larger than {limit:,} bytes")


def _others(value: dict, known: set) -> None:
    """The fields of a store that have no rule here (one added later, say): small."""
    others = [key for key in value if key not in known]
    if len(others) > MAX_OTHER_FIELDS:
        raise Malformed("too many fields")
    for key in others:
        try:
            _small_json(value[key], MAX_OTHER_FIELD_JSON)
        except Malformed as error:
            raise Malformed(f"{str(key)[:40]!r}: {error}") from None


def _race_state(value) -> None:
    if not isinstance(value, dict):
        raise Malformed("not a race state")
    _others(value, {"settings", "query"})
    settings = value.get("settings")
    if not isinstance(settings, dict):
        raise Malformed("no race settings")
    if not isinstance(value.get("query", ""), str) or len(value.get("query", "")) > MAX_TEXT:
        raise Malformed("a query that is not a short text")
    _settings(settings)


def _settings(settings) -> None:
    """Race settings as the server writes them: parse_controls takes them back as is."""
    if not isinstance(settings, dict):
        raise Malformed("no race settings")
    _small_json(settings, 8 * 1024)
    if set(settings) != SETTING_NAMES:
        raise Malformed("race settings with unknown or missing fields")
    try:
        parsed, errors = parse_controls(settings)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise Malformed("race settings that cannot be read") from error
    if parsed is None:
        raise Malformed(f"invalid race settings ({', '.join(sorted(errors))})")


def _overrides(value) -> None:
    if not isinstance(value, dict) or len(value) > len(OPTIMIZER_NAMES):
        raise Malformed("not {optimizer: {parameter: value}}")
    for optimizer, params in value.items():
        if optimizer not in OPTIMIZER_NAMES or not isinstance(params, dict) or len(params) > 16:
            raise Malformed("not {optimizer: {parameter: value}}")
        for name, item in params.items():
            pair = isinstance(item, list) and len(item) == 2 and all(  # rprop.etas
                isinstance(v, (int, float, str)) and len(str(v)) <= 64 for v in item)
            if len(name) > 64 or not (item is None or isinstance(item, (bool, int, float))
                                      or isinstance(item, str) and len(item) <= 64 or pair):
                raise Malformed("an override that is not a short value")


def _sweep_result(value) -> None:
    if not isinstance(value, dict):
        raise Malformed("not a phase diagram")
    _settings(value.get("race"))
    resolution = value.get("resolution")
    if not isinstance(resolution, int) or not 2 <= resolution <= LIMITS["sweep_resolution"]:
        raise Malformed("a grid size out of range")
    for axis in ("lrs", "momenta"):
        cells = value.get(axis)
        if not isinstance(cells, list) or len(cells) > LIMITS["sweep_resolution"] \
                or not all(_number(c) for c in cells):
            raise Malformed(f"{axis}: not a list of at most {LIMITS['sweep_resolution']} "
                            "numbers")
    lines = value.get("ink_lines")
    indices = [*(lines if isinstance(lines, list) else [None]),
               *(value.get(key) for key in SWEEP_META)]
    if len(indices) > MAX_TRACES + len(SWEEP_META) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < MAX_TRACES
            for i in indices):
        raise Malformed(f"trace indices that are not below {MAX_TRACES}")
    _others(value, {"race", "lrs", "momenta", "ink_lines", *SWEEP_META})


def _short_text(value) -> None:
    if value is not None and not (isinstance(value, str) and len(value) <= 64):
        raise Malformed("not a short text")


def _points_text(limit: int):
    """An upload's contents or a paste: one text of at most ``limit`` characters (the
    callback parses it, bounded, and names what is wrong)."""
    def rule(value) -> None:
        if not isinstance(value, str) or len(value) > limit:
            raise Malformed(f"not a text of at most {limit:,} characters")
    return rule


#: base64 of the largest CSV the parser reads, with its data: prefix
MAX_UPLOAD_TEXT = 4 * -(-MAX_POINTS_BYTES // 3) + 256
#: (component id, property) -> its rule, for inputs larger than a store's default bound
PROPERTIES = {(ids.POINTS_UPLOAD, "contents"): _points_text(MAX_UPLOAD_TEXT),
              (ids.POINTS_PASTE, "value"): _points_text(MAX_POINTS_BYTES)}

#: store id -> its rule (None is always fine: a store not written yet)
STORES = {ids.RACE_STATE: _race_state, ids.OVERRIDES_STORE: _overrides,
          ids.SWEEP_RESULT: _sweep_result, ids.THEME: _short_text, ids.PAGE: _short_text,
          ids.RACE_STRUCTURE: lambda v: _small_json(v, MAX_TEXT),
          ids.DATA_DRAWN: lambda v: _small_json(v, MAX_TEXT)}


def _dependency(item, spec: dict, where: str) -> None:
    """One input or state of the request against its spec in the callback map."""
    wildcard = spec["id"].startswith("{")
    entries = item if wildcard else [item]
    if not isinstance(entries, list) or len(entries) > 200:
        raise Malformed(f"{where}: not a list of components")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("property") != spec["property"] or (
                not wildcard and entry.get("id") != spec["id"]):
            raise Malformed(f"{where}: not {spec['id']}.{spec['property']}")
        value = entry.get("value")
        component = entry.get("id")  # a pattern-matched one's is a dict
        component = component if isinstance(component, str) else None
        rule = STORES.get(component) if entry.get("property") == "data" else \
            PROPERTIES.get((component, entry.get("property")))
        if value is None:
            continue
        try:
            (rule or (lambda v: _small_json(v, MAX_STORE_JSON)))(value)
        except Malformed as error:
            raise Malformed(f"{where} {entry.get('id')}: {error}") from None


def check_request(body, callback_map: dict) -> None:
    """Raise :class:`Malformed` unless ``body`` is a request the page could send."""
    if not isinstance(body, dict):
        raise Malformed("not a JSON object")
    spec = callback_map.get(body.get("output")) if isinstance(body.get("output"), str) \
        else None
    if spec is None:
        raise Malformed("no such callback")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > 200 or not all(
            isinstance(c, str) and len(c) <= 300 for c in changed):
        raise Malformed("changedPropIds: not a list of names")
    for part in ("inputs", "state"):
        items = body.get(part, [])
        specs = spec.get(part, [])
        if not isinstance(items, list) or len(items) != len(specs):
            raise Malformed(f"{part}: {len(specs)} expected")
        for index, (item, item_spec) in enumerate(zip(items, specs, strict=True)):
            _dependency(item, item_spec, f"{part}[{index}]")
