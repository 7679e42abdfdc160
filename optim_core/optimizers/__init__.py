r"""The optimizers, with ``torch.optim`` semantics exactly: the registry of this package.

Each optimizer is a pair of pure functions, as in optax: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``. State is an immutable NamedTuple.
Unlike optax, ``update`` returns the new parameters rather than an additive update:
torch applies AdamW's decoupled decay and NAdam's two ``addcdiv`` steps to the
parameter one after another, and we reproduce its rounding.

Step k is the parameter after k calls of torch's ``step()``. Hyperparameters are
keyword-only and may be scalars or 1-D arrays (one value per run, for batches of runs
with parameters of shape (runs, 2)).

One module per family (``sgd``, ``adam``, ``nadam``, ``rmsprop``, ``adagrad``,
``radam``, ``adamax``, ``adadelta``, ``rprop``, ``asgd``, ``adafactor``) holds
everything about it: the arithmetic (``*_rule``, ``*_coefficients``: torch's
``_single_tensor_*`` code operation for operation, ``addcmul`` is
``self + value * t1 * t2``, ``addcdiv`` is ``self + value * t1 / t2``, ``lerp`` switches
formula at weight 0.5), compiled unchanged by numba for the kernels; its hyperparameter
and state NamedTuples; the factories, whose signatures are the defaults; and one
:func:`~._base.spec` per name (title, torch equivalent, narrower ranges).

To add an optimizer: write its factory and ``spec`` in its family's module (``SPECS``),
or a new module on the pattern of ``adagrad.py`` listed in ``FAMILY_MODULES`` below;
add a trajectory to ``tests/fixtures/make_torch_reference.py`` and remake the fixtures.
A new hyperparameter declares its range in its spec's ``constraints``.

Names: ``sgd`` = SGD(lr); ``momentum`` = SGD(lr, momentum, dampening); ``nesterov`` =
SGD(lr, momentum, nesterov=True); ``adam`` = Adam(lr, betas=(momentum, beta2), eps);
``adamw`` = AdamW; ``nadam`` = NAdam; ``rmsprop`` = RMSprop(lr, alpha, eps, momentum);
``adagrad`` = Adagrad(lr, eps); ``radam``, ``adamax`` = RAdam, Adamax(lr,
betas=(momentum, beta2), eps); ``adadelta``, ``rprop``, ``asgd``, ``adafactor`` under
torch's names (Rprop's pairs ``etas``, ``step_sizes``; Adafactor's ``eps`` pair as
``eps1``, ``eps2``); ``lbfgs`` = LBFGS (its step calls the objective:
``lbfgs.evaluating_step``); ``lion`` = lion_pytorch.Lion(lr, betas=(momentum, beta2));
``muon`` = Muon(lr, momentum) on θ as a 1 × 2 matrix; ``sgd_schedulefree`` /
``adamw_schedulefree`` = schedulefree's SGDScheduleFree / AdamWScheduleFree (the point
recorded is the evaluation point). Defaults are the references', except that
``momentum`` defaults to 0.9 for ``momentum`` and ``nesterov``, and ``max_iter`` to 1
for ``lbfgs``.
"""

from __future__ import annotations

from .. import params
from ..params import InvalidParameterError, check_params
from . import adadelta as _adadelta
from . import adafactor as _adafactor
from . import adagrad as _adagrad
from . import adam as _adam
from . import adamax as _adamax
from . import asgd as _asgd
from . import lbfgs as _lbfgs
from . import lion as _lion
from . import muon as _muon
from . import nadam as _nadam
from . import radam as _radam
from . import rmsprop as _rmsprop
from . import rprop as _rprop
from . import schedulefree as _schedulefree
from . import sgd as _sgd
from ._base import GROUPS, Family, Optimizer, OptimizerSpec

#: The family modules, in display order; a family's code in the kernels is its index.
FAMILY_MODULES = (_sgd, _adam, _nadam, _rmsprop, _adagrad, _radam, _adamax, _adadelta,
                  _rprop, _asgd, _adafactor, _lbfgs, _lion, _muon, _schedulefree)
FAMILIES: tuple[Family, ...] = tuple(module.FAMILY for module in FAMILY_MODULES)
ALGORITHM_CODES = {family.name: code for code, family in enumerate(FAMILIES)}

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec for module in FAMILY_MODULES for spec in module.SPECS}
OPTIMIZER_NAMES = tuple(OPTIMIZERS)
params.register_optimizers(OPTIMIZER_NAMES,
                           {name: spec.constraints for name, spec in OPTIMIZERS.items()})

#: Every hyperparameter name some optimizer takes, in the parameter table's order.
HYPERPARAMETERS = tuple(name for name in params.CONSTRAINTS
                        if any(name in spec.defaults for spec in OPTIMIZERS.values()))
#: Widths of the kernels' per-run hyperparameter table and per-coordinate state.
TABLE_WIDTH = max(len(family.hyper._fields) for family in FAMILIES)
STATE_WIDTH = max(family.state_width for family in FAMILIES)
#: Width of the recorded state (``simulate(..., state=True)``): the named slots only
#: (not L-BFGS's history blocks).
RECORD_WIDTH = max(len(family.slots) for family in FAMILIES)
#: Every state column some family records (``Trajectory.state``, ``run --state``), in
#: family order.
STATE_COLUMNS = tuple(dict.fromkeys(column.name for family in FAMILIES
                                    for column in family.state_columns))


def make_optimizer(name: str, **hyperparameters) -> Optimizer:
    """The optimizer ``name`` with ``hyperparameters`` (the others take their defaults)."""
    check_params("make_optimizer", {"optimizer": name})
    spec = OPTIMIZERS[name]
    unknown = sorted(set(hyperparameters) - set(spec.defaults))
    if unknown:
        raise InvalidParameterError(
            f"{name} does not take {unknown[0]!r}; it takes "
            + ", ".join(spec.defaults) + ".", parameter=unknown[0], caller=name,
            allowed=", ".join(spec.defaults), got=hyperparameters[unknown[0]])
    return spec.factory(**hyperparameters)


__all__ = ["ALGORITHM_CODES", "FAMILIES", "FAMILY_MODULES", "GROUPS", "HYPERPARAMETERS",
           "OPTIMIZERS", "OPTIMIZER_NAMES", "STATE_COLUMNS", "STATE_WIDTH", "Family",
           "Optimizer", "OptimizerSpec", "make_optimizer"]
