"""Users' own occurrence and sample files (`geo import`), checked by the project's rules and kept as declared layers.

A file (CSV with lon/lat or x/y columns, GeoJSON, KML/KMZ, GeoPackage, zipped Shapefile) is read through
GDAL (pyogrio) or, for CSV, decoded strictly in the given encoding. Its rows become a plain UTF-8 table
checked by the same code as the project's own sources (:func:`geo.files.table.read_table`: required values,
duplicate ids, Unicode NFC, numbers that are numbers; :func:`geo.points.coordinate_problems`: bounds and
swapped longitude/latitude; :func:`layers.model.rules.in_vietnam`: land or territorial sea). Every problem is
reported at once, under the user's file name and the row of the file.

A clean file is written to ``DIR/NAME.geojson`` (WGS 84, numbers typed as numbers, longitude and latitude
also kept as fields) with a generated declaration ``DIR/catalog/NAME.toml``; :func:`with_imports` adds
those layers to the catalog, so `geo build`, the maps and the exports treat them like the project's own.
"""
from __future__ import annotations

import codecs
import csv
import os
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import tomli_w
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.files.atomic import output_errors, sweep_stale, temp_dir
from geo.catalog import Catalog, FieldSpec, declaration_files, LayerSpec, Source, Symbol, Text, load_catalog
from geo.crs import WEB_CRS
from geo.errors import GeoError, Problem, SourceDataError, raise_if
from geo.files.paths import safe_user_path
from geo.points import coordinate_problems
from geo.files.table import csv_rows, decode_text, read_table
from geo.text import snake_name
from geo.files.userfiles import empty_file, geojson_text_problems, shapefile_encoding, zip_problems
from layers.model.rules import VIETNAM_BOUNDS, in_vietnam

IMPORTS_DIR = "imports"  # default directory of imported layers (relative to the working directory)
IMPORT_ORDER = 900  # imported layers come after the project's own in the catalog (drawn on top)


@dataclass(frozen=True)
class Kind:
    """What an imported layer is: its required fields and its map symbol (declared once, here)."""

    title: Text
    required: tuple[str, ...]
    symbol: Symbol
    needs_number: bool = False  # at least one numeric field (samples: analyses)


KINDS = {
    "occurrences": Kind(Text("Điểm khoáng hóa nhập từ người dùng", "Imported occurrences"), ("id", "name"),
                        Symbol(fill="#E69F00", stroke="#000000", marker="star", size=12, fill_opacity=0.95)),
    "samples": Kind(Text("Mẫu phân tích nhập từ người dùng", "Imported samples"), ("id",),
                    Symbol(fill="#56B4E9", stroke="#000000", marker="diamond", size=9, fill_opacity=0.95),
                    needs_number=True),
}
FORMATS = {".csv": "CSV", ".txt": "CSV", ".geojson": "GeoJSON", ".json": "GeoJSON", ".kml": "KML",
           ".kmz": "KMZ", ".gpkg": "GeoPackage", ".zip": "zipped Shapefile"}
LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "x_lon")
LAT_NAMES = ("lat", "latitude", "vi_do", "y_lat")
X_NAMES = ("x", "easting", "east", "toa_do_x")
Y_NAMES = ("y", "northing", "north", "toa_do_y")
REQUIRED_NAMES = {"id": ("ma", "ma_mau", "ma_diem", "ma_so", "sample_id", "site_id", "code"),
                  "name": ("ten", "ten_diem", "ten_mo", "site_name", "placemark")}
LON, LAT = "lon", "lat"  # the coordinate fields of every imported layer (WGS 84)
# columns GDAL's KML drivers add to every placemark: left out when they are empty
KML_FIELDS = {"description", "timestamp", "begin", "end", "altitudemode", "tessellate", "extrude", "visibility",
              "draworder", "icon", "snippet"}


@dataclass
class Table:
    """A user file as text cells: its header (cleaned names), rows, coordinate columns and CRS."""

    file: str
    header: list[str]
    aliases: list[str]  # the file's own column names
    rows: list[list[str]]
    xy: tuple[str, str] | None
    crs: CRS | None  # the file's own CRS (vector formats)
    degrees: bool = True  # the coordinates are longitude/latitude (else projected x/y)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _names(raw: list[str], file: str, problems: list[Problem]) -> list[str]:
    """Catalog field names for the file's columns (lower_snake_case ASCII), each unique."""
    out = []
    for col in raw:
        name = snake_name(col)
        if name and name[0].isdigit():
            name = f"f_{name}"
        if not name or name in out:
            problems.append(Problem(file, "column name is empty or repeats another once cleaned", field=col,
                                    value=name, fix="give every column a distinct name"))
            name = f"column_{len(out) + 1}"
        out.append(name)
    return out


