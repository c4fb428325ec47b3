"""Run the declared fuzzy model of each deposit type over the national grid, tile by tile.

One pass over the grid serves every type and both of its scores (``evidence``: independent layers;
``proximity``: known sites and the zones drawn from them). :func:`score_tile` computes a window's
memberships and scores from the bound evidence kinds (layers/model/evidence.py) and returns arrays; the
writers and statistics stay outside it. Each known site is rescored with itself left out of every
evidence it shaped (the kinds' ``loo``). Tiles run on a thread pool; their statistics are merged in
grid order.
"""
from __future__ import annotations

import ctypes
import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from geo.budget import check_fits, need
from geo.raster.cog import CogLayer, CogSet, TileRecord, gdal_env, tile_size, write_tile
from geo.crs import METRIC_CRS
from geo.errors import Problem, SourceDataError
from geo.executor import executor
from geo.raster.fuzzy import combine
from geo.grid import Grid, Shapes, burn, windows_meeting
from geo.raster.zonal import ScoreStats, histogram
from layers.derived.coast import open_sea, open_sea_distance, reach_cells
from layers.model.evidence import KINDS, MISSABLE, SCORES, Evidence, Kind, RunContext, ShorelineDistance
from layers.model.model_spec import ModelSpec, TypeModel, load_spec
from layers.model.overlay import grid_layers
from layers.model.record import check_replaceable, record_model
from layers.validation.cells import (Blocks, ScoreValidation, SiteCells, TileValidation, block_factor, disc_cells)
from layers.validation.clusters import Cluster, site_clusters

TILE = 1024
# tiles between two returns of freed heap pages (:func:`release_freed_memory`); after every tile, the pages
# faulted in again cost 5 s of system time at 100 m (peak 950 -> 860 MB)
TRIM_EVERY = 8
SITE_CHUNK = 1 << 18  # a validation site's candidate cells scored this many at a time (SiteCells.add merges)
# what the model reads of a prospect zone; method and parameters (when present) let the validation
# derive the zone again without the site being scored
ZONE_COLUMNS = ("id", "name_en", "deposit_type", "confidence", "method", "parameters", "derived_from", "geometry")


@dataclass
class Inputs:
    """The vector inputs of the model, in the metric CRS, indexed for burning tile by tile."""

    areas: Shapes  # Vietnam: 1..n for the 2025 provinces, n + 1 for the archipelagos (0: sea, abroad)
    land: Shapes  # GSHHG land (all countries)
    sea: Shapes  # the open sea (layers/derived/coast.py): what every coastal distance measures to
    provinces: list[tuple[str, str]]  # (code, name), in label order
    zones: pd.DataFrame  # ZONE_COLUMNS (metric)
    zone_shapes: list[Shapes]
    sites: dict[str, pd.DataFrame]  # per type: id, name, x, y, uncertainty_m, confidence


def prepare(frames: dict[str, pd.DataFrame]) -> Inputs:
    """Project and index the layers the model reads."""
    m = {n: frames[n].to_crs(METRIC_CRS) for n in ("provinces_2025", "archipelagos", "land", "prospect_zones")}
    prov = m["provinces_2025"].sort_values("code_2025")
    deps = frames["deposits"].to_crs(METRIC_CRS)
    sites = {t: pd.DataFrame({"id": g["id"].values, "name": g.get("name_vi", g["id"]).values,
                              "x": g.geometry.x.values, "y": g.geometry.y.values,
                              "uncertainty_m": g["location_uncertainty_m"].astype(float).fillna(0).values,
                              "confidence": g.get("confidence", pd.Series(None, index=g.index)).values})
             for t, g in deps.groupby("deposit_type")}
    parts, index = shapely.get_parts(prov.geometry.values, return_index=True)
    isles = shapely.get_parts(m["archipelagos"].geometry.values)
    zones = m["prospect_zones"][[c for c in ZONE_COLUMNS if c in m["prospect_zones"]]].reset_index(drop=True)
    return Inputs(
        # archipelagos first: a province drawn over one keeps the cell (later shapes win)
        areas=Shapes(np.concatenate([isles, parts]), np.concatenate([np.full(len(isles), len(prov) + 1), index + 1])),
        land=Shapes(m["land"].geometry.values),
        sea=Shapes([open_sea(frames)]),
        provinces=list(zip(prov["code_2025"], prov["name_2025"])),
        zones=zones, zone_shapes=[Shapes([g]) for g in zones.geometry],
        sites=sites)


