"""A typed surface f(x, y): a small expression language, its exact derivatives, and a
flat program that NumPy and numba evaluate alike.

    >>> f = parse("(1 - x)^2 + 100*(y - x^2)^2")
    >>> f.value(-1.2, 1.0), f.grad(-1.2, 1.0), f.hessian(-1.2, 1.0)

The text is tokenized and parsed by a grammar (recursive descent); nothing is ever
``eval``'d, and only the names below exist::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-")* power
    power      := primary (("^" | "**") ("+" | "-")* primary)*     (groups to the right)
    primary    := number | "x" | "y" | "pi" | "e" | function "(" expression ")"
                | "(" expression ")"

so powers bind tighter than a unary minus (``-x^2`` is −(x²)), ``2^3^2`` is 2⁹ and
``x^-2`` is x^(−2). Functions: sin cos tan exp log sqrt abs tanh sinh cosh atan (and
``arctan``). A typographic minus (U+2212) counts as ``-``, so formulas pasted from a
document parse; every other non-ASCII character is rejected with its name (a Cyrillic
``х`` looks like ``x`` but is not).

Limits (``MAX_LENGTH``, ``MAX_DEPTH``, ``MAX_EXPONENT``, ``MAX_TERMS``) bound the work
of every input: at most 500 characters, parentheses, calls and exponents nested at most
50 deep, a constant exponent in [−64, 64], and at most 20,000 operations in f and its
derivatives. Constant subexpressions are folded when parsed, and one that is not a
finite number (``1/0``, ``exp(1000)``, ``9^9^9``) is an error, so nothing huge is ever
computed. No step recurses per operator (a 250-term sum is a loop), so no input can
exhaust Python's stack. Every error is one :class:`ExpressionError` naming what
is wrong and where (1-based ``column``).

Derivatives are symbolic, taken on the parsed tree (hash-consed, so shared
subexpressions are built and computed once), with light simplification (0 and 1
folded) applied to the derivative terms only: the value is computed exactly as typed.
The rules are written as torch's autograd formulas (``tan``: 1 + tan², ``sqrt``:
1/(2·sqrt), ``a/b``: 1/b and −a/(b·b)). One known difference: where a variable
exponent meets a base of exactly 0, ∂(a^b)/∂b is NaN here (0·log 0), where torch masks
it to 0; such a run is cut, as any non-finite gradient is.

A :class:`Program` is a flat tape: instruction i computes slot ``n_fixed + i`` from two
earlier slots (x, y, the constants, or earlier results), so the gradient program
computes f and both partial derivatives with their common subexpressions once. It runs
in :func:`evaluate` (NumPy, any array shape: the map image) and in :func:`run_program`
(scalars, compiled by numba: the race kernels). Both apply the same :func:`apply_op`;
arithmetic, ``sqrt`` and ``abs`` are correctly rounded in both, and the transcendental
functions call the C library in both (NumPy's own SIMD ``exp``, ``log``, ``tanh``...
round differently), so the two agree bit for bit.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import struct
import unicodedata
from dataclasses import dataclass, replace

import numpy as np

from ._dispatch import by_code
from ._elementwise import select
from .params import InvalidParameterError, shown_value

MAX_LENGTH = 500  # characters of one expression
MAX_DEPTH = 50  # parentheses, calls and exponents nested in one another
MAX_EXPONENT = 64  # |p| of a constant exponent
MAX_TERMS = 20_000  # distinct operations in f and its first and second derivatives

VARIABLES = ("x", "y")
CONSTANTS = {"pi": math.pi, "e": math.e}
FUNCTION_NAMES = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh",
                  "atan")
ALIASES = {"arctan": "atan"}
ALLOWED = ("an expression in x and y: numbers, x, y, pi, e, + - * / ^ (or **), "
           "parentheses and " + ", ".join(FUNCTION_NAMES))

# --- opcodes of a Program (compile-time constants for numba) ---------------------------
ADD, SUB, MUL, DIV, NEG, POW, POWI, SQRT, ABS, SIGN = range(10)
SIN, COS, TAN, EXP, LOG, TANH, SINH, COSH, ATAN = range(10, 19)
FUNCTION_OPS = {"sin": SIN, "cos": COS, "tan": TAN, "exp": EXP, "log": LOG, "sqrt": SQRT,
                "abs": ABS, "tanh": TANH, "sinh": SINH, "cosh": COSH, "atan": ATAN}
_BINARY_OPS = {"+": ADD, "-": SUB, "*": MUL, "/": DIV}
_BINARY_LEVELS = (("+", "-"), ("*", "/"))  # loosest first
_OP_NAMES = {ADD: "+", SUB: "-", MUL: "*", DIV: "/", NEG: "neg", POW: "^", POWI: "^int",
             SIGN: "sign", **{op: name for name, op in FUNCTION_OPS.items()}}


class ExpressionError(InvalidParameterError):
    """f(x, y) is not a valid expression. ``reason`` says what is wrong and where,
    ``column`` is the 1-based column it points at (MAX_LENGTH + 1 for a text too long;
    None for one empty or not a string)."""

    def __init__(self, reason: str, *, column: int | None, text: object):
        super().__init__(
            f"The 'f' parameter of custom is not a valid expression: {reason}. "
            f"Got {shown_value(text)} instead.",
            parameter="f", caller="custom", allowed=ALLOWED, got=text)
        self.reason = reason
        self.column = column


# --- libm, for NumPy arrays and (compiled) for scalars --------------------------------


def _libm(function, numpy_function):
    """``function`` (math.sin...) element by element: the C library's result, as numba's
    compiled code gets it. Where Python's math raises (log(0), exp(1000), sin(inf)) C
    returns ±inf or NaN (C99 Annex F), which NumPy's function returns too."""

    def element(*values):
        try:
            return function(*values)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(numpy_function(*values))

    ufunc = np.frompyfunc(element, 2 if function is math.pow else 1, 1)

    def call(*values):
        result = ufunc(*values)
        return result.astype(np.float64) if isinstance(result, np.ndarray) else float(result)

    call.__name__ = f"libm_{function.__name__}"
    call.scalar = function
    return call


