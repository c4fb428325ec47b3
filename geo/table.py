"""Read a declared plain-text table (UTF-8 CSV) and check every cell against its field spec.

All problems in a file are collected (file, row, field, value, fix) before anything is raised.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import unicodedata
from pathlib import Path

import pandas as pd

from geo.catalog import Catalog, FieldSpec, LayerSpec
from geo.errors import Problem, plain

LIST_SEP = ";"
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
PANDAS_DTYPES = {"string": "string", "integer": "Int64", "real": "Float64",
                 "boolean": "boolean", "date": "string"}
INT64 = (-(2**63), 2**63 - 1)  # the range of an integer field (GeoPackage, pandas Int64)


def control_characters(text: str) -> list[str]:
    """The control characters in ``text`` (NUL, escape, line breaks…) as ``U+XXXX`` codes."""
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(text) if unicodedata.category(ch) == "Cc"]


def text_problems(raw: str, where: dict) -> list[Problem]:
    """Text a source may not hold: control characters, decomposed (non-NFC) Unicode, edge spaces."""
    out = []
    if codes := control_characters(raw):
        out.append(Problem(**where, message=f"control character {', '.join(codes)} in text", value=raw,
                           fix="remove it (a NUL or line break does not belong in a cell)"))
    if raw != unicodedata.normalize("NFC", raw):
        out.append(Problem(**where, message="text is not Unicode NFC", value=raw,
                           fix="save the file with composed (NFC) Vietnamese characters"))
    if raw != raw.strip():
        out.append(Problem(**where, message="leading or trailing spaces", value=raw,
                           fix="remove the spaces"))
    return out


def split_list(value: str | None) -> list[str]:
    """Items of a ';'-separated list cell (empty cell -> no items)."""
    if value is None or value == "":
        return []
    return [item.strip() for item in value.split(LIST_SEP)]


def _parse(f: FieldSpec, raw: str):
    """Return the typed value of one non-empty cell, or raise ValueError with a fix."""
    if f.type == "string":
        return raw
    if f.type == "integer":
        value = int(raw.replace("_", ""))
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"write a whole number between {INT64[0]} and {INT64[1]}")
        return value
    if f.type == "real":
        value = float(raw)
        if not math.isfinite(value):  # also 1e999, which overflows to inf
            raise ValueError("write a finite number (not nan or inf)")
        return value
    if f.type == "boolean":
        low = raw.lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
        raise ValueError("write true or false")
    if f.type == "date":
        return dt.date.fromisoformat(raw).isoformat()
    raise ValueError(f"unknown type {f.type}")


def _check_cell(catalog: Catalog, f: FieldSpec, raw: str, where: dict, out: list[Problem]):
    out += text_problems(raw, where)
    domain = catalog.domain_of(f)
    items = split_list(raw) if f.is_list else [raw]
    for item in items:
        if item == "":
            out.append(Problem(**where, message="empty item in a ';' list", value=raw,
                               fix="remove the extra ';'"))
            continue
        if domain and item not in domain.values:
            out.append(Problem(**where, message=f"not in domain '{domain.name}'", value=item,
                               fix=f"use one of {', '.join(domain.values)}"))
        if not f.is_list:
            try:
                value = _parse(f, item)
            except ValueError as exc:
                own = f.type == "boolean" or str(exc).startswith("write")
                out.append(Problem(**where, message=f"not a valid {f.type}", value=item,
                                   fix=str(exc) if own else
                                   f"write a {f.type} ({'YYYY-MM-DD' if f.type == 'date' else 'plain number, no units'})"))
                return None
            if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
                low, high = ("-inf" if f.min is None else plain(f.min)), ("inf" if f.max is None else plain(f.max))
                out.append(Problem(**where, message=f"outside the declared range [{low}, {high}]", value=item,
                                   fix="check the value and its unit"))
                return None
            return value
    return raw


def decode_text(data: bytes, name: str, problems: list[Problem], encoding: str = "utf-8") -> str | None:
    """``data`` decoded strictly as ``encoding`` (no guessing; a UTF-8 BOM dropped), or None with a problem
    naming the first undecodable byte and its line."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, f"not {'UTF-8' if encoding == 'utf-8' else encoding} "
                                      f"(byte {exc.start}, line {line})", row=max(line - 1, 0),
                                value=data[exc.start:exc.start + 4],
                                fix="save the file as UTF-8, or name its encoding with --encoding"))
        return None
    return text.removeprefix("\ufeff")