def _crs(text: str | None, problems: list[Problem]) -> CRS | None:
    if text is None:
        return None
    try:
        return CRS.from_user_input(text)
    except CRSError:
        problems.append(Problem("--crs", "unknown coordinate reference system", value=text,
                                fix="give an EPSG code, e.g. EPSG:4326, EPSG:4756 (VN-2000), EPSG:3405, EPSG:3406"))
        return None


def _pick(header: list[str], given: tuple[str | None, str | None], names: tuple[tuple, tuple]) -> tuple[str, str] | None:
    if given[0] or given[1]:
        return tuple(snake_name(g) if g else "" for g in given)
    found = [next((h for h in header if h in cands), None) for cands in names]
    return tuple(found) if all(found) else None


def _read_csv(path: Path, encoding: str, cols: dict, problems: list[Problem]) -> Table | None:
    text = decode_text(path.read_bytes(), str(path), problems, encoding)
    if text is None:
        return None
    rows = csv_rows(text, str(path), problems)
    if rows is None:
        return None
    if not rows:
        problems.append(Problem(str(path), "empty file", fix="add a header row and data rows"))
        return None
    header = _names(rows[0], str(path), problems)
    lonlat = _pick(header, (cols["lon"], cols["lat"]), (LON_NAMES, LAT_NAMES))
    xy = None if lonlat else _pick(header, (cols["x"], cols["y"]), (X_NAMES, Y_NAMES))
    table = Table(str(path), header, rows[0], rows[1:], lonlat or xy, None, lonlat is not None)
    if table.xy is None:
        problems.append(Problem(str(path), "no coordinate columns found", field=",".join(rows[0]),
                                fix="name them with --lon/--lat (degrees) or --x/--y (projected, with --crs)"))
        return None
    for col in table.xy:
        if col not in header:
            problems.append(Problem(str(path), "coordinate column not in the header", field=col,
                                    fix=f"use one of {', '.join(rows[0])}"))
            return None
    if lonlat is None and cols["crs"] is None:
        problems.append(Problem(str(path), "x/y coordinates without a coordinate reference system",
                                field="/".join(xy), fix="name it with --crs, e.g. EPSG:3405 (VN-2000 / UTM 48N)"))
    return table


def _read_vector(path: Path, encoding: str | None, problems: list[Problem]) -> Table | None:
    file = str(path)
    suffix = path.suffix.lower()
    if suffix in (".zip", ".kmz"):
        if found := zip_problems(path, FORMATS[suffix]):
            problems += found
            return None
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        if len(shps) != 1:
            problems.append(Problem(file, f"a zipped Shapefile must hold exactly one .shp (found {len(shps)})",
                                    value=shps or None, fix="zip one layer's .shp/.shx/.dbf/.prj/.cpg"))
            return None
        encoding, found = shapefile_encoding(path, encoding)
        if found:
            problems += found
            return None
    elif encoding and codecs.lookup(encoding).name != "utf-8":
        problems.append(Problem("--encoding", f"applies to CSV and Shapefiles, not to {FORMATS[suffix]}",
                                value=encoding, fix="leave it out: GeoJSON and GeoPackage are UTF-8 by their "
                                                    "standards, and KML names its own encoding"))
        return None
    if suffix in (".geojson", ".json"):
        if found := geojson_text_problems(path):
            problems += found
            return None
    try:
        layers = pyogrio.list_layers(path)
        if len(layers) != 1:
            problems.append(Problem(file, f"holds {len(layers)} layers", value=[str(n) for n in layers[:, 0]],
                                    fix="import a file with one layer (export the one you want)"))
            return None
        with warnings.catch_warnings():  # a field of mixed numbers and text is read as text: checked below
            warnings.filterwarnings("ignore", "Could not parse column", UserWarning)
            # GDAL recodes through iconv, whose CP1258 drops the last letter of every text (it waits for a
            # combining accent): text other than UTF-8 is read byte for byte (Latin-1) and decoded by Python
            byte_for_byte = suffix == ".zip" and encoding not in (None, "utf-8")
            frame = pyogrio.read_dataframe(path, encoding="latin1" if byte_for_byte else encoding)
        if byte_for_byte:
            frame = _decoded(frame, encoding, file, problems)
            if frame is None:
                return None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.CRSError, zipfile.BadZipFile, UnicodeDecodeError,
            LookupError, ValueError) as exc:
        problems.append(Problem(file, f"GDAL cannot read it: {' '.join(str(exc).split())[:300]}",
                                fix="check the file is complete (export it again)"
                                + (", and its --encoding" if encoding else "")))
        return None
    if path.suffix.lower() in (".kml", ".kmz"):
        frame = frame[[c for c in frame.columns if c.lower() not in KML_FIELDS or frame[c].notna().any()
                       and (frame[c].astype(str) != "").any()]]
    attrs = [c for c in frame.columns if c != "geometry"]
    header = _names(attrs, file, problems)
    header = [f"{h}_attr" if h in (LON, LAT) else h for h in header]  # the geometry gives lon/lat
    rows = []
    for i, (geom, values) in enumerate(zip(frame.geometry, frame[attrs].itertuples(index=False)), 1):
        if geom is not None and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            problems.append(Problem(file, "not a point", row=i, field="geometry",
                                    value=None if geom is None else geom.geom_type,
                                    fix="import point features only (one location per row)"))
            x = y = ""
        else:
            x, y = repr(geom.x), repr(geom.y)
        rows.append([*map(_cell, values), x, y])
    return Table(file, [*header, LON, LAT], [*attrs, "longitude", "latitude"], rows, (LON, LAT), frame.crs,
                 frame.crs is None or CRS.from_user_input(frame.crs).is_geographic)