def national_grid(inputs: Inputs, res: float) -> Grid:
    return Grid.covering(tuple(shapely.total_bounds(inputs.areas.geoms)), res, METRIC_CRS)


@dataclass
class ScoreRun:
    """One score of one type: its evidence (indices into the type's bound kinds) and what its pass produced."""

    members: list[int]
    stats: ScoreStats
    keys: list[str] = field(default_factory=list)  # the validation sites' keys (member ids joined by "+")
    # per validation site its best cell (held out where it shaped the score), the ablation, the null blocks;
    # set once the tiles are merged (never sent to the tiles' workers)
    validation: ScoreValidation | None = None

    @property
    def loo_scores(self) -> dict[str, float]:
        """Validation site key -> the score it is validated with (NaN: excluded), held out where it shaped the score."""
        return dict(zip(self.keys, self.validation.sites.values().tolist()))


@dataclass
class TypeRun:
    """What one type's pass produced: per score (``evidence``, ``proximity``) its statistics and files."""

    model: TypeModel
    kinds: list[Kind]
    site_ids: list[str]
    clusters: list[Cluster] = field(default_factory=list)  # the validation sites
    scores: dict[str, ScoreRun] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)  # "evidence", "uncertainty_evidence", ...


@dataclass
class GridRun:
    spec: ModelSpec
    grid: Grid
    units: list[tuple[str, str, str]]  # (kind, id, name) in zone-statistics order
    types: dict[str, TypeRun]
    sites: dict[str, pd.DataFrame] = field(default_factory=dict)  # per type: its known sites (Inputs.sites)
    model_paths: tuple[Path, ...] = ()  # OUT/model.toml and model.json: the model that made the COGs


class _Tile:
    """Shared rasters of one tile, computed lazily once for all types."""

    def __init__(self, inputs: Inputs, grid: Grid, win, national: np.ndarray):
        self.inputs, self.grid, self.win, self.national = inputs, grid, win, national
        self._shore: dict[int, np.ndarray] = {}  # by padding (cells)
        self._zone: dict[int, np.ndarray] = {}
        self.cache: dict = {}  # what several evidence layers read alike (e.g. one raster resampled once)
        self.labels = np.empty(0, np.int32)  # province index per national cell (-1: none)
        self.zones: list[np.ndarray] = []  # per prospect zone, mask of national cells inside it

    def shore_distance(self, reach_m: float) -> np.ndarray:
        """Distance (m) from each Vietnamese cell to the nearest cell of the open sea, exact up to
        ``reach_m`` (other cells: inf): :func:`layers.derived.coast.open_sea_distance`."""
        pad = reach_cells(self.grid.res, reach_m)  # the same padding, the same result (the ensemble's reaches)
        if pad not in self._shore:
            self._shore[pad] = open_sea_distance(self.grid, self.win, self.inputs.sea, reach_m, self.national)
        return self._shore[pad]

    def zone(self, i: int) -> np.ndarray:
        if i not in self._zone:
            self._zone[i] = burn(self.grid, self.win, self.inputs.zone_shapes[i]).astype(bool)
        return self._zone[i]


def user_evidence(path: Path) -> Evidence:
    """``--evidence FILE``: a raster of memberships (0-1, any CRS, bilinear), joined to every type's evidence score."""
    path = Path(path).resolve()
    ev = Evidence("user_raster", "raster", {"path": str(path), "resampling": "bilinear",
                                             "membership": {"function": "identity"}},
                  "the user's evidence raster", (), "", "user", {}, path.parent)  # it may read its own folder only
    problems: list[Problem] = []
    KINDS["raster"].check(ev, "--evidence", str(path), problems)
    if not problems:
        low, high = value_range(path)
        if low is not None and not (0 <= low and high <= 1):
            problems.append(Problem(str(path), "values outside 0-1: --evidence takes fuzzy memberships",
                                    field="--evidence", value=(low, high),
                                    fix="rescale the raster to 0-1 (e.g. gdal_calc.py), or set its nodata value"))
    if problems:
        raise SourceDataError(problems=problems)
    return ev


