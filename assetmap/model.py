"""The asset record: its fields, and validation of one record or a batch.

A register file may use any common spelling of a column (``Lat``, ``latitude``,
``Post Code``...); :func:`normalise_columns` maps them to the field names here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
