"""Export catalog layers to the formats GIS tools read, through GDAL's drivers (pyogrio).

One file per layer in the output directory, each written atomically. GeoJSON follows RFC 7946;
KML (libkml) carries each layer's catalog style and a bilingual description balloon; Shapefiles are
zipped with .prj/.cpg and a table of the field names the format truncated; CSV carries WKT or, for
point layers with longitude/latitude fields, those columns.
"""
from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio

from geo.files.atomic import atomic_path, temp_dir
from geo.catalog import Catalog, LayerSpec, Symbol
from geo.colour import hex_rgba
from geo.crs import EXPORT_CRS, WEB_CRS
from geo.errors import ExportError, Problem
from geo.vector import declared_frame
from maps.web.popup import REFERENCES, attribute_table

FORMATS = {  # name -> (GDAL driver, file suffix)
    "gpkg": ("GPKG", ".gpkg"), "geojson": ("GeoJSON", ".geojson"), "kml": ("LIBKML", ".kml"),
    "fgb": ("FlatGeobuf", ".fgb"), "shp": ("ESRI Shapefile", ".zip"), "csv": ("CSV", ".csv"),
}
WGS84_ONLY = {"geojson", "kml"}  # RFC 7946 and KML are defined in WGS 84
# the popup HTML holds each text in both languages (spans the web map toggles): a balloon shows both
KML_BALLOON_CSS = "<style>.ree-en::before{content:' / '} div.ree-en::before{content:''}</style>"
KML_ICONS = {"circle": "placemark_circle", "triangle": "triangle", "square": "square",
             "diamond": "open-diamond", "star": "star", "cross": "cross-hairs"}


def check_choices(catalog: Catalog, fmt: str, layers: list[str], crs: str) -> None:
    """Refuse an unknown format, layer or CRS, listing the valid choices; all at once."""
    problems = []
    if fmt not in FORMATS:
        problems.append(Problem("--format", "unknown format", value=fmt, fix=f"use one of {', '.join(FORMATS)}"))
    for name in layers:
        if name not in catalog.layers:
            problems.append(Problem("--layers", "unknown layer", value=name,
                                    fix=f"use one of {', '.join(catalog.layers)}"))
    if crs not in EXPORT_CRS:
        problems.append(Problem("--crs", "unsupported CRS", value=crs, fix=f"use one of {', '.join(EXPORT_CRS)}"))
    if problems:
        raise ExportError(problems=problems)


def _frame(spec: LayerSpec, frame: pd.DataFrame, crs: str):
    data = declared_frame(spec, frame)
    return data.to_crs(crs) if spec.spatial else data


def kml_style(spec: LayerSpec, sym: Symbol, highlighted: bool) -> str:
    """An OGR feature style string, which the libkml driver writes as the placemark's KML Style."""
    hl = spec.style.highlight
    pen_colour = hl.stroke if highlighted else sym.stroke
    width = hl.stroke_width if highlighted else sym.stroke_width
    if "Point" in spec.geometry:
        icon = f"http://maps.google.com/mapfiles/kml/shapes/{KML_ICONS[sym.marker]}.png"
        return f'SYMBOL(id:"{icon}",c:{hex_rgba(sym.fill)},s:{1.4 if highlighted else 1.0})'
    pen = f"PEN(c:{hex_rgba(pen_colour)},w:{width}px)"
    if "Line" in spec.geometry:
        return pen
    return f"BRUSH(fc:{hex_rgba(sym.fill, max(sym.fill_opacity, 0.0))});{pen}"


def _kml_frame(catalog: Catalog, spec: LayerSpec, data: pd.DataFrame, refs: pd.DataFrame | None):
    out = data.copy()
    st = spec.style
    label = st.label_field if st and st.label_field else ("id" if "id" in spec.field_names else None)
    out.insert(0, "Name", data[label].astype("string") if label else spec.name)
    out.insert(1, "description", [KML_BALLOON_CSS + attribute_table(catalog, spec, row, refs)
                                  for _, row in data.iterrows()])
    if spec.spatial:
        hl = st.highlight
        out.insert(2, "OGR_STYLE", [
            kml_style(spec, st.symbol_for(row.get(st.category_field)) if st.category_field else st.symbol,
                      hl is not None and row.get(hl.field) == hl.value)
            for _, row in data.iterrows()])
    return out


