"""GeoPackage Related Tables Extension: a mapping table per foreign-key field of the catalog."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pyogrio

from geo.catalog import Catalog, LayerSpec
from geo.files.table import split_list

RTE = "http://www.opengis.net/doc/IS/gpkg-rte/1.0"
_DDL = """
CREATE TABLE IF NOT EXISTS gpkgext_relations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, base_table_name TEXT NOT NULL,
  base_primary_column TEXT NOT NULL DEFAULT 'id', related_table_name TEXT NOT NULL,
  related_primary_column TEXT NOT NULL DEFAULT 'id', relation_name TEXT NOT NULL,
  mapping_table_name TEXT NOT NULL UNIQUE);
"""


def mapping_name(spec: LayerSpec, field: str) -> str:
    return f"rel_{spec.name}__{field}"


def _fids(path: Path, spec: LayerSpec, key: str) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return {k: fid for fid, k in con.execute(f'SELECT fid, "{key}" FROM "{spec.name}"')}


def relations(catalog: Catalog, specs: list[LayerSpec]) -> list[tuple[LayerSpec, str, LayerSpec, str]]:
    """(layer, field, target layer, target key) for every foreign key whose target is written."""
    names = {s.name for s in specs}
    out = []
    for spec in specs:
        for f in spec.fields:
            if f.foreign_key:
                tgt, _, key = f.foreign_key.partition(".")
                if tgt in names:
                    out.append((spec, f.name, catalog[tgt], key))
    return out


def write_relations(path: Path, catalog: Catalog, specs: list[LayerSpec], frames: dict[str, pd.DataFrame]) -> None:
    """Write the mapping tables through OGR (so they are registered), then declare the relations."""
    rels = relations(catalog, specs)
    for spec, field, target, key in rels:
        base = _fids(path, spec, "id") if "id" in spec.field_names else {}
        related = _fids(path, target, key)
        rows = []
        for fid, (_, row) in enumerate(frames[spec.name].iterrows(), 1):
            raw = row[field]
            if pd.isna(raw):
                continue
            own = row["id"] if "id" in spec.field_names else None
            for item in split_list(raw) if spec.field(field).is_list else [raw]:
                rows.append({"base_id": base.get(own, fid), "related_id": related[item],
                             "base_key": own, "related_key": item})
        table = pd.DataFrame(rows, columns=["base_id", "related_id", "base_key", "related_key"])
        table = table.astype({"base_id": "int64", "related_id": "int64", "base_key": "string",
                              "related_key": "string"})
        pyogrio.write_dataframe(table, path, layer=mapping_name(spec, field), driver="GPKG", append=True,
                                layer_options={"DESCRIPTION": f"{spec.name}.{field} -> {target.name}.{key}"})
    with sqlite3.connect(path) as con:
        con.executescript(_DDL)
        con.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkgext_relations', NULL, 'related_tables', ?, 'read-write')", (RTE,))
        for spec, field, target, key in rels:
            m = mapping_name(spec, field)
            con.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, 'related_tables', ?, 'read-write')", (m, RTE))
            con.execute("INSERT INTO gpkgext_relations (base_table_name, base_primary_column, related_table_name, "
                        "related_primary_column, relation_name, mapping_table_name) VALUES (?, 'fid', ?, 'fid', ?, ?)",
                        (spec.name, target.name, "features" if target.spatial else "attributes", m))
