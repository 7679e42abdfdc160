"""The engine's extension points: each fact in one place, and the layers one way."""

from __future__ import annotations

import ast
import inspect
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import get_type_hints

import numpy as np
import pytest

import optim_core as oc
from optim_core import analysis, expression, optimizers
from optim_core._dispatch import by_code
from optim_core.simulate import Run, hyper_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "optim_core"
MODULES = sorted(["optim_core"] + [
    info.name for info in pkgutil.walk_packages([str(PACKAGE)], prefix="optim_core.")
    if info.name != "optim_core.__main__"])  # that one runs the command line


#: The app's layers, lowest first: each imports only from its own layer and those below.
LAYERS = ("optim_core", "settings", "layouts", "callbacks", "app")
APP_MODULES = sorted(["settings", "app", "layouts", "callbacks"] + [
    info.name for package in ("layouts", "callbacks")
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=package + ".")])


@pytest.mark.parametrize("module", MODULES + APP_MODULES)
def test_every_module_imports_on_its_own(module):
    """In a fresh interpreter, whatever was imported before."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _path(module: str) -> Path:
    relative = module.replace(".", "/")
    path = ROOT / (relative + ".py")
    return path if path.exists() else ROOT / relative / "__init__.py"


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``module`` imports, when it loads or later in a function (a lazy
    import is a dependency too), relative imports resolved; imports for type checking
    only are not."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names]
            found.update(n for n in names if n)
    return found


def _module_imports(path: Path, module: str) -> set[str]:
    """The optim_core modules ``module`` imports (see :func:`_imports`)."""
    return _imports(path, module) & set(MODULES)


@pytest.mark.parametrize("module", MODULES + APP_MODULES)
def test_the_layers_import_one_way(module):
    """optim_core <- settings <- layouts <- callbacks <- app: settings imports neither
    layouts nor callbacks, layouts never imports callbacks, nothing imports app."""
    layer = LAYERS.index(module.split(".")[0])
    above = {name for name in _imports(_path(module), module)
             if name.split(".")[0] in LAYERS[layer + 1:]}
    assert not above, f"{module} ({LAYERS[layer]}) imports {sorted(above)} from above"


def test_optim_core_has_no_import_cycle():
    graph = {}
    for module in MODULES:
        path = _path(module)
        # a package imports its __init__ first: that edge is not a cycle
        graph[module] = {m for m in _module_imports(path, module)
                         if m != module and not module.startswith(m + ".")}
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):]
                                                                 + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in MODULES:
        visit(module)


def test_no_module_imports_another_modules_private_names():
    """Private modules of the package (``_kernels``) are fine; private names are not."""
    modules = {m.rsplit(".", 1)[-1] for m in MODULES}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names
                           if a.name.startswith("_") and a.name not in modules]
                assert not private, f"{path.name} imports {private} from {node.module}"


def test_a_worker_start_loads_the_kernels_from_the_cache():
    oc.simulate("ravine", list(oc.OPTIMIZERS), steps=5)  # compiled (and cached) here
    code = ("import json, optim_core as oc; from optim_core import _kernels as k; "
            "oc.simulate('ravine', list(oc.OPTIMIZERS), steps=5); "
            "s = k.race_kernel.stats; "
            "print(json.dumps([sum(s.cache_hits.values()), sum(s.cache_misses.values())]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=True)
    hits, misses = json.loads(result.stdout.strip().splitlines()[-1])
    assert (hits, misses) == (1, 0)


# --- one fact in one place -----------------------------------------------------------


@pytest.mark.parametrize("name", list(oc.OPTIMIZERS))
def test_defaults_are_the_factory_signature(name):
    spec = oc.OPTIMIZERS[name]
    signature = {p.name: p.default for p in inspect.signature(spec.factory).parameters.values()}
    assert spec.defaults == signature
    made = oc.make_optimizer(name).hyperparameters
    assert {k: made[k] for k in spec.defaults} == signature


@pytest.mark.parametrize("name", list(oc.OPTIMIZERS))
def test_the_docstring_states_the_signature_defaults(name):
    """The docstring is the spec: each "Default X." it states is the signature's."""
    spec = oc.OPTIMIZERS[name]
    doc = spec.factory.__doc__
    stated = dict(re.findall(
        r"^\s+(\w+)(?: \([^)]*\))?: .*?Default (\([^)]*\)|[^ .]+(?:\.\d+(?:e-?\d+)?)?)", doc,
        re.MULTILINE))
    assert stated or "Args: as" in doc
    for parameter, text in stated.items():
        default = spec.defaults[parameter]
        if text == "None":
            assert default is None, parameter
            continue
        value = {"True": True, "False": False}.get(text)
        if text.startswith("("):  # a pair (Rprop's etas)
            value = ast.literal_eval(text)
        assert (value if value is not None else float(text)) == default, parameter