DBF_TEXT_BYTES = 254  # the longest text a Shapefile (dBase) field holds


def _csv_text(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _shapefile(data, name: str, tmp: Path) -> None:
    """Write a zipped Shapefile (or DBF for a table) plus two CSVs: the field names the format
    truncated to 10 characters, and the text values it cut at 254 bytes (row, field, full length)."""
    with temp_dir(tmp) as d:  # named as the project's temporaries: a killed run's is swept by the next
        shp = Path(d) / f"{name}.shp"
        with warnings.catch_warnings():  # GDAL warns per truncation; both are recorded below
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(data, shp, driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
        written = list(pyogrio.read_info(shp if shp.exists() else shp.with_suffix(".dbf"))["fields"])
        wanted = [c for c in data.columns if c != "geometry"]
        renamed = [(a, b) for a, b in zip(wanted, written) if a != b]
        cut = [(row, col, len(str(v).encode("utf-8")))
               for col in wanted if data[col].dtype == "string" or data[col].dtype == object
               for row, v in enumerate(data[col], 1)
               if isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES]
        (Path(d) / f"{name}_field_names.csv").write_text(
            _csv_text(["field", "shapefile_field"], renamed), encoding="utf-8")
        (Path(d) / f"{name}_truncated_values.csv").write_text(
            _csv_text(["row", "field", "full_length_bytes"], cut), encoding="utf-8")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(d).iterdir()):
                zf.write(part, part.name)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP CSV injection)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def spreadsheet_safe(value):
    """A text cell that begins with ``= + - @``, tab or CR, with OWASP's leading ``'`` so that a
    spreadsheet shows it as text instead of running it; a plain number (``-12.5``) and anything that
    is not text are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _spreadsheet_safe_frame(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with every text column's cells made :func:`spreadsheet_safe` (numeric columns untouched)."""
    out = data.copy()
    for col in out.columns:
        if col != "geometry" and (out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype)):
            out[col] = out[col].map(spreadsheet_safe, na_action="ignore")
    return out


def export_layer(catalog: Catalog, spec: LayerSpec, frames: dict[str, pd.DataFrame], fmt: str, crs: str,
                 out_dir: Path, raw: bool = False) -> Path:
    """Write one layer to ``out_dir/<layer><suffix>`` atomically and return the path. A CSV's text cells
    are made :func:`spreadsheet_safe` unless ``raw``."""
    driver, suffix = FORMATS[fmt]
    data = _frame(spec, frames[spec.name], WEB_CRS if fmt in WGS84_ONLY else crs)
    if fmt == "csv" and not raw:
        data = _spreadsheet_safe_frame(data)
    target = out_dir / f"{spec.name}{suffix}"
    opts: dict = {}
    if fmt == "geojson":
        opts["layer_options"] = {"RFC7946": "YES", "COORDINATE_PRECISION": "6", "WRITE_NAME": "NO",
                                "AUTODETECT_JSON_STRINGS": "NO"}
    elif fmt == "csv" and spec.spatial:
        points_with_lonlat = spec.source.lon and crs == WEB_CRS
        if points_with_lonlat:
            data = pd.DataFrame(data.drop(columns="geometry"))
        else:
            opts["layer_options"] = {"GEOMETRY": "AS_WKT"}
    elif fmt == "fgb":
        opts["layer_options"] = {"SPATIAL_INDEX": "YES" if spec.spatial else "NO"}
    elif fmt == "kml":
        refs = frames[REFERENCES].set_index("id", drop=False) if REFERENCES in frames else None
        data = _kml_frame(catalog, spec, data, refs)
    elif fmt == "gpkg":
        opts = {"dataset_options": {"VERSION": "1.2"}, "layer_options": {"SPATIAL_INDEX": "YES"} if spec.spatial else {}}
    try:
        with atomic_path(target) as tmp:
            if fmt == "shp":
                _shapefile(data, spec.name, tmp)
            else:
                with warnings.catch_warnings():
                    if not spec.spatial:  # a table has no SRS, and needs none
                        warnings.filterwarnings("ignore", "No SRS set", RuntimeWarning)
                    pyogrio.write_dataframe(data, tmp, layer=spec.name, driver=driver, **opts)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FeatureError, pyogrio.errors.FieldError) as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(problems=[Problem(str(target), f"export failed: {exc}",
                                            fix="check the output directory is writable")]) from exc
    return target
