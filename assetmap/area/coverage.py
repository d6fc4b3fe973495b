"""Coverage and gaps for a loaded area: the analysis functions put together on an :class:`~assetmap.Area`.

The functions here read only the area's layers in memory (the street network
is read from its file on first use and kept) and return new tables:

- :func:`area_access`: residents and their distance to the nearest approved asset of each group;
- :func:`analyse_gaps`: the gap table per ward (or LSOA) and group, with its method note;
- :func:`area_what_if`: the change if assets of one group opened at some points;
- :func:`assetmap.area.sites.area_suggest_sites`: sites that reach the most deprived residents.

Each has a thin method on :class:`~assetmap.Area` (``area.gaps(...)`` and so on).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap import settings
from assetmap._errors import Problem, ValidationError
from assetmap.analysis.access import AccessResult, compute_access, with_groups
from assetmap.analysis.assign import assign_to_areas, beyond_boundary
from assetmap.analysis.audience import audience_note, check_audience, residents_for, serves_audience
from assetmap.analysis.gaps import GapOptions, gap_table
from assetmap.analysis.groups import (
    DEFAULT_THRESHOLDS,
    MAX_THRESHOLD_M,
    asset_kinds,
    check_groups,
    check_thresholds,
    group_keys,
    group_masks,
    group_parts,
)
from assetmap.analysis.note import NoteOptions, method_note
from assetmap.analysis.residents import resident_points
from assetmap.analysis.scenario import WhatIf, what_if, with_opened_sites
from assetmap.analysis.shares import access_shares
from assetmap.analysis.walkgraph import WalkGraph, load_walk_graph, save_walk_graph, walk_graph_from_edges
from assetmap.io.network import read_street_edges
from assetmap.record import sensitive_mask
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from assetmap.area.load import Area


@dataclass
class GapAnalysis:
    """A gap table with everything needed to explain it.

    Attributes
    ----------
    table : GeoDataFrame
        :func:`~assetmap.analysis.gaps.gap_table` with each area's (or LSOA's) geometry in EPSG:27700; the
        whole-authority rows carry the union of the areas.
    note : str
        The plain-English method note (Markdown) to publish with the table.
    access : AccessResult
        Residents and distances behind the shares.
    shares : DataFrame
        :func:`~assetmap.analysis.shares.access_shares` at every reported threshold.
    stale : DataFrame
        Approved records not confirmed within ``settings.stale_after_days``: ``asset_id``, ``name``,
        ``type``, ``area_code``, ``last_confirmed``.
    include_stale : bool
        Whether the stale records were counted.
    threshold : float
        Metres used for the access share and the gap index.
    by : str
        ``area`` or ``lsoa``.
    """

    table: gpd.GeoDataFrame
    note: str
    access: AccessResult
    shares: pd.DataFrame
    stale: pd.DataFrame
    include_stale: bool
    threshold: float
    by: str
    audience: str = "everyone"


#: Changes whenever the way a street file becomes a walk graph changes, so old prepared copies are not used.
WALK_GRAPH_FORMAT: str = "walk-graph-2"


def _prepared_path(network_path: Path, bounds: tuple[float, float, float, float]) -> Path:
    digest = hashlib.sha256(WALK_GRAPH_FORMAT.encode())
    digest.update(repr(tuple(round(b) for b in bounds)).encode())  # the same file clipped for another area differs
    with open(network_path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return settings.cache_dir / "networks" / f"{digest.hexdigest()}.npz"


def walk_graph(area: Area) -> WalkGraph | None:
    """Return the area's street network prepared for shortest paths; None without one.

    The street file is read straight into the graph's arrays (:func:`assetmap.io.network.read_street_edges`),
    only the streets within :meth:`Area.network_bounds` kept; the result is kept on the area and in
    ``settings.cache_dir`` under a name made from the file's contents and those bounds, so a later run (or a
    restarted app) with the same file reads it back in milliseconds, and an edited file is prepared afresh.
    The cache is a convenience: when it cannot be read or written the graph is simply built.
    """
    if area.network_path is None:
        return None
    network_path = area.network_path
    bounds = area.network_bounds()

    def build() -> WalkGraph:
        graph, prepared = None, None
        with contextlib.suppress(OSError):
            prepared = _prepared_path(network_path, bounds)
        if prepared is not None and prepared.is_file():
            # A damaged copy is rebuilt and overwritten below.
            with contextlib.suppress(OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                graph = load_walk_graph(prepared)
        if graph is None:
            edges = read_street_edges(network_path, clip=bounds)
            graph = walk_graph_from_edges(edges.x, edges.y, edges.u, edges.v, edges.length, node_ids=edges.node_ids)
            if prepared is not None:
                with contextlib.suppress(OSError):
                    save_walk_graph(graph, prepared)
        return graph

    return area.memo("walk_graph", build)


def counted_assets(area: Area, *, include_stale: bool = True, audience: str = "everyone") -> gpd.GeoDataFrame:
    """Return the approved assets the analysis counts: all of them, or only those confirmed recently.

    Assets with a sensitive location count at their ward's representative point
    (:func:`assetmap.analysis.assign.generalise_sensitive`), so that no catchment,
    small-area figure, what-if or suggestion reveals the place itself. For one group of
    residents (``audience``), only the assets that serve it count.
    """
    placed = area.placed_assets()
    if not include_stale:
        placed = placed[~area.stale_mask().loc[placed.index]]
    if audience == "everyone":
        return placed
    return placed[serves_audience(placed, audience)]


def stale_records(area: Area) -> pd.DataFrame:
    """Return the approved records not confirmed within ``settings.stale_after_days`` of the area's date."""
    approved = area.approved_assets()
    stale = approved[area.stale_mask().loc[approved.index]]
    cols = [c for c in ("asset_id", "name", "type", "area_code", "area_name", "last_confirmed") if c in stale]
    return pd.DataFrame(stale[cols]).reset_index(drop=True)


