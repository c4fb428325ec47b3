"""Validation sites: the known sites of one type, clustered where they may be one place.

Two sites of one type closer than ``max(MIN_SEPARATION_M, u_i + u_j)`` (``u``: location uncertainty,
the radius of each site's disc; discs that overlap may hold the same deposit) are one validation site,
and so is any chain of such pairs (single linkage). A validation site held out for the leave-one-out
takes with it every site of the type whose influence reaches its discs (``d - u_i - u_j < reach_m``,
``reach_m`` the type's ``site_distance`` ``decay_m``), so no neighbour predicts it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

MIN_SEPARATION_M = 2000.0  # issue 19: sites closer than max(2 km, their combined uncertainty) are one
# the deposits' `confidence` (domain source_strength), strongest first: a cluster takes its best member's tier
TIERS = ("multiple_independent", "single_primary", "secondary_only")


@dataclass(frozen=True)
class Cluster:
    """One validation site: ``members`` index the type's sites (layers.model.prospectivity.Inputs.sites)."""

    key: str  # member ids joined by "+"
    members: tuple[int, ...]
    ids: tuple[str, ...]
    names: tuple[str, ...]
    tier: str | None  # None: no member states its source strength
    removed: tuple[int, ...]  # sites left out when this validation site is held out (members first)
    reach_m: float = 0.0  # how far a site's influence reaches (the type's decay_m): what "neighbour" means

    @property
    def name(self) -> str:
        return " + ".join(self.names)


def site_clusters(sites: pd.DataFrame, reach_m: float = 0.0) -> list[Cluster]:
    """The validation sites of one type's ``sites`` (id, name, x, y, uncertainty_m, confidence; metric),
    in the order of their first member."""
    n = len(sites)
    if n == 0:
        return []
    xy = sites[["x", "y"]].to_numpy(float)
    u = sites["uncertainty_m"].to_numpy(float)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    joined = d < np.maximum(MIN_SEPARATION_M, u[:, None] + u[None, :])
    _, label = connected_components(csr_matrix(joined), directed=False)
    reaches = d - u[:, None] - u[None, :] < reach_m  # j's influence reaches i's disc
    ids = sites["id"].astype(str).tolist()
    names = sites["name"].astype(str).tolist() if "name" in sites else ids
    conf = sites["confidence"].tolist() if "confidence" in sites else [None] * n
    out = []
    for lab in dict.fromkeys(label):  # in order of first member
        members = tuple(int(i) for i in np.flatnonzero(label == lab))
        near = np.flatnonzero(reaches[list(members)].any(axis=0) | np.isin(np.arange(n), members))
        removed = members + tuple(int(j) for j in near if j not in members)
        tiers = [c for c in (conf[i] for i in members) if c in TIERS]
        out.append(Cluster("+".join(ids[i] for i in members), members, tuple(ids[i] for i in members),
                           tuple(names[i] for i in members), min(tiers, key=TIERS.index) if tiers else None,
                           removed, float(reach_m)))
    return out
