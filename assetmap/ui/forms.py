"""What the public "Add your group" page and the Moderate page need, without Streamlit.

Turning a form's answers into a record, placing it in a ward, the rule of how
long a limit makes one wait (its events are kept in the register), the
bulk-upload template, and the per-row report of problems and likely duplicates.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from assetmap import settings
from assetmap._errors import Problem
from assetmap.io.bulk import EXAMPLE_NAME
from assetmap.record import is_blank, stale_mask
from assetmap.store.base import EDITABLE_FIELDS
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Form fields in the order asked, with the label shown to the public.
FORM_LABELS: dict[str, str] = {
    "name": "Name of your group or service",
    "type": "What kind of group is it?",
    "elements": "What does it do? (the ways it supports community health)",
    "description": "Describe what you offer",
    "organisation": "Organisation that runs it",
    "charity_number": "Charity or company number",
    "address": "Address",
    "postcode": "Postcode",
    "longitude": "Longitude",
    "latitude": "Latitude",
    "website": "Website",
    "email": "Public email",
    "phone": "Public phone",
    "contact_name": "Your name (private)",
    "contact_email": "Your email (private)",
    "opening_times": "Opening times",
    "accessibility": "Accessibility",
    "audience": "Who is it for?",
    "audience_groups": "Who is it for? (choose from the list)",
    "capacity": "How much it offers (optional)",
    "capacity_unit": "Counted as",
    "sensitive": "Keep the exact location private",
}

#: Fields in the order the form asks them (``location`` is how the group is placed), for the first in error.
FIELD_ORDER: tuple[str, ...] = (
    "name",
    "type",
    "elements",
    "description",
    "audience",
    "opening_times",
    "accessibility",
    "organisation",
    "charity_number",
    "address",
    "postcode",
    "location",
    "sensitive",
    "website",
    "email",
    "phone",
    "contact_name",
    "contact_email",
    "consent",
)

#: Where on the form each record field's problems are shown (coordinates and "no location" go with the location).
PROBLEM_FIELD: dict[str, str] = {"location": "location", "latitude": "location", "longitude": "location"}

#: Columns of the bulk-upload template, in order: what a group may give about itself (officers
#: set the confirmation date and the ward).
TEMPLATE_COLUMNS: tuple[str, ...] = tuple(f for f in EDITABLE_FIELDS if f not in ("last_confirmed", "area_code"))

#: Columns of the per-row report of an upload's problems.
REPORT_COLUMNS: tuple[str, ...] = ("Row", "Field", "Problem", "How to fix")

_TEXT: tuple[str, ...] = (
    "name",
    "description",
    "organisation",
    "charity_number",
    "address",
    "postcode",
    "website",
    "email",
    "phone",
)
_TEXT += ("contact_name", "contact_email", "opening_times", "accessibility", "audience")


def record_from_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the record a filled form describes, ready for :func:`assetmap.record.validate_record`.

    Text is kept as typed (stripped; blank becomes None); ``elements`` a tuple of
    ints (empty: the type's defaults); coordinates as typed (the record check says
    what is wrong with them); status ``pending`` and source ``form`` whatever the
    form sent.

    Parameters
    ----------
    values : mapping
        Field name to the widget's value (see :data:`FORM_LABELS`).

    Returns
    -------
    dict
    """
    record: dict[str, Any] = {}
    for name in _TEXT:
        value = values.get(name)
        record[name] = None if is_blank(value) else str(value).strip()
    record["type"] = values.get("type") or None
    elements = values.get("elements") or ()
    record["elements"] = tuple(sorted({int(e) for e in elements})) or None
    for name in ("longitude", "latitude"):
        value = values.get(name)
        record[name] = None if is_blank(value) else (value.strip() if isinstance(value, str) else value)
    record["audience_groups"] = ";".join(values.get("audience_groups") or ()) or None
    capacity = values.get("capacity")
    record["capacity"] = None if is_blank(capacity) or capacity == 0 else capacity
    record["capacity_unit"] = values.get("capacity_unit") if record["capacity"] is not None else None
    record["sensitive"] = bool(values.get("sensitive"))
    record["status"], record["source"] = "pending", "form"
    return record


