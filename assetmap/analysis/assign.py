"""Which area each point and each small area belongs to.

Pure functions over GeoDataFrames in one projected CRS; vectorised with
shapely's STRtree so that a million points take seconds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._errors import CRSError, Problem, ValidationError


def _same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, what: str) -> None:
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        raise CRSError(
            f"{what}: the layers are in different coordinate reference systems ({a.crs} and {b.crs}). "
            "Reproject one with .to_crs() first."
        )


def _first_by_code(pt_idx: np.ndarray, area_idx: np.ndarray, areas: gpd.GeoDataFrame, out: np.ndarray) -> None:
    """Write into ``out`` each point's area among its (point, area) pairs, the first by code where several."""
    if not len(pt_idx):
        return
    # Most points have one area: place them directly, and break ties only for the others.
    n = np.bincount(pt_idx, minlength=len(out))[pt_idx]
    out[pt_idx[n == 1]] = area_idx[n == 1]
    pt_idx, area_idx = pt_idx[n > 1], area_idx[n > 1]
    if not len(pt_idx):
        return
    rank = areas["code"].to_numpy().argsort(kind="stable").argsort()[area_idx]
    order = np.lexsort((rank, pt_idx))
    pt_sorted, area_sorted = pt_idx[order], area_idx[order]
    first = np.r_[True, pt_sorted[1:] != pt_sorted[:-1]]
    out[pt_sorted[first]] = area_sorted[first]


