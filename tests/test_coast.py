"""Coast means the open sea (issue 19): estuary channels, lagoons behind narrow inlets, lakes and reservoirs
are not coast for the shoreline evidence, the coastline, the placer strip and zones; a fault layer's
coverage makes the cells outside it missing, never "far"."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import geopandas as gpd
import pytest
import shapely

from geo.crs import METRIC_CRS
from geo.vector import open_water

VIET_TRI = (105.435, 21.304)  # on the Red River, ~150 km from the sea; GSHHG lets the river in as water
RESERVOIR = (108.60, 11.89)  # a highland reservoir in Lâm Đồng (a hole of the GSHHG land)
BEACH = (109.22, 13.77)  # Quy Nhơn, 1.5 km from its open beach: coast


def _metric(lon, lat):
    return gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(METRIC_CRS).iloc[0]


def test_open_water_cuts_narrow_channels_and_what_lies_behind_them():
    """A 40 x 40 km island with a bay 8 km wide (open sea), a channel 1 km wide leading to an inland lake,
    and a lake with no outlet: only the bay and the ocean are open sea with a 2 km disc."""
    land = shapely.box(0, 0, 40_000, 40_000)
    bay = shapely.box(16_000, 30_000, 24_000, 40_001)  # open to the north
    channel = shapely.box(-1, 19_500, 10_000, 20_500)  # 1 km wide, from the west shore
    lake = shapely.box(10_000, 15_000, 20_000, 25_000)
    pond = shapely.box(28_000, 5_000, 34_000, 11_000)
    island = land.difference(shapely.union_all([bay, channel, lake, pond]))
    sea = open_water([island], 2000)
    assert sea.contains(shapely.Point(20_000, 35_000)), "the bay 8 km wide is open sea"
    assert sea.contains(shapely.Point(-10_000, 20_000)), "the ocean is open sea"
    for name, p in {"channel": (5_000, 20_000), "lake behind it": (15_000, 20_000), "pond": (31_000, 8_000)}.items():
        assert not sea.intersects(shapely.Point(p).buffer(100)), f"the {name} is not open sea"
    narrow = open_water([island], 500)  # a disc narrower than the channel passes it
    assert narrow.contains(shapely.Point(15_000, 20_000))


def test_the_open_sea_is_cached_by_content_and_a_bad_entry_is_computed_again(tmp_path, monkeypatch):
    """The cached open sea is the computed one, byte for byte; another land or rule is another entry; an
    unreadable entry is computed again and replaced; an unwritable cache folder is only not used."""
    from layers.derived import coast
    island = shapely.box(0, 0, 40_000, 40_000).difference(shapely.box(-1, 19_500, 10_000, 20_500))  # a 1 km channel
    land = gpd.GeoDataFrame(geometry=[island], crs=METRIC_CRS)
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(coast, "_MEMO", {})
    fresh = coast.open_sea_of([island])
    first = coast.open_sea({"land": land})
    [entry] = (tmp_path / "cache").glob("open_sea-*.wkb")
    assert shapely.to_wkb(first) == shapely.to_wkb(fresh) == entry.read_bytes()
    coast._MEMO.clear()
    entry.write_bytes(b"not wkb")
    assert shapely.to_wkb(coast.open_sea({"land": land})) == shapely.to_wkb(fresh)
    assert entry.read_bytes() == shapely.to_wkb(fresh)  # replaced
    coast._MEMO.clear()
    monkeypatch.setattr(coast, "open_sea_rule", lambda path=None: {"min_width_m": 500, "quad_segs": 2, "basis": "judgement"})
    narrow = coast.open_sea({"land": land})  # the channel is open sea for a 500 m disc
    assert len(list((tmp_path / "cache").glob("open_sea-*.wkb"))) == 2 and narrow.area > fresh.area
    coast._MEMO.clear()
    coast.open_sea({"land": gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 30_000, 30_000)], crs=METRIC_CRS)})
    assert len(list((tmp_path / "cache").glob("open_sea-*.wkb"))) == 3
    coast._MEMO.clear()
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "file" / "cache"))  # a path under a file: not writable
    assert coast.open_sea({"land": land}).area == narrow.area


@pytest.fixture(scope="module")
def cells(project):
    """The coastal placer evidence explained at Việt Trì, the reservoir and a beach (1 km cells)."""
    from layers.model.explain import explain
    frames = project[1]
    return {name: {r.evidence: r.membership for r in explain(frames, "coastal_placer", *p, resolution=1000)[1]}
            for name, p in {"viet_tri": VIET_TRI, "reservoir": RESERVOIR, "beach": BEACH}.items()}


def test_viet_tri_and_a_reservoir_are_not_coast_but_a_beach_is(cells):
    assert cells["viet_tri"]["near_shoreline"] <= 0.1  # was 1.000 when the river counted as sea
    assert cells["reservoir"]["near_shoreline"] <= 0.1
    assert cells["beach"]["near_shoreline"] >= 0.8
    # no river "mouth" on the Red River at Việt Trì or on the reservoir: the mouths are on the open sea
    assert cells["viet_tri"]["near_river_mouth"] < 0.5 and cells["reservoir"]["near_river_mouth"] < 0.5


def test_every_cell_more_than_30_km_from_the_open_sea_scores_at_most_0_1(project):
    """Over a 20 km grid of Vietnam: near_shoreline <= 0.1 wherever the open sea is more than 30 km away
    (by the same distance function, layers.derived.coast.open_sea_distance) and wherever the old,
    land-boundary distance said "coast" but the open sea is far (the Red River, the reservoirs)."""
    from layers.derived.coast import open_sea
    from layers.model.evidence import RunContext
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import bind, national_grid, prepare, score_tile
    frames = project[1]
    spec = load_spec()
    model = spec.types["coastal_placer"]
    inputs = prepare(frames)
    grid = national_grid(inputs, 20_000)
    kinds = bind(model, RunContext(inputs, grid, "coastal_placer"))
    from rasterio.windows import Window
    ts = score_tile(inputs, grid, Window(0, 0, grid.width, grid.height), {"coastal_placer": (model, kinds)})
    i = [k.ev.name for k in kinds].index("near_shoreline")
    mem = ts.mems["coastal_placer"][i]
    xs, ys = grid.centres(Window(0, 0, grid.width, grid.height))
    pts = shapely.points(*np.meshgrid(xs, ys))
    far = shapely.distance(open_sea(frames), pts) > 30_000
    assert (far & ts.national).sum() > 100
    assert np.nanmax(mem[far & ts.national]) <= 0.1


def test_no_placer_zone_or_coastline_round_inland_water(project):
    frames = project[1]
    zones = frames["coastal_placer_zones"].to_crs(METRIC_CRS)
    strip = frames["prospect_zones"].to_crs(METRIC_CRS)
    strip = strip[strip["method"] == "coastal_strip"].geometry.iloc[0]
    coast = frames["coastline"].to_crs(METRIC_CRS).geometry.iloc[0]
    for name, p in {"Việt Trì": VIET_TRI, "the reservoir": RESERVOIR}.items():
        pt = _metric(*p)
        assert zones.distance(pt).min() > 20_000, f"a placer zone lies round {name}"
        assert strip.distance(pt) > 20_000 and coast.distance(pt) > 20_000, name
    assert coast.distance(_metric(*BEACH)) < 2_000


def test_a_fault_coverage_makes_cells_outside_it_missing(project, tmp_path):
    """The same fault evidence with and without a coverage box: outside the box every cell is missing
    (NaN, counted in the uncertainty), inside it the memberships are unchanged."""
    from rasterio.windows import Window
    from layers.model.evidence import Evidence, RunContext, KINDS
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import national_grid, prepare, score_tile, bind
    spec = load_spec()
    model = spec.types["alkaline_carbonatite"]
    ev = next(e for e in model.evidence if e.name == "deep_faults")
    assert ev.params["coverage"]["bbox"][1] == 17.0, "the shipped faults have data north of 17 N only"
    inputs = prepare(project[1])
    grid = national_grid(inputs, 20_000)
    win = Window(0, 0, grid.width, grid.height)
    params = {k: v for k, v in ev.params.items() if k != "coverage"}
    bare = KINDS["vector_distance"](Evidence("f", "vector_distance", params, "", (), base=ev.base), RunContext(inputs, grid, "x"))
    boxed = bind(model, RunContext(inputs, grid, "alkaline_carbonatite"))[[e.name for e in model.evidence].index("deep_faults")]
    ts = score_tile(inputs, grid, win, {})
    a, b = bare.evaluate(ts.tile), boxed.evaluate(ts.tile)
    xs, ys = grid.centres(win)
    lat = gpd.GeoSeries(shapely.points(np.full(len(ys), xs[len(xs) // 2]), ys), crs=METRIC_CRS).to_crs(4326).y.to_numpy()
    south = (lat < 16.8)[:, None] & ts.national
    north = (lat > 17.2)[:, None] & ts.national
    assert south.sum() > 100 and north.sum() > 100
    assert np.isnan(b[south]).all() and not np.isnan(a[south]).any(), "south of the coverage: missing, not far"
    np.testing.assert_array_equal(a[north], b[north])
    # the type's evidence score has no data south of the coverage (every other evidence is unavailable)
    full = score_tile(inputs, grid, win, {"alkaline_carbonatite": (model, bind(model, RunContext(inputs, grid, "alkaline_carbonatite")))})
    score, missing = full.scores[("alkaline_carbonatite", "evidence")]
    inside = south[ts.national]
    assert np.isnan(score[inside]).all() and (missing[inside] == 1).all()


SOURCES = Path("/work/shared/data/sources")


@pytest.mark.skipif(not (SOURCES / "gem_gaf_2017").is_dir(), reason="the pinned fault source files are not on this machine")
def test_the_fault_extract_is_rebuilt_byte_identically_from_the_source_files(tmp_path):
    from layers import ROOT
    from layers.open_evidence.regenerate import write_faults
    write_faults(SOURCES / "gem_gaf_2017" / "gem_active_faults.geojson.zip",
                 SOURCES / "himatibetmap" / "HimaTibetMap.geojson", tmp_path)
    name = "faults_north_vietnam.geojson"
    assert (tmp_path / name).read_bytes() == (ROOT / "open_evidence" / name).read_bytes()
    for licence in ("LICENSE-GEM-GAF-CC-BY-4.0.txt", "LICENSE-HimaTibetMap-ODC-By-1.0.txt"):
        assert (ROOT / "open_evidence" / licence).stat().st_size > 1000


def test_faults_layer_names_its_source_and_licence_per_feature(project):
    faults = project[1]["faults"]
    assert len(faults) == 30 and faults["source"].notna().all() and faults["licence"].isin(["CC-BY-4.0", "ODC-By-1.0"]).all()
    red = faults[faults["name_en"] == "Red River Fault"]
    assert red["name_vi"].tolist() == ["Đứt gãy Sông Hồng"] and red["source"].tolist() == ["HimaTibetMap"]
    lat = faults.to_crs(4326).geometry.bounds["miny"]
    assert lat.min() > 17.0  # no trace south of 17 N: the evidence's coverage stops there
