"""The expression language of the custom surface: grammar, errors, hostile input, exact
derivatives (against torch autograd) and the two evaluation paths (bit for bit).

tests/fixtures/make_expression_reference.py ran torch 2.13.0 in float64: value,
gradient and Hessian of 22 expressions (the twelve classic test functions among them)
at five points each; the tests need no torch.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from optim_core import _kernels, expression
from optim_core._kernels import compiled_evaluate
from optim_core.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    evaluate,
    parse,
)
from optim_core.params import InvalidParameterError
from tests.torch_reference import assert_close

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "expression_reference.json")
                     .read_text())
X, Y = 0.7, -1.3

# (typed, canonical text, the same function in Python)
GRAMMAR = [
    ("-x^2", "-x^2", lambda x, y: -(x**2)),
    ("-2^2", "-2^2", lambda x, y: -4.0),
    ("(-2)^2", "(-2)^2", lambda x, y: 4.0),
    ("2^3^2", "2^3^2", lambda x, y: 512.0),
    ("2**3**2", "2^3^2", lambda x, y: 512.0),
    ("(2^3)^2", "(2^3)^2", lambda x, y: 64.0),
    ("x^-2", "x^-2", lambda x, y: x**-2),
    ("x^-y^2", "x^-y^2", lambda x, y: x ** (-(y**2))),
    ("x^(y*2)", "x^(y*2)", lambda x, y: x ** (y * 2)),
    ("x^(-y)", "x^-y", lambda x, y: x ** (-y)),
    ("x^(y^2)", "x^y^2", lambda x, y: x ** (y**2)),
    ("2^-1", "2^-1", lambda x, y: 0.5),
    ("x - y - 1", "x - y - 1", lambda x, y: (x - y) - 1),
    ("x - (y - 1)", "x - (y - 1)", lambda x, y: x - (y - 1)),
    ("x/y/2", "x/y/2", lambda x, y: (x / y) / 2),
    ("x/(y*2)", "x/(y*2)", lambda x, y: x / (y * 2)),
    ("x + y*2", "x + y*2", lambda x, y: x + y * 2),
    ("(x + y)*2", "(x + y)*2", lambda x, y: (x + y) * 2),
    ("x*-y", "x*-y", lambda x, y: x * -y),
    ("x + -y", "x + -y", lambda x, y: x - y),
    ("-(x*y)", "-(x*y)", lambda x, y: -(x * y)),
    ("--x", "--x", lambda x, y: x),
    ("+x", "x", lambda x, y: x),
    ("((x))", "x", lambda x, y: x),
    ("1e-3*x + .5 + 2.", "1e-3*x + .5 + 2.", lambda x, y: 0.001 * x + 0.5 + 2.0),
    ("2.5E+2 * y", "2.5E+2*y", lambda x, y: 250.0 * y),  # numbers stay as typed
    ("arctan(x)**2", "atan(x)^2", lambda x, y: math.atan(x) ** 2),
    ("pi*e", "pi*e", lambda x, y: math.pi * math.e),
    ("sin(x)^2 + cos(x)^2", "sin(x)^2 + cos(x)^2", lambda x, y: math.sin(x)**2
     + math.cos(x)**2),
    ("arctan(x) - atan(y)", "atan(x) - atan(y)", lambda x, y: math.atan(x) - math.atan(y)),
    ("exp(-x^2)", "exp(-x^2)", lambda x, y: math.exp(-(x**2))),
    ("abs(y)^0.5", "abs(y)^0.5", lambda x, y: abs(y) ** 0.5),
    ("sqrt(abs(y))*log(x)", "sqrt(abs(y))*log(x)", lambda x, y: math.sqrt(abs(y))
     * math.log(x)),
    ("tanh(x) + sinh(y) - cosh(x)/tan(y)", "tanh(x) + sinh(y) - cosh(x)/tan(y)",
     lambda x, y: math.tanh(x) + math.sinh(y) - math.cosh(x) / math.tan(y)),
    ("x^y", "x^y", lambda x, y: x**y),
    ("x \u2212 y", "x - y", lambda x, y: x - y),  # the typographic minus, on purpose
    ("\tx *\n y ", "x*y", lambda x, y: x * y),
]


@pytest.mark.parametrize(("typed", "text", "python"), GRAMMAR, ids=[g[0] for g in GRAMMAR])
def test_grammar_precedence_and_canonical_text(typed, text, python):
    f = parse(typed)
    assert f.text == text
    assert float(f.value(X, Y)) == pytest.approx(python(X, Y), rel=1e-15)
    again = parse(f.text)  # the canonical text means the same
    assert again.text == text
    assert float(again.value(X, Y)) == float(f.value(X, Y))


def test_variables_and_constant_folding():
    assert parse("x^2 + 1").variables == ("x",)
    assert parse("y*pi").variables == ("y",)
    assert parse("x*y").variables == ("x", "y")
    constant = parse("2*pi - e^2")
    assert constant.variables == ()
    assert constant.value_program.ops.size == 0  # folded once, at parse time
    assert float(constant.value(3.0, 4.0)) == 2 * math.pi - math.e**2
    assert [float(g) for g in constant.grad(3.0, 4.0)] == [0.0, 0.0]


def test_derivatives_are_simplified():
    """0 and 1 are folded in derivative terms: ∂(x·y)/∂x is y itself, and a quadratic's
    Hessian is constant (no instruction at all)."""
    f = parse("x*y")
    assert f.grad_program.ops.size == 1  # x*y; the partials are the slots of y and x
    assert f.hessian_program.ops.size == 0
    assert [float(h) for h in f.hessian(X, Y)] == [0.0, 1.0, 0.0]
    quadratic = parse("0.5*(x^2 + 25*y^2) + 3*x*y")
    assert quadratic.hessian_program.ops.size == 0
    assert [float(h) for h in quadratic.hessian(X, Y)] == [1.0, 3.0, 25.0]


def test_constant_powers_are_computed_as_torch_computes_them():
    """torch raises a tensor to 2 or 3 by multiplying, to 0.5 by sqrt, to −0.5 by 1/sqrt;
    other integers here by squaring, the rest by the C library's pow."""
    programs = {text: parse(text).value_program for text in
                ("x^2", "x^3", "x^-1", "x^0.5", "x^-0.5", "x^1.5", "x^y", "x^0", "x^1")}
    assert {text: program.ops.tolist() for text, program in programs.items()} == {
        "x^2": [expression.POWI], "x^3": [expression.POWI], "x^-1": [expression.POWI],
        "x^0.5": [expression.SQRT], "x^-0.5": [expression.SQRT, expression.DIV],
        "x^1.5": [expression.POW], "x^y": [expression.POW], "x^0": [], "x^1": []}
    z = 1.1
    assert float(parse("x^3").value(z, 0)) == z * z * z
    assert float(parse("x^-2").value(z, 0)) == 1 / (z * z)
    assert float(parse("x^0.5").value(z, 0)) == math.sqrt(z)
    assert float(parse("x^-0.5").value(z, 0)) == 1 / math.sqrt(z)
    assert float(parse("x^7").value(z, 0)) == ((z * z) * z) ** 2 * z  # squaring, top bit first
    assert float(parse("x^1.5").value(z, 0)) == math.pow(z, 1.5)
    assert float(parse("x^0").value(math.nan, 0)) == 1.0  # as pow(nan, 0)


