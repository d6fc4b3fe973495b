"""Gaps: where need is high and community assets are out of reach.

The gap table puts, for each area (ward, neighbourhood or LSOA) and each
element or pillar of the framework, the figures an officer needs to explain a
ranking side by side:

asset count and assets per 1,000 residents
    Approved assets in the area that serve the element (or any element of the
    pillar; an asset counts once per pillar however many of its elements it
    serves), per 1,000 residents of the area.
access share
    Share of the area's residents within the threshold distance (800 m by
    default, about 10 minutes' walk) of the nearest approved asset of the
    group, walking along the street network or, without one, in a straight
    line. An LSOA split between areas counts in each in proportion to its
    lookup ``weight``, as in :func:`assetmap.analysis.deprivation.summarise_deprivation`,
    so the populations here equal those of the deprivation summary
    (:func:`assetmap.analysis.shares.access_shares`).
need
    The population-weighted average IMD score of the area (higher is more
    deprived), placed among England's LSOAs as a national percentile by
    :func:`need_percentile`: 100 for the most deprived, 50 for the median LSOA,
    0 for the least deprived. Where the deprivation file has ranks but no
    scores (IoD Files 1 and 2), the population-weighted average rank is used.
gap index
    ``need_percentile / 100 * (1 - access_share)``, from 0 to 1. It is 0 where
    everyone is within reach (or need is nil) and approaches 1 in the most
    deprived areas where nobody is. A gap index of 0.5 means, for instance, a
    need percentile of 100 with half the residents in reach, or of 50 with
    nobody in reach: read it beside its two inputs.
classes
    Need and access are each cut into thirds for a 3 x 3 bivariate map. Need:
    1 below the 33.3rd national percentile, 2 below the 66.7th, 3 from there up
    (low, medium, high need). Access: 1 where under a third of residents are in
    reach, 2 under two thirds, 3 from two thirds up (low, medium, high access).
    ``bivariate_class`` joins them as ``"<need>-<access>"``: ``"3-1"`` is high
    need with low access, the cell commissioners usually look at first.

Groups are keyed ``e1`` to ``e11`` for the elements and by pillar key
(``scaling``, ``involving``, ``strengthening``, ``sustaining``): see
:mod:`assetmap.analysis.groups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from assetmap import settings
from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.analysis.deprivation import resolve_n_national
from assetmap.analysis.groups import (
    asset_kinds,
    check_groups,
    group_label,
    group_masks,
    in_framework_order,
    part_unserved,
)
from assetmap.analysis.shares import share_columns
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Words for the need and access classes 1 to 3.
NEED_WORDS: dict[int, str] = {1: "low need", 2: "medium need", 3: "high need"}
ACCESS_WORDS: dict[int, str] = {1: "low access", 2: "medium access", 3: "high access"}

#: Code and name of the whole-authority row of the gap table (unless an authority code is given).
WHOLE_AREA_CODE = "ALL"
WHOLE_AREA_NAME = "Whole area"

#: Columns of :func:`gap_table`, in order; ``share_within_<t>m`` columns go where the placeholder is.
GAP_COLUMNS = (
    "code",
    "name",
    "group",
    "group_label",
    "population",
    "n_assets",
    "n_assets_outside",
    "assets_per_1000",
    "<shares>",
    "threshold_m",
    "access_share",
    "need_score",
    "need_percentile",
    "gap_index",
    "need_class",
    "access_class",
    "bivariate_class",
    "bivariate_label",
    "gap_rank",
    "no_assets",
    "whole_area",
    "access_method",
)

# Values within this of a class boundary count as on it, so that 1/3 computed as 1000/3000 is not "below" 1/3.
_CLASS_EPS = 1e-9


# -- need -----------------------------------------------------------------------------------


def need_percentile(
    scores: Sequence[float] | np.ndarray | pd.Series | None,
    deprivation: pd.DataFrame,
    *,
    ranks: Sequence[float] | np.ndarray | pd.Series | None = None,
    n_national: int | None = None,
) -> np.ndarray:
    """Place population-weighted IMD scores among England's LSOAs: 100 most deprived, 0 least.

    A score is given a national rank position by interpolating linearly
    between the (score, rank) pairs of the LSOAs in ``deprivation`` (ranks
    where 1 is most deprived): a score equal to an LSOA's gets that LSOA's
    rank, one between two LSOAs' scores a rank between theirs, and one beyond
    every LSOA's the nearest known rank. The position ``r`` becomes

    ``percentile = 100 * (1 - (r - 0.5) / n_national)``

    which is 50 exactly for the national median LSOA (``r = (n + 1) / 2``),
    about 100 for the most deprived (``r = 1``) and about 0 for the least
    (``r = n``). Higher means more deprived: the opposite direction to
    :func:`assetmap.analysis.deprivation.national_percentile` of LSOA ranks,
    so that a bigger need percentile means a bigger gap.

    Parameters
    ----------
    scores : array-like of float, or None
        Population-weighted average IMD scores (``summary['avg_score']``).
    deprivation : DataFrame
        LSOA rows with ``imd_score`` and ``imd_rank``; the more LSOAs (the
        national file best), the finer the interpolation.
        ``attrs['n_national']`` gives the number of LSOAs ranked.
    ranks : array-like of float, optional
        Population-weighted average ranks where 1 is most deprived
        (``summary['avg_rank_where_1_most_deprived']``), used where a score is
        missing or the file has no scores (IoD Files 1 and 2 give ranks only).
        An average rank sits between the ranks of the LSOAs it averages, so it
        is a coarser measure of need than the average score.
    n_national : int, optional
        Number of LSOAs ranked: 32,844 (IoD2019) or 33,755 (IoD2025); by
        default from ``deprivation.attrs``, else told from the LSOA codes.

    Returns
    -------
    ndarray of float
        From 0 to 100; NaN where neither a score nor a rank is available.

    Raises
    ------
    AssetMapError
        When scores cannot be placed (no ``imd_score`` and ``imd_rank`` in
        the file) and no ranks are given.
    """
    n = resolve_n_national(deprivation, n_national)
    length = len(scores) if scores is not None else len(ranks) if ranks is not None else 0
    out = np.full(length, np.nan)
    score_arr = np.asarray(scores if scores is not None else np.full(length, np.nan), dtype="float64")
    rank_arr = np.asarray(ranks if ranks is not None else np.full(length, np.nan), dtype="float64")
    wanted = np.isfinite(score_arr) & ~np.isfinite(rank_arr)
    nan = pd.Series(np.nan, index=deprivation.index)
    pairs = pd.DataFrame(
        {
            "score": pd.to_numeric(deprivation.get("imd_score", nan), errors="coerce"),
            "rank": pd.to_numeric(deprivation.get("imd_rank", nan), errors="coerce"),
        }
    ).dropna()
    if len(pairs):
        # One rank per distinct score; ranks must not rise as scores rise (1 = most deprived).
        by_score = pairs.groupby("score", sort=True)["rank"].mean()
        xs = by_score.index.to_numpy(dtype="float64")
        ys = np.minimum.accumulate(by_score.to_numpy(dtype="float64"))
        out = 100.0 * (1.0 - (np.interp(score_arr, xs, ys) - 0.5) / n)
    elif wanted.any():
        raise AssetMapError(
            "IMD scores cannot be placed nationally: the deprivation table has no imd_score and imd_rank columns "
            "with values. Read IoD File 7 (or File 5), which has both, or pass ranks= (average ranks) instead."
        )
    fill = ~np.isfinite(out)
    out[fill] = 100.0 * (1.0 - (rank_arr[fill] - 0.5) / n)
    return np.clip(out, 0.0, 100.0)


# -- asset counts -----------------------------------------------------------------------------


def _count_assets(
    assets: pd.DataFrame, code_col: str, codes: pd.Index, groups: list[str], tax: Taxonomy
) -> tuple[np.ndarray, np.ndarray]:
    """Return approved asset counts per (area, group), and per group in total (in an area or not)."""
    for col in (code_col, "element_mask" if "element_mask" in assets else "elements"):
        if col not in assets:
            raise ValidationError(
                Problem(
                    f"the assets table has no {col} column.",
                    field=col,
                    fix=f"Give the approved assets with {code_col} and elements "
                    f"({'assign_to_areas gives area_code' if code_col == 'area_code' else 'the LSOA each lies in'}).",
                )
            )
    approved = assets["status"].eq("approved").to_numpy(bool) if "status" in assets else np.ones(len(assets), bool)
    kinds, masks = asset_kinds(assets, tax)
    serves = ((masks[:, None] & group_masks(groups, tax)[None, :]) != 0).astype(np.int64)
    column = assets[code_col]
    if isinstance(column.dtype, pd.CategoricalDtype):
        area_kinds, area_codes = column.cat.codes.to_numpy(), column.cat.categories
    else:
        # Plain objects hash about twice as fast as pandas' string dtype.
        values = column.to_numpy(dtype=object, na_value=None) if pd.api.types.is_string_dtype(column) else column
        area_kinds, area_codes = pd.factorize(values, use_na_sentinel=True)
    pos = np.append(codes.get_indexer(pd.Index(area_codes).astype(str)), -1)[area_kinds]
    inside = approved & (pos >= 0)
    # Count assets per (area, combination of elements), then expand the combinations into groups.
    n_cells = len(codes) * len(masks)
    if n_cells <= 20_000_000:
        per_kind = np.bincount(pos[inside] * len(masks) + kinds[inside], minlength=n_cells).reshape(len(codes), -1)
    else:
        per_kind = sparse.csr_matrix(
            (np.ones(int(inside.sum())), (pos[inside], kinds[inside])), shape=(len(codes), len(masks))
        )
    counts = np.asarray(per_kind @ serves).astype(np.int64)
    totals = np.bincount(kinds[approved], minlength=len(masks)) @ serves
    return counts, totals


# -- gap table ----------------------------------------------------------------------------------


def _summary_frame(summary: pd.DataFrame, by: str) -> pd.DataFrame:
    if by == "lsoa" and "code" not in summary and "lsoa_code" in summary:
        # A deprivation table with one row per LSOA is its own summary.
        summary = pd.DataFrame(
            {
                "code": summary["lsoa_code"].to_numpy(),
                "name": summary["lsoa_name"].to_numpy() if "lsoa_name" in summary else None,
                "population": summary["population"].to_numpy() if "population" in summary else np.nan,
                "avg_score": summary["imd_score"].to_numpy() if "imd_score" in summary else np.nan,
                "avg_rank_where_1_most_deprived": (summary["imd_rank"].to_numpy() if "imd_rank" in summary else np.nan),
            }
        )
    missing = [c for c in ("code", "population") if c not in summary]
    if missing or not ({"avg_score", "avg_rank_where_1_most_deprived"} & set(summary.columns)):
        raise ValidationError(
            Problem(
                f"the summary has no {' or '.join(missing) or 'avg_score'} column.",
                fix="Pass the table summarise_deprivation returns (for by='lsoa', the deprivation table itself).",
            )
        )
    if summary["code"].duplicated().any():
        raise ValidationError(
            Problem(
                "the summary has more than one row for some areas.",
                field="code",
                fix="Pass one row per area, as summarise_deprivation returns.",
            )
        )
    pop = pd.to_numeric(summary["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any() or pop.sum() <= 0:
        raise ValidationError(
            Problem(
                "the summary's populations are missing, negative or all zero.",
                field="population",
                fix="Summarise a deprivation table that has a population per LSOA (File 6 or File 7).",
            )
        )
    nan = pd.Series(np.nan, index=summary.index)
    return pd.DataFrame(
        {
            "code": summary["code"].astype(str).to_numpy(),
            "name": summary["name"].to_numpy() if "name" in summary else None,
            "population": pop.to_numpy(dtype="float64"),
            "need_score": pd.to_numeric(summary.get("avg_score", nan), errors="coerce").to_numpy(dtype="float64"),
            "_rank": pd.to_numeric(summary.get("avg_rank_where_1_most_deprived", nan), errors="coerce").to_numpy(
                dtype="float64"
            ),
        }
    ).sort_values("code", kind="stable", ignore_index=True)


def _pick_threshold(threshold: float | None, available: dict[float, str]) -> float:
    t = float(settings.walk_threshold_m if threshold is None else threshold)
    if t not in available:
        have = ", ".join(f"{v:g} m" for v in available)
        raise ValidationError(
            Problem(
                f"there are no access shares for {t:g} m (the shares cover {have}).",
                field="threshold",
                fix=f"Choose one of {have}, or rerun access_shares with thresholds that include {t:g}.",
            )
        )
    return t


def _classes(values: np.ndarray, cuts: tuple[float, float]) -> pd.Series:
    """Return 1, 2 or 3 by the two cuts (a value on a cut goes up); <NA> where the value is missing."""
    out = 1 + (values >= cuts[0] - _CLASS_EPS).astype(int) + (values >= cuts[1] - _CLASS_EPS).astype(int)
    return pd.Series(out, dtype="Int64").mask(~np.isfinite(values))


@dataclass(frozen=True)
class GapOptions:
    """What a gap table reports, and how it names its whole-authority rows.

    Attributes
    ----------
    threshold : float, optional
        Distance in metres for ``access_share`` and the gap index; one of the thresholds of the shares
        (default :data:`assetmap.settings.walk_threshold_m`, 800 m).
    groups : sequence of str, optional
        Group keys to report (default: those of the shares, in framework order). A group without a
        distance column may be asked for only if no asset serves it.
    authority_code, authority_name : str, optional
        Code and name of the whole-authority rows (default ``"ALL"``, ``"Whole area"``).
    n_national : int, optional
        Number of LSOAs ranked nationally (default from ``deprivation.attrs``).
    """

    threshold: float | None = None
    groups: Sequence[str] | None = None
    authority_code: str | None = None
    authority_name: str = WHOLE_AREA_NAME
    n_national: int | None = None


def _report_groups(shares: pd.DataFrame, groups: Sequence[str] | None, tax: Taxonomy) -> tuple[list[str], list[str]]:
    """Return the groups to report, in framework order, and the groups the shares cover."""
    in_shares = check_groups(shares["group"].astype(str).unique(), tax)
    chosen = in_framework_order(check_groups(groups, tax) if groups is not None else in_shares, tax)
    if not chosen:
        raise ValidationError(
            Problem("no groups to report.", field="groups", fix="Give group keys such as e1 or scaling.")
        )
    return chosen, in_shares


def _served_counts(
    assets: pd.DataFrame, by: str, codes: pd.Index, groups: list[str], in_shares: list[str], tax: Taxonomy
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return asset counts per (area, group), which groups no asset serves, and per group those in no area.

    Every group some asset serves needs shares: one in no area (beyond the boundary) still reaches residents.
    """
    counts, totals = _count_assets(assets, "area_code" if by == "area" else "lsoa_code", codes, groups, tax)
    no_assets = totals == 0
    if any("&" in k for k in groups):  # a combination by "all" (see combine_groups) of a part no asset serves
        approved = assets["status"].eq("approved").to_numpy(bool) if "status" in assets else np.ones(len(assets), bool)
        kinds, masks = asset_kinds(assets[approved], tax)
        no_assets |= part_unserved(masks[np.unique(kinds)], groups, tax)
    absent = [k for k, none in zip(groups, no_assets, strict=True) if k not in in_shares and not none]
    if absent:
        raise ValidationError(
            Problem(
                f"there are assets but no access shares for {', '.join(absent)}.",
                field="groups",
                fix="Compute distances for those groups and rerun access_shares, or leave them out of groups=.",
            )
        )
    return counts, no_assets, totals - counts.sum(axis=0)