def area_access(
    area: Area,
    *,
    include_stale: bool = True,
    network: bool = True,
    limit: float | None = None,
    audience: str | None = None,
    groups: Iterable[str] | None = None,
) -> AccessResult:
    """Return distances from the area's residents to the nearest approved asset of every element and pillar.

    Parameters
    ----------
    area : Area
        A loaded area.
    include_stale : bool
        Count records not confirmed within ``settings.stale_after_days`` (default True; they are listed
        in the analysis either way).
    network : bool
        Walk along the area's street network where it has one (default); False for straight-line.
    limit : float, optional
        Furthest distance searched, in metres (default 1,200 m or the configured threshold if larger).
    audience : str, optional
        One group of residents (:data:`~assetmap.taxonomy.RESIDENT_GROUPS`): only its residents, by the
        IoD population by age, and only the assets that serve it (default ``everyone``: all of both).
    groups : iterable of str, optional
        Combinations of groups (``scaling&strengthening``) to measure besides every element and pillar;
        each is worked out from its parts' distances, so the walk is not searched again.

    Returns
    -------
    AccessResult
        Kept on the area, so a second call with the same arguments costs nothing.
    """
    limit = check_thresholds([default_limit() if limit is None else limit])[0]
    audience = check_audience(audience)
    graph = walk_graph(area) if network else None
    everyone = area.memo(
        ("residents", graph is not None), lambda: resident_points(area.small_areas, area.deprivation, graph)
    )
    residents = area.memo(
        ("residents", graph is not None, audience), lambda: residents_for(everyone, area.deprivation, audience)
    )
    access = area.memo(
        ("access", include_stale, graph is not None, limit, audience),
        lambda: compute_access(
            residents, counted_assets(area, include_stale=include_stale, audience=audience), graph=graph, limit=limit
        ),
    )
    combos = tuple(k for k in check_groups(groups or [], load_taxonomy()) if group_parts(k)[1] is not None)
    if not combos:
        return access

    def combine() -> AccessResult:
        # A combination is served by every asset serving one of its parts: counted once each.
        kinds, masks = asset_kinds(counted_assets(area, include_stale=include_stale, audience=audience))
        per_kind = np.bincount(kinds, minlength=len(masks))
        served = {
            k: int(per_kind[(masks & bits) != 0].sum()) for k, bits in zip(combos, group_masks(combos), strict=True)
        }
        return with_groups(access, combos, served)

    return area.memo(("access", include_stale, graph is not None, limit, audience, combos), combine)


def default_limit() -> float:
    """Return the furthest distance searched by default, in metres: 1,200 m or the configured threshold if larger."""
    return max(max(DEFAULT_THRESHOLDS), float(settings.walk_threshold_m))


