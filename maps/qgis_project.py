"""The QGIS project of a map composition, stored in the GeoPackage: the web map's groups, drawing order
and default visibility, every layer styled from the catalog, the grids by relative path with their ramps."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import rasterio

from geo.catalog import Catalog
from geo.crs import METRIC_CRS, WEB_CRS
from geo.gpkg.qgis_project import Project, ProjectGroup, ProjectLayer, layer_id
from geo.gpkg.qml import bilingual, layer_qml
from layers.model.grid_styles import grid_qml
from layers.model.model_spec import ModelSpec
from layers.model.overlay import GRIDS_DIR, grid_layers
from maps.composition import Composition
from maps.i18n import load_labels

QGIS_PROJECT = "national"  # the composition stored in the GeoPackage as a QGIS project of the same name
# QGIS draws groups in layer-tree order (top first): as on the web map, the grids lie just above the base
# geography and below the administrative layers, zones and deposits (maps/web/grids.py panes)
TREE_ORDER = ("deposits", "zones", "admin", "grids", "base")
_KIND = {"Point": "Point", "MultiPoint": "Point", "LineString": "Line", "MultiLineString": "Line",
         "Polygon": "Polygon", "MultiPolygon": "Polygon"}


def composition_project(comp: Composition, catalog: Catalog, frames: dict[str, pd.DataFrame], gpkg: Path,
                        out_dir: Path, model: ModelSpec | None = None) -> Project:
    """``comp`` as a QGIS project whose layers read ``gpkg`` and ``out_dir/grids/*.tif`` by relative path;
    ``model``: the model that made the grids (when not given, the one ``out_dir`` records)."""
    labels = load_labels()
    groups: dict[str, list[ProjectLayer]] = {g: [] for g in TREE_ORDER}
    for ml in comp.layers:  # drawn first = bottom; QGIS lists the top layer first
        spec = catalog[ml.layer]
        groups[ml.group].insert(0, ProjectLayer(
            id=layer_id(spec.name), name=bilingual(spec.title), source=f"./{gpkg.name}|layername={spec.name}", provider="ogr",
            crs=WEB_CRS, qml=layer_qml(catalog, spec), visible=ml.show, geometry=_KIND[spec.geometry]))
    if comp.grids:
        for gl in grid_layers(out_dir, spec=model):
            if gl.path.exists():
                with rasterio.open(gl.path) as src:
                    crs = f"EPSG:{src.crs.to_epsg()}"
                groups["grids"].append(ProjectLayer(
                    id=layer_id(gl.path.stem), name=bilingual(gl.title), source=f"./{GRIDS_DIR}/{gl.path.name}",
                    provider="gdal", crs=crs, qml=grid_qml(gl), visible=False))
    metric = [frames[ml.layer].to_crs(METRIC_CRS).total_bounds for ml in comp.layers]
    extent = (min(b[0] for b in metric), min(b[1] for b in metric), max(b[2] for b in metric),
              max(b[3] for b in metric))
    return Project(name=comp.name, title=bilingual(comp.title), crs=METRIC_CRS, extent=extent,
                   groups=tuple(ProjectGroup(bilingual(labels.groups[g]), tuple(groups[g]))
                                for g in TREE_ORDER if groups[g]))
