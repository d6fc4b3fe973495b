"""The public Add your group page, run headless with streamlit.testing on a copy of the demo area."""

from __future__ import annotations

import io
import re
from pathlib import Path

import hostile
import pandas as pd
import pytest
from officers import copy_demo_area
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.store import open_store
from assetmap.ui import forms
from assetmap.ui.pages import add_group

TIMEOUT_S = 120
POSTCODE = "EB1 1AB"  # in the demo postcode lookup


def _add_page() -> None:
    from assetmap.ui.pages import add_group

    add_group.page()


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", folder)
    return folder


def _records(folder: Path) -> pd.DataFrame:
    if not (folder / "register.sqlite").exists():
        return pd.DataFrame(columns=["asset_id", "name", "status"])
    with open_store(folder) as store:
        return pd.DataFrame(store.records(public=False))


def _fill(at: AppTest, **values: object) -> AppTest:
    fields = {"name": "Eastbrook Walking Group", "postcode": POSTCODE, "contact_email": "lead@example.org"} | values
    for field, value in fields.items():
        if field == "type":
            at.selectbox(key="add_type").set_value(value)
        elif field == "description":
            at.text_area(key="add_description").input(value)
        elif field in ("consent", "sensitive"):
            at.checkbox(key=f"add_{field}").set_value(value)
        else:
            at.text_input(key=f"add_{field}").input(value)
    if "type" not in values:
        at.selectbox(key="add_type").set_value("vcse_group")
    if "consent" not in values:
        at.checkbox(key="add_consent").check()
    return at


def _send(at: AppTest) -> AppTest:
    return at.button(key="add_send").click().run()


