"""Deprivation summaries for wards, neighbourhoods and local authorities.

The measures follow MHCLG's local authority summaries of the English Indices
of Deprivation (IoD2019 technical report, appendix on summary measures; File 10
of each release), computed from LSOA rows and LSOA populations:

average score
    Population-weighted mean of the LSOA IMD scores.
average rank
    Population-weighted mean of the LSOA ranks *reversed*, so that the most
    deprived LSOA in England counts ``n_national`` and the least deprived 1:
    higher means more deprived, as published. The plain mean of the published
    ranks (1 = most deprived) is given beside it.
proportion of LSOAs in the most deprived 10%
    Share of the area's LSOAs in national decile 1 (a count, not population-weighted).
extent
    Share of the population living in the most deprived 30% of LSOAs, weighted
    1 in the most deprived 10% and on a sliding scale from 0.95 at the 11th
    percentile down to 0.05 at the 30th (steps of 0.9 / 19), 0 beyond.
local concentration
    Population-weighted mean of the reversed ranks of the area's most deprived
    LSOAs that together hold exactly 10% of its population; the last LSOA
    counts only for the part of its population needed to reach 10%.

An LSOA cut by an area boundary (custom neighbourhoods) is apportioned by its
``weight``, the share of its population in the area: its population counts
``weight`` times, and it counts as ``weight`` of an LSOA in the LSOA shares.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from assetmap._errors import AssetMapWarning, Problem, ValidationError

#: Number of LSOAs in England: IoD2019 ranks 2011 LSOAs, IoD2025 2021 LSOAs.
_N_BY_VINTAGE = {2011: 32_844, 2021: 33_755}
_LAST_2011_LSOA = 33_768

#: Domain keys whose population-weighted scores are reported, in order.
DOMAIN_KEYS = ("income", "employment", "education", "health", "crime", "housing", "environment", "idaci", "idaopi")

#: Columns of every summary, in order; ``<key>_score`` columns follow for the domains present.
SUMMARY_COLUMNS = (
    "code",
    "name",
    "population",
    "n_lsoas",
    "avg_score",
    "avg_rank",
    "avg_rank_where_1_most_deprived",
    "prop_lsoas_most_deprived_10pct",
    "extent",
    "local_concentration",
    "share_lsoas_decile_1_2",
    "share_pop_decile_1_2",
)


def national_percentile(rank: pd.Series | np.ndarray, n_national: int) -> np.ndarray:
    """Return the national percentile of LSOA ranks, 1 (most deprived 1%) to 100.

    Percentile ``p`` holds ranks up to ``floor(n_national * p / 100)``, the rule
    MHCLG's published deciles follow (decile 1 of IoD2019 is ranks 1 to 3,284).
    """
    return np.ceil(np.asarray(rank, dtype="float64") * 100.0 / n_national).clip(1, 100)


def extent_weight(rank: pd.Series | np.ndarray, n_national: int) -> np.ndarray:
    """Return the weight of each LSOA's population in the extent measure.

    1 in the most deprived 10% nationally; 0.95 at the 11th percentile falling
    by 0.9 / 19 per percentile to 0.05 at the 30th; 0 beyond.
    """
    pct = national_percentile(rank, n_national)
    sliding = 0.95 - (0.9 / 19.0) * (pct - 11.0)
    return np.where(pct <= 10, 1.0, np.where(pct <= 30, sliding, 0.0))


def resolve_n_national(deprivation: pd.DataFrame, n_national: int | None) -> int:
    """Return the number of LSOAs ranked nationally: ``n_national``, else the table's edition.

    The edition is read from ``attrs`` (``n_national``, then ``lsoa_vintage``), else told from the
    LSOA codes and ranks; where they cannot tell, IoD2025 is assumed with a warning.
    """
    if n_national is not None:
        return int(n_national)
    if deprivation.attrs.get("n_national"):
        return int(deprivation.attrs["n_national"])
    vintage = deprivation.attrs.get("lsoa_vintage")
    if vintage in _N_BY_VINTAGE:
        return _N_BY_VINTAGE[vintage]
    numbers = pd.to_numeric(deprivation["lsoa_code"].astype(str).str[3:], errors="coerce")
    ranks = deprivation["imd_rank"] if "imd_rank" in deprivation else pd.Series(dtype="float64")
    if (numbers > _LAST_2011_LSOA).any() or (ranks > _N_BY_VINTAGE[2011]).any():
        return _N_BY_VINTAGE[2021]
    warnings.warn(
        "The deprivation table does not say which edition it is; ranks were read as IoD2025 (33,755 LSOAs). "
        "For IoD2019, use the file as published: its 'LSOA code (2011)' header tells the edition.",
        AssetMapWarning,
        stacklevel=3,
    )
    return _N_BY_VINTAGE[2021]


def _require_population_column(frame: pd.DataFrame) -> None:
    if "population" not in frame:
        raise ValidationError(
            Problem(
                "the deprivation table has no population column, which population-weighted summaries need.",
                field="population",
                fix="Read the IoD file with population= (the File 6 of the same edition), or use File 7, which has it.",
            )
        )


def _check_population(frame: pd.DataFrame) -> None:
    pop = pd.to_numeric(frame["population"], errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        codes = frame.loc[bad, "lsoa_code"].astype(str).tolist()
        raise ValidationError(
            Problem(
                f"{len(codes)} LSOAs have no usable population: {', '.join(codes[:20])}"
                f"{', ...' if len(codes) > 20 else ''}.",
                field="population",
                fix="Give the population file (File 6) of the same edition as the deprivation file, so every LSOA has one.",
            )
        )


def check_lookup(lookup: pd.DataFrame) -> pd.DataFrame:
    """Return the lookup as ``lsoa_code``, ``area_code`` and ``weight`` (1 when absent), checked.

    Raises
    ------
    ValidationError
        A missing code column, weights missing or outside 0-1, or an LSOA's weights adding up to more than 1.
    """
    missing = [c for c in ("lsoa_code", "area_code") if c not in lookup]
    if missing:
        raise ValidationError(
            Problem(
                f"the lookup has no {' or '.join(missing)} column (it has {list(lookup.columns)}).",
                fix="Give a lookup with lsoa_code, area_code and optionally weight (read_lookup returns one).",
            )
        )
    out = pd.DataFrame(
        {
            "lsoa_code": lookup["lsoa_code"].astype(str).to_numpy(),
            "area_code": lookup["area_code"].astype(str).to_numpy(),
            "weight": pd.to_numeric(lookup["weight"], errors="coerce").to_numpy() if "weight" in lookup else 1.0,
        }
    )
    bad = out["weight"].isna() | (out["weight"] < 0) | (out["weight"] > 1 + 1e-9)
    if bad.any():
        rows = out.loc[bad, ["lsoa_code", "area_code"]].head(5).to_numpy().tolist()
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} lookup weights are missing or outside 0-1 (e.g. LSOA/area {rows}).",
                field="weight",
                fix="A weight is the share of the LSOA's population in the area, from 0 to 1.",
            )
        )
    total = out.groupby("lsoa_code")["weight"].sum()
    over = total[total > 1 + 1e-6]
    if len(over):
        raise ValidationError(
            Problem(
                f"the weights of {len(over)} LSOAs add up to more than 1 (e.g. {', '.join(over.index[:5])}), so "
                "their population would be counted twice.",
                field="weight",
                fix="Give each LSOA's shares so that they add up to 1 at most (drop duplicate lookup rows).",
            )
        )
    return out


def summarise_deprivation(
    deprivation: pd.DataFrame,
    lookup: pd.DataFrame | None = None,
    *,
    by: str = "area",
    names: pd.DataFrame | None = None,
    n_national: int | None = None,
) -> pd.DataFrame:
    """Summarise LSOA deprivation for areas (wards, neighbourhoods) or local authorities.

    Parameters
    ----------
    deprivation : DataFrame
        One row per LSOA in the canonical columns of
        :func:`assetmap.io.deprivation.read_deprivation`: ``lsoa_code``,
        ``population`` and any of ``imd_score``, ``imd_rank``, ``imd_decile``,
        ``<domain>_score``; ``lad_code`` (and ``lad_name``) for ``by="lad"``.
    lookup : DataFrame, optional
        For ``by="area"``: ``lsoa_code``, ``area_code`` and optionally
        ``weight``, the share of the LSOA's population in the area (1 when
        absent). LSOAs without a deprivation row are left out, as are
        deprivation rows the lookup does not place.
    by : {"area", "lad"}
        Summarise by the lookup's areas, or by local authority district.
    names : DataFrame, optional
        ``code`` and ``name`` of the areas, for the ``name`` column.
    n_national : int, optional
        Number of LSOAs in England the ranks run over (32,844 for IoD2019,
        33,755 for IoD2025); by default ``deprivation.attrs['n_national']``.

    Returns
    -------
    DataFrame
        One row per area, sorted by ``code``: ``code``, ``name``,
        ``population``, ``n_lsoas`` (LSOAs wholly or partly in the area),
        ``avg_score``, ``avg_rank`` (reversed ranks: higher is more deprived,
        as MHCLG publishes), ``avg_rank_where_1_most_deprived``,
        ``prop_lsoas_most_deprived_10pct``, ``extent``,
        ``local_concentration``, ``share_lsoas_decile_1_2``,
        ``share_pop_decile_1_2``, then ``<domain>_score`` (population-weighted)
        for each domain score present. Measures whose inputs the table lacks
        (scores in File 1, say) are NaN.

    Raises
    ------
    ValidationError
        When a population is missing, the lookup is unusable, or ``by`` needs a column the table lacks.

    Notes
    -----
    Pure function: the inputs are not changed. See the module docstring for
    the definitions; they reproduce MHCLG's File 10 for local authorities.
    """
    if by not in ("area", "lad"):
        raise ValueError(f"by must be 'area' or 'lad', not {by!r}.")
    _check_lsoa_rows(deprivation)
    n = resolve_n_national(deprivation, n_national)
    present = [c for c in ("imd_score", "imd_rank", "imd_decile") if c in deprivation]
    domains = [f"{k}_score" for k in DOMAIN_KEYS if f"{k}_score" in deprivation]
    figures = ["population", *present, *domains]
    if by == "lad":
        rows, names = _rows_by_lad(deprivation, figures, names)
    else:
        rows = _rows_by_area(deprivation, lookup, figures)
    _check_population(rows)
    return _summarise_rows(rows, n, present, domains, names)


def _check_lsoa_rows(deprivation: pd.DataFrame) -> None:
    """Check that the table has one row per LSOA, each with a population column to read."""
    if "lsoa_code" not in deprivation:
        raise ValidationError(
            Problem(
                "the deprivation table has no lsoa_code column.",
                field="lsoa_code",
                fix="Read it with assetmap.io.deprivation.read_deprivation.",
            )
        )
    dup = deprivation["lsoa_code"].duplicated()
    if dup.any():
        raise ValidationError(
            Problem(
                f"{int(dup.sum())} LSOA codes appear more than once (e.g. {deprivation.loc[dup, 'lsoa_code'].iloc[0]}).",
                field="lsoa_code",
                fix="Keep one row per LSOA.",
            )
        )
    _require_population_column(deprivation)


def _rows_by_lad(
    deprivation: pd.DataFrame, figures: list[str], names: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return one row per LSOA in its local authority (weight 1), and the authorities' names."""
    if "lad_code" not in deprivation:
        raise ValidationError(
            Problem(
                "the deprivation table has no local authority code (lad_code) to group by.",
                field="lad_code",
                fix="Use a file with the 'Local Authority District code' column, or summarise by='area' with a lookup.",
            )
        )
    rows = deprivation[["lsoa_code", "lad_code", *figures]].rename(columns={"lad_code": "area_code"})
    rows = rows.assign(weight=1.0, area_code=rows["area_code"].astype(str))
    if names is None and "lad_name" in deprivation:
        names = (
            deprivation[["lad_code", "lad_name"]]
            .drop_duplicates("lad_code")
            .rename(columns={"lad_code": "code", "lad_name": "name"})
        )
    return rows, names


