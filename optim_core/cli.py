"""Command line: ``python -m optim_core COMMAND`` (run, diagnose, lesson, sweep, tune, theory,
surfaces, optimizers).

Flags are the parameter names of the library, the URL and the CSV, with ``-`` for
``_`` (``--weight-decay`` is ``weight_decay``). Every bad flag exits with status 2 and
one line on stderr naming the flag and its allowed range; no traceback.
"""

from __future__ import annotations

import argparse
import sys

from .clipping import CLIP_DEFAULTS
from .optimizers import HYPERPARAMETERS, OPTIMIZER_NAMES, OPTIMIZERS
from .params import (
    CALLER_CONSTRAINTS,
    CONSTRAINTS,
    SURFACE_NAMES,
    Boolean,
    InvalidParameterError,
    Options,
    Pair,
    constraint_for,
)
from .schedules import SCHEDULER_NAMES, SCHEDULER_PARAMETERS, SCHEDULERS, parameters_of

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, no usage block
        raise UsageError(message)


def _flag(name: str) -> str:
    return "--" + name.lower().replace("_", "-")  # torch's T_max is --t-max


def _allowed(name: str, caller: str = "") -> str:
    return constraint_for(caller, name).describe()


def _number(name: str, text: str, caller: str = ""):
    """Parse and range-check one numeric flag value against the parameter table."""
    constraint = constraint_for(caller, name)
    kind = getattr(getattr(constraint, "inner", constraint), "kind", float)
    try:
        value = kind(text)
    except ValueError:
        raise UsageError(f"{_flag(name)} must be {_allowed(name, caller)}, got {text!r}") from None
    if constraint.coerce(value) is None:
        for_whom = f" for {caller}" if caller else ""
        raise UsageError(f"{_flag(name)} must be {_allowed(name, caller)}{for_whom}, "
                         f"got {text}")
    return value


def _pair(name: str, texts, caller: str = "") -> tuple[float, float]:
    """Parse and check a pair flag's two values (``--etas 0.3 1.5``)."""
    try:
        values = tuple(float(text) for text in texts)
    except ValueError:
        values = ()
    if constraint_for(caller, name).coerce(values) is None:
        for_whom = f" for {caller}" if caller else ""
        raise UsageError(f"{_flag(name)} takes two numbers, {_allowed(name, caller)}"
                         f"{for_whom}, got {' '.join(texts)!r}")
    return values
def _value(name: str, text: str, caller: str = ""):
    """A hyperparameter flag's value: one of its options (``--line-search-fn``), or a
    number checked by :func:`_number`."""
    constraint = constraint_for(caller, name)
    options = getattr(constraint, "inner", constraint)
    if isinstance(options, Options):
        if options.coerce(text) is None:
            for_whom = f" for {caller}" if caller else ""
            raise UsageError(f"{_flag(name)} must be {options.describe()}{for_whom}, "
                             f"got {text!r}")
        return text
    return float(_number(name, text, caller))