def what_happens_next() -> str:
    """Return what a submitter is told happens to an entry, and how to follow it (Markdown)."""
    days = settings.review_working_days
    return (
        f"**What happens next.** An officer checks every entry before it appears on the public map, usually "
        f"within {days} working days, and may write to you at your email if anything needs clarifying. "
        "Nothing you sent is public until then. To see where your entry has got to, or why it was turned down, "
        "open [Check a submission](check) (in the menu) and give your reference and your email."
    )


def problems_by_field(problems: Iterable[Problem]) -> dict[str, list[str]]:
    """Group a record's problems by the form field they belong beside.

    Parameters
    ----------
    problems : iterable of Problem
        From :class:`~assetmap._errors.ValidationError`.

    Returns
    -------
    dict
        Form field (a key of :data:`FORM_LABELS`, ``location`` for the place, or
        ``form`` for problems with no field) to messages, each with its fix.
    """
    out: dict[str, list[str]] = {}
    for p in problems:
        where = PROBLEM_FIELD.get(p.field or "", p.field or "form")
        message = p.message[:1].upper() + p.message[1:]
        out.setdefault(where, []).append(f"{message} {p.fix}".strip() if p.fix else message)
    return out


def throttle_wait(times: Sequence[float], now: float, *, limit: int, window_s: float) -> float:
    """Return how many seconds to wait before one more event is allowed (0 when it is allowed now).

    Parameters
    ----------
    times : sequence of float
        When earlier events happened, in seconds (``time.time()``, as the register keeps them).
    now : float
        The time now, on the same clock.
    limit : int
        Most events allowed in any ``window_s`` seconds.
    window_s : float
        Length of the window.
    """
    recent = sorted(t for t in times if now - t < window_s)
    if len(recent) < limit:
        return 0.0
    return max(0.0, recent[len(recent) - limit] + window_s - now)


def example_row(taxonomy: Taxonomy | None = None, *, postcode: str | None = None) -> dict[str, Any]:
    """Return the example row of the bulk-upload template (a made-up group).

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        For the example's type and its elements.
    postcode : str, optional
        A postcode of the area (so the example row is valid as it stands); without
        one the example is placed by coordinates in central England.
    """
    tax = taxonomy or load_taxonomy()
    kind = "community_centre" if "community_centre" in tax.type_keys else tax.type_keys[0]
    return {
        "name": EXAMPLE_NAME,
        "type": kind,
        "elements": ";".join(str(e) for e in tax.asset_type(kind).elements),
        "description": "Weekly lunch club and a warm space. Delete this example row before uploading.",
        "organisation": "Example Street Residents Association",
        "charity_number": "1234567",
        "address": "1 Example Street",
        "postcode": postcode or "",
        "longitude": "" if postcode else -1.5,
        "latitude": "" if postcode else 52.5,
        "website": "https://example.org",
        "email": "hello@example.org",
        "phone": "0121 496 0000",
        "contact_name": "A. Organiser",
        "contact_email": "organiser@example.org",
        "opening_times": "Mon-Fri 10:00-16:00",
        "accessibility": "Step-free entrance; hearing loop",
        "audience": "Everyone",
        "audience_groups": "everyone",
        "capacity": 5,
        "capacity_unit": "sessions_week",
        "sensitive": "no",
    }


