r"""The optimizers, with ``torch.optim`` semantics exactly.

Each optimizer is a pair of pure functions, as in optax: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``. State is an immutable NamedTuple.
Unlike optax, ``update`` returns the new parameters rather than an additive update:
torch applies AdamW's decoupled decay and NAdam's two ``addcdiv`` steps to the
parameter one after another, and we reproduce its rounding.

Step k is the parameter after k calls of torch's ``step()``. Hyperparameters are
keyword-only and may be scalars or 1-D arrays (one value per run, for batches of runs
with parameters of shape (runs, 2)).

The arithmetic lives in the ``*_coefficients`` (per run, per step) and ``*_rule``
(elementwise) functions. They follow torch's ``_single_tensor_*`` code operation for
operation (``addcmul`` is ``self + value * t1 * t2``, ``addcdiv`` is
``self + value * t1 / t2``, ``lerp`` switches formula at weight 0.5) and are compiled
unchanged by numba for the fast kernels in ``optim_core._kernels``.

Names: ``sgd`` = SGD(lr); ``momentum`` = SGD(lr, momentum, dampening); ``nesterov`` =
SGD(lr, momentum, nesterov=True); ``adam`` = Adam(lr, betas=(momentum, beta2), eps);
``adamw`` = AdamW; ``nadam`` = NAdam; ``rmsprop`` = RMSprop(lr, alpha, eps, momentum);
``adagrad`` = Adagrad(lr, eps). Defaults are torch's, except that ``momentum`` defaults
to 0.9 for ``momentum`` and ``nesterov``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._elementwise import lerp, power, select
from .params import InvalidParameterError, check_array, check_params

# --- the arithmetic, shared with the compiled kernels -------------------------------


def sgd_rule(p, g, buf, first, lr, momentum, dampening, weight_decay, nesterov):
    """One ``torch.optim.SGD`` step. ``dampening`` must be 0 where ``momentum`` is 0.

    With momentum 0 torch keeps no buffer; here the buffer is then ``0·buf + 1·g = g``,
    exactly, so one formula serves SGD, momentum and Nesterov.
    """
    g = g + weight_decay * p
    buf = select(first, g, buf * momentum + (1.0 - dampening) * g)
    direction = select(nesterov, g + momentum * buf, buf)
    return p - lr * direction, buf


def adam_bias_corrections(step, beta1, beta2):
    """Adam's per-step scalars that need ``pow``: (1 − β1^t, √(1 − β2^t)).

    They depend on (β1, β2, t) only, so runs that share the betas share them."""
    return 1.0 - power(beta1, step), power(1.0 - power(beta2, step), 0.5)


def adam_rule(p, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
              bias_correction1, bias_correction2_sqrt):
    """One ``torch.optim.Adam`` / ``AdamW`` step (non-capturable, single-tensor path)."""
    step_size = lr / bias_correction1
    p = select(decoupled, p * (1.0 - lr * weight_decay), p)
    g = select(decoupled, g, g + weight_decay * p)
    m = lerp(m, g, 1.0 - beta1)
    v = v * beta2 + (1.0 - beta2) * g * g
    v_max = select(amsgrad, np.maximum(v_max, v), v_max)
    denom = np.sqrt(select(amsgrad, v_max, v)) / bias_correction2_sqrt + eps
    return p + -step_size * m / denom, m, v, v_max


def nadam_schedule(step, beta1, beta2, momentum_decay):
    """NAdam's per-step scalars that need ``pow``: (1 − β2^t, μ_t, μ_{t+1})."""
    bias_correction2 = 1.0 - power(beta2, step)
    mu = beta1 * (1.0 - 0.5 * power(0.96, step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * power(0.96, (step + 1.0) * momentum_decay))
    return bias_correction2, mu, mu_next


def nadam_coefficients(lr, mu, mu_next, mu_product):
    """(coefficient of g, coefficient of m, new μ-product) of one NAdam step."""
    mu_product = mu_product * mu
    mu_product_next = mu_product * mu_next
    grad_coefficient = -lr * (1.0 - mu) / (1.0 - mu_product)
    avg_coefficient = -lr * mu_next / (1.0 - mu_product_next)
    return grad_coefficient, avg_coefficient, mu_product


def nadam_rule(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bias_correction2,
               grad_coefficient, avg_coefficient):
    """One ``torch.optim.NAdam`` step."""
    p = select(decoupled, p * (1.0 - lr * weight_decay), p)
    g = select(decoupled, g, g + weight_decay * p)
    m = lerp(m, g, 1.0 - beta1)
    v = v * beta2 + (1.0 - beta2) * g * g
    denom = np.sqrt(v / bias_correction2) + eps
    p = p + grad_coefficient * g / denom
    return p + avg_coefficient * m / denom, m, v


def rmsprop_rule(p, g, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum,
                 centered):
    """One ``torch.optim.RMSprop`` step."""
    g = g + weight_decay * p
    square_avg = square_avg * alpha + (1.0 - alpha) * g * g
    grad_avg = select(centered, lerp(grad_avg, g, 1.0 - alpha), grad_avg)
    avg = np.sqrt(select(centered, square_avg + -1.0 * grad_avg * grad_avg, square_avg)) + eps
    with_momentum = momentum > 0.0
    new_buf = buf * momentum + 1.0 * g / avg
    p = select(with_momentum, p + -lr * new_buf, p + -lr * g / avg)
    return p, square_avg, grad_avg, select(with_momentum, new_buf, buf)


def adagrad_coefficients(step, lr, lr_decay):
    """The decayed learning rate of step ``step``."""
    return lr / (1.0 + (step - 1.0) * lr_decay)


def adagrad_rule(p, g, state_sum, clr, eps, weight_decay):
    """One ``torch.optim.Adagrad`` step (dense gradients)."""
    g = g + weight_decay * p
    state_sum = state_sum + 1.0 * g * g
    std = np.sqrt(state_sum) + eps
    return p + -clr * g / std, state_sum


# --- states ---------------------------------------------------------------------------


class SGDState(NamedTuple):
    count: int
    momentum_buffer: np.ndarray


class AdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray


class NAdamState(NamedTuple):
    count: int
    mu_product: np.ndarray  # one per run
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class RMSpropState(NamedTuple):
    count: int
    square_avg: np.ndarray
    grad_avg: np.ndarray
    momentum_buffer: np.ndarray


class AdagradState(NamedTuple):
    count: int
    sum: np.ndarray


# --- the public optimizers --------------------------------------------------------------


class Optimizer(NamedTuple):
    """An optimizer as a pair of pure functions, with the hyperparameters it was made with.

    ``init(params) -> state``; ``update(grads, state, params) -> (params, state)``.
    """

    name: str
    hyperparameters: dict
    init: Callable
    update: Callable


@dataclass(frozen=True)
class OptimizerSpec:
    """What the tables, CLI and app need to know about one optimizer name."""

    name: str
    title: str
    algorithm: str  # sgd, adam, nadam, rmsprop or adagrad: the kernel family
    torch: str  # the equivalent torch.optim call
    defaults: dict  # the hyperparameters it takes, with their defaults
    fixed: dict  # settings of the family fixed by the name (nesterov=True, ...)
    factory: Callable


def _per_run(caller, hyper):
    """Validate hyperparameters; arrays become shape (runs, 1) to broadcast over (runs, 2)."""
    flags = {k: v for k, v in hyper.items() if isinstance(v, (bool, np.bool_))}
    check_params(caller, flags)
    out = dict(flags)
    for name, value in hyper.items():
        if name in flags:
            continue
        if np.ndim(value) == 0:
            out[name] = check_params(caller, {name: value})[name]
        else:
            out[name] = check_array(caller, name, value)[:, None]
    return out


def _sgd_family(name, lr, momentum, dampening, weight_decay, nesterov):
    h = _per_run(name, dict(lr=lr, momentum=momentum, dampening=dampening,
                            weight_decay=weight_decay))
    # torch ignores dampening without momentum; with the shared formula that means 0.
    effective_dampening = np.where(np.asarray(h["momentum"]) == 0.0, 0.0, h["dampening"])

    def init(params):
        return SGDState(0, np.zeros_like(np.asarray(params, dtype=np.float64)))

    def update(grads, state, params):
        params, buf = sgd_rule(params, grads, state.momentum_buffer, state.count == 0,
                               h["lr"], h["momentum"], effective_dampening,
                               h["weight_decay"], nesterov)
        return params, SGDState(state.count + 1, buf)

    return Optimizer(name, dict(h, nesterov=nesterov), init, update)


def sgd(*, lr=1e-3, weight_decay=0.0) -> Optimizer:
    r"""Gradient descent: ``torch.optim.SGD(lr, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma g_t

    Args:
        lr (γ): learning rate. Default 1e-3.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Robbins & Monro, "A Stochastic Approximation Method" (1951).
    """
    return _sgd_family("sgd", lr, 0.0, 0.0, weight_decay, False)


def momentum(*, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0) -> Optimizer:
    r"""Heavy-ball momentum: ``torch.optim.SGD(lr, momentum, dampening, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t \leftarrow \begin{cases} g_1 & t = 1 \\ \mu b_{t-1} + (1-\tau) g_t & t > 1
        \end{cases}, \quad \theta_t \leftarrow \theta_{t-1} - \gamma b_t

    The buffer starts as the first gradient itself (not (1−τ)g₁), as in torch. Without
    dampening this is Polyak's heavy ball θₜ = θₜ₋₁ − γ∇f + μ(θₜ₋₁ − θₜ₋₂).

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (μ): momentum factor in [0, 1). Default 0.9 (torch's is 0).
        dampening (τ): dampening of the gradient in the buffer. Default 0.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Polyak, "Some methods of speeding up the convergence of iteration
    methods" (1964); Sutskever et al., "On the importance of initialization and
    momentum in deep learning" (ICML 2013).
    """
    return _sgd_family("momentum", lr, momentum, dampening, weight_decay, False)


def nesterov(*, lr=1e-3, momentum=0.9, weight_decay=0.0) -> Optimizer:
    r"""Nesterov momentum: ``torch.optim.SGD(lr, momentum, nesterov=True, weight_decay)``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t \leftarrow \mu b_{t-1} + g_t \;(b_1 = g_1), \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma (g_t + \mu b_t)

    torch requires momentum > 0 and no dampening for Nesterov.

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (μ): momentum factor in (0, 1). Default 0.9 (torch's is 0).
        weight_decay (λ): L2 penalty added to the gradient. Default 0.

    References: Nesterov, "A method for solving the convex programming problem with
    convergence rate O(1/k²)" (1983); Sutskever et al. (ICML 2013), in this form.
    """
    return _sgd_family("nesterov", lr, momentum, 0.0, weight_decay, True)


def _adam_family(name, lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled):
    h = _per_run(name, dict(lr=lr, momentum=beta1, beta2=beta2, eps=eps,
                            weight_decay=weight_decay, amsgrad=amsgrad))

    def init(params):
        zeros = np.zeros_like(np.asarray(params, dtype=np.float64))
        return AdamState(0, zeros, zeros, zeros)

    def update(grads, state, params):
        count = state.count + 1
        bc1, bc2_sqrt = adam_bias_corrections(float(count), h["momentum"], h["beta2"])
        params, m, v, v_max = adam_rule(
            params, grads, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq, h["lr"],
            h["momentum"], h["beta2"], h["eps"], h["weight_decay"], decoupled,
            h["amsgrad"], bc1, bc2_sqrt)
        return params, AdamState(count, m, v, v_max)

    return Optimizer(name, dict(h, decoupled_weight_decay=decoupled), init, update)


def adam(*, lr=1e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
         amsgrad=False) -> Optimizer:
    r"""Adam: ``torch.optim.Adam(lr, betas=(momentum, beta2), eps, weight_decay, amsgrad)``.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``amsgrad`` the denominator uses the running maximum of v.

    Args:
        lr (γ): learning rate. Default 1e-3.
        momentum (β₁): decay of the first moment, in [0, 1). Default 0.9.
        beta2 (β₂): decay of the second moment, in [0, 1). Default 0.999.
        eps (ε): added to the denominator. Default 1e-8.
        weight_decay (λ): L2 penalty added to the gradient. Default 0.
        amsgrad: use AMSGrad's maximum of v. Default False.

    References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
    Reddi et al., "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
    """
    return _adam_family("adam", lr, momentum, beta2, eps, weight_decay, amsgrad, False)


def adamw(*, lr=1e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
          amsgrad=False) -> Optimizer:
    r"""AdamW: ``torch.optim.AdamW``, Adam with decoupled weight decay.

    .. math::
        \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)

    then Adam's update with the raw gradient (λ is not added to g).

    Args: as :func:`adam`, but weight_decay (λ) defaults to 1e-2.

    References: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    """
    return _adam_family("adamw", lr, momentum, beta2, eps, weight_decay, amsgrad, True)


def nadam(*, lr=2e-3, momentum=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
          momentum_decay=4e-3, decoupled_weight_decay=False) -> Optimizer:
    r"""NAdam: ``torch.optim.NAdam(lr, betas=(momentum, beta2), eps, weight_decay,
    momentum_decay, decoupled_weight_decay)``.

    .. math::
        \mu_t &= \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \quad
        \textstyle\Pi_t = \prod_{i\le t}\mu_i \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \hat v_t = v_t / (1-\beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1}
        - \gamma\frac{1-\mu_t}{1-\Pi_t}\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
        - \gamma\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\frac{m_t}{\sqrt{\hat v_t}+\epsilon}

    Args:
        lr (γ): learning rate. Default 2e-3.
        momentum (β₁): in [0, 1). Default 0.9.
        beta2 (β₂): in [0, 1). Default 0.999.
        eps (ε): Default 1e-8.
        weight_decay (λ): Default 0.
        momentum_decay (ψ): Default 4e-3.
        decoupled_weight_decay: decay θ like AdamW instead of adding λθ to g. Default False.

    References: Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
    """
    h = _per_run("nadam", dict(lr=lr, momentum=momentum, beta2=beta2, eps=eps,
                               weight_decay=weight_decay, momentum_decay=momentum_decay,
                               decoupled_weight_decay=decoupled_weight_decay))

    def init(params):
        params = np.asarray(params, dtype=np.float64)
        zeros = np.zeros_like(params)
        return NAdamState(0, np.ones(params.shape[:-1] + (1,)) if params.ndim else 1.0,
                          zeros, zeros)

    def update(grads, state, params):
        count = state.count + 1
        bc2, mu, mu_next = nadam_schedule(float(count), h["momentum"], h["beta2"],
                                          h["momentum_decay"])
        grad_coef, avg_coef, mu_product = nadam_coefficients(h["lr"], mu, mu_next,
                                                             state.mu_product)
        params, m, v = nadam_rule(params, grads, state.exp_avg, state.exp_avg_sq, h["lr"],
                                  h["momentum"], h["beta2"], h["eps"], h["weight_decay"],
                                  h["decoupled_weight_decay"], bc2, grad_coef, avg_coef)
        return params, NAdamState(count, mu_product, m, v)

    return Optimizer("nadam", h, init, update)


def rmsprop(*, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
            centered=False) -> Optimizer:
    r"""RMSprop: ``torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered)``.

    .. math::
        v_t &\leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        \tilde v_t = v_t - \bar g_t^2 \text{ if centered, with }
        \bar g_t \leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t \\
        b_t &\leftarrow \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t}+\epsilon}, \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t
        \quad(\text{without momentum: } \theta_t \leftarrow \theta_{t-1}
        - \gamma\, g_t / (\sqrt{\tilde v_t}+\epsilon))

    Args:
        lr (γ): learning rate. Default 1e-2.
        alpha (α): smoothing constant, in [0, 1). Default 0.99.
        eps (ε): Default 1e-8.
        weight_decay (λ): Default 0.
        momentum (μ): in [0, 1). Default 0.
        centered: normalise by the variance estimate. Default False.

    References: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning",
    lecture 6e (2012); Graves, "Generating Sequences With Recurrent Neural Networks"
    (2013) for the centered form.
    """
    h = _per_run("rmsprop", dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                 momentum=momentum, centered=centered))

    def init(params):
        zeros = np.zeros_like(np.asarray(params, dtype=np.float64))
        return RMSpropState(0, zeros, zeros, zeros)

    def update(grads, state, params):
        params, sq, g_avg, buf = rmsprop_rule(
            params, grads, state.square_avg, state.grad_avg, state.momentum_buffer, h["lr"],
            h["alpha"], h["eps"], h["weight_decay"], h["momentum"], h["centered"])
        return params, RMSpropState(state.count + 1, sq, g_avg, buf)

    return Optimizer("rmsprop", h, init, update)


