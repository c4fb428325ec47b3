"""A model reads only what it names (issue 22): hostile model files and evidence rasters, made in code.

A VRT whose raw band points at /etc/passwd, or whose source is a /vsicurl/ URL (at 127.0.0.1 only: a
listening socket of this test, which must never see a connection), a path outside the model's folder,
a band out of range, a local (engineering) CRS, a raster far from Vietnam, a relief window of 1e12 m,
integers beyond 64 bits, a deeply nested file, and `--evidence` values outside 0-1: each is refused
by the model's loader in one line, before GDAL opens what it should not."""
from __future__ import annotations

import socket
import textwrap

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from conftest import geo_in_process
from geo.errors import GeoError
from layers.model.model_spec import load_spec

X0, Y0, RES, N = 560_000.0, 2_350_000.0, 5000.0, 10  # near Hà Nội, VN-2000 / UTM 48N

HEAD = """
resolution_m = 5000
ensemble_resolution_m = 20000
[style]
score_ramp = ["#000000", "#ffffff"]
uncertainty_ramp = ["#000000", "#ffffff"]
[types.weathering_crust]
operator = "and"
rationale = "test"
refs = ["r"]
"""

RASTER = """
[[types.weathering_crust.evidence]]
name = "elevation"
kind = "raster"
path = "{path}"
band = {band}
membership = {{ function = "linear", x0 = 0, x1 = 1000 }}
basis = "judgement"
rationale = "test"
"""

RELIEF = """
[[types.weathering_crust.evidence]]
name = "relief"
kind = "raster_derivative"
path = "dem.tif"
derivative = "relief"
window_m = {window}
membership = {{ function = "linear", x0 = 0, x1 = 440 }}
basis = "judgement"
rationale = "test"
"""


def write_dem(path, crs="EPSG:3405", transform=Affine(RES, 0, X0, 0, -RES, Y0), values=None):
    z = np.arange(N * N, dtype=np.float32).reshape(N, N) if values is None else values
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=1, dtype="float32", crs=crs,
                       transform=transform, nodata=-9999) as ds:
        ds.write(z, 1)
    return path


def model(d, path="dem.tif", band=1, extra="") -> str:
    f = d / "model.toml"
    f.write_text(HEAD + RASTER.format(path=path, band=band) + extra, encoding="utf-8")
    return str(f)


def refused(path) -> str:
    """The loader's one-line refusal of the model file ``path``."""
    with pytest.raises(GeoError) as exc:
        load_spec(path)
    text = str(exc.value)
    assert "\n" not in text
    return text


def vrt(source: str, relative: bool = False, raw: bool = False) -> str:
    band = (f'<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand"><SourceFilename relativeToVRT='
            f'"{int(relative)}">{source}</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset>'
            f'<LineOffset>{N}</LineOffset></VRTRasterBand>' if raw else
            f'<VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename relativeToVRT="{int(relative)}">'
            f'{source}</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>')
    return (f'<VRTDataset rasterXSize="{N}" rasterYSize="{N}"><SRS>EPSG:3405</SRS>'
            f'<GeoTransform>{X0}, {RES}, 0, {Y0}, 0, {-RES}</GeoTransform>{band}</VRTDataset>')


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that records whether anything connected (nothing may)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    s.settimeout(0.5)
    yield s.getsockname()[1], s
    s.close()


def _connected(s) -> bool:
    try:
        conn, _ = s.accept()
    except (TimeoutError, socket.timeout):
        return False
    conn.close()
    return True


def test_a_good_model_raster_loads(tmp_path):
    write_dem(tmp_path / "dem.tif")
    (tmp_path / "ok.vrt").write_text(vrt("dem.tif", relative=True))
    load_spec(model(tmp_path))
    load_spec(model(tmp_path, "ok.vrt"))  # a VRT whose sources stay in the model's folder is fine


def test_vrt_raw_band_on_etc_passwd_is_refused(tmp_path):
    (tmp_path / "passwd.vrt").write_text(vrt("/etc/passwd", raw=True))
    text = refused(model(tmp_path, "passwd.vrt"))
    assert "field 'types.weathering_crust.evidence[0].path': reads files outside the model's folder" in text
    assert "/etc/passwd" in text and "fix: copy the data into the model file's folder" in text