def template_bytes(fmt: str, taxonomy: Taxonomy | None = None, *, postcode: str | None = None) -> bytes:
    """Return the bulk-upload template: every column and one example row, as CSV or XLSX.

    Parameters
    ----------
    fmt : {"csv", "xlsx"}
        The file type.
    taxonomy : Taxonomy, optional
        For the example row and, in XLSX, a second sheet listing the types and elements.
    postcode : str, optional
        A postcode of the area for the example row.
    """
    tax = taxonomy or load_taxonomy()
    frame = pd.DataFrame([example_row(tax, postcode=postcode)], columns=list(TEMPLATE_COLUMNS))
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt != "xlsx":
        raise ValueError(f"no template as {fmt!r}; choose csv or xlsx.")
    types = pd.DataFrame(
        {
            "type": [t.key for t in tax.asset_types],
            "meaning": [t.label for t in tax.asset_types],
            "default elements": [";".join(str(e) for e in t.elements) for t in tax.asset_types],
        }
    )
    elements = pd.DataFrame(
        {"element": [e.id for e in tax.elements], "name": [e.name for e in tax.elements]},
    )
    audiences = pd.DataFrame({"audience": [a.key for a in tax.audiences], "meaning": [a.label for a in tax.audiences]})
    fields = pd.DataFrame({"column": list(TEMPLATE_COLUMNS), "meaning": [_meaning(c) for c in TEMPLATE_COLUMNS]})
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="groups", index=False)
        fields.to_excel(writer, sheet_name="columns", index=False)
        types.to_excel(writer, sheet_name="types", index=False)
        elements.to_excel(writer, sheet_name="elements", index=False)
        audiences.to_excel(writer, sheet_name="audiences", index=False)
    return out.getvalue()


def _meaning(column: str) -> str:
    from assetmap.record import FIELDS

    return FIELDS.get(column, "")


def row_report(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return an upload's problems as a table: row, field, problem, how to fix (one line each).

    Parameters
    ----------
    problems : iterable of Problem
        From :func:`assetmap.io.bulk.parse_bulk`.

    Returns
    -------
    DataFrame
        Columns :data:`REPORT_COLUMNS`; ``Row`` is the spreadsheet row (the header
        is row 1), blank for problems with the whole file.
    """
    rows = [
        {
            "Row": p.row,
            "Field": FORM_LABELS.get(p.field or "", p.field or ""),
            "Problem": p.message[:1].upper() + p.message[1:],
            "How to fix": p.fix or "",
        }
        for p in problems
    ]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    frame["Row"] = frame["Row"].astype("Int64")
    return frame


def duplicate_report(duplicates: pd.DataFrame, *, public: bool = False) -> pd.DataFrame:
    """Return likely duplicates as a table to read: row, name, what it may repeat, and why.

    Parameters
    ----------
    duplicates : DataFrame
        From :func:`assetmap.store.find_duplicates` (or ``RegisterStore.find_duplicates``).
    public : bool, default False
        For the public page: a register match is named by its public name alone ("a
        group already listed"), with no record id and no reason (a reason such as
        "same postcode" would describe the other record). Compare only with public
        records as well (``find_duplicates(public=True)``).

    Returns
    -------
    DataFrame
        ``Row``, ``Name``, ``May repeat`` (the other row of the file, or the register's
        record), ``Why``.
    """
    rows = []
    for d in duplicates.to_dict("records"):
        if d["where"] == "batch":
            row = d["other_row"]
            row = int(row) if isinstance(row, int | float) and row == row else row
            other = f"row {row} of this file: {d['other_name']}"
            why = d["reason"]
        elif public:
            other = f"a group already listed: {d['other_name']}"
            why = ""
        else:
            other = f"record {d['duplicate_of']} in the register: {d['other_name']}"
            why = d["reason"]
        rows.append({"Row": d["row"], "Name": d["name"], "May repeat": other, "Why": why})
    frame = pd.DataFrame(rows, columns=["Row", "Name", "May repeat", "Why"])
    frame["Row"] = pd.to_numeric(frame["Row"], errors="coerce").astype("Int64")
    return frame


def stale_records(records: pd.DataFrame, *, as_of: Any = None, days: int | None = None) -> pd.DataFrame:
    """Return the approved records not seen current within ``days`` of ``as_of`` (:func:`assetmap.record.stale_mask`).

    Parameters
    ----------
    records : DataFrame
        Register records (``status``, ``last_confirmed``, ``updated_at``, ``created_at``).
    as_of : date, optional
        Default: today.
    days : int, optional
        Default: ``settings.stale_after_days``.
    """
    return records[records["status"].eq("approved") & stale_mask(records, as_of=as_of, days=days)]
