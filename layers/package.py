"""Write the loaded layers into the project's GeoPackage, with their citations as metadata."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pandas as pd

from geo import __version__
from geo.catalog import Catalog
from geo.gpkg.write import DatasetInfo, write_gpkg
from geo.gpkg.qgis_project import Project
from geo.files.table import split_list
from layers import ROOT

GPKG_NAME = "vietnam_ree.gpkg"
TITLE = "Bản đồ triển vọng đất hiếm Việt Nam — Vietnam REE prospect map"
ABSTRACT = ("Các mỏ, điểm quặng và vùng triển vọng đất hiếm của Việt Nam, có trích dẫn nguồn cho từng đối tượng. "
            "— Vietnam's rare-earth deposits, occurrences and prospect zones, every feature cited.")


def build_stamp() -> dt.datetime:
    """The build date: ``SOURCE_DATE_EPOCH`` if set, else the last commit touching the sources,
    else the newest source file; never the clock, so rebuilding the same sources gives the same file."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return dt.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), dt.timezone.utc)
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=ROOT, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        if out:
            return dt.datetime.fromtimestamp(int(out), dt.timezone.utc)
    except (OSError, subprocess.SubprocessError):
        pass
    newest = max(p.stat().st_mtime for p in ROOT.rglob("*") if p.is_file())
    return dt.datetime.fromtimestamp(int(newest), dt.timezone.utc)


def citation_text(ref: pd.Series) -> str:
    year = "" if pd.isna(ref["year"]) else f" ({int(ref['year'])})"
    authors = "" if pd.isna(ref["authors"]) else f"{ref['authors']}"
    return f"{authors}{year}. {ref['title']}. {ref['publisher']}.".strip(". ") + "."


def layer_links(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> dict[str, list[tuple[str, str]]]:
    """For each layer, the references it cites (layer-level and row-level), as (citation, url)."""
    refs = frames["references"].set_index("id", drop=False)
    out = {}
    for spec in catalog:
        ids = list(spec.cites)
        frame = frames[spec.name]
        for f in spec.fields:
            if f.foreign_key == "references.id":
                for raw in frame[f.name].dropna():
                    ids += [i for i in split_list(raw) if i not in ids]
        out[spec.name] = [(citation_text(refs.loc[i]),
                           refs.loc[i, "url"] if pd.notna(refs.loc[i, "url"]) else f"https://doi.org/{refs.loc[i, 'doi']}")
                          for i in dict.fromkeys(ids)]
    return out


def write_package(catalog: Catalog, frames: dict[str, pd.DataFrame], target: Path,
                  projects: tuple[Project, ...] = ()) -> Path:
    """Every catalog layer, and the QGIS ``projects``, into ``target`` (atomically: the old file survives
    any failure)."""
    info = DatasetInfo(identifier="vietnam-ree-map", title=TITLE, abstract=ABSTRACT,
                       licence="CC-BY-4.0 (compilation); sources keep their own licences",
                       version=__version__, stamp=build_stamp(), links=layer_links(catalog, frames))
    return write_gpkg(target, catalog, frames, info, projects)
