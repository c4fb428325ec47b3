"""Evidence kinds of the prospectivity model: one class per kind, registered in :data:`KINDS`.

A kind declares which score its evidence feeds (``evidence``: independent layers; ``proximity``: the
known sites and the zones drawn from them), its numeric parameters, how its files are checked when
the model is loaded (:meth:`Kind.check`), and, bound to one grid run, how a tile's membership is made
(:meth:`Kind.membership`) and how a known site is rescored with itself left out (:meth:`Kind.loo`).
The engine (layers/model/prospectivity.py) only calls these methods; adding a kind is one class here.

Measured values become memberships through the declared function (:data:`MEMBERSHIPS`, formulas in
geo/raster/fuzzy.py); class layers through their class -> membership table.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from geo.crs import METRIC_CRS
from geo.errors import Problem
from geo.raster.fuzzy import class_table, gaussian, identity, linear_decay, linear_ramp, sigmoid
from geo.grid import Shapes, burn, point_influence
from geo.files.paths import reads_beyond, safe_user_path
from geo.raster.classes import class_values
from geo.raster.derivative import relief, slope
from geo.raster.distance import feature_distance
from geo.raster.points import METHODS as POINT_METHODS, PointSamples, grid_points
from geo.raster.resample import METHODS as RESAMPLING, UPSAMPLE, RasterSource, upsample_bilinear, wanted_rows

SCORES = ("evidence", "proximity")
MISSABLE = ("evidence",)  # scores whose evidence can be missing at a cell (proximity is computed everywhere)
COMPONENTS = ("source", "pathway", "trap", "deposition", "preservation", "proximity")
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}
LOO_CLIP_M = 50_000  # a zone re-derived for the validation is drawn only this far around the site
# function -> (formula, required parameters, optional parameters with defaults)
MEMBERSHIPS: dict[str, tuple[Callable, tuple[str, ...], dict]] = {
    "linear": (linear_ramp, ("x0", "x1"), {"mu0": 0.0, "mu1": 1.0}),
    "sigmoid": (sigmoid, ("midpoint", "spread"), {"increasing": True}),
    "gaussian": (gaussian, ("centre", "width"), {}),
    "identity": (identity, (), {}),
    "table": (class_table, (), {"classes": {}}),  # class code -> membership (a categorical raster)
}
MEMBERSHIP_VALUES = ("mu0", "mu1", "classes")  # parameters of a function that are themselves memberships


@dataclass(frozen=True)
class Evidence:
    """One declared evidence layer of a type (``params``: everything else the TOML table says)."""

    name: str
    kind: str
    params: dict
    rationale: str
    refs: tuple[str, ...]
    component: str = ""
    basis: str = ""
    ranges: dict = field(default_factory=dict)  # dotted parameter key -> (low, high)
    base: Path = Path(".")  # directory that relative paths start from (the model file's)

    def path(self) -> Path:
        return safe_user_path(self.base / self.params["path"], "path")

    def with_values(self, values: dict) -> "Evidence":
        """A copy with the dotted parameters ``values`` replaced (for the ensemble)."""
        params = json.loads(json.dumps(self.params))
        for key, v in values.items():
            d = params
            *parents, last = key.split(".")
            for k in parents:
                d = d[k]
            d[last] = v
        return replace(self, params=params)


def numeric_leaves(params: dict, prefix: str = "") -> dict[str, float]:
    """Every numeric parameter as ``{"dotted.key": value}`` (booleans and text left out)."""
    out = {}
    for k, v in params.items():
        if k == "ranges":
            continue
        if isinstance(v, dict):
            out.update(numeric_leaves(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = float(v)
    return out


def membership_function(decl: dict) -> Callable[[np.ndarray], np.ndarray]:
    fn, required, optional = MEMBERSHIPS[decl["function"]]
    kw = {k: decl[k] for k in required} | {k: decl.get(k, v) for k, v in optional.items()}
    return lambda x: fn(x, **kw)


def check_membership(decl, where: str, file: str, problems: list[Problem]) -> None:
    if not isinstance(decl, dict) or decl.get("function") not in MEMBERSHIPS:
        problems.append(Problem(file, "unknown or missing membership function", field=f"{where}.membership",
                                value=decl.get("function") if isinstance(decl, dict) else decl,
                                fix=f"membership = {{ function = \"{'|'.join(MEMBERSHIPS)}\", ... }}"))
        return
    _, required, optional = MEMBERSHIPS[decl["function"]]
    for k in required:
        if not isinstance(decl.get(k), (int, float)) or isinstance(decl.get(k), bool):
            problems.append(Problem(file, f"the {decl['function']} membership needs a number", field=f"{where}.membership.{k}",
                                    value=decl.get(k)))
    if decl["function"] == "table" and (not isinstance(decl.get("classes"), dict) or not decl["classes"]):
        problems.append(Problem(file, "a class -> membership table is needed", field=f"{where}.membership.classes",
                                fix='membership = { function = "table", classes = { "1" = 0.8, ... } }'))
    for k in ("spread", "width"):
        if k in required and isinstance(decl.get(k), (int, float)) and not decl[k] > 0:
            problems.append(Problem(file, "must be positive", field=f"{where}.membership.{k}", value=decl[k]))


@dataclass
class RunContext:
    """What binding a kind to one grid run may use."""

    inputs: object  # layers.model.prospectivity.Inputs
    grid: object  # geo.grid.Grid
    deposit_type: str
    frames: dict | None = None
    pool: object = None
    clusters: list = field(default_factory=list)  # the type's validation sites (layers/validation/clusters.py)


class Kind:
    """Base of every evidence kind."""

    name: ClassVar[str]
    score: ClassVar[str] = "evidence"
    numbers: ClassVar[tuple[str, ...]] = ()  # required numeric parameters (non-negative)
    memberships: ClassVar[tuple[str, ...]] = ()  # parameters that are memberships (in [0, 1])
    needs_function: ClassVar[bool] = False  # a declared `membership = {function = ...}`
    files: ClassVar[bool] = False  # reads `path`

    def __init__(self, ev: Evidence, ctx: RunContext):
        self.ev, self.ctx, self.p = ev, ctx, ev.params
        self.mu = membership_function(ev.params["membership"]) if self.needs_function else None
        self.coverage = coverage_shapes(ev) if "coverage" in ev.params else None

    @classmethod
    def check(cls, ev: Evidence, where: str, file: str, problems: list[Problem]) -> None:
        """Report what is wrong with the declaration and its files (added to ``problems``)."""

    def covered(self, tile, a: np.ndarray | None) -> np.ndarray | None:
        """``a`` (a membership or value of every cell of ``tile``) with the cells outside the evidence's
        declared ``coverage`` set missing (NaN): where the layer has no data it says nothing, never "far"."""
        if a is None or self.coverage is None:
            return a
        outside = burn(tile.grid, tile.win, self.coverage) == 0
        return np.where(outside, np.float32(np.nan), a).astype(np.float32) if outside.any() else a

    def evaluate(self, tile) -> np.ndarray | None:
        """:meth:`membership`, missing outside the coverage: what the scores combine."""
        return self.covered(tile, self.membership(tile))

    def membership(self, tile) -> np.ndarray | None:
        """Membership of every cell of ``tile`` (float32, NaN = missing), or None: missing everywhere."""
        return self.mu(self.values(tile))

    def values(self, tile) -> np.ndarray:
        raise NotImplementedError

    def loo(self, tile, cluster, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
        """Membership at the points (``xs``, ``ys``: cell centres) with the validation site ``cluster``
        held out (the sites of ``cluster.removed`` left out); None when no site shaped this evidence."""
        return None

    def close(self) -> None:
        pass

    def __getstate__(self) -> dict:
        """Pickled (to a cluster worker): without what only binding used (source frames, thread pool)."""
        return {**self.__dict__, "ctx": replace(self.ctx, frames=None, pool=None)}


KINDS: dict[str, type[Kind]] = {}


def coverage_shapes(ev: Evidence) -> Shapes:
    """The declared ``coverage`` of an evidence (where its layer has data) in the metric CRS:
    ``{ bbox = [west, south, east, north] }`` in degrees (WGS 84) or ``{ path = "FILE" }`` (polygons)."""
    cov = ev.params["coverage"]
    if "bbox" in cov:
        box = shapely.box(*cov["bbox"])
        import geopandas as gpd
        return Shapes(gpd.GeoSeries([box], crs="EPSG:4326").to_crs(METRIC_CRS).values)
    path = safe_user_path(ev.base / cov["path"], "coverage.path")
    return Shapes(pyogrio.read_dataframe(path).to_crs(METRIC_CRS).geometry.values)


def check_coverage(ev: Evidence, where: str, file: str, problems: list[Problem]) -> None:
    """Problems of a declared ``coverage`` (a lon/lat box, or a polygon file with a CRS)."""
    cov = ev.params.get("coverage")
    fix = 'coverage = { bbox = [WEST, SOUTH, EAST, NORTH] } (degrees) or coverage = { path = "FILE" } (polygons)'
    if not isinstance(cov, dict) or ("bbox" in cov) == ("path" in cov):
        problems.append(Problem(file, "a coverage is a lon/lat box or a polygon file", field=f"{where}.coverage",
                                value=cov, fix=fix))
        return
    if "bbox" in cov:
        b = cov["bbox"]
        ok = (isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
              and -180 <= b[0] < b[2] <= 180 and -90 <= b[1] < b[3] <= 90)
        if not ok:
            problems.append(Problem(file, "the coverage box must be [west, south, east, north] in degrees, west < east, "
                                    "south < north", field=f"{where}.coverage.bbox", value=b, fix=fix))
        return
    try:
        path = safe_user_path(ev.base / str(cov["path"]), "coverage.path")
    except Exception as exc:  # UnsafePathError
        problems.append(Problem(file, str(exc), field=f"{where}.coverage.path", value=cov["path"]))
        return
    if not path.is_file():
        problems.append(Problem(file, "file not found", field=f"{where}.coverage.path", value=str(path),
                                fix="give a path relative to the model file"))
        return
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:
        problems.append(Problem(file, f"cannot open the coverage file: {exc}", field=f"{where}.coverage.path", value=str(path)))
        return
    if info.get("crs") is None:
        problems.append(Problem(file, "the coverage file has no CRS", field=f"{where}.coverage.path", value=str(path)))
    elif "Polygon" not in str(info.get("geometry_type")):
        problems.append(Problem(file, "the coverage must be polygons", field=f"{where}.coverage.path",
                                value=info.get("geometry_type")))


def kind(cls: type[Kind]) -> type[Kind]:
    """Register an evidence kind under its ``name``."""
    KINDS[cls.name] = cls
    return cls


def _file_problem(ev: Evidence, where: str, file: str, problems: list[Problem]) -> Path | None:
    if not isinstance(ev.params.get("path"), str):
        problems.append(Problem(file, "a file path is needed", field=f"{where}.path", fix='add path = "FILE"'))
        return None
    try:
        path = ev.path()
    except Exception as exc:  # UnsafePathError
        problems.append(Problem(file, str(exc), field=f"{where}.path", value=ev.params["path"]))
        return None
    if not path.is_file():
        problems.append(Problem(file, "file not found", field=f"{where}.path", value=str(path),
                                fix="give a path relative to the model file"))
        return None
    beyond = reads_beyond(path, allowed_roots(ev))
    if beyond:  # checked before GDAL opens it: a VRT may name /etc/passwd or a /vsicurl/ URL
        problems.append(Problem(file, "reads files outside the model's folder or from the network", field=f"{where}.path",
                                value=", ".join(beyond[:3]), fix="copy the data into the model file's folder"))
        return None
    return path


def allowed_roots(ev: Evidence) -> tuple[Path, ...]:
    """Where an evidence's files may lie: the model file's folder tree, or the project's layers/."""
    from layers import ROOT
    return (ev.base, ROOT)



