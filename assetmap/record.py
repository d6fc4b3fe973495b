"""The asset record: its fields, and validation of one record or a batch.

A register file may use any common spelling of a column (``Lat``, ``latitude``,
``Post Code``...); :func:`normalise_columns` maps them to the field names here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

if TYPE_CHECKING:
    from assetmap.taxonomy import Taxonomy

#: Record fields in display order, with a one-line meaning each.
FIELDS: dict[str, str] = {
    "asset_id": "Stable identifier of the record.",
    "name": "Name of the group, service or place.",
    "type": "Asset type key from the taxonomy (e.g. food_bank).",
    "elements": "Framework elements served, as numbers separated by ';' (default: the type's).",
    "description": "What it offers, in a sentence or two.",
    "organisation": "Organisation that runs it.",
    "charity_number": "Registered charity or company number.",
    "address": "Street address.",
    "postcode": "UK postcode.",
    "longitude": "WGS84 longitude.",
    "latitude": "WGS84 latitude.",
    "website": "Public website.",
    "email": "Public contact email.",
    "phone": "Public contact phone.",
    "contact_name": "Private contact name (never public).",
    "contact_email": "Private contact email (never public).",
    "opening_times": "When it is open.",
    "accessibility": "Access information (step-free, hearing loop...).",
    "audience": "Who it is for, in the group's own words.",
    "audience_groups": "Who it is for, from the list (everyone, children, working_age, older, families), separated by "
    "';' (default: the type's, or those the words above name).",
    "capacity": "How much it offers, optional: a number of sessions a week or of places.",
    "capacity_unit": "What capacity counts: sessions_week (sessions a week) or places.",
    "source": "Where the record came from: form, bulk, osm, oruk, officer, register.",
    "source_id": "Identifier of the record at its source (an OpenStreetMap 'way/123', an Open Referral service id).",
    "status": "pending, approved, rejected or withdrawn.",
    "sensitive": "True where the exact location must not be public (shown at ward level).",
    "last_confirmed": "Date the record was last confirmed as current (YYYY-MM-DD).",
    "created_at": "When the record was created.",
    "updated_at": "When the record was last changed.",
    "created_by": "Who created it.",
    "updated_by": "Who last changed it.",
}

#: Fields never shown on a public page or in a public export.
PRIVATE_FIELDS: tuple[str, ...] = ("contact_name", "contact_email", "created_by", "updated_by")

#: Fields that may hold a person's details (a volunteer's name, email or phone): exported for
#: that person on request, and erased on request or once the retention period has passed
#: (``settings.personal_data_retention_days``). The public email and phone count too: a small
#: group often gives a volunteer's own.
PERSONAL_FIELDS: tuple[str, ...] = ("contact_name", "contact_email", "email", "phone")

STATUSES: tuple[str, ...] = ("pending", "approved", "rejected", "withdrawn")

#: What a record's ``capacity`` counts, and the words each may be written as.
CAPACITY_UNITS: dict[str, tuple[str, ...]] = {
    "sessions_week": ("sessions week", "sessions a week", "sessions per week", "sessions", "weekly sessions"),
    "places": ("places", "place", "spaces", "seats"),
}
#: Largest capacity accepted (sessions a week or places).
MAX_CAPACITY = 100_000
SOURCES: tuple[str, ...] = ("form", "bulk", "osm", "oruk", "officer", "register")

# Common spellings of each field in councils' and networks' spreadsheets.
_ALIASES: dict[str, tuple[str, ...]] = {
    "asset_id": ("id", "asset id", "ref", "reference", "record id", "uid"),
    "name": ("name", "asset name", "group name", "organisation name", "service name", "title"),
    "type": ("type", "asset type", "category", "kind", "service type"),
    "elements": ("elements", "element", "framework elements"),
    "description": ("description", "about", "summary", "details"),
    "organisation": ("organisation", "organization", "provider", "run by"),
    "charity_number": ("charity number", "charity no", "registered charity number", "company number", "charity"),
    "address": ("address", "full address", "street address", "address 1", "address_1"),
    "postcode": ("postcode", "post code", "postal code", "postal_code", "pcd", "pcds", "zip"),
    "longitude": ("longitude", "lon", "long", "lng", "x_wgs84"),
    "latitude": ("latitude", "lat", "y_wgs84"),
    "easting": ("easting", "eastings", "x", "bng easting", "os easting"),
    "northing": ("northing", "northings", "y", "bng northing", "os northing"),
    "website": ("website", "web", "url", "web site", "homepage"),
    "email": ("email", "e mail", "public email", "contact"),
    "phone": ("phone", "telephone", "tel", "phone number"),
    "contact_name": ("contact name", "private contact name", "lead contact"),
    "contact_email": ("contact email", "private contact email", "lead email"),
    "opening_times": ("opening times", "opening hours", "hours", "when"),
    "accessibility": ("accessibility", "access", "access information"),
    "audience": ("audience", "who for", "for"),
    "audience_groups": ("audience groups", "audiences", "audience list", "who for list"),
    "capacity": ("capacity", "sessions per week", "sessions a week", "weekly sessions"),
    "capacity_unit": ("capacity unit", "unit of capacity"),
    "source": ("source",),
    "source_id": ("source id", "osm id", "external id"),
    "status": ("status",),
    "sensitive": ("sensitive", "sensitive location", "hide location"),
    "last_confirmed": (
        "last confirmed",
        "last_confirmed",
        "confirmed",
        "last updated",
        "last verified",
        "date checked",
    ),
    "created_at": ("created at", "created"),
    "updated_at": ("updated at", "updated"),
    "created_by": ("created by",),
    "updated_by": ("updated by",),
}

_POSTCODE_RE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def header_key(text: object) -> str:
    """Return a column header as compared with the field spellings: lower case, words split by one space."""
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


# Words that make a "... name" column the name of the place an asset is in, or of a person, not the asset's.
_NOT_ASSET_NAME = re.compile(
    r"^(area|ward|lsoa|msoa|lad|la|local authority|borough|county|region|town|city|street|road|parish|"
    r"contact|first|last|sur|user|file|layer|sheet)\b"
)


def _alias_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for fieldname, aliases in _ALIASES.items():
        for alias in (fieldname, *aliases):
            lookup.setdefault(header_key(alias), fieldname)
    return lookup


def name_candidates(columns: list[str]) -> list[str]:
    """Return the columns that could hold the asset's name, the one used first.

    A column spelled as a name column (``Name``, ``Asset name``, ``title``...) comes first;
    then any whose header ends in "name" (``pharmacy_name``, ``charity_name``,
    ``DISTNAME``), except those naming the area a row is in or a person (``area_name``,
    ``ward_name``, ``contact_name``).

    Parameters
    ----------
    columns : list of str
        Column names as read from the file.
    """
    lookup = _alias_lookup()
    exact = [c for c in columns if lookup.get(header_key(c)) == "name"]
    ends = [
        c for c in columns if c not in exact and header_key(c).endswith("name") and lookup.get(header_key(c)) is None
    ]
    return exact + [c for c in ends if not _NOT_ASSET_NAME.match(header_key(c))]


def normalise_columns(columns: list[str]) -> dict[str, str]:
    """Map a file's column names to record field names.

    Parameters
    ----------
    columns : list of str
        Column names as read from the file.

    Returns
    -------
    dict
        ``{file column: field name}`` for every column recognised. A column spelled as
        the field itself (``email``) beats one of its other spellings (``contact``), and
        otherwise the first column to match a field wins, so a file's own ``name`` beats
        ``title``. Where no column is spelled as a name or a postcode, a header ending in
        "name" (see :func:`name_candidates`) or holding "postcode"
        (``charity_contact_postcode``) is taken.
    """
    lookup = _alias_lookup()
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    # Two passes: the field's own spelling first, so a contact person's column called
    # ``contact`` never takes the public email where the file also has an ``email``.
    for exact in (True, False):
        for col in columns:
            found = lookup.get(header_key(col))
            if (
                found
                and found not in taken
                and col not in mapping
                and (not exact or header_key(col) == header_key(found))
            ):
                mapping[col] = found
                taken.add(found)
    if "name" not in taken:
        candidates = [c for c in name_candidates(columns) if c not in mapping]
        if candidates:
            mapping[candidates[0]] = "name"
    if "postcode" not in taken:
        loose = [c for c in columns if c not in mapping and "postcode" in header_key(c).replace(" ", "")]
        if loose:
            mapping[loose[0]] = "postcode"
    return mapping


def normalise_postcode(text: object) -> str | None:
    """Return a postcode in its standard form ("M1 1AE"), or None if it is not one.

    Parameters
    ----------
    text : object
        A postcode in any case and spacing ("m11ae", " M1  1AE ").
    """
    if text is None:
        return None
    compact = re.sub(r"\s+", "", str(text)).upper()
    if len(compact) < 5 or len(compact) > 7:
        return None
    candidate = f"{compact[:-3]} {compact[-3:]}"
    return candidate if _POSTCODE_RE.match(candidate) else None


def parse_elements(text: object, valid: set[int] | None = None) -> tuple[int, ...] | None:
    """Parse "1;6", "1, 6" or "1 6" into element numbers; None when blank.

    Parameters
    ----------
    text : object
        The cell as read.
    valid : set of int, optional
        The element numbers that exist; others raise ``ValueError``.

    Raises
    ------
    ValueError
        When a part is not a whole number or not a known element.
    """
    if text is None or (isinstance(text, float) and text != text) or str(text).strip() == "":
        return None
    parts = [p for p in re.split(r"[;,\s|/]+", str(text).strip()) if p]
    out: list[int] = []
    for part in parts:
        try:
            number = int(float(part))
        except ValueError as exc:
            raise ValueError(f"'{part}' is not an element number") from exc
        if valid is not None and number not in valid:
            raise ValueError(f"{number} is not an element (they are numbered 1 to {max(valid)})")
        if number not in out:
            out.append(number)
    return tuple(sorted(out))


def parse_capacity(value: object, unit: object) -> tuple[float | None, str | None]:
    """Return a capacity and its unit key, or (None, None) when no capacity is given.

    Parameters
    ----------
    value : object
        A number of sessions a week or of places, more than 0 and at most :data:`MAX_CAPACITY`.
    unit : object
        A key or spelling of :data:`CAPACITY_UNITS`; blank means sessions a week.

    Raises
    ------
    ValueError
        When the capacity is not such a number, or the unit is not one of the list.
    """
    if is_blank(value):
        return None, None
    try:
        number = float(str(value).strip()) if not isinstance(value, bool) else float("nan")
    except ValueError:
        number = float("nan")
    if not 0 < number <= MAX_CAPACITY:  # NaN fails too
        raise ValueError(f"'{str(value).strip()[:20]}' is not a capacity (a number above 0, at most {MAX_CAPACITY:,})")
    if is_blank(unit):
        return number, "sessions_week"
    word = header_key(unit)
    for key, spellings in CAPACITY_UNITS.items():
        if word in (header_key(key), *spellings):
            return number, key
    raise ValueError(f"'{str(unit).strip()[:30]}' is not a unit of capacity")


@dataclass(frozen=True)
class Location:
    """Where a record is, once resolved: WGS84 coordinates and how they were found."""

    longitude: float
    latitude: float
    method: str  # "lonlat", "bng", "geometry", "postcode"


# -- validation of one record (the form, and every record a store writes) ---------------

#: Longest text accepted per field, in characters; other text fields get ``MAX_TEXT_CHARS``.
MAX_FIELD_CHARS: dict[str, int] = {
    "asset_id": 64,
    "name": 200,
    "type": 100,
    "description": 2_000,
    "charity_number": 20,
    "postcode": 10,
    "website": 500,
    "email": 254,
    "phone": 40,
    "contact_email": 254,
    "source_id": 200,
    "audience_groups": 200,
}
MAX_TEXT_CHARS = 500

#: The words a yes/no field (``sensitive``) may be written in.
TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}


def is_blank(value: object) -> bool:
    """Return True for a missing value: None, NaN, pandas' NA or NaT, or text that is only spaces."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    try:
        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return isinstance(value, str) and value.strip() == ""


