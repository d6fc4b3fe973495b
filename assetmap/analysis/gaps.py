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
    so the populations here equal those of the deprivation summary.
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
(``scaling``, ``involving``, ``strengthening``, ``sustaining``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from assetmap import settings
from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.analysis.deprivation import check_lookup, resolve_n_national
from assetmap.record import parse_elements
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Distance thresholds, in metres, reported by default (about 5, 10 and 15 minutes' walk).
DEFAULT_THRESHOLDS: tuple[float, ...] = (400.0, 800.0, 1200.0)

#: Largest threshold accepted, in metres: beyond about an hour's walk "within reach" means little.
MAX_THRESHOLD_M: float = 5_000.0

#: Walking pace used to put thresholds in minutes (4.8 km/h).
WALK_METRES_PER_MINUTE: float = 80.0

#: Access methods an access run can use.
METHODS: tuple[str, ...] = ("network", "straight-line")

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
_SHARE_RE = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")


# -- groups ---------------------------------------------------------------------------


def group_keys(taxonomy: Taxonomy | None = None) -> list[str]:
    """Return every group key in framework order: ``e1`` to ``e11``, then the pillar keys.

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    return [f"e{e.id}" for e in tax.elements] + [p.key for p in tax.pillars]


def group_label(key: str, taxonomy: Taxonomy | None = None) -> str:
    """Return a group's label: "Element 6: Thriving VCSE sector and volunteering" or "Pillar: Strengthening".

    Raises
    ------
    ValidationError
        When the key is not a group of the taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    check_groups([key], tax)
    if re.fullmatch(r"e\d+", key):
        element = tax.element(int(key[1:]))
        return f"Element {element.id}: {element.name}"
    return f"Pillar: {tax.pillar(key).name}"


def check_groups(keys: Iterable[str], tax: Taxonomy, what: str = "group") -> list[str]:
    keys = [str(k) for k in keys]
    known = group_keys(tax)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValidationError(
            Problem(
                f"unknown {what} key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}.",
                field=what,
                fix=f"Use e1 to e{len(tax.elements)} for the elements or a pillar key ({', '.join(p.key for p in tax.pillars)}).",
            )
        )
    return keys


def group_masks(keys: Sequence[str], taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return, per group key, the bit mask of the elements it covers (bit ``i`` for element ``i``).

    An asset serves a group when ``element_masks(...) & group_masks(...)`` is not zero.

    Raises
    ------
    ValidationError
        When a key is not a group of the taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    masks = []
    for key in check_groups(keys, tax):
        if re.fullmatch(r"e\d+", key):
            masks.append(1 << int(key[1:]))
        else:
            masks.append(sum(1 << i for i in tax.elements_of_pillar(key)))
    return np.asarray(masks, dtype=np.int64)


def _in_framework_order(keys: Iterable[str], tax: Taxonomy) -> list[str]:
    order = {k: i for i, k in enumerate(group_keys(tax))}
    return sorted(dict.fromkeys(keys), key=order.__getitem__)


# -- checks -----------------------------------------------------------------------------


def check_thresholds(thresholds: float | Iterable[float]) -> list[float]:
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)  # type: ignore[arg-type]
    if not values:
        raise ValidationError(
            Problem("no distance thresholds were given.", field="thresholds", fix="Give at least one, e.g. (800,).")
        )
    out = []
    for value in values:
        try:
            t = float(value)
        except (TypeError, ValueError):
            t = float("nan")
        if not np.isfinite(t) or t <= 0 or t > MAX_THRESHOLD_M:
            raise ValidationError(
                Problem(
                    f"distance threshold {value!r} is not a distance from 1 to {MAX_THRESHOLD_M:,.0f} metres.",
                    field="thresholds",
                    fix="Give thresholds in metres, such as 400, 800 and 1200 (5, 10 and 15 minutes' walk).",
                )
            )
        out.append(t)
    return sorted(set(out))


def _threshold_name(t: float) -> str:
    return f"share_within_{t:g}m"


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


def _resolve_method(method: str | None, distance: pd.DataFrame) -> str:
    method = method if method is not None else distance.attrs.get("method")
    if method not in METHODS:
        raise ValidationError(
            Problem(
                f"access method {method!r} is not one of {', '.join(METHODS)}.",
                field="method",
                fix="Pass method='network' for walking distances along streets, or method='straight-line'.",
            )
        )
    return str(method)


# -- access shares ------------------------------------------------------------------------


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
        One row per resident point (index: point id) with ``lsoa_code`` and
        ``population``; the points of an LSOA share its population.
    distance : DataFrame
        Index-aligned with ``residents`` (the same ids; the order may differ):
        one column per group key (``e1`` ... ``e11``, pillar keys), the
        distance in metres to the nearest approved asset of the group;
        ``inf`` (or NaN) where none is within the distance the access run
        searched or none can be reached.
    lookup : DataFrame, optional
        For ``by="area"``: ``lsoa_code``, ``area_code`` and ``weight`` (share
        of the LSOA's population in the area; 1 when absent), the lookup given
        to :func:`~assetmap.analysis.deprivation.summarise_deprivation`.
    thresholds : iterable of float
        Distances in metres, each from 1 to :data:`MAX_THRESHOLD_M`.
    by : {"area", "lsoa"}
        Areas of the lookup, or LSOAs.
    method : {"network", "straight-line"}, optional
        How the distances were measured; by default ``distance.attrs['method']``.
    taxonomy : Taxonomy, optional
        For the group keys (default: the shipped taxonomy).

    Returns
    -------
    DataFrame
        One row per (area, group), sorted by ``code`` then group in the
        order of ``distance``'s columns: ``code``, ``group``, ``population``
        (residents of the area; an LSOA split between areas counts ``weight``
        times its residents in each), ``share_within_<t>m`` for each
        threshold (NaN where the area has no residents) and
        ``access_method``. Every area of the lookup has rows, with population
        0 where none of its LSOAs has resident points. ``attrs`` holds
        ``thresholds``, ``method``, ``by`` and ``population_outside_areas``
        (residents of LSOAs the lookup does not place, counted in no area).

    Raises
    ------
    ValidationError
        No population (or none at all), thresholds outside 1 m to
        :data:`MAX_THRESHOLD_M`, unknown group keys, negative distances,
        tables that do not line up, or an unknown method.

    Notes
    -----
    Pure function: the inputs are not changed. A resident exactly at the
    threshold counts as within it.
    """
    if by not in ("area", "lsoa"):
        raise ValueError(f"by must be 'area' or 'lsoa', not {by!r}.")
    tax = taxonomy or load_taxonomy()
    ths = check_thresholds(thresholds)
    pop = _check_residents(residents)
    method = _resolve_method(method, distance)
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

    lsoa_codes, inv = np.unique(residents["lsoa_code"].astype(str).to_numpy(), return_inverse=True)
    n = len(pop)
    # Sum each resident point's population into its LSOA: one sparse matrix product per threshold.
    to_lsoa = sparse.csr_matrix((pop, (inv, np.arange(n))), shape=(len(lsoa_codes), n))
    lsoa_pop = np.asarray(to_lsoa.sum(axis=1)).ravel()
    lsoa_within = [to_lsoa @ (d <= t).astype("float64") for t in ths]

    if by == "lsoa":
        codes, area_pop, area_within = lsoa_codes, lsoa_pop, lsoa_within
        outside = 0.0
    else:
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
        area_pop = to_area @ lsoa_pop
        area_within = [to_area @ w for w in lsoa_within]
        outside = float(max(pop.sum() - area_pop.sum(), 0.0))

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
            out[_threshold_name(t)] = (np.asarray(within) / denominator).clip(0, 1).ravel()
    out["access_method"] = method
    out.attrs.update(thresholds=ths, method=method, by=by, population_outside_areas=outside)
    return out


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


def _mask_of(value: object, valid: set[int]) -> int:
    """Return the bit mask of one asset's elements: a tuple or list of numbers, one number, or text like "1;6"."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    try:
        if isinstance(value, str):
            numbers: tuple[int, ...] = parse_elements(value, valid) or ()
        elif isinstance(value, int | np.integer):
            numbers = (int(value),)
        else:
            numbers = tuple(int(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            Problem(
                f"the assets' elements include {value!r}, which is not a list of element numbers ({exc}).",
                field="elements",
                fix="Give each asset its elements as a tuple such as (1, 6), as read_assets returns them.",
            )
        ) from exc
    unknown = sorted(set(numbers) - valid)
    if unknown:
        raise ValidationError(
            Problem(
                f"the assets name elements that do not exist: {unknown}.",
                field="elements",
                fix=f"Elements are numbered {min(valid)} to {max(valid)}.",
            )
        )
    return sum(1 << i for i in set(numbers))


def _element_kinds(elements: pd.Series, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Return each asset's kind (position among the distinct element lists) and each kind's bit mask.

    A register repeats a few hundred combinations of elements, so each distinct
    combination is read once rather than each of a million records. Assets with
    no elements get the last kind, of mask 0.
    """
    values = elements.to_numpy(dtype=object)
    try:
        kinds, distinct = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # lists or arrays, which cannot be hashed
        values = np.fromiter(
            (tuple(v) if isinstance(v, list | np.ndarray) else v for v in values), dtype=object, count=len(values)
        )
        kinds, distinct = pd.factorize(values, use_na_sentinel=True)
    valid = {e.id for e in tax.elements}
    masks = np.zeros(len(distinct) + 1, dtype=np.int64)
    masks[:-1] = [_mask_of(v, valid) for v in distinct]
    return np.where(kinds < 0, len(distinct), kinds), masks


def element_masks(elements: pd.Series | Sequence[object], taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return, per asset, the bit mask of the elements it serves: bit ``i`` set for element ``i``.

    Computing it once lets a large register be matched to groups (with
    :func:`group_masks`) and counted by :func:`gap_table` (as an
    ``element_mask`` column) without reading the element lists again.

    Parameters
    ----------
    elements : Series or sequence
        Per asset, a tuple of element numbers (as ``read_assets`` gives), one
        number, text such as ``"1;6"``, or None.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    ValidationError
        When a value is not a list of element numbers or names an unknown element.
    """
    series = elements if isinstance(elements, pd.Series) else pd.Series(list(elements), dtype=object)
    kinds, masks = _element_kinds(series, taxonomy or load_taxonomy())
    return masks[kinds]


def _kinds_from_masks(values: pd.Series, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Return kinds and masks from an ``element_mask`` column, checked."""
    allowed = sum(1 << e.id for e in tax.elements)
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        mask = values.to_numpy(dtype=np.int64)
        bad = (mask & ~allowed) != 0  # a negative mask has the high bits set
    else:
        number = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(number) & (number >= 0) & (number == np.round(number))
        mask = np.where(whole, number, 0).astype(np.int64)
        bad = ~whole | ((mask & ~allowed) != 0)
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} element masks are missing or name elements that do not exist.",
                field="element_mask",
                fix="Build the column with element_masks(), or drop it and give the elements.",
            )
        )
    kinds, distinct = pd.factorize(mask)
    return kinds, np.append(np.asarray(distinct, dtype=np.int64), 0)


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
    if "element_mask" in assets:
        kinds, masks = _kinds_from_masks(assets["element_mask"], tax)
    else:
        kinds, masks = _element_kinds(assets["elements"], tax)
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


def _share_thresholds(shares: pd.DataFrame) -> dict[float, str]:
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


def gap_table(
    summary: pd.DataFrame,
    shares: pd.DataFrame,
    assets: pd.DataFrame,
    *,
    deprivation: pd.DataFrame,
    threshold: float | None = None,
    groups: list[str] | None = None,
    by: str = "area",
    authority_code: str | None = None,
    authority_name: str = WHOLE_AREA_NAME,
    n_national: int | None = None,
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return need, access and the gap index per area and group, with a whole-authority row per group.

    Parameters
    ----------
    summary : DataFrame
        :func:`~assetmap.analysis.deprivation.summarise_deprivation` of the
        areas (``code``, ``name``, ``population``, ``avg_score``,
        ``avg_rank_where_1_most_deprived``). For ``by="lsoa"`` the deprivation
        table itself may be given (``lsoa_code``, ``imd_score``, ``imd_rank``, ``population``).
    shares : DataFrame
        :func:`access_shares` of the same areas (``by`` alike).
    assets : DataFrame
        The assets to count, with ``elements`` (tuples of element numbers) or
        ``element_mask`` (from :func:`element_masks`, which is faster for a
        large register) and ``area_code`` (``lsoa_code`` for ``by="lsoa"``;
        missing where outside every area). Where a ``status`` column is present only ``approved``
        rows count; drop stale records first if they should not.
    deprivation : DataFrame
        LSOA deprivation (``imd_score``, ``imd_rank``), to place need nationally
        with :func:`need_percentile`.
    threshold : float, optional
        Distance in metres for ``access_share`` and the gap index; one of the
        thresholds of ``shares`` (default :data:`assetmap.settings.walk_threshold_m`, 800 m).
    groups : list of str, optional
        Group keys to report (default: those of ``shares``, in framework order).
        A group without a distance column may be asked for only if no asset
        serves it.
    by : {"area", "lsoa"}
        Whether the rows are areas of a lookup or LSOAs.
    authority_code, authority_name : str, optional
        Code and name of the whole-authority rows (default ``"ALL"``, ``"Whole area"``).
    n_national : int, optional
        Number of LSOAs ranked nationally (default from ``deprivation.attrs``).
    taxonomy : Taxonomy, optional
        Elements and pillars (default: the shipped taxonomy).

    Returns
    -------
    DataFrame
        One row per area and group, then the whole-authority row of the group,
        groups in framework order and areas by ``code``. Columns, as in
        :data:`GAP_COLUMNS`: ``code``, ``name``, ``group``, ``group_label``,
        ``population``, ``n_assets``, ``assets_per_1000``,
        ``share_within_<t>m`` for each threshold, ``threshold_m``,
        ``access_share`` (the share at ``threshold``), ``need_score``
        (population-weighted IMD score), ``need_percentile`` (0-100, 100 most
        deprived), ``gap_index`` (0-1, see the module docstring),
        ``need_class`` and ``access_class`` (1-3), ``bivariate_class``
        (``"3-1"``), ``bivariate_label`` ("high need, low access"),
        ``gap_rank`` (1 = largest gap among the areas for the group; ties by
        code; <NA> for the whole-authority row and where the gap is unknown),
        ``no_assets`` (True where no approved asset in ``assets``, inside an
        area or not, serves the group: its access shares are 0 by definition,
        and the group need not have distances), ``whole_area`` and
        ``access_method``.

    Raises
    ------
    ValidationError
        Unknown groups, a threshold the shares do not cover, tables lacking
        their columns, or no population.

    Notes
    -----
    Pure function: the inputs are not changed. ``population`` is the
    summary's; the shares are ratios, so a resident count that differs
    slightly (rounding when spreading populations) does not bias them.
    """
    if by not in ("area", "lsoa"):
        raise ValueError(f"by must be 'area' or 'lsoa', not {by!r}.")
    tax = taxonomy or load_taxonomy()
    base = _summary_frame(summary, by)
    available = _share_thresholds(shares)
    t = _pick_threshold(threshold, available)
    share_cols = list(available.values())
    in_shares = check_groups(shares["group"].astype(str).unique(), tax)
    groups = _in_framework_order(check_groups(groups, tax) if groups is not None else in_shares, tax)
    if not groups:
        raise ValidationError(
            Problem("no groups to report.", field="groups", fix="Give group keys such as e1 or scaling.")
        )
    methods = shares["access_method"].dropna().unique() if "access_method" in shares else []
    method = str(methods[0]) if len(methods) else shares.attrs.get("method", "unknown")

    codes = pd.Index(base["code"])
    n, g = len(codes), len(groups)
    counts, totals = _count_assets(assets, "area_code" if by == "area" else "lsoa_code", codes, groups, tax)
    no_assets = totals == 0
    absent = [k for k, none in zip(groups, no_assets, strict=True) if k not in in_shares and not none]
    if absent:
        raise ValidationError(
            Problem(
                f"there are assets but no access shares for {', '.join(absent)}.",
                field="groups",
                fix="Compute distances for those groups and rerun access_shares, or leave them out of groups=.",
            )
        )

    # Arrays of shape (group, area): the shares table's rows put in place by position, NaN where missing.
    pop = base["population"].to_numpy(dtype="float64")
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

    # The whole authority: populations and counts add up; shares and need are population-weighted.
    res_pop = np.nan_to_num(res_pop)
    with np.errstate(divide="ignore", invalid="ignore"):
        reached = np.where(np.isnan(values), 0.0, values * res_pop)
        counted = np.where(np.isnan(values), 0.0, res_pop)
        whole_values = reached.sum(axis=2) / np.where(counted.sum(axis=2) > 0, counted.sum(axis=2), np.nan)
        score, rank = base["need_score"].to_numpy(), base["_rank"].to_numpy()
        whole_score = np.nansum(score * pop) / pop[np.isfinite(score)].sum()
        whole_rank = np.nansum(rank * pop) / pop[np.isfinite(rank)].sum()
    values = np.concatenate([values, whole_values[:, :, None]], axis=2)  # (threshold, group, area + 1)
    area_pop = np.append(pop, pop.sum())
    score, rank = np.append(score, whole_score), np.append(rank, whole_rank)
    need = need_percentile(score if np.isfinite(score).any() else None, deprivation, ranks=rank, n_national=n_national)

    m = n + 1
    access = values[list(available).index(t)].ravel()
    need_rows = np.tile(need, g)
    gap = need_rows / 100.0 * (1.0 - access)
    n_assets = np.concatenate([counts.T, counts.sum(axis=0)[:, None]], axis=1).ravel()
    labels = [group_label(k, tax) for k in groups]
    out = pd.DataFrame(
        {
            "code": np.tile(np.append(codes.to_numpy(dtype=object), authority_code or WHOLE_AREA_CODE), g),
            "name": np.tile(np.append(base["name"].to_numpy(dtype=object), authority_name), g),
            "group": np.repeat(np.asarray(groups, dtype=object), m),
            "group_label": np.repeat(np.asarray(labels, dtype=object), m),
            "population": np.tile(area_pop, g),
            "n_assets": n_assets.astype(np.int64),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["assets_per_1000"] = np.where(out["population"] > 0, n_assets / out["population"] * 1000.0, np.nan)
    for j, col in enumerate(share_cols):
        out[col] = values[j].ravel()
    need_class = _classes(need_rows, (100.0 / 3.0, 200.0 / 3.0))
    access_class = _classes(access, (1.0 / 3.0, 2.0 / 3.0))
    out = out.assign(
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
        access_method=method,
    )
    columns = [c for c in GAP_COLUMNS if c != "<shares>"]
    at = columns.index("threshold_m")
    return out[columns[:at] + share_cols + columns[at:]]


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


# -- method note ---------------------------------------------------------------------------------


def _short_label(key: str, tax: Taxonomy) -> str:
    if re.fullmatch(r"e\d+", key):
        element = tax.element(int(key[1:]))
        return f"element {element.id} ({element.name})"
    return f"the {tax.pillar(key).name} pillar"


def _metres(t: float) -> str:
    return f"{t:,.0f} m" if float(t).is_integer() else f"{t:,.1f} m"


def _minutes(t: float) -> str:
    return f"about {round(t / WALK_METRES_PER_MINUTE):.0f} minutes' walk"


def method_note(
    *,
    method: str,
    threshold: float,
    thresholds: Iterable[float],
    include_stale: bool,
    vintages: dict[str, str],
    n_assets: dict[str, int],
    caveats: Iterable[str] = (),
    placement: str | None = None,
    stale_after_days: int | None = None,
    taxonomy: Taxonomy | None = None,
) -> str:
    """Return a plain-English note, in Markdown, of how a gap table was made.

    For pasting beside the table in a commissioning paper: what was counted,
    how residents were placed, how distance was measured (labelled network or
    straight-line), the thresholds, need and the gap index, the data editions
    and the caveats.

    Parameters
    ----------
    method : {"network", "straight-line"}
        How distances were measured.
    threshold : float
        Distance in metres used for the access share and the gap index.
    thresholds : iterable of float
        Every distance the table reports.
    include_stale : bool
        Whether records not confirmed recently were counted.
    vintages : dict
        Layer name to edition, e.g. ``{"deprivation": "IoD2025", "boundaries": "Wards May 2024"}``.
    n_assets : dict
        Group key to the number of approved assets counted for it; the key
        ``"all"``, where given, is the number of distinct approved assets.
        Groups with 0 are named among the caveats.
    caveats : iterable of str
        Further caveats, one sentence each (LSOAs apportioned between areas,
        residents no asset can be reached from...).
    placement : str, optional
        How residents were placed, to replace the default wording for ``method``.
    stale_after_days : int, optional
        Age of a stale record (default :data:`assetmap.settings.stale_after_days`).
    taxonomy : Taxonomy, optional
        For the names of the groups (default: the shipped taxonomy).

    Returns
    -------
    str
        Markdown: a heading, one bullet per topic, then the caveats.

    Raises
    ------
    ValidationError
        An unknown method or group key, or thresholds out of range.
    """
    tax = taxonomy or load_taxonomy()
    method = _resolve_method(method, pd.DataFrame())
    ths = check_thresholds(thresholds)
    t = check_thresholds([threshold])[0]
    groups = check_groups([k for k in n_assets if k != "all"], tax)
    days = settings.stale_after_days if stale_after_days is None else stale_after_days

    counted = f"{n_assets['all']:,} approved records" if "all" in n_assets else "Approved records"
    stale = (
        f"records not confirmed in the last {days:,} days are included"
        if include_stale
        else f"records not confirmed in the last {days:,} days (stale) are left out"
    )
    if placement is None:
        placement = (
            "spread evenly over the street-network junctions inside it"
            if method == "network"
            else "spread over resident points inside it"
        )
    if method == "network":
        distance = (
            "**walking distance along the street network** from each resident point to the nearest asset of "
            "each element or pillar."
        )
    else:
        distance = (
            "**straight-line distance** (as the crow flies, in British National Grid metres) from each resident "
            "point to the nearest asset of each element or pillar. No street network was used: real walks are "
            "longer, so these figures overstate access."
        )
    others = [_metres(x) for x in ths if x != t]
    listed = " and ".join([", ".join(others[:-1]), others[-1]] if len(others) > 1 else others)
    shown = f"; shares within {listed} are shown beside it" if others else ""
    lines = [
        "### How these figures were made",
        "",
        f"- **Assets counted:** {counted} from the asset register; pending, rejected and withdrawn records "
        f"never count, and {stale}. An asset counts once for each element it serves, and once for a pillar "
        "however many of that pillar's elements it serves.",
        f"- **Residents:** each LSOA's population is {placement}. An LSOA split between areas counts in each "
        "in proportion to its population there.",
        f"- **Distance:** {distance}",
        f"- **Within reach:** within {_metres(t)} ({_minutes(t)}){shown}. Residents exactly at the "
        "threshold count as within it.",
        "- **Need:** the area's population-weighted average IMD score, placed among all LSOAs in England as a "
        "national percentile (100 = most deprived, 50 = the median LSOA).",
        f"- **Gap index:** need percentile / 100 × (1 − share of residents within {_metres(t)}), from 0 (no gap) "
        "to 1 (most deprived, nobody within reach). Areas are ranked on it, 1 = largest gap.",
        "- **Classes:** need and access are each split into thirds (need by national percentile below 33.3, "
        "below 66.7, above; access by share within reach below 1/3, below 2/3, above) for the 3 × 3 map.",
    ]
    if vintages:
        editions = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in vintages.items())
        lines.append(f"- **Data:** {editions}.")
    empty = [g for g in groups if int(n_assets[g]) == 0]
    notes = list(caveats)
    if empty:
        names = "; ".join(_short_label(g, tax) for g in empty)
        notes.insert(
            0,
            f"No approved asset serves {names}: access there is 0 by definition. Check whether the register "
            "is missing such assets or the area lacks them.",
        )
    if notes:
        lines += ["", "**Caveats**", ""] + [f"- {c}" for c in notes]
    return "\n".join(lines) + "\n"
