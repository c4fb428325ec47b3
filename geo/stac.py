"""A STAC catalog (SpatioTemporal Asset Catalog 1.1, written with pystac) of a folder of outputs.

One collection per product group, one item per product file (sidecar files such as a QGIS style are
further assets of the same item); every asset carries the ``file`` extension (size, SHA2-256 checksum as
a multihash); rasters also the ``proj`` (CRS code, shape, transform, bbox) and ``raster`` (nodata, data
type, unit, statistics of the full-resolution band) extensions; cited works go into the ``scientific``
extension's ``sci:publications``. Every link and asset href is relative, so the folder can be moved or
served as it is. The catalog is written into a scratch folder beside its target and swapped in whole.
Knows nothing of the product: callers describe their files with :class:`ItemSpec` and :class:`Group`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pystac
import rasterio
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension, Statistics
from pystac.extensions.scientific import ScientificExtension
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds

from geo.files.atomic import output_errors, replace_dir, temp_dir
from geo.crs import WEB_CRS

CATALOG_DIR = "stac"
MULTIHASH_SHA2_256 = "1220"  # multihash prefix: code 0x12 (sha2-256), 0x20 (32 bytes)
MEDIA_TYPES = {  # by suffix; pystac names the common ones
    ".tif": pystac.MediaType.COG, ".gpkg": pystac.MediaType.GEOPACKAGE, ".html": pystac.MediaType.HTML,
    ".png": pystac.MediaType.PNG, ".pdf": pystac.MediaType.PDF, ".json": pystac.MediaType.JSON,
    ".qml": "application/xml", ".sld": "application/vnd.ogc.sld+xml", ".toml": "application/toml",
}


@dataclass(frozen=True)
class Citation:
    """A cited work: the full reference as text, and its DOI when it has one."""

    text: str
    doi: str | None = None


@dataclass(frozen=True)
class AssetSpec:
    path: Path
    title: str
    roles: tuple[str, ...] = ("data",)
    unit: str | None = None  # rasters: the unit of the band's values
    description: str | None = None


@dataclass(frozen=True)
class ItemSpec:
    """One product: its id, words, licence (an SPDX identifier, else ``other``: a product under several
    licences names their SPDX identifiers in ``licence_ids``, each linked), cited sources, and its files
    (the first one is the product itself)."""

    id: str
    title: str
    description: str
    assets: tuple[AssetSpec, ...]
    licence: str
    citations: tuple[Citation, ...] = ()
    bbox: tuple[float, float, float, float] | None = None  # WGS 84; rasters: read from the file
    licence_ids: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A product group: one STAC collection."""

    id: str
    title: str
    description: str
    licence: str
    items: tuple[ItemSpec, ...]
    keywords: tuple[str, ...] = ()
    providers: tuple[pystac.Provider, ...] = field(default_factory=tuple)
    licence_ids: tuple[str, ...] = ()