libm_pow = _libm(math.pow, np.power)
libm_sin = _libm(math.sin, np.sin)
libm_cos = _libm(math.cos, np.cos)
libm_tan = _libm(math.tan, np.tan)
libm_exp = _libm(math.exp, np.exp)
libm_log = _libm(math.log, np.log)
libm_tanh = _libm(math.tanh, np.tanh)
libm_sinh = _libm(math.sinh, np.sinh)
libm_cosh = _libm(math.cosh, np.cosh)
libm_atan = _libm(math.atan, np.arctan)
_LIBM = (libm_pow, libm_sin, libm_cos, libm_tan, libm_exp, libm_log, libm_tanh, libm_sinh,
         libm_cosh, libm_atan)


def divide(a, b):
    """a / b as IEEE divides: ±inf or NaN by zero. (Compiled, a plain division; numba's
    own scalar ``/`` raises ZeroDivisionError under its default error model, which the
    race kernels use.)"""
    return a / b


def integer_power(base, exponent):
    """base^n for an integral n ≠ 0 (given as a float), by squaring from the top bit:
    x·x for 2, x·x·x for 3 (as torch computes small integer powers), 1/x^|n| if n < 0."""
    n = int(abs(exponent))
    if n == 2:  # the common case, the same product as the loop's
        result = base * base
        return divide(1.0, result) if exponent < 0 else result
    bit = 1
    while bit * 2 <= n:
        bit *= 2
    result = base
    bit //= 2
    while bit > 0:
        result = result * result
        if n & bit:
            result = result * base
        bit //= 2
    if exponent < 0:
        return divide(1.0, result)
    return result


def sign(a):
    """−1, 0 or 1 (NaN stays NaN): the derivative of abs, as torch's ``sgn``."""
    return select(a > 0.0, 1.0, select(a < 0.0, -1.0, 0.0 * a))


def _unary(function):
    return lambda a, b: function(a)


#: Every instruction's operation, as a function of two operands (the unary ones ignore
#: the second): the one definition of each, for NumPy arrays and, compiled, for scalars.
OPERATIONS = {
    ADD: lambda a, b: a + b, SUB: lambda a, b: a - b, MUL: lambda a, b: a * b,
    DIV: divide, NEG: lambda a, b: -a, POWI: integer_power,
    POW: lambda a, b: libm_pow(a, b), SQRT: _unary(np.sqrt), ABS: _unary(np.abs),
    SIGN: _unary(sign), SIN: _unary(libm_sin), COS: _unary(libm_cos),
    TAN: _unary(libm_tan), EXP: _unary(libm_exp), LOG: _unary(libm_log),
    TANH: _unary(libm_tanh), SINH: _unary(libm_sinh), COSH: _unary(libm_cosh),
    ATAN: _unary(libm_atan),
}
#: apply_op(op, a, b): instruction ``op`` on operands a and b.
apply_op = by_code(OPERATIONS)


# --- tokens -----------------------------------------------------------------------------

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPOGRAPHIC_MINUS = "\u2212"
_LOOKALIKES = {"\u0445": "x", "\u0425": "x", "\u0443": "y", "\u0435": "e", "\u03c0": "pi",
               "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2217": "*", "\u00f7": "/",
               "\u2013": "-", "\u2014": "-", "\u00b2": "^2", "\u00b3": "^3", "\u221a": "sqrt"}
