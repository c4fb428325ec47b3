"""Derived layers and computed fields; importing this package registers them."""
from layers.derived import admin, coast, evidence_table, positions, prospectivity, summary, zones  # noqa: F401
