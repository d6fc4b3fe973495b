"""Grants attached to an area's wards and small areas: who was funded where."""

from __future__ import annotations

from typing import Any

import pandas as pd

from assetmap.area.load import Area
from assetmap.io.grants import FUNDING_COLUMNS, LSOA_CODE, WARD_CODE, read_grants


def attach_grants(grants: pd.DataFrame, area: Area) -> pd.DataFrame:
    """Place each grant in the area's wards (see the module note for the order of methods).

    Parameters
    ----------
    grants : DataFrame
        From :func:`read_grants`.
    area : Area
        The area: its ward codes, LSOA lookup and postcode lookup are used.

    Returns
    -------
    DataFrame
        One row per grant and ward it reaches: ``grant_id``, ``area_code`` (None for a
        grant not placed in the area), ``amount`` (its share), ``method`` (``ward code``,
        ``LSOA code``, ``postcode`` or ``not placed``).
    """
    from assetmap.record import normalise_postcode

    wards = set(area.boundaries["code"])
    lookup = area.lookup.groupby("lsoa_code")
    lsoa_wards = {code: list(zip(g["area_code"], g["weight"], strict=True)) for code, g in lookup}
    postcode_lsoa: dict[str, str] = {}
    if area.postcodes is not None and "lsoa_code" in area.postcodes:
        live = area.postcodes
        if "terminated" in live:
            live = live[~live["terminated"].fillna(False).astype(bool)]
        postcode_lsoa = dict(zip(live["postcode"], live["lsoa_code"], strict=True))
    out: list[dict[str, Any]] = []
    for grant in grants.to_dict("records"):
        shares: dict[str, float] = {}
        method = "not placed"
        in_wards = [c for c, t in grant["locations"] if (t == "WD" or WARD_CODE.match(c)) and c in wards]
        in_lsoas = [c for c, t in grant["locations"] if (t in ("LSOA", "") or LSOA_CODE.match(c)) and c in lsoa_wards]
        if in_wards:
            method = "ward code"
            for c in dict.fromkeys(in_wards):
                shares[c] = shares.get(c, 0.0) + 1.0 / len(set(in_wards))
        elif in_lsoas:
            method = "LSOA code"
            unique = list(dict.fromkeys(in_lsoas))
            for lsoa in unique:
                for ward, weight in lsoa_wards[lsoa]:
                    shares[ward] = shares.get(ward, 0.0) + float(weight) / len(unique)
        else:
            postcode = normalise_postcode(grant["recipient_postcode"]) if grant["recipient_postcode"] else None
            lsoa = postcode_lsoa.get(postcode) if postcode else None
            if lsoa in lsoa_wards:
                method = "postcode"
                for ward, weight in lsoa_wards[lsoa]:
                    shares[ward] = shares.get(ward, 0.0) + float(weight)
        if not shares:
            out.append({"grant_id": grant["grant_id"], "area_code": None, "amount": grant["amount"], "method": method})
        for ward, share in shares.items():
            out.append(
                {"grant_id": grant["grant_id"], "area_code": ward, "amount": grant["amount"] * share, "method": method}
            )
    return pd.DataFrame(out, columns=["grant_id", "area_code", "amount", "method"])


def funding_by_area(attached: pd.DataFrame, area: Area) -> pd.DataFrame:
    """Total funding per ward, and per 1,000 residents.

    Parameters
    ----------
    attached : DataFrame
        From :func:`attach_grants`.
    area : Area
        The area (its wards, and the population of its LSOAs through the lookup).

    Returns
    -------
    DataFrame
        :data:`FUNDING_COLUMNS`, one row per ward (zero where no grant reaches it).
    """
    pop = area.deprivation.set_index("lsoa_code")["population"]
    lookup = area.lookup
    residents = (lookup["lsoa_code"].map(pop).fillna(0) * lookup["weight"]).groupby(lookup["area_code"]).sum()
    placed = attached[attached["area_code"].notna()]
    funding = placed.groupby("area_code")["amount"].sum()
    counts = placed.groupby("area_code")["grant_id"].nunique()
    out = pd.DataFrame({"code": area.boundaries["code"].to_numpy(), "name": area.boundaries["name"].to_numpy()})
    out["n_grants"] = out["code"].map(counts).fillna(0).astype(int)
    out["funding"] = out["code"].map(funding).fillna(0.0)
    out["population"] = out["code"].map(residents).fillna(0.0)
    out["funding_per_1000"] = (out["funding"] / out["population"].where(out["population"] > 0) * 1000).astype(float)
    return out[list(FUNDING_COLUMNS)]


def area_funding(area: Area) -> pd.DataFrame | None:
    """Funding per ward from the area's grants layer (cached on the area); None where it has none."""
    path = getattr(area, "grants_path", None)
    if path is None:
        return None
    table = area.memo("grant_funding", lambda: funding_by_area(attach_grants(read_grants(path), area), area))
    return table.copy()