def _check_raster(ev, where, file, problems) -> None:
    path = _file_problem(ev, where, file, problems)
    if not isinstance(ev.params.get("resampling", "bilinear"), str) or ev.params.get("resampling", "bilinear") not in RESAMPLING:
        problems.append(Problem(file, "unknown resampling method", field=f"{where}.resampling",
                                value=ev.params.get("resampling"), fix=f"use one of {', '.join(RESAMPLING)}"))
    if path is None:
        return
    band = ev.params.get("band", 1)
    if not isinstance(band, int) or isinstance(band, bool):
        problems.append(Problem(file, "a band number is an integer", field=f"{where}.band", value=band, fix="band = 1"))
        return
    try:
        with rasterio.open(path) as ds:
            beyond = reads_beyond(path, allowed_roots(ev), ds.files)
            if beyond:
                problems.append(Problem(file, "reads files outside the model's folder", field=f"{where}.path",
                                        value=", ".join(beyond[:3]), fix="copy the data into the model file's folder"))
                return
            if not 1 <= band <= ds.count:
                problems.append(Problem(file, f"no such band (the raster has {ds.count})", field=f"{where}.band",
                                        value=band, fix=f"use a band from 1 to {ds.count}"))
                return
            if ds.crs is None:
                problems.append(Problem(file, "the raster has no CRS", field=f"{where}.path", value=str(path),
                                        fix="assign its CRS (e.g. gdal_edit.py -a_srs EPSG:4326)"))
            elif not (ds.crs.is_geographic or ds.crs.is_projected):
                problems.append(Problem(file, "the raster is in a local (engineering) CRS, which cannot be placed on "
                                        "the earth", field=f"{where}.path", value=str(path),
                                        fix="assign its geographic or projected CRS (e.g. gdal_edit.py -a_srs EPSG:4326)"))
            else:
                far = _far_from_vietnam(ds)
                if far:
                    problems.append(Problem(file, far, field=f"{where}.path", value=str(path),
                                            fix="check the raster's CRS (a wrong one puts it elsewhere on the earth)"))
            decl = ev.params.get("membership")
            decl = decl if isinstance(decl, dict) else {}
            if decl.get("function") == "table" and isinstance(decl.get("classes"), dict) and ds.width * ds.height <= 16e6:
                codes = np.unique(ds.read(band, masked=True).compressed())
                known = {float(k) for k in decl["classes"]}
                missing = [f"{c:g}" for c in codes if float(c) not in known]
                if missing:
                    problems.append(Problem(file, f"{len(missing)} class(es) of the raster have no membership",
                                            field=f"{where}.membership.classes", value=", ".join(missing),
                                            fix="add each to the classes table (a membership in [0, 1])"))
    except rasterio.errors.RasterioError as exc:
        problems.append(Problem(file, f"cannot open the evidence raster: {exc}", field=f"{where}.path", value=str(path)))
    except UnicodeDecodeError:  # GDAL's message quoted bytes of the broken file
        problems.append(Problem(file, "cannot open the evidence raster: GDAL cannot read it", field=f"{where}.path",
                                value=str(path)))


