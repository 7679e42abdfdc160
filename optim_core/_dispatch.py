"""Calls by code, for the NumPy path and the compiled kernels alike.

``by_code(functions)`` is a function of ``(code, *arguments)`` that returns
``functions[code](*arguments)``. It is a binary tree of small closures, one comparison
each (log2 of the codes a call), because numba can neither index a tuple of functions at
run time nor inline a closure called with ``*args``: hence one closure shape per number
of arguments. Compiled with ``compile=numba.njit(inline="always")`` (``_kernels`` does),
the tree compiles into its caller as nested branches. (A tree, not a chain: numba
inlines each closure into the one above it, so a chain of n costs ~n² to compile; a
chain of the 19 instructions took 38 s in one kernel, the tree 22 s.)
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping


def _split_2(middle, low, high):
    def dispatch(which, a, b):
        if which < middle:
            return low(which, a, b)
        return high(which, a, b)

    return dispatch


def _last_2(function):
    def dispatch(which, a, b):
        return function(a, b)

    return dispatch


def _split_3(middle, low, high):
    def dispatch(which, a, b, c):
        if which < middle:
            return low(which, a, b, c)
        return high(which, a, b, c)

    return dispatch


def _last_3(function):
    def dispatch(which, a, b, c):
        return function(a, b, c)

    return dispatch


def _split_5(middle, low, high):
    def dispatch(which, a, b, c, d, e):
        if which < middle:
            return low(which, a, b, c, d, e)
        return high(which, a, b, c, d, e)

    return dispatch


def _last_5(function):
    def dispatch(which, a, b, c, d, e):
        return function(a, b, c, d, e)

    return dispatch


def _split_6(middle, low, high):
    def dispatch(which, a, b, c, d, e, f):
        if which < middle:
            return low(which, a, b, c, d, e, f)
        return high(which, a, b, c, d, e, f)

    return dispatch


def _last_6(function):
    def dispatch(which, a, b, c, d, e, f):
        return function(a, b, c, d, e, f)

    return dispatch


def _split_9(middle, low, high):
    def dispatch(which, a, b, c, d, e, f, g, h, i):
        if which < middle:
            return low(which, a, b, c, d, e, f, g, h, i)
        return high(which, a, b, c, d, e, f, g, h, i)

    return dispatch


def _last_9(function):
    def dispatch(which, a, b, c, d, e, f, g, h, i):
        return function(a, b, c, d, e, f, g, h, i)

    return dispatch


#: The tree's two closure shapes by the functions' number of arguments.
_SHAPES = {2: (_split_2, _last_2), 3: (_split_3, _last_3), 5: (_split_5, _last_5),
           6: (_split_6, _last_6), 9: (_split_9, _last_9)}


def _arity(function) -> int:
    return len(inspect.signature(function).parameters)


def by_code(functions, compile=None):
    """The function of ``(code, *arguments)`` that calls ``functions[code]``: a sequence,
    or a mapping of the codes 0, 1, ..., of functions of one number of arguments.
    ``compile``, if given, wraps each closure as it is made (``numba.njit(inline=
    "always")``: each then calls the ones below it compiled)."""
    if isinstance(functions, Mapping):
        if sorted(functions) != list(range(len(functions))):
            raise ValueError(f"by_code needs the codes 0 to {len(functions) - 1}; "
                             f"got {sorted(functions)}")
        functions = [functions[code] for code in range(len(functions))]
    counts = {_arity(f) for f in functions}
    if len(counts) != 1 or not counts <= _SHAPES.keys():
        raise ValueError(f"by_code needs functions of one arity in {sorted(_SHAPES)}; "
                         f"got arities {sorted(counts)}")
    split, last = _SHAPES[counts.pop()]
    wrap = compile or (lambda function: function)

    def tree(low, high):  # the codes low to high - 1
        if high - low == 1:
            return wrap(last(functions[low]))
        middle = (low + high) // 2
        return wrap(split(middle, tree(low, middle), tree(middle, high)))

    return tree(0, len(functions))
