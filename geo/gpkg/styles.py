"""QGIS's ``layer_styles`` table: one default QML (plus SLD) style per spatial layer."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyogrio

from geo.catalog import Catalog, LayerSpec
from geo.gpkg.qml import layer_qml
from geo.gpkg.sld import layer_sld

STYLE_TABLE = "layer_styles"
GEOMETRY_COLUMN = "geom"  # what the writer names it; QGIS needs f_geometry_column to match


def write_styles(path: Path, catalog: Catalog, specs: list[LayerSpec], stamp: dt.datetime) -> None:
    """Create ``layer_styles`` through OGR (registered in gpkg_contents) with a default style per layer."""
    rows = [{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": spec.name,
        "f_geometry_column": GEOMETRY_COLUMN, "styleName": spec.name,
        "styleQML": layer_qml(catalog, spec), "styleSLD": layer_sld(catalog, spec),
        "useAsDefault": True, "description": f"{spec.title.vi} — {spec.title.en} (from the project catalog)",
        "owner": "", "ui": "", "update_time": stamp.replace(tzinfo=None),
    } for spec in specs if spec.spatial]
    if not rows:  # attribute tables only: no style to store
        return
    frame = pd.DataFrame(rows)
    frame["useAsDefault"] = frame["useAsDefault"].astype(bool)
    frame["update_time"] = pd.to_datetime(frame["update_time"])
    pyogrio.write_dataframe(frame, path, layer=STYLE_TABLE, driver="GPKG", append=True,
                            layer_options={"FID": "id"})
