"""Residents: each LSOA's population spread over points inside it, the people an access run measures from.

With a street network the population is spread evenly over the network nodes inside the LSOA; without
one, over a regular grid of points inside it. An LSOA with no such point is placed at its
representative point.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._errors import Problem, ValidationError
from assetmap.analysis.assign import area_index_of_points
from assetmap.analysis.walkgraph import WalkGraph, snap_points

#: Spacing, in metres, of the grid of resident points used without a street network.
GRID_SPACING_M: float = 100.0

#: A network whose nodes are all further than this from every LSOA does not cover the area.
MAX_OFF_NETWORK_M: float = 1_000.0


def _population(deprivation: pd.DataFrame) -> pd.Series:
    if "population" not in deprivation or "lsoa_code" not in deprivation:
        raise ValidationError(
            Problem(
                "the deprivation table has no population column, so residents cannot be placed.",
                field="population",
                fix="Add the IoD population file (File 6) to the area, or use File 7, which includes it.",
            )
        )
    pop = pd.to_numeric(deprivation["population"], errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} LSOAs have no population (e.g. {deprivation.loc[bad, 'lsoa_code'].iloc[0]}).",
                field="population",
                fix="Give every LSOA its population (IoD File 6).",
            )
        )
    return pd.Series(pop.to_numpy("float64"), index=deprivation["lsoa_code"].astype(str))


def _grid_points(polygons: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (polygon position, point) for a square grid of ``spacing`` metres over each polygon, inside it."""
    owners, points = [], []
    bounds = shapely.bounds(polygons)
    for i, (minx, miny, maxx, maxy) in enumerate(bounds):
        # Grid anchored at multiples of the spacing, so that neighbouring LSOAs share one lattice.
        gx = np.arange(np.floor(minx / spacing) * spacing + spacing / 2, maxx, spacing)
        gy = np.arange(np.floor(miny / spacing) * spacing + spacing / 2, maxy, spacing)
        if len(gx) == 0 or len(gy) == 0:
            continue
        mx, my = np.meshgrid(gx, gy)
        pts = shapely.points(mx.ravel(), my.ravel())
        inside = shapely.contains_xy(polygons[i], mx.ravel(), my.ravel())
        owners.append(np.full(int(inside.sum()), i))
        points.append(pts[inside])
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    return np.concatenate(owners), np.concatenate(points)


def resident_points(
    small_areas: gpd.GeoDataFrame,
    deprivation: pd.DataFrame,
    graph: WalkGraph | None = None,
    *,
    spacing: float | None = GRID_SPACING_M,
) -> pd.DataFrame:
    """Spread each LSOA's population over points inside it: the residents of an access run.

    Parameters
    ----------
    small_areas : GeoDataFrame
        LSOAs with ``code`` and polygon ``geometry`` in a projected CRS in metres.
    deprivation : DataFrame
        ``lsoa_code`` and ``population``; LSOAs of ``small_areas`` without a row have no residents.
    graph : WalkGraph, optional
        With a network: the population of an LSOA is shared evenly among the network nodes inside it.
    spacing : float or None
        Without a network: the spacing in metres of a square grid of points inside each LSOA
        (default 100 m); None places each LSOA at one representative point.

    Returns
    -------
    DataFrame
        One row per resident point, index ``0..n-1``: ``lsoa_code``, ``population``, ``x``, ``y``,
        ``node`` (nearest network node by position, -1 without a network), ``snap_m`` (straight-line
        metres from the point to that node, 0 for points on a node) and ``placement`` (``node``,
        ``grid`` or ``representative point``). Populations add up to the LSOAs'.

    Raises
    ------
    ValidationError
        No population column, or a network that does not reach any of the LSOAs.
    """
    pop = _population(deprivation)
    areas = small_areas[small_areas["code"].astype(str).isin(pop.index)]
    codes = areas["code"].astype(str).to_numpy()
    polygons = np.asarray(areas.geometry.array)
    if len(codes) == 0:
        raise ValidationError(
            Problem(
                "none of the LSOAs has a population row in the deprivation table.",
                field="lsoa_code",
                fix="Use a deprivation file of the same LSOA vintage as the LSOA boundaries.",
            )
        )
    owner, point_xy, nodes, placement = _with_representative_points(
        *_inner_points(areas, polygons, graph, spacing), polygons, len(codes)
    )
    snap = _snap_off_nodes(graph, nodes, point_xy)
    # Share each LSOA's population evenly among its points; order points by LSOA code, then position.
    order = np.lexsort((point_xy[:, 1], point_xy[:, 0], codes[owner]))
    owner, point_xy, nodes, snap, placement = owner[order], point_xy[order], nodes[order], snap[order], placement[order]
    per_area = np.bincount(owner, minlength=len(codes))
    share = pop.reindex(codes).to_numpy("float64")[owner] / per_area[owner]
    out = pd.DataFrame(
        {
            "lsoa_code": codes[owner],
            "population": share,
            "x": point_xy[:, 0],
            "y": point_xy[:, 1],
            "node": nodes,
            "snap_m": snap,
            "placement": placement,
        }
    )
    out.attrs["spacing"] = None if graph is not None else spacing  # for the method note
    return out