def test_every_hyperparameter_has_one_range_and_every_spec_is_complete():
    for name, spec in oc.OPTIMIZERS.items():
        assert spec.title and spec.torch.startswith(("torch.optim.", "lion_pytorch.",
                                                     "schedulefree."))
        assert set(spec.defaults) <= set(oc.HYPERPARAMETERS) <= set(oc.CONSTRAINTS)
        made = oc.make_optimizer(name)
        assert type(made.hyper) is spec.family.hyper  # every column of the kernel's row
    assert oc.CONSTRAINTS["optimizer"].values == tuple(oc.OPTIMIZERS)


def test_the_kernel_table_is_each_familys_named_columns():
    runs = [Run("nesterov", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.25}),
            Run("adamw", {"lr": 0.2, "momentum": 0.8, "beta2": 0.9, "eps": 1e-6,
                          "weight_decay": 0.0, "amsgrad": True})]
    algorithms, table = hyper_table(runs)
    assert list(algorithms) == [optimizers.ALGORITHM_CODES["sgd"],
                                optimizers.ALGORITHM_CODES["adam"]]
    for row, run in zip(table, runs, strict=True):
        family = oc.OPTIMIZERS[run.optimizer].family
        for name, value in run.hyperparameters.items():
            assert row[family.column(name)] == float(value)
    sgd, adam = (oc.OPTIMIZERS[n].family for n in ("nesterov", "adamw"))
    assert table[0, sgd.column("nesterov")] == 1.0 and table[0, sgd.column("dampening")] == 0
    assert table[1, adam.column("decoupled_weight_decay")] == 1.0



@pytest.mark.parametrize("name", list(oc.OPTIMIZERS))
def test_the_kernels_read_each_row_back_as_the_familys_hyperparameters(name):
    """The row the table writes for a run is, read by the kernels' ``read_hyper``, the
    hyperparameters the NumPy path computes with: every field, in its declared type."""
    hyper = {"lr": 0.0625}
    if "momentum" in oc.OPTIMIZERS[name].defaults:
        hyper["momentum"] = 0.375
    made = oc.make_optimizer(name, **hyper)
    family = oc.OPTIMIZERS[name].family
    _, table = hyper_table([Run("sgd", {}), Run(name, hyper)])  # row 1: not the first
    read = family.read_hyper(table, 1)
    assert type(read) is family.hyper
    for field, kind in get_type_hints(family.hyper).items():
        value = getattr(read, field)
        assert value == getattr(made.hyper, field), field
        assert isinstance(value, (bool, np.bool_) if kind is bool else kind), field


def test_a_family_gives_its_step_one_way():
    adam = optimizers.FAMILIES[optimizers.ALGORITHM_CODES["adam"]]
    for ways in ({}, {"kernel_step": adam.kernel_step, "kernel_axis": adam.kernel_axis}):
        with pytest.raises(ValueError, match="kernel_step or kernel_axis"):
            optimizers.Family("made-up", adam.hyper, adam.state, **ways)


def test_by_code_calls_the_function_of_each_code():
    def tagged(code):
        return lambda a, b, c: (code, a, b, c)

    functions = [tagged(code) for code in range(4)]
    for table in (functions, dict(enumerate(functions))):
        dispatch = by_code(table)
        for code in range(4):
            assert dispatch(code, "a", "b", "c") == (code, "a", "b", "c")


