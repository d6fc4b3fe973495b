"""The checks every asset record meets, over a frame of records at once.

One set of rules serves a register file (:func:`assetmap.io.assets.read_assets`), a
bulk upload, the public form, an officer's edit and an OpenStreetMap or Open Referral
import (:func:`assetmap.record.validate_record` is one row through
:func:`check_records`), so that a rule and its message are written once.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from assetmap._errors import Problem
from assetmap.lonlat import LONLAT_PROBLEMS, read_lonlat
from assetmap.record import (
    FALSE_WORDS,
    FIELDS,
    MAX_FIELD_CHARS,
    MAX_TEXT_CHARS,
    SOURCES,
    STATUSES,
    TRUE_WORDS,
    geocode_postcodes,
    is_blank,
    normalise_postcode,
    parse_capacity,
    parse_elements,
)
from assetmap.taxonomy import Taxonomy, load_taxonomy

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
    "area_code",
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
_NO_VALUE = re.compile(r"^\s*(n/?a|none|not known|unknown|-+)\s*$", re.IGNORECASE)


def no_value(value: object) -> bool:
    """Whether a cell says there is no value: blank, "N/A", "none", "not known", "unknown" or dashes.

    Registers write these where a place has no such contact: no value, not a bad one.
    """
    return value is None or (isinstance(value, float) and value != value) or bool(_NO_VALUE.match(str(value)))


#: The fix for a postcode the lookup does not hold.
UNKNOWN_POSTCODE_FIX = "Check it (a new or mistyped postcode?), or give latitude/longitude instead."


class _Bad(Exception):
    """One value breaks a rule: the message and the fix."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


@dataclass(frozen=True)
class Checks:
    """Which rules apply beyond those every record meets.

    Every record has a name, a known type, elements that exist, a postcode that is one
    (where given), a known status, and yes/no and date fields that are such.

    Parameters
    ----------
    stored : bool
        The rules for a record the register stores and publishes: text within its length
        and free of control characters, a usable id, a known source, and contact details
        (email, website, phone, charity number) well formed. A register file read for
        analysis is not held to these: councils' files often carry a person's name in a
        contact column, and the file is never written back.
    locate : bool
        Place each record by its longitude/latitude, else its postcode in the lookup. A
        file reader places rows itself (from geometry, grid references...) and says no.
    """

    stored: bool = True
    locate: bool = True


def _map_values(values: Sequence[Any], fn: Callable[[Any], Any]) -> list[Any]:
    """``fn`` of each value, computed once per distinct value (a file repeats its types and postcodes)."""
    seen: dict[tuple[type, Hashable], Any] = {}
    out = []
    for value in values:
        try:
            key = (type(value), value)
            known = seen.get(key, _UNSEEN)
        except TypeError:  # a list or a dict: not hashable, checked on its own
            out.append(fn(value))
            continue
        if known is _UNSEEN:
            known = seen[key] = fn(value)
        out.append(known)
    return out


_UNSEEN = object()


@dataclass(frozen=True)
class _Outcome:
    """A rule's result for one value: the clean value, or what is wrong with it."""

    value: Any = None
    bad: _Bad | None = None

    @classmethod
    def of(cls, fn: Callable[[Any], Any], value: Any) -> _Outcome:
        try:
            return cls(value=fn(value))
        except _Bad as exc:
            return cls(bad=exc)