def area_index_of_points(points: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Return, for each point, the position of the area containing it, or -1.

    A point inside an area belongs to it. A point on a shared boundary (inside
    no area) belongs to the area it touches that comes first in the sort by
    ``code``; so do points inside several overlapping areas: one answer, the
    same every run, whatever the input order.

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
    polygons = np.asarray(areas.geometry.array)
    # Candidates by bounding box, then one prepared point-in-polygon test per area over its candidates:
    # several times faster than testing each (point, area) pair unprepared.
    pt_idx, area_idx = shapely.STRtree(polygons).query(points)
    if not len(pt_idx):
        return result
    # A stable sort of small integers is a radix sort: cheap even for millions of pairs.
    key = area_idx.astype(np.uint16) if len(polygons) < 2**16 else area_idx
    order = np.argsort(key, kind="stable")
    pt_idx, area_idx = pt_idx[order], area_idx[order]
    xy = shapely.get_coordinates(points)
    inside = np.zeros(len(pt_idx), dtype=bool)
    starts = np.flatnonzero(np.r_[True, area_idx[1:] != area_idx[:-1]])
    for lo, hi in zip(starts, [*starts[1:], len(area_idx)], strict=True):
        cand = pt_idx[lo:hi]
        inside[lo:hi] = shapely.contains_xy(polygons[area_idx[lo]], xy[cand, 0], xy[cand, 1])
    _first_by_code(pt_idx[inside], area_idx[inside], areas, result)
    # Points inside no area may lie on a boundary: "intersects" keeps points exactly on an edge.
    rest = (result[pt_idx] < 0) & ~inside
    if rest.any():
        touch = shapely.intersects(polygons[area_idx[rest]], points[pt_idx[rest]])
        _first_by_code(pt_idx[rest][touch], area_idx[rest][touch], areas, result)
    return result


def assign_to_areas(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return ``area_code`` and ``area_name`` for each point (missing where outside every area).

    Parameters
    ----------
    points : GeoDataFrame
        Point layer (other geometries use their representative point; rows without one are in no area).
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
    # A row without a place (missing or empty geometry) is in no area.
    placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.full(len(geoms), -1, dtype=np.int64)
    idx[placed] = area_index_of_points(np.asarray(geoms)[placed], areas)
    inside = idx >= 0
    codes = np.where(inside, areas["code"].to_numpy()[np.where(inside, idx, 0)], None)
    names = np.where(inside, areas["name"].to_numpy()[np.where(inside, idx, 0)], None)
    return pd.DataFrame(
        {"area_code": pd.array(codes, dtype="string"), "area_name": pd.array(names, dtype="string")}, index=points.index
    )


#: Where a point lies relative to an area: in one of its wards, within the buffer around it, or further out.
INSIDE, BUFFER, OUTSIDE = "inside", "buffer", "outside"


#: Widest border band accepted, in metres: wider, a borough would take in its neighbours' assets wholesale.
MAX_BUFFER_M: float = 50_000.0


def check_buffer_m(value: object, *, field: str, file: str | None = None) -> float:
    """Return a border buffer as metres, or refuse it naming where it was given.

    Parameters
    ----------
    value : object
        A number of metres, or text holding one (from the environment or a manifest).
    field : str
        Where it was given, in the words of the interface: ``--buffer``,
        ``asset_buffer_m``, ``ASSETMAP_ASSET_BUFFER_M``.
    file : str, optional
        The file it was read from (an ``area.toml``).

    Raises
    ------
    ValidationError
        Not a number, negative, or wider than :data:`MAX_BUFFER_M`.
    """
    number = None
    if not isinstance(value, bool):
        try:
            number = float(str(value).replace(",", "").strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = None
    if number is None or not np.isfinite(number) or not 0 <= number <= MAX_BUFFER_M:
        raise ValidationError(
            Problem(
                f"the border buffer {value!r} is not a distance from 0 to {MAX_BUFFER_M:,.0f} metres.",
                file=file,
                field=field,
                fix="Give metres as a number, e.g. 2000 for 2 km (0 keeps only assets inside the area).",
            )
        )
    return number


def place_points(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, buffer_m: float) -> pd.DataFrame:
    """Return each point's ward, and whether it lies inside the area, in the buffer around it, or beyond.

    The one rule for which assets an area keeps: a point in a ward is ``inside``
    (counted in that ward); one within ``buffer_m`` of a ward but in none is
    ``buffer`` (residents near the border walk to it, so it counts for access, but
    in no ward's counts); anything further is ``outside`` (left out). A point with
    no geometry is ``inside`` no ward: it stays (as ``buffer``), to be reported
    as unplaced, since no distance can put it further out.

    Parameters
    ----------
    points : GeoDataFrame
        Point layer (other geometries use their representative point).
    areas : GeoDataFrame
        ``code``, ``name``, polygon geometry, in the same projected CRS (metres).
    buffer_m : float
        Width of the border band, in metres (0 keeps only points in a ward).

    Returns
    -------
    DataFrame
        Index-aligned with ``points``: ``area_code``, ``area_name`` (missing outside
        every ward) and ``extent`` (:data:`INSIDE`, :data:`BUFFER` or :data:`OUTSIDE`).
    """
    out = assign_to_areas(points, areas)
    inside = out["area_code"].notna().to_numpy()
    extent = np.where(inside, INSIDE, BUFFER).astype(object)
    geoms = np.asarray(points.geometry.array)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rest = np.flatnonzero(~inside & located)
    if len(rest):
        # Within the buffer of any ward: one indexed query, not a buffer of the whole outline.
        hit, _ = shapely.STRtree(np.asarray(areas.geometry.array)).query(
            geoms[rest], predicate="dwithin", distance=float(buffer_m)
        )
        near = np.zeros(len(rest), dtype=bool)
        near[hit] = True
        extent[rest[~near]] = OUTSIDE
    out["extent"] = extent
    return out


def beyond_boundary(assets: pd.DataFrame) -> pd.Series:
    """Return which of an area's assets lie beyond its boundary (in the buffer): those in no ward.

    Once :func:`place_points` has left out the points beyond the buffer, an asset
    with no ``area_code`` counts for access and in no ward.
    """
    if "area_code" not in assets:
        return pd.Series(False, index=assets.index)
    return assets["area_code"].isna()


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


def placement_effect(small_areas: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, population: pd.Series) -> pd.DataFrame:
    """Return each area's population with LSOAs placed by representative point and by area share, and the change.

    Without a published lookup, how an LSOA that crosses area lines is placed decides the areas'
    populations; the change between the two simple placements says how much that matters.

    Parameters
    ----------
    small_areas, areas : GeoDataFrame
        ``code`` and polygon geometry, in the same projected CRS (``areas`` also ``name``).
    population : Series
        Population per LSOA, indexed by LSOA code.

    Returns
    -------
    DataFrame
        Per area (index: ``code``): ``name``; ``by_point``, residents with each LSOA wholly in the area
        holding its representative point; ``by_share``, residents with each LSOA shared by the share of
        its area in each; ``change``, their difference as a share of the larger (0 to 1). Largest first.
    """
    _same_crs(small_areas, areas, "placement_effect")
    lsoa_geoms, area_geoms = small_areas.geometry.array, areas.geometry.array
    pop = small_areas["code"].map(population).fillna(0.0).to_numpy(dtype="float64")
    idx = area_index_of_points(np.asarray(shapely.point_on_surface(lsoa_geoms)), areas)
    by_point = np.bincount(idx[idx >= 0], weights=pop[idx >= 0], minlength=len(areas))
    li, ai = shapely.STRtree(area_geoms).query(lsoa_geoms, predicate="intersects")
    lsoa_area = shapely.area(lsoa_geoms)[li]
    share = shapely.area(shapely.intersection(lsoa_geoms[li], area_geoms[ai])) / np.where(lsoa_area > 0, lsoa_area, 1)
    by_share = np.bincount(ai, weights=share * pop[li], minlength=len(areas))
    larger = np.maximum(by_point, by_share)
    change = np.divide(np.abs(by_share - by_point), larger, out=np.zeros(len(areas)), where=larger > 0)
    out = pd.DataFrame(
        {"name": areas["name"].to_numpy(), "by_point": by_point, "by_share": by_share, "change": change},
        index=pd.Index(areas["code"].to_numpy(), name="code"),
    )
    return out.sort_values("change", ascending=False, kind="stable")


def generalise_sensitive(
    assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, code_col: str = "area_code"
) -> gpd.GeoDataFrame:
    """Place each asset with a sensitive location at its area's representative point.

    Public outputs (catchments, small-area counts and access, what-if and
    suggestions, exports) are computed from this, so that no figure or shape
    gives away a sensitive place to better than its ward. Exact address,
    postcode and coordinates of those records are blanked as well.

    Parameters
    ----------
    assets : GeoDataFrame
        Records with point geometry, ``code_col`` (the area each lies in) and
        ``sensitive``.
    areas : GeoDataFrame
        Areas with ``code`` and polygon geometry, in the CRS of ``assets``.
    code_col : str, default "area_code"
        Column of ``assets`` naming each record's area.

    Returns
    -------
    GeoDataFrame
        ``assets`` itself when no record is sensitive; otherwise a new frame in which
        sensitive records sit at their area's representative point (no geometry, so
        in no catchment, where their area is unknown). Other records are unchanged.

    Raises
    ------
    CRSError
        When the two layers are in different CRSs.
    """
    from assetmap.record import sensitive_mask, without_exact_place

    hidden = sensitive_mask(assets).to_numpy(dtype=bool)
    if not hidden.any():
        return assets
    _same_crs(assets, areas, "generalise_sensitive")
    points = pd.Series(areas.geometry.representative_point().to_numpy(), index=areas["code"].to_numpy())
    points = points[~points.index.duplicated()]
    codes = assets[code_col] if code_col in assets.columns else pd.Series(None, index=assets.index)
    placed = codes[hidden].map(points)
    out = without_exact_place(assets, hidden)
    geometry = out.geometry.to_numpy().copy()
    geometry[hidden] = np.asarray([g if isinstance(g, shapely.Geometry) else None for g in placed], dtype=object)
    out[out.geometry.name] = gpd.GeoSeries(geometry, index=out.index, crs=assets.crs)
    return out