def _rows_by_area(deprivation: pd.DataFrame, lookup: pd.DataFrame | None, figures: list[str]) -> pd.DataFrame:
    """Return one row per (LSOA, area) of the lookup, with the LSOA's share ``weight`` and its figures."""
    if lookup is None:
        raise ValidationError(
            Problem(
                "summarising by area needs a lookup of LSOAs to areas.",
                fix="Pass lookup= (lsoa_code, area_code, weight), e.g. from read_lookup or lookup_from_geometry; "
                "or use by='lad'.",
            )
        )
    table = check_lookup(lookup)
    dep = deprivation[["lsoa_code", *figures]].assign(lsoa_code=deprivation["lsoa_code"].astype(str))
    return table.merge(dep, on="lsoa_code", how="inner", validate="many_to_one")


def _summarise_rows(
    rows: pd.DataFrame, n: int, present: list[str], domains: list[str], names: pd.DataFrame | None
) -> pd.DataFrame:
    """Compute every measure from one row per (LSOA, area) with ``weight`` and ``population``."""
    w = rows["weight"].to_numpy(dtype="float64")
    pop = rows["population"].to_numpy(dtype="float64") * w
    area = rows["area_code"].to_numpy()
    cols: dict[str, np.ndarray] = {"pop": pop, "lsoa_w": w, "lsoa_any": (w > 0).astype("float64")}

    rank = rows["imd_rank"].to_numpy(dtype="float64") if "imd_rank" in present else None
    if "imd_decile" in present:
        decile = rows["imd_decile"].to_numpy(dtype="float64")
    elif rank is not None:
        decile = np.ceil(national_percentile(rank, n) / 10.0)
    else:
        decile = None
    if "imd_score" in present:
        cols["score_p"] = rows["imd_score"].to_numpy(dtype="float64") * pop
    if rank is not None:
        reversed_rank = n + 1.0 - rank
        cols["rev_p"] = reversed_rank * pop
        cols["rank_p"] = rank * pop
        cols["extent_p"] = extent_weight(rank, n) * pop
    if decile is not None:
        cols["d1_w"] = (decile == 1) * w
        cols["d12_w"] = (decile <= 2) * w
        cols["d12_p"] = (decile <= 2) * pop
    for col in domains:
        cols[f"{col}_p"] = rows[col].to_numpy(dtype="float64") * pop

    sums = pd.DataFrame(cols).groupby(area, sort=True).sum()
    total = sums["pop"]
    # An area of no population has no averages; division gives NaN rather than an error.
    with np.errstate(divide="ignore", invalid="ignore"):
        per_pop = sums.div(total.where(total > 0), axis=0)
        per_lsoa = sums.div(sums["lsoa_w"].where(sums["lsoa_w"] > 0), axis=0)

    nan = pd.Series(np.nan, index=sums.index)
    out = pd.DataFrame(
        {
            "code": sums.index.astype(str),
            "population": total.to_numpy(),
            "n_lsoas": sums["lsoa_any"].round().astype("int64").to_numpy(),
            "avg_score": per_pop.get("score_p", nan).to_numpy(),
            "avg_rank": per_pop.get("rev_p", nan).to_numpy(),
            "avg_rank_where_1_most_deprived": per_pop.get("rank_p", nan).to_numpy(),
            "prop_lsoas_most_deprived_10pct": per_lsoa.get("d1_w", nan).to_numpy(),
            "extent": per_pop.get("extent_p", nan).to_numpy(),
            "local_concentration": (
                _local_concentration(area, rank, pop, n).reindex(sums.index).to_numpy() if rank is not None else np.nan
            ),
            "share_lsoas_decile_1_2": per_lsoa.get("d12_w", nan).to_numpy(),
            "share_pop_decile_1_2": per_pop.get("d12_p", nan).to_numpy(),
        }
    )
    for col in domains:
        out[col] = per_pop[f"{col}_p"].to_numpy()
    if names is not None and {"code", "name"} <= set(names.columns):
        by_code = names.assign(code=names["code"].astype(str)).drop_duplicates("code").set_index("code")["name"]
        out.insert(1, "name", out["code"].map(by_code))
    else:
        out.insert(1, "name", pd.Series([None] * len(out), dtype=object))
    return out.reset_index(drop=True)


