"""360Giving grants as an overlay: who funds what where, per ward and per 1,000 residents.

A 360Giving file (the flattened CSV or the JSON package) lists grants with an
amount, a recipient organisation (with a postcode) and beneficiary locations
(``geoCode`` with ``geoCodeType``: ``WD`` ward, ``LSOA``...). Each grant is placed
in the area's wards by, in turn,

1. ward codes among its beneficiary locations (the amount split evenly between them);
2. LSOA codes among them (split evenly, then by the lookup's population weights);
3. the recipient's postcode, through the area's postcode lookup.

Grants placed by none of these are outside the area, or cannot be placed, and are
counted as such. Keep a grants file in an area with ``assetmap import-grants``: it
becomes the area's ``[layers.grants]`` and the Gaps page shows funding beside need
and provision.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from assetmap._errors import DataFormatError
from assetmap.io._read import read_json, read_table, sniff_format

#: Columns of the table :func:`read_grants` returns.
GRANT_COLUMNS: tuple[str, ...] = (
    "grant_id",
    "title",
    "amount",
    "currency",
    "award_date",
    "recipient",
    "recipient_postcode",
    "funder",
    "locations",
)

#: Columns of the table :func:`funding_by_area` returns.
FUNDING_COLUMNS: tuple[str, ...] = ("code", "name", "n_grants", "funding", "population", "funding_per_1000")

WARD_CODE = re.compile(r"^[EWSN]05\d{6}$")
LSOA_CODE = re.compile(r"^[EW]0[10]\d{6}$")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9:]+", " ", text.lower()).strip()


def _amount(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    try:
        return float(str(value).replace(",", "").replace("£", "").strip())
    except ValueError:
        return None


def _from_json(data: Any) -> list[dict[str, Any]]:
    grants = data.get("grants") if isinstance(data, dict) else data
    if not isinstance(grants, list):
        raise DataFormatError("not a 360Giving JSON package: no 'grants' list.")
    rows = []
    for grant in grants:
        if not isinstance(grant, dict):
            continue
        recipient: dict[str, Any] = next(iter(grant.get("recipientOrganization") or [{}]), {}) or {}
        funder: dict[str, Any] = next(iter(grant.get("fundingOrganization") or [{}]), {}) or {}
        rows.append(
            {
                "grant_id": grant.get("id"),
                "title": grant.get("title"),
                "amount": _amount(grant.get("amountAwarded")),
                "currency": grant.get("currency"),
                "award_date": grant.get("awardDate"),
                "recipient": recipient.get("name"),
                "recipient_postcode": recipient.get("postalCode"),
                "funder": funder.get("name"),
                "locations": [
                    (str(loc.get("geoCode") or "").strip(), str(loc.get("geoCodeType") or "").strip().upper())
                    for loc in grant.get("beneficiaryLocation") or []
                    if isinstance(loc, dict) and loc.get("geoCode")
                ],
            }
        )
    return rows


def _from_csv(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {_key(c): c for c in frame.columns}

    def col(*names: str) -> str | None:
        return next((columns[n] for n in names if n in columns), None)

    ident, amount = col("identifier"), col("amount awarded")
    if ident is None or amount is None:
        raise DataFormatError(
            "not a 360Giving CSV: it needs the columns 'Identifier' and 'Amount Awarded' "
            "(as the 360Giving spreadsheet template writes them)."
        )
    # "Beneficiary Location:Geographic Code", or numbered: "Beneficiary Location:0:Geographic Code".
    code_cols = [
        c for c in frame.columns if re.fullmatch(r"beneficiary location:(\d+:)?geographic code", c.strip().lower())
    ]
    type_cols = {c.strip().lower(): c for c in frame.columns}
    rows = []
    for record in frame.to_dict("records"):
        locations = []
        for c in code_cols:
            code = record.get(c)
            if isinstance(code, str) and code.strip():
                type_col = type_cols.get(f"{c.strip().lower()} type")
                kind = record.get(type_col) if type_col else None
                locations.append((code.strip(), str(kind or "").strip().upper()))
        rows.append(
            {
                "grant_id": record.get(ident),
                "title": record.get(col("title")) if col("title") else None,
                "amount": _amount(record.get(amount)),
                "currency": record.get(col("currency")) if col("currency") else None,
                "award_date": record.get(col("award date")) if col("award date") else None,
                "recipient": record.get(col("recipient org:name")) if col("recipient org:name") else None,
                "recipient_postcode": record.get(col("recipient org:postal code"))
                if col("recipient org:postal code")
                else None,
                "funder": record.get(col("funding org:name", "funding org:0:name"))
                if col("funding org:name", "funding org:0:name")
                else None,
                "locations": locations,
            }
        )
    return rows


def read_grants(path: str | Path) -> pd.DataFrame:
    """Read a 360Giving file (CSV or JSON package) into one row per grant.

    Returns
    -------
    DataFrame
        :data:`GRANT_COLUMNS`; ``locations`` is a list of (geoCode, geoCodeType) pairs,
        ``amount`` a float (grants without a readable amount are refused).

    Raises
    ------
    DataFormatError
        Not a 360Giving file, or grants without an identifier or amount (named).
    """
    path = Path(path)
    try:
        # The shared readers: missing and empty files, encodings, nesting and size limits are checked there.
        fmt = sniff_format(path)
        if fmt == "geojson":  # JSON of any kind, by its first character
            rows = _from_json(read_json(path))
        elif fmt == "csv":
            rows = _from_csv(read_table(path).fillna(""))
        else:
            raise DataFormatError(f"{path.name}: a {fmt} file. Give the grants as 360Giving CSV or JSON.")
    except DataFormatError as exc:
        text = str(exc)
        raise DataFormatError(text if path.name in text else f"{path.name}: {text}") from exc
    if not rows:
        raise DataFormatError(
            f"{path.name}: no grants in the file. Export the grants again from 360Giving GrantNav or the funder."
        )
    frame = pd.DataFrame(rows, columns=list(GRANT_COLUMNS))
    bad = frame["grant_id"].isna() | frame["grant_id"].astype(str).str.strip().eq("") | frame["amount"].isna()
    if bad.any():
        shown = ", ".join(str(v) for v in frame.loc[bad, "grant_id"].head(5))
        raise DataFormatError(
            f"{path.name}: {int(bad.sum())} grants have no identifier or no amount ({shown}). "
            "Every 360Giving grant needs an Identifier and an Amount Awarded."
        )
    return frame
