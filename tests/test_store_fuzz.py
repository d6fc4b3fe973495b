"""Bad input to the form validator and the bulk parser: a clear message or a clean record, never a crash."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetmap import settings as am_settings
from assetmap._errors import Problem, ValidationError
from assetmap.io.bulk import parse_bulk
from assetmap.record import FIELDS, MAX_FIELD_CHARS, MAX_TEXT_CHARS, validate_record
from assetmap.store import find_duplicates, open_store
from assetmap.store.sqlite import SQLiteStore

FUZZ = settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BULK_FUZZ = settings(
    max_examples=30,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "javascript:alert(3)",
    "'; DROP TABLE records; --",
    "Robert'); DELETE FROM audit;--",
    "\u202eevil\u202c",
    "caf\u00e9 \u2603 \U0001f600",
    "a\x00b",
    "line\nbreak",
    "x" * 5_000,
]
BAD_POSTCODES = ["", "SW1A", "ZZ99 9ZZ", "12345", "SW1A 1AAA", "M1 1AE; DROP", "<b>M1</b>", "QQ1 1QQ"]
BAD_NUMBERS = ["", "north", "NaN", "inf", "-inf", "1e309", "51,5", "0", "91", "-181", "53.8", "-1.5", "1e-400"]

text_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(PAYLOADS),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=5),
)
any_values = st.one_of(
    text_values,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(BAD_POSTCODES + BAD_NUMBERS),
    st.lists(st.integers(-3, 20), max_size=4),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    with open_store(tmp_path_factory.mktemp("fuzz") / "register.sqlite") as s:
        yield s  # type: ignore[misc]


def assert_clean(record: dict[str, Any]) -> None:
    """What every record that passes the checks must be, whatever it was made from."""
    assert record["name"] and isinstance(record["name"], str)
    assert record["type"] and record["elements"] and all(1 <= e <= 11 for e in record["elements"])
    x0, y0, x1, y1 = am_settings.uk_lonlat_bounds
    assert math.isfinite(record["longitude"]) and x0 <= record["longitude"] <= x1
    assert math.isfinite(record["latitude"]) and y0 <= record["latitude"] <= y1
    assert isinstance(record["sensitive"], bool)
    for field, value in record.items():
        if isinstance(value, str):
            assert len(value) <= MAX_FIELD_CHARS.get(field, MAX_TEXT_CHARS)
            assert not _CONTROL.search(value), (field, value)
            assert value == value.strip()


def assert_clear(problems: list[Problem]) -> None:
    assert problems
    for p in problems:
        assert isinstance(p.message, str) and p.message.strip()
        assert p.field or p.file, p  # every problem says where
        assert "Traceback" not in str(p)


# -- the form validator -------------------------------------------------------------------------


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {
            "name": text_values,
            "type": st.one_of(st.sampled_from(["food bank", "library", "vcse_group", "Faith group"]), text_values),
            "longitude": any_values,
            "latitude": any_values,
        },
        optional={f: any_values for f in FIELDS if f not in ("name", "type", "longitude", "latitude")},
    )
)
def test_validator_gives_clean_record_or_clear_problems(values: dict[str, Any], store: SQLiteStore) -> None:
    try:
        clean = validate_record(values)
    except ValidationError as exc:
        assert_clear(exc.problems)
        with pytest.raises(ValidationError):  # and the store refuses it just the same
            store.submit(values, actor="fuzz")
        return
    assert_clean(clean)
    rid = store.submit(values, actor="fuzz")
    stored = store.get(rid)
    for field in ("name", "description", "website", "postcode"):
        assert stored[field] == clean[field]  # stored as checked, not altered further
    assert stored["status"] == "pending"  # whatever the form said


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_stored_as_text_or_refused_with_field(payload: str, store: SQLiteStore) -> None:
    record = {"name": payload, "type": "library", "description": payload, "longitude": -1.5, "latitude": 53.8}
    try:
        rid = store.submit(record, actor="fuzz")
    except ValidationError as exc:
        assert {p.field for p in exc.problems} <= {"name", "description"}
        assert len(payload) > 200 or _CONTROL.search(payload) or "\n" in payload
        return
    assert store.get(rid)["name"] == payload.strip()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"postcode": "ZZ99 9ZZ"}, "postcode"),
        ({"postcode": "SW1A"}, "postcode"),
        ({"latitude": 95}, "latitude"),
        ({"longitude": -1.5, "latitude": float("nan")}, "latitude"),
        ({"longitude": 53.8, "latitude": -1.5}, "latitude"),  # swapped
        ({"longitude": None, "latitude": None, "postcode": None}, "location"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"email": "<script>@x"}, "email"),
        ({"phone": "=1+1"}, "phone"),
        ({"elements": "1;99"}, "elements"),
        ({"sensitive": "perhaps"}, "sensitive"),
        ({"type": "spaceship"}, "type"),
    ],
)
def test_invalid_values_are_named(changes: dict[str, Any], field: str) -> None:
    record = {"name": "Group", "type": "library", "longitude": -1.5, "latitude": 53.8, **changes}
    with pytest.raises(ValidationError) as info:
        validate_record(record, row=7, file="groups.csv")
    assert field in {p.field for p in info.value.problems}
    assert all(p.row == 7 and p.file == "groups.csv" for p in info.value.problems)


def test_postcode_only_record_is_placed_from_lookup() -> None:
    lookup = pd.DataFrame(
        {"longitude": [-1.55], "latitude": [53.8], "lsoa_code": ["E01000001"], "terminated": [False]},
        index=pd.Index(["LS11UR"], name="key"),
    )
    clean = validate_record({"name": "G", "type": "library", "postcode": "ls1 1ur"}, postcodes=lookup)
    assert (clean["postcode"], clean["longitude"], clean["latitude"]) == ("LS1 1UR", -1.55, 53.8)


# -- the bulk parser ------------------------------------------------------------------------------

HEADERS = ["name", "type", "latitude", "longitude", "postcode", "description", "website", "status", "Charity No"]
cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(PAYLOADS + BAD_POSTCODES + BAD_NUMBERS + ["food bank", "library", "approved", "SW1A 1AA"]),
    st.just('"unbalanced'),
    st.just("x" * 3_000),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=len(HEADERS) + 2), min_size=0, max_size=6)


def to_csv(header: list[str], rows: list[list[str]], sep: str = ",") -> str:
    quote = lambda v: '"' + v.replace('"', '""') + '"' if any(c in v for c in f'{sep}"\n\r') else v  # noqa: E731
    return "\n".join(sep.join(quote(v) for v in line) for line in [header, *rows])


def check_parse(data: bytes, filename: str, store: SQLiteStore) -> None:
    records, problems = parse_bulk(data, filename)
    assert isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)
    for p in problems:
        assert p.message.strip() and p.file == filename.rsplit("/", 1)[-1], p
    assert len(records) == 0 or records.crs.to_epsg() == 27700
    for record in pd.DataFrame(records.drop(columns="geometry")).to_dict("records"):
        assert record["status"] == "pending" and record["source"] == "bulk"
        assert_clean({k: v for k, v in record.items() if k != "row"})
    if len(records) and not problems:
        before = store.counts()["pending"]
        ids = store.bulk_add(records, actor="fuzz", file=filename)
        assert store.counts()["pending"] == before + len(ids) == before + len(records)


@BULK_FUZZ
@given(
    header=st.lists(st.sampled_from([*HEADERS, "", "junk", "Lat", "Post Code"]), min_size=1, max_size=10),
    rows=tables,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32"]),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_bulk_csv_never_crashes(
    header: list[str], rows: list[list[str]], encoding: str, sep: str, store: SQLiteStore
) -> None:
    data = to_csv(header, rows, sep).encode(encoding, errors="replace")
    check_parse(data, "groups.csv", store)


def column_cells(column: str) -> st.SearchStrategy[str]:
    """Cells that mostly fit their column, with junk mixed in, so that many rows get as far as the row checks."""
    fitting = {
        "name": st.one_of(st.sampled_from(["Lunch Club", "Library", "Food Bank"]), st.text(min_size=1, max_size=20)),
        "type": st.sampled_from(["food bank", "library", "vcse_group", "Faith group", "spaceship"]),
        "latitude": st.one_of(st.floats(50, 58).map(str), st.floats(50, 58).map(str), st.sampled_from(BAD_NUMBERS)),
        "longitude": st.one_of(st.floats(-5, 1.5).map(str), st.floats(-5, 1.5).map(str), st.sampled_from(BAD_NUMBERS)),
        "postcode": st.sampled_from(["SW1A 1AA", "ls1 1ur", *BAD_POSTCODES]),
        "website": st.sampled_from(["https://example.org", "example.org/a?b=1", "javascript:alert(1)", ""]),
        "status": st.sampled_from(["approved", "pending", "rejected", "bogus", ""]),
    }.get(column, st.sampled_from(["", *PAYLOADS[:4]]))
    return st.one_of(*[fitting] * 8, cells)


@st.composite
def plausible_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = ["name", "type", "latitude", "longitude", *draw(st.lists(st.sampled_from(HEADERS[4:]), unique=True))]
    rows = draw(st.lists(st.tuples(*(column_cells(c) for c in header)).map(list), min_size=1, max_size=8))
    return header, rows


@BULK_FUZZ
@given(table=plausible_tables(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_bulk_plausible_csv_rows_are_checked_one_by_one(
    table: tuple[list[str], list[list[str]]], encoding: str, store: SQLiteStore
) -> None:
    header, rows = table
    check_parse(to_csv(header, rows).encode(encoding, errors="replace"), "groups.csv", store)


@FUZZ
@given(data=st.binary(max_size=2_000), filename=st.sampled_from(["groups.csv", "groups.xlsx", "x", "../../etc/passwd"]))
def test_bulk_binary_junk_never_crashes(data: bytes, filename: str, store: SQLiteStore) -> None:
    check_parse(data, filename, store)


@settings(max_examples=15, database=None, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=9, unique=True), rows=tables)
def test_bulk_xlsx_never_crashes(header: list[str], rows: list[list[str]], store: SQLiteStore) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([_CONTROL.sub("", v)[:32_000] for v in row])  # what a worksheet can hold at all
    out = io.BytesIO()
    book.save(out)
    check_parse(out.getvalue(), "groups.xlsx", store)


def test_bulk_good_file_reads_and_bad_rows_are_listed(store: SQLiteStore) -> None:
    text = to_csv(
        HEADERS,
        [
            ["Riverside Library", "library", "53.80", "-1.55", "LS1 1UR", '=HYPERLINK("x")', "", "approved", ""],
            ["", "library", "53.80", "-1.55", "", "", "", "", ""],
            ["Bad Place", "library", "95", "-1.55", "", "", "", "", ""],
            ["Bad Site", "library", "53.8", "-1.5", "", "", "javascript:alert(1)", "", ""],
        ],
    )
    records, problems = parse_bulk(text.encode("cp1252"), "groups.csv")
    assert records["name"].tolist() == ["Riverside Library"]
    assert records["status"].tolist() == ["pending"]  # the file's "approved" is not taken on trust
    assert records["description"].tolist() == ['=HYPERLINK("x")']
    assert [(p.row, p.field) for p in problems] == [(3, "name"), (4, "latitude"), (5, "website")]
    assert all(p.file == "groups.csv" for p in problems)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        ("name,type\n".encode("utf-16"), "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"PK\x03\x04junk", "zip"),
        (b'{"type": "FeatureCollection", "features": []}', "spreadsheet"),
        (b"<html><body>hi</body></html>", "HTML"),
        (b"name,type\n", "no rows"),
        (b"a,b\n1,2\n", "no name column"),
        (b'name,type\n"a","b","c"\n', "cells but the header has"),
    ],
)
def test_bulk_unreadable_files_get_one_clear_message(data: bytes, words: str) -> None:
    records, problems = parse_bulk(data, "groups.csv")
    assert records.empty
    assert len(problems) == 1 and words.lower() in str(problems[0]).lower()
    assert "upload.bin" not in str(problems[0])


# -- duplicates (pure) -------------------------------------------------------------------------


def test_find_duplicates_within_a_batch() -> None:
    batch = pd.DataFrame(
        {
            "name": ["St Mary's Lunch Club", "St Marys Lunch Club", "Chess Club", "Chess Club", "Other"],
            "longitude": [-1.5, -1.5001, -1.5, -1.6, -1.7],
            "latitude": [53.8, 53.8, 53.8, 53.9, 53.7],
            "postcode": [None, None, None, None, None],
            "charity_number": [None, None, None, None, "1000001"],
            "row": [2, 3, 4, 5, 6],
        }
    )
    flags = find_duplicates(batch)
    assert list(zip(flags["row"], flags["other_row"], flags["reason"], strict=True)) == [
        (3, 2, "same name within 50 m")
    ]
    assert find_duplicates(batch, distance_m=20_000)["row"].tolist() == [3, 5]


def test_find_duplicates_never_flags_a_record_against_itself(tmp_path: Path) -> None:
    register = pd.DataFrame({"asset_id": ["A1"], "name": ["Club"], "longitude": [-1.5], "latitude": [53.8]})
    assert find_duplicates(register, register).empty