class _Checker:
    """Applies the rules to a frame, column by column, collecting problems by row and field."""

    def __init__(self, columns: dict[str, list[Any]], tax: Taxonomy, rows: list[int | None], file: str | None):
        self.columns, self.tax, self.file = columns, tax, file
        self.rows = rows
        self.n = len(rows)
        self.problems: list[Problem] = []
        self.fields_at: list[set[str]] = [set() for _ in range(self.n)]
        self.record_of: list[int] = []  # the record (by position) of each problem
        self.out: dict[str, list[Any]] = {f: [None] * self.n for f in (*FIELDS, "area_code")}

    def column(self, field: str) -> list[Any]:
        return self.columns[field] if field in self.columns else [None] * self.n

    def flag(self, i: int, field: str, message: str, fix: str) -> None:
        self.fields_at[i].add(field)
        self.problems.append(Problem(message, file=self.file, row=self.rows[i], field=field, fix=fix))
        self.record_of.append(i)

    def flag_mask(self, mask: np.ndarray, field: str, message: str, fix: str) -> None:
        for i in np.flatnonzero(mask):
            self.flag(int(i), field, message, fix)

    def apply(self, field: str, fn: Callable[[Any], Any]) -> None:
        """Set ``out[field]`` to ``fn`` of each value given for ``field``; flag the values it refuses."""
        results = _map_values(self.column(field), lambda v: _Outcome.of(fn, v))
        for i, result in enumerate(results):
            if result.bad is not None:
                self.flag(i, field, result.bad.message, result.bad.fix)
            else:
                self.out[field][i] = result.value

    # -- the rules ------------------------------------------------------------------------

    def text(self) -> None:
        for field in _TEXT_FIELDS:
            self.apply(field, functools.partial(_clean_text, field=field))

    def kept_text(self) -> None:
        for field in _TEXT_FIELDS:
            if field in self.columns:
                self.out[field] = [None if is_blank(v) else v for v in self.columns[field]]

    def name(self) -> None:
        for i, value in enumerate(self.out["name"]):
            if is_blank(value) and "name" not in self.fields_at[i]:
                self.flag(i, "name", "the name is blank.", "Give the group or place a name.")

    def asset_id(self) -> None:
        for i, value in enumerate(self.out["asset_id"]):
            if value is not None and not _ID_RE.match(str(value)):
                self.out["asset_id"][i] = None
                self.flag(i, "asset_id", f"'{value}' is not a usable id.", "Use letters, digits, '-', '_', '.' or ':'.")

    def type_and_elements(self) -> None:
        labels = f"Choose one of: {', '.join(t.label for t in self.tax.asset_types)}."
        self.apply("type", lambda v: _type_key(v, self.tax, labels))
        valid = {e.id for e in self.tax.elements}
        self.apply("elements", lambda v: _elements(v, valid))
        for i, (given, key) in enumerate(zip(self.out["elements"], self.out["type"], strict=True)):
            if not given and key is not None:
                self.out["elements"][i] = tuple(sorted(self.tax.asset_type(key).elements))
            elif not given:
                self.out["elements"][i] = None

    def audiences_and_capacity(self) -> None:
        listed = f"List any of {', '.join(a.key for a in self.tax.audiences)} separated by ';', or leave it blank."
        self.apply("audience_groups", lambda v: _parsed(self.tax.normalise_audiences, v, listed))
        for i, (given, key) in enumerate(zip(self.out["audience_groups"], self.out["type"], strict=True)):
            self.out["audience_groups"][i] = self.tax.audiences_of(given or (), key, self.out["audience"][i])
        units = self.column("capacity_unit")
        fix = "Give a number of sessions a week or of places, and capacity_unit sessions_week or places."
        for i, value in enumerate(self.column("capacity")):
            try:
                self.out["capacity"][i], self.out["capacity_unit"][i] = parse_capacity(value, units[i])
            except ValueError as exc:
                self.flag(i, "capacity", f"{exc}.", fix)

    def postcode(self) -> None:
        self.apply("postcode", _postcode)

    def locate(self, postcodes: pd.DataFrame | None) -> None:
        coords = read_lonlat(self.column("longitude"), self.column("latitude"))
        for kind in ("bad", "swapped", "outside"):
            self.flag_mask(getattr(coords, kind), "latitude", *LONLAT_PROBLEMS[kind])
        placed = ~np.isnan(coords.lon)
        lon, lat = coords.lon.copy(), coords.lat.copy()
        # A row whose coordinates or postcode were refused is not also said to have no location.
        todo = [i for i in range(self.n) if not placed[i] and not self.fields_at[i] & {"latitude", "postcode"}]
        codes = [i for i in todo if self.out["postcode"][i] is not None and postcodes is not None]
        if codes:
            hit = geocode_postcodes(pd.Series([self.out["postcode"][i] for i in codes]), postcodes)
            for j, i in enumerate(codes):
                if bool(hit["found"].iloc[j]):
                    lon[i], lat[i] = float(hit["longitude"].iloc[j]), float(hit["latitude"].iloc[j])
                else:
                    code = self.out["postcode"][i]
                    self.flag(i, "postcode", f"postcode '{code}' is not in the postcode lookup.", UNKNOWN_POSTCODE_FIX)
        for i in sorted(set(todo) - set(codes)):
            self.flag(i, "location", "the record has no location.", "Give a postcode, or place the group on the map.")
        self.out["longitude"] = [None if math.isnan(v) else float(v) for v in lon]
        self.out["latitude"] = [None if math.isnan(v) else float(v) for v in lat]

    def contacts(self) -> None:
        for field in ("email", "contact_email", "website", "phone", "charity_number"):
            # Registers write "N/A" or "none" where there is no such contact: no value, not a bad one.
            self.out[field] = [None if no_value(v) else v for v in self.out[field]]
        for field in ("email", "contact_email"):
            self.check_shape(
                field, _EMAIL_RE, lambda v: f"'{v[:60]}' is not an email address.", "Write it as name@example.org."
            )
        self.check_shape(
            "website", _URL_RE, lambda v: "the website is not a web address.", "Write it as https://example.org."
        )
        self.check_shape(
            "phone",
            _PHONE_RE,
            lambda v: "the phone number holds characters a number cannot.",
            "Write digits and spaces, e.g. 020 7946 0000.",
        )
        fix = "Write the number only, e.g. 1123456 or SC012345."
        for i, value in enumerate(self.out["charity_number"]):
            if value is None:
                continue
            compact = str(value).replace(" ", "")
            if _CHARITY_RE.match(compact):
                self.out["charity_number"][i] = compact.upper()
            else:
                self.flag(i, "charity_number", "not a charity or company number.", fix)

    def check_shape(self, field: str, pattern: re.Pattern[str], message: Callable[[str], str], fix: str) -> None:
        for i, value in enumerate(self.out[field]):
            if value is not None and not pattern.match(str(value)):
                self.flag(i, field, message(str(value)), fix)

    def choices(self, *, stored: bool) -> None:
        self.apply("sensitive", _yes_no)
        self.apply("status", lambda v: _choice(v, "status", STATUSES))
        if stored:
            self.apply("source", lambda v: _choice(v, "source", SOURCES))
        else:
            self.kept("source")
        self.dates()
        for field in ("created_at", "updated_at"):
            if stored:
                self.out[field] = [None if is_blank(v) else str(v)[:40] for v in self.column(field)]
            else:
                self.kept(field)

    def kept(self, field: str) -> None:
        self.out[field] = [None if is_blank(v) else v for v in self.column(field)]

    def dates(self) -> None:
        values = self.column("last_confirmed")
        quick = _map_values(values, lambda v: _Outcome.of(_iso_date, v))
        for i, result in enumerate(quick):
            self.out["last_confirmed"][i] = result.value
        slow = [i for i, r in enumerate(quick) if r.bad is not None]
        if not slow:
            return
        # Dates written the British way (1/3/2025, 1 March 2025), read together.
        text = pd.Series([str(values[i]).strip() for i in slow], dtype="string")
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
        for i, day in zip(slow, parsed, strict=True):
            if pd.isna(day):
                shown = str(values[i])[:30]
                self.flag(i, "last_confirmed", f"'{shown}' is not a date.", "Write it as YYYY-MM-DD.")
            else:
                self.out["last_confirmed"][i] = day.date().isoformat()


