"""A ward profile: one ward's deprivation, LSOAs, assets and coverage beside the whole area's.

Pure functions over an area's tables (they read nothing from disk and never
change their inputs), for the Ward profile page, the print pack and notebooks:

- :func:`deprivation_facts`: population, IMD score, national percentile and decile, share of
  residents in deciles 1-2 and LSOA count, for the ward and for the whole area;
- :func:`domain_comparison`: the population-weighted score of each deprivation domain, and the
  share of residents in the domain's most deprived 20% of LSOAs nationally, ward beside whole area;
- :func:`ward_lsoas`: the ward's LSOAs with their population and IMD figures;
- :func:`ward_assets`: the approved assets in the ward, one row per pillar each serves, with
  sensitive locations generalised and no private field;
- :func:`ward_coverage`: the ward's rows of a gap table beside the whole area's;
- :func:`profile_table`: the facts, domains and coverage in one long table, for download.

"Whole area" means every resident the lookup places in some ward, as in the
whole-area rows of :func:`assetmap.analysis.gaps.gap_table`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from assetmap.analysis.deprivation import DOMAIN_KEYS, check_lookup, summarise_deprivation
from assetmap.analysis.gaps import need_percentile
from assetmap.analysis.groups import group_keys
from assetmap.record import public_records, sensitive_mask
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Words for the IMD and each domain, keyed as in :data:`assetmap.analysis.deprivation.DOMAIN_KEYS`.
DOMAIN_LABELS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation (overall)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health deprivation and disability",
    "crime": "Crime",
    "housing": "Barriers to housing and services",
    "environment": "Living environment",
    "idaci": "Income deprivation affecting children (IDACI)",
    "idaopi": "Income deprivation affecting older people (IDAOPI)",
}

#: Domains whose score is a rate (the share of residents deprived), shown as a percentage.
RATE_DOMAINS: tuple[str, ...] = ("income", "employment", "idaci", "idaopi")

#: Measures of :func:`deprivation_facts`, in order, with their words.
FACT_LABELS: dict[str, str] = {
    "population": "Residents",
    "n_lsoas": "LSOAs (wholly or partly inside)",
    "avg_score": "IMD score, population-weighted (higher is more deprived)",
    "need_percentile": "National percentile of that score (100 is most deprived)",
    "national_decile": "National decile of that score (1 is the most deprived 10%)",
    "share_pop_decile_1_2": "Residents in the 20% most deprived LSOAs nationally",
}

#: Text shown instead of the address of an asset whose location is sensitive.
SENSITIVE_ADDRESS: str = "Not shown: sensitive location"

#: Columns of :func:`ward_assets`, in order.
ASSET_COLUMNS: tuple[str, ...] = (
    "pillar",
    "pillar_name",
    "asset_id",
    "name",
    "type",
    "elements",
    "status",
    "stale",
    "last_confirmed",
    "address",
    "sensitive",
)

#: Column of the whole area in :func:`deprivation_facts` and the code of its rows.
_WHOLE = "__whole_area__"


def _ward_lookup(lookup: pd.DataFrame, code: str) -> pd.DataFrame:
    table = check_lookup(lookup)
    return table[table["area_code"].eq(str(code))]


def _whole_lookup(lookup: pd.DataFrame) -> pd.DataFrame:
    """Return one row per LSOA for the whole area, with its shares in every ward added up."""
    table = check_lookup(lookup)
    whole = table.groupby("lsoa_code", as_index=False, sort=True)["weight"].sum()
    # Rounding can push a sum of shares just over 1; the LSOA is then wholly in the area.
    return whole.assign(area_code=_WHOLE, weight=whole["weight"].clip(upper=1.0))


def _summary_row(deprivation: pd.DataFrame, lookup: pd.DataFrame, n_national: int | None) -> pd.Series:
    summary = summarise_deprivation(deprivation, lookup, n_national=n_national)
    if len(summary):
        return summary.iloc[0]
    # No LSOA of the file lies in the ward: every measure is unknown and nobody lives there.
    return pd.Series({"population": 0.0, "n_lsoas": 0}, dtype="float64")


def national_decile(percentile: float | np.ndarray) -> float | np.ndarray:
    """Return the national decile (1 = most deprived 10%) of a need percentile (100 = most deprived).

    Parameters
    ----------
    percentile : float or ndarray
        From :func:`assetmap.analysis.gaps.need_percentile`; NaN stays NaN.

    Returns
    -------
    float or ndarray
        1 to 10.
    """
    p = np.asarray(percentile, dtype="float64")
    out = np.clip(np.ceil((100.0 - p) / 10.0), 1.0, 10.0)
    return float(out) if out.ndim == 0 else out


def deprivation_facts(
    deprivation: pd.DataFrame, lookup: pd.DataFrame, code: str, *, n_national: int | None = None
) -> pd.DataFrame:
    """Return the headline deprivation facts of one ward beside those of the whole area.

    Parameters
    ----------
    deprivation : DataFrame
        One row per LSOA (``lsoa_code``, ``population``, and any of ``imd_score``, ``imd_rank``,
        ``imd_decile``), as :func:`assetmap.io.deprivation.read_deprivation` returns.
    lookup : DataFrame
        LSOA to ward: ``lsoa_code``, ``area_code``, optionally ``weight`` (share of the LSOA's
        population in the ward).
    code : str
        The ward's code.
    n_national : int, optional
        Number of LSOAs ranked nationally (default from ``deprivation.attrs``).

    Returns
    -------
    DataFrame
        Indexed by measure (the keys of :data:`FACT_LABELS`): ``measure`` (words), ``ward`` and
        ``whole_area``. The percentile places the population-weighted score among England's LSOAs
        with :func:`~assetmap.analysis.gaps.need_percentile`, as the gap table does. NaN where the
        file lacks the inputs (no scores, ranks or deciles) or the ward has no LSOA.

    Raises
    ------
    ValidationError
        When the deprivation table has no ``lsoa_code`` or population, or the lookup is unusable.
    """
    ward = _summary_row(deprivation, _ward_lookup(lookup, code), n_national)
    whole = _summary_row(deprivation, _whole_lookup(lookup), n_national)
    nan = np.nan
    scores = np.array([ward.get("avg_score", nan), whole.get("avg_score", nan)], dtype="float64")
    ranks = np.array(
        [ward.get("avg_rank_where_1_most_deprived", nan), whole.get("avg_rank_where_1_most_deprived", nan)],
        dtype="float64",
    )
    if np.isfinite(scores).any() or np.isfinite(ranks).any():
        percentile = need_percentile(scores, deprivation, ranks=ranks, n_national=n_national)
    else:
        percentile = np.full(2, nan)
    values: dict[str, Any] = {
        "population": [ward.get("population", nan), whole.get("population", nan)],
        "n_lsoas": [ward.get("n_lsoas", nan), whole.get("n_lsoas", nan)],
        "avg_score": scores,
        "need_percentile": percentile,
        "national_decile": national_decile(percentile),
        "share_pop_decile_1_2": [ward.get("share_pop_decile_1_2", nan), whole.get("share_pop_decile_1_2", nan)],
    }
    out = pd.DataFrame(
        {
            "measure": list(FACT_LABELS.values()),
            "ward": [float(v[0]) for v in values.values()],
            "whole_area": [float(v[1]) for v in values.values()],
        },
        index=pd.Index(list(FACT_LABELS), name="key"),
    )
    return out


def _weighted(rows: pd.DataFrame, column: str) -> float:
    pop = rows["population"].to_numpy(dtype="float64") * rows["weight"].to_numpy(dtype="float64")
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")
    known = np.isfinite(values)
    total = pop[known].sum()
    return float((values[known] * pop[known]).sum() / total) if total > 0 else float("nan")


def domain_comparison(deprivation: pd.DataFrame, lookup: pd.DataFrame, code: str) -> pd.DataFrame:
    """Return each deprivation domain for one ward beside the whole area.

    Parameters
    ----------
    deprivation : DataFrame
        One row per LSOA with ``lsoa_code``, ``population`` and any ``<domain>_score`` and
        ``<domain>_decile`` columns (keys in :data:`DOMAIN_LABELS`).
    lookup : DataFrame
        LSOA to ward: ``lsoa_code``, ``area_code``, optionally ``weight``.
    code : str
        The ward's code.

    Returns
    -------
    DataFrame
        One row per domain the table has, the IMD first: ``domain`` (key), ``label``,
        ``rate`` (True where the score is a share of residents), ``ward_score`` and
        ``whole_area_score`` (population-weighted), ``ward_share_decile_1_2`` and
        ``whole_area_share_decile_1_2`` (share of residents in LSOAs in the domain's deciles 1
        and 2 nationally; NaN without deciles). No rows when the table has no domain columns.
    """
    keys = [k for k in ("imd", *DOMAIN_KEYS) if f"{k}_score" in deprivation or f"{k}_decile" in deprivation]
    columns = [
        "domain",
        "label",
        "rate",
        "ward_score",
        "whole_area_score",
        "ward_share_decile_1_2",
        "whole_area_share_decile_1_2",
    ]
    if not keys or "population" not in deprivation or "lsoa_code" not in deprivation:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    measures = [f"{k}_{m}" for k in keys for m in ("score", "decile") if f"{k}_{m}" in deprivation]
    dep = deprivation[["lsoa_code", "population", *measures]].assign(lsoa_code=deprivation["lsoa_code"].astype(str))
    for key in keys:
        if f"{key}_decile" in dep:
            # The population in deciles 1-2 is averaged like a score: 1 in them, 0 outside.
            decile = pd.to_numeric(dep[f"{key}_decile"], errors="coerce")
            dep[f"{key}_low"] = (decile <= 2).astype("float64").where(decile.notna())
    parts = {
        "ward": _ward_lookup(lookup, code).merge(dep, on="lsoa_code"),
        "whole_area": _whole_lookup(lookup).merge(dep, on="lsoa_code"),
    }
    rows = []
    for key in keys:
        row: dict[str, object] = {"domain": key, "label": DOMAIN_LABELS[key], "rate": key in RATE_DOMAINS}
        for where, frame in parts.items():
            row[f"{where}_score"] = _weighted(frame, f"{key}_score") if f"{key}_score" in frame else np.nan
            row[f"{where}_share_decile_1_2"] = _weighted(frame, f"{key}_low") if f"{key}_low" in frame else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def ward_lsoas(
    deprivation: pd.DataFrame, lookup: pd.DataFrame, code: str, names: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the LSOAs of one ward with their residents and IMD figures.

    Parameters
    ----------
    deprivation : DataFrame
        One row per LSOA: ``lsoa_code``, ``population``, and any of ``lsoa_name``, ``imd_score``,
        ``imd_rank``, ``imd_decile``.
    lookup : DataFrame
        LSOA to ward: ``lsoa_code``, ``area_code``, optionally ``weight``.
    code : str
        The ward's code.
    names : DataFrame, optional
        LSOA ``code`` and ``name`` (the small-area boundaries), preferred to ``lsoa_name``.

    Returns
    -------
    DataFrame
        Sorted by IMD rank (most deprived first), then code: ``lsoa_code``, ``lsoa_name``,
        ``share_in_ward`` (the lookup weight), ``population`` (the LSOA's residents counted in the
        ward: its population times the share, so the column adds up to the ward's population),
        ``imd_score``, ``imd_rank``, ``imd_decile`` (NaN where the file lacks them). LSOAs the
        deprivation table does not have are listed with no figures.
    """
    rows = _ward_lookup(lookup, code)[["lsoa_code", "weight"]].rename(columns={"weight": "share_in_ward"})
    wanted = ["lsoa_code", "lsoa_name", "population", "imd_score", "imd_rank", "imd_decile"]
    dep = pd.DataFrame(
        {c: deprivation[c] if c in deprivation else pd.Series(np.nan, index=deprivation.index) for c in wanted}
    ).assign(lsoa_code=deprivation["lsoa_code"].astype(str) if "lsoa_code" in deprivation else None)
    out = rows.merge(dep.drop_duplicates("lsoa_code"), on="lsoa_code", how="left")
    if names is not None and {"code", "name"} <= set(names.columns):
        by_code = names.assign(code=names["code"].astype(str)).drop_duplicates("code").set_index("code")["name"]
        out["lsoa_name"] = out["lsoa_code"].map(by_code).fillna(out["lsoa_name"])
    out["population"] = pd.to_numeric(out["population"], errors="coerce") * out["share_in_ward"]
    out = out.sort_values(["imd_rank", "lsoa_code"], na_position="last", kind="stable")
    columns = ["lsoa_code", "lsoa_name", "share_in_ward", "population", "imd_score", "imd_rank", "imd_decile"]
    return out[columns].reset_index(drop=True)


