"""Run the declared fuzzy model of each deposit type over the national grid, tile by tile.

One pass over the grid serves every type: the land mask, distance to the shoreline, province and
zone rasters are made once per tile, then each type's memberships are combined, written, counted for
the score histogram and the zonal statistics, and each known site is rescored with itself left out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.vrt import WarpedVRT
from rasterio.enums import Resampling
from scipy import ndimage

from geo.cog import CogWriter
from geo.crs import METRIC_CRS
from geo.errors import Problem, SourceDataError
from geo.fuzzy import combine, linear_decay
from geo.grid import Grid, burn, point_influence
from geo.paths import safe_user_path
from geo.zonal import ScoreStats
from layers.model_spec import Evidence, ModelSpec, TypeModel, load_spec

TILE = 1024
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass
class Inputs:
    """The vector inputs of the model, in the metric CRS, split into parts for fast clipping."""

    national: np.ndarray  # polygon parts of Vietnam (2025 provinces + archipelagos)
    land: np.ndarray  # GSHHG land parts (all countries): the sea is what is not land
    provinces: list[tuple[str, str, np.ndarray]]  # (code, name, parts)
    zones: pd.DataFrame  # id, name, deposit_type, confidence, geometry (metric)
    sites: dict[str, pd.DataFrame]  # per type: id, x, y, uncertainty_m


def _parts(geoms) -> np.ndarray:
    return shapely.get_parts(np.asarray(geoms, dtype=object))


def prepare(frames: dict[str, pd.DataFrame]) -> Inputs:
    """Project and split the layers the model reads."""
    m = {n: frames[n].to_crs(METRIC_CRS) for n in ("provinces_2025", "archipelagos", "land", "prospect_zones")}
    prov = m["provinces_2025"].sort_values("code_2025")
    deps = frames["deposits"].to_crs(METRIC_CRS)
    sites = {t: pd.DataFrame({"id": g["id"].values, "x": g.geometry.x.values, "y": g.geometry.y.values,
                              "uncertainty_m": g["location_uncertainty_m"].astype(float).fillna(0).values})
             for t, g in deps.groupby("deposit_type")}
    return Inputs(
        national=_parts(np.concatenate([prov.geometry.values, m["archipelagos"].geometry.values])),
        land=_parts(m["land"].geometry.values),
        provinces=[(c, n, _parts([g])) for c, n, g in zip(prov["code_2025"], prov["name_2025"], prov.geometry)],
        zones=m["prospect_zones"][["id", "name_en", "deposit_type", "confidence", "geometry"]].reset_index(drop=True),
        sites=sites)


def national_grid(inputs: Inputs, res: float) -> Grid:
    return Grid.covering(tuple(shapely.total_bounds(inputs.national)), res, METRIC_CRS)


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
        """Distance (m) from each cell to the nearest sea cell, exact up to ``reach_m``."""
        if reach_m not in self._shore:
            pad = int(math.ceil(reach_m / self.grid.res)) + 1
            big = self.grid.padded(self.win, pad)
            land = burn(self.grid, big, self.inputs.land)
            if land.all():
                d = np.full(land.shape, np.inf, dtype=np.float32)
            elif not land.any():
                d = np.zeros(land.shape, dtype=np.float32)
            else:
                d = (ndimage.distance_transform_edt(land) * self.grid.res).astype(np.float32)
            h, w = int(self.win.height), int(self.win.width)
            self._shore[reach_m] = d[pad:pad + h, pad:pad + w]
        return self._shore[reach_m]

    def zone(self, i: int) -> np.ndarray:
        if i not in self._zone:
            self._zone[i] = burn(self.grid, self.win, _parts([self.inputs.zones.geometry.iloc[i]])).astype(bool)
        return self._zone[i]


def _site_membership(ev: Evidence, sites: pd.DataFrame):
    near = sites["uncertainty_m"].to_numpy(np.float32)
    far = near + np.float32(ev.params["decay_m"])

    def mu(d, k):
        return linear_decay(d, near[k], far[k], ev.params["high"], ev.params["low"])
    return near, far, mu


def _memberships(model: TypeModel, tile: _Tile, inputs: Inputs, user) -> list[np.ndarray]:
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
            zones = inputs.zones
            for i in sorted(np.flatnonzero(zones["deposit_type"] == model.name),
                            key=lambda i: CONFIDENCE_ORDER.get(zones["confidence"].iloc[i], 0)):
                a[tile.zone(i)] = np.float32(p["confidence"][zones["confidence"].iloc[i]])
            out.append(a)
        elif ev.kind == "shoreline_distance":
            out.append(linear_decay(tile.shore_distance(p["far_m"]), p["near_m"], p["far_m"], p["high"], p["low"]))
        elif ev.kind == "unavailable":
            out.append(np.full(shape, np.nan, dtype=np.float32))
    if user is not None:
        out.append(user)
    return out


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


def _loo(model: TypeModel, tile: _Tile, inputs: Inputs, mems: list[np.ndarray], run: TypeRun) -> None:
    """Rescore each site of the type inside this tile with its own point left out of the distance evidence."""
    sites = inputs.sites.get(model.name)
    if sites is None:
        return
    for k, (sid, x, y) in enumerate(zip(sites["id"], sites["x"], sites["y"])):
        r, c = tile.grid.cell_of(x, y)
        r, c = r - int(tile.win.row_off), c - int(tile.win.col_off)
        if not (0 <= r < tile.national.shape[0] and 0 <= c < tile.national.shape[1]):
            continue
        if not tile.national[r, c]:
            run.loo_scores[sid] = float("nan")  # the site's cell is at sea or abroad: not scored
            continue
        cx = tile.grid.x0 + (int(tile.win.col_off) + c + 0.5) * tile.grid.res
        cy = tile.grid.y0 - (int(tile.win.row_off) + r + 0.5) * tile.grid.res
        vals = []
        for ev, mem in zip(model.evidence, mems):
            if ev.kind == "site_distance":
                _, _, mu = _site_membership(ev, sites)
                others = [mu(np.float32(math.hypot(cx - sites["x"].iloc[j], cy - sites["y"].iloc[j])), j)
                          for j in range(len(sites)) if j != k]
                vals.append(np.float32(max([ev.params["low"], *others])))
            else:
                vals.append(mem[r, c])
        vals += [m[r, c] for m in mems[len(model.evidence):]]
        run.loo_scores[sid] = float(combine(model.operator, [np.array([v], np.float32) for v in vals],
                                            model.gamma)[0])


def run_grids(frames: dict[str, pd.DataFrame], resolution: float | None = None, types=None,
              out_dir: Path | None = None, evidence: Path | None = None, spec: ModelSpec | None = None) -> GridRun:
    """Score every requested type; write ``OUT/prospectivity_<type>.tif`` and ``uncertainty_<type>.tif``
    when ``out_dir`` is given (otherwise only the statistics are kept)."""
    spec = spec or load_spec()
    types = list(types or spec.types)
    unknown = [t for t in types if t not in spec.types]
    if unknown:
        raise SourceDataError(problems=[Problem(str(spec.path), "no model for this deposit type", field="--types",
                                                value=",".join(unknown), fix=f"use some of {', '.join(spec.types)}")])
    inputs = prepare(frames)
    grid = national_grid(inputs, resolution or spec.resolution_m)
    units = ([("province", c, n) for c, n, _ in inputs.provinces]
             + [("prospect_zone", z, n) for z, n in zip(inputs.zones["id"], inputs.zones["name_en"])])
    runs = {t: TypeRun(spec.types[t], ScoreStats(len(units)), list(inputs.sites.get(t, pd.DataFrame({"id": []}))["id"]))
            for t in types}
    user_src, user_vrt = _user_vrt(evidence, grid) if evidence else (None, None)
    writers = {}
    try:
        if out_dir is not None:
            for t in types:
                tags = {"model": spec.metadata(t), "deposit_type": t, "resolution_m": str(grid.res),
                        "evidence": ",".join([e.name for e in spec.types[t].evidence] + (["user_raster"] if evidence else []))}
                for kind, desc in (("prospectivity", f"{t} prospectivity (fuzzy {spec.types[t].operator}, 0-1)"),
                                   ("uncertainty", f"{t} uncertainty (share of evidence missing, 0-1)")):
                    path = out_dir / f"{kind}_{t}.tif"
                    w = CogWriter(path, grid, desc, tags).__enter__()
                    writers[(t, kind)] = w
                    runs[t].paths[kind] = path
        _tiles(grid, inputs, runs, writers, user_vrt)
    except BaseException as exc:
        for w in writers.values():
            w.__exit__(type(exc), exc, None)
        raise
    finally:
        if user_vrt is not None:
            user_vrt.close()
            user_src.close()
    for w in writers.values():
        w.__exit__(None, None, None)
    return GridRun(spec, grid, units, runs)


def _tiles(grid: Grid, inputs: Inputs, runs: dict[str, TypeRun], writers, user_vrt) -> None:
    n_prov = len(inputs.provinces)
    for win in grid.tiles(TILE):
        national = burn(grid, win, inputs.national).astype(bool)
        if not national.any():
            continue
        tile = _Tile(inputs, grid, win, national)
        labels = burn(grid, win, np.concatenate([p for _, _, p in inputs.provinces]),
                      np.concatenate([[i + 1] * len(p) for i, (_, _, p) in enumerate(inputs.provinces)]),
                      dtype="int16")
        user = _read_user(user_vrt, win) if user_vrt is not None else None
        for t, run in runs.items():
            mems = _memberships(run.model, tile, inputs, user)
            score = combine(run.model.operator, mems, run.model.gamma)
            missing = np.isnan(np.stack(mems)).mean(axis=0).astype(np.float32)
            score[~national] = np.nan
            missing[~national] = np.nan
            if (t, "prospectivity") in writers:
                writers[(t, "prospectivity")].write(win, score)
                writers[(t, "uncertainty")].write(win, missing)
            valid = national & ~np.isnan(score)
            run.stats.add(score, valid)
            for z in np.unique(labels[valid]):
                if z > 0:
                    run.stats.add_zone(int(z) - 1, score[valid & (labels == z)])
            for i in range(len(inputs.zones)):
                run.stats.add_zone(n_prov + i, score[valid & tile.zone(i)])
            _loo(run.model, tile, inputs, mems, run)
