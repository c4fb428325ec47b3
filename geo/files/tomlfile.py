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


def toml_problems(path: str | Path, content: bytes | None = None) -> tuple[dict | None, list[Problem]]:
    """``(data, [])`` for a good file, ``(None, problems)`` for one that cannot be used; ``content``:
    the file's bytes when the caller has read them (then parsed, not read again)."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes() if content is None else content
    except OSError as exc:
        return None, [Problem(name, f"cannot be read: {exc.strerror or exc}", fix="restore the file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(name, f"not UTF-8 (byte {exc.start})", line=line, fix="save the file as UTF-8")]
    try:
        data = tomllib.loads(text)
    except RecursionError:
        return None, [Problem(name, "not valid TOML: arrays or tables nested too deeply", fix="flatten the file")]
    except tomllib.TOMLDecodeError as exc:
        m = _AT.match(str(exc))
        if not m:
            return None, [Problem(name, f"not valid TOML: {exc}", fix="correct the syntax")]
        line = int(m["line"])
        lines = text.splitlines()
        shown = lines[line - 1].strip()[:80] if 0 < line <= len(lines) else None
        return None, [Problem(name, f"not valid TOML at column {m['col']}: {m['msg'].lower()}", line=line,
                              value=shown, fix="correct the syntax of that line")]
    except ValueError:  # an integer literal longer than Python converts (4,300 digits)
        return None, [Problem(name, "not valid TOML: an integer far beyond 64 bits", fix="write a plain number")]
    problems = []
    for key, value in _numbers(data):
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(name, "not a finite number", field=key, value=value, fix="write a plain number"))
        elif isinstance(value, int) and not -2**63 <= value < 2**63:
            problems.append(Problem(name, "an integer beyond 64 bits", field=key, value=value,
                                    fix="write a number of the size the key means"))
    return (None if problems else data), problems


def _numbers(data: dict):
    """Every number in a parsed TOML document, with its dotted key (walked without recursion: a file may
    nest as deeply as the parser allows)."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            yield where, node
        elif isinstance(node, dict):
            stack += [(f"{where}.{k}" if where else str(k), v) for k, v in reversed(node.items())]
        elif isinstance(node, list):
            stack += [(f"{where}[{i}]", v) for i, v in reversed(list(enumerate(node)))]


def read_toml(path: str | Path, error: type[GeoError] = CatalogError, content: bytes | None = None) -> dict:
    """The parsed file (or its bytes ``content``); raise ``error`` naming the file, line and key when it
    cannot be used."""
    data, problems = toml_problems(path, content)
    if problems:
        raise error(problems=problems)
    return data
