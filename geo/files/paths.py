"""Refuse user paths that GDAL would treat as remote or virtual files, and datasets that would read
beyond the folders a user named (a VRT whose source is ``/vsicurl/…`` or ``/etc/passwd``)."""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
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


# XML elements naming another dataset: GDAL VRT (SourceFilename, in every source kind, raw bands and
# overviews), OGR VRT (SrcDataSource), GDAL tile index (IndexDataset)
SOURCE_TAGS = {"SourceFilename", "SrcDataSource", "IndexDataset"}
_CONNECTION = re.compile(r"^[A-Za-z][A-Za-z0-9_]+:")  # driver prefixes: HDF5:"f":x, NETCDF:, GPKG:, MEM:::
MAX_DEPTH = 8


def is_remote(name: str) -> bool:
    """A name GDAL would open as a network, archive, in-memory or driver-prefixed dataset."""
    return name.startswith("/vsi") or "://" in name or bool(_CONNECTION.match(name))


def _inside(path: Path, roots) -> bool:
    p = path.resolve()
    return any(p.is_relative_to(r) for r in roots)


def _xml_sources(path: Path) -> list[tuple[str, bool]]:
    """(name, relative to the file) of every dataset an XML file (VRT) names; [] for other files."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return []
    if not head.startswith(b"<"):
        return []
    out = []
    try:
        for _, el in ET.iterparse(path):  # streamed: a large KML or GML is read in bounded memory
            if el.tag.rsplit("}", 1)[-1] in SOURCE_TAGS and (el.text or "").strip():
                rel = {k.lower(): v for k, v in el.attrib.items()}.get("relativetovrt", "0").strip() == "1"
                out.append((el.text.strip(), rel))
            el.clear()
    except (ET.ParseError, RecursionError, OSError, ValueError):
        pass  # cut short or not XML after all: what was named so far is checked; GDAL reports the rest
    return out


def reads_beyond(path: str | os.PathLike, roots, files=()) -> list[str]:
    """What the dataset at ``path`` would read outside the folders ``roots``: the file itself, every dataset
    its XML (a VRT, followed into nested VRTs) names, and ``files`` (GDAL's file list, once opened); any
    remote, archive or driver-prefixed name counts as outside. Checked before GDAL opens the file."""
    roots = [Path(r).resolve() for r in roots]
    beyond: list[str] = []
    seen: set[Path] = set()

    def walk(p: Path, depth: int) -> None:
        if not _inside(p, roots):
            beyond.append(str(p.resolve()))  # where it really is (through ".." and symbolic links)
            return
        rp = p.resolve()
        if rp in seen or depth > MAX_DEPTH or not rp.is_file():
            return
        seen.add(rp)
        for name, rel in _xml_sources(rp):
            if is_remote(name):
                beyond.append(name)
            else:
                walk(p.parent / name if rel else Path(name), depth + 1)  # else: as GDAL, from the working folder
    walk(Path(path), 0)
    for f in files:
        if is_remote(str(f)) or not _inside(Path(f), roots):
            beyond.append(str(f))
    return list(dict.fromkeys(beyond))
