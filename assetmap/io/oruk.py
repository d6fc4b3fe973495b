"""Open Referral UK: import services into the register, and export the approved register as ORUK JSON.

ORUK is the UK profile of the Human Services Data Specification (HSDS 3). A
service (``id``, ``name``, ``status``) has an ``organization``, locations with
``latitude``/``longitude`` and ``addresses`` (``address_1``, ``city``,
``postal_code``, ``country``), ``taxonomy_term`` entries (through ``attributes``) and
``service_areas``. The importer also reads the older ORUK layout
(``service_at_locations[].location.physical_addresses``, ``service_taxonomys``),
from a file or from an API's ``GET /services``, page by page.

Taxonomy terms become asset types: a term of this tool's own vocabulary
(``assetmap``, as :func:`export_oruk` writes) names the type; any other term is
matched against the taxonomy's labels and synonyms. Services whose terms match no
type are left out, with their terms named, unless a default type is given.

Services carry source ``oruk`` and ``source_id`` = the service id, so importing
the same services again updates records rather than duplicating them.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from assetmap import settings
from assetmap._errors import DataFormatError, ValidationError
from assetmap.io._read import parse_json, read_json
from assetmap.record import is_blank, public_records, validate_record
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Vocabulary of the taxonomy terms naming this tool's asset types and elements.
VOCABULARY: str = "assetmap"
ELEMENT_VOCABULARY: str = "assetmap-element"

#: Record fields that follow the ORUK source on a re-import.
ORUK_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "organisation",
    "address",
    "postcode",
    "website",
    "email",
    "phone",
    "opening_times",
    "accessibility",
    "longitude",
    "latitude",
)

#: Largest number of pages read from an API (a guard against a server that never says "last page").
MAX_PAGES: int = 1_000

#: Services asked for per page of an API.
PAGE_SIZE: int = 100

_OPTIONAL = (
    "postcode",
    "website",
    "email",
    "phone",
    "opening_times",
    "description",
    "address",
    "accessibility",
    "audience",
    "audience_groups",
    "capacity",
)
_WARD = re.compile(r"^[EWSN]05\d{6}$")


# -- reading ---------------------------------------------------------------------------------


def _items(page: Any) -> list[dict[str, Any]]:
    if isinstance(page, list):
        return [s for s in page if isinstance(s, dict)]
    if isinstance(page, dict):
        for key in ("contents", "content", "services", "items", "data"):
            if isinstance(page.get(key), list):
                return [s for s in page[key] if isinstance(s, dict)]
        if "name" in page and "id" in page:
            return [page]
    raise DataFormatError(
        "not Open Referral JSON: expected a page of services ('contents'), a list of services or one service."
    )


def read_oruk(path: str | Path) -> list[dict[str, Any]]:
    """Read the services of an ORUK JSON file (a page, a list of services, or one service).

    Raises
    ------
    DataFormatError
        Not JSON, or no services in it.
    """
    path = Path(path)
    data = read_json(path)
    try:
        services = _items(data)
    except DataFormatError as exc:
        raise DataFormatError(f"{path.name}: {exc}") from exc
    if not services:
        raise DataFormatError(
            f"{path.name}: no services in the file. Export the services again from the Open Referral directory."
        )
    return services


def services_from_api(base_url: str, *, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Yield every service of an ORUK API (``GET {base_url}/services``), following its pages.

    Pages are asked for with ``page`` and ``per_page``; reading stops at the page the
    server calls the last (``last_page``, ``last``, ``total_pages``) or at an empty one.

    Raises
    ------
    OfflineError, FetchError
        The API cannot be reached or refuses the request.
    DataFormatError
        A page is not ORUK JSON.
    """
    from assetmap.io.http import download

    url = base_url.rstrip("/")
    if not url.endswith("/services"):
        url += "/services"
    for number in range(1, MAX_PAGES + 1):
        sep = "&" if "?" in url else "?"
        body = download(f"{url}{sep}{urllib.parse.urlencode({'page': number, 'per_page': page_size})}", cache=False)
        try:
            page = parse_json(body, f"{url} page {number}")
        except DataFormatError as exc:
            raise DataFormatError(f"{exc} Check the API's address.") from exc
        items = _items(page)
        yield from items
        if not items or not isinstance(page, dict):
            return
        last = page.get("last_page", page.get("last"))
        total = page.get("total_pages", page.get("totalPages"))
        if last is True or (isinstance(total, int) and number >= total) or (last is None and total is None):
            return