def _hyper_help(name: str) -> str:
    users = [o for o, spec in OPTIMIZERS.items() if name in spec.defaults]
    # a name that means something else for one optimizer (ASGD's alpha) says so
    own = "".join(f"; for {o}: {constraint_for(o, name).describe()}" for o in users
                  if (o, name) in CALLER_CONSTRAINTS)
    return f"{_allowed(name)}; taken by {', '.join(users)}{own}"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m optim_core",
                     description="Race gradient-based optimizers on 2D loss surfaces, "
                                 "with torch.optim semantics.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser(
        "run", help="simulate a race and write its CSV",
        description="Simulate a race and write one CSV row per optimizer and step "
                    "(step 0 first). Hyperparameters not given take each optimizer's "
                    "torch.optim default (momentum: 0.9 for momentum and nesterov); "
                    "--momentum is beta1 for adam, adamw and nadam.")
    _surface_flags(run)
    run.add_argument("--optimizer", action="append", metavar="NAME",
                     help=f"one of {', '.join(OPTIMIZER_NAMES)}; repeat it or give a comma "
                          "list (default: sgd,momentum,nesterov,adam)")
    run.add_argument("--steps", default="100", help=f"{_allowed('steps')} (default 100)")
    run.add_argument("--start", nargs=2, metavar=("X0", "Y0"),
                     help=f"start point, each {_allowed('x0')} (default: the surface's)")
    for name in HYPERPARAMETERS:
        if isinstance(CONSTRAINTS[name], Boolean):
            run.add_argument(_flag(name), action="store_true", default=None,
                             help=f"set {name}=True; taken by " + ", ".join(
                                 o for o, s in OPTIMIZERS.items() if name in s.defaults))
        elif isinstance(CONSTRAINTS[name], Pair):
            run.add_argument(_flag(name), nargs=2, help=_hyper_help(name),
                             metavar=tuple(n.upper() for n in CONSTRAINTS[name].names))
        else:
            run.add_argument(_flag(name), metavar=name.upper(), help=_hyper_help(name))
    run.add_argument("--set", action="append", metavar="OPTIMIZER.PARAM=VALUE",
                     dest="per_optimizer",
                     help="one optimizer's own value, under the URL's name (adam.lr=0.5); "
                          "repeat it; it wins over the shared flag (--lr) for that optimizer")
    run.add_argument("--noise", default="0", help=f"gradient noise σ, {_allowed('noise')}")
    run.add_argument("--batch-size", help="regression only: points per mini-batch, "
                                          f"{_allowed('batch_size')} (default: full batch)")
    run.add_argument("--state", action="store_true",
                     help="add the optimizer state after each step (torch's "
                          "optimizer.state keys: momentum_buffer_x, exp_avg_sq_y, ...; its step as "
                          "state_step)")
    run.add_argument("--out", metavar="FILE", help="write the CSV here (default: stdout)")
    _schedule_flags(run)

    sweep = commands.add_parser(
        "sweep", help="sweep a (lr, momentum) grid and write its metrics as CSV",
        description="Run one optimizer from one start over a log-lr × momentum grid and "
                    "write, per cell, the final loss, the steps to reach the tolerance "
                    "and the measured linear rate.")
    _surface_flags(sweep)
    sweep.add_argument("--optimizer", default="momentum",
                       help=f"one of {', '.join(OPTIMIZER_NAMES)} (default momentum)")
    sweep.add_argument("--steps", default="500", help=f"{_allowed('sweep_steps')} (default 500)")
    sweep.add_argument("--start", nargs=2, metavar=("X0", "Y0"))
    sweep.add_argument("--resolution", default="128",
                       help=f"cells per axis, {_allowed('resolution')} (default 128)")
    sweep.add_argument("--lr-min", default=None, help="smallest lr (default 1e-4)")
    sweep.add_argument("--lr-max", default=None, help="largest lr (default: the surface's)")
    sweep.add_argument("--momentum-min", default="0", help="smallest momentum (default 0)")
    sweep.add_argument("--momentum-max", default="0.999", help="largest momentum (0.999)")
    sweep.add_argument("--noise", default="0", help=f"gradient noise σ, {_allowed('noise')}")
    sweep.add_argument("--batch-size", help="regression only: points per mini-batch")
    sweep.add_argument("--out", metavar="FILE", help="write the CSV here (default: stdout)")

    _tune_command(commands)
    theory = commands.add_parser(
        "theory", help="what theory predicts on this surface for (lr, momentum)")
    _surface_flags(theory)
    theory.add_argument("--lr", default="0.02", help=f"{_allowed('lr')} (default 0.02)")
    theory.add_argument("--momentum", default="0.9", help=f"{_allowed('momentum')} (0.9)")

    commands.add_parser("surfaces", help="list the surfaces")
    commands.add_parser("optimizers", help="list the optimizers and their hyperparameters")
    _doctor_commands(commands, run)
    return parser