def validate_record(
    record: dict[str, object],
    *,
    taxonomy: Taxonomy | None = None,
    postcodes: pd.DataFrame | None = None,
    row: int | None = None,
    file: str | None = None,
) -> dict[str, object]:
    """Check one asset record, as a form or a store receives it, and return it clean.

    Text is stripped and checked for length and for control characters; markup and
    formula-like text are kept as typed (they are escaped when shown and neutralised
    when exported, never run). The record must have a name, a known type and a
    location in the United Kingdom: longitude/latitude, or a postcode found in
    ``postcodes``.

    Parameters
    ----------
    record : dict
        Field name to value (see :data:`FIELDS`); ``area_code`` is kept too, other
        keys are ignored.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the shipped taxonomy).
    postcodes : DataFrame, optional
        Postcode lookup (:func:`assetmap.io.postcodes.read_postcodes`) used where the
        record has a postcode and no coordinates.
    row : int, optional
        Spreadsheet row of the record, named in every problem.
    file : str, optional
        File the record came from, named in every problem.

    Returns
    -------
    dict
        Every field of :data:`FIELDS` plus ``area_code``: text stripped (blank as
        None), ``elements`` a sorted tuple of ints, ``longitude``/``latitude`` floats,
        ``sensitive`` a bool, ``last_confirmed`` an ISO date string or None.

    Raises
    ------
    ValidationError
        Listing every problem, each naming its field (and row) and the fix.
    """
    from assetmap._errors import Problem, ValidationError
    from assetmap.record_checks import check_record

    if not isinstance(record, dict):
        raise ValidationError(Problem("the record is not a set of fields.", file=file, row=row))
    clean, problems = check_record(record, taxonomy=taxonomy, postcodes=postcodes, row=row, file=file)
    if problems:
        raise ValidationError(problems)
    return clean


