"""Which area each point and each small area belongs to.

Pure functions over GeoDataFrames in one projected CRS; vectorised with
shapely's STRtree so that a million points take seconds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._errors import CRSError


def _same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, what: str) -> None:
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        raise CRSError(
            f"{what}: the layers are in different coordinate reference systems ({a.crs} and {b.crs}). "
            "Reproject one with .to_crs() first."
        )


def area_index_of_points(points: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Return, for each point, the position of the area containing it, or -1.

    A point on a shared boundary belongs to the area that comes first in the
    sort by ``code``: one answer, the same every run, whatever the input order.

    Parameters
    ----------
    points : ndarray of shapely Points
        In the CRS of ``areas``.
    areas : GeoDataFrame
        With a ``code`` column.

    Returns
    -------
    ndarray of int
        Positional index into ``areas``.
    """
    result = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0:
        return result
    tree = shapely.STRtree(areas.geometry.array)
    # "intersects" keeps points exactly on an edge, which "within" would drop.
    pt_idx, area_idx = tree.query(points, predicate="intersects")
    if len(pt_idx):
        if not (pt_idx[1:] >= pt_idx[:-1]).all():
            order = np.argsort(pt_idx, kind="stable")
            pt_idx, area_idx = pt_idx[order], area_idx[order]
        # Most points fall in one area; only those on a shared boundary need the tie broken.
        repeated = np.zeros(len(pt_idx), dtype=bool)
        same = pt_idx[1:] == pt_idx[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
        result[pt_idx[~repeated]] = area_idx[~repeated]
        if repeated.any():
            pt_rep, area_rep = pt_idx[repeated], area_idx[repeated]
            rank = areas["code"].to_numpy().argsort(kind="stable").argsort()[area_rep]
            order = np.lexsort((rank, pt_rep))
            pt_sorted, area_sorted = pt_rep[order], area_rep[order]
            first = np.r_[True, pt_sorted[1:] != pt_sorted[:-1]]
            result[pt_sorted[first]] = area_sorted[first]
    return result


def assign_to_areas(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return ``area_code`` and ``area_name`` for each point (missing where outside every area).

    Parameters
    ----------
    points : GeoDataFrame
        Point layer (other geometries use their representative point).
    areas : GeoDataFrame
        ``code``, ``name``, polygon geometry, in the same CRS.

    Returns
    -------
    DataFrame
        Index-aligned with ``points``.
    """
    _same_crs(points, areas, "assign_to_areas")
    geoms = points.geometry.array
    nonpoint = shapely.get_type_id(geoms) != 0
    if nonpoint.any():
        geoms = geoms.copy()
        geoms[nonpoint] = shapely.point_on_surface(geoms[nonpoint])
    idx = area_index_of_points(np.asarray(geoms), areas)
    inside = idx >= 0
    codes = np.where(inside, areas["code"].to_numpy()[np.where(inside, idx, 0)], None)
    names = np.where(inside, areas["name"].to_numpy()[np.where(inside, idx, 0)], None)
    return pd.DataFrame(
        {"area_code": pd.array(codes, dtype="string"), "area_name": pd.array(names, dtype="string")}, index=points.index
    )


def lookup_from_geometry(
    small_areas: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, nest_share: float = 0.9
) -> pd.DataFrame:
    """Build an LSOA-to-area lookup from boundaries when no published one is given.

    An LSOA with at least ``nest_share`` of its area inside one area is given
    wholly to the area holding its representative point (a best fit, as ONS
    builds its lookups). One cut by the area boundaries, as custom
    neighbourhoods often do, is apportioned by the share of its area in each:
    its population is then split in that proportion. Where at least
    ``nest_share`` of it lies inside some area, the shares are scaled to sum to
    one (the rest is a sliver left by generalised boundaries); where less does,
    the part outside every area is left out.

    Parameters
    ----------
    small_areas, areas : GeoDataFrame
        ``code`` and polygon geometry, in the same projected CRS.
    nest_share : float
        Share of an LSOA's area in one area above which it counts as nested.

    Returns
    -------
    DataFrame
        ``lsoa_code``, ``area_code``, ``weight`` (weights of each LSOA sum to 1,
        or to less where much of it lies outside every area), ``method``
        (``best-fit`` or ``apportioned``). LSOAs wholly outside are left out.
    """
    _same_crs(small_areas, areas, "lookup_from_geometry")
    lsoa_geoms = small_areas.geometry.array
    tree = shapely.STRtree(areas.geometry.array)
    li, ai = tree.query(lsoa_geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(lsoa_geoms[li], areas.geometry.array[ai]))
    lsoa_area = shapely.area(lsoa_geoms)
    share = inter / np.where(lsoa_area[li] > 0, lsoa_area[li], 1)
    pairs = pd.DataFrame({"li": li, "ai": ai, "share": share})
    pairs = pairs[pairs["share"] > 1e-6]
    best_share = pairs.groupby("li")["share"].max()
    nested = best_share.index[best_share >= nest_share]

    rep_idx = area_index_of_points(np.asarray(shapely.point_on_surface(lsoa_geoms[nested.to_numpy()])), areas)
    fit = pd.DataFrame({"li": nested.to_numpy(), "ai": rep_idx, "share": 1.0})
    fit = fit[fit["ai"] >= 0]
    cut = pairs[~pairs["li"].isin(fit["li"])].copy()
    # Generalised boundaries leave slivers of an LSOA outside every area; where nearly all of it
    # is covered, share it out in full so that no resident is lost to a drawing artefact.
    covered = cut.groupby("li")["share"].transform("sum")
    nearly = covered >= nest_share
    cut.loc[nearly, "share"] = cut.loc[nearly, "share"] / covered[nearly]
    out = pd.concat([fit.assign(method="best-fit"), cut.assign(method="apportioned")], ignore_index=True)
    result = pd.DataFrame(
        {
            "lsoa_code": small_areas["code"].to_numpy()[out["li"].to_numpy()],
            "area_code": areas["code"].to_numpy()[out["ai"].to_numpy()],
            "weight": out["share"].to_numpy(float),
            "method": out["method"].to_numpy(),
        }
    )
    return result.sort_values(["lsoa_code", "area_code"], kind="stable").reset_index(drop=True)
