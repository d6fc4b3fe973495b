"""Postcode lookups: ONS NSPL/ONSPD and OS Code-Point Open layouts.

The result is one row per live or terminated postcode with WGS84 coordinates,
so that an asset given only by postcode can be placed on the map.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from assetmap._errors import DataFormatError, Problem, ValidationError
from assetmap.io._read import read_table
from assetmap.record import compact_postcode

POSTCODE_COLUMNS = ("postcode", "longitude", "latitude", "lsoa_code", "ward_code", "terminated")

_CANDIDATES = {
    "postcode": ("pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode", "post code", "postcode_space"),
    "latitude": ("lat", "latitude"),
    "longitude": ("long", "lon", "longitude", "lng"),
    "easting": ("oseast1m", "eastings", "easting", "x"),
    "northing": ("osnrth1m", "northings", "northing", "y"),
    "lsoa_code": ("lsoa21", "lsoa21cd", "lsoa11", "lsoa11cd", "lsoa_code", "lsoa"),
    "ward_code": ("osward", "admin_ward_code", "ward_code", "wd24cd", "wd23cd"),
    "terminated": ("doterm", "date_of_termination", "terminated"),
}


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower().strip(): c for c in columns}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def format_postcode(compact: pd.Series) -> pd.Series:
    """Return the standard spelling, with one space before the inward code ("M1 1AE")."""
    return compact.str[:-3] + " " + compact.str[-3:]


def read_postcodes(path: str | Path) -> pd.DataFrame:
    """Read a postcode lookup into ``postcode``, ``longitude``, ``latitude``, ``lsoa_code``, ``ward_code``, ``terminated``.

    Parameters
    ----------
    path : str or Path
        NSPL/ONSPD (``pcds``, ``lat``, ``long``, ``lsoa11``/``lsoa21``, ``doterm``)
        or OS Code-Point Open (``Postcode``, ``Eastings``, ``Northings`` in
        EPSG:27700, ``Admin_ward_code``) as CSV or XLSX. Where a file has both
        WGS84 and grid coordinates, WGS84 is used.

    Returns
    -------
    DataFrame
        One row per postcode (first occurrence kept), indexed by the compact
        postcode (no spaces), with ``attrs['layout']`` naming the layout found.
    """
    path = Path(path)
    fname = path.name
    raw = read_table(path)
    cols = list(raw.columns)
    found = {key: _pick(cols, names) for key, names in _CANDIDATES.items()}
    if found["postcode"] is None:
        raise DataFormatError(
            f"{fname}: no postcode column found among {cols[:20]}. A postcode lookup needs a column named "
            "pcds (ONS NSPL/ONSPD) or Postcode (OS Code-Point Open)."
        )
    compact = compact_postcode(raw[found["postcode"]])
    if found["latitude"] and found["longitude"]:
        lat = pd.to_numeric(raw[found["latitude"]], errors="coerce").to_numpy(float)
        lon = pd.to_numeric(raw[found["longitude"]], errors="coerce").to_numpy(float)
        layout = "codepoint" if found["easting"] and not found["terminated"] else "nspl"
    elif found["easting"] and found["northing"]:
        east = pd.to_numeric(raw[found["easting"]], errors="coerce").to_numpy(float)
        north = pd.to_numeric(raw[found["northing"]], errors="coerce").to_numpy(float)
        lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(east, north)
        layout = "codepoint"
    else:
        raise DataFormatError(
            f"{fname}: no coordinates found. A postcode lookup needs lat and long (NSPL/ONSPD) or Eastings and "
            f"Northings (Code-Point Open); the columns are {cols[:20]}."
        )
    # NSPL writes 99.999999 / 0 for postcodes with no grid reference; treat them as unknown.
    no_location = ~np.isfinite(lat) | ~np.isfinite(lon) | (lat > 61) | (lat < 49) | ((lat == 0) & (lon == 0))
    well_formed = compact.str.match(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$").fillna(False).to_numpy(bool)
    if not well_formed.any():
        raise ValidationError(
            Problem(
                f"no value in column '{found['postcode']}' looks like a UK postcode (first: '{raw[found['postcode']].iloc[0]}').",
                file=fname,
                field=found["postcode"],
                fix="Check that the right column holds the postcodes.",
            )
        )
    terminated = (
        raw[found["terminated"]].fillna("").astype(str).str.strip().ne("").to_numpy()
        if found["terminated"]
        else np.zeros(len(raw), bool)
    )
    out = pd.DataFrame(
        {
            "postcode": format_postcode(compact).to_numpy(),
            "longitude": np.where(no_location, np.nan, lon),
            "latitude": np.where(no_location, np.nan, lat),
            "lsoa_code": raw[found["lsoa_code"]].to_numpy() if found["lsoa_code"] else None,
            "ward_code": raw[found["ward_code"]].to_numpy() if found["ward_code"] else None,
            "terminated": terminated,
        },
        index=pd.Index(compact.to_numpy(), name="postcode_key"),
    )
    out = out[well_formed]
    out = out[~out.index.duplicated(keep="first")]
    out.attrs.update(source=fname, layout=layout)
    return out


def is_postcode_shaped(values: pd.Series) -> pd.Series:
    """Whether each value has the shape of a UK postcode (any spacing or case)."""
    return compact_postcode(values.fillna("")).str.match(re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")).fillna(False)