def test_by_code_needs_one_supported_number_of_arguments():
    with pytest.raises(ValueError, match=r"one arity .* got arities \[2, 3\]"):
        by_code([lambda a, b: a, lambda a, b, c: a])
    with pytest.raises(ValueError, match=r"got arities \[4\]"):
        by_code([lambda a, b, c, d: a])
    with pytest.raises(ValueError, match=r"the codes 0 to 1; got \[0, 2\]"):
        by_code({0: lambda a, b: a, 2: lambda a, b: b})


def test_apply_op_is_each_instructions_operation():
    e = expression
    reference = {e.ADD: np.add, e.SUB: np.subtract, e.MUL: np.multiply, e.DIV: np.divide,
                 e.NEG: lambda a, b: -a, e.POW: np.power, e.POWI: np.power,
                 e.SQRT: lambda a, b: np.sqrt(a), e.ABS: lambda a, b: np.abs(a),
                 e.SIGN: lambda a, b: np.sign(a), e.SIN: lambda a, b: np.sin(a),
                 e.COS: lambda a, b: np.cos(a), e.TAN: lambda a, b: np.tan(a),
                 e.EXP: lambda a, b: np.exp(a), e.LOG: lambda a, b: np.log(a),
                 e.TANH: lambda a, b: np.tanh(a), e.SINH: lambda a, b: np.sinh(a),
                 e.COSH: lambda a, b: np.cosh(a), e.ATAN: lambda a, b: np.arctan(a)}
    assert sorted(e.OPERATIONS) == sorted(reference) == list(range(len(reference)))
    a, b = np.array([0.7, 1.9]), np.float64(3.0)  # POWI takes a scalar exponent
    for op, function in reference.items():
        np.testing.assert_allclose(e.apply_op(op, a, b), function(a, b), rtol=1e-15,
                                   err_msg=str(op))


# --- tests that fail on the defects the review found -----------------------------------


def _same_on_both_paths(surface, runs, **options):
    fast = oc.simulate(surface, runs, backend="numba", **options)
    slow = oc.simulate(surface, runs, backend="numpy", **options)
    for a, b in zip(fast.runs, slow.runs, strict=True):
        np.testing.assert_array_equal(a.params, b.params)
        np.testing.assert_array_equal(a.loss, b.loss)
    return fast


def test_dampening_without_momentum_is_ignored_on_both_paths():
    """As in torch: momentum 0 keeps no buffer, so dampening changes nothing."""
    race = _same_on_both_paths("ravine", [Run("momentum", {"momentum": 0.0, "dampening": 0.5}),
                                          Run("sgd")], lr=0.05, steps=30)
    np.testing.assert_array_equal(race.runs[0].params, race.runs[1].params)


def test_runs_with_different_betas_do_not_share_their_step_scalars():
    """The kernel computes Adam's bias corrections (NAdam's schedule) once for runs that
    share the betas; runs that do not must each get their own."""
    runs = [Run("adam", {"beta2": 0.999}), Run("adam", {"beta2": 0.9}),
            Run("adam", {"momentum": 0.5, "beta2": 0.9}),
            Run("nadam", {"momentum_decay": 4e-3}), Run("nadam", {"momentum_decay": 0.1}),
            Run("nadam", {"beta2": 0.9})]
    race = _same_on_both_paths("rosenbrock", runs, lr=0.01, steps=40)
    ends = {tuple(run.params[-1]) for run in race.runs}
    assert len(ends) == len(runs)


def test_a_loss_that_keeps_rising_and_falling_is_oscillating():
    assert analysis.is_oscillating([1.0, 2.0] * 20)
    assert not analysis.is_oscillating(np.linspace(2.0, 1.0, 40))
    race = oc.simulate("ravine", ["momentum"], lr=0.079, momentum=0.99, steps=60)
    assert oc.leaderboard(race)[0].status == "oscillating"


def _summary(name, status, hit, gap):
    return analysis.Summary(name, gap, gap, hit, status, status, None)


def test_ranked_puts_the_best_run_first():
    summaries = [_summary("a", "diverged", None, 1.0), _summary("b", "still moving", None, 0.5),
                 _summary("c", "converged", 40, 1e-7), _summary("d", "converged", 12, 1e-9),
                 _summary("e", "still moving", None, 0.1), _summary("f", "oscillating", None, 0)]
    assert [summaries[i].optimizer for i in analysis.ranked(summaries)] == \
        ["d", "c", "e", "b", "f", "a"]
