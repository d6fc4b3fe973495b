"""Screen-only views of an area: the layers a map draws, which the analysis never reads.

- :func:`map_layer`: need, access and gap of one group per ward (or LSOA), ready to shade;
- :func:`catchment`: the land within reach of an asset of one group, as one shape to shade;
- :func:`shown_assets`: the approved assets a map shows under the page's filters;
- :func:`what_if_reach`: the land within reach before a what-if and the land it adds, smoothed to read.

They are put together from :mod:`assetmap.area.coverage`, whose figures they show unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import contourpy
import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from assetmap import settings
from assetmap.analysis.groups import (
    DEFAULT_THRESHOLDS,
    check_groups,
    check_thresholds,
    element_masks,
    group_masks,
    group_parts,
)
from assetmap.area.coverage import analyse_gaps, area_access, area_outline, counted_assets, default_limit
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from assetmap.analysis.scenario import WhatIf
    from assetmap.area.load import Area


#: Columns of the gap table a map of one group shows beside the need figures.
_MAP_GAP_COLUMNS: tuple[str, ...] = (
    "n_assets",
    "access_share",
    "need_percentile",
    "gap_index",
    "bivariate_class",
    "bivariate_label",
    "gap_rank",
)


def map_layer(
    area: Area,
    group: str,
    *,
    threshold: float | None = None,
    include_stale: bool = True,
    by: str = "area",
    audience: str = "everyone",
) -> gpd.GeoDataFrame:
    """Return one row per ward (or LSOA) with need, access and gap for one group, ready to map.

    Parameters
    ----------
    area : Area
        A loaded area.
    group : str
        Element (``e1``..``e11``) or pillar key.
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently (default True).
    by : {"area", "lsoa"}
        Wards (with the deprivation summary's columns) or LSOAs (with the IoD's own
        ``imd_score`` as ``avg_score`` and ``imd_decile``).
    audience : str
        One group of residents (:data:`~assetmap.taxonomy.RESIDENT_GROUPS`): access for them only, to the
        assets that are for them (default ``everyone``).

    Returns
    -------
    GeoDataFrame
        ``code``, ``name``, ``geometry`` (EPSG:27700), need columns (``avg_score``,
        ``population``, ``share_pop_decile_1_2`` for wards, ``imd_decile`` for LSOAs),
        and the group's ``n_assets``, ``access_share``, ``need_percentile``,
        ``gap_index``, ``bivariate_class``, ``bivariate_label`` and ``gap_rank``.
    """
    result = analyse_gaps(
        area, threshold=threshold, by=by, groups=[group], include_stale=include_stale, audience=audience
    )
    rows = result.table[~result.table["whole_area"]].set_index("code")
    if by == "area":
        base = area.area_summary().drop(columns=["n_assets"], errors="ignore")
    else:
        dep = area.deprivation.set_index("lsoa_code")
        base = area.small_areas[["code", "name", "geometry"]].copy()
        base["population"] = base["code"].map(rows["population"])
        base["avg_score"] = base["code"].map(dep["imd_score"]) if "imd_score" in dep else np.nan
        base["imd_decile"] = base["code"].map(dep["imd_decile"]) if "imd_decile" in dep else np.nan
    out = base.copy()
    for column in _MAP_GAP_COLUMNS:
        out[column] = out["code"].map(rows[column])
    out.attrs["method"] = result.access.method
    out.attrs["threshold"] = result.threshold
    return out


def catchment(
    area: Area,
    group: str,
    *,
    threshold: float | None = None,
    include_stale: bool = True,
    resolution_m: float = 60.0,
) -> gpd.GeoSeries:
    """Return the land within ``threshold`` of an asset of one group, as one (multi)polygon to shade.

    With a street network, the catchment is the street nodes within walking reach,
    each widened by ``resolution_m`` so neighbouring nodes join up (:func:`reach_shape`); without one, it is
    the circles of that radius around the assets. Either way it is clipped to the
    area. It is for the screen: the analysis never reads it.

    Parameters
    ----------
    area : Area
        A loaded area.
    group : str
        Element (``e1``..``e11``), pillar key or combination (``scaling&strengthening``).
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently (default True).
    resolution_m : float, default 60
        Half the typical spacing of street nodes: how far each reached node is widened.

    Returns
    -------
    GeoSeries
        One geometry in EPSG:27700 (empty when nothing is within reach);
        ``attrs['method']`` says walking or straight-line.
    """
    keys = check_groups([group], load_taxonomy())
    t = check_thresholds([settings.walk_threshold_m if threshold is None else threshold])[0]
    cache_key = ("catchment", keys[0], t, include_stale, resolution_m)

    def build() -> gpd.GeoSeries:
        access = area_access(area, include_stale=include_stale, limit=max(t, default_limit()), groups=keys)
        if access.method == "network":
            reached = access.residents.loc[access.distance[keys[0]].to_numpy() <= t]
            shape = reach_shape(reached["x"].to_numpy(), reached["y"].to_numpy(), resolution_m)
        else:
            counted = counted_assets(area, include_stale=include_stale)
            parts, how = group_parts(keys[0])
            # A combination's land is within reach of every part (all) or of any part (any).
            shapes = [
                shapely.union_all(
                    shapely.buffer(np.asarray(counted[_serves(counted, p)].geometry.array), t, quad_segs=16)
                )
                for p in parts
            ]
            shape = shapely.intersection_all(shapes) if how == "all" else shapely.union_all(shapes)
        shape = shapely.intersection(shapely.simplify(shape, resolution_m / 4), area_outline(area))
        out = gpd.GeoSeries([shape], crs=settings.analysis_crs)
        out.attrs["method"] = access.method
        return out

    return area.memo(cache_key, build)


def reach_shape(x: np.ndarray, y: np.ndarray, radius_m: float) -> shapely.Geometry:
    """Return the land within about ``radius_m`` of any of the points, as one (multi)polygon.

    The points are marked on a grid of cells a third of ``radius_m`` wide, the marks widened by a
    disc of ``radius_m`` and the edge of the marked cells traced (marching squares): every point lies
    at least about half ``radius_m`` inside the shape. Holes smaller than one point's disc are filled. Time grows with the cells, not with the overlaps
    of one circle per point, whose union and simplification grow faster than the square of the points.

    Parameters
    ----------
    x, y : ndarray
        Point coordinates in metres.
    radius_m : float
        How far each point is widened.

    Returns
    -------
    shapely.Geometry
        A MultiPolygon (empty when there are no points).
    """
    if not len(x):
        return shapely.MultiPolygon()
    cell = radius_m / 3
    r = 3
    x0 = np.floor(x.min() / cell) * cell - (r + 2) * cell
    y0 = np.floor(y.min() / cell) * cell - (r + 2) * cell
    i = ((x - x0) // cell).astype(np.intp)
    j = ((y - y0) // cell).astype(np.intp)
    mask = np.zeros((j.max() + r + 3, i.max() + r + 3), dtype=bool)
    mask[j, i] = True
    dj, di = np.mgrid[-r : r + 1, -r : r + 1]
    mask = ndimage.binary_dilation(mask, structure=di**2 + dj**2 <= r * r)
    xs = x0 + (np.arange(mask.shape[1]) + 0.5) * cell
    ys = y0 + (np.arange(mask.shape[0]) + 0.5) * cell
    traced = contourpy.contour_generator(xs, ys, mask.astype(np.float32), fill_type=contourpy.FillType.OuterOffset)
    filled: Any = traced.filled(0.5, 1.5)  # OuterOffset: (points, offsets), one of each per polygon
    points: list[np.ndarray] = filled[0]
    offsets: list[np.ndarray] = filled[1]
    if not points:
        return shapely.MultiPolygon()
    # All rings at once (building them one by one was most of the time): each polygon's first
    # ring is its outline, the others its holes; holes smaller than one point's disc are the
    # gaps between streets, not land out of reach, and are filled.
    counts = np.concatenate([np.diff(o) for o in offsets])
    xy = np.concatenate(points)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    after = np.arange(len(xy)) + 1
    after[starts + counts - 1] = starts
    area = 0.5 * np.abs(np.add.reduceat(xy[:, 0] * xy[after, 1] - xy[after, 0] * xy[:, 1], starts))
    first = np.cumsum(np.array([0] + [len(o) - 1 for o in offsets]))
    keep = area >= np.pi * radius_m**2
    keep[first[:-1]] = True
    ring_of = np.repeat(np.arange(len(counts)), counts)
    rings = np.full(len(counts), None, dtype=object)
    kept = keep[ring_of]
    rings[keep] = shapely.linearrings(xy[kept], indices=(np.cumsum(keep) - 1)[ring_of[kept]])
    polygons = [
        shapely.Polygon(rings[a], [h for h in rings[a + 1 : b] if h is not None]) for a, b in itertools.pairwise(first)
    ]
    return shapely.MultiPolygon(polygons)


def _serves(assets: gpd.GeoDataFrame, group: str) -> np.ndarray:
    """Return which assets count toward ``group`` (an element or a pillar)."""
    return (element_masks(assets["elements"]) & group_masks([group])[0]) != 0


def shown_assets(
    area: Area,
    *,
    include_stale: bool = True,
    group: str | None = None,
    types: Iterable[str] | None = None,
    audience: str = "everyone",
) -> gpd.GeoDataFrame:
    """Return the approved assets a map shows under the page's filters.

    Parameters
    ----------
    area : Area
        A loaded area.
    include_stale : bool
        Keep records not confirmed recently (default True).
    group : str, optional
        Keep only assets serving this element or pillar (for a combination: serving any of its parts).
    types : iterable of str, optional
        Keep only these asset types (default: all).
    audience : str
        Keep only assets for this group of residents (default ``everyone``: all).

    Returns
    -------
    GeoDataFrame
        A subset of ``area.assets`` (approved records only), rows in register order.
    """
    assets = counted_assets(area, include_stale=include_stale, audience=audience)
    if group is not None:
        check_groups([group], load_taxonomy())
        assets = assets[_serves(assets, group)]
    if types is not None and "type" in assets:
        assets = assets[assets["type"].isin(list(types))]
    return assets


def _readable(shape: shapely.Geometry, resolution_m: float, outline: shapely.Geometry) -> shapely.Geometry:
    """Return a reach shape smoothed for the eye: gaps closed, specks and pinholes dropped, outline simplified.

    Widened street nodes leave lace-like gaps between streets; a closing (grow, then
    shrink, by ``resolution_m``) fills them, and holes smaller than a circle of twice
    that radius are filled. No reached node is left out. The analysis never reads the result.
    """
    closed = shapely.buffer(shapely.buffer(shape, resolution_m, quad_segs=4), -resolution_m, quad_segs=4)
    smallest = np.pi * (2 * resolution_m) ** 2
    parts = [
        shapely.Polygon(part.exterior, [ring for ring in part.interiors if shapely.Polygon(ring).area >= smallest])
        for part in shapely.get_parts(closed)
    ]
    merged = shapely.union_all(parts) if parts else shapely.Polygon()
    return shapely.intersection(shapely.simplify(merged, resolution_m / 2), outline)


def what_if_reach(
    area: Area,
    result: WhatIf,
    sites: tuple[np.ndarray, np.ndarray],
    *,
    include_stale: bool = True,
    resolution_m: float = 60.0,
) -> gpd.GeoSeries:
    """Return the land within reach now and the land a what-if adds, as two smoothed shapes to shade.

    With a street network, each is the street nodes within walking reach (before, and
    newly with the sites open), widened by ``resolution_m`` and smoothed; without one,
    the circles around the assets serving the group, and those around the sites less
    the first. Either way clipped to the area. For the screen: the figures come from
    ``result``, never from these shapes.

    Parameters
    ----------
    area : Area
        A loaded area.
    result : WhatIf
        From :meth:`assetmap.area.load.Area.what_if` on this area with ``include_stale``.
    sites : (ndarray, ndarray)
        The candidate sites' x and y in EPSG:27700.
    include_stale : bool
        Whether ``result`` counted records not confirmed recently.
    resolution_m : float, default 60
        Half the typical spacing of street nodes: how far each reached node is widened.

    Returns
    -------
    GeoSeries
        Two geometries in EPSG:27700, indexed ``before`` and ``added`` (either may be empty).
    """
    t = result.threshold
    outline = area_outline(area)
    # The access run the what-if started from (see analyse_gaps), so its residents line up with the result.
    access = area_access(
        area,
        include_stale=include_stale,
        limit=max(check_thresholds([*DEFAULT_THRESHOLDS, t])),
        groups=[result.group],  # a combination's distances are worked out from its parts'
    )
    if access.method == "network" and len(access.residents) == len(result.distance_after):
        xy = access.residents[["x", "y"]].to_numpy(float)
        before_d = access.distance[result.group].to_numpy(float)

        def widened(mask: np.ndarray) -> shapely.Geometry:
            # The Map page's catchment tracing: a union of one circle per node grows faster than their square.
            return reach_shape(xy[mask, 0], xy[mask, 1], resolution_m)

        before = area.memo(
            ("reach_before", result.group, t, include_stale, resolution_m),
            lambda: _readable(widened(before_d <= t), resolution_m, outline),
        )
        added = _readable(widened((before_d > t) & (result.distance_after <= t)), resolution_m, outline)
        added = shapely.difference(added, before)
    else:
        # The land within reach now, as the Map page shades it (a combination's from its parts').
        before = catchment(area, result.group, threshold=t, include_stale=include_stale).iloc[0]
        circles = shapely.union_all(shapely.buffer(shapely.points(np.column_stack(sites)), t, quad_segs=16))
        added = shapely.intersection(shapely.difference(circles, before), outline)
    return gpd.GeoSeries([before, added], index=["before", "added"], crs=settings.analysis_crs)
