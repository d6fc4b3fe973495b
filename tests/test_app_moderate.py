"""The Moderate page and the access rules, run headless with streamlit.testing on a copy of the demo area.

A signed-out visitor is refused Moderate and Data and sees no pending record or
private field anywhere; an officer signs in through the form, reviews the queue,
approves (the group is on the public Map at once), rejects with a reason, edits,
confirms stale records and exports with private fields.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import make_tiny_area
from htmlread import map_twin, page_text
from officers import OFFICER, copy_demo_area, sign_in, with_officer
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.area.register import export_register
from assetmap.store import open_store
from assetmap.ui import auth as ui_auth
from assetmap.ui.pages import moderate

TIMEOUT_S = 120

# A demo postcode's place, and a pending group with private contacts.
LON, LAT = -0.104803, 51.553772
PENDING = {
    "name": "Moonlight Knitters Circle",
    "type": "vcse_group",
    "longitude": LON,
    "latitude": LAT,
    "postcode": "EB1 1AB",
    "contact_name": "Private Person Zed",
    "contact_email": "zed.private@example.org",
}
PRIVATE = ("Private Person Zed", "zed.private@example.org")


def _moderate_page() -> None:
    from assetmap.ui.pages import moderate

    moderate.page()


def _data_page() -> None:
    from assetmap.ui.pages import data

    data.page()


def _signed_out_page() -> None:
    from assetmap.ui import auth

    auth.sign_out()
    auth.require_officer()


def _map_page() -> None:
    from assetmap.ui.pages import map

    map.page()


def _public_page(name: str) -> None:
    import importlib

    importlib.import_module(f"assetmap.ui.pages.{name}").page()


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo area, on show, with one pending group in its register."""
    folder = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", folder)
    monkeypatch.setattr(settings, "areas_dir", tmp_path / "areas")
    with open_store(folder) as store:
        store.submit(PENDING, actor="public form")
    return folder


def _pending_id(folder: Path) -> str:
    with open_store(folder) as store:
        return store.records(status="pending", public=False)["asset_id"].iloc[0]


def _app(fn) -> AppTest:
    return with_officer(AppTest.from_function(fn, default_timeout=TIMEOUT_S))


