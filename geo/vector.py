"""Read a declared vector source file (GeoJSON, GeoPackage…) through pyogrio and check it."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.catalog import LayerSpec
from geo.crs import WEB_CRS
from geo.errors import Problem
from geo.table import PANDAS_DTYPES


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


def read_vector(path: Path, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read ``path`` in WGS84 with the declared fields; invalid geometries are made valid."""
    problems: list[Problem] = []
    frame = pyogrio.read_dataframe(path)
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
            frame[f.name] = frame[f.name].astype(PANDAS_DTYPES["string" if f.is_list else f.type])
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].values)
    if spec.geometry and spec.geometry.startswith("Multi"):
        frame["geometry"] = promote_to_multi(frame.geometry.values)
    frame.attrs["rows"] = list(range(1, len(frame) + 1))
    frame.attrs["repaired"] = int(invalid.sum())
    return frame, problems
