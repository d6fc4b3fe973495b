"""Where new assets would reach the most deprived residents: greedy and exact site choice for an area.

Candidates are the area's street nodes (every one, or thinned to one per square of
``settings.site_grid_m``), its existing community buildings (approved assets of the
types in :data:`BUILDING_TYPES`), or sites given as a table or a file. The greedy
choice (:func:`assetmap.analysis.scenario.suggest_sites`) is fast; the exact one
(:func:`assetmap.analysis.scenario.optimal_sites`) is the best set of ``k`` sites, with
the greedy's share of it reported beside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap import settings
from assetmap._errors import Problem, ValidationError
from assetmap.analysis.assign import assign_to_areas
from assetmap.analysis.scenario import optimal_sites, suggest_sites
from assetmap.analysis.sites import SiteOptions
from assetmap.analysis.walkgraph import WalkGraph
from assetmap.area.coverage import area_outline, check_near_area, counted_assets, points_xy, scenario_start
from assetmap.record import sensitive_mask

if TYPE_CHECKING:
    from assetmap.area.load import Area

#: Asset types whose buildings may host a new activity: the candidates called "buildings".
BUILDING_TYPES: tuple[str, ...] = ("community_centre", "library", "faith_group", "youth_service", "arts_group")

#: The ways of choosing sites.
METHODS: tuple[str, ...] = ("greedy", "optimal")


def candidate_sites(area: Area, graph: WalkGraph | None, candidates: object | None) -> pd.DataFrame | None:
    """Return the candidate sites (``x``, ``y``, ``name``) an area offers, or None for the analysis's default.

    Parameters
    ----------
    area : Area
        A loaded area.
    graph : WalkGraph or None
        The street network the analysis walks.
    candidates : None, "nodes", "grid", "buildings", or a table
        None or "nodes": every street node inside the area (without a network, the analysis's default);
        "grid": those nodes thinned to one per ``settings.site_grid_m`` square (without a network, the
        centres of such squares inside the area); "buildings": the area's
        approved community buildings; a GeoDataFrame, or a DataFrame with ``x``/``y`` (and ``name``).
    """
    if isinstance(candidates, str):
        kind = candidates.strip().lower()
        if kind == "buildings":
            return _buildings(area)
        if kind not in ("nodes", "grid"):
            raise ValidationError(
                Problem(
                    f"unknown candidates '{candidates[:40]}'.",
                    field="candidates",
                    fix="Use nodes, grid, buildings, or a file of sites.",
                )
            )
        if graph is None:
            return _grid_points(area) if kind == "grid" else None
        inside = shapely.contains_xy(area_outline(area), graph.x, graph.y)
        xs, ys = graph.x[inside], graph.y[inside]
        if kind == "grid":
            cell = np.floor(np.column_stack([xs, ys]) / float(settings.site_grid_m)).astype(np.int64)
            _, first = np.unique(cell, axis=0, return_index=True)
            xs, ys = xs[np.sort(first)], ys[np.sort(first)]
        return pd.DataFrame({"x": xs, "y": ys, "name": ""})
    if candidates is None:
        return candidate_sites(area, graph, "nodes")
    xs, ys = points_xy(candidates)
    check_near_area(area, xs, ys)
    names = (
        candidates["name"].astype(str).to_numpy()
        if isinstance(candidates, pd.DataFrame) and "name" in candidates
        else ""
    )
    return pd.DataFrame({"x": xs, "y": ys, "name": names})


def _grid_points(area: Area) -> pd.DataFrame:
    """Return the centres of a ``settings.site_grid_m`` grid that lie inside the area (no street network)."""
    step = float(settings.site_grid_m)
    minx, miny, maxx, maxy = area.boundaries.total_bounds
    gx, gy = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    xs, ys = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(area_outline(area), xs, ys)
    return pd.DataFrame({"x": xs[inside], "y": ys[inside], "name": ""})


def _buildings(area: Area) -> pd.DataFrame:
    """Return the approved community buildings of the area as candidate sites (sensitive ones left out)."""
    assets = counted_assets(area)
    keep = assets["type"].isin(BUILDING_TYPES).to_numpy(bool)
    keep &= ~sensitive_mask(assets).to_numpy(bool)  # a sensitive place is never offered, not even by its name
    chosen = assets[keep]
    if chosen.empty:
        raise ValidationError(
            Problem(
                "the area has no approved community building (community centre, library, place of worship...) "
                "to offer as a site.",
                field="candidates",
                fix="Use the street grid as candidates, or give a file of sites.",
            )
        )
    points = chosen.geometry.representative_point()
    return pd.DataFrame({"x": points.x.to_numpy(), "y": points.y.to_numpy(), "name": chosen["name"].astype(str)})


def area_suggest_sites(
    area: Area,
    group: str,
    k: int,
    *,
    candidates: object | None = None,
    threshold: float | None = None,
    include_stale: bool = True,
    network: bool = True,
    method: str = "greedy",
) -> gpd.GeoDataFrame:
    """Choose up to ``k`` sites for assets of ``group`` that bring the most deprived residents within reach.

    Parameters
    ----------
    area : Area
        A loaded area.
    group : str
        Element (``e6``) or pillar key.
    k : int
        Number of sites, 1 to 50.
    candidates : None, "nodes", "grid", "buildings", or a table
        Sites to choose from (:func:`candidate_sites`). Default: every street node inside the area for the
        greedy choice, the thinned grid of them for the exact one.
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently (default True).
    network : bool
        Use the street network where the area has one (default).
    method : {"greedy", "optimal"}
        One site at a time, or the best set of ``k`` (maximal covering location model, solved with CBC
        within ``settings.site_time_limit_s``, else the greedy choice, said so).

    Returns
    -------
    GeoDataFrame
        One row per chosen site, in EPSG:27700, with the area it lies in; ``attrs['note']`` explains the
        method and, for the exact one, ``attrs['comparison']`` compares it with the greedy choice.
    """
    if method not in METHODS:
        raise ValidationError(
            Problem(f"unknown method '{str(method)[:30]}'.", field="method", fix="Use greedy or optimal.")
        )
    group, t, before, graph = scenario_start(area, group, threshold, include_stale, network)
    if method == "optimal":
        cand = candidate_sites(area, graph, "grid" if candidates is None else candidates)
        options = SiteOptions(threshold=t, candidates=cand, graph=graph, time_limit_s=settings.site_time_limit_s)
        chosen = optimal_sites(before.access, area.deprivation, group, k, options=options)
    else:
        cand = candidate_sites(area, graph, candidates)
        chosen = suggest_sites(before.access, area.deprivation, group, k, threshold=t, candidates=cand, graph=graph)
    out = gpd.GeoDataFrame(chosen, geometry=gpd.points_from_xy(chosen["x"], chosen["y"]), crs=settings.analysis_crs)
    if len(out):
        out[["area_code", "area_name"]] = assign_to_areas(out, area.boundaries)
    else:
        out["area_code"] = pd.Series(dtype=object)
        out["area_name"] = pd.Series(dtype=object)
    out["group"] = group
    out["threshold_m"] = t
    out.attrs.update(chosen.attrs)
    return out
