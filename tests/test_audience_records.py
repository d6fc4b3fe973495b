"""Who a record is for (a controlled list, with defaults) and its capacity: checked, stored, imported, exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetmap._errors import ValidationError
from assetmap.io import oruk, osm
from assetmap.record import validate_record
from assetmap.store import open_store
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import forms

PLACE = {"longitude": -2.24, "latitude": 53.48}


def test_audiences_default_to_the_words_then_the_type() -> None:
    youth = validate_record({"name": "Y", "type": "Youth club", **PLACE})
    assert youth["audience_groups"] == "children"  # the type's default
    lunch = validate_record({"name": "L", "type": "VCSE group", "audience": "Older people (60+)", **PLACE})
    assert lunch["audience_groups"] == "older"  # the group's own words name one
    men = validate_record({"name": "M", "type": "VCSE group", "audience": "Men", **PLACE})
    assert men["audience_groups"] == "everyone"
    given = validate_record({"name": "G", "type": "Youth club", "audience_groups": "Families; over 60s", **PLACE})
    assert given["audience_groups"] == "older;families"  # given wins, in the list's order


def test_capacity_and_its_unit() -> None:
    one = validate_record({"name": "A", "type": "vcse_group", "capacity": "3", **PLACE})
    assert (one["capacity"], one["capacity_unit"]) == (3.0, "sessions_week")
    two = validate_record({"name": "A", "type": "vcse_group", "capacity": 40, "capacity_unit": "Places", **PLACE})
    assert (two["capacity"], two["capacity_unit"]) == (40.0, "places")
    none = validate_record({"name": "A", "type": "vcse_group", "capacity_unit": "places", **PLACE})
    assert (none["capacity"], none["capacity_unit"]) == (None, None)


def test_bad_audience_and_capacity_are_named_with_the_fix() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(
            {"name": "A", "type": "vcse_group", "audience_groups": "martians", "capacity": "-2", **PLACE}, row=7
        )
    text = str(caught.value)
    assert "row 7" in text and "'martians' is not an audience of the list" in text
    assert "List any of everyone, children, working_age, older, families" in text
    assert "'-2' is not a capacity" in text
    with pytest.raises(ValidationError, match="'weeks' is not a unit of capacity"):
        validate_record({"name": "A", "type": "vcse_group", "capacity": 2, "capacity_unit": "weeks", **PLACE})


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite")
    return request.getfixturevalue("postgis_server").fresh_database()


def test_store_keeps_audiences_and_capacity(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.schema_version() >= 4
        made = store.submit(
            {"name": "Toddlers", "type": "vcse_group", "audience_groups": "families", "capacity": 2, **PLACE},
            actor="test",
        )
        store.approve(made, actor="officer")
        row = store.records(public=True).iloc[0]
        assert (row["audience_groups"], row["capacity"], row["capacity_unit"]) == ("families", 2.0, "sessions_week")
        page = json.loads(oruk.export_oruk(store.records(public=True), store.taxonomy))
        service = page["contents"][0]
        assert service["service_capacity"][0]["maximum"] == 2.0
        back, _ = oruk.record_from_service(service, taxonomy=store.taxonomy)
        assert back is not None and back["capacity"] == 2.0 and back["capacity_unit"] == "sessions_week"


def test_oruk_age_range_names_the_audience() -> None:
    service = {
        "id": "s1",
        "name": "Lunch club",
        "minimum_age": 60,
        "eligibility_description": "Anyone retired",
        "service_at_locations": [{"location": {"latitude": 53.48, "longitude": -2.24}}],
    }
    record, _ = oruk.record_from_service(service, taxonomy=load_taxonomy(), default_type="vcse_group")
    assert record is not None and record["audience_groups"] == "older" and record["audience"] == "Anyone retired"


def test_osm_social_facility_for_names_the_audience() -> None:
    assert osm._audience_of({"social_facility:for": "senior;family"}) == "older;families"
    assert osm._audience_of({"social_facility:for": "homeless"}) is None


def test_template_and_form_carry_the_list() -> None:
    assert {"audience_groups", "capacity", "capacity_unit"} <= set(forms.TEMPLATE_COLUMNS)
    record = forms.record_from_form({"name": "A", "type": "vcse_group", "audience_groups": ["older", "families"]})
    assert record["audience_groups"] == "older;families" and record["capacity"] is None
