"""Placing rows of a file on the map: by geometry, longitude/latitude, easting/northing, then postcode.

:class:`Placer` is the one rule for where a row of any file is; :func:`read_points` reads any table
or map layer of places with it, keeping every column.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from assetmap import settings
from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import VECTOR_FORMATS, ensure_crs, read_table, read_vector, sniff_format
from assetmap.lonlat import LONLAT_PROBLEMS, read_lonlat
from assetmap.record import geocode_postcodes, normalise_columns, normalise_postcode
from assetmap.record_checks import UNKNOWN_POSTCODE_FIX


def as_text(series: pd.Series) -> pd.Series:
    """Return cells as trimmed text, a blank one as missing."""
    return series.astype("string").str.strip().replace("", pd.NA)


class Placer:
    """Places each row of a file: by geometry, longitude/latitude, easting/northing, then postcode."""

    def __init__(self, df: pd.DataFrame, clean: pd.DataFrame, rows: np.ndarray, fname: str, problems: list[Problem]):
        self.df, self.clean, self.rows, self.fname, self.problems = df, clean, rows, fname, problems
        n = len(df)
        self.lon = np.full(n, np.nan)
        self.lat = np.full(n, np.nan)
        self.method = np.full(n, None, dtype=object)
        self.to_wgs = Transformer.from_crs(settings.analysis_crs, settings.storage_crs, always_xy=True)

    def flag(self, mask: np.ndarray, field: str, message: str | pd.Series, fix: str) -> None:
        """Add a problem for each row in ``mask`` (one message, or one per row)."""
        for i in np.flatnonzero(mask):
            msg = message if isinstance(message, str) else str(message.iloc[i])
            self.problems.append(Problem(msg, file=self.fname, row=int(self.rows[i]), field=field, fix=fix))

    def use(self, mask: np.ndarray, lon: np.ndarray, lat: np.ndarray, method: str) -> None:
        """Place the rows in ``mask`` at ``lon``, ``lat``, saying how they were placed."""
        self.lon, self.lat = np.where(mask, lon, self.lon), np.where(mask, lat, self.lat)
        self.method[mask] = method

    def run(self, geometry: np.ndarray | None, postcodes: pd.DataFrame | None) -> None:
        """Place every row by the first way it offers; then flag the rows with no location at all."""
        if geometry is not None:
            self.from_geometry(geometry)
        if "longitude" in self.df and "latitude" in self.df:
            self.from_lonlat()
        if "easting" in self.df and "northing" in self.df:
            self.from_grid()
        if "postcode" in self.df:
            self.from_postcode(postcodes)
        attempted = {
            int(p.row)
            for p in self.problems
            if p.row is not None and p.field in ("geometry", "latitude", "easting", "postcode")
        }
        self.flag(
            np.isnan(self.lon) & ~np.isin(self.rows, list(attempted)),
            "location",
            "the row has no location.",
            "Give latitude and longitude, easting and northing, or a postcode.",
        )

    def from_geometry(self, geometry: np.ndarray) -> None:
        """Place rows by their own geometry (a polygon at a point on its surface)."""
        has = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
        pts = geometry.copy()
        nonpoint = has & (shapely.get_type_id(geometry) != 0)
        pts[nonpoint] = shapely.point_on_surface(geometry[nonpoint])
        x = np.where(has, shapely.get_x(np.where(has, pts, shapely.Point(0, 0))), np.nan)
        y = np.where(has, shapely.get_y(np.where(has, pts, shapely.Point(0, 0))), np.nan)
        glon, glat = self.to_wgs.transform(x, y)
        # A point at NaN or Infinity, or far outside the country, is no place at all.
        unreal = has & ~(np.isfinite(glon) & np.isfinite(glat))
        self.flag(
            unreal,
            "geometry",
            "the feature's coordinates are not real numbers (NaN or Infinity).",
            "Fix the feature's geometry, or give latitude/longitude or a postcode instead.",
        )
        gx0, gy0, gx1, gy1 = settings.uk_lonlat_bounds
        abroad = has & ~unreal & ~((glon >= gx0) & (glon <= gx1) & (glat >= gy0) & (glat <= gy1))
        self.flag(
            abroad,
            "geometry",
            "the feature lies outside the United Kingdom.",
            "Check the layer's coordinate reference system and the feature's coordinates.",
        )
        self.use(has & ~(unreal | abroad), glon, glat, "geometry")

    def from_lonlat(self) -> None:
        """Place rows not yet placed by their longitude and latitude."""
        coords = read_lonlat(self.df["longitude"], self.df["latitude"])
        unplaced = np.isnan(self.lon)  # a feature's own geometry wins over its columns
        self.flag(coords.bad, "latitude", *LONLAT_PROBLEMS["bad"])
        self.flag(coords.swapped & unplaced, "latitude", *LONLAT_PROBLEMS["swapped"])
        self.flag(coords.outside & unplaced, "latitude", *LONLAT_PROBLEMS["outside"])
        self.use(unplaced & ~np.isnan(coords.lon), coords.lon, coords.lat, "lonlat")

    def from_grid(self) -> None:
        """Place rows not yet placed by their British National Grid easting and northing."""
        east = pd.to_numeric(self.df["easting"], errors="coerce").to_numpy(float)
        north = pd.to_numeric(self.df["northing"], errors="coerce").to_numpy(float)
        bad = (self.df["easting"].notna() & ~np.isfinite(east)) | (self.df["northing"].notna() & ~np.isfinite(north))
        self.flag(
            bad.to_numpy() & np.isnan(self.lon),
            "easting",
            "easting/northing are not numbers (or are NaN or Infinity).",
            "Write them as British National Grid metres, e.g. 383700 and 398200.",
        )
        use = np.isnan(self.lon) & np.isfinite(east) & np.isfinite(north)
        bx0, by0, bx1, by1 = settings.bng_bounds
        outside = use & ~((east >= bx0) & (east <= bx1) & (north >= by0) & (north <= by1))
        self.flag(
            outside,
            "easting",
            "easting/northing are outside Great Britain.",
            "Give British National Grid metres (six digits each), or latitude/longitude instead.",
        )
        elon, elat = self.to_wgs.transform(east, north)
        self.use(use & ~outside, elon, elat, "bng")

    def from_postcode(self, postcodes: pd.DataFrame | None) -> None:
        """Place rows not yet placed by their postcode, looked up in ``postcodes``."""
        # A postcode that is not one was named by the record checks; the rest are looked up.
        code = self.clean["postcode"].astype("string")
        needs = np.isnan(self.lon) & code.notna().to_numpy()
        if not needs.any():
            return
        if postcodes is None:
            self.flag(
                needs,
                "postcode",
                "the row has only a postcode and the area has no postcode lookup.",
                "Add a postcode file to the area (NSPL or Code-Point Open), or give latitude/longitude.",
            )
            return
        hit = geocode_postcodes(code, postcodes)
        found = hit["found"].to_numpy()
        self.flag(
            needs & ~found,
            "postcode",
            "postcode '" + code.fillna("") + "' is not in the postcode lookup.",
            UNKNOWN_POSTCODE_FIX,
        )
        self.use(needs & found, hit["longitude"].to_numpy(), hit["latitude"].to_numpy(), "postcode")
        old = needs & found & hit["terminated"].to_numpy()
        if old.any():
            warnings.warn(
                f"{self.fname}: {int(old.sum())} rows are placed by terminated postcodes "
                f"(rows {list(self.rows[old][:10])}); check their addresses.",
                AssetMapWarning,
                stacklevel=4,
            )


_LOCATION_FIELDS = ("longitude", "latitude", "easting", "northing", "postcode")


def read_points(
    path: str | Path,
    *,
    postcodes: pd.DataFrame | None = None,
    sheet: str | int | None = None,
    on_error: Literal["raise", "skip"] = "raise",
) -> gpd.GeoDataFrame:
    """Read any table or map layer of places, every column kept as read, with each row's point.

    Rows are placed as :func:`read_assets` places them (geometry, longitude/latitude,
    easting/northing, postcode), but nothing else is asked of them: no name, no type.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX table, or a GeoJSON/GeoPackage/Shapefile/KML layer.
    postcodes : DataFrame, optional
        Lookup from :func:`assetmap.io.postcodes.read_postcodes`, for rows placed only by postcode.
    sheet : str or int, optional
        Worksheet of an XLSX file.
    on_error : {"raise", "skip"}
        ``raise``: rows that cannot be placed stop the read, every one listed. ``skip``: they are
        kept without a point, and listed in a warning.

    Returns
    -------
    GeoDataFrame
        The file's columns, in its order, and ``geometry``: the point each row is placed at
        (a polygon's representative point), in EPSG:27700; missing where a row is not placed.

    Raises
    ------
    DataFormatError
        An unreadable file, or one over ``settings.max_asset_rows`` rows.
    ValidationError
        Rows that cannot be placed (with ``on_error="raise"``), each with its row, field and fix.
    """
    path = Path(path)
    fname = path.name
    geometry = None
    if sniff_format(path) in VECTOR_FORMATS:
        layer = ensure_crs(read_vector(path), fname)
        geometry = layer.geometry.array
        raw = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    else:
        raw = read_table(path, sheet=sheet, max_rows=settings.max_asset_rows)
    if len(raw) > settings.max_asset_rows:
        raise DataFormatError(
            f"{fname}: {len(raw):,} rows, over the limit of {settings.max_asset_rows:,}. Split the file."
        )
    raw = raw.reset_index(drop=True)
    mapping = {col: f for col, f in normalise_columns([str(c) for c in raw.columns]).items() if f in _LOCATION_FIELDS}
    df = pd.DataFrame({f: as_text(raw[col]) for col, f in mapping.items()}, index=raw.index)
    rows = raw.index.to_numpy() + 2  # spreadsheet row numbers: header is row 1
    # Postcodes as the register keeps them; a malformed one is simply not found in the lookup.
    clean = pd.DataFrame(
        {"postcode": df["postcode"].map(normalise_postcode)} if "postcode" in df else {}, index=df.index
    )
    located = Placer(df, clean, rows, fname, [])
    located.run(geometry, postcodes)
    if located.problems:
        bad = len({p.row for p in located.problems})
        if on_error == "raise":
            raise ValidationError(located.problems, summary=f"{fname}: {bad} of {len(raw)} rows cannot be placed:")
        warnings.warn(
            str(ValidationError(located.problems, summary=f"{fname}: {bad} of {len(raw)} rows cannot be placed:")),
            AssetMapWarning,
            stacklevel=2,
        )
    placed = ~np.isnan(located.lon)
    points = np.asarray(
        gpd.points_from_xy(located.lon, located.lat, crs=settings.storage_crs).to_crs(settings.analysis_crs)
    )
    out = gpd.GeoDataFrame(raw, geometry=np.where(placed, points, np.array(None)), crs=settings.analysis_crs)
    out.attrs["source"] = fname
    return out