_CHARACTER_HINTS = {",": " (functions take one argument)", ".": " (write decimals as 0.5)",
                    "=": " (type only the right-hand side of f(x, y) = ...)",
                    "[": " (use parentheses)", "]": " (use parentheses)",
                    "{": " (use parentheses)", "}": " (use parentheses)",
                    "'": " (no strings)", '"': " (no strings)"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", one of + - * / ^ ( ), or "end"
    text: str
    column: int  # 1-based
    end: int = 0  # index just after the token


def _tokens(text: str):
    """The tokens of ``text`` one by one (an error is raised where it occurs, so the
    leftmost problem is the one reported)."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        column = i + 1
        if c in " \t\r\n":
            i += 1
        elif c in "+-/^()" or c == _TYPOGRAPHIC_MINUS:
            kind = "-" if c == _TYPOGRAPHIC_MINUS else c
            i += 1
            yield _Token(kind, c, column, i)
        elif c == "*":
            if text.startswith("**", i):
                i += 2
                yield _Token("^", "**", column, i)
            else:
                i += 1
                yield _Token("*", c, column, i)
        elif c.isascii() and (c.isdigit() or c == "."):
            match = _NUMBER.match(text, i)
            if match is None:
                raise _error(f"unexpected character '.' at column {column}"
                             + _CHARACTER_HINTS["."], column, text)
            i = match.end()
            rest = text[i:i + 2]
            if rest[:1] == "." or rest[:1].isdigit() or (
                    rest[:1] in ("e", "E") and rest[1:2] in ("+", "-")):
                raise _error(f"malformed number {_clip(text[column - 1:i + 2])} at column "
                             f"{column} (numbers look like 2, 0.5, .5 or 1e-3)", column, text)
            yield _Token("number", match.group(), column, i)
        elif c.isascii() and (c.isalpha() or c == "_"):
            match = _NAME.match(text, i)
            i = match.end()
            yield _Token("name", match.group(), column, i)
        else:
            raise _error(_character_reason(c, column), column, text)
    yield _Token("end", "", n + 1, n)


def _character_reason(c: str, column: int) -> str:
    if c == "\x00":
        return f"NUL byte at column {column} is not allowed"
    if not c.isascii():
        name = unicodedata.name(c, "")
        hint = _LOOKALIKES.get(c)
        if hint is None:
            normal = unicodedata.normalize("NFKC", c)
            hint = normal if normal.isascii() and normal.isprintable() else None
        return (f"character {c!r} (U+{ord(c):04X}{' ' + name if name else ''}) at column "
                f"{column} is not allowed" + (f" (did you mean '{hint}'?)" if hint else ""))
    if not c.isprintable():
        return f"control character U+{ord(c):04X} at column {column} is not allowed"
    return f"unexpected character {c!r} at column {column}" + _CHARACTER_HINTS.get(c, "")


def _clip(text: str, width: int = 20) -> str:
    return repr(text if len(text) <= width else text[:width - 3] + "...")


def _error(reason: str, column: int | None, text: object) -> ExpressionError:
    return ExpressionError(reason, column=column, text=text)


# --- the syntax tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Syntax:
    """A node of the parsed expression. ``kind``: "number" (``value``, and ``name`` the
    literal as typed), "name" (x, y, pi, e), "neg" (one child), one of + - * / ^ (two
    children) or "call" (``name`` the function, one child). ``column`` is where its text
    starts."""

    kind: str
    column: int
    name: str = ""
    value: float = 0.0
    children: tuple[Syntax, ...] = ()


_LEVELS = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def _level(node: Syntax) -> int:
    return _LEVELS.get(node.kind, 5)


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def fold(node: Syntax, combine):
    """``combine(node, results of its children)`` from the leaves up, without recursion:
    a chain of 250 ``+`` or 499 signs is as deep as the tree gets."""
    results: dict[int, object] = {}
    stack = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            results[id(current)] = combine(current, [results.pop(id(child))
                                                     for child in current.children])
        else:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(current.children))
    return results[id(node)]


def canonical_text(node: Syntax, spaced: bool = True) -> str:
    """The expression written back with the fewest parentheses that keep its tree, its
    numbers as typed, ``^`` for powers and ``atan`` for ``arctan``; parsing it gives the
    same tree. Unspaced (``x+y`` for ``x + y``) it is never longer than what was typed
    (every parenthesis it keeps was typed: the grammar needs it)."""
    plus, minus = (" + ", " - ") if spaced else ("+", "-")
    joins = {"+": plus, "-": minus, "*": "*", "/": "/", "^": "^"}

    def text(node: Syntax, texts: list[str]) -> str:
        kind = node.kind
        if kind in ("number", "name"):
            return node.name
        if kind == "call":
            return f"{node.name}({texts[0]})"
        wrapped = [f"({text})" if _level(child) < need else text
                   for child, text, need in zip(node.children, texts, _NEEDS[kind],
                                                strict=False)]
        return "-" + wrapped[0] if kind == "neg" else joins[kind].join(wrapped)

    return fold(node, text)


# the level each operand needs to go without parentheses: a - (b + c), a/(b*c), (a^b)^c,
# -(a*b); but a*-b, a^-b and a^b^c need none
_NEEDS = {"+": (1, 2), "-": (1, 2), "*": (2, 3), "/": (2, 3), "^": (5, 3), "neg": (3,)}


class _Parser:
    """Recursive descent over the tokens. Python recursion happens only per parenthesis
    or call (at most MAX_DEPTH deep); chains of operators, signs and powers are loops."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.token = next(self.tokens)
        self.previous: _Token | None = None
        self.depth = 0

    def advance(self) -> _Token:
        self.previous, self.token = self.token, next(self.tokens)
        return self.previous

    def fail(self, reason: str, column: int | None) -> ExpressionError:
        return _error(reason, column, self.text)

    def parse(self) -> Syntax:
        node = self.expression()
        if self.token.kind == ")":
            raise self.fail(f"unbalanced parenthesis at column {self.token.column}: ')' "
                            "has no matching '('", self.token.column)
        self.expect_operator("end")
        return node

    def expect_operator(self, kind: str) -> None:
        """After a complete operand: the token must be ``kind`` (``)`` or the end)."""
        token = self.token
        if token.kind == kind:
            return
        if token.kind == "name" and _forbidden(token.text):
            raise self.fail(_forbidden_reason(token), token.column)
        if token.kind in ("number", "name", "("):
            left = self.previous
            left_text = left.text if left.kind in ("number", "name") else "(...)"
            right_text = (f"{token.text}(...)" if self.is_call(token)
                          else token.text if token.kind != "(" else "(...)")
            raise self.fail(f"implicit multiplication at column {token.column} (write "
                            f"{left_text}*{right_text})", token.column)
        raise self.fail(f"unexpected '{token.text}' at column {token.column}", token.column)

    def is_call(self, token: _Token) -> bool:
        return token.kind == "name" and self.text[token.end:].lstrip().startswith("(")

    def expression(self, level: int = 0) -> Syntax:
        """Operands joined by the operators of ``_BINARY_LEVELS[level]``, grouped from
        the left (a - b - c is (a - b) - c); each operand is one of the next level's
        (one frame a level, as a function per level would take)."""
        tighter = level + 1 < len(_BINARY_LEVELS)
        node = self.expression(level + 1) if tighter else self.unary()
        while self.token.kind in _BINARY_LEVELS[level]:
            operator = self.advance()
            right = self.expression(level + 1) if tighter else self.unary()
            node = Syntax(operator.kind, node.column, children=(node, right))
        return node

    def signs(self) -> list[int]:
        """Columns of the unary minus signs here (a unary plus changes nothing)."""
        columns = []
        while self.token.kind in ("+", "-"):
            token = self.advance()
            if token.kind == "-":
                columns.append(token.column)
        return columns

    def unary(self) -> Syntax:
        signs = self.signs()
        return _negated(self.power(), signs)

    def power(self) -> Syntax:
        chain = [([], self.primary())]
        while self.token.kind == "^":  # each exponent nests one level deeper
            self.enter(self.advance())
            signs = self.signs()
            chain.append((signs, self.primary()))
        self.depth -= len(chain) - 1
        signs, node = chain[-1]
        node = _negated(node, signs)
        for signs, base in reversed(chain[:-1]):  # to the right: a^(b^c)
            node = _negated(Syntax("^", base.column, children=(base, node)), signs)
        return node

    def primary(self) -> Syntax:
        token = self.token
        if token.kind == "number":
            value = float(token.text)
            if not math.isfinite(value):
                raise self.fail(f"number {_clip(token.text)} at column {token.column} is "
                                "too large", token.column)
            self.advance()
            return Syntax("number", token.column, name=token.text, value=value)
        if token.kind == "name":
            return self.name()
        if token.kind == "(":
            self.advance()
            return self.parenthesised(token)
        found = ("the expression ends" if token.kind == "end" else f"found '{token.text}'")
        after = f" after '{self.previous.text}'" if self.previous is not None else ""
        raise self.fail(f"expected a number or name at column {token.column}{after} "
                        f"({found})", token.column)

    def enter(self, token: _Token) -> None:
        """One level deeper: a parenthesis, a call's or an exponent."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels at column "
                            f"{token.column}", token.column)

    def parenthesised(self, opening: _Token) -> Syntax:
        self.enter(opening)
        node = self.expression()
        if self.token.kind == "end":
            raise self.fail(f"unbalanced parenthesis at column {opening.column}: '(' is "
                            "never closed", opening.column)
        self.expect_operator(")")
        self.advance()
        self.depth -= 1
        return replace(node, column=opening.column)  # its text starts at the '('

    def name(self) -> Syntax:
        """A variable, a constant or a call; any other name is an error, reported before
        the tokens after it are read (the leftmost problem is the one reported)."""
        token = self.token
        name, column = token.text, token.column
        function = ALIASES.get(name, name)
        if function not in FUNCTION_OPS and name not in VARIABLES and name not in CONSTANTS:
            raise self.fail(self.unknown(token), column)
        self.advance()
        if function in FUNCTION_OPS:
            if self.token.kind != "(":
                usage = (f"{name}(x)^2" if self.token.kind == "^" else f"{name}(x)")
                raise self.fail(f"'{name}' at column {column} needs parentheses (write "
                                f"{usage})", column)
            opening = self.advance()
            return Syntax("call", column, name=function,
                          children=(self.parenthesised(opening),))
        return Syntax("name", column, name=name)

    def unknown(self, token: _Token) -> str:
        name, column = token.text, token.column
        if _forbidden(name):
            return _forbidden_reason(token)
        if self.is_call(token):
            hint = "log, the natural logarithm" if name == "ln" else ", ".join(FUNCTION_NAMES)
            return f"unknown function '{name}' at column {column} (use {hint})"
        return f"unknown name '{name}' at column {column} ({_name_hint(name)})"


def _forbidden(name: str) -> bool:
    """Python's own words (``__import__``, ``lambda``, ``eval``): said to be not allowed
    rather than unknown."""
    return (name.startswith("_") or keyword.iskeyword(name) or hasattr(builtins, name)) \
        and name not in FUNCTION_OPS


def _forbidden_reason(token: _Token) -> str:
    return (f"'{token.text}' at column {token.column} is not allowed (only x, y, pi, e and "
            "the functions " + ", ".join(FUNCTION_NAMES) + ")")


def _negated(node: Syntax, signs: list[int]) -> Syntax:
    for column in reversed(signs):
        node = Syntax("neg", column, children=(node,))
    return node


def _split_names(text: str) -> list[str] | None:
    """``text`` as a run of x, y, pi, e (``xy`` → [x, y]), or None."""
    pieces = []
    while text:
        piece = next((p for p in ("pi", "x", "y", "e") if text.startswith(p)), None)
        if piece is None:
            return None
        pieces.append(piece)
        text = text[len(piece):]
    return pieces


def _name_hint(name: str) -> str:
    pieces = _split_names(name)
    if pieces:
        return "write " + "*".join(pieces)
    for function in sorted((*FUNCTION_OPS, *ALIASES), key=len, reverse=True):
        rest = _split_names(name[len(function):]) if name.startswith(function) else None
        if rest:
            return f"write {function}({'*'.join(rest)})"
    return "use x, y, pi, e"


# --- terms: the expression and its derivatives, hash-consed ----------------------------

_X, _Y, _CONST = -1, -2, -3  # leaf kinds


class _Term:
    __slots__ = ("a", "b", "op", "value")

    def __init__(self, op: int, a: _Term | None, b: _Term | None, value: float):
        self.op, self.a, self.b, self.value = op, a, b, value

    def is_const(self, value: float | None = None) -> bool:
        return self.op == _CONST and (value is None or self.value == value)


class _TooComplex(ArithmeticError):
    """f and its derivatives would need more than MAX_TERMS operations."""


class _NotFinite(ArithmeticError):
    """A constant subexpression folded to ±inf or NaN."""


class _Terms:
    """Builds terms, each structure once. ``simplify`` folds 0 and 1 (for derivative
    terms); constants are folded always, and with ``strict`` a fold that is not finite
    raises _NotFinite instead of leaving the operation to run time."""

    def __init__(self):
        self._known: dict[tuple, _Term] = {}
        self.x = self._intern(_X, None, None, 0.0)
        self.y = self._intern(_Y, None, None, 0.0)

    def _intern(self, op, a, b, value) -> _Term:
        key = (op, id(a), id(b), struct.pack("<d", value))
        term = self._known.get(key)
        if term is None:
            if len(self._known) >= MAX_TERMS:
                raise _TooComplex
            term = self._known[key] = _Term(op, a, b, value)
        return term

    def const(self, value: float) -> _Term:
        return self._intern(_CONST, None, None, float(value))

    def make(self, op: int, a: _Term, b: _Term | None = None, *, simplify: bool = True,
             strict: bool = False) -> _Term:
        if a.is_const() and (b is None or b.is_const()):
            with np.errstate(all="ignore"):
                value = float(apply_op(op, np.float64(a.value),
                                       np.float64(b.value if b is not None else 0.0)))
            if math.isfinite(value):
                return self.const(value)
            if strict:
                raise _NotFinite
        if simplify:
            folded = self._simplified(op, a, b)
            if folded is not None:
                return folded
        return self._intern(op, a, b, 0.0)

    def _simplified(self, op, a, b) -> _Term | None:
        """A simpler term equal to op(a, b) for every finite operand, or None. Apart
        from the zeros, each rule is exact in floating point (negation commutes with
        rounding; a·b is b·a)."""
        if op == ADD:
            if a.is_const(0.0) or b.is_const(0.0):
                return b if a.is_const(0.0) else a
            if b.op == NEG:
                return self.sub(a, b.a)
            return self.sub(b, a.a) if a.op == NEG else None
        if op == SUB:
            if a.is_const(0.0) or b.is_const(0.0):
                return a if b.is_const(0.0) else self.neg(b)
            return self.add(a, b.a) if b.op == NEG else None
        if op == MUL:
            if a.is_const(0.0) or b.is_const(0.0):
                return self.const(0.0)
            if b.is_const():  # constants first, so that neg can fold into them
                a, b = b, a
            if a.is_const(1.0) or a.is_const(-1.0):
                return b if a.value == 1.0 else self.neg(b)
            if a.op == NEG or b.op == NEG:  # (−u)·v = −(u·v), (−u)·(−v) = u·v
                product = self.mul(a.a if a.op == NEG else a, b.a if b.op == NEG else b)
                return product if a.op == b.op else self.neg(product)
            return self._intern(MUL, a, b, 0.0)
        if op == DIV:
            return self.const(0.0) if a.is_const(0.0) else a if b.is_const(1.0) else None
        if op == NEG:
            if a.op == NEG:
                return a.a
            if a.op == MUL and a.a.is_const():
                return self.mul(self.const(-a.a.value), a.b)
        return None

    def power(self, base: _Term, exponent: _Term, *, simplify: bool = True,
              strict: bool = False) -> _Term:
        """base^exponent as torch computes a tensor to a constant power: x·x… for an
        integral exponent, sqrt(x) for 0.5 and 1/sqrt(x) for −0.5; else the C pow."""
        if exponent.is_const() and not base.is_const():
            p = exponent.value
            if p == 0.0:
                return self.const(1.0)  # pow(u, 0) is 1 for every u, NaN included
            if p == 1.0:
                return base
            if p.is_integer():
                return self._intern(POWI, base, exponent, 0.0)
            if abs(p) == 0.5:
                root = self.make(SQRT, base, simplify=simplify)
                return root if p > 0 else self.make(DIV, self.const(1.0), root,
                                                    simplify=simplify)
        return self.make(POW, base, exponent, simplify=simplify, strict=strict)

    # shorthands for derivative terms (simplified)
    def add(self, a, b):
        return self.make(ADD, a, b)

    def sub(self, a, b):
        return self.make(SUB, a, b)

    def mul(self, a, b):
        return self.make(MUL, a, b)

    def div(self, a, b):
        return self.make(DIV, a, b)

    def neg(self, a):
        return self.make(NEG, a)

    def call(self, op, a):
        return self.make(op, a)


def _lower(tree: Syntax, terms: _Terms, text: str) -> _Term:
    """The term of a syntax tree, constants folded (an error where one is not finite or
    a constant exponent is out of range)."""

    def combine(node: Syntax, children: list[_Term]) -> _Term:
        kind = node.kind
        if kind == "number":
            return terms.const(node.value)
        if kind == "name":
            if node.name in CONSTANTS:
                return terms.const(CONSTANTS[node.name])
            return terms.x if node.name == "x" else terms.y
        try:
            if kind == "^":
                return _lower_power(node, *children, terms, text)
            op = (NEG if kind == "neg" else FUNCTION_OPS[node.name] if kind == "call"
                  else _BINARY_OPS[kind])
            return terms.make(op, *children, simplify=False, strict=True)
        except _NotFinite:
            why = (" (division by zero)" if kind == "/" and children[1].is_const(0.0)
                   else "")
            raise _error(f"{_clip(canonical_text(node), 40)} at column {node.column} is "
                         f"not a finite number{why}", node.column, text) from None

    return fold(tree, combine)


def _lower_power(node: Syntax, base: _Term, exponent: _Term, terms: _Terms,
                 text: str) -> _Term:
    if exponent.is_const() and not abs(exponent.value) <= MAX_EXPONENT:
        written = node.children[1]
        shown, value = canonical_text(written), _number_text(exponent.value)
        if shown != value:
            shown += f" = {value}"
        raise _error(f"the exponent {shown} at column {written.column} is out of range (a "
                     f"constant exponent must lie in [-{MAX_EXPONENT}, {MAX_EXPONENT}])",
                     written.column, text)
    return terms.power(base, exponent, simplify=False, strict=True)


def _postorder(roots) -> list[_Term]:
    """Every term reachable from ``roots``, each after its operands (no recursion)."""
    order, seen = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        term, expanded = stack.pop()
        if expanded:
            order.append(term)
            continue
        if id(term) in seen:
            continue
        seen.add(id(term))
        stack.append((term, True))
        for child in (term.b, term.a):
            if child is not None and id(child) not in seen:
                stack.append((child, False))
    return order


def _derivative(root: _Term, variable: _Term, terms: _Terms) -> _Term:
    """∂root/∂variable, operands before the terms that use them."""
    zero, one = terms.const(0.0), terms.const(1.0)
    d: dict[int, _Term] = {}
    for t in _postorder([root]):
        op, a, b = t.op, t.a, t.b
        if op < 0:
            d[id(t)] = one if t is variable else zero
            continue
        da = d[id(a)]
        db = d[id(b)] if b is not None else zero
        if da is zero and db is zero:
            d[id(t)] = zero
        elif op == ADD:
            d[id(t)] = terms.add(da, db)
        elif op == SUB:
            d[id(t)] = terms.sub(da, db)
        elif op == MUL:
            d[id(t)] = terms.add(terms.mul(da, b), terms.mul(a, db))
        elif op == DIV:  # as torch: grad/b and −grad·a/(b·b)
            d[id(t)] = terms.sub(terms.div(da, b), terms.div(terms.mul(a, db), terms.mul(b, b)))
        elif op == NEG:
            d[id(t)] = terms.neg(da)
        elif op in (POW, POWI):  # b·a^(b−1)·da + a^b·log(a)·db, as torch's pow
            first = second = zero
            if da is not zero:
                lowered = (terms.const(b.value - 1.0) if b.is_const()
                           else terms.sub(b, one))
                first = terms.mul(terms.mul(b, terms.power(a, lowered)), da)
            if db is not zero:
                second = terms.mul(terms.mul(t, terms.call(LOG, a)), db)
            d[id(t)] = terms.add(first, second)
        else:
            d[id(t)] = terms.mul(_outer_derivative(op, a, t, terms), da)
    return d[id(root)]


def _outer_derivative(op: int, a: _Term, t: _Term, terms: _Terms) -> _Term:
    """f'(a) for t = f(a), written as torch's autograd formulas are."""
    one = terms.const(1.0)
    if op == SQRT:
        return terms.div(one, terms.mul(terms.const(2.0), t))
    if op == ABS:
        return terms.call(SIGN, a)
    if op == SIGN:
        return terms.const(0.0)
    if op == SIN:
        return terms.call(COS, a)
    if op == COS:
        return terms.neg(terms.call(SIN, a))
    if op == TAN:
        return terms.add(one, terms.mul(t, t))
    if op == EXP:
        return t
    if op == LOG:
        return terms.div(one, a)
    if op == TANH:
        return terms.sub(one, terms.mul(t, t))
    if op == SINH:
        return terms.call(COSH, a)
    if op == COSH:
        return terms.call(SINH, a)
    return terms.div(one, terms.add(one, terms.mul(a, a)))  # ATAN


# --- programs -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Program:
    """A flat tape. Slots: 0 is x, 1 is y, then ``constants``, then one per instruction:
    instruction i computes slot ``n_fixed + i`` = apply_op(ops[i], slot first[i], slot
    second[i]). ``outputs`` are the slots of the results, in order."""

    ops: np.ndarray  # int64
    first: np.ndarray  # int64
    second: np.ndarray  # int64 (unary instructions repeat ``first``)
    constants: np.ndarray  # float64
    outputs: np.ndarray  # int64

    @property
    def n_fixed(self) -> int:
        return 2 + self.constants.shape[0]

    def initial_slots(self) -> np.ndarray:
        """The scratch array :func:`run_program` works in, constants in place."""
        slots = np.zeros(self.n_fixed + self.ops.shape[0])
        slots[2:self.n_fixed] = self.constants
        return slots

    def listing(self) -> list[str]:
        """The instructions, readable (for tests and debugging)."""
        return [f"s{self.n_fixed + i} = {_OP_NAMES[op]} s{a} s{b}"
                for i, (op, a, b) in enumerate(zip(self.ops, self.first, self.second,
                                                   strict=True))]


def _compile(roots: list[_Term]) -> Program:
    order = _postorder(roots)
    constants = [t for t in order if t.op == _CONST]
    slot = {}
    for t in order:
        if t.op == _X:
            slot[id(t)] = 0
        elif t.op == _Y:
            slot[id(t)] = 1
    for i, t in enumerate(constants):
        slot[id(t)] = 2 + i
    instructions = [t for t in order if t.op >= 0]
    for i, t in enumerate(instructions):
        slot[id(t)] = 2 + len(constants) + i
    first = [slot[id(t.a)] for t in instructions]
    arrays = {
        "ops": np.array([t.op for t in instructions], dtype=np.int64),
        "first": np.array(first, dtype=np.int64),
        "second": np.array([slot[id(t.b)] if t.b is not None else f
                            for t, f in zip(instructions, first, strict=True)],
                           dtype=np.int64),
        "constants": np.array([t.value for t in constants], dtype=np.float64),
        "outputs": np.array([slot[id(root)] for root in roots], dtype=np.int64)}
    for array in arrays.values():
        array.flags.writeable = False  # a Program is a value: shared, never changed
    return Program(**arrays)


def evaluate(program: Program, x, y) -> tuple[np.ndarray, ...]:
    """The program's outputs at (x, y), floats or arrays of any broadcastable shapes,
    each an array of the broadcast shape (NumPy; the reference for :func:`run_program`)."""
    return evaluate_tape(program.ops, program.first, program.second,
                         program.initial_slots(), program.outputs, x, y)


def evaluate_tape(ops, first, second, slots, outputs, x, y, *, exact: bool = True):
    """:func:`evaluate` of the program given as the arrays the kernels take (``slots``
    as :meth:`Program.initial_slots` makes it). ``exact=False`` calls NumPy's own
    vectorised ``sin``, ``exp``, ``pow``... instead of the C library's, point by point:
    100× faster on large arrays, equal up to rounding (for maps and searches, never for
    a race)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_fixed = slots.shape[0] - ops.shape[0]
    values: list = [x, y, *(np.float64(c) for c in slots[2:n_fixed])]
    with np.errstate(all="ignore"):
        for op, a, b in zip(ops.tolist(), first.tolist(), second.tolist(), strict=True):
            fast = None if exact else _NUMPY_OPS.get(op)
            values.append(apply_op(op, values[a], values[b]) if fast is None
                          else fast(values[a], values[b]))
    shape = np.broadcast(x, y).shape
    return tuple(np.broadcast_to(np.asarray(values[k], dtype=np.float64), shape).copy()
                 for k in outputs.tolist())


#: NumPy's vectorised versions of the C library calls (``evaluate_tape(exact=False)``).
_NUMPY_OPS = {POW: np.power, SIN: lambda a, b: np.sin(a), COS: lambda a, b: np.cos(a),
              TAN: lambda a, b: np.tan(a), EXP: lambda a, b: np.exp(a),
              LOG: lambda a, b: np.log(a), TANH: lambda a, b: np.tanh(a),
              SINH: lambda a, b: np.sinh(a), COSH: lambda a, b: np.cosh(a),
              ATAN: lambda a, b: np.arctan(a)}


def run_program(ops, first, second, slots, x, y):
    """The program at one point (x, y): fills ``slots`` (``Program.initial_slots()``,
    reused), whose entries ``outputs`` are then the results. Compiled by numba
    (``optim_core._kernels`` registers it and the helpers it calls), this is what the
    race kernels call for f and its gradient."""
    slots[0] = x
    slots[1] = y
    base = slots.shape[0] - ops.shape[0]
    for i in range(ops.shape[0]):
        slots[base + i] = apply_op(ops[i], slots[first[i]], slots[second[i]])


def evaluate_points(ops, first, second, outputs, slots, xs, ys):
    """:func:`run_program` at every point (xs[i], ys[i]): an (n, outputs) array
    (``_kernels.compiled_evaluate`` compiles it)."""
    out = np.empty((xs.shape[0], outputs.shape[0]))
    for i in range(xs.shape[0]):
        run_program(ops, first, second, slots, xs[i], ys[i])
        for k in range(outputs.shape[0]):
            out[i, k] = slots[outputs[k]]
    return out


LIBM_HELPERS = _LIBM  # the C library calls numba compiles (``_kernels``)


# --- the public object ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed f(x, y) with its exact derivatives.

    ``text`` is the canonical form (``parse(e.text)`` gives the same expression),
    ``variables`` the variables it uses. ``value_program`` computes f,
    ``grad_program`` (f, ∂f/∂x, ∂f/∂y) and ``hessian_program`` (∂²f/∂x², ∂²f/∂x∂y,
    ∂²f/∂y²), for :func:`evaluate` and :func:`run_program`.
    """

    text: str
    variables: tuple[str, ...]
    value_program: Program
    grad_program: Program
    hessian_program: Program

    def value(self, x, y):
        """f(x, y) for floats or arrays."""
        (f,) = evaluate(self.value_program, x, y)
        return f

    def grad(self, x, y):
        """(∂f/∂x, ∂f/∂y)."""
        _, gx, gy = evaluate(self.grad_program, x, y)
        return gx, gy

    def hessian(self, x, y):
        """(f_xx, f_xy, f_yy)."""
        return evaluate(self.hessian_program, x, y)

    @property
    def quadratic(self) -> bool:
        """Whether f is a quadratic (or linear) polynomial: its Hessian is a constant
        (every output of the Hessian program is a constant slot, 0 and 1 folded) and f
        has no ``abs``, whose kink a constant Hessian does not show."""
        program = self.hessian_program
        return bool(np.all(program.outputs < program.n_fixed)
                    and not np.any(self.value_program.ops == ABS))


def parse(text: str) -> Expression:
    """Parse f(x, y); raise :class:`ExpressionError` naming what is wrong and where."""
    if not isinstance(text, str):
        raise _error(f"it must be a string, not {type(text).__name__}", None, text)
    if len(text) > MAX_LENGTH:
        raise _error(f"it is {len(text):,} characters long (at most {MAX_LENGTH})",
                     MAX_LENGTH + 1, text)
    if not text.strip():
        raise _error("it is empty", None, text)
    tree = _Parser(text).parse()
    canonical = canonical_text(tree)
    if len(canonical) > MAX_LENGTH:  # so that the canonical text parses too
        canonical = canonical_text(tree, spaced=False)
    terms = _Terms()
    try:
        f = _lower(tree, terms, text)
        fx = _derivative(f, terms.x, terms)
        fy = _derivative(f, terms.y, terms)
        fxx = _derivative(fx, terms.x, terms)
        fxy = _derivative(fx, terms.y, terms)
        fyy = _derivative(fy, terms.y, terms)
    except _TooComplex:
        raise _error(f"it is too complex (f and its derivatives need more than "
                     f"{MAX_TERMS:,} operations)", None, text) from None
    used = {t.op for t in _postorder([f])}
    return Expression(
        text=canonical,
        variables=tuple(name for name, leaf in zip(VARIABLES, (_X, _Y), strict=True)
                        if leaf in used),
        value_program=_compile([f]),
        grad_program=_compile([f, fx, fy]),
        hessian_program=_compile([fxx, fxy, fyy]))
