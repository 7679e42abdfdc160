"""The line fit on the user's own points: a CSV of x, y columns, parsed, never evaluated.

    >>> points = parse_points("x,y\\n0,1\\n1,3\\n2,5\\n")
    >>> points.x, points.y, points.digest

The text (or bytes, from an upload or a file) is read row by row: two numbers a row,
separated by a comma, a semicolon, a tab or spaces; blank rows are skipped; the first
row may be a header (any row with no number in it; a header ``y,x`` swaps the columns).
A number is a plain decimal (``-1.5``, ``2e-3``; a typographic minus counts as ``-``):
no ``nan``, ``inf``, hex or underscores, and finite in float64. Limits bound the work
before anything is decoded: at most ``MAX_BYTES`` bytes, ``LIMITS['points']`` rows, each
value at most ``MAX_VALUE`` in size, at least two different x values, and a least-squares
line whose slope and intercept are starts the race accepts (|w*|, |b*| ≤ 10⁴). Every
problem is one :class:`DataError` naming the row (1-based, as a spreadsheet counts
lines, blank ones included).

:class:`Points` keeps the values and their content hash (``digest``): the same points,
however typed, have the same digest, so the app stores them once and a link names them by
it. ``Points.to_csv`` is their canonical text (``repr`` floats: lossless), which
``parse_points`` reads back to the same digest.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .params import LIMITS, InvalidParameterError, shown_value

#: bytes of one CSV (1,000 rows of two 17-digit numbers are ~40 KB)
MAX_BYTES = 128 * 1024
MAX_ROWS = LIMITS["points"]
MIN_ROWS = 2
#: |x|, |y| of one point: squared residuals of such points stay far from overflow
MAX_VALUE = 1e6
DIGEST_LENGTH = 32  # hex characters of the sha256 kept: 128 bits
ALLOWED = (f"a CSV of x, y columns: {MIN_ROWS} to {MAX_ROWS:,} rows of two finite numbers "
           f"(|value| ≤ {MAX_VALUE:g}), an optional header row, at most {MAX_BYTES // 1024} KB")

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII
_DIGEST = re.compile(rf"[0-9a-f]{{{DIGEST_LENGTH}}}")
_SEPARATORS = (",", ";", "\t")


class DataError(InvalidParameterError):
    """The points are not a valid dataset: ``reason`` says what and ``row`` where
    (1-based; None when it is about the whole file)."""

    def __init__(self, reason: str, *, row: int | None, got: object = None):
        where = f"row {row:,}: " if row is not None else ""
        super().__init__(f"The 'data' parameter of the line fit is not valid: {where}{reason}.",
                         parameter="data", caller="the line fit", allowed=ALLOWED, got=got)
        self.reason = reason
        self.row = row


@dataclass(frozen=True)
class Points:
    """The user's points, in the order given, and their content hash."""

    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    digest: str = ""

    def __post_init__(self):
        if not self.digest:
            object.__setattr__(self, "digest", points_digest(self.x, self.y))

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])

    def to_csv(self) -> str:
        return canonical_csv(self.x, self.y)


def canonical_csv(x, y) -> str:
    """The points as CSV with a header, each float its shortest exact text."""
    return "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y, strict=True))


def points_digest(x, y) -> str:
    """The content hash of the points (of their canonical text)."""
    return hashlib.sha256(canonical_csv(x, y).encode()).hexdigest()[:DIGEST_LENGTH]


def is_digest(text) -> bool:
    """Whether ``text`` has the form of a digest (what a URL may name)."""
    return isinstance(text, str) and _DIGEST.fullmatch(text) is not None