def test_evaluation_broadcasts_like_numpy():
    f = parse("x^2 + sin(y)")
    xs, ys = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 3))
    assert f.value(xs, ys).shape == (3, 4)
    assert f.value(np.arange(4.0), np.arange(3.0)[:, None]).shape == (3, 4)
    gx, gy = f.grad(xs, 1.0)
    np.testing.assert_array_equal(gx, 2 * xs)
    np.testing.assert_array_equal(gy, np.full((3, 4), math.cos(1.0)))
    assert isinstance(float(f.value(0.5, 0.5)), float)


def _random_tree(rng, depth):
    """(fully parenthesised text, the same function in Python) of a random expression."""
    leaves = [("x", lambda x, y: x), ("y", lambda x, y: y), ("pi", lambda x, y: math.pi),
              ("e", lambda x, y: math.e), ("2", lambda x, y: 2.0), ("0.5", lambda x, y: 0.5),
              ("1e-3", lambda x, y: 1e-3), ("3", lambda x, y: 3.0)]
    kind = rng.integers(6) if depth > 0 else 0
    if kind == 0:
        return leaves[rng.integers(len(leaves))]
    a_text, a = _random_tree(rng, depth - 1)
    if kind == 1:
        return f"-({a_text})", lambda x, y: -a(x, y)
    if kind == 2:
        name = ("sin", "cos", "atan", "tanh", "exp")[rng.integers(5)]
        function = getattr(math, name)
        return f"{name}({a_text})", lambda x, y: function(a(x, y))
    if kind == 3:
        exponent = ("2", "3", "-1", "y", "(y)*(0.5)", "(y)-(1)", "-(y)")[rng.integers(7)]
        if "y" in exponent:
            power = {"y": lambda y: y, "(y)*(0.5)": lambda y: y * 0.5,
                     "(y)-(1)": lambda y: y - 1, "-(y)": lambda y: -y}[exponent]
            return (f"({a_text})^({exponent})",
                    lambda x, y: a(x, y) ** power(y) if a(x, y) > 0 else math.nan)
        p = float(exponent)
        return f"({a_text})^{exponent}", lambda x, y: a(x, y) ** p
    b_text, b = _random_tree(rng, depth - 1)
    op = "+-*/"[rng.integers(4)]
    python = {"+": lambda x, y: a(x, y) + b(x, y), "-": lambda x, y: a(x, y) - b(x, y),
              "*": lambda x, y: a(x, y) * b(x, y), "/": lambda x, y: a(x, y) / b(x, y)}[op]
    return f"({a_text}){op}({b_text})", python


