"""Checks of a user's file before GDAL opens it: empty files, zip archives (KMZ, zipped Shapefile) and
text encodings (GeoJSON, a Shapefile's DBF), each refused with a problem instead of a traceback, a
mis-decoded name or gigabytes of memory.

Archives: the members' declared sizes and compression ratios are read from the zip's directory, and a
file that would unpack beyond :data:`MAX_UNZIPPED_BYTES`, or a member packed more than
:data:`MAX_RATIO` times (a "zip bomb"), is refused before anything is decompressed; GDAL and Python's zipfile then read no more than a member's declared size
(checked: a KMZ whose headers declare 1,000 bytes for a 300 MB doc.kml is cut at 1,000 bytes, 120 MB
resident). Encodings are never
guessed (guessing took Windows-1258 Vietnamese for Shift-JIS): GeoJSON must be UTF-8 (RFC 8259), and a
Shapefile without a ``.cpg`` must hold UTF-8 text unless the user names its encoding.
"""
from __future__ import annotations

import codecs
import struct
import zipfile
import zlib
from pathlib import Path

from geo.errors import Problem

MAX_UNZIPPED_BYTES = 1 << 30  # 1 GiB: far above any point file a survey team imports
MAX_RATIO = 100  # real Shapefiles and KML pack 3-20x; a bomb packs 1,000x and more
RATIO_FLOOR = 1 << 20  # members below 1 MiB unpacked are never a danger, whatever their ratio
MAX_MEMBERS = 10_000
CHUNK = 1 << 20


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB"


def empty_file(path: Path) -> list[Problem]:
    """A problem when ``path`` has 0 bytes."""
    if path.stat().st_size == 0:
        return [Problem(str(path), "empty file (0 bytes)", fix="give the complete file (copy or export it again)")]
    return []


def zip_problems(path: Path, what: str) -> list[Problem]:
    """Problems of a zip archive (``what``: "KMZ", "zipped Shapefile") read from its directory only:
    not a zip, encrypted members, too many members, or unpacking beyond the size and ratio limits."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        return [Problem(name, f"not a zip archive, as a {what} must be ({exc})",
                        fix=f"give the {what} itself, or zip it again")]
    if len(infos) > MAX_MEMBERS:
        return [Problem(name, f"holds {len(infos):,} files (at most {MAX_MEMBERS:,})",
                        fix=f"zip only the layer's own files into the {what}")]
    problems = []
    for info in infos:
        if info.flag_bits & 0x1:
            problems.append(Problem(name, "a member is encrypted", field=info.filename,
                                    fix="zip it again without a password"))
        elif info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            problems.append(Problem(name, f"a member would unpack to {_mib(info.file_size)} from "
                                          f"{_mib(info.compress_size)} (ratio {info.file_size / max(info.compress_size, 1):,.0f}, "
                                          f"limit {MAX_RATIO}): refused as a zip bomb", field=info.filename,
                                    fix="zip the layer's files again (a real layer does not pack that tightly)"))
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        problems.append(Problem(name, f"would unpack to {_mib(total)} (limit {_mib(MAX_UNZIPPED_BYTES)})",
                                fix="import a smaller file, or split it into several layers"))
    return problems


def _utf8_error(chunks) -> tuple[int, int] | None:
    """``(byte offset, line)`` of the first byte of ``chunks`` that is not UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = lines = 0
    for chunk in chunks:
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return offset + exc.start, lines + chunk[: exc.start].count(b"\n") + 1
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, lines + 1
    return None


def _chunks(fh):
    while chunk := fh.read(CHUNK):
        yield chunk


_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
         (b"\xfe\xff", "UTF-16"))


