"""Accent-insensitive search over feature names: the index is built here, the box runs in ``static/ree.js``.

The browser normalises the query with the same rule as :func:`fold` (NFD, drop combining marks,
đ/Đ → d/D explicitly because Unicode does not decompose them, lower case, single spaces).
"""
from __future__ import annotations

from geo.text import fold
from maps.escape import safe

__all__ = ["entry", "fold"]


def entry(name: str, key: int, group: str) -> dict:
    """One index row: display name (safe HTML), folded name, feature key, layer group variable."""
    return {"n": safe(name), "f": fold(name), "k": key, "g": group}