def _text(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _element_ids(value: object) -> list[int]:
    if isinstance(value, list | tuple | set | np.ndarray):
        items = list(value)
    else:
        items = re.split(r"[;,\s]+", _text(value))
    ids = []
    for item in items:
        text = _text(item).lower().removeprefix("e")
        if text.isdigit():
            ids.append(int(text))
    return sorted(set(ids))


def _pillars(elements: list[int], pillars: object, tax: Taxonomy) -> list[str]:
    if isinstance(pillars, list | tuple) and pillars:
        return [str(p) for p in pillars]
    known = {e.id for e in tax.elements}
    return tax.pillars_of([e for e in elements if e in known])


def ward_assets(
    assets: pd.DataFrame,
    code: str,
    *,
    stale: pd.Series | None = None,
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return the approved assets in one ward, one row for each pillar an asset serves.

    What a public page may list: only approved records; no private field; an asset whose
    location is sensitive keeps its name but not its address or postcode (the public map
    shows it at ward level only), the rule of :func:`assetmap.render.webmap.points_to_draw`.

    Parameters
    ----------
    assets : DataFrame
        The asset register, with ``area_code`` (the ward each lies in, as
        :func:`assetmap.analysis.assign.assign_to_areas` gives), ``name``, ``type``, ``elements``,
        ``status`` and optionally ``pillars``, ``sensitive``, ``last_confirmed``, ``address``,
        ``postcode``.
    code : str
        The ward's code.
    stale : Series of bool, optional
        Index-aligned with ``assets``: True for records not confirmed recently
        (:meth:`assetmap.area.load.Area.stale_mask`).
    taxonomy : Taxonomy, optional
        For type and pillar names (default: the shipped taxonomy).

    Returns
    -------
    DataFrame
        Columns :data:`ASSET_COLUMNS`, in framework order of pillars then by name: ``pillar``
        (key; ``other`` for records serving no known element), ``pillar_name``, ``asset_id``,
        ``name``, ``type`` (the type's label), ``elements`` (named: "4 Active communities; 6 VCSE and volunteering"), ``status`` ("approved" or
        "approved, stale"), ``stale``, ``last_confirmed`` (ISO date or empty), ``address``
        (address and postcode, or :data:`SENSITIVE_ADDRESS`) and ``sensitive``.
    """
    tax = taxonomy or load_taxonomy()
    public = public_records(assets)
    if public is None or "area_code" not in public.columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ASSET_COLUMNS})
    public = public[public["area_code"].astype("string").eq(str(code)).fillna(False).to_numpy()]
    hidden = sensitive_mask(public).to_numpy(dtype=bool)
    late = (
        stale.reindex(public.index).fillna(False).to_numpy(dtype=bool)
        if stale is not None
        else np.zeros(len(public), dtype=bool)
    )
    order = {p.key: i for i, p in enumerate(tax.pillars)}
    names = {p.key: p.name for p in tax.pillars}
    rows = []
    for i, (_, record) in enumerate(public.iterrows()):
        elements = _element_ids(record.get("elements"))
        type_key = _text(record.get("type"))
        try:
            type_label = tax.asset_type(type_key).label
        except KeyError:
            type_label = type_key
        confirmed = pd.to_datetime(record.get("last_confirmed"), errors="coerce")
        address = ", ".join(t for t in (_text(record.get("address")), _text(record.get("postcode"))) if t)
        base = {
            "asset_id": _text(record.get("asset_id")),
            "name": _text(record.get("name")),
            "type": type_label,
            "elements": "; ".join(tax.element(e).short for e in elements),
            "status": "approved, stale" if late[i] else "approved",
            "stale": bool(late[i]),
            "last_confirmed": "" if pd.isna(confirmed) else confirmed.date().isoformat(),
            "address": SENSITIVE_ADDRESS if hidden[i] else address,
            "sensitive": bool(hidden[i]),
        }
        for pillar in _pillars(elements, record.get("pillars"), tax) or ["other"]:
            rows.append({"pillar": pillar, "pillar_name": names.get(pillar, "Other"), **base})
    out = pd.DataFrame(rows, columns=list(ASSET_COLUMNS))
    if len(out):
        rank = out["pillar"].map(order).fillna(len(order))
        out = out.assign(_rank=rank).sort_values(["_rank", "name", "asset_id"], kind="stable").drop(columns="_rank")
    return out.reset_index(drop=True)


def ward_coverage(table: pd.DataFrame, code: str) -> pd.DataFrame:
    """Return one ward's access and gap for every element and pillar, beside the whole area's.

    Parameters
    ----------
    table : DataFrame
        A gap table by ward (:func:`assetmap.analysis.gaps.gap_table`, or
        ``Area.gaps(...).table``) with its whole-area rows.
    code : str
        The ward's code.

    Returns
    -------
    DataFrame
        One row per group in the table, in framework order: ``group``, ``group_label``,
        ``ward_access_share``, ``whole_area_access_share``, ``difference`` (ward minus whole
        area), ``ward_assets`` (approved assets in the ward serving the group), ``gap_index``,
        ``gap_rank`` (1 is the largest gap among the wards) and ``n_ranked`` (wards ranked),
        ``threshold_m`` and ``access_method``. No rows when the ward is not in the table.
    """
    ward = table[table["code"].astype(str).eq(str(code)) & ~table["whole_area"].astype(bool)]
    whole = table[table["whole_area"].astype(bool)].drop_duplicates("group").set_index("group")
    ranked = table[~table["whole_area"].astype(bool)].groupby("group")["gap_rank"].count()
    order = {k: i for i, k in enumerate(group_keys())}
    ward = ward.assign(_order=ward["group"].map(order)).sort_values("_order", kind="stable")
    groups = ward["group"]
    out = pd.DataFrame(
        {
            "group": groups.to_numpy(),
            "group_label": ward["group_label"].to_numpy(),
            "ward_access_share": ward["access_share"].to_numpy(dtype="float64"),
            "whole_area_access_share": groups.map(whole["access_share"]).to_numpy(dtype="float64"),
        }
    )
    out["difference"] = out["ward_access_share"] - out["whole_area_access_share"]
    out["ward_assets"] = ward["n_assets"].to_numpy()
    out["gap_index"] = ward["gap_index"].to_numpy(dtype="float64")
    out["gap_rank"] = pd.array(ward["gap_rank"].to_numpy(), dtype="Int64")
    out["n_ranked"] = groups.map(ranked).fillna(0).astype(int).to_numpy()
    out["threshold_m"] = ward["threshold_m"].to_numpy() if "threshold_m" in ward else np.nan
    out["access_method"] = ward["access_method"].to_numpy() if "access_method" in ward else None
    return out


def profile_table(
    facts: pd.DataFrame | None = None,
    domains: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Put a ward's facts, domains and coverage in one long table, for a CSV or XLSX download.

    Parameters
    ----------
    facts : DataFrame, optional
        :func:`deprivation_facts`.
    domains : DataFrame, optional
        :func:`domain_comparison`.
    coverage : DataFrame, optional
        :func:`ward_coverage`.

    Returns
    -------
    DataFrame
        ``section``, ``measure``, ``ward``, ``whole_area``: one row per fact, two per domain
        (score, and share of residents in deciles 1-2), one per element or pillar (share of
        residents within reach). Shares are fractions (0.25 for 25%); rate domains keep their
        rates.
    """
    columns = ["section", "measure", "ward", "whole_area"]
    rows: list[dict[str, object]] = []
    if facts is not None:
        for fact in facts.itertuples(index=False):
            rows.append(
                {"section": "Deprivation", "measure": fact.measure, "ward": fact.ward, "whole_area": fact.whole_area}
            )
    if domains is not None:
        for d in domains.itertuples(index=False):
            for suffix, words in (
                ("score", "population-weighted score"),
                ("share_decile_1_2", "residents in the most deprived 20% nationally"),
            ):
                ward, whole = getattr(d, f"ward_{suffix}"), getattr(d, f"whole_area_{suffix}")
                if pd.notna(ward) or pd.notna(whole):
                    rows.append(
                        {
                            "section": "Deprivation domains",
                            "measure": f"{d.label}: {words}",
                            "ward": ward,
                            "whole_area": whole,
                        }
                    )
    if coverage is not None:
        for c in coverage.itertuples(index=False):
            within = f"within {c.threshold_m:,.0f} m" if pd.notna(c.threshold_m) else "within reach"
            rows.append(
                {
                    "section": "Coverage",
                    "measure": f"{c.group_label}: residents {within}",
                    "ward": c.ward_access_share,
                    "whole_area": c.whole_area_access_share,
                }
            )
    out = pd.DataFrame(rows, columns=columns)
    out[["ward", "whole_area"]] = out[["ward", "whole_area"]].astype("float64")
    return out
