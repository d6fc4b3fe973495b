"""Capacity against demand: the enhanced two-step floating catchment area (E2SFCA) score.

Presence-based access asks whether any asset of a group lies within reach. The
E2SFCA score (Luo and Qi, 2009) also weighs how much each asset offers against how
many residents share it:

1. For each asset ``j``, its capacity ``S_j`` (sessions a week, or places) is divided
   by the residents within reach of it, each weighted by the distance decay ``W``::

       R_j = S_j / sum_{i: d_ij <= d0} P_i W(d_ij)

2. For each resident point ``i``, the ratios of the assets within reach are added,
   weighted the same way::

       A_i = sum_{j: d_ij <= d0} R_j W(d_ij)

``d_ij`` is the walking distance along the street network the presence measure uses
(straight-line where the area has none) and ``d0`` the walking threshold. ``W`` is the
step decay of the original paper, its three travel-time zones scaled to thirds of
the threshold: 1.00 in the nearest third, 0.68 in the middle third, 0.22 in the
furthest. The score of an LSOA or a ward is the population-weighted mean of its
resident points' scores, reported per 1,000 residents (sessions a week, or places,
per 1,000). A record without a capacity in the unit measured counts as
:attr:`CapacityOptions.default_capacity` (1 session a week). This is the measure of
PySAL's ``access`` package (``Access.enhanced_two_stage_fca``), computed on the
area's own distances; the tests check the two agree on the same inputs.

Every function is pure: inputs are not changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assetmap._errors import Problem, ValidationError
from assetmap.analysis.access import asset_arrays, pairs_within
from assetmap.analysis.audience import serves_audience
from assetmap.analysis.deprivation import check_lookup
from assetmap.analysis.groups import check_groups, check_thresholds, group_masks
from assetmap.analysis.walkgraph import WalkGraph, snap_points, walks_within
from assetmap.record import CAPACITY_UNITS
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: The step decay of Luo and Qi (2009): weight in the nearest, middle and furthest third of the threshold.
DECAY_WEIGHTS: tuple[float, float, float] = (1.0, 0.68, 0.22)


@dataclass(frozen=True)
class CapacityOptions:
    """How the E2SFCA score is measured.

    Attributes
    ----------
    threshold : float
        Catchment size ``d0``, metres.
    unit : str
        The capacity counted: ``sessions_week`` or ``places``.
    default_capacity : float
        Capacity of a record that gives none in ``unit``.
    weights : tuple of 3 floats
        Decay in the nearest, middle and furthest third of the threshold.
    """

    threshold: float = 800.0
    unit: str = "sessions_week"
    default_capacity: float = 1.0
    weights: tuple[float, float, float] = DECAY_WEIGHTS


def decay(metres: np.ndarray, threshold: float, weights: tuple[float, float, float] = DECAY_WEIGHTS) -> np.ndarray:
    """Return the step decay weight of each distance (0 beyond ``threshold``)."""
    d = np.asarray(metres, dtype=float)
    zone = np.searchsorted(np.array([threshold / 3, 2 * threshold / 3, threshold]), d, side="left")
    return np.concatenate([np.asarray(weights, float), [0.0]])[zone]


def e2sfca(
    who: np.ndarray,
    which: np.ndarray,
    metres: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
    options: CapacityOptions,
    pair_demand: np.ndarray | None = None,
) -> np.ndarray:
    """Return the E2SFCA score of each demand point from its (demand, supply, metres) pairs within reach.

    Parameters
    ----------
    who, which, metres : array
        One entry per pair within the threshold: demand point, supply point, distance.
    demand : array
        Residents at each demand point.
    supply : array
        Capacity of each supply point.
    options : CapacityOptions
        The threshold and decay.
    pair_demand : array, optional
        The residents of each pair's point who share the pair's asset, where that is not ``demand``: an
        asset for everyone is shared by all residents, though the score is read for one group.
    """
    w = decay(metres, options.threshold, options.weights)
    shared = demand[who] if pair_demand is None else pair_demand
    weighted_demand = np.bincount(which, weights=shared * w, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, supply / weighted_demand, 0.0)
    return np.bincount(who, weights=ratio[which] * w, minlength=len(demand))


def _network_pairs(
    graph: WalkGraph, residents: pd.DataFrame, xy: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every (resident, asset, walking metres) pair within ``limit`` along the network."""
    nodes, snap = snap_points(graph, xy[:, 0], xy[:, 1])
    res = (residents["node"].to_numpy(np.int64), residents["snap_m"].to_numpy("float64"))
    which, who, metres = walks_within(graph, (nodes, snap), res, limit)
    return who, which, metres


