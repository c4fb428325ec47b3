"""Generic geospatial engine: catalog, tables, CRS, safe outputs, GeoPackage. Knows nothing of REE."""

__version__ = "0.1.0"
