"""The open-sea coast: what every coastal rule of the project measures to (sources/open_sea.toml).

One geometry, :func:`open_sea` (computed once per build and kept in the build's frames), and one
distance, :func:`open_sea_distance`: the coastline layer, the coastal placer strip and zones, the
``shoreline_distance`` evidence (``near_shoreline``) and the validation's placer null all read them, so
an estuary channel, a lagoon's inland arm, a lake or a reservoir is never "coast" for any of them.
"""
from __future__ import annotations

import math

import numpy as np
import shapely
from rasterio.windows import Window

from geo.crs import METRIC_CRS
from geo.errors import Problem, SourceDataError, raise_if
from geo.grid import Grid, Shapes, burn
from geo.files.cache import cached_geometry, digest
from geo.files.tomlfile import read_toml
from geo.raster.distance import inner_distance
from geo.vector import open_water
from layers import ROOT
from layers.registry import params_check

RULE_PATH = ROOT / "sources" / "open_sea.toml"
_KEY = "_open_sea_metric"  # cache key in the build's frames (never written out)


def open_sea_rule(path=RULE_PATH) -> dict:
    """The declared rule (``min_width_m``, ``quad_segs``, ``basis``/``refs``), checked."""
    rule = read_toml(path, SourceDataError)
    problems = []
    w = rule.get("min_width_m")
    if not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 < w <= 50_000:
        problems.append(Problem(str(path), "the open sea's minimum width must be a number of metres in (0, 50000]",
                                field="min_width_m", value=w, fix="min_width_m = 2000"))
    q = rule.get("quad_segs", 2)
    if not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= 16:
        problems.append(Problem(str(path), "must be an integer in [1, 16]", field="quad_segs", value=q))
    if not rule.get("refs") and rule.get("basis") != "judgement":
        problems.append(Problem(str(path), "no reference id", field="refs",
                                fix='cite an id from sources/references.csv, or say basis = "judgement"'))
    raise_if(problems, SourceDataError)
    return rule


_MEMO: dict[str, shapely.Geometry] = {}  # land and rule digest -> open sea, for the process's later builds


def open_sea(frames) -> shapely.Geometry:
    """The open sea (metric CRS) around the build's ``land`` layer, by the declared rule: computed once
    per land, rule and code (3.2 s on the national land, measured), then read from the user's cache
    (geo/files/cache.py; the key is the SHA-256 of the land's WKB, the rule and the source of the functions
    that make it) and kept in the process (the layer checks and the grids of one build read separate frames)."""
    if _KEY not in frames:
        land, rule = frames["land"].to_crs(METRIC_CRS).geometry.values, open_sea_rule()
        key = digest(b"".join(shapely.to_wkb(np.asarray(land, dtype=object))), repr(sorted(rule.items())),
                     code=(open_sea_of, open_water))
        if key not in _MEMO:
            _MEMO.clear()  # one land at a time: the memo never grows
            _MEMO[key] = cached_geometry("open_sea", key, lambda: open_sea_of(land, rule))
        frames[_KEY] = _MEMO[key]
    return frames[_KEY]


def open_sea_of(land, rule: dict | None = None) -> shapely.Geometry:
    """The open sea around ``land`` (polygons in the metric CRS) by the declared rule (``rule``: it, read)."""
    rule = open_sea_rule() if rule is None else rule
    return open_water(land, float(rule["min_width_m"]), int(rule.get("quad_segs", 2)))


def reach_cells(res: float, reach_m: float) -> int:
    """The padding (cells) :func:`open_sea_distance` transforms over for ``reach_m``: what its result depends on."""
    return int(math.ceil(reach_m / res)) + 1


def open_sea_distance(grid: Grid, win: Window, sea: Shapes, reach_m: float, cells: np.ndarray | None = None) -> np.ndarray:
    """Distance (m, float32) from each cell of ``win`` to the nearest open-sea cell (``sea``: the
    :func:`open_sea` geometry as :class:`Shapes`; a cell is sea when its centre lies in it), exact up to
    ``reach_m`` (farther: inf); open-sea cells are 0. ``cells`` (a mask of the window): only the box
    around these cells is transformed (the others are inf). Exact Euclidean distance transform (scipy,
    Maurer et al. 2003) between cell centres, over the window padded by the reach."""
    shape = (int(win.height), int(win.width))
    out = np.full(shape, np.inf, dtype=np.float32)
    cells = np.ones(shape, bool) if cells is None else cells
    rows, cols = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
    if not len(rows):
        return out
    sub = Window(win.col_off + cols[0], win.row_off + rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
    pad = reach_cells(grid.res, reach_m)
    dry = burn(grid, grid.padded(sub, pad), sea) == 0  # not open sea: land, estuaries, lagoons, lakes
    if dry.all():
        return out
    h, w = int(sub.height), int(sub.width)
    if not dry.any():
        d = np.zeros((h, w))
    else:  # transformed over the box of the window and the sea cells: the dry margin beyond them changes no distance
        wet = ~dry
        r, c = np.flatnonzero(wet.any(axis=1)), np.flatnonzero(wet.any(axis=0))
        r0, r1, c0, c1 = min(r[0], pad), max(r[-1] + 1, pad + h), min(c[0], pad), max(c[-1] + 1, pad + w)
        d = inner_distance(dry[r0:r1, c0:c1], pad - r0, pad - c0, h, w)
    out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = d * grid.res
    return out


@params_check("coastline")
def check_open_sea_rule(spec, catalog) -> list[Problem]:
    """The declared open-sea rule's problems, before any builder runs."""
    try:
        open_sea_rule(spec.source.params)
    except SourceDataError as exc:
        return list(exc.problems)
    return []