def _tune_command(commands) -> None:
    from .tune import CRITERIA, LR_COUNT

    tune = commands.add_parser(
        "tune", help="tune each optimizer's lr (and momentum) for this race, print the table",
        description="For each optimizer, sweep its lr on a log grid (and its momentum, "
                    "beta1 for the Adam family, where it takes one) on this surface, start, "
                    "noise and budget, and pick the best cell by the criterion; print the "
                    "values, the metric, the grid and the lr range within 10x of the best "
                    "loss. Diverged cells never win.")
    _surface_flags(tune)
    tune.add_argument("--optimizer", action="append", metavar="NAME",
                      help="as for run (default: sgd,momentum,nesterov,adam)")
    tune.add_argument("--criterion", default="final-loss",
                      help="; ".join(f"{k}: {v}" for k, v in CRITERIA.items())
                      + " (default final-loss)")
    tune.add_argument("--steps", default="100", help=f"{_allowed('sweep_steps')} (default 100)")
    tune.add_argument("--evaluations", help="loss-at-evals only: the gradient evaluations "
                                            "(default: --steps)")
    tune.add_argument("--lr-count", default=str(LR_COUNT),
                      help=f"lr values (and momenta), {_allowed('resolution')} "
                           f"(default {LR_COUNT})")
    tune.add_argument("--lr-min", default=None, help="smallest lr (default: the surface's)")
    tune.add_argument("--lr-max", default=None, help="largest lr (default: the surface's)")
    tune.add_argument("--momentum-min", default="0", help="smallest momentum (default 0)")
    tune.add_argument("--momentum-max", default="0.999", help="largest momentum (0.999)")
    tune.add_argument("--start", nargs=2, metavar=("X0", "Y0"))
    tune.add_argument("--noise", default="0", help=f"gradient noise σ, {_allowed('noise')}")
    tune.add_argument("--batch-size", help="regression only: points per mini-batch")
    tune.add_argument("--out", metavar="FILE", help="also write the table as CSV here")


def _doctor_commands(commands, run) -> None:
    """``diagnose`` takes ``run``'s flags (all of them, as argparse parents) and --json;
    ``lesson`` prints a lesson's text for its race."""
    diagnose = commands.add_parser(
        "diagnose", parents=[run], add_help=False,
        help="race as `run` does, and say per optimizer what went wrong and the fix",
        description="Race as `run` does and print, per optimizer, its verdict (converged, "
                    "diverged, oscillating, overshooting, plateau, slow), the step it refers "
                    "to, the likely cause and the fix.")
    diagnose.add_argument("--json", action="store_true",
                          help="print a JSON list, one object per run: optimizer, verdict, "
                               "step, cause, fix, apply (the fix as settings)")
    lesson = commands.add_parser("lesson", help="print a guided lesson for its race")
    lesson.add_argument("name", nargs="?", help="the lesson's name (see --list)")
    lesson.add_argument("--list", action="store_true", help="list the lessons")


def _schedule_flags(parser):
    """--scheduler, one flag per scheduler parameter (torch's names), the clip flags."""
    parser.add_argument("--scheduler", default="constant",
                        help=f"a torch.optim.lr_scheduler, stepped after every step: one of "
                             f"{', '.join(SCHEDULER_NAMES)} (default constant)")
    for name in SCHEDULER_PARAMETERS:
        if name in HYPERPARAMETERS:  # warmup_steps: its flag is the optimizers' one too
            continue
        takers = ", ".join(n for n, s in SCHEDULERS.items() if name in s.defaults)
        if isinstance(CONSTRAINTS[name], Boolean):
            on = next(s.defaults[name] for s in SCHEDULERS.values() if name in s.defaults)
            parser.add_argument("--no-" + _flag(name)[2:] if on else _flag(name), dest=name,
                                action="store_false" if on else "store_true", default=None,
                                help=f"{'turn off' if on else 'set'} {name}; taken by {takers}")
        else:
            parser.add_argument(_flag(name), dest=name, metavar=name.upper(),
                                help=f"{_allowed(name)}; taken by {takers}")
    for name in CLIP_DEFAULTS:
        parser.add_argument(_flag(name), dest=name, metavar=name.upper(),
                            help=f"{_allowed(name)} (torch.nn.utils."
                                 f"{'clip_grad_value_' if 'value' in name else 'clip_grad_norm_'}"
                                 f"; default {CLIP_DEFAULTS[name]})")


