"""One root exception for the project; each subclass also inherits the matching built-in.

A :class:`Problem` names where something is wrong (file, row, field, value) and how to fix it.
Errors carry every problem found, so one run reports all of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    file: str
    message: str
    row: int | None = None  # 1-based data row (header excluded) for tables
    field: str | None = None  # column or catalog key
    value: object = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


class GeoError(Exception):
    """Root of every error this project raises on purpose."""

    def __init__(self, message: str | None = None, problems: Iterable[Problem] = ()):
        self.problems = list(problems)
        if message is None:
            message = self.summary(self.problems)
        super().__init__(message)

    @staticmethod
    def summary(problems: list[Problem]) -> str:
        if len(problems) == 1:
            return str(problems[0])
        parts = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
        return f"{len(problems)} problems: {parts}"


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
