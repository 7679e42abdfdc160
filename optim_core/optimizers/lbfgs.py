r"""``torch.optim.LBFGS`` (with the strong-Wolfe line search), one ``step()`` per step.

L-BFGS is the one family that is not "one gradient in, one step out": with
``max_iter`` > 1 or ``line_search_fn="strong_wolfe"`` a step evaluates f and ∇f itself,
at points of its own choosing. So its step calls the objective: :func:`closure` is what
torch's closure of step k returns, ``f_k(θ) = f_{batch k}(θ) + n_k·θ`` and its gradient
``∇f_{batch k}(θ) + n_k``, with mini-batch k and noise row k of the race (the same draws
as every optimizer sees at step k), at every evaluation within step k: one closure per
``step()`` call, as a torch training loop would write it. Its first evaluation is at
x_k, where the loop's recorded gradient is taken, so with max_iter = 1 and no line
search L-BFGS uses exactly that one gradient per step, like the others.

The simulation calls :func:`evaluating_step` for this family instead of the shared
``kernel_step`` (which it never reaches): the NumPy path runs the same function
uncompiled, one run at a time, so both paths are one piece of code. The state lives in
the kernels' per-run array: the named slots below, then the history in fixed-size
blocks of :data:`MAX_HISTORY` entries (a ring: entry i, oldest first, at
``(first + i) % history_size``), which is why ``history_size`` is at most 100.

Evaluations: ``func_evals`` counts closure calls, cumulatively over the steps, exactly
as torch's ``state["func_evals"]``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..expression import run_program
from ..params import Interval, Optional, Options
from ..surfaces import PROGRAM, REGRESSION, surface_grad, surface_value
from ._base import Family, X, Y, always, make, never_steps, spec

#: The longest history the state arrays hold (the bound of ``history_size``).
MAX_HISTORY = 100
#: torch's ``_strong_wolfe`` constants (LBFGS.step does not pass its own tolerance_change)
WOLFE_C1, WOLFE_C2, WOLFE_TOLERANCE_CHANGE = 1e-4, 0.9, 1e-9
#: ``ys`` below this leaves the history unchanged (torch's curvature test)
CURVATURE_MIN = 1e-10


class LbfgsHyper(NamedTuple):
    lr: float
    max_iter: int
    max_eval: int  # torch's default max_iter * 5 // 4 resolved (see ``effective``)
    tolerance_grad: float
    tolerance_change: float
    history_size: int
    strong_wolfe: bool  # line_search_fn == "strong_wolfe"


class LbfgsState(NamedTuple):
    """count, then the named slots; the history blocks follow them (module docstring)."""

    count: int
    d: np.ndarray  # the last direction (both axes)
    prev_flat_grad: np.ndarray  # both axes
    t: np.ndarray  # the scalars below live on axis X
    H_diag: np.ndarray  # torch's key, as every state field is
    prev_loss: np.ndarray
    n_iter: np.ndarray  # torch's state["n_iter"]: iterations over all steps
    func_evals: np.ndarray  # torch's state["func_evals"]
    num_old: np.ndarray  # entries in the history
    first: np.ndarray  # ring index of the oldest entry


def effective(hyper: dict) -> dict:
    """torch's defaults that depend on other values: max_eval = max_iter * 5 // 4."""
    hyper = dict(hyper)
    if hyper.get("max_eval") is None:
        hyper["max_eval"] = hyper["max_iter"] * 5 // 4
    hyper["strong_wolfe"] = hyper.pop("line_search_fn") == "strong_wolfe"
    return hyper


def max_evaluations(h) -> int:
    """The most evaluations one step makes: max_eval (its iterations and line search
    stop there), and the first one and the line search's last, counted generously."""
    return int(h.max_eval) + 2


FAMILY = Family("lbfgs", LbfgsHyper, LbfgsState, kernel_step=never_steps, effective=effective,
                extra_slots=3 * MAX_HISTORY, max_evaluations=max_evaluations,
                # torch's per-coordinate and scalar entries; its history lists (old_dirs,
                # old_stps, ro, al) live in the blocks after the slots and are no columns
                torch_state={"d": always, "t": always, "prev_flat_grad": always,
                             "prev_loss": always, "H_diag": always, "n_iter": always,
                             "func_evals": always},
                scalar_state=("t", "prev_loss", "H_diag", "n_iter", "func_evals"))
Column, Slot, read_hyper = FAMILY.columns, FAMILY.slots, FAMILY.read_hyper
DIRS = len(Slot)  # old_dirs (y vectors), both axes
STPS = DIRS + MAX_HISTORY  # old_stps (s vectors), both axes
RO = STPS + MAX_HISTORY  # ro on axis X, al (scratch, torch's state["al"]) on axis Y


