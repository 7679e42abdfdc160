"""The benchmarks' shared harness: one percentile, one summary, one free_port, and no
benchmark with a copy of its own."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import numpy as np
import pytest

from benchmarks import harness

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
#: what only the harness defines, and the benchmarks that need it import from there
SHARED = {"free_port", "percentile", "summary", "best_of", "gunicorn_executable",
          "chrome_options", "chromium", "dev_server", "Server", "Gunicorn"}


@pytest.mark.parametrize("values", [[3.0], [5.0, 1.0], [1.0, 2.0, 3.0, 4.0],
                                    [float(v) for v in range(101)],
                                    list(np.random.default_rng(7).exponential(20.0, 57))])
@pytest.mark.parametrize("q", [0, 10, 50, 90, 95, 99, 100])
def test_percentile_is_numpys_linear_default(values, q):
    assert harness.percentile(values, q) == pytest.approx(float(np.percentile(values, q)),
                                                          rel=1e-12, abs=1e-12)


def test_percentile_interpolates_between_ranks_not_nearest_rank():
    # nearest rank would give 4 for p50 of four values and 100 for p95 of 1..100
    assert harness.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert harness.percentile(range(1, 101), 95) == pytest.approx(95.05)


def test_percentile_of_nothing_is_none():
    assert harness.percentile([], 95) is None


def test_summary_reports_every_figure_from_the_one_percentile():
    values = [float(v) for v in np.random.default_rng(3).normal(50.0, 10.0, 200)]
    figures = harness.summary([*values, None])  # None entries are left out
    assert figures["n"] == 200
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert figures[key] == pytest.approx(np.percentile(values, q))
    assert figures["mean"] == pytest.approx(np.mean(values))
    assert (figures["min"], figures["max"]) == (min(values), max(values))
    assert set(harness.summary([])) == set(figures)
    assert harness.summary([None]) == {key: (0 if key == "n" else None) for key in figures}


def test_free_port_can_be_bound_on_loopback():
    port = harness.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as server:
        server.bind((harness.HOST, port))  # free: nothing else holds it


def test_the_browser_tests_take_free_port_and_flags_from_the_harness():
    from tests.browser import pages

    assert pages.free_port is harness.free_port
    options = harness.chrome_options(browser_log=True)
    assert set(harness.CHROME_FLAGS) <= set(options.arguments)
    assert options.capabilities["goog:loggingPrefs"] == {"browser": "ALL"}


def _defined_and_imported(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text())
    defined = {node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    defined |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)
                and node.module in ("benchmarks.harness", "harness")
                for alias in node.names}
    return defined, imported


@pytest.mark.parametrize("path", [p for p in BENCHMARKS if p.name != "harness.py"],
                         ids=lambda p: p.name)
def test_no_benchmark_defines_a_harness_piece_of_its_own(path):
    defined, _ = _defined_and_imported(path)
    # a private copy under another spelling counts too (_percentile, _chrome_options)
    copies = {name for name in defined if name.lstrip("_") in SHARED}
    assert not copies, f"{path.name} defines {sorted(copies)}: import them from " \
                       "benchmarks.harness"


def test_the_benchmarks_use_the_harness():
    uses = {path.name: _defined_and_imported(path)[1] for path in BENCHMARKS}
    for paired in ("browser_latency.py", "drag.py"):  # the app beside its baseline
        assert {"Server", "chromium", "mode_servers", "summary"} <= uses[paired]
    assert {"Server", "dev_server", "chromium", "summary"} <= uses["page_open.py"]
    assert {"Gunicorn", "chromium", "summary", "percentile"} <= uses["load.py"]
    assert "Gunicorn" in uses["slow_clients.py"]
    assert "best_of" in uses["engine.py"] and "best_of" in uses["expression.py"]