def _decoded(data: str | bytes) -> str:
    """The text, its size bounded before it is decoded."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_BYTES:
            raise DataError(f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} are read",
                            row=None, got=f"{len(data):,} bytes")
        if b"\0" in data:
            raise DataError("it holds a NUL byte: this is not a text file (a CSV)",
                            row=data[:data.index(b"\0")].count(b"\n") + 1, got="binary data")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DataError("it is not UTF-8 text (a CSV); byte "
                            f"{data[error.start]:#04x} at offset {error.start:,}",
                            row=data[:error.start].count(b"\n") + 1,
                            got="binary data") from None
    if not isinstance(data, str):
        raise DataError(f"expected CSV text, got {type(data).__name__}", row=None, got=data)
    if len(data) > MAX_BYTES:
        raise DataError(f"the text is {len(data):,} characters; at most {MAX_BYTES:,} are read",
                        row=None, got=f"{len(data):,} characters")
    if "\0" in data:
        raise DataError("it holds a NUL character: this is not a CSV",
                        row=data[:data.index("\0")].count("\n") + 1, got="binary data")
    return data.removeprefix("\ufeff")


def _fields(line: str) -> list[str]:
    for separator in _SEPARATORS:
        if separator in line:
            return [part.strip().strip('"').strip() for part in line.split(separator)]
    return line.split()


def _number(text: str) -> float | None:
    """The field as a float if it is a plain decimal number, else None."""
    text = text.replace("\u2212", "-")
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def _describe(text: str) -> str:
    """A field as a message quotes it: short, any odd character named."""
    odd = next((c for c in text if not (c.isascii() and c.isprintable())), None)
    if odd is not None:
        name = unicodedata.name(odd, f"U+{ord(odd):04X}")
        return f"{shown_value(text)} (it holds {name}, U+{ord(odd):04X})"
    return shown_value(text)


def parse_points(data: str | bytes) -> Points:
    """The points of a CSV of x, y columns (see the module docstring), or DataError."""
    text = _decoded(data)
    xs: list[float] = []
    ys: list[float] = []
    swapped = False
    seen_row = False
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = _fields(line)
        numbers = [_number(f) for f in fields]
        if not seen_row and all(n is None for n in numbers):  # a header
            seen_row = True
            names = [f.strip().lower() for f in fields]
            swapped = names == ["y", "x"]
            continue
        seen_row = True
        if len(fields) != 2:
            raise DataError(f"{len(fields)} columns ({_describe(line.strip())}); each row "
                            "holds two, x and y", row=row, got=line)
        for value, field_text in zip(numbers, fields, strict=True):
            if value is None:
                raise DataError(f"{_describe(field_text)} is not a number (plain decimals "
                                "only, like -1.5 or 2e-3)", row=row, got=field_text)
            if not math.isfinite(value) or abs(value) > MAX_VALUE:
                raise DataError(f"{shown_value(field_text)} is beyond ±{MAX_VALUE:g}",
                                row=row, got=field_text)
        if len(xs) == MAX_ROWS:
            raise DataError(f"more than {MAX_ROWS:,} points", row=row, got=f"> {MAX_ROWS} rows")
        x, y = numbers[::-1] if swapped else numbers
        xs.append(x)
        ys.append(y)
    if len(xs) < MIN_ROWS:
        raise DataError(f"{len(xs)} point{'s' if len(xs) != 1 else ''}; a line fit needs at "
                        f"least {MIN_ROWS}", row=None, got=f"{len(xs)} rows")
    x, y = np.array(xs), np.array(ys)
    if np.all(x == x[0]):
        raise DataError(f"every x is {float(x[0])!r}: a line's slope needs two different x values",
                        row=None, got="one x value")
    slope, intercept = least_squares_line(x, y)
    bound = LIMITS["start"]
    for name, value in (("slope w*", slope), ("intercept b*", intercept)):
        if not abs(value) <= bound:
            raise DataError(f"the least-squares line's {name} is {value:.3g}, beyond "
                            f"±{bound:g} (the largest start the race takes): rescale x or y",
                            row=None, got=value)
    return Points(x, y)


def least_squares_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(w*, b*) of the least-squares line y ≈ w·x + b."""
    design = np.stack([x, np.ones_like(x)], axis=1)
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(w), float(b)


def read_points(path: str | Path) -> Points:
    """The points in the file at ``path`` (at most MAX_BYTES of it are read)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DataError(f"the file is larger than {MAX_BYTES:,} bytes", row=None,
                        got=f"> {MAX_BYTES:,} bytes")
    return parse_points(data)