def test_random_expressions_round_trip_and_evaluate():
    """200 random expressions typed with every parenthesis: the canonical text (fewest
    parentheses) parses to the same program, and both mean the Python function."""
    rng = np.random.default_rng(17)
    checked = 0
    for _ in range(200):
        typed, python = _random_tree(rng, 4)
        try:
            f = parse(typed)
        except ExpressionError as error:  # a constant part that is not finite
            assert "not a finite number" in error.reason
            continue
        again = parse(f.text)
        assert again.text == f.text and len(f.text) <= len(typed)
        for program, same in ((f.value_program, again.value_program),
                              (f.grad_program, again.grad_program)):
            for field in ("ops", "first", "second", "constants", "outputs"):
                np.testing.assert_array_equal(getattr(program, field), getattr(same, field))
        for x, y in ((0.7, 1.3), (-1.1, 0.4)):
            try:
                expected = python(x, y)
            except (ZeroDivisionError, OverflowError, ValueError):
                continue
            if math.isfinite(expected):
                assert float(f.value(x, y)) == pytest.approx(expected, rel=1e-12, abs=1e-300)
                checked += 1
    assert checked > 200


# --- errors ----------------------------------------------------------------------------

# (typed, what the reason says, column)
ERRORS = [
    ("2x", "implicit multiplication at column 2 (write 2*x)", 2),
    ("x y", "implicit multiplication at column 3 (write x*y)", 3),
    ("2(x)", "implicit multiplication at column 2 (write 2*(...))", 2),
    ("(x)(y)", "implicit multiplication at column 4 (write (...)*(...))", 4),
    ("x sin(y)", "implicit multiplication at column 3 (write x*sin(...))", 3),
    ("pi x", "write pi*x", 4),
    ("x + z", "unknown name 'z' at column 5 (use x, y, pi, e)", 5),
    ("xy + 1", "unknown name 'xy' at column 1 (write x*y)", 1),
    ("sinx", "unknown name 'sinx' at column 1 (write sin(x))", 1),
    ("inf", "unknown name 'inf' at column 1", 1),
    ("foo(x)", "unknown function 'foo' at column 1 (use sin, cos", 1),
    ("ln(x)", "unknown function 'ln' at column 1 (use log, the natural logarithm)", 1),
    ("sin x", "'sin' at column 1 needs parentheses (write sin(x))", 1),
    ("1 + sin^2(x)", "'sin' at column 5 needs parentheses (write sin(x)^2)", 5),
    ("(x + 1", "unbalanced parenthesis at column 1: '(' is never closed", 1),
    ("x + 1)", "unbalanced parenthesis at column 6: ')' has no matching '('", 6),
    ("sin(x", "unbalanced parenthesis at column 4", 4),
    ("x + * 2", "expected a number or name at column 5 after '+' (found '*')", 5),
    ("x +", "expected a number or name at column 4 after '+' (the expression ends)", 4),
    ("()", "expected a number or name at column 2 after '('", 2),
    ("x ** * 2", "expected a number or name at column 6 after '**'", 6),
    ("x^", "expected a number or name at column 3", 3),
    ("1.2.3", "malformed number '1.2.3' at column 1", 1),
    ("2 + 1e+", "malformed number '1e+' at column 5", 5),
    ("1e999*x", "number '1e999' at column 1 is too large", 1),
    ("x, y", "unexpected character ',' at column 2 (functions take one argument)", 2),
    ("x = 1", "unexpected character '=' at column 3", 3),
    ("f(x) = x", "unknown function 'f' at column 1", 1),
    ("x.y", "unexpected character '.' at column 2", 2),
    ("x % 2", "unexpected character '%' at column 3", 3),
    ("'x'", "unexpected character \"'\" at column 1 (no strings)", 1),
    ("x\x00", "NUL byte at column 2 is not allowed", 2),
    ("x + \x1b", "control character U+001B at column 5 is not allowed", 5),
    ("x + \u0445", "character 'х' (U+0445 CYRILLIC SMALL LETTER HA) at column 5 is not "
     "allowed (did you mean 'x'?)", 5),
    ("\uff58", "FULLWIDTH LATIN SMALL LETTER X) at column 1 is not allowed (did you "
     "mean 'x'?)", 1),
    ("x\u00b2", "(did you mean '^2'?)", 2),
    ("2\u03c0", "(did you mean 'pi'?)", 2),
    ("x \u00d7 y", "(did you mean '*'?)", 3),
    ("x^65", "the exponent 65 at column 3 is out of range (a constant exponent must lie "
     "in [-64, 64])", 3),
    ("x^-65", "the exponent -65 at column 3 is out of range", 3),
    ("9^9^9", "the exponent 9^9 = 387420489 at column 3 is out of range", 3),
    ("x^(10^6)", "the exponent 10^6 = 1000000 at column 3 is out of range", 3),
    ("x^(1/0)", "'1/0' at column 3 is not a finite number (division by zero)", 3),
    ("exp(1000) - x", "'exp(1000)' at column 1 is not a finite number", 1),
    ("x + log(0)", "'log(0)' at column 5 is not a finite number", 5),
    ("x*sqrt(-1)", "'sqrt(-1)' at column 3 is not a finite number", 3),
    ("y + (-8)^(1/3)", "'(-8)^(1/3)' at column 5 is not a finite number", 5),
    ("2^64^64", "the exponent 64^64 = ", 3),
    ("", "it is empty", None),
    (" \t ", "it is empty", None),
    # hostile input: code, towers, huge or deep text, look-alike and invisible characters
    ("__import__('os')", "'__import__' at column 1 is not allowed", 1),
    ("__import__('os').system('ls')", "'__import__' at column 1 is not allowed", 1),
    ("().__class__", "expected a number or name at column 2", 2),
    ("x.__class__", "unexpected character '.' at column 2", 2),
    ("lambda: 1", "'lambda' at column 1 is not allowed", 1),
    ("(lambda x: x)(1)", "'lambda' at column 2 is not allowed", 2),
    ("[x for x in (1, 2)]", "unexpected character '[' at column 1", 1),
    ("x for x in y", "'for' at column 3 is not allowed", 3),
    ("x if y else 1", "'if' at column 3 is not allowed", 3),
    ("eval('1')", "'eval' at column 1 is not allowed", 1),
    ("exec", "'exec' at column 1 is not allowed", 1),
    ("open(x)", "'open' at column 1 is not allowed", 1),
    ("x; import os", "unexpected character ';' at column 2", 2),
    ("9**9**9**9", "the exponent 9^9 = 387420489 at column 7 is out of range", 7),
    ("2^1000", "the exponent 1000 at column 3 is out of range", 3),
    ("(" * 10_000 + "x" + ")" * 10_000, "it is 20,001 characters long (at most 500)",
     MAX_LENGTH + 1),
    ("x" * 1_000_000, "it is 1,000,000 characters long (at most 500)", MAX_LENGTH + 1),
    ("x+" * 1_000_000, "it is 2,000,000 characters long", MAX_LENGTH + 1),
    ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
     f"nesting deeper than 50 levels at column {MAX_DEPTH + 1}", MAX_DEPTH + 1),
    ("sin(" * 60 + "x" + ")" * 60, "nesting deeper than 50 levels at column 204", 204),
    ("x^" * 60 + "x", "nesting deeper than 50 levels at column 102", 102),
    ("x\x00 + __import__('os')", "NUL byte at column 2", 2),
    ("\x00" * 400, "NUL byte at column 1", 1),
    ("\u0445 + \u0443", "CYRILLIC SMALL LETTER HA", 1),
    ("x + \u0435", "(did you mean 'e'?)", 5),
    ("x\u200b+y", "U+200B ZERO WIDTH SPACE", 2),
    ("x\ud800", "U+D800", 2),  # a lone surrogate
    ("\u202ex + y", "U+202E RIGHT-TO-LEFT OVERRIDE", 1),
]


