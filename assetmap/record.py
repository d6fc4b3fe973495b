"""The asset record: its fields, and validation of one record or a batch.

A register file may use any common spelling of a column (``Lat``, ``latitude``,
``Post Code``...); :func:`normalise_columns` maps them to the field names here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

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
    "audience": "Who it is for.",
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


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


def normalise_columns(columns: list[str]) -> dict[str, str]:
    """Map a file's column names to record field names.

    Parameters
    ----------
    columns : list of str
        Column names as read from the file.

    Returns
    -------
    dict
        ``{file column: field name}`` for every column recognised; the first
        column to match a field wins, so a file's own ``name`` beats ``title``.
    """
    lookup: dict[str, str] = {}
    for fieldname, aliases in _ALIASES.items():
        for alias in (fieldname, *aliases):
            lookup.setdefault(_key(alias), fieldname)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        fieldname = lookup.get(_key(col))
        if fieldname and fieldname not in taken:
            mapping[col] = fieldname
            taken.add(fieldname)
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
}
MAX_TEXT_CHARS = 500

# Fields whose text may run over several lines; every other field is one line.
_MULTILINE = frozenset({"description", "address", "opening_times", "accessibility", "audience"})
_TEXT_FIELDS = (
    "asset_id",
    "name",
    "description",
    "organisation",
    "charity_number",
    "address",
    "website",
    "email",
    "phone",
    "contact_name",
    "contact_email",
    "opening_times",
    "accessibility",
    "audience",
    "created_by",
    "updated_by",
    "source_id",
)
# C0 and C1 control characters, and Unicode's bidirectional overrides (used to disguise text).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_URL_RE = re.compile(
    r"^(https?://)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?(?:[/?#]\S*)?$"
)
_PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]{6,30}(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
_CHARITY_RE = re.compile(r"^[A-Za-z]{0,2}[0-9]{4,8}(?:-[0-9]{1,3})?$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
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
    taxonomy: object | None = None,
    postcodes: object | None = None,
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
    import math
    from datetime import date, datetime

    from assetmap import settings
    from assetmap._errors import Problem, ValidationError
    from assetmap.taxonomy import load_taxonomy

    tax = taxonomy or load_taxonomy()
    problems: list[Problem] = []

    def flag(field: str, message: str, fix: str) -> None:
        problems.append(Problem(message, file=file, row=row, field=field, fix=fix))

    if not isinstance(record, dict):
        raise ValidationError(Problem("the record is not a set of fields.", file=file, row=row))
    out: dict[str, object] = dict.fromkeys(FIELDS)
    out["area_code"] = None

    for fieldname in (*_TEXT_FIELDS, "area_code"):
        value = record.get(fieldname)
        if is_blank(value):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            flag(fieldname, f"a {type(value).__name__} where text was expected.", "Type it as text.")
            continue
        text = str(value).strip()
        limit = MAX_FIELD_CHARS.get(fieldname, MAX_TEXT_CHARS)
        if len(text) > limit:
            flag(fieldname, f"the text is {len(text):,} characters, over the limit of {limit:,}.", "Shorten it.")
            continue
        if _CONTROL_RE.search(text) or (fieldname not in _MULTILINE and ("\n" in text or "\r" in text)):
            flag(
                fieldname,
                "the text holds control characters or line breaks.",
                "Type it again as plain text on one line.",
            )
            continue
        out[fieldname] = text.replace("\r\n", "\n").replace("\r", "\n")

    if out["name"] is None and not any(p.field == "name" for p in problems):
        flag("name", "the name is blank.", "Give the group or place a name.")
    if out["asset_id"] is not None and not _ID_RE.match(str(out["asset_id"])):
        flag("asset_id", f"'{out['asset_id']}' is not a usable id.", "Use letters, digits, '-', '_', '.' or ':'.")

    # Type and elements.
    raw_type = record.get("type")
    type_key = None
    if is_blank(raw_type):
        flag("type", "the type is blank.", f"Choose one of: {', '.join(t.label for t in tax.asset_types)}.")
    elif not isinstance(raw_type, str) or len(raw_type) > MAX_FIELD_CHARS["type"]:
        flag("type", "the type is not one of the list.", f"Choose one of: {', '.join(tax.type_keys)}.")
    else:
        type_key = tax.normalise_type(raw_type)
        if type_key is None:
            shown = raw_type.strip()[:60]
            flag("type", f"unknown asset type '{shown}'.", f"Choose one of: {', '.join(tax.type_keys)}.")
    out["type"] = type_key
    valid_elements = {e.id for e in tax.elements}
    raw_elements = record.get("elements")
    elements: tuple[int, ...] | None = None
    try:
        if isinstance(raw_elements, tuple | list | set | frozenset):
            raw_elements = ";".join(str(v) for v in raw_elements)
        if not is_blank(raw_elements) and len(str(raw_elements)) > 100:
            raise ValueError("too long a list")
        elements = parse_elements(raw_elements, valid_elements)
    except (ValueError, OverflowError) as exc:
        flag("elements", f"elements: {exc}.", "List element numbers 1-11 separated by ';', or leave blank.")
    if elements is None and type_key is not None:
        elements = tuple(sorted(tax.asset_type(type_key).elements))
    out["elements"] = elements

    # Postcode and location.
    postcode = None
    raw_postcode = record.get("postcode")
    if not is_blank(raw_postcode):
        postcode = normalise_postcode(raw_postcode) if isinstance(raw_postcode, str) else None
        if postcode is None:
            shown = str(raw_postcode).strip()[:20]
            flag(
                "postcode", f"'{shown}' is not a UK postcode.", "Check it (e.g. M1 1AE), or place the group on the map."
            )
    out["postcode"] = postcode

    def number(fieldname: str) -> float | None:
        value = record.get(fieldname)
        if is_blank(value):
            return None
        if isinstance(value, bool):
            return math.nan
        try:
            return float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return math.nan

    lon, lat = number("longitude"), number("latitude")
    if lon is not None or lat is not None:
        x0, y0, x1, y1 = settings.uk_lonlat_bounds
        if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
            flag("latitude", "latitude/longitude are missing or not numbers.", "Give both as decimal degrees.")
            lon = lat = None
        elif not (x0 <= lon <= x1 and y0 <= lat <= y1):
            if x0 <= lat <= x1 and y0 <= lon <= y1:
                flag("latitude", "latitude and longitude look swapped.", "Latitude is about 50-60 in England.")
            else:
                flag("latitude", "the coordinates are outside the United Kingdom.", "Check them (WGS84 degrees).")
            lon = lat = None
    if lon is None and not any(p.field in ("latitude", "postcode") for p in problems):
        if postcode is not None and postcodes is not None:
            hit = geocode_postcodes(pd.Series([postcode]), postcodes)
            if bool(hit["found"].iloc[0]):
                lon, lat = float(hit["longitude"].iloc[0]), float(hit["latitude"].iloc[0])
            else:
                flag("postcode", f"postcode '{postcode}' is not in the postcode lookup.", "Place the group on the map.")
        else:
            flag("location", "the record has no location.", "Give a postcode, or place the group on the map.")
    out["longitude"], out["latitude"] = lon, lat

    # Contact details: checked so that a link or an address can be used safely.
    for fieldname in ("email", "contact_email"):
        if out[fieldname] is not None and not _EMAIL_RE.match(str(out[fieldname])):
            flag(fieldname, f"'{str(out[fieldname])[:60]}' is not an email address.", "Write it as name@example.org.")
    if out["website"] is not None and not _URL_RE.match(str(out["website"])):
        flag("website", "the website is not a web address.", "Write it as https://example.org.")
    if out["phone"] is not None and not _PHONE_RE.match(str(out["phone"])):
        flag(
            "phone",
            "the phone number holds characters a number cannot.",
            "Write digits and spaces, e.g. 020 7946 0000.",
        )
    if out["charity_number"] is not None and not _CHARITY_RE.match(str(out["charity_number"]).replace(" ", "")):
        flag("charity_number", "not a charity or company number.", "Write the number only, e.g. 1123456 or SC012345.")
    elif out["charity_number"] is not None:
        out["charity_number"] = str(out["charity_number"]).replace(" ", "").upper()

    # Flags, choices and dates.
    sensitive = record.get("sensitive")
    if isinstance(sensitive, bool):
        out["sensitive"] = sensitive
    elif is_blank(sensitive):
        out["sensitive"] = False
    elif str(sensitive).strip().lower() in TRUE_WORDS | FALSE_WORDS:
        out["sensitive"] = str(sensitive).strip().lower() in TRUE_WORDS
    else:
        out["sensitive"] = False
        flag("sensitive", "not yes or no.", "Write yes or no.")
    for fieldname, allowed in (("status", STATUSES), ("source", SOURCES)):
        value = record.get(fieldname)
        if is_blank(value):
            continue
        text = str(value).strip().lower()
        if text not in allowed:
            flag(fieldname, f"unknown {fieldname} '{str(value)[:30]}'.", f"Use one of: {', '.join(allowed)}.")
        else:
            out[fieldname] = text
    confirmed = record.get("last_confirmed")
    if is_blank(confirmed):  # first: pandas' NaT is a datetime too
        out["last_confirmed"] = None
    elif isinstance(confirmed, datetime):
        out["last_confirmed"] = confirmed.date().isoformat()
    elif isinstance(confirmed, date):
        out["last_confirmed"] = confirmed.isoformat()
    else:
        try:
            out["last_confirmed"] = date.fromisoformat(str(confirmed).strip()[:10]).isoformat()
        except ValueError:
            flag("last_confirmed", f"'{str(confirmed)[:30]}' is not a date.", "Write it as YYYY-MM-DD.")
    for fieldname in ("created_at", "updated_at"):
        value = record.get(fieldname)
        out[fieldname] = None if is_blank(value) else str(value)[:40]

    if problems:
        raise ValidationError(problems)
    return out


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
