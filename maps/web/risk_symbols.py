"""Where the placer risk symbols go: one symbol per sourced risk topic beside each coastal placer zone.

``placer_risks`` is a table (the findings name pre-2025 provinces, not places); a finding is shown at every
2025 placer zone whose province it names, as the topic's symbol from ``placer_risks``' catalog style, in a
row that starts just off the zone and runs seaward (away from the province's representative point).
Findings that name no province (a scope such as "central coast") are not placed and are counted."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalog import Catalog, Text
from geo.crs import METRIC_CRS, WEB_CRS
from layers.derived.admin import pre_to_2025

ZONES, RISKS, PROVINCES = "coastal_placer_zones", "placer_risks", "provinces_2025"
FIRST_KM, STEP_KM = 16.0, 12.0  # judgement: the row clears a 5 km strip and its outline at 1:4-5 million
LIST_SEP = ";"


def zone_topics(catalog: Catalog, frames) -> dict[str, dict[str, list[str]]]:
    """2025 province -> {topic: ids of the findings naming it}, topics in the catalog style's order."""
    to2025 = pre_to_2025(frames)
    risks = frames[RISKS]
    order = list(catalog[RISKS].style.categories)
    out: dict[str, dict[str, list[str]]] = {}
    for _, r in risks.iterrows():
        provs = [] if pd.isna(r["provinces_pre2025"]) else str(r["provinces_pre2025"]).split(LIST_SEP)
        for p in dict.fromkeys(to2025.get(x.strip()) for x in provs):
            if p:
                out.setdefault(p, {}).setdefault(r["topic"], []).append(r["id"])
    return {p: {t: d[t] for t in order if t in d} for p, d in out.items()}


def unplaced(frames) -> int:
    """Findings that name no province."""
    return int(frames[RISKS]["provinces_pre2025"].isna().sum())


def risk_points(catalog: Catalog, frames) -> gpd.GeoDataFrame:
    """One point per (placer zone, topic): ``province_2025``, ``topic``, ``risk_ids``, in WGS 84."""
    topics = zone_topics(catalog, frames)
    zones = frames[ZONES].to_crs(METRIC_CRS)
    provs = frames[PROVINCES].to_crs(METRIC_CRS).set_index("name_2025")
    rows, geoms = [], []
    for _, z in zones.iterrows():
        found = topics.get(z["province_2025"])
        if not found:
            continue
        at = z.geometry.representative_point()
        inland = provs.geometry[z["province_2025"]].representative_point()
        d = np.array([at.x - inland.x, at.y - inland.y])
        d = d / (np.hypot(*d) or 1.0)
        for k, (topic, ids) in enumerate(found.items()):
            off = (FIRST_KM + k * STEP_KM) * 1000
            geoms.append(shapely.Point(at.x + d[0] * off, at.y + d[1] * off))
            rows.append({"province_2025": z["province_2025"], "topic": topic, "risk_ids": LIST_SEP.join(ids)})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS).to_crs(WEB_CRS)


def risk_frame(catalog: Catalog, frames) -> gpd.GeoDataFrame:
    """:func:`risk_points` with ``placer_risks``' own fields for the map's cards: per point, the ids,
    provinces, findings (joined with " | ") and references of every finding of that topic at that zone."""
    pts = risk_points(catalog, frames)
    risks = frames[RISKS].set_index("id")
    rows = []
    for _, p in pts.iterrows():
        ids = p["risk_ids"].split(LIST_SEP)
        sub = risks.loc[ids]
        refs = list(dict.fromkeys(x for raw in sub["refs"] for x in str(raw).split(LIST_SEP)))
        rows.append({"id": p["risk_ids"], "provinces_pre2025": p["province_2025"], "topic": p["topic"],
                     "text_en": " | ".join(sub["text_en"]), "text_vi": " | ".join(sub["text_vi"]),
                     "refs": LIST_SEP.join(refs)})
    return gpd.GeoDataFrame(rows, geometry=pts.geometry.values, crs=WEB_CRS)


def add_risk_layers(m, catalog: Catalog, frames, refs, next_key, pieces, show: bool = True) -> list:
    """The risk symbols as map groups (one per topic, cards from ``placer_risks``' fields, named "Risk
    topic: …" from the topic domain), added to ``m`` (shown with the zones); returns the
    ``maps.web.features.Group``s for the layer control and the legend."""
    import dataclasses

    import folium

    from maps.web.features import GeoLayer, collection, groups, options
    spec = dataclasses.replace(catalog[RISKS], geometry="Point")  # the table, drawn where its findings apply
    what = catalog.domain_of(spec.field(spec.style.category_field)).description
    out = []
    for i, g in enumerate(groups(spec, risk_frame(catalog, frames), catalog)):
        if g.rows.empty:
            continue
        g.key = f"{RISKS}.{i}"  # stable id in the URL hash, as the other layers' (maps/web/render.py)
        g.label = Text(f"{what.vi}: {g.label.vi}", f"{what.en}: {g.label.en}")
        g.layer = folium.FeatureGroup(name=spec.name, show=show, control=False)
        GeoLayer(collection(spec, g, catalog, refs, True, next_key, None, pieces),
                 options(spec, g.symbol, True)).add_to(g.layer)
        g.layer.add_to(m)
        out.append(g)
    return out