def bom_encoding(head: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when ``head`` starts with their byte-order mark (or, without one, has
    the NUL bytes of UTF-16 text: ``{`` or ``<`` followed or preceded by a NUL), else None."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "UTF-16"
    return None


def geojson_text_problems(path: Path) -> list[Problem]:
    """GeoJSON is UTF-8 (RFC 8259, RFC 7946): a UTF-16/32 file or a byte that is not UTF-8 is refused,
    read in 1 MiB pieces (a large file is not loaded whole)."""
    name = str(path)
    with path.open("rb") as fh:
        head = fh.read(4)
        if enc := bom_encoding(head):
            return [Problem(name, f"the file is {enc}, not UTF-8 (GeoJSON is UTF-8 by its standard, RFC 8259)",
                            fix="save it as UTF-8 (in QGIS: Export > Save Features As, encoding UTF-8)")]
        fh.seek(0)
        bad = _utf8_error(_chunks(fh))
    if bad:
        return [Problem(name, f"not UTF-8 (byte {bad[0]}, line {bad[1]})", line=bad[1],
                        fix="save it as UTF-8 (GeoJSON is UTF-8 by its standard, RFC 8259)")]
    return []


def _dbf_fields(header: bytes) -> list[tuple[str, int]]:
    """(name, width) of each field of a dBase header."""
    out, pos = [], 32
    while pos + 32 <= len(header) and header[pos] != 0x0D:
        raw = header[pos:pos + 11].split(b"\x00")[0]
        out.append((raw.decode("ascii", "replace"), header[pos + 16]))
        pos += 32
    return out


def cpg_codec(text: str) -> str | None:
    """The Python codec a ``.cpg`` names (``UTF-8``, ``1258``, ``ANSI 1258``, ``88591``), or None."""
    text = text.strip().strip("\x00").strip()
    last = text.split()[-1] if text.split() else ""
    candidates = [text, last]
    if last.isdigit():
        candidates = [f"iso8859_{last[4:]}" if last.startswith("8859") and len(last) > 4 else f"cp{last}"]
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return None


def shapefile_encoding(path: Path, given: str | None) -> tuple[str | None, list[Problem]]:
    """The Python codec to read a zipped Shapefile's text with (None: as GDAL does), and problems.

    ``given`` (--encoding) wins, then the zip's ``.cpg``. Without either, the DBF's text must be UTF-8
    (then ``"utf-8"``): GDAL would otherwise read it as Latin-1 (a Windows-1258 "Đông Pao" becomes
    "Ðông Pao" without a word), so a DBF that is not UTF-8 is refused naming the first row and field
    that is not, and the fix (--encoding cp1258, or a .cpg)."""
    name = str(path)
    if given:
        return codecs.lookup(given).name, []
    try:
        return _shapefile_text(path, name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, struct.error) as exc:
        return None, [Problem(name, f"the zip is damaged: {exc}", fix="zip the layer's files again")]


def _shapefile_text(path: Path, name: str) -> tuple[str | None, list[Problem]]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        cpgs = [n for n in names if n.lower().endswith(".cpg")]
        if cpgs:
            return cpg_codec(zf.read(cpgs[0])[:100].decode("ascii", "replace")), []
        dbfs = [n for n in names if n.lower().endswith(".dbf")]
        if len(dbfs) != 1:
            return None, []
        with zf.open(dbfs[0]) as fh:
            head = fh.read(32)
            if len(head) < 32:
                return None, []
            header_len, record_len = struct.unpack("<HH", head[8:12])
            header = head + fh.read(max(header_len - 32, 0))
            bad = _utf8_error(_chunks(fh))
    if bad is None:
        return "utf-8", []
    offset = bad[0] + len(header) - header_len  # from the first record
    row, within = divmod(max(offset, 0), max(record_len, 1))
    field, pos = None, 1  # a record starts with its deletion flag
    for fname, width in _dbf_fields(header):
        if pos <= within < pos + width:
            field = fname
            break
        pos += width
    return None, [Problem(name, f"the Shapefile has no .cpg and its text is not UTF-8 ({dbfs[0]})", row=row + 1,
                          field=field, fix="name its encoding with --encoding (Vietnamese Windows files are usually "
                                           "cp1258; TCVN3 files need converting first), or add a .cpg file to the zip")]