def batch_value(code, x, y, kappa, data_x, data_y, batch):
    """f over the points of ``batch`` (the mini-batch loss torch's closure returns)."""
    if code != REGRESSION:
        return surface_value(code, x, y, kappa, data_x, data_y)
    total = 0.0 * x
    for j in range(batch.shape[0]):
        r = x * data_x[batch[j]] + y - data_y[batch[j]]
        total = total + r * r
    return total / batch.shape[0]


def closure(x, y, problem):
    """(loss, ∂x, ∂y) of step k's closure at (x, y): see the module docstring.

    ``problem`` is what the objective is made of, as :func:`evaluating_step` receives it:
    (code, kappa, data_x, data_y, batch, noise_x, noise_y, program_ops, program_first,
    program_second, slots, program_outputs)."""
    (code, kappa, data_x, data_y, batch, noise_x, noise_y, program_ops, program_first,
     program_second, slots, program_outputs) = problem
    if code == PROGRAM:
        run_program(program_ops, program_first, program_second, slots, x, y)
        f = slots[program_outputs[0]]
        gx = slots[program_outputs[1]]
        gy = slots[program_outputs[2]]
    else:
        gx, gy = surface_grad(code, x, y, kappa, data_x, data_y, batch)
        f = batch_value(code, x, y, kappa, data_x, data_y, batch)
    return f + (noise_x * x + noise_y * y), gx + noise_x, gy + noise_y


def probe(x, y, t, dx, dy, problem):
    """The closure at (x, y) + t·d: (loss, ∂x, ∂y, slope along d)."""
    f, gx, gy = closure(x + t * dx, y + t * dy, problem)
    return f, gx, gy, gx * dx + gy * dy


def clamp(value, low, high):
    """``min(max(value, low), high)`` as Python evaluates it (NaN passes through)."""
    value = low if low > value else value
    return high if high < value else value


def cubic_interpolate(x1, f1, g1, x2, f2, g2, low, high):
    """torch's ``_cubic_interpolate``: the minimiser of the cubic through two points
    with their values and slopes, clamped to [low, high] (its midpoint if none)."""
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        return clamp(min_pos, low, high)
    return (low + high) / 2.0


def strong_wolfe(x, y, t, dx, dy, f, gx, gy, gtd, max_ls, problem):
    """torch's ``_strong_wolfe`` along d from (x, y): (f, gx, gy, t, evaluations).

    The bracket is kept as arrays of two (t, f, ∂x, ∂y, slope); a one-point bracket
    (the Wolfe conditions met while bracketing) is both entries."""
    d_norm = max(abs(dx), abs(dy))
    f_new, gx_new, gy_new, gtd_new = probe(x, y, t, dx, dy, problem)
    evals = 1
    t_prev, f_prev, gx_prev, gy_prev, gtd_prev = 0.0, f, gx, gy, gtd
    bt, bf, bgx, bgy, bgtd = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        armijo_fails = f_new > (f + WOLFE_C1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev)
        if not armijo_fails and abs(gtd_new) <= -WOLFE_C2 * gtd:
            for i in range(2):
                bt[i], bf[i], bgx[i], bgy[i] = t, f_new, gx_new, gy_new
            done = True
            break
        if armijo_fails or gtd_new >= 0:  # torch's first and third cases: a bracket
            bt[0], bf[0], bgx[0], bgy[0], bgtd[0] = t_prev, f_prev, gx_prev, gy_prev, gtd_prev
            bt[1], bf[1], bgx[1], bgy[1], bgtd[1] = t, f_new, gx_new, gy_new, gtd_new
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10.0
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, min_step, max_step)
        t_prev, f_prev, gx_prev, gy_prev, gtd_prev = tmp, f_new, gx_new, gy_new, gtd_new
        f_new, gx_new, gy_new, gtd_new = probe(x, y, t, dx, dy, problem)
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bt[0], bf[0], bgx[0], bgy[0] = 0.0, f, gx, gy
        bt[1], bf[1], bgx[1], bgy[1] = t, f_new, gx_new, gy_new
    insufficient_progress = False
    low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bt[1] - bt[0]) * d_norm < WOLFE_TOLERANCE_CHANGE:
            break
        lower, upper = (bt[0], bt[1]) if bt[0] <= bt[1] else (bt[1], bt[0])
        t = cubic_interpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1], lower, upper)
        top, bottom = max(bt[0], bt[1]), min(bt[0], bt[1])
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, gx_new, gy_new, gtd_new = probe(x, y, t, dx, dy, problem)
        evals += 1
        ls_iter += 1
        if f_new > (f + WOLFE_C1 * t * gtd) or f_new >= bf[low]:
            bt[high], bf[high], bgx[high], bgy[high], bgtd[high] = (
                t, f_new, gx_new, gy_new, gtd_new)
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
        else:
            if abs(gtd_new) <= -WOLFE_C2 * gtd:
                done = True
            elif gtd_new * (bt[high] - bt[low]) >= 0:
                bt[high], bf[high], bgx[high], bgy[high], bgtd[high] = (
                    bt[low], bf[low], bgx[low], bgy[low], bgtd[low])
            bt[low], bf[low], bgx[low], bgy[low], bgtd[low] = t, f_new, gx_new, gy_new, gtd_new
    return bf[low], bgx[low], bgy[low], bt[low], evals