def test_vrt_relative_escape_and_symlink_are_refused(tmp_path):
    inner = tmp_path / "model"
    inner.mkdir()
    write_dem(tmp_path / "outside.tif")
    (inner / "up.vrt").write_text(vrt("../outside.tif", relative=True))
    assert "outside.tif" in refused(model(inner, "up.vrt"))
    (inner / "link.tif").symlink_to(tmp_path / "outside.tif")
    assert "outside.tif" in refused(model(inner, "link.tif"))
    assert "outside.tif" in refused(model(inner, str(tmp_path / "outside.tif")))  # an absolute path elsewhere


def test_nested_vrt_is_followed(tmp_path):
    (tmp_path / "inner.vrt").write_text(vrt("/etc/passwd", raw=True))
    (tmp_path / "outer.vrt").write_text(vrt("inner.vrt", relative=True))
    assert "/etc/passwd" in refused(model(tmp_path, "outer.vrt"))


@pytest.mark.parametrize("source", ["/vsicurl/http://127.0.0.1:{port}/dem.tif", "http://127.0.0.1:{port}/dem.tif",
                                    "/vsizip//vsicurl/http://127.0.0.1:{port}/a.zip/dem.tif",
                                    'HDF5:"/vsicurl/http://127.0.0.1:{port}/x.h5"://dem'])
def test_vrt_on_the_network_is_refused_without_a_connection(tmp_path, listener, source):
    port, sock = listener
    (tmp_path / "net.vrt").write_text(vrt(source.format(port=port)))
    text = refused(model(tmp_path, "net.vrt"))
    assert "reads files outside the model's folder or from the network" in text and "127.0.0.1" in text
    assert not _connected(sock), "GDAL opened a network connection"


@pytest.mark.parametrize("band, text", [(2, "no such band (the raster has 1) (value: 2); fix: use a band from 1 to 1"),
                                        (0, "no such band"), ('"1"', "a band number is an integer (value: '1')"),
                                        (1.5, "a band number is an integer (value: 1.5)"),
                                        (99999999999999999999, "an integer beyond 64 bits")])
def test_band_out_of_range_or_not_an_integer(tmp_path, band, text):
    write_dem(tmp_path / "dem.tif")
    assert text in refused(model(tmp_path, band=band))


def test_raster_in_a_local_engineering_crs(tmp_path):
    write_dem(tmp_path / "dem.tif", crs=CRS.from_wkt('LOCAL_CS["mine grid",UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'))
    assert "a local (engineering) CRS" in refused(model(tmp_path))


def test_raster_far_from_vietnam(tmp_path):
    """The same cells declared in UTM zone 10N (California): evidence missing everywhere before; now refused."""
    write_dem(tmp_path / "dem.tif", crs="EPSG:32610")
    text = refused(model(tmp_path))
    assert "the raster does not reach Vietnam: its extent in WGS 84 is longitude -12" in text
    assert "fix: check the raster's CRS" in text


@pytest.mark.parametrize("window, text", [("1e12", "a distance beyond 100 km (value: 1000000000000.0)"),
                                          ("100001", "a distance beyond 100 km")])
def test_relief_window_too_wide(tmp_path, window, text):
    write_dem(tmp_path / "dem.tif")
    assert text in refused(model(tmp_path, extra=RELIEF.format(window=window)))