def _schedule_options(args) -> dict:
    """The scheduler and clip flags given, parsed; the engine checks them together."""
    options = {"scheduler": args.scheduler}
    for name in (*SCHEDULER_PARAMETERS, *CLIP_DEFAULTS):
        if name in HYPERPARAMETERS:  # warmup_steps: given with the hyperparameters
            continue
        value = getattr(args, name)
        if value is None or isinstance(value, bool):
            if value is not None:
                options[name] = value
            continue
        constraint = getattr(CONSTRAINTS[name], "inner", CONSTRAINTS[name])
        # numbers are parsed here (a flag error names the flag); lists and names raw
        options[name] = _number(name, value) if hasattr(constraint, "kind") else value
    return options


def _surface_flags(parser):
    parser.add_argument("--surface", default="ravine",
                        help=f"one of {', '.join(SURFACE_NAMES)} (default ravine)")
    parser.add_argument("--f", metavar="EXPR",
                        help="custom only: f(x, y) as you write it, e.g. "
                             "\"(1 - x)^2 + 100*(y - x^2)^2\" (x, y, pi, e, + - * / ^, "
                             "sin cos tan exp log sqrt abs tanh sinh cosh atan)")
    parser.add_argument("--window", nargs=4, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                        help="custom only: the map window, where its minimum is looked for "
                             "(default: around the minimum found near the origin)")
    parser.add_argument("--kappa", help=f"ravine's condition number κ, {_allowed('kappa')} "
                                        "(default 25)")
    parser.add_argument("--points", help="regression: use N seeded noisy points, "
                                         f"{_allowed('points')} (default: 5 points on y = x)")
    parser.add_argument("--seed", default="0", help=f"{_allowed('seed')} (default 0)")
    parser.add_argument("--data", metavar="FILE.csv",
                        help="regression: fit your own points, a CSV of x, y columns (header "
                             "optional, at most 1,000 rows)")


def _surface(args, options: dict):
    """The surface to pass on: its name, or the line fit on the points of --data."""
    if args.data is None:
        return args.surface
    from .surfaces import regression_on_points
    from .userdata import DataError, read_points

    if args.surface != "regression":
        raise UsageError(f"--data applies to --surface regression only, not {args.surface}")
    if args.points is not None:
        raise UsageError("--data and --points exclude each other: your points or N generated")
    try:
        points = read_points(args.data)
    except DataError as error:
        where = f"row {error.row:,}: " if error.row is not None else ""
        raise UsageError(f"--data {args.data!r}: {where}{error.reason}") from None
    except OSError as error:
        raise UsageError(f"--data cannot read {args.data!r}: {error.strerror}") from None
    return regression_on_points(points.x, points.y, points.digest,
                                **{k: v for k, v in options.items() if k == "kappa"})


def _surface_options(args) -> dict:
    if args.surface not in SURFACE_NAMES:
        raise UsageError(f"--surface must be one of {', '.join(SURFACE_NAMES)}, "
                         f"got {args.surface!r}")
    options = {"seed": _number("seed", args.seed)}
    options.update(_custom_options(args))
    if args.kappa is not None:
        if args.surface != "ravine":
            raise UsageError(f"--kappa applies to --surface ravine only, not {args.surface}")
        options["kappa"] = _number("kappa", args.kappa)
    if args.points is not None:
        if args.surface != "regression":
            raise UsageError(f"--points applies to --surface regression only, not "
                             f"{args.surface}")
        options["points"] = _number("points", args.points)
    return options


def _custom_options(args) -> dict:
    """--f and --window, checked (and the expression parsed) before anything runs."""
    from .expression import ExpressionError
    from .surfaces import check_window, get_surface

    if args.surface != "custom":
        for flag, value in (("--f", args.f), ("--window", args.window)):
            if value is not None:
                raise UsageError(f"{flag} applies to --surface custom only, not "
                                 f"{args.surface}")
        return {}
    if args.f is None:
        raise UsageError("--surface custom needs --f EXPR, f(x, y) as you write it "
                         "(e.g. --f \"x^2 + 10*y^2\")")
    window = None
    if args.window is not None:
        try:
            window = check_window(tuple(float(v) for v in args.window))
        except (ValueError, InvalidParameterError):
            raise UsageError("--window takes four numbers XMIN XMAX YMIN YMAX, finite, "
                             "each min below its max, got "
                             f"{' '.join(args.window)!r}") from None
    try:
        get_surface("custom", f=args.f, window=window)
    except ExpressionError as error:
        raise UsageError(f"--f is not a valid expression: {error.reason}") from None
    return {"f": args.f, "window": window}