@pytest.mark.parametrize(("typed", "reason", "column"), ERRORS,
                         ids=[repr(e[0][:24]) for e in ERRORS])
def test_error_says_what_and_where(typed, reason, column):
    with pytest.raises(ExpressionError) as caught:
        parse(typed)
    error = caught.value
    assert reason in error.reason
    assert error.column == column
    assert isinstance(error, InvalidParameterError) and isinstance(error, ValueError)
    assert (error.parameter, error.caller, error.got) == ("f", "custom", typed)
    assert str(error).startswith("The 'f' parameter of custom is not a valid expression: "
                                 + error.reason)
    assert str(error).endswith(" instead.")


def test_error_is_not_a_string():
    for value in (None, 3, b"x", ["x"]):
        with pytest.raises(ExpressionError, match="it must be a string"):
            parse(value)


def test_a_long_text_is_refused_before_it_is_read(monkeypatch):
    """Only its length is looked at: no token of a 1 MB string is made."""
    def no_tokens(text):
        raise AssertionError("tokenized")

    monkeypatch.setattr(expression, "_tokens", no_tokens)
    for typed in ("x" * 1_000_000, "(" * 10_000 + "x" + ")" * 10_000, "\x00" * 501):
        with pytest.raises(ExpressionError, match="characters long"):
            parse(typed)


