"""The form helpers: a form's answers as a record, placing it, the throttle, the template and the reports."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import tiny_layers

from assetmap._errors import Problem
from assetmap.area import register
from assetmap.store import find_duplicates
from assetmap.ui import forms


def test_record_from_form_keeps_text_as_typed_and_sets_status_and_source():
    record = forms.record_from_form(
        {
            "name": "  <b>Club</b>  ",
            "type": "vcse_group",
            "elements": [6, 4, 6],
            "email": "",
            "latitude": " 51.5 ",
            "status": "approved",  # never taken from the form
            "sensitive": 1,
        }
    )
    assert record["name"] == "<b>Club</b>" and record["email"] is None
    assert record["elements"] == (4, 6) and record["latitude"] == "51.5" and record["longitude"] is None
    assert (record["status"], record["source"], record["sensitive"]) == ("pending", "form", True)
    assert forms.record_from_form({"elements": []})["elements"] is None


def test_area_codes_of_places_points_in_wards():
    wards = tiny_layers()["boundaries"]
    inside = wards.geometry.iloc[1].centroid
    lonlat = gpd.GeoSeries([inside], crs=wards.crs).to_crs("EPSG:4326").iloc[0]
    assert register.area_codes_of([lonlat.x, 0.5], [lonlat.y, 55.0], wards) == ["E05000002", None]
    assert register.area_codes_of([], [], wards) == []


def test_throttle_allows_limit_events_per_window():
    assert forms.throttle_wait([], 100.0, limit=2, window_s=60) == 0
    assert forms.throttle_wait([90.0], 100.0, limit=2, window_s=60) == 0
    assert forms.throttle_wait([50.0, 90.0], 100.0, limit=2, window_s=60) == pytest.approx(10.0)
    assert forms.throttle_wait([10.0, 90.0], 100.0, limit=2, window_s=60) == 0  # the first has left the window


def test_problems_by_field_puts_coordinates_with_the_location():
    problems = [
        Problem("latitude and longitude look swapped.", field="latitude", fix="Swap them."),
        Problem("the record has no location.", field="location"),
        Problem("'x' is not an email address.", field="email", fix="Write it as name@example.org."),
        Problem("the file is empty."),
    ]
    grouped = forms.problems_by_field(problems)
    assert grouped["location"] == ["Latitude and longitude look swapped. Swap them.", "The record has no location."]
    assert grouped["email"] == ["'x' is not an email address. Write it as name@example.org."]
    assert grouped["form"] == ["The file is empty."]


def test_row_report_and_duplicate_report():
    report = forms.row_report([Problem("bad postcode.", file="f.csv", row=3, field="postcode", fix="Check it.")])
    assert report.to_dict("records") == [
        {"Row": 3, "Field": "Postcode", "Problem": "Bad postcode.", "How to fix": "Check it."}
    ]
    batch = pd.DataFrame(
        {"name": ["Chess Club", "Chess Club"], "longitude": [-0.1, -0.1], "latitude": [51.5, 51.5], "row": [2, 3]}
    )
    table = forms.duplicate_report(find_duplicates(batch))
    assert table["Row"].tolist() == [3] and "row 2 of this file" in table["May repeat"].iloc[0]


def test_stale_records_are_approved_ones_not_seen_current_for_a_year():
    records = pd.DataFrame(
        {
            "status": ["approved", "approved", "approved", "pending", "approved", "approved"],
            "last_confirmed": ["2020-01-01", None, "2025-12-01", "2019-01-01", None, "2020-01-01"],
            # Never confirmed: last seen when an officer approved or changed it.
            "updated_at": [None, "2024-03-01T10:00:00+00:00", None, None, "2026-05-30T09:00:00+00:00", "2026-05-01"],
        }
    )
    stale = forms.stale_records(records, as_of="2026-06-01", days=365)
    # Row 4, approved two days before and never confirmed, is not stale; row 5's confirmation counts
    # over a later edit.
    assert stale.index.tolist() == [0, 1, 5]
    # A record with no date at all is not called stale: nothing says it is old.
    undated = pd.DataFrame({"status": ["approved"], "last_confirmed": [None]})
    assert forms.stale_records(undated, as_of="2026-06-01").empty


def test_template_refuses_other_formats():
    with pytest.raises(ValueError, match="csv or xlsx"):
        forms.template_bytes("pdf")