def adagrad(*, lr=1e-2, eps=1e-10, weight_decay=0.0, lr_decay=0.0,
            initial_accumulator_value=0.0) -> Optimizer:
    r"""Adagrad: ``torch.optim.Adagrad(lr, lr_decay, weight_decay,
    initial_accumulator_value, eps)``.

    .. math::
        \tilde\gamma_t = \frac{\gamma}{1 + (t-1)\eta}, \quad
        s_t \leftarrow s_{t-1} + g_t^2, \quad
        \theta_t \leftarrow \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    Args:
        lr (γ): learning rate. Default 1e-2.
        eps (ε): Default 1e-10.
        weight_decay (λ): Default 0.
        lr_decay (η): Default 0.
        initial_accumulator_value (s₀): Default 0.

    References: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization" (JMLR 2011).
    """
    h = _per_run("adagrad", dict(lr=lr, eps=eps, weight_decay=weight_decay,
                                 lr_decay=lr_decay,
                                 initial_accumulator_value=initial_accumulator_value))

    def init(params):
        params = np.asarray(params, dtype=np.float64)
        return AdagradState(0, np.zeros_like(params) + h["initial_accumulator_value"])

    def update(grads, state, params):
        count = state.count + 1
        clr = adagrad_coefficients(float(count), h["lr"], h["lr_decay"])
        params, state_sum = adagrad_rule(params, grads, state.sum, clr, h["eps"],
                                         h["weight_decay"])
        return params, AdagradState(count, state_sum)

    return Optimizer("adagrad", h, init, update)


OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec for spec in (
        OptimizerSpec("sgd", "SGD", "sgd", "torch.optim.SGD(lr)",
                      {"lr": 1e-3, "weight_decay": 0.0}, {"momentum": 0.0, "dampening": 0.0,
                                                           "nesterov": False}, sgd),
        OptimizerSpec("momentum", "Momentum", "sgd", "torch.optim.SGD(lr, momentum=μ)",
                      {"lr": 1e-3, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
                      {"nesterov": False}, momentum),
        OptimizerSpec("nesterov", "Nesterov", "sgd",
                      "torch.optim.SGD(lr, momentum=μ, nesterov=True)",
                      {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
                      {"dampening": 0.0, "nesterov": True}, nesterov),
        OptimizerSpec("adam", "Adam", "adam", "torch.optim.Adam(lr, betas=(μ, beta2))",
                      {"lr": 1e-3, "momentum": 0.9, "beta2": 0.999, "eps": 1e-8,
                       "weight_decay": 0.0, "amsgrad": False},
                      {"decoupled_weight_decay": False}, adam),
        OptimizerSpec("adamw", "AdamW", "adam", "torch.optim.AdamW(lr, betas=(μ, beta2))",
                      {"lr": 1e-3, "momentum": 0.9, "beta2": 0.999, "eps": 1e-8,
                       "weight_decay": 1e-2, "amsgrad": False},
                      {"decoupled_weight_decay": True}, adamw),
        OptimizerSpec("nadam", "NAdam", "nadam", "torch.optim.NAdam(lr, betas=(μ, beta2))",
                      {"lr": 2e-3, "momentum": 0.9, "beta2": 0.999, "eps": 1e-8,
                       "weight_decay": 0.0, "momentum_decay": 4e-3,
                       "decoupled_weight_decay": False}, {}, nadam),
        OptimizerSpec("rmsprop", "RMSprop", "rmsprop",
                      "torch.optim.RMSprop(lr, alpha, momentum=μ)",
                      {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                       "momentum": 0.0, "centered": False}, {}, rmsprop),
        OptimizerSpec("adagrad", "Adagrad", "adagrad", "torch.optim.Adagrad(lr)",
                      {"lr": 1e-2, "eps": 1e-10, "weight_decay": 0.0, "lr_decay": 0.0,
                       "initial_accumulator_value": 0.0}, {}, adagrad),
    )
}

#: Every hyperparameter name some optimizer takes, in a stable display order.
HYPERPARAMETERS = ("lr", "momentum", "dampening", "weight_decay", "beta2", "eps", "alpha",
                   "momentum_decay", "lr_decay", "initial_accumulator_value", "amsgrad",
                   "centered", "decoupled_weight_decay")


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
