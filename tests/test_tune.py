"""The tuner: its winner is an exhaustive search's over the same grid, by each criterion."""

import csv
import io
import math

import numpy as np
import pytest

import optim_core as oc
from optim_core.analysis import TOLERANCE
from optim_core.cli import main
from optim_core.params import InvalidParameterError
from optim_core.simulate import Run
from optim_core.sweep import cell_centres
from optim_core.tune import CRITERIA, TUNE_COLUMNS, tune, tune_to_csv

COUNT = 12
STEPS = 120


def exhaustive(optimizer, steps=STEPS, count=COUNT, lr_range=(1e-4, 1.0), noise=0.0,
               **fixed):
    """Every cell of the grid raced on its own with ``simulate``: {(lr, μ): trajectory}."""
    lrs = cell_centres(*lr_range, count, log=True)
    momenta = (cell_centres(0.0, 0.999, count, log=False)
               if "momentum" in oc.OPTIMIZERS[optimizer].defaults else [None])
    cells = [(float(lr), None if m is None else float(m)) for m in momenta for lr in lrs]
    runs = [Run(optimizer, {"lr": lr, **({} if m is None else {"momentum": m}), **fixed})
            for lr, m in cells]
    raced = [t for begin in range(0, len(runs), 64)  # simulate's limit of runs
             for t in oc.simulate("ravine", runs[begin:begin + 64], steps=steps,
                                  noise=noise).runs]
    return dict(zip(cells, raced, strict=True))


def best_by(trajectories, score):
    """The cell with the lowest score among those that did not diverge."""
    finite = {cell: t for cell, t in trajectories.items() if t.diverged_at is None}
    return min(finite, key=lambda cell: score(finite[cell]))


def as_cell(tuned):
    return tuned.values["lr"], tuned.values.get("momentum")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_final_loss_winner_is_the_exhaustive_one_on_the_ravine(optimizer):
    [tuned] = tune("ravine", [optimizer], steps=STEPS, lr_count=COUNT, lr_range=(1e-4, 1.0))
    cells = exhaustive(optimizer)
    best = best_by(cells, lambda t: t.loss[-1])
    assert as_cell(tuned) == best
    assert tuned.metric == cells[best].loss[-1]
    # SGD's grid diverges at its top: those cells were there and did not win
    assert optimizer == "adam" or any(t.diverged_at is not None for t in cells.values())


def test_noise_is_the_race_noise():
    [tuned] = tune("ravine", ["momentum"], steps=STEPS, lr_count=COUNT, lr_range=(1e-4, 1.0),
                   noise=0.5)
    cells = exhaustive("momentum", noise=0.5)
    assert as_cell(tuned) == best_by(cells, lambda t: t.loss[-1])


def first_within(t):
    hits = np.flatnonzero(t.loss - 0.0 <= TOLERANCE)
    return (hits[0] if hits.size else math.inf), t.loss[-1]


def test_steps_to_tol_winner_is_the_fewest_steps():
    [tuned] = tune("ravine", ["nesterov"], criterion="steps-to-tol", steps=STEPS,
                   lr_count=COUNT, lr_range=(1e-4, 1.0))
    cells = exhaustive("nesterov")
    best = best_by(cells, first_within)
    assert as_cell(tuned) == best
    assert tuned.metric == first_within(cells[best])[0] < STEPS


def test_loss_at_evals_is_the_loss_after_that_many_gradients():
    [tuned] = tune("ravine", ["sgd"], criterion="loss-at-evals", steps=STEPS, evaluations=30,
                   lr_count=COUNT, lr_range=(1e-4, 1.0))
    cells = exhaustive("sgd", steps=30)
    best = best_by(cells, lambda t: t.loss[-1])
    assert as_cell(tuned) == best
    assert tuned.steps == 30 and tuned.metric == cells[best].loss[-1]


def test_sensitivity_is_the_lr_range_within_ten_times_the_best_loss():
    [tuned] = tune("ravine", ["sgd"], steps=40, lr_count=COUNT, lr_range=(1e-4, 1.0))
    cells = exhaustive("sgd", steps=40)
    low, high = tuned.sensitivity
    assert low <= tuned.values["lr"] <= high
    for (lr, _), t in cells.items():
        inside = low <= lr <= high
        if inside:
            assert t.diverged_at is None and t.loss[-1] <= 10 * tuned.metric
    neighbours = sorted(lr for lr, _ in cells)
    i, j = neighbours.index(low), neighbours.index(high)
    for edge in (i - 1, j + 1):  # the range stops where the next lr is 10× worse
        if 0 <= edge < len(neighbours):
            t = cells[(neighbours[edge], None)]
            assert t.diverged_at is not None or t.loss[-1] > 10 * tuned.metric


def test_all_diverged_finds_nothing():
    [tuned] = tune("ravine", ["sgd"], steps=50, lr_count=4, lr_range=(10.0, 100.0))
    assert not tuned.found and tuned.values == {} and math.isnan(tuned.metric)


def test_progress_counts_every_cell_of_every_optimizer():
    seen = []
    tune("ravine", ["sgd", "momentum"], steps=20, lr_count=8,
         progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (8 + 64, 8 + 64)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_own_values_fix_the_other_hyperparameters():
    [plain] = tune("ravine", ["adamw"], steps=60, lr_count=6)
    [decayed] = tune("ravine", ["adamw"], steps=60, lr_count=6,
                     own={"adamw": {"weight_decay": 0.5, "lr": 123.0}})
    assert plain.metric != decayed.metric  # weight decay was used, the lr override was not


def test_bad_criterion_names_the_parameter():
    with pytest.raises(InvalidParameterError) as error:
        tune("ravine", ["sgd"], criterion="fastest")
    assert error.value.parameter == "criterion"


def test_cli_prints_the_table_and_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "tune.csv"
    assert main(["tune", "--surface", "ravine", "--optimizer", "sgd,momentum", "--criterion",
                 "steps-to-tol", "--steps", "80", "--lr-count", "8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"criterion: steps-to-tol ({CRITERIA['steps-to-tol']})")
    library = tune("ravine", ["sgd", "momentum"], criterion="steps-to-tol", steps=80,
                   lr_count=8)
    assert out.read_text() == tune_to_csv(library)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == TUNE_COLUMNS
    assert float(rows[1]["lr"]) == library[1].values["lr"]  # lossless
    assert f"lr={library[0].values['lr']:.4g}" in printed


@pytest.mark.parametrize("args, flag", [
    (["--criterion", "fastest"], "--criterion"),
    (["--lr-count", "1"], "--lr-count"),
    (["--evaluations", "10"], "--evaluations"),
    (["--optimizer", "sgdd"], "--optimizer"),
    (["--steps", "0"], "--steps"),
])
def test_cli_bad_input_exits_2_with_one_line(args, flag, capsys):
    assert main(["tune", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err
