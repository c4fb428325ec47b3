"""Export catalog layers to the formats GIS tools read, through GDAL's drivers (pyogrio)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.atomic import atomic_path
from geo.catalog import Catalog, LayerSpec
from geo.crs import EXPORT_CRS, WEB_CRS
from geo.errors import ExportError, Problem

FORMATS = {  # name -> (GDAL driver, file suffix)
    "gpkg": ("GPKG", ".gpkg"), "geojson": ("GeoJSON", ".geojson"), "kml": ("KML", ".kml"),
    "fgb": ("FlatGeobuf", ".fgb"), "shp": ("ESRI Shapefile", ".shp"), "csv": ("CSV", ".csv"),
}


def check_choices(catalog: Catalog, fmt: str, layers: list[str], crs: str) -> None:
    """Refuse an unknown format, layer or CRS, listing the valid choices; all at once."""
    problems = []
    if fmt not in FORMATS:
        problems.append(Problem("--format", "unknown format", value=fmt, fix=f"use one of {', '.join(FORMATS)}"))
    for name in layers:
        if name not in catalog.layers:
            problems.append(Problem("--layers", "unknown layer", value=name,
                                    fix=f"use one of {', '.join(catalog.layers)}"))
    if crs not in EXPORT_CRS:
        problems.append(Problem("--crs", "unsupported CRS", value=crs, fix=f"use one of {', '.join(EXPORT_CRS)}"))
    if problems:
        raise ExportError(problems=problems)


def _frame(spec: LayerSpec, frame: pd.DataFrame, crs: str):
    cols = spec.field_names
    if not spec.spatial:
        return frame[cols]
    gdf = gpd.GeoDataFrame(frame[[*cols, "geometry"]], geometry="geometry", crs=frame.crs)
    return gdf.to_crs(crs)


def export_layer(spec: LayerSpec, frame: pd.DataFrame, fmt: str, crs: str, out_dir: Path) -> Path:
    """Write one layer to ``out_dir/<layer><suffix>`` atomically and return the path."""
    driver, suffix = FORMATS[fmt]
    data = _frame(spec, frame, WEB_CRS if fmt in ("geojson", "kml") else crs)
    target = out_dir / f"{spec.name}{'.zip' if fmt == 'shp' else suffix}"
    opts: dict = {}
    if fmt == "geojson":
        opts = {"layer_options": {"RFC7946": "YES", "COORDINATE_PRECISION": "6"}}
    elif fmt == "csv" and spec.spatial:
        opts = {"layer_options": {"GEOMETRY": "AS_WKT"}}
    try:
        with atomic_path(target) as tmp:
            if fmt == "shp":
                shp_dir = tmp.with_suffix(".d")
                shp_dir.mkdir()
                try:
                    pyogrio.write_dataframe(data, shp_dir / f"{spec.name}.shp", driver=driver,
                                            layer_options={"ENCODING": "UTF-8"})
                    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                        for part in sorted(shp_dir.iterdir()):
                            zf.write(part, part.name)
                finally:
                    for part in shp_dir.iterdir():
                        part.unlink()
                    shp_dir.rmdir()
            else:
                pyogrio.write_dataframe(data, tmp, layer=spec.name, driver=driver, **opts)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ExportError(problems=[Problem(str(target), f"export failed: {exc}",
                                            fix="check the output directory is writable")]) from exc
    return target