def _local_concentration(area: np.ndarray, rank: np.ndarray, pop: np.ndarray, n: int) -> pd.Series:
    """Population-weighted mean reversed rank of each area's most deprived LSOAs holding 10% of its people."""
    frame = pd.DataFrame({"area": area, "rank": rank, "pop": pop})
    # Most deprived first within each area; ties (one LSOA cut into parts) keep their order.
    frame = frame.sort_values(["area", "rank"], kind="stable")
    total = frame.groupby("area", sort=False)["pop"].transform("sum")
    before = frame.groupby("area", sort=False)["pop"].cumsum() - frame["pop"]
    # Each LSOA counts for the part of its population still needed to reach 10%; the last one partly.
    take = (0.1 * total - before).clip(lower=0).clip(upper=frame["pop"])
    frame = frame.assign(take=take, rev_take=(n + 1.0 - frame["rank"]) * take)
    sums = frame.groupby("area", sort=True)[["take", "rev_take"]].sum()
    return sums["rev_take"] / sums["take"].where(sums["take"] > 0)


def local_authority_summary(deprivation: pd.DataFrame, *, n_national: int | None = None) -> pd.DataFrame:
    """Summarise deprivation per local authority district, as MHCLG's File 10 does.

    Shortcut for ``summarise_deprivation(deprivation, by="lad")``; see
    :func:`summarise_deprivation` for the columns.
    """
    return summarise_deprivation(deprivation, by="lad", n_national=n_national)