def _signed_in(fn=_moderate_page) -> AppTest:
    at = _app(fn).run()
    at = sign_in(at)
    assert not at.exception
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The last table on the page with this column."""
    return [d.value for d in at.dataframe if column in d.value.columns][-1]


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# -- signed out ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [_moderate_page, _data_page], ids=["moderate", "data"])
def test_signed_out_visitor_is_refused_and_sees_nothing_private(area: Path, fn) -> None:
    at = _app(fn).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Officers only"]
    assert "Sign in" in at.error[0].value
    text = page_text(at)
    for secret in (PENDING["name"], *PRIVATE):
        assert secret not in text
    assert not at.dataframe and not at.get("download_button")


def test_wrong_password_is_refused_and_throttled(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_sign_in_failures", 2)
    at = _app(_moderate_page).run()
    for _ in range(2):
        at = sign_in(at, password="not the password")
        assert "do not match" in at.error[-1].value
    at = sign_in(at)  # the right password, too late
    assert "Too many failed attempts" in at.error[-1].value
    assert [t.value for t in at.title] == ["Officers only"]


def test_a_new_session_is_still_locked_out_for_the_user_name(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh AppTest is a new browser session, as a reload or a new tab would be.
    monkeypatch.setattr(settings, "max_sign_in_failures", 2)
    for _ in range(2):
        at = sign_in(_app(_moderate_page).run(), password="not the password")
        assert "do not match" in at.error[-1].value
    at = sign_in(_app(_moderate_page).run())  # the right password, in a new session, too late
    assert "Too many failed attempts. Try again in 5 minutes." in at.error[-1].value
    assert [t.value for t in at.title] == ["Officers only"]


def test_failures_under_other_user_names_lock_out_the_client_address(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_sign_in_failures", 2)
    for name in ("someone.else", "another.name"):
        sign_in(_app(_moderate_page).run(), username=name, password="not the password")
    at = sign_in(_app(_moderate_page).run())
    assert "Too many failed attempts" in at.error[-1].value


def test_a_sign_in_clears_the_user_names_failures(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_sign_in_failures", 3)
    at = sign_in(_app(_moderate_page).run(), password="not the password")
    assert [t.value for t in sign_in(at).title] == ["Moderate submissions"]
    with open_store(area) as store:  # the user name's failure is gone; the address's stays counted
        times = store.recent_events("sign_in_failed", [f"user:{OFFICER}", "address:local"], window_s=300)
    assert times[f"user:{OFFICER}"] == [] and len(times["address:local"]) == 1


def test_signing_out_ends_the_session_in_the_register(area: Path) -> None:
    at = _signed_in()
    session = at.session_state[ui_auth.SESSION_KEY]
    with open_store(area) as store:
        assert store.session_officer(session) == OFFICER
    # Sign out in a new run of the same tab (the Sign out button's work), then open an officer page.
    at = AppTest.from_function(_signed_out_page, default_timeout=TIMEOUT_S)
    at.session_state[ui_auth.SESSION_KEY] = session
    at = with_officer(at).run()
    with open_store(area) as store:
        assert store.session_officer(session) is None
    assert at.title[0].value == "Officers only"


def test_no_accounts_says_how_to_add_one(area: Path) -> None:
    at = AppTest.from_function(_moderate_page, default_timeout=TIMEOUT_S).run()
    assert [t.value for t in at.title] == ["Officers only"]
    assert "assetmap add-officer" in at.info[0].value


# -- signed in -----------------------------------------------------------------------------------------


def test_signed_in_officer_sees_the_queue_with_private_contacts(area: Path) -> None:
    at = _signed_in()
    assert [t.value for t in at.title] == ["Moderate submissions"]
    queue = _table(at, "Contact email (private)")
    assert queue["Name"].tolist() == [PENDING["name"]]
    assert queue["Contact email (private)"].tolist() == [PENDING["contact_email"]]
    assert at.metric[0].label == "Pending" and at.metric[0].value == "1"
    # The Data page opens too.
    data = _signed_in(_data_page)
    assert data.title[0].value.startswith("Data")


def _map_assets(area: Path) -> int:
    at = AppTest.from_function(_map_page, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    return int(map_twin(at)["Assets shown"].sum())


def test_approve_publishes_at_once_on_the_public_map(area: Path) -> None:
    before = _map_assets(area)  # loads (and caches) the area as the public sees it
    at = _signed_in()
    rid = _pending_id(area)
    at = _button(at, "Approve and publish").click().run()
    assert not at.exception
    assert "Approved" in at.success[0].value
    with open_store(area) as store:
        assert store.get(rid)["status"] == "approved"
        assert store.get(rid)["area_code"] is None  # submitted without one here; the map places it anyway
    assert _map_assets(area) == before + 1
    log = _table(at, "Action")
    assert {"submit", "approve"} <= set(log["Action"]) and OFFICER in set(log["By"])


def test_reject_needs_a_reason(area: Path) -> None:
    at = _signed_in()
    rid = _pending_id(area)
    at = _button(at, "Reject").click().run()
    assert any("Give a reason" in e.value for e in at.error)
    with open_store(area) as store:
        assert store.get(rid)["status"] == "pending"
    at.text_input(key=f"moderate_reason_{rid}").input("Not a community group")
    at = _button(at, "Reject").click().run()
    with open_store(area) as store:
        assert store.get(rid)["status"] == "rejected"
        log = store.audit(rid)
    assert log["action"].tolist() == ["submit", "reject"] and log["reason"].iloc[-1] == "Not a community group"
    assert any("Nothing is waiting" in s.value for s in at.success)


def test_edit_saves_and_a_concurrent_change_is_caught(area: Path) -> None:
    at = _signed_in()
    rid = _pending_id(area)
    at.text_input(key=f"moderate_edit_{rid}_1_name").input("Moonlight Knitters")
    at = _button(at, "Save changes").click().run()
    assert not at.exception
    with open_store(area) as store:
        assert store.get(rid)["name"] == "Moonlight Knitters"
        # Someone else changes it while this officer has the form open.
        store.edit(rid, {"description": "Changed elsewhere"}, actor="another officer")
    at.text_input(key=f"moderate_edit_{rid}_2_name").input("Moonlight Knitting Circle")
    at = _button(at, "Save changes").click().run()
    assert any("changed by another officer" in e.value.replace("\\", "") for e in at.error)
    with open_store(area) as store:
        assert store.get(rid)["name"] == "Moonlight Knitters"
    history = next(d.value for d in at.dataframe if "Action" in d.value.columns)
    assert "edit" in set(history["Action"])


def test_stale_records_are_confirmed_in_one_click(area: Path) -> None:
    with open_store(area) as store:
        old = store.bulk_add(
            [{**PENDING, "name": "Old Allotment Society", "contact_email": None, "last_confirmed": "2019-05-01"}],
            actor="officer",
            status="approved",
        )[0]
    at = _signed_in()
    at = at.button(key=f"moderate_confirm_{old}").click().run()
    assert not at.exception
    with open_store(area) as store:
        assert store.get(old)["last_confirmed"] == date.today().isoformat()
    assert any("confirmed today" in s.value for s in at.success)


def test_the_stale_list_and_the_analysis_agree(area: Path) -> None:
    from assetmap.area.coverage import stale_records
    from assetmap.area.load import load_area

    with open_store(area) as store:
        old, fresh = store.bulk_add(
            [
                {**PENDING, "name": "Old Allotment Society", "last_confirmed": "2019-05-01"},
                {**PENDING, "name": "Just Approved Choir", "longitude": LON + 0.002},  # never confirmed
            ],
            actor="officer",
            status="approved",
        )
    at = _signed_in()
    listed = {
        b.key.removeprefix("moderate_confirm_") for b in at.button if (b.key or "").startswith("moderate_confirm_")
    }
    counted = set(stale_records(load_area(area))["asset_id"])
    assert old in listed and old in counted
    # Approved today and never confirmed: stale in neither (it was "stale (last: never)" on this page).
    assert fresh not in listed and fresh not in counted


def test_officer_export_has_private_fields_public_export_does_not(area: Path) -> None:
    at = _signed_in()
    assert {b.proto.label for b in at.get("download_button")} >= {"CSV", "Excel (XLSX)", "GeoJSON", "GeoPackage"}
    officer = pd.read_csv(io.BytesIO(moderate.export_bytes(str(area), "csv")))
    assert PENDING["contact_email"] in officer["contact_email"].tolist()
    assert PENDING["name"] in officer["name"].tolist()
    xlsx = pd.read_excel(io.BytesIO(moderate.export_bytes(str(area), "xlsx")))
    assert "contact_name" in xlsx.columns
    with open_store(area) as store:
        public = export_register(store, "csv").decode()
    assert "contact_email" not in public and PENDING["name"] not in public


# -- public pages never show pending records or private fields ----------------------------------------


def test_public_pages_never_show_pending_records_or_private_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    area = make_tiny_area()
    monkeypatch.setattr(settings, "default_area_path", Path("tiny-area"))
    monkeypatch.setattr(assetmap, "load_area", lambda path: area, raising=False)
    hidden = [
        "Pending Group Unseen",
        "Rejected Group Unseen",
        "Withdrawn Group Unseen",
        "Private Person Alpha",
        "private.alpha@example.org",
    ]
    st.cache_resource.clear()
    try:
        for page in ("map", "ward", "gaps"):
            at = AppTest.from_function(_public_page, args=(page,), default_timeout=TIMEOUT_S).run()
            assert not at.exception, page
            text = page_text(at)
            for value in hidden:
                assert value not in text, (page, value)
    finally:
        st.cache_resource.clear()


def test_the_area_cache_sees_an_approval_still_in_the_write_ahead_log(area: Path) -> None:
    from assetmap.ui import common

    st.cache_resource.clear()
    rid = _pending_id(area)
    before = common.get_area(area)
    with open_store(area) as store:  # held open: the approval stays in register.sqlite-wal
        store.approve(rid, actor=OFFICER)
        assert (area / "register.sqlite-wal").stat().st_size > 0
        after = common.get_area(area)
        assert after is not before
        assert rid in set(after.approved_assets()["asset_id"]) and rid not in set(before.assets["asset_id"])
        assert common.get_area(area) is after  # nothing changed since: the cached area
    st.cache_resource.clear()


# -- personal data requests ----------------------------------------------------------------------------


def _find_person(at: AppTest, email: str) -> AppTest:
    at.text_input(key="moderate_pd_email").input(email)
    at.text_input(key="moderate_pd_reference").input("request 17")
    return _button(at, "Find everything held").click().run()


def test_officer_finds_everything_held_about_a_person_audited(area: Path) -> None:
    at = _find_person(_signed_in(), "  ZED.private@EXAMPLE.org ")
    assert not at.exception
    rid = _pending_id(area)
    found = _table(at, "Contact email (private)")
    found = found[found["Reference"] == rid]
    assert found["Contact name (private)"].tolist() == [PENDING["contact_name"]]
    assert "Download everything held (JSON)" in {b.proto.label for b in at.get("download_button")}
    held = at.session_state[moderate.HELD_KEY]  # what the download holds
    assert [r["asset_id"] for r in held["records"]] == [rid]
    assert [a["action"] for a in held["audit"]] == ["submit"]
    with open_store(area) as store:
        last = store.audit(rid).iloc[-1]
    assert (last["action"], last["actor"]) == ("subject access", OFFICER) and "request 17" in last["reason"]


def test_officer_erases_a_records_personal_details_with_reason_and_confirmation(area: Path) -> None:
    at = _find_person(_signed_in(), PENDING["contact_email"])
    rid = _pending_id(area)
    at.selectbox(key="moderate_pd_pick").set_value(rid)
    at.text_input(key="moderate_pd_reason").input("erasure request 18")
    at = _button(at, "Erase personal details").click().run()
    assert any("Tick the box" in e.value for e in at.error)
    with open_store(area) as store:
        assert store.get(rid)["contact_email"] == PENDING["contact_email"]  # not without the confirmation
    at.checkbox(key="moderate_pd_sure").check()
    at = _button(at, "Erase personal details").click().run()
    assert not at.exception
    assert any("Erased the personal details" in s.value for s in at.success)
    with open_store(area) as store:
        record = store.get(rid)
        log = store.audit(rid)
    assert record["contact_email"] is None and record["contact_name"] is None
    assert (log["action"].iloc[-1], log["actor"].iloc[-1]) == ("erase", OFFICER)
    assert log["reason"].iloc[-1] == "erasure request 18"
    text = page_text(at)  # the page (its audit log included) no longer shows them anywhere
    for secret in PRIVATE:
        assert secret not in text


def test_an_approved_record_is_confirmed_as_of_its_approval(area: Path) -> None:
    rid = _pending_id(area)
    with open_store(area) as store:
        # Submitted long ago, approved today: current as of today, not "never confirmed".
        assert store.get(rid)["last_confirmed"] is None
    at = _signed_in()
    at = _button(at, "Approve and publish").click().run()
    assert not at.exception
    with open_store(area) as store:
        assert store.get(rid)["last_confirmed"] == date.today().isoformat()
        audit = store.audit(rid)
    assert (
        audit["action"].iloc[-1] == "approve" and audit["after"].iloc[-1]["last_confirmed"] == date.today().isoformat()
    )
    assert not any((b.key or "") == f"moderate_confirm_{rid}" for b in at.button)


class _FakeMap:
    """Stands in for the map component: records the map it is given and returns a pin moved by the officer."""

    def __init__(self, moved: tuple[float, float] | None):
        self.moved, self.html = moved, ""

    def __call__(self, m, **kwargs):
        self.html = m.get_root().render()
        assert "last_clicked" in kwargs["returned_objects"]
        return {"last_clicked": {"lng": self.moved[0], "lat": self.moved[1]}} if self.moved else {}


def test_the_review_map_needs_no_jquery_and_shows_the_pin_and_the_postcode(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeMap(None)
    monkeypatch.setattr(moderate, "st_folium", fake)
    at = _signed_in()
    assert not at.exception
    # folium's Popup writes "$(...)" (jQuery), which the app does not load: the map was blank.
    assert "$(" not in fake.html and "L.popup" not in fake.html
    assert '"draggable": true' in fake.html and 'fire("click"' in fake.html
    # This record is at its postcode's centre: a second marker would only hide the pin, so the key says so.
    assert "am-postcode-pin" not in fake.html
    assert any("it is at the centre of its postcode, EB1 1AB" in c.value for c in at.caption)
    assert not any(b.label == "Save the new place" for b in at.button)  # nothing moved, nothing to save


def test_a_moved_pin_is_saved_as_an_audited_edit_only_on_confirming(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _pending_id(area)
    new_lon, new_lat = LON + 0.0012, LAT - 0.0008
    monkeypatch.setattr(moderate, "st_folium", _FakeMap((new_lon, new_lat)))
    at = _signed_in()
    assert any("New place: latitude" in i.value and "m from the recorded place" in i.value for i in at.info)
    with open_store(area) as store:  # shown, not saved
        assert store.get(rid)["longitude"] == pytest.approx(LON) and store.get(rid)["version"] == 1
    at.text_input(key=f"moderate_pin_reason_{rid}").input("Meets in the church hall across the road")
    at = _button(at, "Save the new place").click().run()
    assert not at.exception
    assert any("Moved Moonlight Knitters Circle" in s.value for s in at.success)
    with open_store(area) as store:
        record = store.get(rid)
        audit = store.audit(rid)
        expected_code = store.records(public=False).set_index("asset_id").loc[rid, "area_code"]
    assert (record["longitude"], record["latitude"]) == (pytest.approx(new_lon), pytest.approx(new_lat))
    assert record["status"] == "pending" and record["area_code"] == expected_code is not None
    last = audit.iloc[-1]
    assert last["action"] == "edit" and last["actor"] == OFFICER
    assert last["reason"] == "Meets in the church hall across the road"


def test_the_review_map_shows_the_postcode_beside_a_pin_placed_elsewhere() -> None:
    from assetmap.render import webmap

    centre = ("EB1 1AB", -0.104803, 51.553772)
    away = webmap.place_map(-0.104, 51.5544, name="Choir", attribution="OSM", postcode=centre).get_root().render()
    assert "am-postcode-pin" in away and "Postcode EB1 1AB" in away
    same = webmap.place_map(centre[1], centre[2], name="Choir", attribution="OSM", postcode=centre).get_root().render()
    assert "am-postcode-pin" not in same