def _optimizer_names(values) -> list[str]:
    names = [n.strip() for v in (values or ["sgd,momentum,nesterov,adam"])
             for n in v.split(",") if n.strip()]
    for name in names:
        if name not in OPTIMIZER_NAMES:
            raise UsageError(f"--optimizer must be one of {', '.join(OPTIMIZER_NAMES)}, "
                             f"got {name!r}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"--optimizer {duplicates[0]} is given twice")
    if not names:
        raise UsageError("--optimizer needs at least one name")
    return names


def _start(args):
    if args.start is None:
        return None
    try:
        return tuple(_number(axis, text) for axis, text in zip(("x0", "y0"), args.start,
                                                                  strict=True))
    except UsageError:
        raise UsageError(f"--start takes two numbers X0 Y0, each {_allowed('x0')}, got "
                         f"{' '.join(args.start)!r}") from None


def _hyperparameters(args, names: list[str]) -> dict:
    shared = {}
    for name in HYPERPARAMETERS:
        text = getattr(args, name)
        if text is None:
            continue
        takers = [n for n in names if name in OPTIMIZERS[n].defaults]
        if not takers and name in parameters_of(args.scheduler):
            shared[name] = _value(name, text)  # warmup_steps: the scheduler's alone here
            continue
        if not takers:
            users = [o for o, s in OPTIMIZERS.items() if name in s.defaults]
            raise UsageError(f"{_flag(name)} applies to {', '.join(users)}; none of the "
                             f"selected optimizers ({', '.join(names)}) takes it")
        if isinstance(CONSTRAINTS[name], Boolean):
            shared[name] = True
            continue
        if isinstance(CONSTRAINTS[name], Pair):
            shared[name] = [_pair(name, text, taker) for taker in takers][0]
            continue
        if isinstance(CONSTRAINTS[name], Options):  # momentum_form: the engine checks it
            shared[name] = text
            continue
        # the narrowest range among the optimizers that take it (nesterov: momentum > 0)
        for taker in takers:
            shared[name] = _value(name, text, taker)
    return shared


def _per_optimizer(values, names: list[str]) -> dict:
    """{optimizer: {param: value}} from the ``--set optimizer.param=value`` flags."""
    own: dict = {}
    for text in values or []:
        key, equals, raw = text.partition("=")
        optimizer, dot, param = key.strip().partition(".")
        if not (equals and dot and optimizer and param and raw.strip()):
            raise UsageError(f"--set takes OPTIMIZER.PARAM=VALUE (adam.lr=0.5), got {text!r}")
        if optimizer not in OPTIMIZER_NAMES:
            raise UsageError(f"--set {key}: the optimizer must be one of "
                             f"{', '.join(OPTIMIZER_NAMES)}, got {optimizer!r}")
        if optimizer not in names:
            raise UsageError(f"--set {key}: {optimizer} is not racing (--optimizer "
                             f"{','.join(names)})")
        defaults = OPTIMIZERS[optimizer].defaults
        if param not in defaults:
            raise UsageError(f"--set {key}: {optimizer} has no {param!r}; it takes "
                             f"{', '.join(defaults)}")
        if param in own.get(optimizer, {}):
            raise UsageError(f"--set {key} is given twice")
        raw = raw.strip()
        if isinstance(CONSTRAINTS[param], Boolean):
            if raw.lower() not in ("true", "false"):
                raise UsageError(f"--set {key} must be true or false, got {raw!r}")
            value = raw.lower() == "true"
        elif isinstance(CONSTRAINTS[param], Pair):  # rprop.etas=0.3,1.5 (or "0.3 1.5")
            try:
                value = _pair(param, raw.replace(",", " ").split(), optimizer)
            except UsageError:
                raise UsageError(f"--set {key} takes two numbers (rprop.etas=0.3,1.5), "
                                 f"{_allowed(param, optimizer)}, got {raw!r}") from None
        elif isinstance(CONSTRAINTS[param], Options):
            value = raw
        else:
            try:
                value = _value(param, raw, optimizer)
            except UsageError:
                raise UsageError(f"--set {key} must be {_allowed(param, optimizer)}, "
                                 f"got {raw!r}") from None
        own.setdefault(optimizer, {})[param] = value
    return own


def _write(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"--out cannot write {out!r}: {error.strerror}") from None


def _batch_size(args):
    """The flag's value; its rules with the surface are the engine's (optim_core.rules)."""
    return None if args.batch_size is None else _number("batch_size", args.batch_size)


def _race(args, state: bool = False):
    """The race the run flags describe (``run`` and ``diagnose``), with its optimizer
    state if ``state``."""
    from .simulate import Run, simulate

    options = _surface_options(args)
    names = _optimizer_names(args.optimizer)
    steps = _number("steps", args.steps)
    noise = _number("noise", args.noise)
    batch_size = _batch_size(args)
    own = _per_optimizer(args.per_optimizer, names)
    runs = [Run(name, own.get(name, {})) for name in names]
    return simulate(_surface(args, options), runs, steps=steps, start=_start(args), noise=noise,
                    batch_size=batch_size, state=state, **options,
                    **_hyperparameters(args, names), **_schedule_options(args))


def command_run(args) -> int:
    from .export import race_to_csv

    race = _race(args, state=args.state)
    _write(race_to_csv(race, state=args.state), args.out)
    for run in race.runs:
        if run.diverged_at is not None:
            print(f"{run.optimizer} diverged at step {run.diverged_at} (|x| or |y| above "
                  f"1e8, or not finite); its rows end at step {run.last_step}",
                  file=sys.stderr)
    return 0


def command_diagnose(args) -> int:
    import json

    from .doctor import diagnose

    diagnoses = diagnose(_race(args))
    if args.json:
        text = json.dumps([d.as_dict() for d in diagnoses], indent=2) + "\n"
    else:
        text = "".join(
            f"{d.optimizer}: {d.verdict}" + ("" if d.step is None else f" at step {d.step}")
            + f"\n  cause: {d.cause}\n  fix: {d.fix}\n" for d in diagnoses)
    _write(text, args.out)
    return 0


def command_lesson(args) -> int:
    from .lessons import LESSONS, lesson_text

    if args.list or args.name is None:
        print("\n".join(f"{name:12s} {lesson.title}" for name, lesson in LESSONS.items()))
        return 0
    if args.name not in LESSONS:
        raise UsageError(f"lesson must be one of {', '.join(LESSONS)}, got {args.name!r}")
    print(lesson_text(LESSONS[args.name]))
    return 0


def command_sweep(args) -> int:
    from .sweep import sweep, sweep_to_csv

    options = _surface_options(args)
    if args.optimizer not in OPTIMIZER_NAMES:
        raise UsageError(f"--optimizer must be one of {', '.join(OPTIMIZER_NAMES)}, "
                         f"got {args.optimizer!r}")
    result = sweep(_surface(args, options), args.optimizer,
                   steps=_number("sweep_steps", args.steps),
                   resolution=_number("resolution", args.resolution), start=_start(args),
                   noise=_number("noise", args.noise), batch_size=_batch_size(args),
                   **_grid_ranges(args), **options)
    _write(sweep_to_csv(result), args.out)
    return 0


def _grid_ranges(args) -> dict:
    """--lr-min/--lr-max (None: the surface's) and --momentum-min/--momentum-max."""
    values = {"momentum_min": _number("momentum_min", args.momentum_min),
              "momentum_max": _number("momentum_max", args.momentum_max)}
    for name in ("lr_min", "lr_max"):
        text = getattr(args, name)
        values[name] = None if text is None else _number(name, text)
    return {"lr_range": (values["lr_min"], values["lr_max"]),
            "momentum_range": (values["momentum_min"], values["momentum_max"])}


def _renamed(flag: str, name: str, text: str):
    """``_number`` for a flag that checks against another parameter's range."""
    try:
        return _number(name, text)
    except UsageError:
        raise UsageError(f"{flag} must be {_allowed(name)}, got {text!r}") from None


def command_tune(args) -> int:
    from .tune import CRITERIA, tune, tune_table, tune_to_csv

    options = _surface_options(args)
    names = _optimizer_names(args.optimizer)
    if args.criterion not in CRITERIA:
        raise UsageError(f"--criterion must be one of {', '.join(CRITERIA)}, "
                         f"got {args.criterion!r}")
    if args.evaluations is not None and args.criterion != "loss-at-evals":
        raise UsageError("--evaluations applies to --criterion loss-at-evals only")
    evaluations = (None if args.evaluations is None
                   else _renamed("--evaluations", "sweep_steps", args.evaluations))
    results = tune(_surface(args, options), names, criterion=args.criterion,
                   steps=_renamed("--steps", "sweep_steps", args.steps),
                   evaluations=evaluations,
                   lr_count=_renamed("--lr-count", "resolution", args.lr_count), start=_start(args),
                   noise=_number("noise", args.noise), batch_size=_batch_size(args),
                   **_grid_ranges(args), **options)
    sys.stdout.write(tune_table(results))
    if args.out is not None:
        _write(tune_to_csv(results), args.out)
    return 0


def command_theory(args) -> int:
    from . import theory
    from .surfaces import get_surface

    options = _surface_options(args)
    surface = _surface(args, options)
    surface = get_surface(surface, **options) if isinstance(surface, str) else surface
    lr, momentum = _number("lr", args.lr), _number("momentum", args.momentum)
    r = theory.readout(surface, lr, momentum)
    c = r.curvature
    where = "exact (quadratic)" if c.exact else "local, at the minimum"
    if surface.name == "custom":
        where = ("exact (quadratic)" if c.exact else
                 f"local, at ({r.at[0]:.6g}, {r.at[1]:.6g})")
    lines = [f"surface {surface.name}: Hessian eigenvalues {where}: L = {c.L:.6g}, "
             f"m = {c.m:.6g}, kappa = {c.kappa:.6g}",
             f"effective lr lr/(1-momentum) = {r.effective_lr:.6g}"]
    for limit, rate in zip(r.limits, r.rates, strict=True):
        lines.append(f"{limit.optimizer:9s} largest stable lr {limit.lr_max:.6g}; predicted "
                     f"rate at lr {lr:g}: {rate.predicted:.6g} per step"
                     + ("" if rate.predicted < 1 else " (diverges)"))
    if r.polyak is not None:
        best_lr, best_momentum, best_rate = r.polyak
        lines.append(f"Polyak's optimum: lr = {best_lr:.6g}, momentum = {best_momentum:.6g}, "
                     f"rate = {best_rate:.6g}")
    else:
        lines.append(f"Polyak's optimum: {r.polyak_note}")
    print("\n".join(lines))
    return 0


def command_surfaces(_args) -> int:
    from .surfaces import SURFACES, get_surface

    group = None
    for name in SURFACES:
        s = get_surface(name)
        if s.group != group:
            group = s.group
            print(f"# {group}")
        (x0, x1), (y0, y1) = s.window
        minima = ", ".join(f"({x:.6g}, {y:.6g})" for x, y in s.minima)
        print(f"{name}: {s.formula}\n  {s.description}\n  default start "
              f"({s.default_start[0]:g}, {s.default_start[1]:g}); "
              f"minim{'a' if len(s.minima) > 1 else 'um'} {minima} with f = "
              f"{s.f_min:.6g}; window x [{x0:g}, {x1:g}], y [{y0:g}, {y1:g}]")
    print("# your own\ncustom: --surface custom --f EXPR [--window XMIN XMAX YMIN YMAX]\n"
          "  f(x, y) as you write it, with exact derivatives; its minimum is found in the "
          "window")
    return 0


def command_optimizers(_args) -> int:
    for name, spec in OPTIMIZERS.items():
        defaults = ", ".join(f"{k}={v!r}" for k, v in spec.defaults.items())
        print(f"{name:9s} {spec.torch}\n          {defaults}")
    return 0


COMMANDS = {"run": command_run, "diagnose": command_diagnose, "lesson": command_lesson,
            "sweep": command_sweep, "tune": command_tune, "theory": command_theory,
            "surfaces": command_surfaces, "optimizers": command_optimizers}


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidParameterError as error:  # a cross-parameter rule of the engine
        flag = _flag(error.parameter) if error.parameter in CONSTRAINTS else error.parameter
        print(f"{parser.prog}: error: {flag}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0