def _placed_shares(
    shares: pd.DataFrame, base: pd.DataFrame, groups: list[str], share_cols: list[str], no_assets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the shares, shape (threshold, group, area), and residents, shape (group, area), NaN where missing."""
    codes, pop = pd.Index(base["code"]), base["population"].to_numpy(dtype="float64")
    g, n = len(groups), len(codes)
    # The shares table's rows put in place by position.
    share_kinds, share_codes = pd.factorize(shares["code"].astype(str))
    ai = np.append(codes.get_indexer(share_codes), -1)[share_kinds]
    gi = pd.Index(groups).get_indexer(shares["group"].astype(str))
    ok = (ai >= 0) & (gi >= 0)
    values = np.full((len(share_cols), g, n), np.nan)
    values[:, gi[ok], ai[ok]] = shares[share_cols].to_numpy(dtype="float64")[ok].T
    res_pop = np.full((g, n), np.nan)
    res_pop[gi[ok], ai[ok]] = shares["population"].to_numpy(dtype="float64")[ok]
    # No asset serves the group: nobody is within reach, by definition, whatever the shares say.
    values[:, no_assets, :] = 0.0
    res_pop[no_assets] = np.where(np.isnan(res_pop[no_assets]), pop, res_pop[no_assets])
    return values, res_pop


def _with_whole_area(
    values: np.ndarray, res_pop: np.ndarray, base: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Append the whole authority to the shares, populations, scores and ranks of the areas.

    Populations and counts add up; shares and need are population-weighted.
    """
    pop = base["population"].to_numpy(dtype="float64")
    res_pop = np.nan_to_num(res_pop)
    with np.errstate(divide="ignore", invalid="ignore"):
        reached = np.where(np.isnan(values), 0.0, values * res_pop)
        counted = np.where(np.isnan(values), 0.0, res_pop)
        whole_values = reached.sum(axis=2) / np.where(counted.sum(axis=2) > 0, counted.sum(axis=2), np.nan)
        score, rank = base["need_score"].to_numpy(), base["_rank"].to_numpy()
        whole_score = np.nansum(score * pop) / pop[np.isfinite(score)].sum()
        whole_rank = np.nansum(rank * pop) / pop[np.isfinite(rank)].sum()
    values = np.concatenate([values, whole_values[:, :, None]], axis=2)  # (threshold, group, area + 1)
    return values, np.append(pop, pop.sum()), np.append(score, whole_score), np.append(rank, whole_rank)


def _area_rows(
    base: pd.DataFrame,
    groups: list[str],
    area_pop: np.ndarray,
    counts: np.ndarray,
    outside: np.ndarray,
    opts: GapOptions,
    tax: Taxonomy,
) -> pd.DataFrame:
    """Return the rows' areas, groups, populations and asset counts: each group's areas, then its whole area.

    Assets in no area (``outside``, per group) are on the whole-area row only, beside its ``n_assets``.
    """
    g, m = len(groups), len(area_pop)
    n_assets = np.concatenate([counts.T, counts.sum(axis=0)[:, None]], axis=1).ravel()
    n_outside = np.concatenate([np.zeros_like(counts.T), np.asarray(outside)[:, None]], axis=1).ravel()
    labels = [group_label(k, tax) for k in groups]
    out = pd.DataFrame(
        {
            "code": np.tile(np.append(base["code"].to_numpy(dtype=object), opts.authority_code or WHOLE_AREA_CODE), g),
            "name": np.tile(np.append(base["name"].to_numpy(dtype=object), opts.authority_name), g),
            "group": np.repeat(np.asarray(groups, dtype=object), m),
            "group_label": np.repeat(np.asarray(labels, dtype=object), m),
            "population": np.tile(area_pop, g),
            "n_assets": n_assets.astype(np.int64),
            "n_assets_outside": n_outside.astype(np.int64),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["assets_per_1000"] = np.where(out["population"] > 0, n_assets / out["population"] * 1000.0, np.nan)
    return out


def _with_gap_columns(
    out: pd.DataFrame, t: float, access: np.ndarray, need: np.ndarray, score: np.ndarray, no_assets: np.ndarray
) -> pd.DataFrame:
    """Add the access share at ``t``, need, the gap index, the classes and the rank to the rows."""
    g, m = len(no_assets), len(need)
    n = m - 1
    need_rows = np.tile(need, g)
    gap = need_rows / 100.0 * (1.0 - access)
    need_class = _classes(need_rows, (100.0 / 3.0, 200.0 / 3.0))
    access_class = _classes(access, (1.0 / 3.0, 2.0 / 3.0))
    return out.assign(
        threshold_m=t,
        access_share=access,
        need_score=np.tile(score, g),
        need_percentile=need_rows,
        gap_index=gap,
        need_class=need_class,
        access_class=access_class,
        **_bivariate(need_class, access_class),
        gap_rank=_gap_rank(gap.reshape(g, m)[:, :n]),
        no_assets=np.repeat(no_assets, m),
        whole_area=np.tile(np.arange(m) == n, g),
    )


def gap_table(
    summary: pd.DataFrame,
    shares: pd.DataFrame,
    assets: pd.DataFrame,
    *,
    deprivation: pd.DataFrame,
    by: str = "area",
    options: GapOptions | None = None,
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return need, access and the gap index per area and group, with a whole-authority row per group.

    Parameters
    ----------
    summary : DataFrame
        :func:`~assetmap.analysis.deprivation.summarise_deprivation` of the areas (``code``, ``name``,
        ``population``, ``avg_score``, ``avg_rank_where_1_most_deprived``). For ``by="lsoa"`` the
        deprivation table itself may be given (``lsoa_code``, ``imd_score``, ``imd_rank``, ``population``).
    shares : DataFrame
        :func:`~assetmap.analysis.shares.access_shares` of the same areas (``by`` alike).
    assets : DataFrame
        The assets to count, with ``elements`` (tuples of element numbers) or ``element_mask`` (from
        :func:`~assetmap.analysis.groups.element_masks`, which is faster for a large register) and
        ``area_code`` (``lsoa_code`` for ``by="lsoa"``; missing where outside every area). Where a
        ``status`` column is present only ``approved`` rows count; drop stale records first if they
        should not.
    deprivation : DataFrame
        LSOA deprivation (``imd_score``, ``imd_rank``), to place need nationally with :func:`need_percentile`.
    by : {"area", "lsoa"}
        Whether the rows are areas of a lookup or LSOAs.
    options : GapOptions, optional
        The threshold and groups to report, the whole-authority rows' code and name, and the number of
        LSOAs ranked nationally (default: ``GapOptions()``).
    taxonomy : Taxonomy, optional
        Elements and pillars (default: the shipped taxonomy).

    Returns
    -------
    DataFrame
        One row per area and group, then the whole-authority row of the group, groups in framework order
        and areas by ``code``. Columns, as in :data:`GAP_COLUMNS`: ``code``, ``name``, ``group``,
        ``group_label``, ``population``, ``n_assets``, ``n_assets_outside`` (assets counted for access but
        in none of the areas, beyond the boundary: 0 on each area's row, their number on the
        whole-authority row, whose ``n_assets`` and ``assets_per_1000`` leave them out),
        ``assets_per_1000``, ``share_within_<t>m`` for
        each threshold, ``threshold_m``, ``access_share`` (the share at the threshold), ``need_score``
        (population-weighted IMD score), ``need_percentile`` (0-100, 100 most deprived), ``gap_index``
        (0-1, see the module docstring), ``need_class`` and ``access_class`` (1-3), ``bivariate_class``
        (``"3-1"``), ``bivariate_label`` ("high need, low access"), ``gap_rank`` (1 = largest gap among
        the areas for the group; ties by code; <NA> for the whole-authority row and where the gap is
        unknown), ``no_assets`` (True where no approved asset in ``assets``, inside an area or not,
        serves the group: its access shares are 0 by definition, and the group need not have
        distances), ``whole_area`` and ``access_method``.

    Raises
    ------
    ValidationError
        Unknown groups, a threshold the shares do not cover, tables lacking their columns, or no population.

    Notes
    -----
    Pure function: the inputs are not changed. ``population`` is the summary's; the shares are ratios,
    so a resident count that differs slightly (rounding when spreading populations) does not bias them.
    """
    if by not in ("area", "lsoa"):
        raise ValueError(f"by must be 'area' or 'lsoa', not {by!r}.")
    opts, tax = options or GapOptions(), taxonomy or load_taxonomy()
    base = _summary_frame(summary, by)
    available = share_columns(shares)
    t = _pick_threshold(opts.threshold, available)
    groups, in_shares = _report_groups(shares, opts.groups, tax)
    counts, no_assets, outside = _served_counts(assets, by, pd.Index(base["code"]), groups, in_shares, tax)
    values, res_pop = _placed_shares(shares, base, groups, list(available.values()), no_assets)
    values, area_pop, score, rank = _with_whole_area(values, res_pop, base)
    need = need_percentile(
        score if np.isfinite(score).any() else None, deprivation, ranks=rank, n_national=opts.n_national
    )
    rows = _area_rows(base, groups, area_pop, counts, outside, opts, tax)
    out = _with_gap_columns(rows, t, values[list(available).index(t)].ravel(), need, score, no_assets)
    return _with_shares_in_order(out.assign(access_method=_access_method(shares)), list(available.values()), values)


def _with_shares_in_order(out: pd.DataFrame, share_cols: list[str], values: np.ndarray) -> pd.DataFrame:
    """Add the share within each threshold, then put the columns in the order of :data:`GAP_COLUMNS`."""
    for j, col in enumerate(share_cols):
        out[col] = values[j].ravel()
    columns = [c for c in GAP_COLUMNS if c != "<shares>"]
    at = columns.index("threshold_m")
    return out[columns[:at] + share_cols + columns[at:]]


def _access_method(shares: pd.DataFrame) -> str:
    """Return the method the shares were measured by, "unknown" where they do not say."""
    methods = shares["access_method"].dropna().unique() if "access_method" in shares else []
    return str(methods[0]) if len(methods) else shares.attrs.get("method", "unknown")


def _bivariate(need_class: pd.Series, access_class: pd.Series) -> dict[str, pd.Series]:
    """Return ``bivariate_class`` ("3-1") and ``bivariate_label`` ("high need, low access") from the two classes."""
    need = need_class.fillna(0).to_numpy(dtype=np.int64)
    access = access_class.fillna(0).to_numpy(dtype=np.int64)
    codes = np.full(16, None, dtype=object)
    words = np.full(16, None, dtype=object)
    for i in (1, 2, 3):
        for j in (1, 2, 3):
            codes[4 * i + j] = f"{i}-{j}"
            words[4 * i + j] = f"{NEED_WORDS[i]}, {ACCESS_WORDS[j]}"
    at = 4 * need + access
    at[(need == 0) | (access == 0)] = 0
    return {
        "bivariate_class": pd.Series(codes[at], dtype="string"),
        "bivariate_label": pd.Series(words[at], dtype="string"),
    }


def _gap_rank(gap: np.ndarray) -> pd.Series:
    """Rank areas (columns, sorted by code) within each group (rows): 1 the largest gap, ties by code.

    Returns one value per (group, area) plus <NA> for each group's whole-authority row, in table order.
    A gap that cannot be computed is not ranked.
    """
    g, n = gap.shape
    ranks = np.zeros((g, n + 1), dtype="float64")
    position = np.arange(n)
    for row in range(g):
        # Rounded so that equal gaps reached by different arithmetic tie, and are then ordered by code.
        key = np.round(gap[row], 12)
        order = np.lexsort((position, -np.nan_to_num(key, nan=-np.inf)))
        ranks[row, order] = np.arange(1, n + 1)
        ranks[row, :n][np.isnan(key)] = np.nan
    ranks[:, n] = np.nan
    return pd.Series(ranks.ravel()).astype("Int64")