# -- what the public may see ------------------------------------------------------------------------

#: Fields that place a record exactly: blanked where its location is sensitive, in public outputs.
EXACT_LOCATION_FIELDS: tuple[str, ...] = ("address", "postcode", "longitude", "latitude")


def without_exact_place(records: pd.DataFrame, mask: Any) -> pd.DataFrame:
    """Return a copy of ``records`` with :data:`EXACT_LOCATION_FIELDS` blanked where ``mask`` is True.

    The geometry is left to the caller: public outputs move it to the ward or drop it.
    """
    out = records.copy()
    for column in EXACT_LOCATION_FIELDS:
        if column in out.columns:
            out[column] = out[column].astype(object)
            out.loc[mask, column] = None
    return out


def sensitive_mask(records: pd.DataFrame) -> pd.Series:
    """Return which records have a sensitive location (shown publicly at ward level only).

    Parameters
    ----------
    records : DataFrame
        Records with a ``sensitive`` column of booleans or of text ("yes", "true", "1"...);
        a frame without one has no sensitive record.

    Returns
    -------
    Series of bool
        Aligned with ``records``. Blank means not sensitive; any other unclear value
        counts as sensitive, since a place once published cannot be unpublished.
    """
    if "sensitive" not in records.columns:
        return pd.Series(False, index=records.index)
    flags = records["sensitive"]
    if flags.dtype == bool:
        return flags
    text = flags.astype("string").fillna("").str.strip().str.lower()
    return ~text.isin(list(FALSE_WORDS | {"0.0"}))


