"""Access shares: the share of each area's residents within each distance of an asset of each group.

A resident point counts in its LSOA, and an LSOA split between areas counts in each in proportion to its
lookup ``weight``, as in :func:`assetmap.analysis.deprivation.summarise_deprivation`, so the populations
here equal those of the deprivation summary. The shares are the inputs of
:func:`assetmap.analysis.gaps.gap_table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse

from assetmap._errors import Problem, ValidationError
from assetmap.analysis.deprivation import check_lookup
from assetmap.analysis.groups import DEFAULT_THRESHOLDS, check_groups, check_thresholds, resolve_method
from assetmap.taxonomy import Taxonomy, load_taxonomy

_SHARE_RE = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")


def share_column(t: float) -> str:
    """Return the name of the column of the share within ``t`` metres: ``share_within_800m``."""
    return f"share_within_{t:g}m"


def share_columns(shares: pd.DataFrame) -> dict[float, str]:
    """Return, for a table of :func:`access_shares`, each threshold in metres and its column, by distance.

    Raises
    ------
    ValidationError
        When the table lacks its ``code``, ``group`` or ``population`` column, or every share column.
    """
    found = {float(m.group(1)): col for col in shares.columns if (m := _SHARE_RE.match(str(col)))}
    missing = [c for c in ("code", "group", "population") if c not in shares]
    if missing or not found:
        raise ValidationError(
            Problem(
                "the shares table lacks "
                + (f"its {', '.join(missing)} column" if missing else "share_within_ columns"),
                fix="Pass the table access_shares returns.",
            )
        )
    return dict(sorted(found.items()))


# -- checks -----------------------------------------------------------------------------


def _check_residents(residents: pd.DataFrame) -> np.ndarray:
    missing = [c for c in ("lsoa_code", "population") if c not in residents]
    if missing:
        raise ValidationError(
            Problem(
                f"the residents table has no {' or '.join(missing)} column (it has {list(residents.columns)}).",
                field=missing[0],
                fix="Give one row per resident point with lsoa_code and population, as the access run returns.",
            )
        )
    if not residents.index.is_unique:
        raise ValidationError(
            Problem(
                "the residents table has repeated index values, so distances cannot be matched to residents.",
                fix="Give each resident point its own id (reset_index(drop=True) on both tables, in the same order).",
            )
        )
    pop = pd.to_numeric(residents["population"], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} resident points have a missing or negative population "
                f"(e.g. {residents.index[bad][:5].tolist()}).",
                field="population",
                fix="Spread each LSOA's population (from the deprivation file) over its resident points.",
            )
        )
    if len(pop) == 0 or pop.sum() <= 0:
        raise ValidationError(
            Problem(
                "the residents have no population at all, so no share of them can be within reach.",
                field="population",
                fix="Check that the deprivation table has its population column (File 6 or File 7) and that the "
                "resident points were built from it.",
            )
        )
    return pop


def _aligned_distance(distance: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    if distance.index.equals(index):
        return distance
    missing = index.difference(distance.index)
    if len(missing) or not distance.index.is_unique:
        raise ValidationError(
            Problem(
                f"the distance table does not have one row for each resident point ({len(missing)} residents "
                f"have none, e.g. {missing[:5].tolist()}).",
                fix="Pass the residents and the distances of the same access run.",
            )
        )
    return distance.reindex(index)


def _checked_inputs(
    residents: pd.DataFrame,
    distance: pd.DataFrame,
    thresholds: Iterable[float],
    by: str,
    method: str | None,
    tax: Taxonomy,
) -> tuple[list[float], np.ndarray, str, list[str], np.ndarray]:
    """Check the inputs of :func:`access_shares`; return thresholds, populations, method, groups and distances."""
    if by not in ("area", "lsoa"):
        raise ValueError(f"by must be 'area' or 'lsoa', not {by!r}.")
    ths = check_thresholds(thresholds)
    pop = _check_residents(residents)
    method = resolve_method(method, distance)
    groups = check_groups(distance.columns, tax)
    if not groups:
        raise ValidationError(
            Problem(
                "the distance table has no columns, so there is nothing to measure access to.",
                fix="Give one column of distances per group key (e1 ... e11, pillar keys).",
            )
        )
    dist = _aligned_distance(distance, residents.index)
    d = dist.apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    if (d < 0).any():
        raise ValidationError(
            Problem(
                "the distance table has negative distances.",
                fix="Give distances in metres, with inf where no asset is in reach.",
            )
        )
    return ths, pop, method, groups, d


# -- access shares ------------------------------------------------------------------------


def _sum_by_lsoa(
    lsoa_code: pd.Series, pop: np.ndarray, d: np.ndarray, ths: list[float]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return the LSOA codes, their residents, and per threshold their residents within it (LSOA x group)."""
    lsoa_codes, inv = np.unique(lsoa_code.astype(str).to_numpy(), return_inverse=True)
    n = len(pop)
    # Sum each resident point's population into its LSOA: one sparse matrix product per threshold.
    to_lsoa = sparse.csr_matrix((pop, (inv, np.arange(n))), shape=(len(lsoa_codes), n))
    lsoa_pop = np.asarray(to_lsoa.sum(axis=1)).ravel()
    lsoa_within = [to_lsoa @ (d <= t).astype("float64") for t in ths]
    return lsoa_codes, lsoa_pop, lsoa_within


