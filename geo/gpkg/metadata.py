"""Layer and dataset metadata in QGIS's own format (``gpkg_metadata``, qgis.dtd), which QGIS shows
in the layer properties; GDAL exposes the same rows as ``GPKG_METADATA_ITEM_n``."""
from __future__ import annotations

import datetime as dt
import sqlite3
import xml.etree.ElementTree as ET

QGIS_MD_URI = "http://mrcc.com/qgis.dtd"
_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
  md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
  reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
"""
METADATA_EXT = "http://www.geopackage.org/spec120/#extension_metadata"


def qgis_metadata_xml(identifier: str, title: str, abstract: str, licence: str, attribution: str,
                      links: list[tuple[str, str]], history: list[str], keywords: list[str],
                      crs_wkt: str | None = None) -> str:
    """A QGIS layer metadata document (the format QGIS reads from gpkg_metadata)."""
    root = ET.Element("qgis", version="3.22.0")
    ET.SubElement(root, "identifier").text = identifier
    ET.SubElement(root, "parentidentifier")
    ET.SubElement(root, "language").text = "vie"
    ET.SubElement(root, "type").text = "dataset"
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "abstract").text = abstract
    kw = ET.SubElement(root, "keywords", vocabulary="gmd:topicCategory")
    for k in keywords:
        ET.SubElement(kw, "keyword").text = k
    contact = ET.SubElement(root, "contact")
    for tag in ("name", "organization", "position", "voice", "fax", "email", "role"):
        ET.SubElement(contact, tag).text = attribution if tag == "organization" else None
    lk = ET.SubElement(root, "links")
    for name, url in links:
        ET.SubElement(lk, "link", name=name, type="WWW:LINK", url=url, description="", format="",
                      mimeType="", size="")
    for h in history:
        ET.SubElement(root, "history").text = h
    ET.SubElement(root, "fees")
    ET.SubElement(root, "rights").text = attribution
    ET.SubElement(root, "license").text = licence
    ET.SubElement(root, "encoding")
    crs = ET.SubElement(root, "crs")
    if crs_wkt:
        ET.SubElement(ET.SubElement(crs, "spatialrefsys"), "wkt").text = crs_wkt
    return ET.tostring(root, encoding="unicode")


def add_metadata(con: sqlite3.Connection, scope: str, table: str | None, xml: str, stamp: dt.datetime) -> None:
    """Attach a QGIS metadata document to a table (``scope='table'``) or to the whole GeoPackage."""
    con.executescript(_DDL)
    for t in ("gpkg_metadata", "gpkg_metadata_reference"):
        con.execute("INSERT OR IGNORE INTO gpkg_extensions SELECT ?, NULL, 'gpkg_metadata', ?, 'read-write' "
                    "WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_metadata')",
                    (t, METADATA_EXT, t))
    cur = con.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                      "VALUES ('dataset', ?, 'text/xml', ?)", (QGIS_MD_URI, xml))
    con.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, "
                "timestamp, md_file_id, md_parent_id) VALUES (?, ?, NULL, NULL, ?, ?, NULL)",
                (scope, table, stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"), cur.lastrowid))


def fix_timestamps(con: sqlite3.Connection, stamp: dt.datetime) -> None:
    """Every metadata reference dated at ``stamp`` (GDAL's own rows default to 'now')."""
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_metadata_reference'").fetchone():
        con.execute("UPDATE gpkg_metadata_reference SET timestamp = ?", (stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),))
