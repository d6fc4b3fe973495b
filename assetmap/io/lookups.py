"""Published LSOA-to-area lookups (ONS best-fit files and councils' own)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from assetmap._errors import DataFormatError, Problem, ValidationError
from assetmap.io._read import read_table

_LSOA_COL = (r"^LSOA\d{2}CD$", r"^lsoa\d{2}_?code$", r"^lsoa_?code$", r"^lsoa$")
_AREA_COL = (
    r"^WD\d{2}CD$",
    r"^ward\d{2}_?code$",
    r"^ward_?code$",
    r"^area_?code$",
    r"^(neighbourhood|nbhd)_?code$",
    r"^MSOA\d{2}CD$",
    r"^code$",
)


def best_fit_lookup_title(lsoa_vintage: int | None, ward_year: int | None) -> str:
    """Name the ONS best-fit LSOA-to-ward lookup to get for LSOAs of ``lsoa_vintage`` and wards of ``ward_year``.

    ONS publishes one for each year's wards on the Open Geography Portal, titled like
    'LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW'.
    """
    lsoa = lsoa_vintage or 2021
    if ward_year:
        return (
            f"the ONS best-fit LSOA {lsoa} to ward lookup of {ward_year} ('LSOA ({lsoa}) to Electoral Ward "
            f"({ward_year}) to LAD ({ward_year}) Best Fit Lookup in EW', ONS Open Geography Portal)"
        )
    return (
        f"the ONS best-fit LSOA {lsoa} to ward lookup of the same year as your ward boundaries ('LSOA ({lsoa}) "
        "to Electoral Ward (YYYY) to LAD (YYYY) Best Fit Lookup in EW', ONS Open Geography Portal)"
    )


def _find(columns: list[str], patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        for col in columns:
            if re.match(pattern, col.strip(), flags=re.IGNORECASE):
                return col
    return None


def read_lookup(path: str | Path, *, lsoa_col: str | None = None, area_col: str | None = None) -> pd.DataFrame:
    """Read an LSOA-to-area lookup into ``lsoa_code``, ``area_code``, ``weight``.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX, such as ONS's ``LSOA21_WD24_LAD24`` best-fit lookup.
    lsoa_col, area_col : str, optional
        Column names, detected when omitted (``LSOA21CD``, ``lsoa21_code``, ``WD24CD``, ``ward24_code``...).
        A ``weight`` column (share of the LSOA's population in the area) is used where present.

    Returns
    -------
    DataFrame
        One row per LSOA and area; ``weight`` 1 for best-fit lookups.
    """
    path = Path(path)
    raw = read_table(path)
    cols = list(raw.columns)
    lsoa_col = lsoa_col or _find(cols, _LSOA_COL)
    area_col = area_col or _find(cols, _AREA_COL)
    for col, what in ((lsoa_col, "lsoa_col"), (area_col, "area_col")):
        if col is None:
            raise DataFormatError(
                f"{path.name}: cannot tell which column holds the {'LSOA' if what == 'lsoa_col' else 'area'} codes "
                f"among {cols}. Name it with {what}=."
            )
        if col not in cols:
            raise DataFormatError(f"{path.name}: no column '{col}' (given as {what}). The columns are {cols}.")
    weight_col = _find(cols, (r"^weight$", r"^share$", r"^pop_?share$"))
    out = pd.DataFrame(
        {
            "lsoa_code": raw[lsoa_col].astype("string").str.strip(),
            "area_code": raw[area_col].astype("string").str.strip(),
            "weight": pd.to_numeric(raw[weight_col], errors="coerce") if weight_col else 1.0,
        }
    )
    blank = out["lsoa_code"].isna() | out["area_code"].isna()
    if blank.any():
        rows = (out.index[blank] + 2).tolist()[:20]
        raise ValidationError(
            Problem(
                f"blank LSOA or area codes on rows {rows}.", file=path.name, fix="Fill them in or delete those rows."
            )
        )
    if out["weight"].isna().any():
        rows = (out.index[out["weight"].isna()] + 2).tolist()[:20]
        raise ValidationError(
            Problem(
                f"weights that are not numbers on rows {rows}.",
                file=path.name,
                field=weight_col,
                fix="Weights are shares between 0 and 1.",
            )
        )
    out = out.drop_duplicates(["lsoa_code", "area_code"])
    out["method"] = "lookup"
    out.attrs.update(source=path.name, lsoa_col=lsoa_col, area_col=area_col)
    return out.reset_index(drop=True)
