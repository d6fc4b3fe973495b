"""What if a new asset opened here? Change in reach, and a greedy or exact choice of sites.

Both work on the residents and distances of an access run
(:func:`assetmap.analysis.access.compute_access`), so they answer in the
same terms as the gap table: residents within walking reach of an asset of
one element or pillar, counted in total and in the nationally most deprived
fifth (IMD deciles 1 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.analysis.access import AccessResult, distance_to_nearest
from assetmap.analysis.groups import check_thresholds, group_masks
from assetmap.analysis.sites import (
    Cover,
    SiteOptions,
    Solution,
    check_k,
    compare_note,
    cover_from_access,
    exact_cover,
    greedy_cover,
)
from assetmap.analysis.walkgraph import WalkGraph, snap_points, walks_within

HEURISTIC_NOTE = (
    "Sites are chosen one at a time, each the candidate that brings the most not-yet-reached residents of "
    "IMD deciles 1 and 2 within reach (a greedy maximal-coverage heuristic). It is fast and within about 63% "
    "of the best possible set by construction, but not guaranteed optimal: treat the list as a shortlist to "
    "check on the ground, not an answer."
)


def in_deprived_lsoa(lsoa_codes: pd.Series, deprivation: pd.DataFrame) -> np.ndarray:
    """Return whether each LSOA code is of an LSOA in national IMD decile 1 or 2 (the most deprived fifth).

    Raises
    ------
    AssetMapError
        The deprivation table has no ``imd_decile``.
    """
    if "imd_decile" not in deprivation:
        raise AssetMapError("The deprivation file has no IMD deciles, so deprived residents cannot be counted.")
    decile = lsoa_codes.map(deprivation.set_index("lsoa_code")["imd_decile"])
    return decile.le(2).fillna(False).to_numpy(bool)


def _deprived_weight(residents: pd.DataFrame, deprivation: pd.DataFrame) -> np.ndarray:
    """Return the population of each resident point that lives in an LSOA of national IMD decile 1 or 2."""
    return np.where(in_deprived_lsoa(residents["lsoa_code"], deprivation), residents["population"].to_numpy(float), 0.0)


def _prepare(access: AccessResult, group: str, threshold: float, graph: WalkGraph | None, caller: str) -> np.ndarray:
    """Check a scenario's inputs against its access run; return the group's distances before any change."""
    if group not in access.distance.columns:
        raise ValidationError(
            Problem(
                f"no access figures for '{group}'.",
                field="group",
                fix=f"Choose one of {', '.join(access.distance.columns)}.",
            )
        )
    if check_thresholds([threshold])[0] > access.limit:
        raise ValidationError(
            Problem(
                f"threshold {threshold:g} m is beyond {access.limit:g} m, the distance the access run searched.",
                field="threshold",
                fix=f"Use a threshold up to {access.limit:g} m, or rerun access with a larger limit.",
            )
        )
    if access.method == "network" and graph is None:
        raise AssetMapError(f"This access run used the street network: pass the same graph to {caller}.")
    return access.distance[group].to_numpy(float)


@dataclass(frozen=True)
class WhatIf:
    """The effect of adding candidate sites for one element or pillar.

    Attributes
    ----------
    group : str
        Element (``e1``..``e11``) or pillar key.
    threshold : float
        Walking distance counted as within reach, in metres.
    newly_reached : float
        Residents brought within reach.
    newly_reached_deprived : float
        Of those, residents of LSOAs in IMD deciles 1 and 2.
    by_lsoa : DataFrame
        ``lsoa_code``, ``population``, ``reached_before``, ``reached_after`` (residents within reach).
    method : str
        ``network`` or ``straight-line``.
    distance_after : ndarray
        Each resident point's distance to the nearest asset of the group with the new sites open
        (aligned with the access run's residents), for recomputing shares and gaps.
    by_area : DataFrame or None
        Per area, the access share and gap index before and after (filled in by
        :func:`assetmap.area.coverage.area_what_if`, which knows the areas).
    """

    group: str
    threshold: float
    newly_reached: float
    newly_reached_deprived: float
    by_lsoa: pd.DataFrame
    method: str
    distance_after: np.ndarray
    by_area: pd.DataFrame | None = None


def what_if(
    access: AccessResult,
    deprivation: pd.DataFrame,
    xs: np.ndarray,
    ys: np.ndarray,
    group: str,
    *,
    threshold: float = 800.0,
    graph: WalkGraph | None = None,
) -> WhatIf:
    """Residents newly within reach if assets of ``group`` opened at the given points.

    Parameters
    ----------
    access : AccessResult
        From :func:`~assetmap.analysis.access.compute_access`.
    deprivation : DataFrame
        Per-LSOA deprivation with ``lsoa_code`` and ``imd_decile``.
    xs, ys : array-like
        Candidate sites in EPSG:27700.
    group : str
        Element or pillar key.
    threshold : float
        Metres counted as within reach (at most the access run's limit).
    graph : WalkGraph, optional
        The street network the access run used; required when its method was ``network``.

    Returns
    -------
    WhatIf
    """
    before = _prepare(access, group, threshold, graph, "what_if")
    threshold = float(threshold)
    xs, ys = np.atleast_1d(np.asarray(xs, float)), np.atleast_1d(np.asarray(ys, float))
    new = distance_to_nearest(
        graph if access.method == "network" else None, access.residents, xs, ys, limit=access.limit
    )
    after = np.minimum(before, new)
    pop = access.residents["population"].to_numpy(float)
    gained = (before > threshold) & (after <= threshold)
    deprived = _deprived_weight(access.residents, deprivation)
    frame = pd.DataFrame(
        {
            "lsoa_code": access.residents["lsoa_code"].to_numpy(),
            "population": pop,
            "reached_before": np.where(before <= threshold, pop, 0.0),
            "reached_after": np.where(after <= threshold, pop, 0.0),
        }
    )
    by_lsoa = frame.groupby("lsoa_code", sort=True).sum().reset_index()
    return WhatIf(
        group,
        threshold,
        float(pop[gained].sum()),
        float(deprived[gained].sum()),
        by_lsoa,
        access.method,
        distance_after=after,
    )


def with_opened_sites(assets: pd.DataFrame, group: str, n: int) -> pd.DataFrame:
    """Return the counted assets with ``n`` more, in no area, serving exactly ``group``: the candidate sites, open.

    A gap table reads a group that no asset serves as nobody within reach, whatever the
    distances say; counted with the sites open, a group that had no asset has some.

    Parameters
    ----------
    assets : DataFrame
        The assets a gap table counted (``elements`` or ``element_mask``, ``area_code``, optionally ``status``).
    group : str
        Element or pillar key.
    n : int
        Number of sites.
    """
    mask = int(group_masks([group])[0])
    # In no area: a code no area has (a missing one would be an all-NA column to concatenate).
    opened = pd.DataFrame({"area_code": [""] * n, "lsoa_code": [""] * n})
    if "element_mask" in assets:
        opened["element_mask"] = mask
    else:
        opened["elements"] = [tuple(i for i in range(mask.bit_length()) if mask >> i & 1)] * n
    if "status" in assets:
        opened["status"] = "approved"
    return pd.concat([pd.DataFrame(assets), opened[[c for c in opened if c in assets]]], ignore_index=True)


def reach_shares(result: WhatIf, deprivation: pd.DataFrame) -> dict[str, float]:
    """Return the shares of all residents, and of those in IMD deciles 1 and 2, within reach before and after.

    Parameters
    ----------
    result : WhatIf
        From :func:`what_if`.
    deprivation : DataFrame
        Per-LSOA deprivation with ``lsoa_code`` and ``imd_decile``.

    Returns
    -------
    dict
        ``population``, ``share_before``, ``share_after``, ``deprived_population``,
        ``deprived_share_before`` and ``deprived_share_after``: fractions from 0 to 1
        (0 where there is nobody to count).
    """
    by = result.by_lsoa
    deprived = in_deprived_lsoa(by["lsoa_code"], deprivation)

    def share(column: str, rows: np.ndarray) -> float:
        total = float(by.loc[rows, "population"].sum())
        return float(by.loc[rows, column].sum()) / total if total > 0 else 0.0

    everyone = np.ones(len(by), bool)
    return {
        "population": float(by["population"].sum()),
        "share_before": share("reached_before", everyone),
        "share_after": share("reached_after", everyone),
        "deprived_population": float(by.loc[deprived, "population"].sum()),
        "deprived_share_before": share("reached_before", deprived),
        "deprived_share_after": share("reached_after", deprived),
    }


def _coverage_network(
    graph: WalkGraph,
    cand_nodes: np.ndarray,
    cand_snap: np.ndarray,
    resident_nodes: np.ndarray,
    threshold: float,
    resident_snap: np.ndarray | None = None,
) -> list[np.ndarray]:
    """For each candidate, the resident rows within ``threshold`` along the network, in order.

    A candidate or a resident off the network reaches less far: the walk to its nearest street
    node (its snap distance) counts against the threshold, as it does in the access measure.
    """
    walk_on = np.zeros(len(resident_nodes)) if resident_snap is None else resident_snap
    cand, rows, _ = walks_within(graph, (cand_nodes, cand_snap), (resident_nodes, walk_on), threshold)
    bounds = np.searchsorted(cand, np.arange(1, len(cand_nodes)))
    return [np.sort(r) for r in np.split(rows, bounds)]


def suggest_sites(
    access: AccessResult,
    deprivation: pd.DataFrame,
    group: str,
    k: int,
    *,
    threshold: float = 800.0,
    candidates: pd.DataFrame | None = None,
    graph: WalkGraph | None = None,
) -> pd.DataFrame:
    """Choose up to ``k`` sites that bring the most deprived residents within reach, one at a time.

    Parameters
    ----------
    access : AccessResult
        From :func:`~assetmap.analysis.access.compute_access`.
    deprivation : DataFrame
        Per-LSOA deprivation with ``lsoa_code`` and ``imd_decile``.
    group : str
        Element or pillar key.
    k : int
        How many sites to choose (1 to 50).
    threshold : float
        Metres counted as within reach.
    candidates : DataFrame, optional
        ``x``, ``y`` (EPSG:27700) and optionally ``name``, such as community buildings. Default: every
        street node (network runs) or every resident point (straight-line runs).
    graph : WalkGraph, optional
        The street network the access run used.

    Returns
    -------
    DataFrame
        One row per chosen site in order: ``rank``, ``x``, ``y``, ``name``, ``newly_reached_deprived``,
        ``newly_reached``, cumulative figures, and ``method``. ``attrs['note']`` explains the heuristic.
    """
    before = _prepare(access, group, threshold, graph, "suggest_sites")
    threshold = float(threshold)
    if not 1 <= int(k) <= 50:
        raise ValidationError(Problem(f"k = {k} sites.", field="k", fix="Ask for between 1 and 50 sites."))
    res = access.residents
    candidates = _with_names(candidates, access, graph)
    cx, cy = candidates["x"].to_numpy(float), candidates["y"].to_numpy(float)
    deprived = _deprived_weight(res, deprivation)
    covered = _covered_by_candidates(access, graph, cx, cy, threshold)
    chosen = _greedy_sites(covered, deprived, res["population"].to_numpy(float), before > threshold, int(k))
    out = pd.DataFrame(
        [
            {"rank": rank, "x": cx[best], "y": cy[best], "name": candidates["name"].iloc[best], **gains}
            for rank, (best, gains) in enumerate(chosen, start=1)
        ],
        columns=["rank", "x", "y", "name", "newly_reached_deprived", "newly_reached"],
    )
    out["cumulative_deprived"] = out["newly_reached_deprived"].cumsum()
    out["cumulative_reached"] = out["newly_reached"].cumsum()
    out["method"] = access.method
    out.attrs["note"] = HEURISTIC_NOTE
    return out


def _with_names(candidates: pd.DataFrame | None, access: AccessResult, graph: WalkGraph | None) -> pd.DataFrame:
    """Return the candidate sites with a ``name``; by default every street node, or every resident point."""
    if candidates is None:
        if access.method == "network":
            assert graph is not None  # a network result always has its graph
            candidates = pd.DataFrame({"x": graph.x, "y": graph.y})
        else:
            candidates = access.residents[["x", "y"]].drop_duplicates().reset_index(drop=True)
        candidates["name"] = ""
    elif "name" not in candidates:
        candidates = candidates.assign(name="")
    return candidates


def _covered_by_candidates(
    access: AccessResult, graph: WalkGraph | None, cx: np.ndarray, cy: np.ndarray, threshold: float
) -> list[np.ndarray]:
    """For each candidate, the resident rows it would bring within ``threshold``."""
    res = access.residents
    if access.method == "network":
        assert graph is not None  # a network result always has its graph
        cand_nodes, cand_snap = snap_points(graph, cx, cy)
        snap = res["snap_m"].to_numpy(float) if "snap_m" in res else None
        return _coverage_network(graph, cand_nodes, cand_snap, res["node"].to_numpy(int), threshold, snap)
    tree = cKDTree(np.column_stack([res["x"].to_numpy(float), res["y"].to_numpy(float)]))
    return [np.asarray(ix, dtype=int) for ix in tree.query_ball_point(np.column_stack([cx, cy]), threshold)]


def _greedy_sites(
    covered: list[np.ndarray], deprived: np.ndarray, pop: np.ndarray, open_mask: np.ndarray, k: int
) -> list[tuple[int, dict[str, float]]]:
    """Choose up to ``k`` candidates one at a time, each bringing the most deprived residents not yet reached.

    ``open_mask`` marks the residents not yet within reach. Returns each choice's candidate position and
    the deprived and all residents it newly reaches; stops early when no candidate reaches anyone deprived.
    """
    # The one greedy rule (as the exact model's comparison uses), then each choice's newly reached residents.
    order = greedy_cover(Cover(covered, np.where(open_mask, deprived, 0.0)), k).chosen
    remaining = open_mask.copy()
    chosen = []
    for best in order:
        hit = covered[best][remaining[covered[best]]]
        chosen.append(
            (best, {"newly_reached_deprived": float(deprived[hit].sum()), "newly_reached": float(pop[hit].sum())})
        )
        remaining[hit] = False
    return chosen


def optimal_sites(
    access: AccessResult, deprivation: pd.DataFrame, group: str, k: int, *, options: SiteOptions | None = None
) -> pd.DataFrame:
    """Choose the ``k`` sites that together bring the most deprived residents within reach, exactly.

    Parameters
    ----------
    access : AccessResult
        From :func:`~assetmap.analysis.access.compute_access`.
    deprivation : DataFrame
        Per-LSOA deprivation with ``lsoa_code`` and ``imd_decile``.
    group : str
        Element or pillar key.
    k : int
        How many sites (1 to 50).
    options : SiteOptions, optional
        Threshold, candidates (``x``, ``y``, ``name``; default as
        :func:`suggest_sites`), the network, and CBC's time limit.

    Returns
    -------
    DataFrame
        The columns of :func:`suggest_sites`, the sites listed by what each adds
        to the others, and ``chosen_by`` (``optimal``, or ``greedy (time limit)``). ``attrs['note']``
        compares the two; ``attrs['comparison']`` holds ``optimal_deprived``, ``greedy_deprived``,
        ``greedy_share``, ``status``, ``seconds`` and ``greedy_sites`` (candidate rows chosen by greedy).
    """
    options = options or SiteOptions()
    k = check_k(k)
    before = _prepare(access, group, options.threshold, options.graph, "optimal_sites")
    candidates = _with_names(options.candidates, access, options.graph).reset_index(drop=True)
    cx, cy = candidates["x"].to_numpy(float), candidates["y"].to_numpy(float)
    deprived = _deprived_weight(access.residents, deprivation)
    covered = _covered_by_candidates(access, options.graph, cx, cy, float(options.threshold))
    cover = cover_from_access(access, deprived, before, covered, float(options.threshold))
    greedy = greedy_cover(cover, k)
    best = exact_cover(cover, k, time_limit_s=options.time_limit_s)
    if best.status == "optimal" and best.covered_weight < greedy.covered_weight:  # pragma: no cover - CBC's tolerance
        best = Solution(greedy.chosen, greedy.covered_weight, "optimal", best.seconds)
    pop = access.residents["population"].to_numpy(float)
    # List the chosen set by what each site adds to those before it, as the greedy list reads.
    order = greedy_cover(Cover([covered[j] for j in best.chosen], cover.weight), len(best.chosen))
    ordered = [best.chosen[i] for i in order.chosen]
    listed = ordered + [j for j in best.chosen if j not in ordered]
    remaining = cover.weight > 0
    reached = before > float(options.threshold)
    rows = []
    for rank, j in enumerate(listed, start=1):
        hit = covered[j]
        rows.append(
            {
                "rank": rank,
                "x": cx[j],
                "y": cy[j],
                "name": candidates["name"].iloc[j],
                "newly_reached_deprived": float(cover.weight[hit][remaining[hit]].sum()),
                "newly_reached": float(pop[hit][reached[hit]].sum()),
            }
        )
        remaining[hit] = False
        reached[hit] = False
    out = pd.DataFrame(rows, columns=["rank", "x", "y", "name", "newly_reached_deprived", "newly_reached"])
    out["cumulative_deprived"] = out["newly_reached_deprived"].cumsum()
    out["cumulative_reached"] = out["newly_reached"].cumsum()
    out["method"] = access.method
    out["chosen_by"] = best.status
    share = greedy.covered_weight / best.covered_weight if best.covered_weight > 0 else 1.0
    out.attrs["note"] = compare_note(best, greedy, k)
    out.attrs["comparison"] = {
        "optimal_deprived": best.covered_weight,
        "greedy_deprived": greedy.covered_weight,
        "greedy_share": share,
        "status": best.status,
        "seconds": best.seconds,
        "greedy_sites": list(greedy.chosen),
    }
    return out
