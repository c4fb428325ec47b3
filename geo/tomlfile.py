"""The one reader of every TOML file the project reads (catalog, rules, model spec, map compositions).

A file that is missing, not UTF-8 or not TOML, or that holds a non-finite number (TOML allows
``nan`` and ``inf``; no declaration of this project needs them), becomes a project error naming
the file, the line and the key, never a ``TOMLDecodeError`` traceback.
"""
from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

from geo.errors import CatalogError, GeoError, Problem

_AT = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def toml_problems(path: str | Path) -> tuple[dict | None, list[Problem]]:
    """``(data, [])`` for a good file, ``(None, problems)`` for one that cannot be used."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, f"cannot be read: {exc.strerror or exc}", fix="restore the file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(name, f"not UTF-8 (byte {exc.start})", line=line, fix="save the file as UTF-8")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _AT.match(str(exc))
        if not m:
            return None, [Problem(name, f"not valid TOML: {exc}", fix="correct the syntax")]
        line = int(m["line"])
        lines = text.splitlines()
        shown = lines[line - 1].strip()[:80] if 0 < line <= len(lines) else None
        return None, [Problem(name, f"not valid TOML at column {m['col']}: {m['msg'].lower()}", line=line,
                              value=shown, fix="correct the syntax of that line")]
    problems = [Problem(name, "not a finite number", field=key, value=value, fix="write a plain number")
                for key, value in _floats(data, "") if not math.isfinite(value)]
    return (None if problems else data), problems


def _floats(node: Any, where: str):
    """Every float in a parsed TOML document, with its dotted key."""
    if isinstance(node, float):
        yield where, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _floats(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _floats(v, f"{where}[{i}]")


def read_toml(path: str | Path, error: type[GeoError] = CatalogError) -> dict:
    """The parsed file; raise ``error`` naming the file, line and key when it cannot be used."""
    data, problems = toml_problems(path)
    if problems:
        raise error(problems=problems)
    return data