def checksum(path: str | os.PathLike) -> str:
    """The file's SHA2-256 as a multihash in hex (the ``file:checksum`` form)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return MULTIHASH_SHA2_256 + h.hexdigest()


def _file_fields(asset: pystac.Asset, path: Path) -> None:
    ext = FileExtension.ext(asset, add_if_missing=True)
    ext.size = path.stat().st_size
    ext.checksum = checksum(path)


def _raster_fields(asset: pystac.Asset, path: Path, unit: str | None) -> tuple[float, float, float, float]:
    """Write the proj and raster fields of ``asset`` from the file; return its WGS 84 bbox."""
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path) as src:  # no .aux.xml left beside it
        proj = ProjectionExtension.ext(asset, add_if_missing=True)
        epsg = src.crs.to_epsg() if src.crs else None
        proj.code = f"EPSG:{epsg}" if epsg else None
        if not epsg and src.crs:
            proj.wkt2 = src.crs.to_wkt()
        proj.shape = [src.height, src.width]
        proj.transform = list(src.transform)[:6]
        proj.bbox = list(src.bounds)
        bands = []
        for i in src.indexes:
            stats = None
            try:
                s = src.stats(indexes=[i], approx=False)[0]
                valid = float(src.tags(i).get("STATISTICS_VALID_PERCENT", "nan"))
                stats = (Statistics.create(valid_percent=0.0) if valid == 0 else  # GDAL then says min = max = 0
                         Statistics.create(minimum=s.min, maximum=s.max, mean=s.mean, stddev=s.std,
                                           valid_percent=None if math.isnan(valid) else valid))
            except RasterioError:  # no valid cell at all
                stats = Statistics.create(valid_percent=0.0)
            nodata = src.nodatavals[i - 1]
            if nodata is not None and math.isnan(nodata):
                nodata = "nan"
            bands.append(RasterBand.create(
                nodata=nodata, data_type=DataType(src.dtypes[i - 1]), unit=unit or src.units[i - 1] or None,
                statistics=stats, spatial_resolution=float(abs(src.transform.a)) if src.crs and src.crs.is_projected else None))
        RasterExtension.ext(asset, add_if_missing=True).bands = bands
        return transform_bounds(src.crs, WEB_CRS, *src.bounds, densify_pts=21)


def _footprint(bbox) -> dict:
    w, s, e, n = bbox
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _union(boxes):
    boxes = [b for b in boxes if b]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _licence_links(licence: str, ids: tuple[str, ...]) -> list[pystac.Link]:
    """Links to the SPDX pages of the licence, or of each of ``ids`` when the licence is ``other``."""
    return [pystac.Link("license", f"https://spdx.org/licenses/{i}.html", "text/html", f"{i} licence text")
            for i in (ids if licence == "other" else (licence,))]


def _item(spec: ItemSpec, when: dt.datetime, item_dir: Path) -> pystac.Item:
    """The item of ``spec``; asset hrefs relative to ``item_dir``, where its JSON will be."""
    props = {"title": spec.title, "description": spec.description, "license": spec.licence}
    if spec.keywords:
        props["keywords"] = list(spec.keywords)
    item = pystac.Item(spec.id, None, None, when, props)
    boxes = []
    for k, a in enumerate(spec.assets):
        asset = pystac.Asset(href=Path(os.path.relpath(a.path.resolve(), item_dir.resolve())).as_posix(),
                             title=a.title, description=a.description,
                             media_type=MEDIA_TYPES.get(a.path.suffix.lower()), roles=list(a.roles))
        item.add_asset("data" if k == 0 else a.path.name.replace(".", "_"), asset)
        _file_fields(asset, a.path)
        if a.path.suffix.lower() in (".tif", ".tiff"):
            boxes.append(_raster_fields(asset, a.path, a.unit))
    bbox = spec.bbox or _union(boxes)
    if bbox:
        item.bbox, item.geometry = [float(v) for v in bbox], _footprint([float(v) for v in bbox])
    if spec.citations:
        # written as plain dicts: pystac's Publication writes "doi": null, which the schema refuses, and adds a
        # "cite-as" link per DOI, a relation that names how to cite this item, not its sources
        ScientificExtension.add_to(item)
        item.properties["sci:publications"] = [{"citation": c.text, **({"doi": c.doi} if c.doi else {})}
                                               for c in spec.citations]
    for link in _licence_links(spec.licence, spec.licence_ids):
        item.add_link(link)
    return item


def write_catalog(root: str | os.PathLike, catalog_id: str, title: str, description: str, groups,
                  when: dt.datetime) -> Path:
    """Write ``ROOT/stac/catalog.json`` describing the files of ``groups`` (all under ``root``); the
    collections in ``ROOT/stac/<group>/collection.json``, the items in
    ``ROOT/stac/<group>/<item>/<item>.json``. Returns the catalog's path."""
    root = Path(root)
    target = root / CATALOG_DIR
    cat = pystac.Catalog(catalog_id, description, title=title)
    for g in groups:
        if not g.items:
            continue
        items = [_item(s, when, target / g.id / s.id) for s in g.items]
        bbox = _union([i.bbox for i in items]) or (-180.0, -90.0, 180.0, 90.0)
        col = pystac.Collection(g.id, g.description, pystac.Extent(
            pystac.SpatialExtent([list(bbox)]), pystac.TemporalExtent([[when, when]])),
            title=g.title, license=g.licence, keywords=list(g.keywords) or None, providers=list(g.providers) or None)
        for link in _licence_links(g.licence, g.licence_ids):
            col.add_link(link)
        for it in items:
            col.add_item(it)
        cat.add_child(col)
    with temp_dir(target) as tmp:
        scratch = Path(tmp) / CATALOG_DIR
        with output_errors(target):
            cat.normalize_hrefs(str(scratch))
            cat.save(pystac.CatalogType.SELF_CONTAINED)  # links relative; asset hrefs as given
        replace_dir(scratch, target)
    return target / "catalog.json"
