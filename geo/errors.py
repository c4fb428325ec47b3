"""One root exception for the project; each subclass also inherits the matching built-in.

A :class:`Problem` names where something is wrong (file, row, field, value) and how to fix it.
Errors carry every problem found, so one run reports all of them at once.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Iterable

import numpy as np

MAX_SHOWN = 20  # problems written out in one error line; the rest are counted
MAX_VALUE_CHARS = 200  # a value longer than this is cut in messages (its length is said)


def plain(value: object) -> str:
    """A value as a person reads it: numbers plainly (``103.55526``, ``inf``, never
    ``np.float64(103.55526)``), text quoted with control characters escaped, pairs as ``a, b``."""
    if isinstance(value, (tuple, list)):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, np.generic):
        return str(value) if isinstance(value, np.number) else plain(value.item())
    if isinstance(value, bool) or isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        size = len(value) if isinstance(value, (str, bytes)) else len(text)
        return f"{text[:MAX_VALUE_CHARS]}… ({size:,} {'bytes' if isinstance(value, bytes) else 'characters'})"
    return text


def one_line(text: str) -> str:
    """``text`` with every character that could end a line or steer a terminal (control characters,
    Unicode line and paragraph separators) escaped, so a message stays one line."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    file: str
    message: str
    row: int | None = None  # 1-based data row (header excluded) for tables
    field: str | None = None  # column or catalog key
    value: object = None
    fix: str | None = None
    line: int | None = None  # 1-based line of a text file (TOML), when the row is not the place

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {plain(self.value)})"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


class GeoError(Exception):
    """Root of every error this project raises on purpose."""

    def __init__(self, message: str | None = None, problems: Iterable[Problem] = ()):
        self.problems = list(problems)
        if message is None:
            message = self.summary(self.problems)
        super().__init__(one_line(message))

    @staticmethod
    def summary(problems: list[Problem]) -> str:
        if len(problems) == 1:
            return str(problems[0])
        parts = "; ".join(f"({i}) {p}" for i, p in enumerate(problems[:MAX_SHOWN], 1))
        rest = len(problems) - MAX_SHOWN
        more = f"; … and {rest:,} more problem{'s' if rest > 1 else ''} (the first {MAX_SHOWN} are shown)" if rest > 0 else ""
        return f"{len(problems):,} problems: {parts}{more}"


class CatalogError(GeoError, ValueError):
    """A layer declaration in the catalog is wrong."""


class SourceDataError(GeoError, ValueError):
    """A row of a layer's source file breaks its declared schema or a data rule."""


class CitationError(SourceDataError):
    """A reference id does not resolve, or a reference is cited by nothing."""


class UnsafePathError(GeoError, ValueError):
    """A user-given path that GDAL would open as remote or virtual."""


class ExportError(GeoError, OSError):
    """An output could not be written."""


def raise_if(problems: list[Problem], error: type[GeoError]) -> None:
    """Raise ``error`` carrying all ``problems`` when there are any."""
    if problems:
        raise error(problems=problems)
