"""Read a declared vector source file (GeoJSON, GeoPackage…) through pyogrio and check it."""
from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.catalog import LayerSpec
from geo.crs import WEB_CRS
from geo.errors import Problem
from geo.files.table import CONTROL_PATTERN, PANDAS_DTYPES, text_problems


def declared_frame(spec: LayerSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The layer's declared fields, in declared order (plus the geometry of a spatial layer)."""
    if not spec.spatial:
        return frame[spec.field_names].copy()
    return gpd.GeoDataFrame(frame[[*spec.field_names, "geometry"]], geometry="geometry", crs=frame.crs)


def promote_to_multi(geoms):
    """Single parts as one-part Multi* geometries, so a layer has one declared geometry type."""
    kinds = shapely.get_type_id(geoms)
    out = geoms.copy()
    for single, multi in ((0, shapely.multipoints), (1, shapely.multilinestrings), (3, shapely.multipolygons)):
        mask = kinds == single
        if mask.any():
            out[mask] = [multi([g]) for g in geoms[mask]]
    return out


def buffer_parts(geom: shapely.Geometry, distance: float, quad_segs: int = 8) -> shapely.Geometry:
    """``geom.buffer(distance)`` made by buffering each part and joining the results: the same area
    (measured: symmetric difference 0 on the national coast strip and outline), 2-3x faster on
    multi-part geometries with hundreds of parts."""
    return shapely.union_all(shapely.buffer(shapely.get_parts(geom), distance, quad_segs=quad_segs))


def open_water(land, min_width_m: float, quad_segs: int = 2, margin_m: float = 50_000) -> shapely.Geometry:
    """The open sea around ``land`` (polygons, metric CRS): the water that a disc ``min_width_m`` across
    can reach from the largest water body without crossing land (a morphological opening of the water,
    keeping only the component of the ocean), within the box of the land widened by
    ``margin_m``. Channels narrower than the disc, and whatever water lies behind them (estuary
    channels, lagoons behind narrow inlets, lakes, reservoirs), are not open sea.

    Eroding the water is dilating the land: each part is buffered by the disc's radius and the parts
    joined (2-3x faster than buffering the water itself); the ocean's eroded component is dilated back
    and cut to the water."""
    land = np.asarray(land, dtype=object)
    r = min_width_m / 2
    x0, y0, x1, y1 = shapely.total_bounds(land)
    box = shapely.box(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    eroded = shapely.get_parts(box.difference(shapely.union_all(shapely.buffer(land, r, quad_segs=quad_segs))))
    if not len(eroded):
        return shapely.Polygon()
    ocean = eroded[np.argmax(shapely.area(eroded))]
    water = box.difference(shapely.union_all(land))
    return shapely.make_valid(ocean.buffer(r, quad_segs=quad_segs).intersection(water))


def _fits(value, kind: str) -> bool:
    """Whether one property value converts to the declared field type."""
    try:
        pd.Series([value]).astype(PANDAS_DTYPES[kind])
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def _feature_problems(path: Path, frame: gpd.GeoDataFrame, spec: LayerSpec) -> list[Problem]:
    """Features without a geometry, of another geometry type than declared, with non-finite
    coordinates, or with control characters in their text."""
    name, problems = str(path), []
    geoms = np.asarray(frame.geometry.values)  # a plain array: shapely's functions run on it in C
    allowed = {spec.geometry, spec.geometry.removeprefix("Multi")} if spec.geometry else set()
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    ok = np.isfinite(coords).all(axis=1)
    if frame.crs is None or frame.crs.is_geographic:  # and within the globe: degrees beyond it project to inf
        ok &= (np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90)
    bad_coords = np.zeros(len(geoms), bool)
    bad_coords[index[~ok]] = True
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    wrong = np.zeros(len(geoms), bool)
    if allowed:
        kinds = np.array(shapely.get_type_id(geoms))
        wrong = ~missing & ~np.isin(kinds, [shapely.GeometryType[_GEOS_NAME[a]].value for a in allowed])
    for i in np.flatnonzero(missing | wrong | bad_coords):  # only the bad features one by one
        row, geom = int(i) + 1, geoms[i]
        if missing[i]:
            problems.append(Problem(name, "feature has no geometry", row=row, field="geometry",
                                    fix="give every feature its geometry or remove it"))
        elif wrong[i]:
            problems.append(Problem(name, f"geometry is not a {spec.geometry}", row=row, field="geometry",
                                    value=geom.geom_type, fix=f"give {spec.geometry} geometries"))
        else:
            problems.append(Problem(name, "coordinates are not finite longitudes and latitudes", row=row,
                                    field="geometry", fix="correct the coordinates"))
    for col in frame.columns:
        if col != "geometry" and (frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])):
            values = frame[col].reset_index(drop=True)
            text = values[values.map(lambda v: isinstance(v, str)).to_numpy(bool)]
            if text.empty:
                continue
            suspect = text.str.contains(CONTROL_PATTERN, regex=True) | (text != text.str.strip())
            suspect |= text != text.str.normalize("NFC")
            for pos in text.index[suspect.to_numpy(bool)]:  # the screen is exact: these have a problem
                problems += text_problems(values.iat[pos], {"file": name, "row": int(pos) + 1, "field": col})
    return problems