def _decoded(frame: gpd.GeoDataFrame, encoding: str, file: str, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    """``frame`` read as Latin-1 (each byte one character) with its column names and text decoded as
    ``encoding``; None with a problem naming the first row and field that is not."""
    def decode(text: str, row: int | None, field: str | None) -> str | None:
        try:
            return text.encode("latin-1").decode(encoding)
        except (UnicodeEncodeError, UnicodeDecodeError):
            problems.append(Problem(file, f"not {encoding}", row=row, field=field, value=text,
                                    fix="name the encoding the file was saved in with --encoding"))
            return None
    before = len(problems)
    names = {c: decode(c, None, c) if c != "geometry" else c for c in frame.columns}
    if None in names.values():
        return None
    frame = frame.rename(columns=names)
    for col in frame.columns:
        if col != "geometry" and (frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])):
            out = []
            for row, v in enumerate(frame[col], 1):
                out.append(decode(v, row, col) if isinstance(v, str) else v)
                if len(problems) > before:
                    return None
            frame[col] = out
    return frame


def _infer(table: Table, idx: int) -> str:
    """``real`` when most non-empty cells are numbers (the others are then reported), else ``string``."""
    cells = [r[idx].strip() for r in table.rows if idx < len(r) and r[idx].strip()]
    if not cells:
        return "string"
    numeric = 0
    for c in cells:
        try:
            float(c)
            numeric += 1
        except ValueError:
            pass
    return "real" if numeric * 2 > len(cells) else "string"


def _fields(table: Table, kind: Kind) -> list[FieldSpec]:
    out = []
    for i, (name, alias) in enumerate(zip(table.header, table.aliases)):
        coord = name in table.xy
        ftype = "real" if coord else "string" if name in kind.required else _infer(table, i)
        out.append(FieldSpec(name=name, type=ftype, alias=Text(alias, alias), required=coord or name in kind.required,
                             unique=name == "id"))
    return out


def _staged(table: Table, fields: list[FieldSpec], tmp: Path) -> tuple[Path, LayerSpec]:
    """The table as a UTF-8 CSV and a declaration of it, for :func:`read_table`."""
    path = tmp / "staged.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(table.header)
        w.writerows(table.rows)
    spec = LayerSpec(name="staged", path=Path(table.file), title=Text("", ""), description=Text("", ""),
                     geometry="Point", fields=tuple(fields), source=Source(files=(path.name,)),
                     attribution="", licence="", style=None)
    return path, spec


def _as_user_file(problems: list[Problem], staged: Path, file: str) -> list[Problem]:
    return [replace(p, file=file) if p.file == str(staged) else p for p in problems]


