"""Text folding shared by search and generated names: accents dropped, đ/Đ mapped explicitly."""
from __future__ import annotations

import re
import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """``text`` without accents, lower case: ``fold("Đông Pao") == "dong pao"``.

    NFD, drop combining marks, đ/Đ → d/D explicitly because Unicode does not decompose them, lower case,
    single spaces."""
    decomposed = unicodedata.normalize("NFD", str(text).translate(_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", bare).strip().lower()


def snake_name(text: str) -> str:
    """A lower_snake_case ASCII name for ``text``: ``snake_name("Tên mỏ (VN)") == "ten_mo_vn"``."""
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")