def _far_from_vietnam(ds) -> str | None:
    """Why the raster cannot be evidence anywhere in Vietnam (its extent misses it), or None."""
    from layers.model.rules import VIETNAM_BOUNDS
    try:
        w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
    except Exception as exc:  # noqa: BLE001 — PROJ refuses the transformation
        return f"its CRS cannot be transformed to WGS 84 ({exc})"
    vw, vs, ve, vn = VIETNAM_BOUNDS
    if not all(map(math.isfinite, (w, s, e, n))) or w > ve or e < vw or s > vn or n < vs:
        return (f"the raster does not reach Vietnam: its extent in WGS 84 is longitude {w:.4g} to {e:.4g}, "
                f"latitude {s:.4g} to {n:.4g}")
    return None


def _read_vector(ev: Evidence, columns=()) -> pd.DataFrame:
    df = pyogrio.read_dataframe(ev.path(), columns=list(columns))
    if "filter" in ev.params:
        f = ev.params["filter"]
        df = df[df[f["field"]].isin(f["values"])]
    return df.to_crs(METRIC_CRS)


def _check_vector(ev, where, file, problems, fields=()) -> pd.DataFrame | None:
    path = _file_problem(ev, where, file, problems)
    if path is None:
        return None
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:
        problems.append(Problem(file, f"cannot open the vector file: {exc}", field=f"{where}.path", value=str(path)))
        return None
    if info.get("crs") is None:
        problems.append(Problem(file, "the vector file has no CRS", field=f"{where}.path", value=str(path),
                                fix="write it with its CRS (e.g. ogr2ogr -a_srs EPSG:4326)"))
        return None
    want = [*fields, *([ev.params["filter"].get("field")] if isinstance(ev.params.get("filter"), dict) else [])]
    missing = [f for f in want if f not in list(info["fields"])]
    if missing:
        problems.append(Problem(file, "no such attribute in the vector file", field=f"{where}", value=", ".join(map(str, missing)),
                                fix=f"use one of {', '.join(info['fields'])}"))
        return None
    return _read_vector(ev, [f for f in want if f])


