"""A QGIS project (.qgs in a .qgz) stored inside a GeoPackage, the way QGIS itself stores one.

QGIS (>= 3.8; QField too) keeps projects in the table ``qgis_projects(name TEXT PRIMARY KEY, metadata
BLOB, content BLOB)``: ``content`` is the .qgz archive (a zip holding ``NAME.qgs``) written as hex text,
``metadata`` a small JSON object (checked against what QGIS 3.22 writes). "Open project from
GeoPackage" lists it; the URI is ``geopackage:/path/file.gpkg?projectName=NAME``. Data sources are
relative (``./file.gpkg|layername=x``, ``./grids/x.tif``): QGIS resolves them against the GeoPackage's
folder, so the package and its ``grids/`` folder can move together.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import xml.etree.ElementTree as ET
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pyproj import CRS

from geo.gpkg.qml import QGIS_VERSION

PROJECT_TABLE = "qgis_projects"
_ID_NAMESPACE = uuid.UUID("6f1c2a52-7c1e-4f0b-9a57-2b7d1e0c9e14")  # this project's layer ids (any fixed UUID)
_DDL = f"CREATE TABLE IF NOT EXISTS {PROJECT_TABLE}(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)"


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project: where its data is and how it is drawn (a QML document)."""

    id: str
    name: str
    source: str  # relative to the GeoPackage's folder
    provider: str  # "ogr" or "gdal"
    crs: str  # e.g. "EPSG:4326"
    qml: str
    visible: bool = True
    geometry: str | None = None  # vector layers: "Point", "Line" or "Polygon"


@dataclass(frozen=True)
class ProjectGroup:
    name: str
    layers: tuple[ProjectLayer, ...]  # top (drawn last) first, as in QGIS's layer panel
    visible: bool = True
    expanded: bool = True


@dataclass(frozen=True)
class Project:
    name: str
    title: str
    crs: str
    extent: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in the project CRS
    groups: tuple[ProjectGroup, ...] = field(default=())  # top first


def layer_id(name: str) -> str:
    """A QGIS layer id for ``name``, in QGIS's own form (``name_uuid``) but stable from build to build.
    (QGIS 3.22 replaced ids of 9 characters or fewer with random ones on reading, measured.)"""
    return f"{name}_{str(uuid.uuid5(_ID_NAMESPACE, name)).replace('-', '_')}"


def _srs(parent: ET.Element, authid: str) -> None:
    crs = CRS.from_user_input(authid)
    s = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(s, "wkt").text = crs.to_wkt()
    with warnings.catch_warnings():  # the PROJ string loses detail; QGIS reads the WKT (nativeFormat)
        warnings.simplefilter("ignore", UserWarning)
        ET.SubElement(s, "proj4").text = crs.to_proj4()
    ET.SubElement(s, "srid").text = str(crs.to_epsg() or "")
    ET.SubElement(s, "authid").text = authid
    ET.SubElement(s, "description").text = crs.name
    ET.SubElement(s, "geographicflag").text = "true" if crs.is_geographic else "false"


def _checked(visible: bool) -> str:
    return "Qt::Checked" if visible else "Qt::Unchecked"


def _maplayer(parent: ET.Element, layer: ProjectLayer) -> None:
    style = ET.fromstring(layer.qml.split("\n", 1)[1] if layer.qml.startswith("<!DOCTYPE") else layer.qml)
    kind = "raster" if layer.provider == "gdal" else "vector"
    attrs = {"type": kind, "hasScaleBasedVisibilityFlag": "0", "styleCategories": "AllStyleCategories",
             "minScale": "1e+08", "maxScale": "0", "refreshOnNotifyEnabled": "0", "autoRefreshEnabled": "0",
             "autoRefreshTime": "0"}
    if kind == "vector":
        attrs |= {"geometry": layer.geometry or "Point", "wkbType": layer.geometry or "Point", "readOnly": "0",
                  "labelsEnabled": style.get("labelsEnabled", "0"), "simplifyDrawingHints": "0",
                  "simplifyMaxScale": "1", "simplifyDrawingTol": "1", "simplifyLocal": "1", "simplifyAlgorithm": "0"}
    ml = ET.SubElement(parent, "maplayer", attrs)
    ET.SubElement(ml, "id").text = layer.id
    ET.SubElement(ml, "datasource").text = layer.source
    ET.SubElement(ml, "layername").text = layer.name
    _srs(ET.SubElement(ml, "srs"), layer.crs)
    ET.SubElement(ml, "provider", encoding="UTF-8" if kind == "vector" else "").text = layer.provider
    for child in style:
        if child.tag != "layerMetadata":
            ml.append(child)
    md = style.find("layerMetadata")
    if md is not None:
        ml.append(md)


def project_qgs(project: Project) -> str:
    """The .qgs document: layer tree (groups, order, visibility), layers with their styles, relative paths."""
    root = ET.Element("qgis", projectname=project.title, version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = project.title
    _srs(ET.SubElement(root, "projectCrs"), project.crs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for g in project.groups:
        ge = ET.SubElement(tree, "layer-tree-group", name=g.name, checked=_checked(g.visible),
                           expanded="1" if g.expanded else "0")
        ET.SubElement(ge, "customproperties")
        for lyr in g.layers:
            ET.SubElement(ge, "layer-tree-layer", id=lyr.id, name=lyr.name, source=lyr.source,
                          providerKey=lyr.provider, checked=_checked(lyr.visible), expanded="0")
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "degrees" if CRS.from_user_input(project.crs).is_geographic else "meters"
    ext = ET.SubElement(canvas, "extent")
    for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), project.extent):
        ET.SubElement(ext, tag).text = repr(float(v))
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), project.crs)
    layers = ET.SubElement(root, "projectlayers")
    for g in project.groups:
        for lyr in g.layers:
            _maplayer(layers, lyr)
    props = ET.SubElement(root, "properties")
    srs = ET.SubElement(props, "SpatialRefSys")  # QGIS 3.22 reads <projectCrs> only when this is set (measured)
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{body}\n"


def qgz_bytes(name: str, qgs: str, stamp: dt.datetime) -> bytes:
    """The .qgz archive (a zip with ``NAME.qgs``), dated ``stamp`` so the same project gives the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(f"{name}.qgs", date_time=stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, qgs.encode("utf-8"))
    return buf.getvalue()


def store_project(con: sqlite3.Connection, project: Project, stamp: dt.datetime) -> None:
    """Insert (or replace) ``project`` in the GeoPackage's ``qgis_projects`` table, as QGIS writes it."""
    con.execute(_DDL)
    meta = json.dumps({"last_modified_time": stamp.strftime("%Y-%m-%dT%H:%M:%S"),
                       "last_modified_user": "vietnam-ree-map"})
    content = qgz_bytes(project.name, project_qgs(project), stamp).hex()
    con.execute(f"INSERT OR REPLACE INTO {PROJECT_TABLE} (name, metadata, content) VALUES (?, ?, ?)",
                (project.name, meta, content))


def read_project_qgs(path: str | Path, name: str) -> str:
    """The .qgs text of project ``name`` stored in the GeoPackage ``path`` (for checks and tests)."""
    with sqlite3.connect(path) as con:
        (content,) = con.execute(f"SELECT content FROM {PROJECT_TABLE} WHERE name = ?", (name,)).fetchone()
    with zipfile.ZipFile(io.BytesIO(bytes.fromhex(content))) as zf:
        return zf.read(zf.namelist()[0]).decode("utf-8")
