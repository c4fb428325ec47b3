"""Write catalog layers into one GeoPackage, atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.atomic import atomic_path
from geo.catalog import LayerSpec

GPKG_VERSION = "1.2"  # QGIS 3.22/GDAL 3.6 and older validators accept 1.2 (see pitfalls)


def _layer_options(spec: LayerSpec) -> dict[str, str]:
    opts = {"DESCRIPTION": f"{spec.description.vi} / {spec.description.en}",
            "IDENTIFIER": f"{spec.title.vi} / {spec.title.en}"}
    if spec.spatial:
        opts["SPATIAL_INDEX"] = "YES"
        opts["GEOMETRY_NAME"] = "geom"
    return opts


def write_gpkg(target: str | Path, layers: Iterable[tuple[LayerSpec, pd.DataFrame]]) -> Path:
    """Write each (spec, frame) as a layer of ``target``; the old file stays until all succeed."""
    with atomic_path(target) as tmp:
        first = True
        for spec, frame in layers:
            data = frame[[*spec.field_names, "geometry"]] if spec.spatial else frame[spec.field_names]
            if spec.spatial:
                data = gpd.GeoDataFrame(data, geometry="geometry", crs=frame.crs)
            pyogrio.write_dataframe(
                data, tmp, layer=spec.name, driver="GPKG", append=not first,
                geometry_type=spec.geometry if spec.spatial else None,
                dataset_options={"VERSION": GPKG_VERSION} if first else None,
                layer_options=_layer_options(spec),
            )
            first = False
    return Path(target)