def _placement_text(access: AccessResult) -> str:
    res = access.residents
    by_lsoa = res.groupby("lsoa_code")["placement"].first()
    fallback = int(by_lsoa.eq("representative point").sum())
    if access.method == "network":
        text = f"spread evenly over the street-network nodes inside it ({len(res):,} points in all)"
        if fallback:
            text += (
                f"; {fallback} LSOAs with no street node inside are placed at one representative point, "
                "joined to the nearest street in a straight line"
            )
    else:
        spacing = res.attrs.get("spacing")
        grid = f"a {spacing:g} m grid of points" if spacing else "one representative point"
        text = f"spread evenly over {grid} inside it ({len(res):,} points)"
        if fallback:
            text += f"; {fallback} LSOAs too small for the grid are placed at one representative point"
    return text


def analyse_gaps(
    area: Area,
    *,
    threshold: float | None = None,
    thresholds: Iterable[float] | None = None,
    by: str = "area",
    groups: Iterable[str] | None = None,
    include_stale: bool = True,
    network: bool = True,
    audience: str | None = None,
) -> GapAnalysis:
    """Return the gap table of an area per ward (or LSOA) and group, with its method note.

    Parameters
    ----------
    area : Area
        A loaded area.
    threshold : float, optional
        Metres counted as within reach for the access share and the gap index (default
        ``settings.walk_threshold_m``, 800 m).
    thresholds : iterable of float, optional
        Distances reported beside it (default 400, 800 and 1,200 m; the threshold is always added).
    by : {"area", "lsoa"}
        Wards (or the area's neighbourhoods), or LSOAs: the hyper-local view.
    groups : iterable of str, optional
        Group keys (``e1``..``e11``, pillar keys); default every element and pillar.
    include_stale : bool
        Count records not confirmed recently (default True; they are listed either way).
    network : bool
        Use the street network where the area has one (default).
    audience : str, optional
        Access for one group of residents (``children``, ``working_age``, ``older``): its residents, and
        the assets that serve it. Default ``everyone``: every resident and every asset.

    Returns
    -------
    GapAnalysis
    """
    if by not in ("area", "lsoa"):
        raise ValidationError(
            Problem(f"cannot report gaps by {by!r}.", field="by", fix="Use by='area' (wards) or by='lsoa'.")
        )
    t = check_thresholds([settings.walk_threshold_m if threshold is None else threshold])[0]
    ths = check_thresholds([*(DEFAULT_THRESHOLDS if thresholds is None else thresholds), t])
    keys = group_keys() if groups is None else check_groups(groups, load_taxonomy())
    audience = check_audience(audience)
    access = area_access(
        area, include_stale=include_stale, network=network, limit=max(ths), audience=audience, groups=keys
    )
    distance = access.distance[[k for k in keys if k in access.distance]]
    summary, counted, lookup = _table_inputs(area, by, include_stale, audience)
    shares = access_shares(access.residents, distance, lookup, thresholds=ths, by=by)
    table = gap_table(
        summary,
        shares,
        counted,
        deprivation=area.deprivation,
        by=by,
        options=GapOptions(threshold=t, groups=keys, authority_code=area.code, authority_name=area.name),
    )
    stale = stale_records(area)
    note = method_note(
        method=access.method,
        threshold=t,
        thresholds=ths,
        include_stale=include_stale,
        vintages=area.vintages,
        n_assets={**{k: access.n_assets[k] for k in keys}, "all": access.n_assets["all"]},
        options=dataclasses.replace(
            _note_options(area, access, shares, stale, counted, include_stale=include_stale, by=by),
            measures=audience_note(audience),
        ),
    )
    if audience != "everyone":
        table = with_audience_population(table, shares, audience)
    return GapAnalysis(
        table=_with_geometry(area, table, by),
        note=note,
        access=access,
        shares=shares,
        stale=stale,
        include_stale=include_stale,
        threshold=t,
        by=by,
        audience=audience,
    )


def with_audience_population(table: pd.DataFrame, shares: pd.DataFrame, audience: str) -> pd.DataFrame:
    """Return a gap table with ``audience`` and ``audience_population``: the residents its shares count."""
    pop = shares.drop_duplicates("code").set_index("code")["population"]
    counted = table["code"].map(pop).astype(float)
    whole = table["whole_area"].to_numpy(bool)
    counted[whole] = float(pop.sum())
    at = table.columns.get_loc("population") + 1
    out = table.copy()
    out.insert(at, "audience_population", counted.to_numpy())
    out.insert(at, "audience", audience)
    return out


