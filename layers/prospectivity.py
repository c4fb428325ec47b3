"""Run the declared fuzzy model of each deposit type over the national grid, tile by tile.

One pass over the grid serves every type: the land mask, distance to the shoreline, province and
zone rasters are made once per tile, then each type's memberships are combined, written, counted for
the score histogram and the zonal statistics, and each known site is rescored with itself left out
(of the distance evidence, and of the zones drawn from the sites: see :func:`loo_zone_hits`). Tiles
run on a thread pool; their statistics are merged in grid order.
"""
from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from scipy import ndimage

from geo.cog import CogWriter, gdal_env, tile_size
from geo.crs import METRIC_CRS
from geo.errors import Problem, SourceDataError
from geo.fuzzy import combine, linear_decay
from geo.grid import Grid, Shapes, burn, point_influence
from geo.paths import safe_user_path
from geo.zonal import ScoreStats
from layers.derived.zones import zone_geometry, zone_inputs
from layers.model_spec import Evidence, ModelSpec, TypeModel, load_spec

TILE = 1024
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}
LOO_CLIP_M = 50_000  # a zone re-derived for the validation is drawn only this far around the site
# what the model reads of a prospect zone; method and parameters (when present) let the validation
# derive the zone again without the site being scored
ZONE_COLUMNS = ("id", "name_en", "deposit_type", "confidence", "method", "parameters", "geometry")


@dataclass
class Inputs:
    """The vector inputs of the model, in the metric CRS, indexed for burning tile by tile."""

    areas: Shapes  # Vietnam: 1..n for the 2025 provinces, n + 1 for the archipelagos (0: sea, abroad)
    land: Shapes  # GSHHG land (all countries): the sea is what is not land
    provinces: list[tuple[str, str]]  # (code, name), in label order
    zones: pd.DataFrame  # ZONE_COLUMNS (metric)
    zone_shapes: list[Shapes]
    sites: dict[str, pd.DataFrame]  # per type: id, x, y, uncertainty_m


def prepare(frames: dict[str, pd.DataFrame]) -> Inputs:
    """Project and index the layers the model reads."""
    m = {n: frames[n].to_crs(METRIC_CRS) for n in ("provinces_2025", "archipelagos", "land", "prospect_zones")}
    prov = m["provinces_2025"].sort_values("code_2025")
    deps = frames["deposits"].to_crs(METRIC_CRS)
    sites = {t: pd.DataFrame({"id": g["id"].values, "x": g.geometry.x.values, "y": g.geometry.y.values,
                              "uncertainty_m": g["location_uncertainty_m"].astype(float).fillna(0).values})
             for t, g in deps.groupby("deposit_type")}
    parts, index = shapely.get_parts(prov.geometry.values, return_index=True)
    isles = shapely.get_parts(m["archipelagos"].geometry.values)
    zones = m["prospect_zones"][[c for c in ZONE_COLUMNS if c in m["prospect_zones"]]].reset_index(drop=True)
    return Inputs(
        # archipelagos first: a province drawn over one keeps the cell (later shapes win)
        areas=Shapes(np.concatenate([isles, parts]), np.concatenate([np.full(len(isles), len(prov) + 1), index + 1])),
        land=Shapes(m["land"].geometry.values),
        provinces=list(zip(prov["code_2025"], prov["name_2025"])),
        zones=zones, zone_shapes=[Shapes([g]) for g in zones.geometry],
        sites=sites)


def national_grid(inputs: Inputs, res: float) -> Grid:
    return Grid.covering(tuple(shapely.total_bounds(inputs.areas.geoms)), res, METRIC_CRS)


@dataclass
class TypeRun:
    """What one type's pass produced."""

    model: TypeModel
    stats: ScoreStats
    site_ids: list[str]
    loo_scores: dict[str, float] = field(default_factory=dict)  # site id -> score without itself
    paths: dict[str, Path] = field(default_factory=dict)


@dataclass
class GridRun:
    spec: ModelSpec
    grid: Grid
    units: list[tuple[str, str, str]]  # (kind, id, name) in zone-statistics order
    types: dict[str, TypeRun]


