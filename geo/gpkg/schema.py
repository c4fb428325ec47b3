"""GeoPackage schema extension: field titles and coded-value domains (read by GDAL, QGIS, ArcGIS)."""
from __future__ import annotations

import sqlite3

from geo.catalog import Catalog, LayerSpec
from geo.gpkg.qml import bilingual

SCHEMA_EXT = "http://www.geopackage.org/spec121/#extension_schema"
_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
  mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
"""


def write_schema(con: sqlite3.Connection, catalog: Catalog, specs: list[LayerSpec]) -> None:
    """Describe every field (bilingual title) and attach each coded-value domain to its fields."""
    con.executescript(_DDL)
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        con.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
                    (table, SCHEMA_EXT))
    used = {f.domain for spec in specs for f in spec.fields if f.domain and not f.is_list}
    for name in sorted(used):
        dom = catalog.domains[name]
        con.executemany("INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
                        "description) VALUES (?, 'enum', ?, ?)",
                        [(name, code, bilingual(text)) for code, text in dom.values.items()])
    for spec in specs:
        for f in spec.fields:
            desc = bilingual(f.description) if f.description else (f"unit: {f.unit}" if f.unit else None)
            con.execute("INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description, "
                        "constraint_name) VALUES (?, ?, ?, ?, ?, ?)",
                        (spec.name, f.name, f.name, bilingual(f.alias), desc,
                         f.domain if f.domain and not f.is_list else None))