def _inner_points(
    areas: gpd.GeoDataFrame, polygons: np.ndarray, graph: WalkGraph | None, spacing: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the points inside the LSOAs: (LSOA position, x and y, network node or -1, placement)."""
    if graph is not None:
        # A node on a shared edge belongs to one LSOA only: the first by code, as assets do.
        node_area = area_index_of_points(shapely.points(graph.x, graph.y), areas)
        nodes = np.flatnonzero(node_area >= 0)
        owner, point_xy = node_area[nodes], np.column_stack([graph.x[nodes], graph.y[nodes]])
        return owner, point_xy, nodes, np.full(len(owner), "node", dtype=object)
    if spacing is not None:
        if not np.isfinite(spacing) or spacing <= 0:
            raise ValueError(f"spacing must be a positive number of metres, not {spacing!r}.")
        owner, pts = _grid_points(polygons, float(spacing))
        point_xy = shapely.get_coordinates(pts) if len(pts) else np.zeros((0, 2))
        return owner, point_xy, np.full(len(owner), -1, np.int64), np.full(len(owner), "grid", dtype=object)
    return np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, dtype=object)


def _with_representative_points(
    owner: np.ndarray,
    point_xy: np.ndarray,
    nodes: np.ndarray,
    placement: np.ndarray,
    polygons: np.ndarray,
    n_areas: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add each LSOA's representative point where no point lies inside it."""
    empty = np.setdiff1d(np.arange(n_areas), owner)
    if len(empty):
        rep = shapely.get_coordinates(shapely.point_on_surface(polygons[empty]))
        owner = np.concatenate([owner, empty])
        point_xy = np.vstack([point_xy, rep])
        nodes = np.concatenate([nodes, np.full(len(empty), -1, np.int64)])
        placement = np.concatenate([placement, np.full(len(empty), "representative point", dtype=object)])
    return owner, point_xy, nodes, placement


def _snap_off_nodes(graph: WalkGraph | None, nodes: np.ndarray, point_xy: np.ndarray) -> np.ndarray:
    """Join the points not on a node to their nearest node (in place in ``nodes``); return the metres to it.

    Raises
    ------
    ValidationError
        When no point is on the network and the nearest node is too far for the network to cover the area.
    """
    snap = np.zeros(len(nodes))
    if graph is not None:
        off = nodes < 0
        nodes[off], snap[off] = snap_points(graph, point_xy[off, 0], point_xy[off, 1])
        if off.all() and snap.min() > MAX_OFF_NETWORK_M:
            minx, miny, maxx, maxy = graph.bounds
            raise ValidationError(
                Problem(
                    f"the street network does not overlap the area: its nearest node is {snap.min():,.0f} m "
                    f"from the closest LSOA (network bounds {minx:,.0f}, {miny:,.0f} to {maxx:,.0f}, {maxy:,.0f}).",
                    field="network",
                    fix="Use a network extract of the same place, in EPSG:27700 (or projected by read_network).",
                )
            )
    return snap