def check_file(path: str | Path, kind: str, frames: dict[str, pd.DataFrame] | Callable[[], dict[str, pd.DataFrame]],
               crs: str | None = None,
               encoding: str | None = None, lon: str | None = None, lat: str | None = None,
               x: str | None = None, y: str | None = None) -> tuple[gpd.GeoDataFrame, list[FieldSpec], str, str]:
    """Read and check a user file; return its rows as WGS 84 points, their fields, the format and the
    CRS the coordinates were read in.

    ``frames`` are the project's loaded layers (for Vietnam's land and territorial sea), or a function
    that loads them, called only once the file has been read (a broken file is refused at once). Raises one
    :class:`SourceDataError` naming every problem (file, row, field, value, fix)."""
    path = safe_user_path(path, "FILE")
    problems: list[Problem] = []
    spec_kind = KINDS[kind]
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SourceDataError(problems=[Problem(str(path), "unsupported file type", value=path.suffix,
                                                fix=f"give one of {', '.join(FORMATS)}")])
    if not path.is_file():
        raise SourceDataError(problems=[Problem(str(path), "file not found", fix="check the path")])
    raise_if(empty_file(path), SourceDataError)
    user_crs = _crs(crs, problems)
    if fmt == "CSV":
        table = _read_csv(path, encoding or "utf-8", {"lon": lon, "lat": lat, "x": x, "y": y, "crs": crs}, problems)
    else:
        table = _read_vector(path, encoding, problems)
    if table is None:
        raise_if(problems, SourceDataError)
    file = table.file
    if not any("".join(row).strip() for row in table.rows):
        problems.append(Problem(file, "no data rows: nothing to import" + (" (only a header)" if fmt == "CSV" else ""),
                                fix="add one row per point under the header" if fmt == "CSV"
                                else "give a file with at least one point feature"))
        raise_if(problems, SourceDataError)
    if fmt != "CSV":
        if table.crs is None and user_crs is None:
            problems.append(Problem(file, "the file states no coordinate reference system", field="geometry",
                                    fix="give it with --crs (e.g. EPSG:4326, EPSG:4756, EPSG:3405)"))
        elif table.crs is not None and user_crs is not None and not CRS.from_user_input(table.crs).equals(user_crs):
            problems.append(Problem(file, "--crs contradicts the file's own CRS", field="geometry",
                                    value=f"{CRS.from_user_input(table.crs).to_string()} vs {user_crs.to_string()}",
                                    fix="leave --crs out, or correct the file's .prj"))
    if table.crs is not None:
        src_crs = CRS.from_user_input(table.crs)
    else:  # a CSV's longitude/latitude are WGS 84 unless --crs says otherwise (e.g. EPSG:4756, VN-2000)
        src_crs = user_crs or (CRS.from_user_input(WEB_CRS) if fmt == "CSV" and table.degrees else None)
    for name, cands in REQUIRED_NAMES.items():  # e.g. a "Mã mẫu" column is the id, "Tên" the name
        found = next((h for h in table.header if h in cands), None)
        if name not in table.header and found:
            table.header[table.header.index(found)] = name
    for name in spec_kind.required:
        if name not in table.header:
            problems.append(Problem(file, f"required field missing for {kind}", field=name,
                                    fix=f"add a '{name}' column (columns now: {', '.join(table.aliases)})"))
    fields = _fields(table, spec_kind)
    if spec_kind.needs_number and not any(f.type == "real" and f.name not in table.xy for f in fields):
        problems.append(Problem(file, f"{kind} need at least one numeric field", field=",".join(table.aliases),
                                fix="add a column of numbers (e.g. an assay in ppm)"))
    with tempfile.TemporaryDirectory() as tmp:
        staged, spec = _staged(table, fields, Path(tmp))
        table.rows = []  # read back from the staged file: a million rows are not held twice
        frame, found = read_table(staged, spec, Catalog(Path(tmp), {}, {}))
        problems += _as_user_file(found, staged, file)
    xcol, ycol = table.xy
    coord_rows_bad = any(p.field in table.xy for p in problems if p.row is not None)
    if src_crs is not None and not coord_rows_bad and xcol in frame and ycol in frame:
        lon_v, lat_v = frame[xcol].astype(float).to_numpy(), frame[ycol].astype(float).to_numpy()
        if src_crs.is_geographic:  # degrees: the project's bounds and swapped check on the values as given
            problems += coordinate_problems(frame, xcol, ycol, VIETNAM_BOUNDS, file, "Vietnam")
        t = Transformer.from_crs(src_crs, WEB_CRS, always_xy=True)
        lon_v, lat_v = t.transform(lon_v, lat_v)
        out = pd.DataFrame({LON: lon_v, LAT: lat_v})
        out.attrs["rows"] = frame.attrs["rows"]
        if not src_crs.is_geographic:
            problems += [replace(p, field=f"{xcol}/{ycol}", message=p.message + f" once transformed from {src_crs.to_string()}")
                         for p in coordinate_problems(out, LON, LAT, VIETNAM_BOUNDS, file, "Vietnam")]
        placed = {p.row for p in problems if p.field == f"{xcol}/{ycol}"}  # rows already reported
        finite = (np.abs(lon_v) <= 180) & (np.abs(lat_v) <= 90)  # else the metric transform gives inf
        inside = np.zeros(len(lon_v), bool)
        frames = frames() if callable(frames) else frames
        inside[finite] = in_vietnam(frames, gpd.points_from_xy(lon_v[finite], lat_v[finite]))
        for row, ok, a, b in zip(frame.attrs["rows"], inside, frame[xcol], frame[ycol]):
            if not ok and row not in placed:
                problems.append(Problem(file, "point is outside Vietnam's land and territorial sea", row=row,
                                        field=f"{xcol}/{ycol}", value=(float(a), float(b)),
                                        fix="check the coordinates and their datum (--crs)"))
        frame[xcol], frame[ycol] = np.round(lon_v, 7), np.round(lat_v, 7)
    raise_if(problems, SourceDataError)
    frame = frame.rename(columns={xcol: LON, ycol: LAT})
    fields = [replace(f, name={xcol: LON, ycol: LAT}.get(f.name, f.name),
                      alias={xcol: Text("Kinh độ (WGS 84)", "Longitude (WGS 84)"),
                             ycol: Text("Vĩ độ (WGS 84)", "Latitude (WGS 84)")}.get(f.name, f.alias),
                      unit="degree" if f.name in (xcol, ycol) else None) for f in fields]
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame[LON], frame[LAT]), crs=WEB_CRS)
    return points, fields, fmt, src_crs.to_string()