def value_range(path: Path, band: int = 1, cells: int = 4_000_000) -> tuple[float | None, float | None]:
    """(min, max) of the valid cells of a raster band (None, None: no valid cell), read in strips of
    about ``cells`` cells (bounded memory; no statistics file is written beside it)."""
    import rasterio
    low = high = None
    with rasterio.open(path) as ds:
        rows = max(1, cells // max(ds.width, 1))
        for r in range(0, ds.height, rows):
            a = ds.read(band, window=Window(0, r, ds.width, min(rows, ds.height - r)), masked=True)
            a = np.ma.masked_invalid(a).compressed()
            if a.size:
                lo, hi = float(a.min()), float(a.max())
                low, high = (lo, hi) if low is None else (min(low, lo), max(high, hi))
    return low, high


def bind(model: TypeModel, ctx: RunContext, extra: tuple[Evidence, ...] = ()) -> list[Kind]:
    """The type's evidence (and ``extra``) bound to one run, in declaration order."""
    kinds: list[Kind] = []
    try:
        for ev in (*model.evidence, *extra):
            kinds.append(KINDS[ev.kind](ev, ctx))
    except BaseException:
        for k in kinds:
            k.close()
        raise
    return kinds


def score_groups(kinds: list[Kind]) -> dict[str, list[int]]:
    """Indices of the kinds feeding each score (a score with no evidence at all is left out)."""
    groups = {s: [i for i, k in enumerate(kinds) if k.score == s] for s in SCORES}
    return {s: g for s, g in groups.items() if g}


def combine_missing(operator: str, gamma, mems: list[np.ndarray | None], cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, share of evidence missing) at the ``cells`` mask, as 1-D arrays: :func:`combine_flat` of
    the layers taken at the cells."""
    return combine_flat(operator, gamma, [None if m is None else m[cells] for m in mems], int(cells.sum()))


def combine_flat(operator: str, gamma, layers: list[np.ndarray | None], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(score, share of evidence missing) of 1-D layers of ``n`` cells: layers with no data anywhere
    (None) are left out of the combination (as NaN cells are) and counted as missing."""
    present = [m for m in layers if m is not None]
    count = np.zeros(n, dtype=np.uint8 if len(layers) < 256 else np.uint16)  # missing layers per cell (exact)
    for m in present:
        count += np.isnan(m)
    missing = count.astype(np.float32)
    missing += np.float32(len(layers) - len(present))
    missing /= np.float32(len(layers))
    if not present:
        return np.full(missing.shape, np.nan, dtype=np.float32), missing
    return combine(operator, present, gamma), missing


@dataclass
class TileScores:
    """What one tile computes, before anything is written or counted."""

    national: np.ndarray  # bool mask of Vietnamese cells
    labels: np.ndarray  # province index per national cell (-1: none)
    zones: list[np.ndarray]  # per prospect zone, mask of national cells inside it
    mems: dict[str, list[np.ndarray | None]]  # per type, one membership per bound kind
    flat: dict[str, list[np.ndarray | None]]  # the same at the national cells (1-D), taken once for every combination
    scores: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]  # (type, score) -> (score, missing) at national cells
    tile: "_Tile"


def tile_at(inputs: Inputs, grid: Grid, win) -> _Tile | None:
    """The window's Vietnamese cells, their provinces and prospect zones (None: no Vietnamese cell): what
    every model run over the window shares (the parameter ensemble scores one tile many times)."""
    areas = burn(grid, win, inputs.areas, dtype="int16")
    national = areas > 0
    if not national.any():
        return None
    tile = _Tile(inputs, grid, win, national)
    n_prov = len(inputs.provinces)
    tile.labels = areas[national].astype(np.int32) - 1  # province index; the archipelagos' n_prov -> none
    tile.labels[tile.labels == n_prov] = -1
    tile.zones = [tile.zone(i)[national] for i in range(len(inputs.zones))]
    return tile


def score_tile(inputs: Inputs, grid: Grid, win, types: dict[str, tuple[TypeModel, list[Kind]]],
               tile: _Tile | None = None) -> TileScores | None:
    """Score one window: a function of (inputs, grid, window) and the bound kinds, returning arrays
    (None: no Vietnamese cell in the window). Writers and statistics stay outside. ``tile``: the
    window's :func:`tile_at`, when several runs score the same window."""
    tile = tile or tile_at(inputs, grid, win)
    if tile is None:
        return None
    national, labels, zones = tile.national, tile.labels, tile.zones
    mems, flat, scores = {}, {}, {}
    n = int(national.sum())
    for t, (model, kinds) in types.items():
        mems[t] = [k.evaluate(tile) for k in kinds]
        flat[t] = [None if m is None else m[national] for m in mems[t]]
        for s, idx in score_groups(kinds).items():
            scores[(t, s)] = combine_flat(model.operator, model.gamma, [flat[t][i] for i in idx], n)
    return TileScores(national, labels, zones, mems, flat, scores, tile)


