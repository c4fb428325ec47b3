"""Commune and district centres of the pre-2025 units, from the ``vietnamadminunits`` package (MIT).

Used to place a site whose sources name only its commune or district, and by the tests to check
that every such row matches the package. The uncertainty is the distance from the centre to the
farthest corner of the unit's bounding box, rounded up to the next 500 m.

    python -m layers.locate "Bản Hon" --district "Tam Đường" --province "Lai Châu"
"""
from __future__ import annotations

import csv
import math
import sqlite3
from dataclasses import dataclass
from importlib import resources

import click
from pyproj import Geod

from geo.errors import Problem, SourceDataError
from geo.files.table import split_list
from layers import ROOT

PACKAGE = "vietnamadminunits"
REF_ID = "vietnamadminunits_1_0_4"
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Centre:
    lon: float
    lat: float
    uncertainty_m: int


def _db() -> sqlite3.Connection:
    path = resources.files(PACKAGE) / "data" / "dataset.db"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _centre(lat: float, lon: float, bounds: str) -> Centre:
    (s, w), (n, e) = (tuple(map(float, corner.split(","))) for corner in bounds.split("–"))
    far = max(_GEOD.inv(lon, lat, x, y)[2] for x in (w, e) for y in (s, n))
    return Centre(round(lon, 6), round(lat, 6), int(math.ceil(far / 500.0) * 500))


def _package_name(province: str) -> str:
    """The package's name of a province the literature calls by an earlier name (crosswalk)."""
    with (ROOT / "base" / "province_crosswalk.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if province in split_list(row["former_names"]):
                return row["name_pre2025"]
    return province


def locate(province: str, district: str, commune: str | None = None) -> Centre:
    """Centre of a pre-2025 commune (or of the district when ``commune`` is None)."""
    province = _package_name(province)
    level = "ward" if commune else "district"
    sql = (f"SELECT DISTINCT {level}Lat, {level}Lon, {level}Bounds FROM admin_units_legacy "
           "WHERE provinceShort = ? AND districtShort = ?" + (" AND wardShort = ?" if commune else ""))
    args = (province, district, commune) if commune else (province, district)
    with _db() as con:
        rows = con.execute(sql, args).fetchall()
    if len(rows) != 1:
        name = ", ".join(x for x in (commune, district, province) if x)
        raise SourceDataError(problems=[Problem(PACKAGE, f"{len(rows)} units match", field=level,
                                                value=name, fix="give the pre-2025 names exactly as the package spells them")])
    return _centre(*rows[0])


@click.command()
@click.argument("commune", required=False)
@click.option("--district", required=True, help="Pre-2025 district name, with diacritics.")
@click.option("--province", required=True, help="Pre-2025 province name, with diacritics.")
def main(commune: str | None, district: str, province: str) -> None:
    """Print lon, lat and uncertainty (m) of a pre-2025 commune or district centre."""
    c = locate(province, district, commune)
    click.echo(f"{c.lon},{c.lat},{c.uncertainty_m}")


if __name__ == "__main__":
    main()