def declaration(name: str, kind: str, fields: list[FieldSpec], source: str, fmt: str, crs: str, rows: int) -> str:
    """The generated catalog declaration of an imported layer (TOML, the form of layers/catalog/*.toml),
    written by a TOML writer: any text of the user's (file name, column names) is escaped by it and
    reads back as given."""
    k = KINDS[kind]
    s = k.symbol
    label = "name" if any(f.name == "name" for f in fields) else "id"
    doc = {
        "name": name,
        "geometry": "Point",
        "title": {"vi": f"{k.title.vi}: {name}", "en": f"{k.title.en}: {name}"},
        "description": {"vi": f"Nhập từ {source} ({fmt}, {crs}), {rows} dòng.",
                        "en": f"Imported from {source} ({fmt}, {crs}), {rows} rows."},
        "attribution": f"{source} (user data)",
        "licence": "not stated (user data)",
        "order": IMPORT_ORDER,
        "source": {"files": [f"{name}.geojson"], "lon": LON, "lat": LAT},
        "style": {"label_field": label, "symbol": {"fill": s.fill, "stroke": s.stroke, "marker": s.marker,
                                                   "size": s.size, "fill_opacity": s.fill_opacity}},
        "fields": [{"name": f.name, "type": f.type, "alias": {"vi": f.alias.vi, "en": f.alias.en},
                    **{key: True for key in ("required", "unique") if getattr(f, key)},
                    **({"unit": f.unit} if f.unit else {})} for f in fields],
    }
    return GENERATED_NOTE + tomli_w.dumps(doc)


GENERATED_NOTE = "# Generated by `geo import`: edit titles, aliases, licence and style here, not elsewhere.\n"


def _check_staged(stage: Path, name: str, fields: list[FieldSpec], file: str) -> None:
    """Load the staged declaration with the catalog's own loader and compare the staged data file's
    fields with it; a problem names the user's file (the staged files are ours, not the user's)."""
    try:
        spec = load_catalog(stage / "catalog", stage).layers[name]
        written = list(pyogrio.read_info(stage / f"{name}.geojson")["fields"])
    except (GeoError, pyogrio.errors.DataSourceError) as exc:
        problems = getattr(exc, "problems", None) or [Problem(file, str(exc))]
        raise SourceDataError(problems=[Problem(file, "cannot be kept as a layer: its declaration "
                                                      + (f"key '{p.field}' " if p.field else "") + p.message,
                                                value=p.value, fix="rename the column or the file and import again")
                                        for p in problems]) from None
    if written != spec.field_names or spec.field_names != [f.name for f in fields]:
        raise SourceDataError(problems=[Problem(file, "cannot be kept as a layer: its fields changed when written",
                                                value=(written, spec.field_names), fix="report this as a bug")])


