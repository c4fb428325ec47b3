"""Accent-insensitive search over feature names: the index is built here, the box runs in ``static/ree.js``.

The browser normalises the query with the same rule as :func:`fold` (NFD, drop combining marks,
đ/Đ → d/D explicitly because Unicode does not decompose them, lower case, single spaces).
"""
from __future__ import annotations

import re
import unicodedata

from maps.escape import safe

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """``text`` without accents, lower case: ``fold("Đông Pao") == "dong pao"``."""
    decomposed = unicodedata.normalize("NFD", str(text).translate(_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", bare).strip().lower()


def entry(name: str, key: int, group: str) -> dict:
    """One index row: display name (safe HTML), folded name, feature key, layer group variable."""
    return {"n": safe(name), "f": fold(name), "k": key, "g": group}
