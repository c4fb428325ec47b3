"""Read a declared plain-text table (UTF-8 CSV) and check every cell against its field spec.

All problems in a file are collected (file, row, field, value, fix) before anything is raised.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from geo.catalog import Catalog, FieldSpec, LayerSpec
from geo.errors import Problem, plain
from geo.files.userfiles import bom_encoding

LIST_SEP = ";"
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
PANDAS_DTYPES = {"string": "string", "integer": "Int64", "real": "Float64",
                 "boolean": "boolean", "date": "string"}
INT64 = (-(2**63), 2**63 - 1)  # the range of an integer field (GeoPackage, pandas Int64)
# Python's csv module refuses a cell over 131,072 characters by default; a cell is read whatever its
# size (the whole file is in memory already), so a long description is not a traceback.
csv.field_size_limit(2**31 - 1)


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
    wide = bom_encoding(data[:4])
    if wide and codecs.lookup(encoding).name == "utf-8":
        problems.append(Problem(name, f"the file is {wide} (by its byte-order mark or NUL bytes), not UTF-8",
                                fix=f"save it as UTF-8, or name its encoding with --encoding {wide.lower()}"))
        return None
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


def csv_rows(text: str, name: str, problems: list[Problem]) -> list[list[str]] | None:
    """The rows of a decoded CSV text, or None with a problem naming the line the csv module stopped at."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        problems.append(Problem(name, f"not a readable CSV: {exc}", line=reader.line_num,
                                fix="check the quoting of that line (a cell with a quote or a line break needs quotes)"))
        return None


CONTROL_PATTERN = r"[\x00-\x1f\x7f-\x9f]"  # Unicode category Cc
_REAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_INTEGER = r"[+-]?\d{1,18}"  # fits int64 whatever the digits


def _plain_cells(f: FieldSpec, cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(ok, values)``: which non-empty cells of a column pass every check of :func:`_check_cell`
    without it, and their typed values, tested on the whole column at once (a million-row file is
    checked in seconds). The other cells go through :func:`_check_cell`, which says what is wrong."""
    n = len(cells)
    none = np.zeros(n, bool), np.full(n, None, dtype=object)
    if n == 0 or f.is_list or f.domain or f.type not in ("string", "real", "integer"):
        return none
    if f.type == "string":
        ok = ~cells.str.contains(CONTROL_PATTERN, regex=True) & (cells == cells.str.strip())
        ok &= cells == cells.str.normalize("NFC")
        return ok.to_numpy(bool, copy=True), cells.to_numpy(object)
    ok = cells.str.fullmatch(_REAL if f.type == "real" else _INTEGER).to_numpy(bool, copy=True)
    values = np.full(n, None, dtype=object)
    if not ok.any():
        return ok, values
    num = pd.to_numeric(cells[ok], errors="coerce").to_numpy(float if f.type == "real" else np.int64)
    good = np.isfinite(num) if f.type == "real" else np.ones(len(num), bool)
    if f.min is not None:
        good &= num >= f.min
    if f.max is not None:
        good &= num <= f.max
    idx = np.flatnonzero(ok)
    ok[idx[~good]] = False
    values[idx[good]] = num[good].tolist()
    return ok, values


def read_table(path: Path, layer: LayerSpec, catalog: Catalog) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``path`` as the table of ``layer``: typed columns in declared order, plus problems.

    Problems come in the order of the file (row by row, field by field); each column is screened as a
    whole and only the cells that fail the screen are checked one by one."""
    problems: list[Problem] = []
    name = str(path)
    text = decode_text(path.read_bytes(), name, problems)
    if text is None:
        return pd.DataFrame(columns=[f.name for f in layer.source_fields]), problems
    rows = csv_rows(text, name, problems)
    del text
    if rows is None:
        return pd.DataFrame(columns=[f.name for f in layer.source_fields]), problems
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
    located: list[tuple[int, int, Problem]] = []  # (row, field position, problem): sorted into file order
    kept, rownums = [], []
    for rownum, row in enumerate(body, 1):
        if not "".join(row).strip():
            continue
        if len(row) != len(header):
            located.append((rownum, -1, Problem(name, f"has {len(row)} cells, header has {len(header)}",
                                                row=rownum, fix="quote cells that contain commas")))
            continue
        kept.append(row)
        rownums.append(rownum)
    del rows, body
    columns = list(zip(*kept)) if kept else [() for _ in header]
    del kept
    data = {}
    for pos, f in enumerate(fields):
        if f.name not in index:
            continue
        raw = pd.Series(columns[index[f.name]], dtype=object)
        values = np.full(len(raw), None, dtype=object)
        empty = (raw == "").to_numpy(bool)
        if f.required:
            located += [(rownums[i], pos, Problem(name, "required value is empty", row=rownums[i], field=f.name,
                                                  fix="fill it in")) for i in np.flatnonzero(empty)]
        full = np.flatnonzero(~empty)
        ok, plain_values = _plain_cells(f, raw.iloc[full].reset_index(drop=True))
        values[full[ok]] = plain_values[ok]
        for i in full[~ok]:
            where = {"file": name, "row": rownums[i], "field": f.name}
            found: list[Problem] = []
            values[i] = _check_cell(catalog, f, raw.iat[i], where, found)
            located += [(rownums[i], pos, p) for p in found]
        if f.unique:
            seen: dict[object, int] = {}
            for i in np.flatnonzero(pd.notna(values)):
                first = seen.setdefault(values[i], rownums[i])
                if first != rownums[i]:
                    located.append((rownums[i], pos, Problem(name, f"duplicate of row {first}", row=rownums[i],
                                                             field=f.name, value=values[i], fix="make it unique")))
        data[f.name] = values
    del columns
    located.sort(key=lambda t: (t[0], t[1]))  # stable: a cell's own problems keep their order
    problems += [p for _, _, p in located]
    frame = pd.DataFrame(data, columns=[c for c in declared if c in index])
    # the source row of each record, for later messages (a range when no row was skipped: pandas copies
    # attrs deeply on every operation, and a million-item list made that slower than the checks)
    contiguous = rownums == list(range(1, len(rownums) + 1))
    frame.attrs["rows"] = range(1, len(rownums) + 1) if contiguous else rownums
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
