"""Boundary layers: wards or any neighbourhoods, and small areas (LSOAs).

Every boundary layer comes back with the same three columns, ``code``, ``name``
and ``geometry``, in EPSG:27700, whatever the file called them.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import ensure_crs, read_vector

_GSS = re.compile(r"^[EWSN]\d{8}$")

# Column name patterns, most specific first, for each kind of layer.
_CODE_PATTERNS = {
    "areas": [
        r"^WD\d{2}CD$",
        r"^MSOA\d{2}CD$",
        r"^LAD\d{2}CD$",
        r"^(ward|area|neighbourhood|nbhd|locality)_?(code|cd|id)$",
        r"^(gss_?code|gss|code|id)$",
    ],
    "small_areas": [r"^LSOA\d{2}CD$", r"^(lsoa|lsoa_?code|lsoa\d{2}_?code|area_?code|code|gss_?code)$"],
}
_NAME_PATTERNS = {
    "areas": [
        r"^WD\d{2}NM$",
        r"^MSOA\d{2}NM$",
        r"^LAD\d{2}NM$",
        r"^(ward|area|neighbourhood|nbhd|locality)_?(name|nm)$",
        r"^(name|ward)$",
    ],
    "small_areas": [r"^LSOA\d{2}NM$", r"^(lsoa_?name|lsoa\d{2}_?name|area_?name|name)$"],
}


def _find_column(columns: list[str], patterns: list[str]) -> str | None:
    for pattern in patterns:
        for col in columns:
            if re.match(pattern, col, flags=re.IGNORECASE):
                return col
    return None


def _detect_columns(gdf: gpd.GeoDataFrame, kind: str, name: str) -> tuple[str, str | None]:
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col = _find_column(columns, _CODE_PATTERNS[kind])
    if code_col is None:
        # Content decides: a text column of unique GSS-shaped codes (E05..., E01...).
        prefix = "E01" if kind == "small_areas" else None
        for col in columns:
            values = gdf[col].astype(str)
            if (
                values.str.match(_GSS).all()
                and values.is_unique
                and (prefix is None or values.str[:3].eq(prefix).all())
            ):
                code_col = col
                break
    if code_col is None:
        raise DataFormatError(
            f"{name}: no column of area codes found among {columns}. Name it with init-area --boundaries-code-col "
            "or --small-areas-code-col (on the Data page: 'Code column'), or add a column of unique codes."
        )
    name_col = None
    paired = re.sub(r"CD$", "NM", code_col) if re.search(r"CD$", code_col, flags=re.IGNORECASE) else None
    if paired and paired in columns:
        name_col = paired
    else:
        name_col = _find_column([c for c in columns if c != code_col], _NAME_PATTERNS[kind])
    return code_col, name_col


def _polygons_only(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal parts of a repaired geometry (make_valid may add slivers of lines)."""
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def read_boundaries(
    path: str | Path,
    *,
    code_col: str | None = None,
    name_col: str | None = None,
    layer: str | int | None = None,
    crs: str | None = None,
    kind: str = "areas",
) -> gpd.GeoDataFrame:
    """Read wards or neighbourhoods into ``code``, ``name``, ``geometry`` in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile (zipped or not) or KML.
    code_col, name_col : str, optional
        Columns holding the area code and name; detected when omitted (ONS
        ``WD23CD``/``WD23NM``-style names, ``area_code``/``area_name`` and other
        common council variants, or a column of unique GSS codes).
    layer : str or int, optional
        Layer of a multi-layer file.
    crs : str, optional
        The file's CRS, where the file does not say or says wrongly.
    kind : {"areas", "small_areas"}
        Which column names to look for first.

    Returns
    -------
    GeoDataFrame
        One row per area, sorted by code; ``attrs`` holds ``source``, ``code_col``,
        ``name_col`` and ``repaired`` (codes of repaired geometries).

    Raises
    ------
    DataFormatError
        Unreadable file or no code column.
    CRSError
        No CRS and coordinates that do not look like British National Grid.
    ValidationError
        Non-polygon or empty geometries, or duplicate or blank codes.
    """
    path = Path(path)
    fname = path.name
    raw = read_vector(path, layer=layer)
    if code_col is None:
        code_col, detected_name = _detect_columns(raw, kind, fname)
        name_col = name_col or detected_name
    for col, what in ((code_col, "code_col"), (name_col, "name_col")):
        if col is not None and col not in raw.columns:
            raise DataFormatError(f"{fname}: no column '{col}' (given as {what}). The columns are {list(raw.columns)}.")

    codes = raw[code_col].astype("string").str.strip()
    problems = _code_problems(codes, fname, code_col) + _geometry_problems(raw, codes, fname)
    if problems:
        raise ValidationError(problems, summary=f"{fname}: {len(problems)} problem(s) with the boundaries:")

    gdf = gpd.GeoDataFrame(
        {
            "code": codes.astype(str).to_numpy(),
            "name": (raw[name_col].astype("string").str.strip().fillna(codes) if name_col else codes)
            .astype(str)
            .to_numpy(),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    gdf = ensure_crs(gdf, fname, crs)
    repaired = _repair_geometries(gdf, fname)
    gdf = gdf.sort_values("code", kind="stable").reset_index(drop=True)
    gdf.attrs.update(source=fname, code_col=code_col, name_col=name_col, repaired=repaired)
    return gdf


def _code_problems(codes: pd.Series, fname: str, code_col: str) -> list[Problem]:
    """List blank and repeated area codes (at most 50 of each)."""
    problems: list[Problem] = []
    blank = codes.isna() | codes.eq("")
    for i in np.flatnonzero(blank.to_numpy())[:50]:
        problems.append(
            Problem(
                "the area code is blank.", file=fname, row=int(i) + 2, field=code_col, fix="Give every area a code."
            )
        )
    dup = codes[~blank & codes.duplicated(keep=False)]
    for code in sorted(dup.unique())[:50]:
        rows = [int(i) + 2 for i in np.flatnonzero(codes.eq(code).to_numpy())]
        problems.append(
            Problem(
                f"code '{code}' appears on rows {rows}.",
                file=fname,
                field=code_col,
                fix="Each area must be one row: dissolve the parts by code (QGIS: Dissolve) "
                "or give them distinct codes.",
            )
        )
    return problems


def _geometry_problems(raw: gpd.GeoDataFrame, codes: pd.Series, fname: str) -> list[Problem]:
    """List areas with no geometry (at most 50) and features that are not polygons."""
    problems: list[Problem] = []
    geoms = raw.geometry.array
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing)[:50]:
        problems.append(
            Problem(
                f"area '{codes.iloc[i]}' has no geometry.",
                file=fname,
                row=int(i) + 2,
                fix="Draw its boundary or remove the row.",
            )
        )
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    wrong = ~polygonal & ~missing
    if wrong.any():
        kinds = sorted(set(raw.geometry[wrong].geom_type))
        rows = [int(i) + 2 for i in np.flatnonzero(wrong)[:20]]
        problems.append(
            Problem(
                f"{int(wrong.sum())} features are {', '.join(kinds)}, not polygons (rows {rows}).",
                file=fname,
                fix="Boundaries must be areas: keep only the polygon layer (a mixed-geometry layer "
                "often comes from a KML or a GeoPackage with several layers).",
            )
        )
    return problems


def _repair_geometries(gdf: gpd.GeoDataFrame, fname: str) -> list[str]:
    """Repair invalid geometries in place, with a warning; return the repaired areas' codes."""
    invalid = ~shapely.is_valid(gdf.geometry.array)
    if not invalid.any():
        return []
    fixed = shapely.make_valid(gdf.geometry.array[invalid])
    gdf.loc[invalid, "geometry"] = [_polygons_only(g) for g in fixed]
    repaired = gdf.loc[invalid, "code"].tolist()
    still_empty = shapely.is_empty(gdf.geometry.array)
    if still_empty.any():
        bad = gdf.loc[still_empty, "code"].tolist()
        raise ValidationError(
            Problem(
                f"areas {bad} have invalid geometries that collapse to nothing when repaired.",
                file=fname,
                fix="Redraw them in a GIS.",
            )
        )
    warnings.warn(
        f"{fname}: repaired {len(repaired)} invalid geometries ({', '.join(repaired[:10])}"
        f"{'...' if len(repaired) > 10 else ''}); check their outlines.",
        AssetMapWarning,
        stacklevel=3,  # the caller of read_boundaries
    )
    return repaired


def read_small_areas(
    path: str | Path,
    *,
    code_col: str | None = None,
    name_col: str | None = None,
    layer: str | int | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read LSOA boundaries into ``code``, ``name``, ``geometry`` in EPSG:27700.

    Parameters are as for :func:`read_boundaries`. ``attrs['lsoa_vintage']`` is
    2011 or 2021 when the column name says (``LSOA11CD``, ``LSOA21CD``), else None.

    Raises
    ------
    ValidationError
        Besides the boundary checks, when the codes are not LSOA codes (E01...).
    """
    gdf = read_boundaries(path, code_col=code_col, name_col=name_col, layer=layer, crs=crs, kind="small_areas")
    not_lsoa = ~gdf["code"].str.match(r"^[EW]01\d{6}$")
    if not_lsoa.all():
        raise ValidationError(
            Problem(
                f"none of the codes look like LSOA codes (E01...); the first is '{gdf['code'].iloc[0]}'.",
                file=Path(path).name,
                field=gdf.attrs["code_col"],
                fix="Small areas must be Lower layer Super Output Areas; name the LSOA code column with "
                "init-area --small-areas-code-col (on the Data page: 'Code column').",
            )
        )
    match = re.match(r"^LSOA(\d{2})CD$", gdf.attrs["code_col"] or "", flags=re.IGNORECASE)
    gdf.attrs["lsoa_vintage"] = 2000 + int(match.group(1)) if match else None
    return gdf


def boundaries_to_frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the code and name table of a boundary layer (no geometry)."""
    return pd.DataFrame({"code": gdf["code"].to_numpy(), "name": gdf["name"].to_numpy()})