_GEOS_NAME = {"Point": "POINT", "MultiPoint": "MULTIPOINT", "LineString": "LINESTRING",
              "MultiLineString": "MULTILINESTRING", "Polygon": "POLYGON", "MultiPolygon": "MULTIPOLYGON"}


def _value_problems(path: Path, frame: pd.DataFrame, spec: LayerSpec) -> list[Problem]:
    """Required properties present and unique ones unique, as in a CSV source (geo/files/table.py)."""
    problems = []
    for f in spec.source_fields:
        if f.name not in frame or not (f.required or f.unique):
            continue
        values = frame[f.name].reset_index(drop=True)
        empty = values.isna().to_numpy(bool)
        if f.required:
            problems += [Problem(str(path), "required value is empty", row=int(i) + 1, field=f.name, fix="fill it in")
                         for i in np.flatnonzero(empty)]
        if f.unique:
            dup = values.duplicated(keep="first").to_numpy(bool) & ~empty
            if dup.any():
                first = {v: int(i) + 1 for i, v in reversed(list(enumerate(values))) if not pd.isna(v)}
                problems += [Problem(str(path), f"duplicate of feature {first[values.iat[i]]}", row=int(i) + 1,
                                     field=f.name, value=values.iat[i], fix="make it unique")
                             for i in np.flatnonzero(dup)]
    return problems


_DIMENSION = {"Point": 0, "LineString": 1, "Polygon": 2}


def _keep_dimension(geom: shapely.Geometry, declared: str) -> shapely.Geometry:
    """The parts of ``geom`` of the declared geometry's dimension (all of it if it has no other)."""
    dim = _DIMENSION[declared.removeprefix("Multi")]
    parts = shapely.get_parts(geom)
    keep = parts[shapely.get_dimensions(parts) == dim]
    if len(keep) == len(parts):
        return geom
    return shapely.union_all(keep) if len(keep) else shapely.from_wkt(f"{declared.upper()} EMPTY")


def read_vector(path: Path, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path`` in WGS84 with the declared fields; invalid geometries are made valid."""
    problems: list[Problem] = []
    try:
        with warnings.catch_warnings():  # GDAL's warnings about a bad file precede the error that names it
            warnings.simplefilter("ignore", RuntimeWarning)
            # "could not parse column as JSON": the value stays a string, checked against its declared type below
            warnings.simplefilter("ignore", UserWarning)
            frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.GeometryError,
            pyogrio.errors.FieldError, shapely.errors.GEOSException) as exc:  # GDAL's or GEOS's message says where
        empty = gpd.GeoDataFrame({f.name: [] for f in spec.source_fields}, geometry=[], crs=WEB_CRS)
        return empty, [Problem(str(path), f"cannot be read as a vector file: {exc}",
                               fix="restore the file or export it again")]
    problems += _feature_problems(path, frame, spec)
    if problems:
        return frame, problems
    if frame.crs is None:
        problems.append(Problem(str(path), "no CRS", fix="write the file with a CRS (EPSG:4326)"))
        frame = frame.set_crs(WEB_CRS)
    frame = frame.to_crs(WEB_CRS)
    declared = [f.name for f in spec.source_fields]
    for col in declared:
        if col not in frame:
            problems.append(Problem(str(path), "declared field missing", field=col,
                                    fix=f"add it to the file or remove it from {spec.path.name}"))
    for col in frame.columns:
        if col != "geometry" and col not in declared:
            problems.append(Problem(str(path), "field not declared in the catalog", field=col,
                                    fix=f"declare it in {spec.path.name} or drop it from the file"))
    for f in spec.source_fields:
        if f.name in frame:
            try:
                frame[f.name] = frame[f.name].astype(PANDAS_DTYPES["string" if f.is_list else f.type])
            except (ValueError, TypeError, OverflowError):
                bad = next(((i, v) for i, v in enumerate(frame[f.name], 1) if not _fits(v, f.type)), (None, None))
                problems.append(Problem(str(path), f"not a valid {f.type}", row=bad[0], field=f.name,
                                        value=bad[1], fix=f"write a {f.type} in every feature"))
    problems += _value_problems(path, frame, spec)
    if problems:
        return frame, problems
    frame["geometry"] = shapely.force_2d(frame.geometry.values)  # a stray third number is no elevation here
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        fixed = shapely.make_valid(frame.geometry[invalid].values)
        if spec.geometry:  # keep the declared dimension (a collapsed ring comes back as a line)
            fixed = np.array([_keep_dimension(g, spec.geometry) for g in fixed], dtype=object)
        frame.loc[invalid, "geometry"] = fixed
    if spec.geometry and spec.geometry.startswith("Multi"):
        frame["geometry"] = promote_to_multi(frame.geometry.values)
    frame.attrs["rows"] = range(1, len(frame) + 1)  # not a list: pandas deep-copies attrs on every operation
    frame.attrs["repaired"] = int(invalid.sum())
    return frame, problems