@pytest.mark.parametrize("line, text", [
    ("ensemble_seed = 99999999999999999999999", "field 'ensemble_seed': an integer beyond 64 bits"),
    ("ensemble_seed = -1", "field 'ensemble_seed': a seed from 0 to 4294967295"),
    ("ensemble_runs = 9223372036854775807", "field 'ensemble_runs': at most 200 runs"),
    ("table_resolution_m = 0.001", "field 'table_resolution_m': must be a number of metres from 100 to 100000"),
    ("ensemble_resolution_m = 1", "field 'ensemble_resolution_m': must be a number of metres from 1000"),
    ("ensemble_resolution_m = \"x\"", "field 'ensemble_resolution_m': must be a int/float"),
    ("deep = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("deep = " + "{a = " * 400 + "1" + "}" * 400, "nested too deeply"),
    ("big = " + "9" * 5000, "an integer far beyond 64 bits"),
])
def test_hostile_numbers_and_nesting(tmp_path, line, text):
    write_dem(tmp_path / "dem.tif")
    f = tmp_path / "model.toml"
    head = HEAD.replace("ensemble_resolution_m = 20000", line) if line.startswith("ensemble_res") else line + "\n" + HEAD
    f.write_text(head + RASTER.format(path="dem.tif", band=1), encoding="utf-8")
    assert text in refused(f)


def test_a_deeply_nested_model_through_the_cli(tmp_path):
    f = tmp_path / "model.toml"
    f.write_text("x = " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    rc, _, err = geo_in_process("grid", "--model", str(f), "--out", str(tmp_path / "out"))
    assert rc == 2 and err.strip().splitlines() == [
        f"error: {f}: not valid TOML: arrays or tables nested too deeply; fix: flatten the file"], err


def test_evidence_values_outside_0_1_are_refused(tmp_path):
    """`--evidence` takes fuzzy memberships: a DEM given by mistake was clipped silently before."""
    bad = write_dem(tmp_path / "dem.tif", values=np.full((N, N), 850.0, dtype=np.float32))
    rc, _, err = geo_in_process("grid", "--evidence", str(bad), "--resolution", "20000", "--out", str(tmp_path / "o"))
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1, err
    assert "field '--evidence': values outside 0-1: --evidence takes fuzzy memberships (value: 850.0, 850.0)" in lines[0]
    assert not (tmp_path / "o").exists()


def test_evidence_vrt_reading_beyond_its_folder_is_refused(tmp_path, listener):
    port, sock = listener
    (tmp_path / "e.vrt").write_text(vrt(f"/vsicurl/http://127.0.0.1:{port}/e.tif"))
    rc, _, err = geo_in_process("grid", "--evidence", str(tmp_path / "e.vrt"), "--resolution", "20000",
                                "--out", str(tmp_path / "o"))
    assert rc == 2 and "reads files outside the model's folder or from the network" in err, err
    assert not _connected(sock)


def test_a_model_vector_vrt_beyond_its_folder_is_refused(tmp_path):
    (tmp_path / "faults.vrt").write_text(textwrap.dedent("""\
        <OGRVRTDataSource><OGRVRTLayer name="f"><SrcDataSource relativeToVRT="0">/etc/passwd</SrcDataSource>
        </OGRVRTLayer></OGRVRTDataSource>"""))
    write_dem(tmp_path / "dem.tif")
    extra = textwrap.dedent("""
        [[types.weathering_crust.evidence]]
        name = "near_fault"
        kind = "vector_distance"
        path = "faults.vrt"
        max_distance_m = 40000
        membership = { function = "linear", x0 = 0, x1 = 40000, mu0 = 1.0, mu1 = 0.0 }
        basis = "judgement"
        rationale = "test"
        """)
    assert "/etc/passwd" in refused(model(tmp_path, extra=extra))


def test_evidence_text_naming_no_evidence_is_refused(tmp_path):
    """A reader's title for an evidence the model does not have (a renamed or dropped one) is a mistake."""
    write_dem(tmp_path / "dem.tif")
    f = tmp_path / "model.toml"
    f.write_text(HEAD + RASTER.format(path="dem.tif", band=1) + """
[evidence_text.moderate_elevation]
title = { vi = "Độ cao", en = "Elevation" }
""", encoding="utf-8")
    text = refused(f)
    assert "evidence_text.moderate_elevation" in text and "names no evidence of any type" in text, text


def test_every_evidence_text_of_the_project_model_names_an_evidence():
    spec = load_spec()
    named = {e.name for t in spec.types.values() for e in t.evidence}
    assert set(spec.raw.get("evidence_text", {})) <= named