def two_loop(gx, gy, states, c, num_old, first, history_size, h_diag):
    """The L-BFGS direction −H∇f by the two-loop recursion over the history."""
    qx, qy = -gx, -gy
    for i in range(num_old - 1, -1, -1):
        j = (first + i) % history_size
        al = (states[c, X, STPS + j] * qx + states[c, Y, STPS + j] * qy) * states[c, X, RO + j]
        states[c, Y, RO + j] = al
        qx = qx + -al * states[c, X, DIRS + j]
        qy = qy + -al * states[c, Y, DIRS + j]
    rx, ry = qx * h_diag, qy * h_diag
    for i in range(num_old):
        j = (first + i) % history_size
        be = (states[c, X, DIRS + j] * rx + states[c, Y, DIRS + j] * ry) * states[c, X, RO + j]
        alpha = states[c, Y, RO + j] - be
        rx = rx + alpha * states[c, X, STPS + j]
        ry = ry + alpha * states[c, Y, STPS + j]
    return rx, ry


def remember(states, c, sx, sy, yx, yy, ys, num_old, first, history_size):
    """Append (y, s, 1/ys) to the history, dropping the oldest entry when it is full:
    (num_old, first) after."""
    if num_old == history_size:
        first = (first + 1) % history_size
        num_old -= 1
    j = (first + num_old) % history_size
    states[c, X, DIRS + j], states[c, Y, DIRS + j] = yx, yy
    states[c, X, STPS + j], states[c, Y, STPS + j] = sx, sy
    states[c, X, RO + j] = 1.0 / ys
    return num_old + 1, first


def evaluating_step(x, y, states, c, table, code, kappa, data_x, data_y, batch, noise_x,
                    noise_y, program_ops, program_first, program_second, slots,
                    program_outputs):
    """One ``LBFGS.step(closure)`` of run ``c`` from (x, y): the new (x, y).

    torch's code statement for statement (``_gather_flat_grad`` is (gx, gy),
    ``p.add_(d, alpha=t)`` is x + t·d); the closure is :func:`closure` of this step."""
    h = read_hyper(table, c)
    problem = (code, kappa, data_x, data_y, batch, noise_x, noise_y, program_ops,
               program_first, program_second, slots, program_outputs)
    loss, gx, gy = closure(x, y, problem)
    current_evals = 1
    states[c, X, Slot.FUNC_EVALS] += 1
    if max(abs(gx), abs(gy)) <= h.tolerance_grad:
        return x, y
    dx, dy = states[c, X, Slot.D], states[c, Y, Slot.D]
    t = states[c, X, Slot.T]
    h_diag = states[c, X, Slot.H_DIAG]
    num_old = int(states[c, X, Slot.NUM_OLD])
    first = int(states[c, X, Slot.FIRST])
    prev_gx, prev_gy = states[c, X, Slot.PREV_FLAT_GRAD], states[c, Y, Slot.PREV_FLAT_GRAD]
    prev_loss = states[c, X, Slot.PREV_LOSS]
    opt_cond = False
    n_iter = 0
    while n_iter < h.max_iter:
        n_iter += 1
        states[c, X, Slot.N_ITER] += 1
        if states[c, X, Slot.N_ITER] == 1:
            dx, dy = -gx, -gy
            num_old, first = 0, 0
            h_diag = 1.0
        else:
            yx, yy = gx - prev_gx, gy - prev_gy
            sx, sy = dx * t, dy * t
            ys = yx * sx + yy * sy
            if ys > CURVATURE_MIN:
                num_old, first = remember(states, c, sx, sy, yx, yy, ys, num_old, first,
                                          h.history_size)
                h_diag = ys / (yx * yx + yy * yy)
            dx, dy = two_loop(gx, gy, states, c, num_old, first, h.history_size, h_diag)
        prev_gx, prev_gy = gx, gy
        prev_loss = loss
        if states[c, X, Slot.N_ITER] == 1:
            t = min(1.0, 1.0 / (abs(gx) + abs(gy))) * h.lr
        else:
            t = h.lr
        gtd = gx * dx + gy * dy
        if gtd > -h.tolerance_change:
            break
        ls_func_evals = 0
        if h.strong_wolfe:
            loss, gx, gy, t, ls_func_evals = strong_wolfe(
                x, y, t, dx, dy, loss, gx, gy, gtd, h.max_eval - current_evals, problem)
            x, y = x + t * dx, y + t * dy
            opt_cond = max(abs(gx), abs(gy)) <= h.tolerance_grad
        else:
            x, y = x + t * dx, y + t * dy
            if n_iter != h.max_iter:
                loss, gx, gy = closure(x, y, problem)
                opt_cond = max(abs(gx), abs(gy)) <= h.tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        states[c, X, Slot.FUNC_EVALS] += ls_func_evals
        if n_iter == h.max_iter or current_evals >= h.max_eval or opt_cond:
            break
        if max(abs(dx * t), abs(dy * t)) <= h.tolerance_change:
            break
        if abs(loss - prev_loss) < h.tolerance_change:
            break
    states[c, X, Slot.D], states[c, Y, Slot.D] = dx, dy
    states[c, X, Slot.T] = t
    states[c, X, Slot.H_DIAG] = h_diag
    states[c, X, Slot.NUM_OLD] = num_old
    states[c, X, Slot.FIRST] = first
    states[c, X, Slot.PREV_FLAT_GRAD], states[c, Y, Slot.PREV_FLAT_GRAD] = prev_gx, prev_gy
    states[c, X, Slot.PREV_LOSS] = prev_loss
    return x, y


