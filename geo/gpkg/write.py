"""Write catalog layers into one GeoPackage, atomically and reproducibly.

Besides the layers: field titles and coded-value domains (schema extension), the foreign keys as
related tables, a default QGIS style (QML + SLD) per spatial layer, GDAL and QGIS metadata. Every
timestamp is ``stamp``, so the same inputs give a byte-identical file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio
from pyproj import CRS

from geo.files.atomic import atomic_path
from geo.catalog import Catalog, LayerSpec
from geo.gpkg.metadata import add_metadata, fix_timestamps, qgis_metadata_xml
from geo.gpkg.relations import write_relations
from geo.gpkg.schema import write_schema
from geo.gpkg.styles import GEOMETRY_COLUMN, write_styles
from geo.gpkg.qgis_project import Project, store_project
from geo.gpkg.qml import bilingual
from geo.vector import declared_frame

GPKG_VERSION = "1.2"  # QGIS 3.22/GDAL 3.6 and older validators accept 1.2 (see pitfalls)


@dataclass(frozen=True)
class DatasetInfo:
    """What the whole GeoPackage is: shown as dataset metadata."""

    identifier: str
    title: str
    abstract: str
    licence: str
    version: str
    stamp: dt.datetime  # build date: fixed by the caller for reproducible output
    links: dict[str, list[tuple[str, str]]]  # layer name -> [(citation, url)] of its sources


@contextlib.contextmanager
def gdal_date(stamp: dt.datetime):
    """Make GDAL write ``stamp`` wherever it would write the current time."""
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _gdal_metadata(spec: LayerSpec, info: DatasetInfo) -> dict[str, str]:
    return {"TITLE": bilingual(spec.title), "ABSTRACT": bilingual(spec.description),
            "ATTRIBUTION": spec.attribution, "LICENCE": spec.licence,
            "SOURCES": " | ".join(text for text, _ in info.links.get(spec.name, [])),
            "BUILD_DATE": info.stamp.date().isoformat(), "VERSION": info.version}


def _layer_options(spec: LayerSpec) -> dict[str, str]:
    opts = {"DESCRIPTION": bilingual(spec.description), "IDENTIFIER": bilingual(spec.title)}
    if spec.spatial:
        opts |= {"SPATIAL_INDEX": "YES", "GEOMETRY_NAME": GEOMETRY_COLUMN}
    return opts


def write_gpkg(target: str | Path, catalog: Catalog, frames: dict[str, pd.DataFrame], info: DatasetInfo,
               projects: tuple[Project, ...] = ()) -> Path:
    """Write every catalog layer of ``frames`` to ``target``, and the QGIS ``projects`` (stored in
    ``qgis_projects``); the old file stays until all succeed."""
    specs = [spec for spec in catalog if spec.name in frames]
    with gdal_date(info.stamp), atomic_path(target) as tmp:
        for i, spec in enumerate(specs):
            pyogrio.write_dataframe(
                declared_frame(spec, frames[spec.name]), tmp, layer=spec.name, driver="GPKG", append=i > 0,
                geometry_type=spec.geometry if spec.spatial else None,
                dataset_options={"VERSION": GPKG_VERSION} if i == 0 else None,
                layer_options=_layer_options(spec), layer_metadata=_gdal_metadata(spec, info))
        write_relations(tmp, catalog, specs, frames)
        write_styles(tmp, catalog, specs, info.stamp)
        with contextlib.closing(sqlite3.connect(tmp)) as con, con:
            write_schema(con, catalog, specs)
            history = [f"Built {info.stamp.date().isoformat()} by {info.identifier} {info.version}"]
            add_metadata(con, "geopackage", None, qgis_metadata_xml(
                info.identifier, info.title, info.abstract, info.licence, info.identifier,
                [], history, ["geoscientificInformation"]), info.stamp)
            for spec in specs:
                wkt = CRS.from_user_input(frames[spec.name].crs).to_wkt() if spec.spatial else None
                add_metadata(con, "table", spec.name, qgis_metadata_xml(
                    f"{info.identifier}:{spec.name}", bilingual(spec.title), bilingual(spec.description),
                    spec.licence, spec.attribution, info.links.get(spec.name, []), history,
                    ["geoscientificInformation"], wkt), info.stamp)
            fix_timestamps(con, info.stamp)
            for project in projects:
                store_project(con, project, info.stamp)
    return Path(target)