def _note_options(
    area: Area,
    access: AccessResult,
    shares: pd.DataFrame,
    stale: pd.DataFrame,
    counted: gpd.GeoDataFrame,
    *,
    include_stale: bool,
    by: str,
) -> NoteOptions:
    """Return what the method note says of this area beyond the method: caveats, placement, units, border."""
    return NoteOptions(
        caveats=_caveats(area, access, shares, stale, include_stale),
        placement=_placement_text(access),
        units=area.unit_label.plural_lower if by == "area" else "LSOAs",
        boundaries=area.unit_label.plural_lower,
        buffer_m=area.asset_buffer_m,
        n_beyond=int(beyond_boundary(counted).sum()),
        n_left_out=area.assets_left_out,
    )


def _with_geometry(area: Area, table: pd.DataFrame, by: str) -> gpd.GeoDataFrame:
    """Return a gap table with each ward's (or LSOA's) geometry; the whole-authority rows carry the area's outline."""
    names = area.boundaries if by == "area" else area.small_areas
    geometry = names.set_index("code").geometry
    whole = area_outline(area)
    geoms = table["code"].map(geometry).where(~table["whole_area"], None)
    geoms = [whole if w else g for g, w in zip(geoms, table["whole_area"], strict=True)]
    return gpd.GeoDataFrame(table, geometry=geoms, crs=settings.analysis_crs)


def _table_inputs(
    area: Area, by: str, include_stale: bool, audience: str = "everyone"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Return what ``gap_table`` needs besides shares: the deprivation summary, the counted assets, the lookup."""
    counted = counted_assets(area, include_stale=include_stale, audience=audience)
    if by == "area":
        summary = pd.DataFrame(area.area_summary().drop(columns="geometry"))
        return summary, counted, area.lookup
    # An LSOA table is its own summary (gap_table reads it so); the names come from the boundaries.
    dep = area.deprivation[area.deprivation["lsoa_code"].isin(area.small_areas["code"])]
    summary = dep.assign(lsoa_name=dep["lsoa_code"].map(area.small_areas.set_index("code")["name"]))
    # An asset beyond the boundary counts in no LSOA, as in no ward, even where an LSOA reaches past the wards.
    lsoa = assign_to_areas(counted, area.small_areas)["area_code"].mask(beyond_boundary(counted))
    counted = counted.assign(lsoa_code=lsoa)
    return summary, counted, None


def area_outline(area: Area) -> object:
    """Return the union of the area's boundaries, made once per area."""
    return area.memo("outline", lambda: shapely.union_all(np.asarray(area.boundaries.geometry.array)))


def _caveats(
    area: Area, access: AccessResult, shares: pd.DataFrame, stale: pd.DataFrame, include_stale: bool
) -> list[str]:
    notes = []
    if area.fictional:
        notes.append("This is fictional demo data: the places, codes and figures are invented.")
    notes += access.notes
    if access.method == "straight-line":
        notes.append("Distances are straight-line: the area has no street network, so access is overstated.")
    if len(stale):
        notes.append(
            f"{len(stale)} approved records were last confirmed more than {settings.stale_after_days:,} days "
            f"before {area.as_of.isoformat()} and "
            + ("are counted; check they still run." if include_stale else "are left out.")
        )
    n_sensitive = int(sensitive_mask(area.approved_assets()).sum())
    if n_sensitive:
        notes.append(
            f"{n_sensitive} approved records have a sensitive location and count at their "
            f"{area.unit_label.singular_lower}'s central point, "
            "so that no figure or shading reveals the place"
        )
    if "method" in area.lookup and area.lookup["method"].eq("apportioned").any():
        cut = area.lookup.loc[area.lookup["method"].eq("apportioned"), "lsoa_code"].nunique()
        notes.append(f"{cut} LSOAs cross area boundaries and are shared between areas by area share.")
    outside = shares.attrs.get("population_outside_areas", 0.0)
    if outside >= 0.5:
        notes.append(f"{outside:,.0f} residents live in LSOAs outside every area and are counted in none.")
    return [n if n.endswith(".") else n + "." for n in notes]


# -- what if -----------------------------------------------------------------------------------------------


def points_xy(points: object) -> tuple[np.ndarray, np.ndarray]:
    """Return x and y in EPSG:27700 from a GeoDataFrame/GeoSeries (reprojected), a DataFrame with x and y, or pairs."""
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        if points.crs is None:
            raise ValidationError(
                Problem("the candidate points have no CRS.", fix="Set it with .set_crs('EPSG:27700') or 4326.")
            )
        geoms = points.to_crs(settings.analysis_crs)
        geoms = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
        xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms.array)))
        return xy[:, 0], xy[:, 1]
    if isinstance(points, pd.DataFrame):
        if not {"x", "y"} <= set(points.columns):
            raise ValidationError(
                Problem(
                    "the candidate table has no x and y columns.",
                    fix="Give x and y in EPSG:27700 (British National Grid metres).",
                )
            )
        return points["x"].to_numpy("float64"), points["y"].to_numpy("float64")
    arr = np.asarray(points, dtype="float64").reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def check_near_area(area: Area, xs: np.ndarray, ys: np.ndarray) -> None:
    """Refuse candidate points that are not near the area: usually longitude/latitude given as eastings/northings."""
    if len(xs) == 0:
        raise ValidationError(Problem("no candidate points were given.", field="points", fix="Give at least one site."))
    minx, miny, maxx, maxy = area.boundaries.total_bounds
    reach = MAX_THRESHOLD_M  # a site further out reaches nobody in the area
    bad = ~((xs >= minx - reach) & (xs <= maxx + reach) & (ys >= miny - reach) & (ys <= maxy + reach))
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} candidate points are more than {reach:,.0f} m outside the area "
                f"(e.g. {xs[bad][0]:g}, {ys[bad][0]:g}).",
                field="points",
                fix="Give British National Grid eastings and northings in metres (EPSG:27700), or a GeoDataFrame "
                "with its CRS set (longitude/latitude are reprojected).",
            )
        )