def public_records(records: pd.DataFrame | None) -> pd.DataFrame | None:
    """Return the records a public view may show: approved, without private fields.

    Parameters
    ----------
    records : DataFrame or None
        An asset register.

    Returns
    -------
    DataFrame or None
        A new frame; records of any other status are dropped, and so are the columns
        in :data:`PRIVATE_FIELDS`. A register without a ``status`` column has nothing
        approved, so nothing is returned. Sensitive locations are kept: callers that
        place records generalise them (:func:`assetmap.analysis.assign.generalise_sensitive`)
        or leave them out.
    """
    if records is None:
        return None
    if "status" in records.columns:
        keep = records["status"].astype("string").str.strip().str.lower().eq("approved").fillna(False)
    else:
        keep = pd.Series(False, index=records.index)
    return records.loc[keep.to_numpy()].drop(columns=[c for c in PRIVATE_FIELDS if c in records.columns])


def stale_mask(records: pd.DataFrame, *, as_of: object = None, days: int | None = None) -> pd.Series:
    """Return which records have not been seen to be current for ``days`` before ``as_of``.

    A record is last seen current when it was last confirmed; one never confirmed was
    last seen when an officer last changed or approved it (``updated_at``), else when
    it was added (``created_at``). A record with none of these dates (a register file
    without them) is not called stale: nothing says it is old. This is the one rule
    for the Moderate page's stale list, the analysis's "leave out stale records" and
    the stale marks on pages and prints.

    Parameters
    ----------
    records : DataFrame
        Records with any of ``last_confirmed``, ``updated_at`` and ``created_at``.
    as_of : date-like, optional
        The day to count back from (default: today).
    days : int, optional
        Default: ``settings.stale_after_days``.

    Returns
    -------
    Series of bool
        Aligned with ``records``.
    """
    from assetmap import settings

    limit = settings.stale_after_days if days is None else days
    today = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today().normalize()
    seen = pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    for column in ("created_at", "updated_at", "last_confirmed"):  # later columns win where given
        if column in records.columns:
            when = pd.to_datetime(records[column], errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
            seen = when.dt.normalize().where(when.notna(), seen)
    return (seen < today - pd.Timedelta(days=limit)).fillna(False).astype(bool)


def compact_postcode(values: pd.Series) -> pd.Series:
    """Upper-case postcodes with all spaces removed, the key used for matching."""
    return values.astype("string").str.upper().str.replace(r"\s+", "", regex=True)


def geocode_postcodes(postcodes: pd.Series, lookup: pd.DataFrame) -> pd.DataFrame:
    """Look postcodes up: ``longitude``, ``latitude``, ``found``, ``terminated`` per input row.

    Parameters
    ----------
    postcodes : Series
        Postcodes in any spacing and case.
    lookup : DataFrame
        From :func:`read_postcodes`.
    """
    key = compact_postcode(postcodes.fillna(""))
    hit = lookup.reindex(key.to_numpy())
    return pd.DataFrame(
        {
            "longitude": hit["longitude"].to_numpy(float),
            "latitude": hit["latitude"].to_numpy(float),
            "found": hit["longitude"].notna().to_numpy(),
            "terminated": hit["terminated"].astype("boolean").fillna(False).to_numpy(bool),
        },
        index=postcodes.index,
    )


def ward_level(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return public records with each sensitive one's exact place blanked: its ward code alone places it."""
    hidden = sensitive_mask(frame).to_numpy(dtype=bool)
    if not hidden.any():
        return frame
    out = without_exact_place(frame, hidden)
    geometry = out.geometry.to_numpy().copy()
    geometry[hidden] = None
    return out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))
