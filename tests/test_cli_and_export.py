"""The CLI and the CSV export: same numbers as the library, lossless, clear errors."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optim_core as oc
from optim_core.cli import main
from optim_core.export import COLUMNS, race_to_csv, read_race_csv

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "optim_core", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_run_writes_the_library_race_as_csv(tmp_path, capsys):
    out = tmp_path / "race.csv"
    assert main(["run", "--surface", "ravine", "--optimizer", "sgd", "--optimizer",
                 "momentum,adam", "--lr", "0.02", "--momentum", "0.9", "--steps", "60",
                 "--start", "6", "6", "--out", str(out)]) == 0
    race = oc.simulate("ravine", ["sgd", "momentum", "adam"], lr=0.02, momentum=0.9,
                       steps=60, start=(6, 6))
    assert out.read_text() == race_to_csv(race)
    frame = read_race_csv(out)
    assert list(frame.columns) == list(COLUMNS)
    assert frame.groupby("optimizer")["step"].min().eq(0).all()


def test_export_is_lossless():
    race = oc.simulate("regression", ["adam", "rmsprop"], points=30, batch_size=4, noise=0.3,
                       steps=80, lr=0.0123456789)
    frame = read_race_csv(io.StringIO(race_to_csv(race)))
    for run in race.runs:
        rows = frame[frame.optimizer == run.optimizer]
        np.testing.assert_array_equal(rows[["x", "y"]].to_numpy(), run.params)
        np.testing.assert_array_equal(rows["loss"].to_numpy(), run.loss)
        np.testing.assert_array_equal(rows[["grad_x", "grad_y"]].to_numpy(), run.grads)
        assert (rows["lr"] == 0.0123456789).all() and (rows["batch_size"] == 4).all()


def test_diverged_run_ends_at_its_last_finite_step():
    proc = run_cli("run", "--optimizer", "sgd", "--lr", "0.5", "--steps", "100")
    assert proc.returncode == 0
    frame = read_race_csv(io.StringIO(proc.stdout))
    step = int(frame.diverged_at.iloc[0])
    assert frame.step.max() == step - 1
    assert proc.stderr.strip() == (f"sgd diverged at step {step} (|x| or |y| above 1e8, or "
                                   f"not finite); its rows end at step {step - 1}")


@pytest.mark.parametrize("args,flag", [
    (["--lr", "-1"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--lr", "abc"], "--lr"), (["--momentum", "1"], "--momentum"),
    (["--momentum", "-0.1"], "--momentum"), (["--steps", "0"], "--steps"),
    (["--steps", "100001"], "--steps"), (["--steps", "2.5"], "--steps"),
    (["--start", "6"], "--start"), (["--start", "6", "y"], "--start"),
    (["--start", "1e9", "0"], "--start"), (["--surface", "bowl"], "--surface"),
    (["--set", "adam.lr"], "--set"), (["--set", "adam.lr=-1"], "--set adam.lr"),
    (["--set", "adam.lr=abc"], "--set adam.lr"), (["--set", "warp.lr=1"], "--set warp.lr"),
    (["--set", "rmsprop.lr=1"], "--set rmsprop.lr"), (["--set", "adam.alpha=1"], "adam.alpha"),
    (["--set", "adam.amsgrad=yes"], "--set adam.amsgrad"),
    (["--set", "adam.lr=1", "--set", "adam.lr=2"], "--set adam.lr"),
    (["--optimizer", "nesterov", "--set", "nesterov.momentum=0"], "nesterov.momentum"),
    (["--optimizer", "adamx"], "--optimizer"), (["--optimizer", "sgd,sgd"], "--optimizer"),
    (["--optimizer", "sgd", "--alpha", "0.5"], "--alpha"),
    (["--batch-size", "2"], "--batch-size"), (["--kappa", "0"], "--kappa"),
    (["--surface", "regression", "--points", "1"], "--points"),
    (["--surface", "regression", "--batch-size", "9"], "batch_size"),
    (["--optimizer", "nesterov", "--momentum", "0"], "--momentum"),
    (["--seed", "-3"], "--seed"), (["--beta2", "1.5", "--optimizer", "adam"], "--beta2"),
    (["--eps", "-1e-8", "--optimizer", "adam"], "--eps"), (["--noise", "-1"], "--noise"),
])
def test_bad_flags_exit_2_with_one_line_naming_the_flag(args, flag):
    proc = run_cli("run", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("python -m optim_core: error:") and flag in lines[0]


def test_bad_flag_path_does_not_load_the_heavy_libraries():
    """Errors come before numba and pandas are imported, which is what makes them fast."""
    code = ("import sys; from optim_core.cli import main; rc = main(['run', '--lr', '-1']); "
            "print(rc, 'numba' in sys.modules, 'pandas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.stdout.split() == ["2", "False", "False"]


def test_listing_commands():
    surfaces = run_cli("surfaces").stdout
    optimizers = run_cli("optimizers").stdout
    assert all(name in surfaces for name in oc.SURFACES)
    assert all(f"{name} " in optimizers for name in oc.OPTIMIZERS)


def test_sweep_command_writes_the_grid(tmp_path):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "--optimizer", "momentum", "--resolution", "8", "--steps", "100",
                 "--out", str(out)]) == 0
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 64 and frame.lr.nunique() == 8 and frame.momentum.nunique() == 8
    assert frame.final_loss.notna().all()


def test_theory_command():
    proc = run_cli("theory", "--surface", "ravine", "--lr", "0.02", "--momentum", "0.9")
    assert proc.returncode == 0
    assert "L = 25" in proc.stdout and "Polyak's optimum" in proc.stdout


def test_zero_eps_is_a_flagged_run_not_a_crash(capsys):
    """Adam with eps = 0 on the default line fit meets 0/0 at step 1: flagged, exit 0."""
    assert main(["run", "--surface", "regression", "--optimizer", "adam", "--eps", "0",
                 "--steps", "5"]) == 0
    captured = capsys.readouterr()
    assert "adam diverged at step 1" in captured.err
    assert captured.out.count("\nadam,") == 1  # its rows end at step 0


CLI_RACES = {
    "the default race": {},
    "all eight, own values, a start": {
        "optimizers": tuple(oc.OPTIMIZERS), "lr": 0.0123456789, "momentum": 0.95, "steps": 40,
        "x0": -3.25, "kappa": 12.5,
        "overrides": {"adam": {"lr": 0.3, "beta2": 0.95}, "rmsprop": {"alpha": 0.9},
                      "momentum": {"dampening": 0.1, "weight_decay": 0.01}}},
    "a noisy line fit": {"surface": "regression", "optimizers": ("sgd", "adam"), "lr": 0.05,
                         "steps": 30, "points": 30, "batch_size": 7, "noise": 0.5, "seed": 3},
    "SGD alone (no μ flag)": {"surface": "rosenbrock", "optimizers": ("sgd",), "lr": 0.001},
}


@pytest.mark.parametrize("name", CLI_RACES)
def test_the_apps_cli_command_writes_the_exports_bytes(name, tmp_path):
    from dash import dcc

    from app import app as dash_app
    from settings import RaceSettings

    settings = RaceSettings(**CLI_RACES[name])
    args = settings.cli_args()
    assert args[-2:] == ["--out", f"optimizer-race-{settings.surface}.csv"]
    done = subprocess.run([sys.executable, "-m", "optim_core", *args], capture_output=True,
                          timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    export = dash_app.callback_map["export-csv-download.data"]["callback"]
    sent = export.__wrapped__(1, {"settings": settings.to_dict()})
    assert sent == dcc.send_string((tmp_path / args[-1]).read_text(), args[-1],
                                   type="text/csv")
    assert (tmp_path / args[-1]).read_bytes() == sent["content"].encode()
