"""360Giving grants: read CSV and JSON, place grants in wards, funding per ward and per 1,000, Gaps page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap._errors import DataFormatError
from assetmap.area import funding
from assetmap.area.load import load_area
from assetmap.cli import main
from assetmap.io import grants

FIXTURES = Path(__file__).parent / "fixtures" / "grants"
EXPECTED = {"E05999901": 12_500.0, "E05999902": 2_500.0, "E05999908": 3_000.0, "E05999906": 2_000.0}


@pytest.mark.parametrize("name", ["grants.csv", "grants.json"])
def test_read_and_attach_by_ward_lsoa_and_postcode(demo, name):
    frame = grants.read_grants(FIXTURES / name)
    assert len(frame) == 5 and frame["amount"].sum() == 27_000
    attached = funding.attach_grants(frame, demo)
    method = attached.drop_duplicates("grant_id").set_index("grant_id")["method"]
    assert method.to_dict() == {
        "360G-test-001": "ward code",
        "360G-test-002": "ward code",
        "360G-test-003": "LSOA code",
        "360G-test-004": "postcode",
        "360G-test-005": "not placed",
    }
    placed = attached.dropna(subset=["area_code"]).groupby("area_code")["amount"].sum()
    assert placed.to_dict() == pytest.approx(EXPECTED)
    # Money is conserved: every grant's shares add up to its amount.
    assert attached.groupby("grant_id")["amount"].sum().to_dict() == pytest.approx(
        frame.set_index("grant_id")["amount"].to_dict()
    )


def test_funding_per_ward_and_per_1000(demo):
    attached = funding.attach_grants(grants.read_grants(FIXTURES / "grants.csv"), demo)
    table = funding.funding_by_area(attached, demo).set_index("code")
    assert list(table.reset_index().columns) == list(grants.FUNDING_COLUMNS)
    assert len(table) == len(demo.boundaries)
    assert table.loc["E05999901", "n_grants"] == 2 and table.loc["E05999903", "funding"] == 0
    pop = demo.deprivation.set_index("lsoa_code")["population"]
    lsoas = demo.lookup.loc[demo.lookup["area_code"].eq("E05999901"), "lsoa_code"]
    residents = pop.loc[lsoas].sum()
    assert table.loc["E05999901", "population"] == pytest.approx(residents)
    assert table.loc["E05999901", "funding_per_1000"] == pytest.approx(12_500 / residents * 1000)


def test_bad_files_are_clear(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Money\nx,1\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="Amount Awarded"):
        grants.read_grants(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("Identifier,Amount Awarded\n360G-x,\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no identifier or no amount"):
        grants.read_grants(missing)
    notjson = tmp_path / "x.json"
    notjson.write_text('{"nothing": []}', encoding="utf-8")
    with pytest.raises(DataFormatError, match="'grants' list"):
        grants.read_grants(notjson)


def _gaps_page() -> None:
    from assetmap.ui.pages import gaps

    gaps.page()


def test_cli_import_and_the_gaps_page(tmp_path, capsys, monkeypatch):
    area_dir = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, area_dir, ignore=shutil.ignore_patterns("register.sqlite*"))
    assert main(["import-grants", "--area", str(area_dir), str(FIXTURES / "grants.json")]) == 0
    out = capsys.readouterr().out
    assert "5 grants" in out and "1 by LSOA code" in out and "1 by recipient postcode" in out
    area = load_area(area_dir)
    assert area.grants_path is not None and "grants" in area.vintages

    monkeypatch.setattr(settings, "default_area_path", area_dir)
    st.cache_resource.clear()
    at = AppTest.from_function(_gaps_page, default_timeout=90).run()
    assert not at.exception and not at.error
    assert any(h.value == "Grant funding (360Giving)" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "Funding (£)" in d.value.columns)
    assert table.set_index("Code")["Funding (£)"].to_dict()["E05999901"] == pytest.approx(12_500)
    assert "Funding per 1,000 residents (£)" in table.columns and "Need percentile" in table.columns
    st.cache_resource.clear()