def read_table(path: Path, layer: LayerSpec, catalog: Catalog) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``path`` as the table of ``layer``: typed columns in declared order, plus problems."""
    problems: list[Problem] = []
    name = str(path)
    text = decode_text(path.read_bytes(), name, problems)
    if text is None:
        return pd.DataFrame(columns=[f.name for f in layer.source_fields]), problems
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return pd.DataFrame(columns=[f.name for f in layer.source_fields]), [Problem(name, "empty file",
                                                                 fix="add the header row")]
    header, body = rows[0], rows[1:]
    fields = layer.source_fields
    declared = [f.name for f in fields]
    for col in declared:
        if col not in header:
            problems.append(Problem(name, "declared column missing from header", field=col,
                                    fix=f"add a '{col}' column or remove it from {layer.path.name}"))
    for col in header:
        if col not in declared:
            problems.append(Problem(name, "column not declared in the catalog", field=col,
                                    fix=f"declare it in {layer.path.name} or remove the column"))
    index = {col: i for i, col in enumerate(header)}
    records, rownums = [], []
    seen: dict[str, dict[object, int]] = {f.name: {} for f in fields if f.unique}
    for rownum, row in enumerate(body, 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(name, f"has {len(row)} cells, header has {len(header)}",
                                    row=rownum, fix="quote cells that contain commas"))
            continue
        rec = {}
        for f in fields:
            if f.name not in index:
                continue
            raw = row[index[f.name]]
            where = {"file": name, "row": rownum, "field": f.name}
            if raw == "":
                if f.required:
                    problems.append(Problem(**where, message="required value is empty",
                                            fix="fill it in"))
                rec[f.name] = None
                continue
            value = _check_cell(catalog, f, raw, where, problems)
            rec[f.name] = value
            if f.unique and value is not None:
                first = seen[f.name].setdefault(value, rownum)
                if first != rownum:
                    problems.append(Problem(**where, message=f"duplicate of row {first}",
                                            value=value, fix="make it unique"))
        records.append(rec)
        rownums.append(rownum)
    frame = pd.DataFrame.from_records(records, columns=[c for c in declared if c in index])
    frame.attrs["rows"] = rownums  # source row of each record, for later messages
    for f in fields:
        if f.name in frame:
            frame[f.name] = frame[f.name].astype(PANDAS_DTYPES["string" if f.is_list else f.type])
    return frame, problems


def check_foreign_keys(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every value of a ``foreign_key`` field must exist in the target layer's field."""
    problems = []
    for layer in catalog:
        frame = frames.get(layer.name)
        if frame is None:
            continue
        for f in layer.fields:
            if not f.foreign_key or f.name not in frame:
                continue
            tgt, _, col = f.foreign_key.partition(".")
            if tgt not in frames:
                continue
            known = set(frames[tgt][col].dropna())
            src = str(catalog.root / layer.source.files[0]) if layer.source.files else layer.name
            rows = frame.attrs.get("rows") or range(1, len(frame) + 1)
            for rownum, raw in zip(rows, frame[f.name]):
                for item in (split_list(raw) if f.is_list else [raw]) if pd.notna(raw) else []:
                    if item not in known:
                        problems.append(Problem(src, f"unknown {tgt}.{col}", row=rownum,
                                                field=f.name, value=item,
                                                fix=f"add it to {tgt} or correct the id"))
    return problems