def _sum_by_area(
    lookup: pd.DataFrame | None, lsoa_codes: np.ndarray, lsoa_pop: np.ndarray, lsoa_within: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return the lookup's area codes, their residents and their residents within each threshold, by weight."""
    if lookup is None:
        raise ValidationError(
            Problem(
                "access shares by area need a lookup of LSOAs to areas.",
                fix="Pass lookup= (lsoa_code, area_code, weight), the one given to summarise_deprivation; "
                "or use by='lsoa'.",
            )
        )
    table = check_lookup(lookup)
    codes, a_inv = np.unique(table["area_code"].to_numpy(), return_inverse=True)
    pos = pd.Index(lsoa_codes).get_indexer(table["lsoa_code"].to_numpy())
    keep = pos >= 0
    to_area = sparse.csr_matrix(
        (table["weight"].to_numpy(dtype="float64")[keep], (a_inv[keep], pos[keep])),
        shape=(len(codes), len(lsoa_codes)),
    )
    return codes, to_area @ lsoa_pop, [to_area @ w for w in lsoa_within]


def _shares_frame(
    codes: np.ndarray, groups: list[str], area_pop: np.ndarray, ths: list[float], area_within: list[np.ndarray]
) -> pd.DataFrame:
    """Return one row per (area, group) with its residents and its share within each threshold."""
    g = len(groups)
    out = pd.DataFrame(
        {
            "code": np.repeat(codes.astype(object), g),
            "group": np.tile(np.asarray(groups, dtype=object), len(codes)),
            "population": np.repeat(area_pop, g),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = np.where(area_pop > 0, area_pop, np.nan)[:, None]
        for t, within in zip(ths, area_within, strict=True):
            out[share_column(t)] = (np.asarray(within) / denominator).clip(0, 1).ravel()
    return out


def access_shares(
    residents: pd.DataFrame,
    distance: pd.DataFrame,
    lookup: pd.DataFrame | None = None,
    *,
    thresholds: Iterable[float] = DEFAULT_THRESHOLDS,
    by: str = "area",
    method: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return the share of residents within each distance threshold, per area (or LSOA) and group.

    Parameters
    ----------
    residents : DataFrame
        One row per resident point (index: point id) with ``lsoa_code`` and ``population``; the points
        of an LSOA share its population.
    distance : DataFrame
        Index-aligned with ``residents`` (the same ids; the order may differ): one column per group key
        (``e1`` ... ``e11``, pillar keys), the distance in metres to the nearest approved asset of the
        group; ``inf`` (or NaN) where none is within the distance the access run searched or none can
        be reached.
    lookup : DataFrame, optional
        For ``by="area"``: ``lsoa_code``, ``area_code`` and ``weight`` (share of the LSOA's population
        in the area; 1 when absent), the lookup given to
        :func:`~assetmap.analysis.deprivation.summarise_deprivation`.
    thresholds : iterable of float
        Distances in metres, each from 1 to :data:`~assetmap.analysis.groups.MAX_THRESHOLD_M`.
    by : {"area", "lsoa"}
        Areas of the lookup, or LSOAs.
    method : {"network", "straight-line"}, optional
        How the distances were measured; by default ``distance.attrs['method']``.
    taxonomy : Taxonomy, optional
        For the group keys (default: the shipped taxonomy).

    Returns
    -------
    DataFrame
        One row per (area, group), sorted by ``code`` then group in the order of ``distance``'s columns:
        ``code``, ``group``, ``population`` (residents of the area; an LSOA split between areas counts
        ``weight`` times its residents in each), ``share_within_<t>m`` for each threshold (NaN where
        the area has no residents) and ``access_method``. Every area of the lookup has rows, with
        population 0 where none of its LSOAs has resident points. ``attrs`` holds ``thresholds``,
        ``method``, ``by`` and ``population_outside_areas`` (residents of LSOAs the lookup does not
        place, counted in no area).

    Raises
    ------
    ValidationError
        No population (or none at all), thresholds outside 1 m to
        :data:`~assetmap.analysis.groups.MAX_THRESHOLD_M`, unknown group keys, negative distances,
        tables that do not line up, or an unknown method.

    Notes
    -----
    Pure function: the inputs are not changed. A resident exactly at the threshold counts as within it.
    """
    ths, pop, method, groups, d = _checked_inputs(
        residents, distance, thresholds, by, method, taxonomy or load_taxonomy()
    )
    codes, area_pop, area_within = _sum_by_lsoa(residents["lsoa_code"], pop, d, ths)
    outside = 0.0
    if by == "area":
        codes, area_pop, area_within = _sum_by_area(lookup, codes, area_pop, area_within)
        outside = float(max(pop.sum() - area_pop.sum(), 0.0))
    out = _shares_frame(codes, groups, area_pop, ths, area_within).assign(access_method=method)
    out.attrs.update(thresholds=ths, method=method, by=by, population_outside_areas=outside)
    return out