class _Tile:
    """Shared rasters of one tile, computed lazily once for all types."""

    def __init__(self, inputs: Inputs, grid: Grid, win, national: np.ndarray):
        self.inputs, self.grid, self.win, self.national = inputs, grid, win, national
        self._shore: dict[float, np.ndarray] = {}
        self._zone: dict[int, np.ndarray] = {}

    def shore_distance(self, reach_m: float) -> np.ndarray:
        """Distance (m) from each Vietnamese cell to the nearest sea cell, exact up to ``reach_m``
        (other cells: inf). Only the box around the tile's Vietnamese cells is transformed."""
        if reach_m not in self._shore:
            rows, cols = np.flatnonzero(self.national.any(axis=1)), np.flatnonzero(self.national.any(axis=0))
            sub = Window(self.win.col_off + cols[0], self.win.row_off + rows[0],
                         cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
            pad = int(math.ceil(reach_m / self.grid.res)) + 1
            land = burn(self.grid, self.grid.padded(sub, pad), self.inputs.land)
            out = np.full(self.national.shape, np.inf, dtype=np.float32)
            if not land.all():
                d = np.zeros(land.shape) if not land.any() else ndimage.distance_transform_edt(land)
                out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = d[pad:-pad, pad:-pad] * self.grid.res
            self._shore[reach_m] = out
        return self._shore[reach_m]

    def zone(self, i: int) -> np.ndarray:
        if i not in self._zone:
            self._zone[i] = burn(self.grid, self.win, self.inputs.zone_shapes[i]).astype(bool)
        return self._zone[i]


def _site_membership(ev: Evidence, sites: pd.DataFrame):
    near = sites["uncertainty_m"].to_numpy(np.float32)
    far = near + np.float32(ev.params["decay_m"])

    def mu(d, k):
        return linear_decay(d, near[k], far[k], ev.params["high"], ev.params["low"])
    return near, far, mu


def _type_zones(inputs: Inputs, deposit_type: str) -> list[int]:
    """Indices of the type's prospect zones, lowest confidence first (so the highest one wins)."""
    zones = inputs.zones
    return sorted(np.flatnonzero(zones["deposit_type"] == deposit_type),
                  key=lambda i: CONFIDENCE_ORDER.get(zones["confidence"].iloc[i], 0))


def _memberships(model: TypeModel, tile: _Tile, inputs: Inputs, user) -> list[np.ndarray | None]:
    """One membership raster per evidence of the model (None: no data anywhere), then the user raster."""
    shape = tile.national.shape
    out = []
    for ev in model.evidence:
        p = ev.params
        if ev.kind == "site_distance":
            sites = inputs.sites.get(model.name, pd.DataFrame(columns=["x", "y", "uncertainty_m"]))
            _, far, mu = _site_membership(ev, sites)
            out.append(point_influence(tile.grid, tile.win, sites[["x", "y"]].to_numpy(), far, mu, p["low"]))
        elif ev.kind == "zone_membership":
            a = np.full(shape, p["outside"], dtype=np.float32)
            for i in _type_zones(inputs, model.name):
                a[tile.zone(i)] = np.float32(p["confidence"][inputs.zones["confidence"].iloc[i]])
            out.append(a)
        elif ev.kind == "shoreline_distance":
            out.append(linear_decay(tile.shore_distance(p["far_m"]), p["near_m"], p["far_m"], p["high"], p["low"]))
        elif ev.kind == "unavailable":
            out.append(None)
    if user is not None:
        out.append(user)
    return out


def _score(model: TypeModel, mems: list[np.ndarray | None], cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, share of evidence missing) at the ``cells`` mask, as 1-D arrays: layers with no data
    anywhere are left out of the combination (as NaN cells are) and counted as missing."""
    present = [m[cells] for m in mems if m is not None]
    missing = np.zeros(present[0].shape if present else int(cells.sum()), dtype=np.float32)
    missing += np.float32(sum(m is None for m in mems))
    for m in present:
        missing += np.isnan(m)
    missing /= np.float32(len(mems))
    if not present:
        return np.full(missing.shape, np.nan, dtype=np.float32), missing
    return combine(model.operator, present, model.gamma), missing


def _read_user(vrt, win) -> np.ndarray:
    a = vrt.read(1, window=win, masked=True).astype(np.float32)
    return np.clip(a.filled(np.nan), 0, 1)


def _user_vrt(path: Path, grid: Grid):
    path = safe_user_path(path, "--evidence")
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise SourceDataError(problems=[Problem(str(path), f"cannot open the evidence raster: {exc}",
                                                field="--evidence", fix="give a GeoTIFF or other GDAL raster")]) from exc
    if src.crs is None:
        src.close()
        raise SourceDataError(problems=[Problem(str(path), "the evidence raster has no CRS", field="crs",
                                                fix="assign its CRS (e.g. gdal_edit.py -a_srs EPSG:4326)")])
    return src, WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                          resampling=Resampling.bilinear, dtype="float32", src_nodata=src.nodata,
                          nodata=np.nan)


def loo_zone_hits(frames: dict[str, pd.DataFrame], inputs: Inputs, grid: Grid, models: dict[str, TypeModel],
                  pool) -> dict[str, set[int]]:
    """Per site of the ``models``' types: the zones of its type that contain its cell centre once every zone
    derived from the sites (``method`` and ``parameters`` columns, layers/derived/zones.py) is
    derived again without that site. Zones with no such rule are used as they are."""
    derived = {"method", "parameters"} <= set(inputs.zones.columns)
    deposits, coast, land = zone_inputs(frames) if derived else (None, None, None)

    def hits(t: str, sid: str, x: float, y: float) -> set[int]:
        cx, cy = grid.cell_centre(x, y)
        centre = shapely.Point(cx, cy)
        out = set()
        for i in _type_zones(inputs, t):
            z = inputs.zones.iloc[i]
            geom = z.geometry
            if derived and isinstance(z["method"], str):
                rule = {**json.loads(z["parameters"]), "method": z["method"]}
                if t in rule["deposit_types"]:
                    r = max(LOO_CLIP_M, 2 * rule.get("width_m", 0))  # exact at the centre: > the strip width
                    geom = zone_geometry(rule, deposits[deposits["id"] != sid], coast, land, (cx - r, cy - r, cx + r, cy + r))
            if geom.intersects(centre):
                out.add(int(i))
        return out
    jobs = [(t, sid, x, y) for t, model in models.items()
            if any(e.kind == "zone_membership" for e in model.evidence) and t in inputs.sites
            for sid, x, y in zip(inputs.sites[t]["id"], inputs.sites[t]["x"], inputs.sites[t]["y"])]
    return dict(zip((j[1] for j in jobs), pool.map(lambda j: hits(*j), jobs)))


def _loo(model: TypeModel, tile: _Tile, inputs: Inputs, mems: list[np.ndarray | None],
         zone_hits: dict[str, set[int]]) -> dict[str, float]:
    """Rescore each site of the type inside this tile with itself left out: of the distance evidence
    (the other sites only) and of the zones derived from the sites (``zone_hits``)."""
    sites = inputs.sites.get(model.name)
    out: dict[str, float] = {}
    if sites is None:
        return out
    grid, win = tile.grid, tile.win
    for k, (sid, x, y) in enumerate(zip(sites["id"], sites["x"], sites["y"])):
        r, c = grid.cell_of(x, y)
        r, c = r - int(win.row_off), c - int(win.col_off)
        if not (0 <= r < tile.national.shape[0] and 0 <= c < tile.national.shape[1]):
            continue
        if not tile.national[r, c]:
            out[sid] = float("nan")  # the site's cell is at sea or abroad: not scored
            continue
        cx, cy = grid.cell_centre(x, y)
        vals: list[np.ndarray | None] = []
        for ev, mem in zip(model.evidence, mems):
            p = ev.params
            if ev.kind == "site_distance":
                _, _, mu = _site_membership(ev, sites)
                others = [mu(np.float32(math.hypot(cx - sites["x"].iloc[j], cy - sites["y"].iloc[j])), j)
                          for j in range(len(sites)) if j != k]
                vals.append(np.array([max([p["low"], *others])], np.float32))
            elif ev.kind == "zone_membership" and sid in zone_hits:
                v = p["outside"]
                for i in _type_zones(inputs, model.name):
                    if i in zone_hits[sid]:
                        v = p["confidence"][inputs.zones["confidence"].iloc[i]]
                vals.append(np.array([v], np.float32))
            else:
                vals.append(None if mem is None else mem[r:r + 1, c])
        vals += [m[r:r + 1, c] for m in mems[len(model.evidence):]]
        out[sid] = float(_score(model, [None if v is None else v.reshape(1, 1) for v in vals],
                                np.ones((1, 1), bool))[0][0])
    return out


TileResult = dict[str, tuple[ScoreStats, dict[str, float]]]  # type -> (statistics, leave-one-out scores)


def _run_tile(win, grid: Grid, inputs: Inputs, runs: dict[str, TypeRun], n_units: int, user_read,
              zone_hits, writers) -> TileResult | None:
    """Score one tile in a worker thread: write its rasters (the writers are thread-safe) and return
    its statistics, without touching other shared state."""
    areas = burn(grid, win, inputs.areas, dtype="int16")
    national = areas > 0
    if not national.any():
        return None
    tile = _Tile(inputs, grid, win, national)
    n_prov = len(inputs.provinces)
    labels = areas[national].astype(np.int32) - 1  # province index; the archipelagos' n_prov -> none
    labels[labels == n_prov] = -1
    zones = [tile.zone(i)[national] for i in range(len(inputs.zones))]
    user = user_read(win) if user_read is not None else None
    out = {}
    for t, run in runs.items():
        mems = _memberships(run.model, tile, inputs, user)
        score1, missing1 = _score(run.model, mems, national)
        stats = ScoreStats(n_units)
        ok = ~np.isnan(score1)
        scored = score1[ok]
        stats.add(scored)
        stats.add_labelled(labels[ok], scored)
        for i, inside in enumerate(zones):
            stats.add_zone(n_prov + i, score1[ok & inside])
        if (t, "prospectivity") in writers:
            for kind, values in (("prospectivity", score1), ("uncertainty", missing1)):
                full = np.full(national.shape, np.nan, dtype=np.float32)
                full[national] = values
                writers[(t, kind)].write(win, full)
        out[t] = (stats, _loo(run.model, tile, inputs, mems, zone_hits))
    return out


def default_jobs() -> int:
    """Worker threads: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_grids(frames: dict[str, pd.DataFrame], resolution: float | None = None, types=None,
              out_dir: Path | None = None, evidence: Path | None = None, spec: ModelSpec | None = None,
              jobs: int | None = None) -> GridRun:
    """Score every requested type; write ``OUT/prospectivity_<type>.tif`` and ``uncertainty_<type>.tif``
    when ``out_dir`` is given (otherwise only the statistics are kept). Tiles run on ``jobs`` threads
    (numpy, scipy, GDAL and GEOS release the GIL); they are written in any order (GDAL lays the COG
    out) and counted in grid order, so the outputs do not depend on ``jobs``."""
    spec = spec or load_spec()
    types = list(types or spec.types)
    unknown = [t for t in types if t not in spec.types]
    if unknown:
        raise SourceDataError(problems=[Problem(str(spec.path), "no model for this deposit type", field="--types",
                                                value=",".join(unknown), fix=f"use some of {', '.join(spec.types)}")])
    inputs = prepare(frames)
    grid = national_grid(inputs, resolution or spec.resolution_m)
    units = ([("province", c, n) for c, n in inputs.provinces]
             + [("prospect_zone", z, n) for z, n in zip(inputs.zones["id"], inputs.zones["name_en"])])
    runs = {t: TypeRun(spec.types[t], ScoreStats(len(units)), list(inputs.sites.get(t, pd.DataFrame({"id": []}))["id"]))
            for t in types}
    user_src, user_vrt = _user_vrt(evidence, grid) if evidence else (None, None)
    writers: dict[tuple[str, str], CogWriter] = {}
    size = tile_size(grid, TILE)
    jobs = jobs or default_jobs()
    try:
        if out_dir is not None:
            for t in types:
                tags = {"model": spec.metadata(t), "deposit_type": t, "resolution_m": str(grid.res),
                        "evidence": ",".join([e.name for e in spec.types[t].evidence] + (["user_raster"] if evidence else []))}
                for kind, desc, unit in (
                        ("prospectivity", f"{t} prospectivity (fuzzy {spec.types[t].operator}, 0-1)", spec.style.get("score_unit")),
                        ("uncertainty", f"{t} uncertainty (share of evidence missing, 0-1)", spec.style.get("uncertainty_unit"))):
                    path = out_dir / f"{kind}_{t}.tif"
                    writers[(t, kind)] = CogWriter(path, grid, desc, tags, size, unit).__enter__()
                    runs[t].paths[kind] = path
        with ThreadPoolExecutor(jobs) as pool, gdal_env(), warnings.catch_warnings():
            # rasterio silences this warning of its in-memory rasterize datasets with catch_warnings,
            # which is not thread-safe: from worker threads it leaks. It never applies to our grids.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            zone_hits = loo_zone_hits(frames, inputs, grid, {t: r.model for t, r in runs.items()}, pool)
            _tiles(pool, grid, inputs, runs, writers, user_vrt, zone_hits, len(units), size, jobs)
            # publish the COGs side by side (GDAL's copy releases the GIL)
            list(pool.map(lambda w: w.__exit__(None, None, None), writers.values()))
    except BaseException as exc:
        for w in writers.values():
            w.__exit__(type(exc), exc, None)
        raise
    finally:
        if user_vrt is not None:
            user_vrt.close()
            user_src.close()
    return GridRun(spec, grid, units, runs)


def _tiles(pool, grid: Grid, inputs: Inputs, runs: dict[str, TypeRun], writers, user_vrt, zone_hits,
           n_units: int, size: int, jobs: int) -> None:
    """Submit tiles to ``pool`` a few ahead of the one being written (bounded memory), in grid order."""
    lock = threading.Lock()

    def user_read(win):
        with lock:  # a GDAL dataset is not safe to share between threads
            return _read_user(user_vrt, win)
    pending: deque = deque()

    def consume(result: TileResult | None) -> None:
        for t, (stats, loo) in (result or {}).items():
            runs[t].stats.merge(stats)
            runs[t].loo_scores.update(loo)
    try:
        for win in grid.tiles(size):
            pending.append(pool.submit(_run_tile, win, grid, inputs, runs, n_units,
                                       user_read if user_vrt is not None else None, zone_hits, writers))
            if len(pending) > jobs:
                consume(pending.popleft().result())
        while pending:
            consume(pending.popleft().result())
    finally:
        for f in pending:
            f.cancel()