def write_import(points: gpd.GeoDataFrame, fields: list[FieldSpec], name: str, kind: str, source: Path, fmt: str,
                 crs: str, out_dir: Path) -> tuple[Path, Path]:
    """Write ``DIR/NAME.geojson`` and ``DIR/catalog/NAME.toml``; return both paths.

    All or nothing: both are written into a scratch folder beside them and checked together (the
    declaration loads with the catalog's loader and names the data file's fields) before either is
    published. Publishing removes the old declaration first, then moves the data file, then the new
    declaration: a run killed at any moment leaves the old layer, no layer, or the new one, never a
    declaration that does not match its data (a data file without a declaration is not a layer)."""
    out_dir = safe_user_path(out_dir, "--dir")
    data = points[[f.name for f in fields] + ["geometry"]].copy()
    for f in fields:
        data[f.name] = data[f.name].astype("float64" if f.type == "real" else object)
        if f.type != "real":
            data[f.name] = data[f.name].where(data[f.name].notna(), None)
    target, decl = out_dir / f"{name}.geojson", out_dir / "catalog" / f"{name}.toml"
    created = not out_dir.exists()
    try:
        _publish(data, name, kind, fields, source, fmt, crs, len(points), target, decl)
    except BaseException:
        if created:  # a refused first import leaves no empty directory behind
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return target, decl


def _publish(data: gpd.GeoDataFrame, name: str, kind: str, fields: list[FieldSpec], source: Path, fmt: str, crs: str,
             rows: int, target: Path, decl: Path) -> None:
    """Stage, check, then publish (see :func:`write_import`)."""
    with temp_dir(target) as scratch, output_errors(target):
        stage = Path(scratch)
        (stage / "catalog").mkdir()
        pyogrio.write_dataframe(data, stage / target.name, driver="GeoJSON", layer=name,
                                layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO",
                                               "AUTODETECT_JSON_STRINGS": "NO"})
        (stage / "catalog" / decl.name).write_text(declaration(name, kind, fields, source.name, fmt, crs, rows),
                                                   encoding="utf-8")
        _check_staged(stage, name, fields, str(source))
        decl.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(decl.parent)
        decl.unlink(missing_ok=True)
        os.replace(stage / target.name, target)
        os.replace(stage / "catalog" / decl.name, decl)


def check_encoding(encoding: str | None) -> None:
    """Refuse an encoding Python does not know (the name is used as given: nothing is guessed)."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceDataError(problems=[Problem("--encoding", "unknown text encoding", value=encoding,
                                                fix="give a codec name such as utf-8, cp1258, utf-16")]) from None


def check_name(name: str, catalog: Catalog) -> None:
    problems = []
    if snake_name(name) != name or name[:1].isdigit():
        problems.append(Problem("--name", "layer names are lower_snake_case ASCII", value=name,
                                fix=f"use {snake_name(name) or 'my_layer'!r}"))
    elif name in catalog.layers and name not in catalog.imported:
        problems.append(Problem("--name", "a project layer already has this name", value=name,
                                fix="choose another --name"))
    raise_if(problems, SourceDataError)


def with_imports(catalog: Catalog, directory: str | Path | None) -> Catalog:
    """``catalog`` plus the layers declared in ``DIRECTORY/catalog`` (their files resolved there)."""
    if directory is None:
        return catalog
    decl_dir = safe_user_path(directory, "--imports") / "catalog"
    if not declaration_files(decl_dir):
        return catalog
    extra = load_catalog(decl_dir, decl_dir.parent)
    clash = [Problem(str(spec.path), "an imported layer has the name of a project layer", field="name",
                     value=name, fix="rename the file and its 'name'")
             for name, spec in extra.layers.items() if name in catalog.layers]
    raise_if(clash, SourceDataError)
    layers = dict(catalog.layers)
    for name, spec in extra.layers.items():
        files = tuple(str((extra.root / f).resolve()) for f in spec.source.files)
        layers[name] = replace(spec, source=replace(spec.source, files=files))
    return replace(catalog, layers=layers, imported=catalog.imported + tuple(extra.layers))