class _RasterValues(Kind):
    needs_function = True
    files = True

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        self.src = RasterSource(ev.path(), int(self.p.get("band", 1)))

    def close(self) -> None:
        self.src.close()

    def _factor(self, res: float, part: int) -> int:
        """How many grid cells make about 1/``part`` of a source cell (1: work at the grid's resolution)."""
        t, crs = self.src.transform, self.src.crs
        if crs.is_geographic:
            lat = math.radians(t.f + t.e * self.src.height / 2)
            cell = min(abs(t.a) * 111_320 * math.cos(lat), abs(t.e) * 110_574)
        else:
            cell = min(abs(t.a), abs(t.e)) * crs.linear_units_factor[1]
        return max(1, int(cell // (part * res)))


@kind
class RasterEvidence(_RasterValues):
    """Any GDAL raster in any CRS, resampled to the grid by ``resampling``; nodata = missing."""

    name = "raster"

    @classmethod
    def check(cls, ev, where, file, problems):
        _check_raster(ev, where, file, problems)

    def values(self, tile):
        method = self.p.get("resampling", "bilinear")
        key = (self.src.path, self.src.band, method)
        if key not in tile.cache:  # the same raster read by several evidences of the tile
            tile.cache[key] = self._read(tile, method)
        return tile.cache[key]

    def _read(self, tile, method: str) -> np.ndarray:
        """The raster at the tile's cells. A source much coarser than the grid (nearest or bilinear) is
        warped onto cells of about a quarter of its own (Grid.coarser), then taken to the grid by the
        same rule (geo.raster.resample): position error about that cell, the order of GDAL's own
        approximate transformer (0.125 source cells); 100 m tiles then cost 5 ms instead of 20-50 ms."""
        grid, win = tile.grid, tile.win
        f = self._factor(grid.res, 4) if method in UPSAMPLE else 1
        if f == 1:
            return self.src.read(grid, win, method, wanted_rows(tile.national))
        coarse, cwin = grid.coarser(win, f)
        return UPSAMPLE[method](self.src.read(coarse, cwin, method), f, cwin, win)


@kind
class RasterDerivative(_RasterValues):
    """Relief (max - min in a ``window_m`` box) or slope (degrees) of a raster resampled to the grid
    (relief of a source much coarser than the grid: at half the source's cell size, then resampled)."""

    name = "raster_derivative"
    numbers = ("window_m",)

    @classmethod
    def check(cls, ev, where, file, problems):
        _check_raster(ev, where, file, problems)
        if ev.params.get("derivative") not in ("relief", "slope"):
            problems.append(Problem(file, "unknown derivative", field=f"{where}.derivative",
                                    value=ev.params.get("derivative"), fix='use "relief" or "slope"'))

    def values(self, tile):
        grid, win = tile.grid, tile.win
        f = self._factor(grid.res, 2) if self.p["derivative"] == "relief" else 1
        if f == 1:
            return self._cached(tile, grid, win)
        # the source is much coarser than the grid: relief at about half the source's cell size, then
        # interpolated bilinearly to the grid (the same values, without filtering millions of copies)
        coarse, cwin = grid.coarser(win, f)
        return upsample_bilinear(self._cached(tile, coarse, cwin), f, cwin, win)

    def _at(self, grid, win):
        res = grid.res
        size = max(3, int(round(self.p["window_m"] / res)) | 1)
        pad = size // 2 + 1
        z = self.src.read(grid, grid.padded(win, pad), self.p.get("resampling", "bilinear"))
        d = relief(z, size) if self.p["derivative"] == "relief" else slope(z, res)
        return d[pad:-pad, pad:-pad]

    def _cached(self, tile, grid, win):
        """:meth:`_at`, once per tile for each source, derivative and window in cells (the ensemble's
        members draw window_m from a range that often rounds to the same cells)."""
        size = max(3, int(round(self.p["window_m"] / grid.res)) | 1) if self.p["derivative"] == "relief" else 0
        key = (self.src.path, self.src.band, self.p.get("resampling", "bilinear"), self.p["derivative"], size,
               grid.res, int(win.col_off), int(win.row_off), int(win.width), int(win.height))
        if key not in tile.cache:
            tile.cache[key] = self._at(grid, win)
        return tile.cache[key]


@kind
class VectorDistance(Kind):
    """Distance to the features of any vector file (optional ``filter = {field, values}``), up to ``max_distance_m``."""

    name = "vector_distance"
    numbers = ("max_distance_m",)
    needs_function = True
    files = True

    @classmethod
    def check(cls, ev, where, file, problems):
        _check_vector(ev, where, file, problems)

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        self.shapes = Shapes(_read_vector(ev).geometry.values)

    def values(self, tile):
        res = self.p.get("source_resolution_m")  # transformed on cells of a quarter of the source's resolution
        return feature_distance(tile.grid, tile.win, self.shapes, float(self.p["max_distance_m"]), tile.national,
                                res / 4 if res else None)


@kind
class VectorClass(Kind):
    """Polygons whose ``field`` maps to a membership through ``classes``; cells in no polygon are missing."""

    name = "vector_class"
    memberships = ("classes",)
    files = True

    @classmethod
    def check(cls, ev, where, file, problems):
        table = ev.params.get("classes")
        if not isinstance(table, dict) or not table:
            problems.append(Problem(file, "a class -> membership table is needed", field=f"{where}.classes",
                                    fix='classes = { CODE = 0.8, ... }'))
            table = {}
        df = _check_vector(ev, where, file, problems, [ev.params.get("field")]) if ev.params.get("field") else None
        if not ev.params.get("field"):
            problems.append(Problem(file, "the class attribute is needed", field=f"{where}.field"))
        if df is not None and table:
            missing = sorted({str(v) for v in df[ev.params["field"]].dropna()} - {str(k) for k in table})
            if missing:
                problems.append(Problem(file, f"{len(missing)} class(es) of the file have no membership",
                                        field=f"{where}.classes", value=", ".join(missing),
                                        fix="add each to the classes table (a membership in [0, 1])"))

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        df = _read_vector(ev, [self.p["field"]])
        table = {str(k): float(v) for k, v in self.p["classes"].items()}
        mu = df[self.p["field"]].astype(str).map(table).to_numpy(float)
        keep = ~np.isnan(mu)
        self.shapes = Shapes(df.geometry.values[keep], mu[keep])

    def membership(self, tile):
        return class_values(tile.grid, tile.win, self.shapes)


@kind
class PointValues(Kind):
    """Sample points with a numeric ``field``, gridded by ``method`` (nearest / idw) within ``radius_m``."""

    name = "point_values"
    numbers = ("radius_m",)
    needs_function = True
    files = True

    @classmethod
    def check(cls, ev, where, file, problems):
        if not isinstance(ev.params.get("method", "nearest"), str) or ev.params.get("method", "nearest") not in POINT_METHODS:
            problems.append(Problem(file, "unknown gridding method", field=f"{where}.method",
                                    value=ev.params.get("method"), fix=f"use one of {', '.join(POINT_METHODS)}"))
        if not ev.params.get("field"):
            problems.append(Problem(file, "the value attribute is needed", field=f"{where}.field"))
            return
        df = _check_vector(ev, where, file, problems, [ev.params["field"]])
        if df is not None and not pd.api.types.is_numeric_dtype(df[ev.params["field"]]):
            problems.append(Problem(file, "the value attribute is not numeric", field=f"{where}.field",
                                    value=ev.params["field"]))

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        df = _read_vector(ev, [self.p["field"]])
        df = df[df[self.p["field"]].notna()]
        self.samples = PointSamples(np.column_stack([df.geometry.x, df.geometry.y]), df[self.p["field"]].to_numpy(float))

    def values(self, tile):
        return grid_points(tile.grid, tile.win, self.samples, float(self.p["radius_m"]), self.p.get("method", "nearest"),
                           float(self.p.get("power", 2.0)))


@kind
class ShorelineDistance(Kind):
    """1 within ``near_m`` of the open sea (layers.derived.coast), falling linearly to ``low`` at ``far_m``."""

    name = "shoreline_distance"
    numbers = ("near_m", "far_m", "high", "low")
    memberships = ("high", "low")

    def membership(self, tile):
        p = self.p
        return linear_decay(self.distance(tile, p["far_m"]), p["near_m"], p["far_m"], p["high"], p["low"])

    @staticmethod
    def distance(tile, reach_m: float) -> np.ndarray:
        """Distance (m) from each cell to the sea, exact up to ``reach_m`` (inf beyond): the one code path
        of every "near the sea" rule (this evidence and the coastal placers' validation null)."""
        return tile.shore_distance(reach_m)


@kind
class Unavailable(Kind):
    """Evidence the model needs but the project lacks: missing everywhere (counted in the uncertainty)."""

    name = "unavailable"

    def membership(self, tile):
        return None


@kind
class SiteDistance(Kind):
    """1 within a known site's location uncertainty, falling linearly to ``low`` at ``decay_m`` beyond it."""

    name = "site_distance"
    score = "proximity"
    numbers = ("decay_m", "high", "low")
    memberships = ("high", "low")

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        self.sites = ctx.inputs.sites.get(ctx.deposit_type, pd.DataFrame(columns=["x", "y", "uncertainty_m"]))
        self.near = self.sites["uncertainty_m"].to_numpy(np.float32)
        self.far = self.near + np.float32(self.p["decay_m"])

    def _mu(self, d, k):
        return linear_decay(d, self.near[k], self.far[k], self.p["high"], self.p["low"])

    def membership(self, tile):
        return point_influence(tile.grid, tile.win, self.sites[["x", "y"]].to_numpy(), self.far, self._mu, self.p["low"])

    def loo(self, tile, cluster, xs, ys):
        """The membership at the points without the sites ``cluster.removed``; a site whose ``far``
        (where its membership has fallen to ``low``) does not reach the points' box is skipped: it
        would change nothing."""
        out = np.full(np.shape(xs), self.p["low"], dtype=np.float32)
        if not np.size(xs):
            return out
        sx, sy = self.sites["x"].to_numpy(float), self.sites["y"].to_numpy(float)
        gap = np.hypot(np.maximum(0, np.maximum(xs.min() - sx, sx - xs.max())),
                       np.maximum(0, np.maximum(ys.min() - sy, sy - ys.max())))
        for j in range(len(sx)):
            if j not in cluster.removed and gap[j] < self.far[j] + 1:  # + 1 m: float32 rounding of d
                d = np.hypot(xs - sx[j], ys - sy[j]).astype(np.float32)
                np.maximum(out, self._mu(d, j), out=out)
        return out


def type_zones(inputs, deposit_type: str) -> list[int]:
    """Indices of the type's prospect zones drawn from its known sites (zones derived from independent
    evidence feed no proximity score), lowest confidence first (so the highest one wins)."""
    zones = inputs.zones
    own = zones["deposit_type"] == deposit_type
    if "derived_from" in zones:
        own &= zones["derived_from"] != "independent_evidence"
    return sorted(np.flatnonzero(own),
                  key=lambda i: CONFIDENCE_ORDER.get(zones["confidence"].iloc[i], 0))


@kind
class ZoneMembership(Kind):
    """The confidence value of the type's (site-derived) prospect zone containing the cell, ``outside`` elsewhere."""

    name = "zone_membership"
    score = "proximity"
    numbers = ("outside",)
    memberships = ("outside", "confidence")

    @classmethod
    def check(cls, ev, where, file, problems):
        conf = ev.params.get("confidence") or {}
        for level in ("high", "medium", "low"):
            if not isinstance(conf.get(level), (int, float)):
                problems.append(Problem(file, "a membership in [0, 1] is needed", field=f"{where}.confidence.{level}",
                                        value=conf.get(level)))

    def __init__(self, ev, ctx):
        super().__init__(ev, ctx)
        self.zones = type_zones(ctx.inputs, ctx.deposit_type)
        self.held_out = (loo_zones(ctx.frames, ctx.inputs, ctx.deposit_type, ctx.pool, ctx.clusters)
                         if ctx.frames and ctx.clusters else {})

    def _value(self, i: int) -> np.float32:
        return np.float32(self.p["confidence"][self.ctx.inputs.zones["confidence"].iloc[i]])

    def membership(self, tile):
        a = np.full(tile.national.shape, self.p["outside"], dtype=np.float32)
        for i in self.zones:
            a[tile.zone(i)] = self._value(i)
        return a

    def loo(self, tile, cluster, xs, ys):
        if cluster.key not in self.held_out:
            return None
        out = np.full(np.shape(xs), self.p["outside"], dtype=np.float32)
        for i in self.zones:  # lowest confidence first: the highest wins
            geom = self.held_out[cluster.key][i]
            if geom is not None and not geom.is_empty:
                out[shapely.contains_xy(geom, xs, ys)] = self._value(i)
        return out


def loo_zones(frames, inputs, deposit_type: str, pool, clusters) -> dict[str, dict[int, object]]:
    """Per validation site of the type (``clusters``): every zone of its type around the site's discs,
    where each zone derived from the sites (``method`` and ``parameters`` columns,
    layers/derived/zones.py) is derived again without the sites the validation site leaves out
    (``cluster.removed``, and every site of another type the zone is drawn from whose influence reaches
    the discs). Zones with no such rule are used as they are."""
    from layers.derived.zones import zone_geometry, zone_inputs
    if deposit_type not in inputs.sites:
        return {}
    derived = {"method", "parameters"} <= set(inputs.zones.columns)
    deposits, coast, land = zone_inputs(frames) if derived else (None, None, None)
    s = inputs.sites[deposit_type]

    def geoms(cluster) -> dict[int, object]:
        m = list(cluster.members)
        x, y, u = s["x"].to_numpy()[m], s["y"].to_numpy()[m], s["uncertainty_m"].to_numpy()[m]
        left_out = set(s["id"].iloc[list(cluster.removed)])
        if deposits is not None:  # and every site of any type feeding the zones whose influence reaches the discs
            dx = deposits.geometry.x.to_numpy()[:, None] - x[None, :]
            dy = deposits.geometry.y.to_numpy()[:, None] - y[None, :]
            du = deposits["location_uncertainty_m"].astype(float).fillna(0).to_numpy()[:, None] + u[None, :]
            left_out |= set(deposits["id"][(np.hypot(dx, dy) - du < cluster.reach_m).any(axis=1)])
        out = {}
        for i in type_zones(inputs, deposit_type):
            z = inputs.zones.iloc[i]
            geom = z.geometry
            if derived and isinstance(z["method"], str):
                rule = {**json.loads(z["parameters"]), "method": z["method"]}
                if deposit_type in rule["deposit_types"]:
                    # exact over the discs: the clip reaches past the strip width beyond every disc
                    r = max(LOO_CLIP_M, 2 * rule.get("width_m", 0)) + float(u.max())
                    geom = zone_geometry(rule, deposits[~deposits["id"].isin(left_out)], coast, land,
                                         (x.min() - r, y.min() - r, x.max() + r, y.max() + r))
            shapely.prepare(geom)  # many cell centres are tested against it
            out[int(i)] = geom
        return out
    return dict(zip((c.key for c in clusters), (pool.map if pool else map)(geoms, clusters)))
