"""Refuse user paths that GDAL would treat as remote or virtual files."""
from __future__ import annotations

import os
from pathlib import Path

from geo.errors import Problem, UnsafePathError


def safe_user_path(path: str | os.PathLike, what: str = "path") -> Path:
    """Return ``path`` as a local :class:`Path`, or raise if GDAL would open it remotely.

    GDAL reads ``/vsicurl/…``, ``/vsizip/…`` and ``scheme://…`` as network or archive paths;
    a user-given path must name a plain local file or directory.
    """
    text = os.fspath(path)
    if text.startswith("/vsi") or "://" in text:
        raise UnsafePathError(problems=[Problem(
            file=text, field=what, message="remote or virtual GDAL paths are refused",
            fix="give a plain local file or directory path")])
    return Path(text)
