"""Each bad input the robustness probe found (issue 15), fed exactly as found through `geo validate`
and `geo build` on a copy of the sources: exit 2, one line naming file, row or line, field and value,
and the previous build's outputs byte-identical."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import pytest

from conftest import ROOT, copy_sources, geo_in_process, run_geo
from geo.errors import Problem, plain


def _csv_cell(path: Path, row: int, field: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[row][rows[0].index(field)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _overflow(root):
    _csv_cell(root / "sources/deposits.csv", 1, "location_uncertainty_m", "99999999999999999999999999999999")


def _nan(root):
    _csv_cell(root / "sources/deposits.csv", 1, "lon", "nan")


def _nul(root):
    _csv_cell(root / "sources/deposits.csv", 1, "name_vi", "Đông\x00Pao")


def _outside(root):  # the numbers of a coordinate pair are shown plainly, not as numpy reprs
    _csv_cell(root / "sources/deposits.csv", 1, "lon", "200")
    _csv_cell(root / "sources/deposits.csv", 1, "lat", "22.296218")  # whatever the row's own position is


def _toml_equals(root):
    path = root / "sources/prospect_zones.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("refs = [", "refs == [", 1), encoding="utf-8")


def _refs_deleted(root):
    path = root / "sources/prospect_zones.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^refs = \[.*\n", "", text, count=1), encoding="utf-8")


def _land_cut(root):
    path = root / "base/land.geojson"
    path.write_bytes(path.read_bytes()[:5000])


CASES = {  # name: (mutation, what the one line must contain)
    "overflowing integer": (_overflow, ["sources/deposits.csv, row 1, field 'location_uncertainty_m'",
                                        "(value: '99999999999999999999999999999999')"]),
    "nan longitude": (_nan, ["sources/deposits.csv, row 1, field 'lon'", "not a valid real", "(value: 'nan')"]),
    "NUL in a name": (_nul, ["sources/deposits.csv, row 1, field 'name_vi'", "control character U+0000",
                             r"(value: 'Đông\x00Pao')"]),
    "coordinates shown plainly": (_outside, ["sources/deposits.csv, row 1, field 'lon/lat'",
                                             "(value: 200.0, 22.296218)"]),
    "one '=' too many in the zone rules": (_toml_equals, [
        "sources/prospect_zones.toml, line 13", "not valid TOML", "(value: 'refs == [\"sanematsu_2015_pacrim\""]),
    "a zone's refs deleted": (_refs_deleted, [
        "sources/prospect_zones.toml, field 'zones[0] (northern_hard_rock_belt).refs': missing required key"]),
    "land.geojson cut at 5,000 bytes": (_land_cut, ["base/land.geojson: cannot be read as a vector file",
                                                    "Unterminated array"]),
}


def _sha(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """Outputs of an earlier good build (20 km grids: fast), that a refused build must leave alone."""
    out = tmp_path_factory.mktemp("previous")
    rc, _, err = geo_in_process("-q", "build", "--out", str(out), "--resolution", "20000")
    assert rc == 0, err
    return out, _sha(out)


@pytest.mark.parametrize("case", list(CASES))
def test_probe_finding_is_one_line_exit_2(case, tmp_path, previous):
    mutate, expected = CASES[case]
    catalog = copy_sources(tmp_path / "layers")
    mutate(tmp_path / "layers")
    out, before = previous
    for args in (["validate"], ["build", "--out", str(out), "--resolution", "20000"]):
        rc, _, err = geo_in_process("--catalog", str(catalog), *args)
        assert rc == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        for text in expected:
            assert text in lines[0], lines[0]
        assert "np." not in lines[0] and "Traceback" not in lines[0]
    assert _sha(out) == before


def test_one_line_from_a_real_process(tmp_path):
    """The same through `python -m geo` in a child process: nothing else reaches stderr."""
    catalog = copy_sources(tmp_path / "layers")
    _nul(tmp_path / "layers")
    res = run_geo("--catalog", str(catalog), "validate")
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "U+0000" in res.stderr, res.stderr


def test_every_project_toml_goes_through_one_reader():
    """No module parses TOML itself (geo/files/tomlfile.py turns every decode error into the project's error)."""
    users = [p for p in ROOT.glob("*/**/*.py") if ".venv" not in p.parts and "tests" not in p.parts
             and "tomllib" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in users] == ["geo/files/tomlfile.py"]


def test_numbers_in_messages_are_plain():
    import numpy as np
    assert plain((np.float64(103.55526), np.float64("inf"))) == "103.55526, inf"
    assert plain(np.float32(0.1)) == "0.1" and plain(np.int64(7)) == "7" and plain("a\x00") == "'a\\x00'"
    assert "np." not in str(Problem("f", "m", value=np.array([1.5, 2.0])[0]))


def test_zone_rule_problems_are_reported_together(tmp_path):
    catalog = copy_sources(tmp_path / "layers")
    path = tmp_path / "layers/sources/prospect_zones.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^refs = \[.*\n", "", text, count=1).replace("buffer_m = 10000", 'buffer_m = "10 km"', 1)
    path.write_text(text.replace('method = "coastal_strip"', 'method = "coastline"', 1), encoding="utf-8")
    rc, _, err = geo_in_process("--catalog", str(catalog), "validate")
    assert rc == 2 and err.startswith("error: 3 problems:"), err
    assert "zones[0] (northern_hard_rock_belt).refs': missing required key" in err
    assert "zones[1] (northern_weathering_crust).buffer_m': must be a int/float (value: '10 km')" in err
    assert "zones[2] (central_coastal_placer_strip).method': unknown value (value: 'coastline')" in err


def test_non_finite_toml_number_is_refused(tmp_path):
    catalog = copy_sources(tmp_path / "layers")
    path = tmp_path / "layers/sources/prospect_zones.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("buffer_m = 20000", "buffer_m = nan", 1),
                    encoding="utf-8")
    rc, _, err = geo_in_process("--catalog", str(catalog), "validate")
    assert rc == 2 and "prospect_zones.toml, field 'zones[0].buffer_m': not a finite number (value: nan)" in err, err


@pytest.mark.parametrize("value", ["-5", "9223372036854775807"])
def test_declared_range_of_a_number(value, tmp_path):
    """`location_uncertainty_m` declares min 0 and max 1,000 km in the catalog: an int64 that fits is still refused."""
    catalog = copy_sources(tmp_path / "layers")
    _csv_cell(tmp_path / "layers/sources/deposits.csv", 1, "location_uncertainty_m", value)
    rc, _, err = geo_in_process("--catalog", str(catalog), "validate")
    assert rc == 2 and (f"row 1, field 'location_uncertainty_m': outside the declared range [0, 1000000] "
                        f"(value: '{value}')") in err, err