def test_limits_are_inclusive():
    """500 characters, 50 levels and |exponent| 64 are allowed; one more is not."""
    assert parse("x" + " " * (MAX_LENGTH - 1)).text == "x"
    nested = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(nested).text == "x"
    assert parse("sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH).variables == ("x",)
    assert parse("x^" * MAX_DEPTH + "y").variables == ("x", "y")
    assert parse("x^64 + x^-64 + 2^64").text == "x^64 + x^-64 + 2^64"


# the largest inputs that parse: long chains, deep nesting, towers
WORST = {
    "499 signs": "-" * 499 + "x",
    "sum chain": "x+" * 249 + "y",
    "product chain": "x*y*" * 124 + "x",
    "quotient chain": "x/" * 249 + "y",
    "nested calls": "sin(cos(" * 24 + "x*y" + "))" * 24,
    "nested quotients": "1/(x+" * 49 + "y" + ")" * 49,
    "tower": "x^y^" * 24 + "x",
    "towers summed": "+".join(["x^y^x^y^x^y^x^y^x^y"] * 25),
}


@pytest.mark.parametrize("typed", WORST.values(), ids=WORST.keys())
def test_work_is_bounded_and_needs_little_stack(typed):
    """The largest inputs parse, differentiate and compile within a few hundred Python
    frames (nothing recurses per operator), into programs of bounded size; their
    canonical text parses too (unspaced where the spaced one is too long)."""
    assert len(typed) <= MAX_LENGTH
    limit = sys.getrecursionlimit()
    depth = len(_frames())
    sys.setrecursionlimit(depth + 400)  # MAX_DEPTH parentheses take ~5 frames each
    try:
        f = parse(typed)
    finally:
        sys.setrecursionlimit(limit)
    assert f.grad_program.ops.size + f.hessian_program.ops.size < 5_000
    assert parse(f.text).text == f.text


def _frames():
    frame, frames = sys._getframe(), []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


def test_too_complex_is_an_error(monkeypatch):
    monkeypatch.setattr(expression, "MAX_TERMS", 50)
    with pytest.raises(ExpressionError, match=r"it is too complex \(f and its derivatives "
                                              r"need more than 50 operations\)"):
        parse("sin(x*y)^3*exp(cos(x + y))")


# --- exact derivatives: torch autograd ------------------------------------------------


def test_fixture_is_torchs():
    assert FIXTURE["dtype"] == "float64" and FIXTURE["torch_version"].startswith("2.13.0")
    names = {case["name"] for case in FIXTURE["cases"]}
    assert {"beale", "himmelblau", "booth", "matyas", "three_hump_camel", "six_hump_camel",
            "goldstein_price", "rastrigin", "ackley", "styblinski_tang", "mccormick",
            "levi13"} <= names
    used = set()
    for case in FIXTURE["cases"]:
        f = parse(case["f"])
        used |= set(f.grad_program.ops.tolist()) | set(f.hessian_program.ops.tolist())
    assert used == set(range(19))  # every instruction is checked against torch


@pytest.mark.parametrize("evaluate_with", [evaluate, compiled_evaluate],
                         ids=["numpy", "numba"])
@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_value_gradient_and_hessian_equal_torch_autograd(case, evaluate_with):
    f = parse(case["f"])
    points = np.array(case["points"])
    x, y = points[:, 0], points[:, 1]
    (value,) = evaluate_with(f.value_program, x, y)
    again, gx, gy = evaluate_with(f.grad_program, x, y)
    hxx, hxy, hyy = evaluate_with(f.hessian_program, x, y)
    assert_close(value, case["value"], f"{case['name']}: value")
    np.testing.assert_array_equal(again, value)
    assert_close(np.stack([gx, gy], axis=1), case["grad"], f"{case['name']}: gradient")
    assert_close(np.stack([hxx, hxy, hyy], axis=1), case["hessian"],
                  f"{case['name']}: Hessian")


# --- NumPy == numba, bit for bit ------------------------------------------------------

EVERY_OPERATION = [
    "x + y - x*y/(1 + y^2) - -x + x/y - y/x",
    "x^y + abs(x)^0.5 + 2^x + x^3 - y^-2 + x^7",
    "sqrt(abs(x*y)) + abs(x - y)",
    "sin(x) + cos(y) + tan(x*y)",
    "exp(x) - log(y) + log(x^2 + 1)",
    "tanh(x) + sinh(y) - cosh(x/2) + atan(x*y)",
] + [case["f"] for case in FIXTURE["cases"]]


@pytest.mark.parametrize("typed", EVERY_OPERATION)
def test_numba_program_equals_numpy_bit_for_bit(typed):
    """Over a wide range, overflow and domain errors included (log of negatives,
    exp(800), 0^-2): the same bits, NaN where NaN."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-3, 3, 400), rng.uniform(-800, 800, 100),
                        [0.0, -0.0, 1e-300, 1e300, -1e300]])
    y = np.concatenate([rng.uniform(-3, 3, 400), rng.uniform(-800, 800, 100),
                        [0.0, 1.0, -1e-300, 1e300, 2.0]])
    f = parse(typed)
    for program in (f.value_program, f.grad_program, f.hessian_program):
        for ours, compiled in zip(evaluate(program, x, y), compiled_evaluate(program, x, y),
                                  strict=True):
            np.testing.assert_array_equal(ours, compiled)


def test_libm_edges_are_the_c_librarys():
    """Where Python's math raises, the NumPy path gives C's answer, as compiled code
    does."""
    f = parse("exp(x) + log(y)")
    (value,) = compiled_evaluate(f.value_program, [1000.0, 1.0, 1.0], [1.0, 0.0, -1.0])
    (same,) = evaluate(f.value_program, [1000.0, 1.0, 1.0], [1.0, 0.0, -1.0])
    assert value[0] == same[0] == math.inf
    assert value[1] == same[1] == -math.inf
    assert math.isnan(value[2]) and math.isnan(same[2])
    powers = parse("x^y")
    (value,) = evaluate(powers.value_program, [-8.0, 0.0, 10.0], [1 / 3, -1.0, 400.0])
    assert math.isnan(value[0]) and value[1] == math.inf and value[2] == math.inf


def test_run_program_is_the_kernels_step():
    """One point through the compiled tape, as a race kernel will call it."""
    f = parse("(1 - x)^2 + 100*(y - x^2)^2")
    program = f.grad_program
    out = _kernels.evaluate_points_kernel(
        program.ops, program.first, program.second, program.outputs,
        program.initial_slots(), np.array([-1.2]), np.array([1.0]))
    assert out.tolist() == [[float(v[0]) for v in evaluate(program, [-1.2], [1.0])]]
    assert out.tolist() == [[24.199999999999996, -215.59999999999997, -87.99999999999999]]
    assert len(program.listing()) == program.ops.size
