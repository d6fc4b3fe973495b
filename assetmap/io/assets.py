"""Asset registers: CSV, XLSX, GeoJSON, GeoPackage or Shapefile into asset records.

A register may place each asset by longitude/latitude, easting/northing, a
point or polygon geometry (its representative point), or only a postcode
(looked up in the area's postcode file). Every row is checked; problems are
reported together, each with its row, field and fix.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from assetmap import settings
from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import VECTOR_FORMATS, ensure_crs, read_table, read_vector, sniff_format
from assetmap.io.postcodes import is_postcode_shaped
from assetmap.record import (
    FALSE_WORDS,
    FIELDS,
    TRUE_WORDS,
    geocode_postcodes,
    normalise_columns,
    normalise_postcode,
    parse_elements,
)
from assetmap.taxonomy import Taxonomy, load_taxonomy


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().replace("", pd.NA)


def _stable_id(name: str, postcode: str, lon: float, lat: float) -> str:
    """Deterministic id from what identifies a record, so a reload gives the same ids."""
    key = f"{name.strip().lower()}|{postcode or ''}|{lon:.5f}|{lat:.5f}"
    return "A" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10].upper()


class _Locator:
    """Place each row by the first of: geometry, longitude/latitude, easting/northing, postcode.

    ``lon``, ``lat`` (WGS84; NaN where unplaced) and ``method`` per row; ``problems`` lists the rows whose
    location was given but unusable, and the rows with none.
    """

    def __init__(self, df: pd.DataFrame, fname: str) -> None:
        n = len(df)
        self.df, self.fname = df, fname
        self.rows = df.index.to_numpy() + 2  # spreadsheet row numbers: header is row 1
        self.lon = np.full(n, np.nan)
        self.lat = np.full(n, np.nan)
        self.method = np.full(n, None, dtype=object)
        self.problems: list[Problem] = []
        self.to_wgs = Transformer.from_crs(settings.analysis_crs, settings.storage_crs, always_xy=True)

    def flag(self, mask: np.ndarray, field: str, message: str | pd.Series, fix: str) -> None:
        for i in np.flatnonzero(mask):
            msg = message if isinstance(message, str) else str(message.iloc[i])
            self.problems.append(Problem(msg, file=self.fname, row=int(self.rows[i]), field=field, fix=fix))

    def _use(self, mask: np.ndarray, lon: np.ndarray, lat: np.ndarray, method: str) -> None:
        self.lon, self.lat = np.where(mask, lon, self.lon), np.where(mask, lat, self.lat)
        self.method[mask] = method

    def locate(self, geometry: Any, postcodes: pd.DataFrame | None) -> _Locator:
        """Place every row; then flag the rows with no location at all."""
        df = self.df
        if geometry is not None:
            self.by_geometry(geometry)
        if "longitude" in df and "latitude" in df:
            self.by_lonlat()
        if "easting" in df and "northing" in df:
            self.by_bng()
        if "postcode" in df:
            self.by_postcode(postcodes)
        attempted = {int(p.row) for p in self.problems if p.field in ("geometry", "latitude", "easting", "postcode")}
        self.flag(
            np.isnan(self.lon) & ~np.isin(self.rows, list(attempted)),
            "location",
            "the row has no location.",
            "Give latitude and longitude, easting and northing, or a postcode.",
        )
        return self

    def by_geometry(self, geometry: Any) -> None:
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
        self._use(has & ~(unreal | abroad), glon, glat, "geometry")

    def by_lonlat(self) -> None:
        df = self.df
        flon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy(float)
        flat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy(float)
        bad_num = (df["longitude"].notna() & ~np.isfinite(flon)) | (df["latitude"].notna() & ~np.isfinite(flat))
        self.flag(
            bad_num.to_numpy(),
            "latitude",
            "latitude/longitude are not numbers (or are NaN or Infinity).",
            "Write them as decimal degrees, e.g. 53.4808 and -2.2426.",
        )
        use = np.isnan(self.lon) & np.isfinite(flon) & np.isfinite(flat)
        x0, y0, x1, y1 = settings.uk_lonlat_bounds
        outside = use & ~((flon >= x0) & (flon <= x1) & (flat >= y0) & (flat <= y1))
        swapped = outside & (flat >= x0) & (flat <= x1) & (flon >= y0) & (flon <= y1)
        self.flag(
            swapped,
            "latitude",
            "latitude and longitude look swapped.",
            "Latitude is about 50-60 in England, longitude about -6 to 2.",
        )
        self.flag(
            outside & ~swapped,
            "latitude",
            "the coordinates are outside the United Kingdom.",
            "Check the latitude and longitude (decimal degrees, WGS84).",
        )
        self._use(use & ~outside, flon, flat, "lonlat")

    def by_bng(self) -> None:
        df = self.df
        east = pd.to_numeric(df["easting"], errors="coerce").to_numpy(float)
        north = pd.to_numeric(df["northing"], errors="coerce").to_numpy(float)
        bad_en = (df["easting"].notna() & ~np.isfinite(east)) | (df["northing"].notna() & ~np.isfinite(north))
        self.flag(
            bad_en.to_numpy() & np.isnan(self.lon),
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
        self._use(use & ~outside, elon, elat, "bng")

    def by_postcode(self, postcodes: pd.DataFrame | None) -> None:
        df = self.df
        needs = np.isnan(self.lon) & df["postcode"].notna().to_numpy()
        malformed = needs & ~is_postcode_shaped(df["postcode"]).to_numpy()
        self.flag(
            malformed,
            "postcode",
            "'" + df["postcode"].fillna("") + "' is not a UK postcode.",
            "Check the postcode, or give latitude/longitude instead.",
        )
        needs &= ~malformed
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
        hit = geocode_postcodes(df["postcode"], postcodes)
        found = hit["found"].to_numpy()
        self.flag(
            needs & ~found,
            "postcode",
            "postcode '" + df["postcode"].fillna("") + "' is not in the postcode lookup.",
            "Check it (a new or mistyped postcode?), or give latitude/longitude instead.",
        )
        use = needs & found
        self._use(use, hit["longitude"].to_numpy(), hit["latitude"].to_numpy(), "postcode")
        old = use & hit["terminated"].to_numpy()
        if old.any():
            warnings.warn(
                f"{self.fname}: {int(old.sum())} rows are placed by terminated postcodes "
                f"(rows {list(self.rows[old][:10])}); check their addresses.",
                AssetMapWarning,
                stacklevel=4,  # the caller of read_assets
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
    df = pd.DataFrame({f: _text(raw[col]) for col, f in mapping.items()}, index=raw.index)
    located = _Locator(df, fname).locate(geometry, postcodes)
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
    out = gpd.GeoDataFrame(raw, geometry=np.where(placed, points, None), crs=settings.analysis_crs)
    out.attrs["source"] = fname
    return out


def read_assets(
    path: str | Path,
    *,
    postcodes: pd.DataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    columns: dict[str, str] | None = None,
    default_type: str | None = None,
    default_status: str = "approved",
    source: str = "register",
    sheet: str | int | None = None,
    on_error: Literal["raise", "skip"] = "raise",
) -> gpd.GeoDataFrame:
    """Read an asset register into validated asset records in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX table, or a GeoJSON/GeoPackage/Shapefile/KML point or polygon layer.
    postcodes : DataFrame, optional
        Lookup from :func:`assetmap.io.postcodes.read_postcodes`, used for rows placed only by postcode.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the shipped taxonomy).
    columns : dict, optional
        ``{record field: file column}`` where the file's names are not recognised.
    default_type : str, optional
        Type for every row of a file with no type column (e.g. ``"food_bank"``).
    default_status : str
        Status of rows with no status given.
    source : str
        Source of rows with no source given.
    sheet : str or int, optional
        Worksheet of an XLSX file.
    on_error : {"raise", "skip"}
        ``raise``: any bad row stops the load with every problem listed.
        ``skip``: bad rows are left out and listed in a warning.

    Returns
    -------
    GeoDataFrame
        Record fields of :data:`assetmap.record.FIELDS` (``elements`` as tuples of
        ints, ``sensitive`` as bool, ``last_confirmed`` as a date), ``pillars``,
        ``location_method``, ``row`` (the source row) and point geometry.

    Raises
    ------
    DataFormatError
        Unreadable file, or no name or type column.
    ValidationError
        Bad rows (with ``on_error="raise"``), listing each with row, field and fix.
    """
    path = Path(path)
    fname = path.name
    tax = taxonomy or load_taxonomy()
    fmt = sniff_format(path)
    geometry = None
    if fmt in VECTOR_FORMATS:
        layer = ensure_crs(read_vector(path), fname)
        geometry = layer.geometry.array
        raw = pd.DataFrame(layer.drop(columns=layer.geometry.name)).astype("string")
    else:
        raw = read_table(path, sheet=sheet, max_rows=settings.max_asset_rows)
    if len(raw) > settings.max_asset_rows:  # a map layer's features; tables are counted as they are read
        raise DataFormatError(
            f"{fname}: {len(raw):,} rows, over the limit of {settings.max_asset_rows:,}. Split the file."
        )

    mapping = normalise_columns(list(raw.columns))
    for fieldname, col in (columns or {}).items():
        if col not in raw.columns:
            raise DataFormatError(
                f"{fname}: no column '{col}' (given for {fieldname}). The columns are {list(raw.columns)}."
            )
        mapping = {k: v for k, v in mapping.items() if v != fieldname and k != col}
        mapping[col] = fieldname
    df = pd.DataFrame({field: _text(raw[col]) for col, field in mapping.items()}, index=raw.index)
    if "name" not in df:
        raise DataFormatError(
            f"{fname}: no name column found among {list(raw.columns)}. Add a 'name' column or pass columns={{'name': ...}}."
        )
    if "type" not in df:
        if default_type is None:
            raise DataFormatError(
                f"{fname}: no type column found among {list(raw.columns)}. Add a 'type' column, or say what every "
                f"row is with default_type (one of: {', '.join(tax.type_keys)})."
            )
        df["type"] = default_type

    problems: list[Problem] = []
    rows = df.index.to_numpy() + 2  # spreadsheet row numbers: header is row 1

    def flag(mask: np.ndarray, field: str, message: str | pd.Series, fix: str) -> None:
        for i in np.flatnonzero(mask):
            msg = message if isinstance(message, str) else str(message.iloc[i])
            problems.append(Problem(msg, file=fname, row=int(rows[i]), field=field, fix=fix))

    # Name.
    flag(df["name"].isna().to_numpy(), "name", "the name is blank.", "Give the group or place a name.")

    # Type, mapped once per distinct spelling.
    spellings = df["type"].dropna().unique()
    type_map = {s: tax.normalise_type(s) for s in spellings}
    df["type"] = df["type"].map(type_map).astype("string")
    unknown = df["type"].isna().to_numpy()
    raw_type = _text(raw[next(c for c, f in mapping.items() if f == "type")]) if "type" in mapping.values() else None
    if unknown.any():
        shown = raw_type.fillna("(blank)") if raw_type is not None else pd.Series("(blank)", index=df.index)
        flag(
            unknown,
            "type",
            "unknown asset type '" + shown + "'.",
            f"Use one of: {', '.join(t.label for t in tax.asset_types)}.",
        )

    # Elements: explicit override, else the type's defaults.
    valid_elements = {e.id for e in tax.elements}
    elements: list[tuple[int, ...] | None] = [None] * len(df)
    given = df["elements"] if "elements" in df else pd.Series(pd.NA, index=df.index, dtype="string")
    for i, (text, key) in enumerate(zip(given.to_numpy(), df["type"].to_numpy(), strict=True)):
        try:
            parsed = parse_elements(None if pd.isna(text) else text, valid_elements)
        except ValueError as exc:
            problems.append(
                Problem(
                    f"elements '{text}': {exc}.",
                    file=fname,
                    row=int(rows[i]),
                    field="elements",
                    fix="List element numbers 1-11 separated by ';', or leave blank for the type's.",
                )
            )
            continue
        if parsed is None and not pd.isna(key):
            parsed = tax.asset_type(key).elements
        elements[i] = tuple(sorted(parsed)) if parsed else None

    # Location, in order of preference: geometry, lon/lat, easting/northing, postcode.
    n = len(df)
    located = _Locator(df, fname).locate(geometry, postcodes)
    problems += located.problems
    lon, lat, method = located.lon, located.lat, located.method
    postcode_norm = df["postcode"].map(normalise_postcode, na_action="ignore") if "postcode" in df else None

    # Status, sensitivity and dates.
    status = df["status"].str.lower() if "status" in df else pd.Series(pd.NA, index=df.index, dtype="string")
    status = status.fillna(default_status)
    flag(
        ~status.isin(["pending", "approved", "rejected", "withdrawn"]).to_numpy(),
        "status",
        "unknown status '" + status + "'.",
        "Use pending, approved, rejected or withdrawn.",
    )
    sens = df["sensitive"].str.lower().fillna("") if "sensitive" in df else pd.Series("", index=df.index)
    flag(
        ~sens.isin(TRUE_WORDS | FALSE_WORDS).to_numpy(),
        "sensitive",
        "'" + sens + "' is not yes or no.",
        "Write yes or no (true or false).",
    )
    confirmed = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if "last_confirmed" in df:
        confirmed = pd.to_datetime(df["last_confirmed"], errors="coerce", dayfirst=True, format="mixed")
        flag(
            (df["last_confirmed"].notna() & confirmed.isna()).to_numpy(),
            "last_confirmed",
            "'" + df["last_confirmed"].fillna("") + "' is not a date.",
            "Write dates as YYYY-MM-DD.",
        )

    problems.sort(key=lambda p: p.row or 0)
    bad_rows = {p.row for p in problems}
    keep = ~np.isin(rows, list(bad_rows))
    if problems and on_error == "raise":
        raise ValidationError(problems, summary=f"{fname}: {len(bad_rows)} of {n} rows need fixing:")
    if problems:
        warnings.warn(
            str(ValidationError(problems, summary=f"{fname}: left out {len(bad_rows)} of {n} rows:")),
            AssetMapWarning,
            stacklevel=2,
        )

    out = pd.DataFrame(index=df.index)
    for fieldname in FIELDS:
        out[fieldname] = df[fieldname] if fieldname in df else pd.Series(pd.NA, index=df.index, dtype="string")
    out["type"] = df["type"]
    out["elements"] = pd.Series(elements, index=df.index, dtype=object)
    out["postcode"] = postcode_norm.fillna(df["postcode"]) if postcode_norm is not None else out["postcode"]
    out["longitude"] = lon
    out["latitude"] = lat
    out["status"] = status
    out["source"] = out["source"].fillna(source)
    out["sensitive"] = sens.isin(TRUE_WORDS).to_numpy()
    out["last_confirmed"] = confirmed.dt.date
    out["location_method"] = method
    out["row"] = rows
    out = out[keep].copy()
    out["pillars"] = [tuple(tax.pillars_of(e)) if e else () for e in out["elements"]]
    missing_id = out["asset_id"].isna()
    if missing_id.any():
        out.loc[missing_id, "asset_id"] = [
            _stable_id(str(nm), str(pc) if not pd.isna(pc) else "", x, y)
            for nm, pc, x, y in zip(
                out.loc[missing_id, "name"],
                out.loc[missing_id, "postcode"],
                out.loc[missing_id, "longitude"],
                out.loc[missing_id, "latitude"],
                strict=True,
            )
        ]
    dup_ids = out["asset_id"].duplicated(keep=False)
    if dup_ids.any():
        ids = sorted(out.loc[dup_ids, "asset_id"].unique())[:10]
        raise ValidationError(
            Problem(
                f"asset ids {ids} appear on more than one row.",
                file=fname,
                field="asset_id",
                fix="Give every record its own id, or leave the column blank to have ids made.",
            )
        )
    points = gpd.points_from_xy(out["longitude"], out["latitude"], crs=settings.storage_crs).to_crs(
        settings.analysis_crs
    )
    gdf = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=np.asarray(points), crs=settings.analysis_crs)
    gdf.attrs["source"] = fname
    return gdf


def flag_duplicates(assets: gpd.GeoDataFrame, *, distance_m: float = 50.0) -> pd.DataFrame:
    """Find likely duplicate records: the same name (ignoring case and punctuation) near each other or at one postcode.

    Parameters
    ----------
    assets : GeoDataFrame
        Records in a projected CRS (metres).
    distance_m : float
        Distance within which two same-named records count as one place.

    Returns
    -------
    DataFrame
        ``asset_id``, ``duplicate_of`` (the first record of the group), ``reason``.
    """
    key = assets["name"].astype("string").str.lower().str.replace(r"[^a-z0-9]+", "", regex=True)
    pairs = []
    geoms = assets.geometry.array
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=distance_m)
    near = (left < right) & (key.to_numpy()[left] == key.to_numpy()[right])
    pairs += [(i, j, f"same name within {distance_m:.0f} m") for i, j in zip(left[near], right[near], strict=True)]
    if "postcode" in assets:
        pc = assets["postcode"].astype("string")
        frame = pd.DataFrame({"key": key, "pc": pc, "i": np.arange(len(assets))}).dropna()
        for _, grp in frame.groupby(["key", "pc"]):
            idx = grp["i"].to_numpy()
            pairs += [(idx[0], j, "same name and postcode") for j in idx[1:]]
    seen: dict[int, tuple[int, str]] = {}
    for i, j, reason in sorted(pairs):
        if j not in seen and j != i:
            seen[j] = (seen.get(i, (i, ""))[0], reason)
    ids = assets["asset_id"].to_numpy()
    return pd.DataFrame(
        [{"asset_id": ids[j], "duplicate_of": ids[i], "reason": reason} for j, (i, reason) in sorted(seen.items())],
        columns=["asset_id", "duplicate_of", "reason"],
    )
