"""Your own points for the line fit: the parser, the line fit on them, their store and
URL, the CLI's --data, and hostile uploads through the callbacks and the HTTP layer."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

import optim_core as oc
import settings as app_settings
from layouts import ids
from optim_core.surfaces import regression_on_points, regression_value
from optim_core.userdata import (
    MAX_BYTES,
    DataError,
    Points,
    least_squares_line,
    parse_points,
    read_points,
)
from settings import RaceSettings, from_query, keep_points, parse_controls, stored_points
from tests.test_robustness import NON_FINITE, error_text, payload, post, server  # noqa: F401

LINE = "x,y\n0,1\n1,3\n2,5.5\n3,6.5\n"


@pytest.fixture(autouse=True)
def _points_store(monkeypatch):
    """A store of this test's own: an app another test made may have left settings
    pointing at its Redis, stopped since."""
    monkeypatch.setattr(app_settings, "_STORE", {"points": app_settings._MemoryStore()})
    app_settings._points_by_digest.cache_clear()
    yield
    app_settings._points_by_digest.cache_clear()


# --- the parser ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    LINE, "0,1\n1,3\n2,5.5\n3,6.5", "0;1\n1;3\n2;5.5\n3;6.5\n", "0\t1\n1\t3\n2\t5.5\n3\t6.5\n",
    "  0  1\n1 3\n\n2 5.5\n3    6.5\n", "\ufeffx,y\r\n0,1\r\n1,3\r\n2,5.5\r\n3,6.5\r\n",
    '"x","y"\n"0","1"\n1,3\n2,5.5\n3,6.5\n', "y,x\n1,0\n3,1\n5.5,2\n6.5,3\n",
    "x,y\n0,1\n1,3\n2,5.5e0\n3,65e-1\n", "x,y\n0,1\n1,3\n2,5.5\n3,6.5\n\n\n",
    b"x,y\n0,1\n1,3\n2,5.5\n3,6.5\n"])
def test_the_same_points_however_written(text):
    points = parse_points(text)
    assert points.x.tolist() == [0, 1, 2, 3] and points.y.tolist() == [1, 3, 5.5, 6.5]
    assert points.digest == parse_points(LINE).digest


def test_a_typographic_minus_and_the_canonical_text_round_trips():
    points = parse_points("x,y\n\u22121.5,2\n0.1,-3e-3\n1e3,4\n")
    assert points.x.tolist() == [-1.5, 0.1, 1000.0]
    again = parse_points(points.to_csv())
    assert again.digest == points.digest
    assert np.array_equal(again.x, points.x) and np.array_equal(again.y, points.y)
    different = parse_points("x,y\n-1.5,2\n0.1,-3e-3\n1e3,4.000000000000001\n")
    assert different.digest != points.digest


@pytest.mark.parametrize("text,row,words", [
    ("x,y\n0,1\n1,abc\n", 3, "'abc' is not a number"),
    ("x,y\n0,1\n1,nan\n", 3, "'nan' is not a number"),
    ("x,y\n0,1\n1,NaN\n2,3\n", 3, "'NaN' is not a number"),
    ("x,y\n0,1\n1,inf\n", 3, "'inf' is not a number"),
    ("x,y\n0,1\n1,-Infinity\n", 3, "'-Infinity' is not a number"),  # float() takes it
    ("x,y\n0,1\n1,1.2.3\n", 3, "'1.2.3' is not a number"),
    ("x,y\n0,1\n1,\u00bd\n", 3, "VULGAR FRACTION ONE HALF, U+00BD"),
    ("x,y\n0,1\n1,1e999\n", 3, "beyond ±1e+06"),
    ("x,y\n0,1\n1,2e6\n", 3, "beyond ±1e+06"),
    ("x,y\n0,1\n1,2,3\n", 3, "3 columns"),
    ("x,y\n0,1\n\n7\n", 4, "1 columns"),
    ("0,1\n1,0x1F\n", 2, "'0x1F' is not a number"),
    ("0,1\n1,1_000\n", 2, "'1_000' is not a number"),
    ("0,1\n1,\u0661\n", 2, "ARABIC-INDIC DIGIT ONE"),
    ("0,1\n__import__('os'),1\n", 2, "is not a number"),
    ("x,y\n0,1\nx,y\n", 3, "'x' is not a number"),
])
def test_every_bad_row_is_named(text, row, words):
    _assert_refused_at(text, row, words)


@pytest.mark.parametrize("text,row,words", [
    (b"x,y\n0,1\n\x00\x01\x02", 3, "NUL byte"),
    (b"x,y\n0,1\n1,\xff\xfe\n", 3, "not UTF-8"),
    ("0,1\n" * 1001, 1001, "more than 1,000 points"),
    ("x,y\n" + "0,1\n1,2\n" * 500 + "5,5\n", 1002, "more than 1,000 points"),
])
def test_a_file_not_text_or_too_long_is_named_at_its_row(text, row, words):
    _assert_refused_at(text, row, words)


def _assert_refused_at(text, row, words):
    with pytest.raises(DataError) as caught:
        parse_points(text)
    assert caught.value.row == row and words in caught.value.reason, caught.value.reason
    assert caught.value.parameter == "data" and f"row {row:,}" in str(caught.value)


@pytest.mark.parametrize("text,words", [
    ("", "0 points"), ("x,y\n", "0 points"), ("x,y\n1,2\n", "1 point;"),
    ("x,y\n1,2\n1,5\n1,7\n", "every x is 1.0"),
    ("x,y\n0,0\n1e-6,1e6\n", "slope w* is 1e+12"),
    (12345, "expected CSV text"),
])
def test_a_dataset_a_line_cannot_fit_is_refused(text, words):
    with pytest.raises(DataError) as caught:
        parse_points(text)
    assert words in caught.value.reason and caught.value.row is None


@pytest.mark.parametrize("data", [b"1,1\n" * 10**6, "1,1\n" * 10**6, b"\0" * (100 * 2**20),
                                  "x" * 2**20])
def test_anything_over_the_size_bound_is_refused_before_it_is_decoded(data):
    tracemalloc.start()
    with pytest.raises(DataError) as caught:
        parse_points(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert f"at most {MAX_BYTES:,}" in caught.value.reason
    assert peak < 1e6  # nothing decoded, copied or split


def test_read_points_reads_no_more_than_the_bound(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.truncate(100 * 2**20)  # 100 MB of NUL bytes, sparse
    with pytest.raises(DataError, match="larger than"):
        read_points(big)
    small = tmp_path / "small.csv"
    small.write_text(LINE)
    assert read_points(small).digest == parse_points(LINE).digest


# --- the line fit on them -----------------------------------------------------------------

def test_the_line_fit_runs_on_the_users_points():
    points = parse_points(LINE)
    surface = regression_on_points(points.x, points.y, points.digest)
    w, b = least_squares_line(points.x, points.y)
    assert surface.minima == ((w, b),) and surface.n_points == 4
    assert surface.data == points.digest and points.digest in surface.key
    assert surface.f_min == pytest.approx(regression_value(w, b, points.x, points.y))
    race = oc.simulate(surface, ["sgd"], steps=2, lr=0.01)
    residuals = 0.0 * points.x + 0.0 - points.y  # the default start (0, 0)
    assert race.runs[0].loss[0] == pytest.approx(np.mean(residuals ** 2))
    assert race.runs[0].grads[0].tolist() == pytest.approx(
        [np.mean(2 * residuals * points.x), np.mean(2 * residuals)])
    generated = oc.get_surface("regression")
    assert generated.data is None and len(generated.key) == 4


# --- kept by digest, in the URL -----------------------------------------------------------

def on_points(points: Points) -> RaceSettings:
    return replace(RaceSettings.preset("regression"), data=points.digest, points=None,
                   batch_size=None)


def test_a_link_names_the_points_by_digest_and_reopens_them():
    points = keep_points(LINE)
    settings = on_points(points)
    query = settings.to_query()
    assert f"data={points.digest}" in query and "0,1" not in query
    again, notes = from_query(query)
    assert again == settings and notes == []
    assert again.surface_object().minima == ((least_squares_line(points.x, points.y)),)
    assert "--data" in again.cli_args() and points.digest[:8] in " ".join(again.cli_args())


def test_points_another_worker_kept_are_found_in_the_shared_store(monkeypatch):
    class Store:  # what callbacks/jobs.py's managers offer (diskcache or Redis)
        def __init__(self):
            self.items = {}

        def keep(self, key, text, ttl):
            self.items[key] = text

        def fetch(self, key):
            return self.items.get(key)

    store = Store()
    monkeypatch.setattr(app_settings, "_STORE", {"points": store})
    app_settings._points_by_digest.cache_clear()
    digest = keep_points("0,0\n1,1\n2,2.5\n").digest
    app_settings._points_by_digest.cache_clear()  # another worker: nothing in its process
    assert stored_points(digest).rows == 3
    store.items.clear()
    app_settings._points_by_digest.cache_clear()
    assert stored_points(digest) is None  # expired or evicted: said, not guessed
    store.items[app_settings.POINTS_KEY + digest] = "0,0\n1,1\n2,2.6\n"  # tampered
    assert stored_points(digest) is None


def test_a_hand_written_link_with_points_needs_no_batch_size():
    points = keep_points(LINE)  # 4 points: the preset's batch of 10 is for its 50
    settings, notes = from_query(f"?surface=regression&data={points.digest}")
    assert notes == [] and settings.data == points.digest and settings.batch_size is None
    settings, _ = from_query(f"?surface=regression&data={points.digest}&batch_size=2")
    assert settings.batch_size == 2


@pytest.mark.parametrize("query,note", [
    ("?surface=regression&data=" + "0" * 32, "no longer kept on this server"),
    ("?surface=regression&data=../../etc/passwd", "no longer kept"),
    ("?surface=ravine&data=" + "0" * 32, "for the line fit"),
])
def test_a_link_with_points_not_kept_falls_back_with_a_note(query, note):
    settings, notes = from_query(query)
    assert settings.data is None and any(note in n for n in notes), notes


def test_the_controls_name_points_that_are_gone_or_clash():
    points = keep_points(LINE)
    values = on_points(points).to_dict()
    assert parse_controls(values)[1] == {}
    _, errors = parse_controls({**values, "data": "f" * 32})
    assert "no longer kept" in errors["data"]
    _, errors = parse_controls({**values, "data": "<script>"})
    assert errors["data"].startswith("Not the name of kept points")
    _, errors = parse_controls({**values, "points": 20})
    assert "Your own points are in use" in errors["points"]
    settings, errors = parse_controls({**values, "surface": "ravine"})
    assert errors == {} and settings.data is None  # off the line fit they do not apply


# --- the CLI -------------------------------------------------------------------------------

def cli(*args):
    return subprocess.run([sys.executable, "-m", "optim_core", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_races_on_a_data_file(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(LINE)
    result = cli("run", "--surface", "regression", "--data", str(path), "--optimizer", "sgd",
                 "--steps", "3")
    assert result.returncode == 0, result.stderr
    header, first, *_ = result.stdout.splitlines()
    row = dict(zip(header.split(","), first.split(","), strict=True))
    assert row["data"] == parse_points(LINE).digest and row["points"] == ""
    assert float(row["loss"]) == pytest.approx(np.mean(np.array([1, 3, 5.5, 6.5]) ** 2))


@pytest.mark.parametrize("content,args,words", [
    ("x,y\n0,1\n1,nan\n", ("--surface", "regression"), "row 3: 'nan' is not a number"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", ("--surface", "regression"), "row 3: it holds a NUL byte"),
    (LINE, ("--surface", "ravine"), "--data applies to --surface regression only"),
    (LINE, ("--surface", "regression", "--points", "20"), "exclude each other"),
])
def test_cli_bad_data_exits_2_with_one_line(tmp_path, content, args, words):
    path = tmp_path / "points.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = cli("run", *args, "--data", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


# --- through the callbacks and the HTTP layer ----------------------------------------------

def upload_body(app, contents=None, filename="points.csv", pasted=None, trigger="upload"):
    """The request the browser sends when a file is dropped (or the paste button hit)."""
    key, spec = next((k, v) for k, v in app.callback_map.items()
                     if f"{ids.POINTS_ERROR}.children" in k and f"{ids.DATA}.value" in k)
    values = {(ids.POINTS_UPLOAD, "contents"): contents,
              (ids.POINTS_PASTE_BUTTON, "n_clicks"): 1 if trigger == "paste" else None,
              (ids.POINTS_UPLOAD, "filename"): filename, (ids.POINTS_PASTE, "value"): pasted,
              (ids.BATCH_SIZE, "value"): None}
    fill = lambda items: [{**item, "value": values[(item["id"], item["property"])]}  # noqa: E731
                          for item in items]
    outputs = [{"id": part.rsplit(".", 1)[0].split("@")[0],
                "property": part.rsplit(".", 1)[1].split("@")[0]}
               for part in key.strip(".").split("...")]
    changed = f"{ids.POINTS_UPLOAD}.contents" if trigger == "upload" \
        else f"{ids.POINTS_PASTE_BUTTON}.n_clicks"
    return {"output": key, "outputs": outputs, "inputs": fill(spec["inputs"]),
            "state": fill(spec["state"]), "changedPropIds": [changed]}


def data_url(data: bytes, kind="text/csv") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def answer(body: str) -> dict:
    response = json.loads(body)["response"]
    return {component: value for component, props in response.items()
            for value in props.values()}


def test_an_uploaded_csv_becomes_the_races_data(server):  # noqa: F811
    url, app = server
    status, body = post(url, upload_body(app, data_url(LINE.encode())))
    assert status == 200
    digest = parse_points(LINE).digest
    assert answer(body)[ids.DATA] == digest and answer(body)[ids.POINTS_ERROR] == ""
    race = payload(app, {ids.SURFACE: "regression", ids.DATA: digest}, f"{ids.DATA}.value")
    status, body = post(url, race)
    assert status == 200 and error_text(body, ids.DATA) == ""
    state = json.loads(body)["response"][ids.RACE_STATE]["data"]
    assert state["settings"]["data"] == digest and f"data={digest}" in state["query"]
    assert "5.5" not in json.dumps(state)  # the race carries the digest, not the points


@pytest.mark.parametrize("contents,pasted,words", [
    (data_url(bytes(range(256)) * 8, "application/octet-stream"), None, "NUL byte"),
    (data_url(b"\xff\xd8\xff\xe0JFIF" * 100, "image/jpeg"), None, "not UTF-8"),
    (data_url(b"x,y\n0,1\n1,nan\n"), None, "row 3: 'nan' is not a number"),
    (data_url(b"Dear user,\nthis is not a list of numbers.\n"), None, "row 2:"),
    (data_url(b"1,1\n" * 1001), None, "row 1,001: more than 1,000 points"),
    (data_url(b"1,1\n" * 32_800), None, "at most 131,072"),  # just over: the parser says
    ("data:text/csv;base64,@@@not base64@@@", None, "damaged"),
    ("no comma in sight", None, "not a file's contents"),
    (None, "0,1\n1,\u0445\n", "CYRILLIC SMALL LETTER HA"),
    (None, "__import__('os').system('true'),1\n2,3\n", "row 1:"),
    (None, "   ", "Paste rows of x, y first"),
    (None, "0,1\n\0\n", "NUL character"),
])
def test_hostile_uploads_get_a_message_not_a_crash(server, contents, pasted, words):  # noqa: F811
    url, app = server
    trigger = "paste" if pasted is not None else "upload"
    status, body = post(url, upload_body(app, contents, pasted=pasted, trigger=trigger))
    assert status == 200, body[:300]
    assert not NON_FINITE.search(body)
    shown = answer(body)
    assert words in shown[ids.POINTS_ERROR], shown[ids.POINTS_ERROR]
    assert ids.DATA not in shown  # the points in use stay


@pytest.mark.parametrize("size", [300 * 1024, 100 * 2**20])
def test_an_upload_larger_than_any_the_page_sends_is_refused_at_the_door(server, size):  # noqa: F811
    url, app = server
    contents = "data:text/csv;base64," + "MSwx" * (size // 4)
    status, body = post(url, upload_body(app, contents))
    assert status in (400, 413), status  # the guard, or the body cap
    status, body = post(url, upload_body(app, data_url(LINE.encode())))
    assert status == 200  # and the next one is served


def test_a_crafted_data_setting_is_named_under_its_control(server):  # noqa: F811
    url, app = server
    for value in ("0" * 32, "x" * 5000, 12, ["a"]):
        status, body = post(url, payload(app, {ids.SURFACE: "regression", ids.DATA: value},
                                         f"{ids.DATA}.value"))
        assert status in (200, 400), body[:200]
        if status == 200:
            assert error_text(body, ids.DATA), value
