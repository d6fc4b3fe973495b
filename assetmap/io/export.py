"""Writing tables and layers for officers: CSV, XLSX, GeoJSON, GeoPackage.

Spreadsheet exports are neutralised against formula injection: a cell that a
user typed as ``=HYPERLINK(...)`` must reach Excel as text, not as a formula.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from assetmap import settings
from assetmap._errors import DataFormatError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


def neutralise_formulae(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy in which text cells that a spreadsheet would run as formulae start with a quote.

    Only text cells change; numbers stay numbers, so a negative longitude is
    still a number in Excel.

    Parameters
    ----------
    df : DataFrame
        Table to export.
    """
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            is_text = series.map(lambda v: isinstance(v, str))
            risky = is_text & series.astype("string").str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                out[col] = series.astype(object).where(~risky, "'" + series.astype("string"))
    return out


def _flatten(df: pd.DataFrame) -> pd.DataFrame:
    """Turn tuple cells (elements, pillars) into '1;6' text and dates into ISO text, which every format holds.

    Missing values of any kind (None, NaN, NaT, NA) in a column of mixed values become None, an empty cell,
    never the text 'nan' or 'NaT'.
    """
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if out[col].dtype == object and out[col].isna().any():
            out[col] = out[col].where(out[col].notna(), None)
        if out[col].map(lambda v: isinstance(v, tuple | list)).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, tuple | list) else v)
        elif out[col].map(lambda v: isinstance(v, date)).any():
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, date) else None)
    return out


def _atomic_target(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_table(df: pd.DataFrame, path: str | Path, *, layer: str = "assetmap") -> Path:
    """Write a table or layer, choosing the format by extension; written whole or not at all.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        What to write. Geometry is written in WGS84 for GeoJSON and as stored for GeoPackage;
        CSV and XLSX get no geometry column.
    path : str or Path
        ``.csv``, ``.xlsx``, ``.geojson``/``.json`` or ``.gpkg``.
    layer : str
        GeoPackage layer name.

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataFormatError(f"{path.name}: cannot write this kind of file. Use .csv, .xlsx, .geojson or .gpkg.")
    if fmt in ("geojson", "gpkg") and not isinstance(df, gpd.GeoDataFrame):
        raise DataFormatError(f"{path.name}: a {fmt} file needs geometry; write a .csv or .xlsx table instead.")
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = _flatten(df)
    tmp = _atomic_target(path)
    try:
        if fmt in ("csv", "xlsx"):
            table = pd.DataFrame(flat.drop(columns=flat.geometry.name) if isinstance(flat, gpd.GeoDataFrame) else flat)
            table = neutralise_formulae(table)
            if fmt == "csv":
                # BOM: Excel then reads UTF-8 names correctly; CRLF: a lone CR in a cell gets quoted.
                table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
            else:
                table.to_excel(tmp, index=False, engine="openpyxl")
        elif fmt == "geojson":
            flat.to_crs(settings.storage_crs).to_file(tmp, driver="GeoJSON", engine="pyogrio")
        else:
            tmp.unlink()
            flat.to_file(tmp, driver="GPKG", layer=layer, engine="pyogrio")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


#: Media type of each export format, for downloads.
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}


def table_bytes(df: pd.DataFrame, fmt: str, *, layer: str = "assetmap") -> bytes:
    """Return a table or layer as the bytes of a file, as :func:`write_table` would write it.

    For downloads: spreadsheets are neutralised against formula injection and geometry is dropped
    from CSV and XLSX, exactly as on disk.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        What to export.
    fmt : {"csv", "xlsx", "geojson", "gpkg"}
        The format.
    layer : str
        GeoPackage layer name.
    """
    if fmt not in MEDIA_TYPES:
        raise DataFormatError(f"cannot export as {fmt!r}. Use one of {', '.join(MEDIA_TYPES)}.")
    with tempfile.TemporaryDirectory(prefix="assetmap-export-") as folder:
        path = write_table(df, Path(folder) / f"export.{fmt}", layer=layer)
        return path.read_bytes()