def evaluations(states, c):
    """Closure calls of run ``c`` so far (torch's ``state["func_evals"]``)."""
    return int(states[c, X, Slot.FUNC_EVALS])


def _objective_only(*_):
    raise NotImplementedError(
        "lbfgs evaluates the objective itself: run it through optim_core.simulate")


def lbfgs(*, lr=1.0, max_iter=1, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
          history_size=100, line_search_fn=None):
    r"""L-BFGS: ``torch.optim.LBFGS(lr, max_iter, max_eval, tolerance_grad,
    tolerance_change, history_size, line_search_fn)``, one ``step(closure)`` per step.

    With the curvature pairs s_i = θ_{i+1} − θ_i, y_i = g_{i+1} − g_i (kept when
    y_iᵀs_i > 1e-10, at most ``history_size``), ρ_i = 1/(y_iᵀs_i) and
    H₀ = (yᵀs / yᵀy) of the newest pair, the two-loop recursion gives

    .. math::
        d_t = -H_t g_t, \quad H_{i+1} = (I - \rho_i s_i y_i^\top) H_i
        (I - \rho_i y_i s_i^\top) + \rho_i s_i s_i^\top, \qquad
        \theta_{t+1} = \theta_t + \eta_t d_t

    with η = lr (the first iteration of all: min(1, 1/‖g‖₁)·lr), or η from the
    strong-Wolfe line search (c₁ = 1e-4, c₂ = 0.9) along d. One step runs up to
    ``max_iter`` such iterations and ``max_eval`` evaluations of f and ∇f.

    The one change from torch's defaults: **max_iter = 1** (torch: 20), one iteration
    per step, so that steps compare across optimizers; set ``max_iter`` for torch's.

    Args:
        lr (η): step length, or the line search's first trial. Default 1.
        max_iter: iterations per step, in [1, 100]. Default 1 (torch: 20).
        max_eval: evaluations per step; None is torch's max_iter * 5 // 4. Default None.
        tolerance_grad: a step stops when max |g| ≤ this. Default 1e-7.
        tolerance_change: ... when the step or the change of f is below this. Default 1e-9.
        history_size: curvature pairs kept, in [1, 100]. Default 100.
        line_search_fn: None or "strong_wolfe". Default None.

    References: Liu & Nocedal, "On the limited memory BFGS method for large scale
    optimization" (Math. Programming 45, 1989); Nocedal & Wright, "Numerical
    Optimization" (2006), Alg. 7.4 and 3.5–3.6 (the strong-Wolfe line search).
    """
    return make("lbfgs", FAMILY, locals(), _objective_only, _objective_only)


SPECS = (
    spec(lbfgs, title="L-BFGS", family=FAMILY, group="second order",
         torch="torch.optim.LBFGS(lr, max_iter, history_size, line_search_fn)",
         constraints={
             "max_iter": Interval(int, 1, 100, "both",
                                  why="default 1, one iteration a step; torch's is 20"),
             "max_eval": Optional(Interval(int, 1, 125, "both")),
             "tolerance_grad": Interval(float, 0.0, None, "left"),
             "tolerance_change": Interval(float, 0.0, None, "left"),
             "history_size": Interval(int, 1, MAX_HISTORY, "both",
                                      why="the state holds 100 pairs"),
             "line_search_fn": Optional(Options(("strong_wolfe",))),
         }),
)