def area_what_if(
    area: Area,
    points: object,
    group: str,
    *,
    threshold: float | None = None,
    include_stale: bool = True,
    network: bool = True,
) -> WhatIf:
    """Return the change in reach, and in each area's gap index, if assets of ``group`` opened at ``points``.

    Parameters
    ----------
    area : Area
        A loaded area.
    points : GeoDataFrame, GeoSeries, DataFrame with ``x``/``y`` or array of (x, y)
        Candidate sites; bare coordinates are EPSG:27700.
    group : str
        Element (``e6``) or pillar key.
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently (default True).
    network : bool
        Use the street network where the area has one (default).

    Returns
    -------
    WhatIf
        With ``by_area``: per area ``population``, ``share_before``, ``share_after``, ``need_percentile``,
        ``gap_before``, ``gap_after``, ``gap_change`` (negative where the gap falls), largest fall first.
    """
    xs, ys = points_xy(points)
    check_near_area(area, xs, ys)
    group, t, before, graph = scenario_start(area, group, threshold, include_stale, network)
    access = before.access
    result = what_if(access, area.deprivation, xs, ys, group, threshold=t, graph=graph)
    # The same shares and gap table as the analysis, from the distances with the new sites open.
    after = pd.DataFrame({group: result.distance_after}, index=access.residents.index)
    summary, counted, lookup = _table_inputs(area, "area", include_stale)
    shares = access_shares(access.residents, after, lookup, thresholds=[t], method=access.method)
    opened = with_opened_sites(counted, group, len(xs))
    after_table = gap_table(
        summary, shares, opened, deprivation=area.deprivation, options=GapOptions(threshold=t, groups=[group])
    )
    cols = ["code", "name", "population", "access_share", "need_percentile", "gap_index"]
    rows = before.table.loc[~before.table["whole_area"], cols].merge(
        after_table.loc[~after_table["whole_area"], ["code", "access_share", "gap_index"]],
        on="code",
        suffixes=("_before", "_after"),
    )
    by_area = pd.DataFrame(
        {
            "code": rows["code"],
            "name": rows["name"],
            "population": rows["population"],
            "share_before": rows["access_share_before"],
            "share_after": rows["access_share_after"],
            "need_percentile": rows["need_percentile"],
            "gap_before": rows["gap_index_before"],
            "gap_after": rows["gap_index_after"],
            "gap_change": rows["gap_index_after"] - rows["gap_index_before"],
        }
    ).sort_values(["gap_change", "code"], kind="stable", ignore_index=True)
    return dataclasses.replace(result, by_area=by_area)


def scenario_start(
    area: Area, group: str, threshold: float | None, include_stale: bool, network: bool
) -> tuple[str, float, GapAnalysis, WalkGraph | None]:
    """Return the checked group and threshold, the analysis a scenario starts from, and the network it walks."""
    group = check_groups([group], load_taxonomy())[0]
    before = analyse_gaps(area, threshold=threshold, groups=[group], include_stale=include_stale, network=network)
    return group, before.threshold, before, walk_graph(area) if network else None