def asset_pairs(
    residents: pd.DataFrame, xy: np.ndarray, graph: WalkGraph | None, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every (resident, asset, metres) pair within ``limit``: walking where there is a network."""
    if len(xy) == 0 or len(residents) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if graph is not None:
        return _network_pairs(graph, residents, xy, limit)
    res_xy = residents[["x", "y"]].to_numpy("float64")
    pairs = pairs_within(res_xy, xy, limit)
    if pairs is None:  # too many pairs to hold at once: one asset at a time
        from scipy.spatial import cKDTree

        hits = cKDTree(res_xy).query_ball_point(xy, limit)
        which = np.repeat(np.arange(len(xy)), [len(h) for h in hits])
        who = np.concatenate([np.asarray(h, np.int64) for h in hits])
        return who, which, np.hypot(*(res_xy[who] - xy[which]).T)
    who, which, metres = pairs
    return who, which, metres


def supply_of(assets: pd.DataFrame, options: CapacityOptions) -> tuple[np.ndarray, np.ndarray]:
    """Return each asset's capacity in ``options.unit`` (the default where it gives none), and which gave one."""
    if options.unit not in CAPACITY_UNITS:
        raise ValidationError(
            Problem(f"unknown capacity unit '{options.unit}'.", field="unit", fix=f"Use {' or '.join(CAPACITY_UNITS)}.")
        )
    if not options.default_capacity > 0:
        raise ValidationError(
            Problem("the default capacity is not above 0.", field="default_capacity", fix="Give a number above 0.")
        )
    n = len(assets)
    given = pd.to_numeric(assets["capacity"], errors="coerce") if "capacity" in assets else pd.Series(np.nan, range(n))
    unit = assets["capacity_unit"] if "capacity_unit" in assets else pd.Series("sessions_week", range(n))
    in_unit = (unit.fillna("sessions_week") == options.unit).to_numpy(bool)
    usable = given.notna().to_numpy(bool) & (given.to_numpy(float) > 0) & in_unit
    return np.where(usable, given.to_numpy(float), float(options.default_capacity)), usable


@dataclass
class CapacityResult:
    """E2SFCA scores per resident point, per LSOA and per area, per group.

    Attributes
    ----------
    shared : bool
        Whether the residents are one group whose assets are shared with the others they serve.
    points : DataFrame
        Index-aligned with the residents; one column per group: the score of each point (capacity per resident).
    by_lsoa, by_area : DataFrame
        ``code``, ``group``, ``population`` and ``capacity_per_1000`` (the population-weighted mean score,
        per 1,000 residents; NaN where there are no residents). ``by_area`` is None without a lookup.
    n_default : int
        Approved assets counted at the default capacity (none given in the unit measured).
    options : CapacityOptions
        How the score was measured.
    method : str
        ``network`` or ``straight-line``.
    """

    points: pd.DataFrame
    by_lsoa: pd.DataFrame
    by_area: pd.DataFrame | None
    n_default: int
    options: CapacityOptions
    method: str
    shared: bool = False


def _placed(assets: pd.DataFrame) -> pd.DataFrame:
    """Return the approved assets that have a place (those a presence run counts)."""
    keep = assets["status"].astype("string").eq("approved").fillna(False) if "status" in assets else True
    geoms = assets["geometry"]
    has = geoms.notna() & ~geoms.is_empty if hasattr(geoms, "is_empty") else geoms.notna()
    return assets[np.asarray(keep & has, dtype=bool)]


def _mean_by(codes: np.ndarray, weights: np.ndarray, values: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    pop = np.bincount(codes, weights=weights, minlength=n_codes)
    total = np.bincount(codes, weights=weights * values, minlength=n_codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pop, np.where(pop > 0, total / pop, np.nan)


def _summaries(
    residents: pd.DataFrame, points: pd.DataFrame, lookup: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return the population-weighted mean score per LSOA and per area (through the lookup's weights)."""
    pop = residents["population"].to_numpy(float)
    lsoas, inv = np.unique(residents["lsoa_code"].astype(str).to_numpy(), return_inverse=True)
    rows_lsoa, rows_area = [], []
    table = check_lookup(lookup) if lookup is not None else None
    for group in points.columns:
        lsoa_pop, lsoa_mean = _mean_by(inv, pop, points[group].to_numpy(float), len(lsoas))
        rows_lsoa.append(pd.DataFrame({"code": lsoas, "group": group, "population": lsoa_pop, "score": lsoa_mean}))
        if table is not None:
            pos = pd.Index(lsoas).get_indexer(table["lsoa_code"].to_numpy())
            ok = pos >= 0
            codes, a_inv = np.unique(table["area_code"].to_numpy()[ok], return_inverse=True)
            w = table["weight"].to_numpy(float)[ok] * lsoa_pop[pos[ok]]
            area_pop, area_mean = _mean_by(a_inv, w, np.nan_to_num(lsoa_mean[pos[ok]]), len(codes))
            rows_area.append(pd.DataFrame({"code": codes, "group": group, "population": area_pop, "score": area_mean}))

    def finish(parts: list[pd.DataFrame]) -> pd.DataFrame:
        out = pd.concat(parts, ignore_index=True)
        out["capacity_per_1000"] = out.pop("score") * 1000.0
        return out

    return finish(rows_lsoa), (finish(rows_area) if table is not None else None)


def capacity_access(
    residents: pd.DataFrame,
    assets: pd.DataFrame,
    *,
    groups: list[str],
    graph: WalkGraph | None = None,
    lookup: pd.DataFrame | None = None,
    options: CapacityOptions = CapacityOptions(),
    taxonomy: Taxonomy | None = None,
    sharing: pd.DataFrame | None = None,
) -> CapacityResult:
    """Return the E2SFCA score of each group per resident point, LSOA and area.

    Parameters
    ----------
    residents : DataFrame
        From :func:`~assetmap.analysis.residents.resident_points` (with ``node`` and ``snap_m`` for a network).
    assets : GeoDataFrame
        Point geometry in EPSG:27700 with ``elements`` (or ``element_mask``) and, optionally, ``capacity``
        and ``capacity_unit``; only ``approved`` rows count where there is a ``status`` column.
    groups : list of str
        Group keys (``e1``..``e11``, pillar keys).
    graph : WalkGraph, optional
        Walk along this network; without one, straight-line distance.
    lookup : DataFrame, optional
        LSOA to area lookup (``lsoa_code``, ``area_code``, ``weight``) for the scores per area.
    options : CapacityOptions
        Threshold, capacity unit, default capacity and decay.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.
    sharing : DataFrame, optional
        For a score read for one group of residents (``residents`` carrying that group alone): every
        point's residents by group (``children``, ``working_age``, ``older``), index-aligned with
        ``residents``. An asset's capacity is then shared among all the residents it serves, by its
        audiences (:func:`~assetmap.analysis.audience.serves_audience`), not among the group alone.

    Returns
    -------
    CapacityResult
    """
    tax = taxonomy or load_taxonomy()
    keys = check_groups(groups, tax)
    threshold = check_thresholds([options.threshold])[0]
    placed = _placed(assets)
    supply, given = supply_of(placed, options)
    xy, masks = asset_arrays(placed, tax)
    who, which, metres = asset_pairs(residents, xy, graph, threshold)
    demand = residents["population"].to_numpy(float)
    shared = None
    if sharing is not None:
        shared = np.zeros(len(who))
        for group in sharing.columns:
            shared += sharing[group].to_numpy(float)[who] * serves_audience(placed, group, tax)[which]
    points = {}
    for key, bits in zip(keys, group_masks(keys, tax), strict=True):
        serving = (masks & bits) != 0
        keep = serving[which]
        pairs = (who[keep], which[keep], metres[keep], demand, np.where(serving, supply, 0.0), options)
        points[key] = e2sfca(*pairs, pair_demand=None if shared is None else shared[keep])
    frame = pd.DataFrame(points, index=residents.index)
    by_lsoa, by_area = _summaries(residents, frame, lookup)
    n_default = int((~given).sum())
    method = "network" if graph is not None else "straight-line"
    return CapacityResult(frame, by_lsoa, by_area, n_default, options, method, shared=sharing is not None)


def capacity_note(result: CapacityResult) -> tuple[str, ...]:
    """Return the method note's bullet on the capacity score."""
    opts = result.options
    unit = "sessions a week" if opts.unit == "sessions_week" else "places"
    w1, w2, w3 = opts.weights
    return (
        f"- **Capacity score (E2SFCA):** shown beside the share within reach, never instead of it. Enhanced "
        f"two-step floating catchment area: each asset's capacity ({unit}) is divided by the residents within "
        f"{opts.threshold:,.0f} m of it, weighted by distance (R_j = S_j / Σ P_i W(d_ij)); each resident point "
        f"adds up the ratios of the assets within {opts.threshold:,.0f} m, weighted the same way "
        f"(A_i = Σ R_j W(d_ij)). The decay W is {w1:g} in the nearest third of the distance, {w2:g} in the middle "
        f"third and {w3:g} in the furthest (Luo and Qi's steps). Each area and LSOA shows the population-weighted mean, "
        f"in {unit} per 1,000 residents. {result.n_default:,} records give no capacity in {unit} and count as "
        f"{opts.default_capacity:g}."
        + (
            " For one audience, each asset's capacity is shared among all the residents it is for (an asset "
            "for everyone among everyone), and the score is that audience's share per 1,000 of its residents."
            if result.shared
            else ""
        ),
    )