def _open() -> AppTest:
    at = AppTest.from_function(_add_page, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    return at


def _errors(at: AppTest) -> str:
    return "\n".join(e.value.replace("\\", "") for e in at.error)


def test_valid_submission_is_stored_pending_with_a_reference(area: Path) -> None:
    at = _send(_fill(_open()))
    assert not at.exception
    records = _records(area)
    assert len(records) == 1
    record = records.iloc[0]
    assert record["status"] == "pending" and record["source"] == "form"
    assert record["contact_email"] == "lead@example.org" and record["postcode"] == POSTCODE
    assert str(record["area_code"]).startswith("E05")  # placed in a demo ward
    message = at.success[0].value.replace("\\", "")
    with open_store(area) as store:
        reference = store.references([record["asset_id"]])[record["asset_id"]]
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert f"Your reference is **{reference}**" in message and record["asset_id"] not in message
    # What happens next, and when, and how to follow it.
    assert "An officer checks every entry before it appears on the public map, usually within 10 working days" in (
        message
    )
    assert "open [Check a submission](check) (in the menu) and give your reference and your email" in message
    # The confirmation replaces the form; "Add another group" brings an empty one back.
    at = at.button(key="add_another").click().run()
    assert at.text_input(key="add_name").value == ""


def _by_coordinates(latitude: str, longitude: str, **values: object) -> AppTest:
    at = _open()
    at.radio(key="add_locate").set_value("coords").run()
    return _send(_fill(at, postcode="", latitude=latitude, longitude=longitude, **values))


def test_typed_coordinates_place_the_group(area: Path) -> None:
    _by_coordinates("51.5537", "-0.1048")
    records = _records(area)
    assert len(records) == 1 and abs(records["latitude"].iloc[0] - 51.5537) < 1e-9


def test_bad_postcode_and_email_are_named_beside_their_fields_and_nothing_is_stored(area: Path) -> None:
    at = _send(_fill(_open(), postcode="not a postcode", email="nobody-at-example"))
    errors = _errors(at)
    assert "'not a postcode' is not a UK postcode" in errors
    assert "'nobody-at-example' is not an email address" in errors
    assert "Please check: Postcode, Public email" in errors
    assert _records(area).empty
    assert at.text_input(key="add_name").value == "Eastbrook Walking Group"  # what was typed is kept


def test_unknown_postcode_and_missing_type_are_reported(area: Path) -> None:
    at = _open()
    at.text_input(key="add_name").input("Group")
    at.text_input(key="add_postcode").input("EB9 9ZZ")
    at.checkbox(key="add_consent").check()
    at = _send(at)
    errors = _errors(at)
    assert "not in the postcode lookup" in errors and "The type is blank" in errors
    assert _records(area).empty


def test_the_private_email_is_required_and_the_first_field_in_error_is_brought_into_view(area: Path) -> None:
    at = _send(_fill(_open(), contact_email="  "))
    assert "Your email is blank. Give it, so that an officer can ask about the entry" in _errors(at)
    assert "Please check: Your email (private)." in _errors(at)
    assert _records(area).empty
    scripts = [h.proto.body for h in at.html if "scrollIntoView" in h.proto.body]
    assert len(scripts) == 1 and '".st-key-add_contact_email"' in scripts[0]
    # The first field in error, in the order of the form, is the one brought into view.
    at = _send(_fill(at, postcode="not a postcode", contact_email=""))
    scripts = [h.proto.body for h in at.html if "scrollIntoView" in h.proto.body]
    assert len(scripts) == 1 and '".st-key-add_postcode"' in scripts[0]
    # Typing afterwards is not interrupted: the next run brings nothing into view.
    at.text_input(key="add_name").input("Another Name").run()
    assert not [h for h in at.html if "scrollIntoView" in h.proto.body]


def test_consent_is_required(area: Path) -> None:
    at = _send(_fill(_open(), consent=False))
    assert "Tick the box to agree" in _errors(at)
    assert _records(area).empty


def test_honeypot_stores_nothing_and_says_thank_you(area: Path) -> None:
    at = _open()
    at.text_input(key=add_group.HONEYPOT_KEY).input("http://spam.example")
    at = _send(_fill(at))
    assert at.success[0].value == "Thank you. Your submission has been received."
    assert _records(area).empty


def test_submissions_are_throttled_per_session(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_submissions", 1)
    at = _send(_fill(_open()))
    at = at.button(key="add_another").click().run()
    at = _send(_fill(at, name="A Second Group"))
    assert "Please wait" in _errors(at)
    assert _records(area)["name"].tolist() == ["Eastbrook Walking Group"]


def test_a_new_session_is_still_throttled(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh AppTest is a new browser session, as a reload or a new tab would be.
    monkeypatch.setattr(settings, "max_submissions", 1)
    _send(_fill(_open()))
    at = _send(_fill(_open(), name="A Second Group"))
    assert "Please wait about 10 minutes" in _errors(at)
    assert _records(area)["name"].tolist() == ["Eastbrook Walking Group"]


def test_a_bulk_upload_in_a_new_session_is_throttled_too(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_submissions", 1)
    _send(_fill(_open()))
    at = _upload(_open(), _sheet([GOOD]))  # a new session
    at.checkbox(key="add_bulk_consent").check()
    at = at.run().button(key="add_bulk_send").click().run()
    assert "Please wait" in _errors(at)
    assert len(_records(area)) == 1


def test_markup_in_the_name_is_stored_as_typed_and_shown_escaped(area: Path) -> None:
    name = "<script>alert(1)</script> **Club**"
    at = _send(_fill(_open(), name=name))
    assert _records(area)["name"].tolist() == [name]
    shown = at.success[0].value
    assert "<script>" not in shown and "\\<script\\>" in shown and "\\*\\*Club\\*\\*" in shown


# -- bulk upload --------------------------------------------------------------------------------------


def _sheet(rows: list[dict], *, keep_example: bool = False) -> bytes:
    template = pd.read_csv(io.BytesIO(forms.template_bytes("csv", postcode=POSTCODE)), dtype=str)
    frame = pd.concat([template if keep_example else template.iloc[:0], pd.DataFrame(rows)], ignore_index=True)
    return frame.to_csv(index=False).encode()


def _upload(at: AppTest, data: bytes, name: str = "groups.csv") -> AppTest:
    at.file_uploader(key="add_bulk_file_0").set_value((name, data, "text/csv"))
    return at.run()


GOOD = {"name": "Riverside Chess Club", "type": "sports_club", "latitude": "51.552", "longitude": "-0.103"}
BAD = {"name": "Broken Row Group", "type": "vcse_group", "postcode": "ZZ", "email": "nope"}


def _report(at: AppTest) -> pd.DataFrame:
    """The report of problems as shown, its Markdown escapes taken out."""
    shown = next(t.value for t in at.table if "How to fix" in t.value.columns)
    return shown.map(lambda v: v.replace("\\", ""))


def test_bulk_upload_with_a_bad_row_reports_it_and_stores_nothing(area: Path) -> None:
    at = _upload(_open(), _sheet([GOOD, BAD]))
    assert not at.exception
    report = _report(at)
    assert set(report["Row"]) == {"3"}
    assert "Postcode" in set(report["Field"])
    send = at.button(key="add_bulk_send")
    assert send.disabled
    assert _records(area).empty


def test_bulk_upload_sends_only_the_valid_rows_when_asked(area: Path) -> None:
    at = _upload(_open(), _sheet([GOOD, BAD]))
    at.checkbox(key="add_bulk_only_valid").check()
    at.checkbox(key="add_bulk_consent").check()
    at = at.run()
    at = at.button(key="add_bulk_send").click().run()
    assert not at.exception
    records = _records(area)
    assert sorted(records["name"]) == ["Riverside Chess Club"]
    assert set(records["status"]) == {"pending"} and set(records["source"]) == {"bulk"}
    assert any("received 1 groups" in s.value for s in at.success)
    # Each group's own short reference, to check it later.
    with open_store(area) as store:
        reference = store.references(records["asset_id"].tolist())[records["asset_id"].iloc[0]]
    refs = next(t.value for t in at.table if "Reference" in t.value.columns).map(lambda v: v.replace("\\", ""))
    assert refs.to_dict("records") == [{"Row": "2", "Name": "Riverside Chess Club", "Reference": reference}]


def test_the_templates_example_row_sent_unchanged_is_refused_by_row_with_the_fix(area: Path) -> None:
    at = _upload(_open(), _sheet([GOOD], keep_example=True))
    report = _report(at)
    assert report.to_dict("records") == [
        {
            "Row": "2",
            "Field": "Name of your group or service",
            "Problem": "Row 2 is the template's example (Example Street Community Hall), not a group of yours.",
            "How to fix": "Delete the example row, or write your own group's details over it, and upload the file "
            "again.",
        }
    ]
    assert at.button(key="add_bulk_send").disabled
    assert _records(area).empty


def test_bulk_duplicates_are_flagged_in_the_file_and_against_public_records_only(area: Path) -> None:
    # A pending submission and an approved refuge (sensitive) at the same place: neither is public.
    _by_coordinates("51.552", "-0.103", name="Riverside Chess Club", contact_email="zed.private@example.org")
    with open_store(area) as store:
        refuge = store.submit(
            {**GOOD, "type": "vcse_group", "name": "Riverside Chess Club Refuge", "sensitive": True},
            actor="officer",
        )
        store.approve(refuge, actor="officer")
        (pending,) = store.records(status="pending", public=False)["asset_id"]
    rows = [GOOD, {**GOOD, "name": "Riverside Chess Club."}]
    at = _upload(_open(), _sheet(rows))
    assert not at.exception
    table = next(d.value for d in at.dataframe if "May repeat" in d.value.columns)
    text = table.to_string()
    assert "row 2 of this file" in " ".join(table["May repeat"])
    # The public page is no oracle: nothing of the pending or the sensitive record shows.
    for secret in (pending, refuge, "Refuge", "zed.private", "already listed", "register"):
        assert secret not in text, secret
    # Once approved, the group is public, and named as the public map names it: no id, no reason.
    with open_store(area) as store:
        store.approve(pending, actor="officer")
    at = _upload(_open(), _sheet(rows))
    table = next(d.value for d in at.dataframe if "May repeat" in d.value.columns)
    listed = table[table["May repeat"].str.startswith("a group already listed")]
    assert set(listed["May repeat"]) == {"a group already listed: Riverside Chess Club"}
    assert (listed["Why"] == "").all()
    assert pending not in table.to_string() and refuge not in table.to_string()


def test_bulk_upload_refuses_other_file_kinds(area: Path) -> None:
    at = _upload(_open(), b"\x89PNG\r\n\x1a\n\x00\x00 not a sheet", name="groups.csv")
    report = _report(at)
    assert "binary file" in report["Problem"].iloc[0]
    assert _records(area).empty


def test_template_has_every_column_and_a_valid_example(area: Path) -> None:
    from assetmap.area.load import load_area
    from assetmap.io.bulk import parse_bulk

    postcodes = load_area(area).postcodes
    for fmt in ("csv", "xlsx"):
        data = forms.template_bytes(fmt, postcode=POSTCODE)
        records, problems = parse_bulk(data, f"template.{fmt}", postcodes=postcodes)
        # The example itself is valid but for being the example: refused as such, and only so.
        assert [(p.row, p.field) for p in problems] == [(2, "name")] and len(records) == 0, fmt
        assert "the template's example" in problems[0].message
        renamed = pd.read_excel(io.BytesIO(data)) if fmt == "xlsx" else pd.read_csv(io.BytesIO(data))
        renamed["name"] = "Our Own Hall"
        records, problems = parse_bulk(renamed.to_csv(index=False).encode(), "groups.csv", postcodes=postcodes)
        assert problems == [] and len(records) == 1, fmt
    header = forms.template_bytes("csv").decode().splitlines()[0].split(",")
    assert header == list(forms.TEMPLATE_COLUMNS)


def test_privacy_notice_says_how_long_details_are_kept_and_how_to_see_or_erase_them(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (notice,) = [i.value for i in _open().info if "Privacy notice" in i.value]
    assert "erased 12 months after its last change" in notice
    assert "see everything it holds about you, or to erase your details" in notice
    monkeypatch.setattr(settings, "personal_data_retention_days", 90)
    assert any("erased 90 days after" in i.value for i in _open().info)
    # A misconfigured period is refused by housekeeping; the notice stays true without a number.
    monkeypatch.setattr(settings, "personal_data_retention_days", "a year")
    assert "erased at the end of the period the council keeps them for" in add_group.privacy_notice()


@pytest.mark.parametrize(
    ("name", "build", "says"),
    [
        ("groups.xlsx", hostile.xlsx_bomb, "times its packed size"),
        ("groups.xlsx", lambda: hostile.xlsx_rows(settings.max_bulk_rows + 1), f"more than {settings.max_bulk_rows}"),
        ("groups.xlsx", hostile.xlsx_entities, "declares a DOCTYPE or entities"),
        ("groups.xlsx", hostile.xlsx_cut_sheet, "stops part way"),
        ("groups.xlsx", hostile.xlsx_cut_archive, "cut short"),
        ("groups.csv", hostile.mixed_csv, "line 3: not UTF-8 text"),
        ("groups.csv", lambda: b"name,type,latitude,longitude\n", "a header but no rows"),
    ],
)
def test_bulk_upload_of_a_hostile_file_is_refused_with_a_clear_message(area: Path, name, build, says) -> None:
    at = _upload(_open(), build(), name=name)
    assert not at.exception
    assert "Fix these rows" in _errors(at)
    report = _report(at)
    assert len(report) == 1 and says.replace(",", "").lower() in report["Problem"].iloc[0].replace(",", "").lower()
    assert _records(area).empty


def test_audience_chosen_from_the_list_is_stored(area: Path) -> None:
    at = _fill(_open())
    at.multiselect(key="add_audience_groups").set_value(["older", "families"])
    at = _send(at)
    assert not at.exception
    assert _records(area).iloc[0]["audience_groups"] == "older;families"


def test_audience_left_empty_takes_the_types(area: Path) -> None:
    at = _send(_fill(_open(), type="youth_service"))
    assert not at.exception
    assert _records(area).iloc[0]["audience_groups"] == "children"
