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


_LAD_COL = (r"^(?:LAD|LTLA)\d{2}CD$", r"^(?:lad|ltla)\d{2}_?code$", r"^(?:lad|ltla)_?code$")
_LAD_NAME_COL = (r"^(?:LAD|LTLA)\d{2}NM$", r"^(?:lad|ltla)\d{2}_?name$", r"^(?:lad|ltla)_?name$")


def _find_lsoa(columns: list[str], lsoa_vintage: int | None) -> str | None:
    """Return the LSOA code column; where there are several (a 2011-to-2021 lookup), the one of ``lsoa_vintage``."""
    matching = [c for c in columns if any(re.match(p, c.strip(), flags=re.IGNORECASE) for p in _LSOA_COL)]
    if lsoa_vintage is not None:
        of_vintage = [c for c in matching if re.search(rf"lsoa{lsoa_vintage % 100}", c, flags=re.IGNORECASE)]
        matching = of_vintage or matching
    return _find(matching, _LSOA_COL)


def read_lad_lookup(path: str | Path, *, lsoa_vintage: int | None = None) -> pd.DataFrame:
    """Read the local authority of each LSOA from an ONS lookup with an LSOA column and a LAD column.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX, such as ONS's ``LSOA21_WD24_LAD24`` best-fit lookup or the LSOA 2011 to 2021
        change lookup: an LSOA code column (``LSOA21CD``, ``lsoa21_code``...) and a local authority
        code column (``LAD24CD``, ``LTLA22CD``, ``lad24_code``, ``ltla24_code``...).
    lsoa_vintage : int, optional
        2011 or 2021: which LSOA column to use where the lookup has both.

    Returns
    -------
    DataFrame
        One row per LSOA: ``lsoa_code``, ``lad_code`` and, where the lookup names them, ``lad_name``.

    Raises
    ------
    DataFormatError
        When the lookup has no LSOA or no local authority column.
    ValidationError
        When an LSOA is given two local authorities, or codes are blank.
    """
    path = Path(path)
    raw = read_table(path)
    cols = [str(c) for c in raw.columns]
    lsoa_col, lad_col = _find_lsoa(cols, lsoa_vintage), _find(cols, _LAD_COL)
    if lsoa_col is None or lad_col is None:
        what = (
            "LSOA code column (such as LSOA21CD or lsoa21_code)"
            if lsoa_col is None
            else ("local authority code column (such as LAD24CD, LTLA22CD, lad24_code or ltla24_code)")
        )
        raise DataFormatError(
            f"{path.name}: no {what} among {cols}. Give an ONS lookup of LSOAs to local authorities, such as "
            "'LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW'."
        )
    told = re.search(r"lsoa ?(11|21)", lsoa_col, flags=re.IGNORECASE)
    if lsoa_vintage is not None and told and 2000 + int(told.group(1)) != lsoa_vintage:
        raise DataFormatError(
            f"{path.name}: a lookup of {2000 + int(told.group(1))} LSOAs (column {lsoa_col}), but the deprivation "
            f"file is on {lsoa_vintage} LSOAs, whose codes differ. Give a lookup of {lsoa_vintage} LSOAs "
            f"(column LSOA{lsoa_vintage % 100}CD or lsoa{lsoa_vintage % 100}_code)."
        )
    name_col = _find(cols, _LAD_NAME_COL)
    out = pd.DataFrame(
        {"lsoa_code": raw[lsoa_col].astype("string").str.strip(), "lad_code": raw[lad_col].astype("string").str.strip()}
    )
    if name_col:
        out["lad_name"] = raw[name_col].astype("string").str.strip()
    blank = out["lsoa_code"].isna() | out["lad_code"].isna()
    if blank.any():
        rows = (out.index[blank] + 2).tolist()[:20]
        raise ValidationError(
            Problem(f"blank LSOA or local authority codes on rows {rows}.", file=path.name, fix="Fill them in.")
        )
    out = out.drop_duplicates(["lsoa_code", "lad_code"])
    two = out["lsoa_code"].duplicated(keep=False)
    if two.any():
        raise ValidationError(
            Problem(
                f"{int(out.loc[two, 'lsoa_code'].nunique())} LSOAs are given two local authorities "
                f"(e.g. {out.loc[two, 'lsoa_code'].iloc[0]}).",
                file=path.name,
                fix="Use a best-fit lookup, which gives each LSOA one local authority.",
            )
        )
    out.attrs.update(source=path.name, lsoa_col=lsoa_col, lad_col=lad_col)
    return out.reset_index(drop=True).astype(object)


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
    for col, kind, flag in ((lsoa_col, "LSOA", "--lookup-lsoa-col"), (area_col, "ward (area)", "--lookup-area-col")):
        if col is None:
            raise DataFormatError(
                f"{path.name}: cannot tell which column holds the {kind} codes among {cols}. Name it with "
                f"init-area {flag}, or use the ONS lookup, whose columns are named as ONS names them "
                "(LSOA21CD, WD24CD)."
            )
        if col not in cols:
            raise DataFormatError(f"{path.name}: no column '{col}' (given with {flag}). The columns are {cols}.")
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