def _clean_text(value: object, field: str) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, str | int | float):
        raise _Bad(f"a {type(value).__name__} where text was expected.", "Type it as text.")
    text = str(value).strip()
    limit = MAX_FIELD_CHARS.get(field, MAX_TEXT_CHARS)
    if len(text) > limit:
        raise _Bad(f"the text is {len(text):,} characters, over the limit of {limit:,}.", "Shorten it.")
    if _CONTROL_RE.search(text) or (field not in _MULTILINE and ("\n" in text or "\r" in text)):
        raise _Bad("the text holds control characters or line breaks.", "Type it again as plain text on one line.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _type_key(value: object, tax: Taxonomy, choose: str) -> str:
    if is_blank(value):
        raise _Bad("the type is blank.", choose)
    if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS["type"]:
        raise _Bad("the type is not one of the list.", choose)
    key = tax.normalise_type(value)
    if key is None:
        raise _Bad(f"unknown asset type '{value.strip()[:60]}'.", choose)
    return key


def _elements(value: object, valid: set[int]) -> tuple[int, ...] | None:
    if isinstance(value, tuple | list | set | frozenset):
        value = ";".join(str(v) for v in value)
    if is_blank(value):
        return None
    shown = str(value).strip()[:30]
    try:
        if len(str(value)) > 100:
            raise ValueError("too long a list")
        return parse_elements(value, valid)
    except (ValueError, OverflowError) as exc:
        raise _Bad(
            f"elements '{shown}': {exc}.", "List element numbers 1-11 separated by ';', or leave blank for the type's."
        ) from exc


def _parsed(parse: Callable[[Any], Any], value: object, fix: str) -> Any:
    try:
        return None if is_blank(value) else parse(value)
    except ValueError as exc:
        raise _Bad(f"{exc}.", fix) from exc


def _postcode(value: object) -> str | None:
    if is_blank(value):
        return None
    code = normalise_postcode(value) if isinstance(value, str) else None
    if code is None:
        raise _Bad(
            f"'{str(value).strip()[:20]}' is not a UK postcode.",
            "Check it (e.g. M1 1AE), or give latitude/longitude or place the group on the map instead.",
        )
    return code


def _yes_no(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if is_blank(value):
        return False
    word = str(value).strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise _Bad(f"'{str(value).strip()[:30]}' is not yes or no.", "Write yes or no (true or false).")
    return word in TRUE_WORDS


def _choice(value: object, field: str, allowed: tuple[str, ...]) -> str | None:
    if is_blank(value):
        return None
    text = str(value).strip().lower()
    if text not in allowed:
        raise _Bad(f"unknown {field} '{str(value)[:30]}'.", f"Use one of: {', '.join(allowed)}.")
    return text


def _iso_date(value: object) -> str | None:
    if is_blank(value):  # first: pandas' NaT is a datetime too
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError as exc:  # read again below, with the other ways of writing a date
        raise _Bad("not an ISO date.", "Write it as YYYY-MM-DD.") from exc


def check_records(
    records: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    postcodes: pd.DataFrame | None = None,
    rows: Sequence[int | None] | None = None,
    file: str | None = None,
    checks: Checks = Checks(),
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check asset records against the record rules; return them clean, with every problem.

    Text is stripped; markup and formula-like text are kept as typed (they are escaped
    when shown and neutralised when exported, never run). Every record must have a
    name, a known type, elements that exist, a postcode that is one (where given), a
    known status, a yes/no ``sensitive`` and a date ``last_confirmed``; ``checks`` adds
    the rules of a stored record and its location.

    Parameters
    ----------
    records : DataFrame
        One row per record, columns named as :data:`assetmap.record.FIELDS` (plus
        ``area_code``); other columns are ignored, missing ones count as blank.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the shipped taxonomy).
    postcodes : DataFrame, optional
        Postcode lookup (:func:`assetmap.io.postcodes.read_postcodes`), used with
        ``checks.locate`` where a record has a postcode and no coordinates.
    rows : sequence of int, optional
        Spreadsheet row of each record, named in its problems.
    file : str, optional
        File the records came from, named in every problem.
    checks : Checks
        Which rules apply beyond those every record meets.

    Returns
    -------
    clean : DataFrame
        Aligned with ``records``, columns :data:`~assetmap.record.FIELDS` and ``area_code``
        as Python values: text (blank as None), ``type`` a key, ``elements`` a sorted
        tuple of ints (the type's where not given), ``postcode`` in its standard form,
        ``sensitive`` a bool, ``last_confirmed`` an ISO date; with ``checks.locate``,
        ``longitude``/``latitude`` as floats. A row with a problem holds None where
        its value was refused; ``clean.attrs["refused"]`` lists the positions of the
        records with a problem.
    problems : list of Problem
        Every problem, record by record (each in the order of the rules), each naming
        its field and the fix.
    """
    wanted = [c for c in records.columns if c in _FIELD_SET]
    where: list[int | None] = list(rows) if rows is not None else [None] * len(records)
    checker = _run(
        {c: records[c].tolist() for c in wanted},
        where,
        taxonomy=taxonomy,
        postcodes=postcodes,
        file=file,
        checks=checks,
    )
    # Record by record, each in the order of the rules.
    order = sorted(range(len(checker.problems)), key=checker.record_of.__getitem__)
    problems = [checker.problems[k] for k in order]
    clean = pd.DataFrame({f: _objects(v) for f, v in checker.out.items()}, index=records.index)
    clean.attrs["refused"] = sorted(set(checker.record_of))
    return clean, problems


def check_record(
    record: dict[str, Any],
    *,
    taxonomy: Taxonomy | None = None,
    postcodes: pd.DataFrame | None = None,
    row: int | None = None,
    file: str | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Check one record as :func:`check_records` checks a frame of them (as a one-row batch).

    Parameters
    ----------
    record : dict
        Field name to value.
    taxonomy, postcodes, file
        As for :func:`check_records`.
    row : int, optional
        Spreadsheet row of the record, named in its problems.

    Returns
    -------
    clean : dict
        Every field of :data:`~assetmap.record.FIELDS` plus ``area_code``, as in a row of
        :func:`check_records`'s frame.
    problems : list of Problem
        Every problem, in the order of the rules.
    """
    columns = {f: [record.get(f)] for f in _FIELD_SET if f in record}
    checker = _run(columns, [row], taxonomy=taxonomy, postcodes=postcodes, file=file, checks=Checks())
    return {f: v[0] for f, v in checker.out.items()}, checker.problems


_FIELD_SET = frozenset({*FIELDS, "area_code"})


def _run(
    columns: dict[str, list[Any]],
    rows: list[int | None],
    *,
    taxonomy: Taxonomy | None,
    postcodes: pd.DataFrame | None,
    file: str | None,
    checks: Checks,
) -> _Checker:
    """Apply every rule in turn to the columns given (each a list, one value per record)."""
    checker = _Checker(columns, taxonomy or load_taxonomy(), rows, file)
    if checks.stored:
        checker.text()
        checker.name()
        checker.asset_id()
    else:
        checker.kept_text()
        checker.name()
    checker.type_and_elements()
    checker.audiences_and_capacity()
    checker.postcode()
    if checks.locate:
        checker.locate(postcodes)
    else:
        checker.kept("longitude")
        checker.kept("latitude")
    if checks.stored:
        checker.contacts()
    checker.choices(stored=checks.stored)
    return checker


def _objects(values: Sequence[Any]) -> np.ndarray:
    """Return values as a one-dimensional array of Python objects (tuples stay whole)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def records_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return records (field name to value) as a frame for :func:`check_records`, each value kept as given.

    Every column is of Python objects, so a yes/no stays a ``bool`` and a number stays
    a number rather than being converted to a common type.
    """
    fields = [*FIELDS, "area_code"]
    return pd.DataFrame({f: _objects([r.get(f) for r in records]) for f in fields})