# -- one service to one record -----------------------------------------------------------------


def _first(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, dict)), {})
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _locations(service: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(location, service-at-location) pairs of a service, in order."""
    out = []
    for sal in service.get("service_at_locations") or []:
        if isinstance(sal, dict):
            out.append((_first(sal.get("location")) or sal, sal))
    for loc in service.get("locations") or []:
        if isinstance(loc, dict):
            out.append((loc, {}))
    if isinstance(service.get("location"), dict):
        out.append((service["location"], {}))
    return out


def _terms(service: dict[str, Any]) -> list[dict[str, Any]]:
    terms = []
    for attribute in service.get("attributes") or []:
        if isinstance(attribute, dict):
            terms.append(_first(attribute.get("taxonomy_term")) or attribute)
    for item in service.get("service_taxonomys") or []:
        if isinstance(item, dict):
            terms.append(_first(item.get("taxonomy")))
    for term in service.get("taxonomy_terms") or []:
        if isinstance(term, dict):
            terms.append(term)
    if isinstance(service.get("taxonomy_term"), dict):
        terms.append(service["taxonomy_term"])
    return [t for t in terms if t]


def _type_and_elements(terms: list[dict[str, Any]], tax: Taxonomy) -> tuple[str | None, list[int], list[str]]:
    """Return the asset type and elements named by a service's terms, and the terms not recognised."""
    type_key, elements, unknown = None, [], []
    for term in terms:
        vocabulary = str(term.get("vocabulary") or "").strip().lower()
        label = _str(term.get("term")) or _str(term.get("name")) or _str(term.get("code")) or _str(term.get("id"))
        if vocabulary == ELEMENT_VOCABULARY:
            code = _str(term.get("code"))
            if code and code.isdigit():
                elements.append(int(code))
            continue
        if vocabulary == VOCABULARY:
            found = tax.normalise_type(_str(term.get("code")) or _str(term.get("id")) or "")
        else:
            found = tax.normalise_type(label or "")
        if found is None:
            unknown.append(label or "(blank term)")
        elif type_key is None:
            type_key = found
    return type_key, elements, unknown


def _opening(service: dict[str, Any], sal: dict[str, Any]) -> str | None:
    parts = []
    for item in (
        (sal.get("schedules") or []) + (service.get("schedules") or []) + (service.get("regular_schedules") or [])
    ):
        if not isinstance(item, dict):
            continue
        text = _str(item.get("description"))
        if text is None:
            weekday = item.get("weekday")
            day = _str(item.get("byday")) or _str(weekday.get("name") if isinstance(weekday, dict) else weekday)
            hours = "-".join(p for p in (_str(item.get("opens_at")), _str(item.get("closes_at"))) if p)
            text = " ".join(p for p in (day, hours) if p) or None
        if text and text not in parts:
            parts.append(text)
    return "; ".join(parts) or None


def _coordinate(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def record_from_service(
    service: dict[str, Any],
    *,
    taxonomy: Taxonomy | None = None,
    default_type: str | None = None,
    postcodes: pd.DataFrame | None = None,
) -> tuple[dict[str, Any] | None, list[str]]:
    """Turn one ORUK service into an asset record.

    Parameters
    ----------
    service : dict
        One service, HSDS 3 or older ORUK layout.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.
    default_type : str, optional
        Asset type of a service whose taxonomy terms match no type.
    postcodes : DataFrame, optional
        Postcode lookup, to place a service with a postcode and no usable coordinates.

    Returns
    -------
    record : dict or None
        A valid record (source ``oruk``, ``source_id`` the service id), or None when the
        service cannot be used.
    messages : list of str
        Why it was left out, or what was assumed; each names the service.
    """
    tax = taxonomy or load_taxonomy()
    sid = _str(service.get("id"))
    name = _str(service.get("name"))
    who = f"service {sid or '(no id)'} ({name or 'no name'})"
    if sid is None or name is None:
        return None, [f"{who}: left out: a service needs an id and a name (HSDS requires both)."]
    status = (_str(service.get("status")) or "active").lower()
    if status != "active":
        return None, [f"{who}: left out: its status is '{status}', not active."]
    type_key, elements, messages = _record_type(service, tax, default_type, who)
    if type_key is None:
        return None, messages
    record = _record_fields(service, sid, name, type_key, elements)
    located, bad_coordinates = _locate(record, service, postcodes)
    if not located:
        if bad_coordinates:
            return None, [
                f"{who}: left out: {bad_coordinates} are not coordinates in the United Kingdom. Correct them at the "
                "source (WGS84 decimal degrees), or give a postcode and the area's postcode lookup."
            ]
        return None, [f"{who}: left out: no location with latitude/longitude (or a postcode to look up)."]
    if bad_coordinates and located and "longitude" not in record:
        messages.append(f"{who}: {bad_coordinates} are not usable; placed by its postcode.")
    given = dict(record)
    clean, problem = _validate(record, tax, postcodes)
    if clean is None:
        return None, [f"{who}: left out: {problem}"]
    dropped = [f for f in (*_OPTIONAL, "last_confirmed") if given.get(f) is not None and clean.get(f) is None]
    if dropped:
        messages.append(
            f"{who}: {', '.join(dropped)} not usable (left blank): {', '.join(repr(given[f]) for f in dropped)}."
        )
    return clean, messages


def _record_type(
    service: dict[str, Any], tax: Taxonomy, default_type: str | None, who: str
) -> tuple[str | None, list[int], list[str]]:
    """Return the service's asset type, its elements and what was assumed; no type says why it is left out."""
    type_key, elements, unknown = _type_and_elements(_terms(service), tax)
    if type_key is not None:
        return type_key, elements, []
    fallback = tax.normalise_type(default_type) if default_type else None
    shown = ", ".join(f"'{t}'" for t in unknown) or "none"
    if fallback is None:
        return (
            None,
            elements,
            [
                f"{who}: left out: its taxonomy terms ({shown}) match no asset type. Give a default type "
                "(--default-type) or add the terms as synonyms in taxonomy.toml."
            ],
        )
    return fallback, elements, [f"{who}: taxonomy terms ({shown}) match no asset type; imported as {fallback}."]


def _record_fields(service: dict[str, Any], sid: str, name: str, type_key: str, elements: list[int]) -> dict[str, Any]:
    """Return the record's fields that do not depend on the service's location."""
    organisation = _first(service.get("organization"))
    record: dict[str, Any] = {
        "name": name,
        "type": type_key,
        "elements": sorted(set(elements)) or None,
        "description": _str(service.get("description")),
        "organisation": _str(organisation.get("name")),
        "website": _str(service.get("url")) or _str(organisation.get("website")) or _str(organisation.get("url")),
        "email": _str(service.get("email")) or _str(organisation.get("email")),
        "phone": _str(_first(service.get("phones")).get("number"))
        or _str(_first(_first(service.get("contacts")).get("phones")).get("number")),
        "last_confirmed": _str(service.get("assured_date")),
        "audience": _str(service.get("eligibility_description")),
        "audience_groups": _ages_audience(service.get("minimum_age"), service.get("maximum_age")),
        "source": "oruk",
        "source_id": sid,
    }
    wards = [
        _str(a.get("service_area")) or _str(a.get("name")) or _str(a.get("extent"))
        for a in service.get("service_areas") or []
        if isinstance(a, dict)
    ]
    wards = [w for w in wards if w and _WARD.match(w)]
    if len(wards) == 1:
        record["area_code"] = wards[0]
    capacity = _first(service.get("service_capacity"))
    if capacity.get("maximum") is not None:
        unit = _str(_first(capacity.get("unit")).get("name"))
        record.update(capacity=capacity["maximum"], capacity_unit=unit or "places")
    return record


def _ages_audience(minimum: Any, maximum: Any) -> str | None:
    """Return the audience a service's age range names (0-15 children, 60 and over older people), or None."""
    low = _coordinate(minimum)
    high = _coordinate(maximum)
    if high is not None and high <= 15:
        return "children"
    if low is not None and low >= 60:
        return "older"
    if low is not None and high is not None and low >= 16 and high <= 59:
        return "working_age"
    return None


#: The age range written for each audience on export (HSDS ``minimum_age``, ``maximum_age``).
_AUDIENCE_AGES: dict[str, tuple[int | None, int | None]] = {
    "children": (0, 15),
    "working_age": (16, 59),
    "older": (60, None),
}


def _locate(record: dict[str, Any], service: dict[str, Any], postcodes: pd.DataFrame | None) -> tuple[bool, str | None]:
    """Fill the record's place from the first usable location; return whether it has one, and bad coordinates seen.

    A location with coordinates in the United Kingdom places it; one with a postcode
    does where there is a postcode lookup to place it by.
    """
    bad_coordinates = None
    for location, sal in _locations(service):
        address = (
            _first(location.get("addresses"))
            or _first(location.get("physical_addresses"))
            or _first(sal.get("address"))
        )
        lat, lon = _coordinate(location.get("latitude")), _coordinate(location.get("longitude"))
        record.update(
            address=", ".join(p for p in (_str(address.get("address_1")), _str(address.get("city"))) if p) or None,
            postcode=_str(address.get("postal_code")),
            opening_times=_opening(service, sal),
            accessibility=_str(_first(location.get("accessibility")).get("description"))
            or _str(_first(location.get("accessibility_for_disabilities")).get("accessibility")),
        )
        x0, y0, x1, y1 = settings.uk_lonlat_bounds
        if lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon):
            if x0 <= lon <= x1 and y0 <= lat <= y1:
                record.update(longitude=lon, latitude=lat)
                return True, bad_coordinates
        if lat is not None or lon is not None:
            bad_coordinates = f"latitude {location.get('latitude')!r}, longitude {location.get('longitude')!r}"
        if record.get("postcode") and postcodes is not None:
            return True, bad_coordinates  # validate_record looks the postcode up
    return False, bad_coordinates


def _validate(
    record: dict[str, Any], tax: Taxonomy, postcodes: pd.DataFrame | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Return the record as the register keeps it, dropping optional values it cannot take."""
    for _ in range(len(_OPTIONAL) + 2):
        try:
            clean = validate_record(record, taxonomy=tax, postcodes=postcodes)
        except ValidationError as exc:
            bad = [p.field for p in exc.problems if p.field in (*_OPTIONAL, "last_confirmed", "elements", "area_code")]
            bad = [f for f in bad if record.get(f) is not None]
            if not bad or (
                "postcode" in bad and record.get("longitude") is None
            ):  # the postcode is its location: it cannot go
                return None, "; ".join(str(p) for p in exc.problems)
            for fieldname in bad:
                record[fieldname] = None
            continue
        clean = {k: v for k, v in clean.items() if k not in ("asset_id", "status", "created_at", "updated_at")}
        clean.update(source="oruk", source_id=record["source_id"])
        return clean, None
    return None, "not usable as a register record"  # pragma: no cover


# -- export ---------------------------------------------------------------------------------------


def export_oruk(records: pd.DataFrame, taxonomy: Taxonomy) -> str:
    """Return the approved records as ORUK (HSDS 3) JSON: one page holding every service.

    Only approved records are written, and private fields never are
    (:func:`assetmap.record.public_records`). A sensitive record (its exact place is
    not public) is written without coordinates or street address. The file imports
    back with :func:`assetmap.area.sources.import_oruk` into the same records (types
    and elements through terms of the ``assetmap`` vocabularies).

    Parameters
    ----------
    records : DataFrame
        A register's records, e.g. ``store.records(public=True)``.
    taxonomy : Taxonomy
        The register's asset types and elements.
    """
    frame = public_records(records)
    assert frame is not None  # records were given
    services = [_service_json(row, taxonomy) for row in frame.drop(columns=frame.geometry.name).to_dict("records")]
    page = {
        "total_items": len(services),
        "total_pages": 1,
        "page_number": 1,
        "size": len(services),
        "first_page": True,
        "last_page": True,
        "empty": not services,
        "contents": services,
    }
    return json.dumps(page, indent=2, ensure_ascii=False, default=str) + "\n"


def _blank_or(value: Any) -> Any:
    """Return None for a missing value (see :func:`is_blank`), else the value."""
    return None if is_blank(value) else value


def _service_json(row: dict[str, Any], tax: Taxonomy) -> dict[str, Any]:
    """Return one record as an HSDS 3 service."""
    sid = (
        str(row["source_id"]) if row.get("source") == "oruk" and not is_blank(row.get("source_id")) else row["asset_id"]
    )
    return {
        "id": sid,
        "name": row["name"],
        "description": _blank_or(row.get("description")),
        "url": _blank_or(row.get("website")),
        "email": _blank_or(row.get("email")),
        "status": "active",
        "assured_date": None if is_blank(row.get("last_confirmed")) else str(row["last_confirmed"]),
        "organization": None
        if is_blank(row.get("organisation"))
        else {"id": f"{sid}-organization", "name": row["organisation"]},
        "service_at_locations": [{"id": f"{sid}-sal", "location": _location_json(row, sid)}],
        "attributes": _terms_json(row, sid, tax),
        "phones": [] if is_blank(row.get("phone")) else [{"id": f"{sid}-phone", "number": row["phone"]}],
        "schedules": []
        if is_blank(row.get("opening_times"))
        else [{"id": f"{sid}-schedule", "description": row["opening_times"]}],
        "service_areas": []
        if is_blank(row.get("area_code"))
        else [{"id": f"{sid}-area", "name": row["area_code"], "extent_type": "ward"}],
        **_audience_json(row, sid),
    }


def _audience_json(row: dict[str, Any], sid: str) -> dict[str, Any]:
    """Return who the record is for (its words, and one age band where it names one) and its capacity, as HSDS 3."""
    groups = str(row.get("audience_groups") or "").split(";")
    low, high = _AUDIENCE_AGES.get(groups[0], (None, None)) if len(groups) == 1 else (None, None)
    out: dict[str, Any] = {
        "eligibility_description": _blank_or(row.get("audience")),
        "minimum_age": low,
        "maximum_age": high,
    }
    if not is_blank(row.get("capacity")):
        unit = str(row.get("capacity_unit") or "sessions_week")
        out["service_capacity"] = [
            {"id": f"{sid}-capacity", "maximum": float(row["capacity"]), "unit": {"id": unit, "name": unit}}
        ]
    return out


def _location_json(row: dict[str, Any], sid: str) -> dict[str, Any]:
    """Return the record's place as an HSDS 3 location; a sensitive record's has no coordinates or address."""
    location: dict[str, Any] = {"id": f"{sid}-location", "name": row["name"], "location_type": "physical"}
    if not row["sensitive"]:
        location.update(latitude=float(row["latitude"]), longitude=float(row["longitude"]))
        location["addresses"] = [
            {
                "id": f"{sid}-address",
                "address_1": _blank_or(row.get("address")),
                "city": None,
                "postal_code": _blank_or(row.get("postcode")),
                "country": "GB",
                "address_type": "physical",
            }
        ]
    if not is_blank(row.get("accessibility")):
        location["accessibility"] = [{"id": f"{sid}-access", "description": row["accessibility"]}]
    return location


def _terms_json(row: dict[str, Any], sid: str, tax: Taxonomy) -> list[dict[str, Any]]:
    """Return the record's type and elements as HSDS 3 attributes, in the ``assetmap`` vocabularies."""
    terms = [
        {
            "id": f"{sid}-type",
            "taxonomy_term": {
                "id": row["type"],
                "code": row["type"],
                "term": tax.asset_type(row["type"]).label,
                "vocabulary": VOCABULARY,
            },
        }
    ]
    terms += [
        {
            "id": f"{sid}-element-{e}",
            "taxonomy_term": {
                "id": f"element-{e}",
                "code": str(e),
                "term": tax.element(int(e)).name,
                "vocabulary": ELEMENT_VOCABULARY,
            },
        }
        for e in row["elements"]
    ]
    return terms