def _at(flat: np.ndarray | None, index: np.ndarray) -> np.ndarray | None:
    """A membership at national cells (``flat``) taken at the cells whose national index is ``index``."""
    return None if flat is None else flat[index]


def _validate(t: str, run: "TypeRun", ts: TileScores, inputs: Inputs, k: int,
              full: dict[str, np.ndarray]) -> dict[str, TileValidation]:
    """Per score of type ``t``, what this tile adds to its validation: each validation site's best cell
    within its discs, scored with the site held out of every evidence it shaped (the kinds' ``loo``);
    for the evidence score, the same and the histogram of every ablation variant; the null blocks
    (from ``full``: each score over the whole tile, NaN off the national cells)."""
    kinds, model, tile = run.kinds, run.model, ts.tile
    flat = ts.flat[t]
    sites = inputs.sites.get(t)
    groups = score_groups(kinds)
    n = len(run.clusters)
    out = {s: TileValidation(SiteCells.empty(n)) for s in groups}
    variants = ablation_variants(kinds, groups.get("evidence", []))
    for s in out:
        if s == "evidence":
            for name, idx in variants.items():
                v = _variant(model, [flat[i] for i in idx], len(ts.labels))  # labels: one per national cell
                out[s].variants[name] = (histogram(v), SiteCells.empty(n))
    if sites is not None:
        xy, u = sites[["x", "y"]].to_numpy(float), sites["uncertainty_m"].to_numpy(float)
        # each cell's index among the national cells (elsewhere a neighbour's: those cells are set NaN)
        national_index = np.cumsum(ts.national.ravel(), dtype=np.int32).reshape(ts.national.shape) - 1
        for ci, cluster in enumerate(run.clusters):
            cells = disc_cells(tile.grid, tile.win, xy, u, cluster.members)
            if cells is None:
                continue
            for c in range(0, len(cells[0]), SITE_CHUNK):  # bounded memory: a site's disc may fill the tile
                rows, cols, xs, ys, discs, dist = (a[c:c + SITE_CHUNK] for a in cells)
                off = ~ts.national[rows, cols]  # at sea or abroad: not scored
                at = national_index[rows, cols]
                for s, idx in groups.items():
                    vals = []
                    for i in idx:
                        v = kinds[i].loo(tile, cluster, xs, ys)
                        vals.append(v if v is not None else _at(flat[i], at))
                    score = combine_flat(model.operator, model.gamma, vals, len(rows))[0]
                    score[off] = np.nan
                    out[s].sites.add(ci, score, discs, dist)
                    for name, vidx in (variants.items() if s == "evidence" else ()):
                        v = _variant(model, [_at(flat[i], at) for i in vidx], len(rows))
                        v[off] = np.nan
                        out[s].variants[name][1].add(ci, v, discs, dist)
    null = run.model.validation.get("null", "land")
    domain = None
    for s in out:
        if domain is None:
            domain = ts.national if null == "land" else \
                ShorelineDistance.distance(tile, run.model.validation["null_within_m"]) <= run.model.validation["null_within_m"]
        out[s].blocks = (int(tile.win.row_off) // k, int(tile.win.col_off) // k, Blocks.of_tile(full[s], domain & ts.national, k))
    return out


def type_clusters(model: TypeModel, sites: pd.DataFrame | None) -> list[Cluster]:
    """The type's validation sites; held out, each leaves out every site within reach of the type's
    ``site_distance`` evidence (its ``decay_m``)."""
    if sites is None:
        return []
    reach = max([float(ev.params["decay_m"]) for ev in model.evidence if ev.kind == "site_distance"], default=0.0)
    return site_clusters(sites, reach)


def _variant(model: TypeModel, layers: list, n: int) -> np.ndarray:
    """An ablation variant's score from 1-D ``layers`` of ``n`` cells; one evidence alone is its membership
    (what every fuzzy operator gives for a single layer), without combining: that layer itself, not a copy."""
    if len(layers) == 1 and layers[0] is not None:
        return layers[0]
    present = [m for m in layers if m is not None]  # combine_flat's score, without its share of missing evidence
    return combine(model.operator, present, model.gamma) if present else np.full(n, np.nan, np.float32)


def ablation_variants(kinds: list[Kind], idx: list[int]) -> dict[str, list[int]]:
    """The evidence score's ablation: per evidence with data, the score without it (``without:NAME``)
    and the evidence alone (``only:NAME``); nothing when the score has a single evidence."""
    present = [i for i in idx if kinds[i].ev.kind != "unavailable"]
    if len(idx) < 2:
        return {}
    out = {}
    for i in present:
        out[f"without:{kinds[i].ev.name}"] = [j for j in idx if j != i]
    for i in present:
        out[f"only:{kinds[i].ev.name}"] = [i]
    return out


TileResult = dict[tuple[str, str], tuple[ScoreStats, TileValidation]]  # (type, score) -> (statistics, validation)


def _run_tile(win, grid: Grid, inputs: Inputs, runs: dict[str, TypeRun], n_units: int, keys: tuple,
              scratch: Path | None, size: int, block: int) -> tuple[TileResult, TileRecord | None] | None:
    """Score one tile, write its layers (those of ``keys``) into the scratch folder (:func:`geo.raster.cog.write_tile`)
    and return its statistics and what it wrote, without touching other shared state: a worker thread or
    a cluster worker process runs it alike."""
    ts = score_tile(inputs, grid, win, {t: (r.model, r.kinds) for t, r in runs.items()})
    if ts is None:
        return None
    ts.mems = {}  # the validation and the files read the memberships at the national cells (flat): ~40 MB less a tile
    n_prov = len(inputs.provinces)
    present_zones = [i for i, inside in enumerate(ts.zones) if inside.any()]
    offsets = ScoreStats.label_offsets(ts.labels)  # the provinces, for every score of the tile
    out: TileResult = {}
    written: list[TileRecord] = []
    for t, run in runs.items():
        arrays: dict[tuple[str, str], np.ndarray] = {}
        full = {s: _full(ts.national, ts.scores[(t, s)][0]) for s in score_groups(run.kinds)}
        val = _validate(t, run, ts, inputs, block, full)
        for s in run.scores:
            score1, missing1 = ts.scores[(t, s)]
            stats = ScoreStats(n_units)
            stats.add(score1, offsets=offsets)
            ok = ~np.isnan(score1)
            for i in present_zones:
                stats.add_zone(n_prov + i, score1[ok & ts.zones[i]])
            if (t, s) in keys:
                arrays[(t, s)] = full[s]
            if (t, f"uncertainty_{s}") in keys:
                arrays[(t, f"uncertainty_{s}")] = _full(ts.national, missing1)
            out[(t, s)] = (stats, val[s])
        for i, (k, mem) in enumerate(zip(run.kinds, ts.flat[t])):
            for what in ("membership", "value"):
                if (t, f"{what}:{i}") in keys and mem is not None:
                    values = mem if what == "membership" else k.covered(ts.tile, k.values(ts.tile))[ts.national]
                    arrays[(t, f"{what}:{i}")] = _full(ts.national, values)
        if arrays:  # written type by type: one type's full-tile arrays in memory at a time
            written.append(write_tile(scratch, grid, size, keys, win, arrays))
    if not written:
        return out, None
    return out, replace(written[0], keys=tuple(key for r in written for key in r.keys))


def _remote_tile(win, *args) -> tuple[TileResult, TileRecord | None] | None:
    """:func:`_run_tile` on a cluster worker, where run_grids' warning filter and GDAL settings do not reach."""
    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
    with gdal_env():
        return _run_tile(win, *args)


def _full(national: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A tile's values at its national cells, NaN (nodata) elsewhere."""
    full = np.full(national.shape, np.nan, dtype=np.float32)
    full[national] = values
    return full


EXPLAIN_DIR = "explain"  # OUT/explain/{membership,value}_<evidence>_<type>.tif: what each cell rests on


def default_jobs() -> int:
    """Worker threads: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _layer_count(spec: ModelSpec, types, extra: tuple[Evidence, ...], explain: bool) -> int:
    """The COGs a run writes: per type, its scores (the evidence score with its uncertainty) and, with
    ``explain``, each evidence's membership (and value)."""
    n = 0
    for t in types:
        evs = (*spec.types[t].evidence, *extra)
        scores = {KINDS[e.kind].score for e in evs}
        n += ("evidence" in scores) * 2 + ("proximity" in scores)
        n += sum(1 + KINDS[e.kind].needs_function for e in evs) if explain else 0
    return n


def grid_need(inputs: Inputs, layers: int, threads: int):
    """``res -> Need``: the memory and disk of a run of ``layers`` COGs on ``threads`` (geo/budget.py)."""
    area = float(shapely.area(inputs.areas.geoms).sum())
    bounds = tuple(shapely.total_bounds(inputs.areas.geoms))
    return lambda res: need(area, res, tile_size(Grid.covering(bounds, res, METRIC_CRS), TILE), layers, threads)


SCORE_TITLES = {
    "evidence": "evidence score: independent layers only, no known site used",
    "proximity": "proximity score: known sites and the prospect zones drawn from them",
}


def run_grids(frames: dict[str, pd.DataFrame], resolution: float | None = None, types=None,
              out_dir: Path | None = None, evidence: Path | None = None, spec: ModelSpec | None = None,
              jobs: int | None = None, scheduler: str | None = None, explain: bool = False) -> GridRun:
    """Score every requested type; write per score ``OUT/<score>_<type>.tif`` and, for the evidence
    score, ``OUT/uncertainty_evidence_<type>.tif`` (share of its evidence missing) when ``out_dir`` is
    given (otherwise only the statistics are kept). Tiles run on ``jobs`` threads (numpy, scipy, GDAL and
    GEOS release the GIL); they are written in any order (GDAL lays the COG out) and counted in grid
    order, so the outputs do not depend on ``jobs``. ``scheduler`` runs the tiles on a dask.distributed
    cluster instead (``local:N`` or an address: :mod:`geo.executor`); the files are the same. ``explain``
    also writes ``OUT/explain/{membership,value}_<evidence>_<type>.tif`` for the prospectivity map's
    click panel (``geo build`` does; ``geo grid`` with ``--explain``). After the COGs, ``model.toml``
    and ``model.json`` beside them record the model that made them (:mod:`layers.model.record`)."""
    spec = spec or load_spec()
    types = list(types or spec.types)
    unknown = [t for t in types if t not in spec.types]
    if unknown:
        raise SourceDataError(problems=[Problem(str(spec.path), "no model for this deposit type", field="--types",
                                                value=",".join(unknown), fix=f"use some of {', '.join(spec.types)}")])
    if out_dir is not None:
        check_replaceable(spec, out_dir, {g.path.stem for g in grid_layers(Path(out_dir).parent, spec=spec) if g.deposit_type in types})
    extra = (user_evidence(evidence),) if evidence else ()
    inputs = prepare(frames)
    grid = national_grid(inputs, resolution or spec.resolution_m)
    jobs = jobs or default_jobs()
    threads = jobs  # where the tiles run on this machine: the pool, or local:N's workers; a remote cluster's are not here
    if scheduler:
        n = scheduler.removeprefix("local:")
        threads = int(n) if scheduler.startswith("local:") and n.isdigit() else 0
    check_fits(grid_need(inputs, _layer_count(spec, types, extra, explain) if out_dir is not None else 0, threads),
               grid.res, out_dir, threads)
    units = ([("province", c, n) for c, n in inputs.provinces]
             + [("prospect_zone", z, n) for z, n in zip(inputs.zones["id"], inputs.zones["name_en"])])
    layers: dict[tuple[str, str], CogLayer] = {}
    runs: dict[str, TypeRun] = {}
    size = tile_size(grid, TILE)
    try:
        # a bad --scheduler fails at once, before binding; a cluster's workers import the model meanwhile
        with ThreadPoolExecutor(jobs) as pool, gdal_env(), warnings.catch_warnings(), \
                closing(executor(pool, jobs, scheduler, warm=(__name__,))) as ex:
            # rasterio silences this warning of its in-memory rasterize datasets with catch_warnings,
            # which is not thread-safe: from worker threads it leaks. It never applies to our grids.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            block = block_factor(grid.res, size)
            for t in types:
                clusters = type_clusters(spec.types[t], inputs.sites.get(t))
                kinds = bind(spec.types[t], RunContext(inputs, grid, t, frames, pool, clusters), extra)
                runs[t] = TypeRun(spec.types[t], kinds, list(inputs.sites.get(t, pd.DataFrame({"id": []}))["id"]), clusters)
                runs[t].scores = {s: ScoreRun(idx, ScoreStats(len(units)), [c.key for c in clusters])
                                  for s, idx in score_groups(kinds).items()}
            if out_dir is not None:
                for t in types:
                    for s, sr in runs[t].scores.items():
                        names = [runs[t].kinds[i].ev.name for i in sr.members]
                        res = {runs[t].kinds[i].ev.name: runs[t].kinds[i].p.get("source_resolution_m") for i in sr.members}
                        tags = {"model": spec.metadata(t), "deposit_type": t, "score": s, "resolution_m": str(grid.res),
                                "evidence": ",".join(names), "meaning": SCORE_TITLES[s],
                                "source_resolution_m": json.dumps({k: v for k, v in res.items() if v is not None})}
                        files = [(s, f"{t} {SCORE_TITLES[s]} (fuzzy {spec.types[t].operator}, 0-1)", spec.style.get("score_unit"))]
                        if s in MISSABLE:  # an uncertainty grid where evidence can be missing
                            files.append((f"uncertainty_{s}", f"{t} uncertainty of the {s} score (share of its evidence missing, 0-1)",
                                          spec.style.get("uncertainty_unit")))
                        for name, desc, unit in files:
                            layers[(t, name)] = CogLayer(out_dir / f"{name}_{t}.tif", desc, tags, unit)
                            runs[t].paths[name] = layers[(t, name)].target
                    # per evidence, its membership (and measured value) for the map's click-to-explain
                    for i, k in enumerate(runs[t].kinds if explain else ()):
                        tags = {"model": spec.metadata(t), "deposit_type": t, "evidence": k.ev.name,
                                "score": k.score, "resolution_m": str(grid.res)}
                        if k.p.get("source_resolution_m") is not None:
                            tags["source_resolution_m"] = str(k.p["source_resolution_m"])
                        for what in ("membership", "value")[:1 + k.needs_function]:
                            path = out_dir / EXPLAIN_DIR / f"{what}_{k.ev.name}_{t}.tif"
                            layers[(t, f"{what}:{i}")] = CogLayer(path, f"{t} {k.ev.name} {what}", tags, None)
            # the COGs are published side by side, on the pool's threads or the cluster's workers
            with CogSet(grid, layers, size, ex) as cogs:
                _tiles(ex, grid, inputs, runs, cogs, len(units), size, block)
    finally:
        for r in runs.values():
            for k in r.kinds:
                k.close()
    recorded = record_model(spec, out_dir) if out_dir is not None else ()
    return GridRun(spec, grid, units, runs, inputs.sites, recorded)


def release_freed_memory() -> None:
    """Hand the heap pages freed by finished tiles back to the system (glibc's ``malloc_trim``; elsewhere
    nothing): each worker thread's malloc arena otherwise keeps them resident, and the process grows
    tile after tile."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _tiles(ex, grid: Grid, inputs: Inputs, runs: dict[str, TypeRun], cogs: CogSet, n_units: int, size: int,
           block: int) -> None:
    """Run the tiles a few ahead of the one being counted (bounded memory), in grid order, on the executor
    ``ex`` (threads or a dask cluster: :mod:`geo.executor`): either way the tile function writes the
    tile's files into the COGs' scratch folder (a cluster's workers must see it) and returns its
    statistics, merged here in grid order, so the files and statistics are the same."""
    if cogs.layers:
        ex.check_writable(cogs.scratch)
    # windows with no province or archipelago (most of the bounding box is sea or abroad) are not sent
    results = ex.map(_remote_tile if ex.remote else _run_tile, windows_meeting(grid, grid.tiles(size), inputs.areas),
                     grid, inputs, runs, n_units,
                     cogs.keys, cogs.scratch if cogs.layers else None, size, block)
    acc = {(t, s): ScoreValidation(SiteCells.empty(len(r.clusters)), Blocks.national(grid, block))
           for t, r in runs.items() for s in r.scores}
    try:
        for n, result in enumerate(results, 1):
            if n % TRIM_EVERY == 0:
                release_freed_memory()
            if result is None:
                continue
            stats, record = result
            for (t, s), (st, val) in stats.items():
                runs[t].scores[s].stats.merge(st)
                acc[(t, s)].merge(val)
            if record is not None:
                cogs.add(record)
    finally:
        results.close()  # cancels the tiles still in flight
    release_freed_memory()  # before the COGs are published and the reports drawn
    for (t, s), v in acc.items():
        runs[t].scores[s].validation = v
