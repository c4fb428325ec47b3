"""A content-addressed cache of derived geometries, shared by the processes of one user.

A derived geometry that takes seconds to compute (e.g. the open sea: a buffer and union of the national
land, 3.2 s) is stored as WKB under a key that is the SHA-256 of everything it is made from: its
inputs, its parameters and the source code of the functions that make it. The same inputs give the
same key and the same bytes back (WKB round-trips exactly); any change of input or code gives
another key, so an entry is never stale. The folder is ``$GEO_CACHE_DIR``, else ``build/.cache`` of
the working directory (where the outputs go by default; ``make clean`` empties it); ``GEO_CACHE_DIR=off``
turns the cache off. Deleting the folder is always safe. An entry that cannot be read is computed
again and replaced; a folder that cannot be written is only not used.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import marshal
import os
from pathlib import Path
from typing import Callable

import shapely

from geo.files.atomic import atomic_path

DEFAULT_DIR = "build/.cache"  # beside the default outputs (--out build), never committed


def cache_dir() -> Path | None:
    """The cache folder (None: turned off with ``GEO_CACHE_DIR=off``)."""
    given = os.environ.get("GEO_CACHE_DIR")
    if given:
        return None if given.lower() == "off" else Path(given)
    return Path(DEFAULT_DIR).absolute()


def _code(fn: Callable) -> bytes | str:
    """The source of ``fn``; its compiled code where the source is not shipped."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return marshal.dumps(fn.__code__)


def digest(*parts: bytes | str, code: tuple[Callable, ...] = ()) -> str:
    """SHA-256 of ``parts`` and of the source code of the functions ``code``."""
    h = hashlib.sha256()
    for part in (*parts, *map(_code, code)):
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def cached_geometry(name: str, key: str, make: Callable[[], shapely.Geometry]) -> shapely.Geometry:
    """The geometry stored as ``NAME-KEY.wkb`` in the cache folder, else ``make()``, stored there."""
    folder = cache_dir()
    path = folder / f"{name}-{key}.wkb" if folder else None
    if path is not None and path.is_file():
        with contextlib.suppress(OSError, shapely.errors.GEOSException):
            return shapely.from_wkb(path.read_bytes())
    geom = make()
    if path is not None:
        with contextlib.suppress(Exception):  # a cache that cannot be written is only not used
            with atomic_path(path) as tmp:
                tmp.write_bytes(shapely.to_wkb(geom))
    return geom
