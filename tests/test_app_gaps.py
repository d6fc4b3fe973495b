"""The Gaps page, run headless with streamlit.testing on the demo borough and the tiny area."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import make_tiny_area
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.io.export import table_bytes

TIMEOUT_S = 90

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def _gaps_page() -> None:
    from assetmap.ui.pages import gaps

    gaps.page()


@pytest.fixture(scope="module")
def demo_run() -> AppTest:
    st.cache_resource.clear()
    return AppTest.from_function(_gaps_page, default_timeout=TIMEOUT_S).run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_ranked_table_of_the_demo(demo_run):
    at = demo_run
    assert not at.exception and not at.error
    assert "gaps in community assets" in at.title[0].value
    table = at.dataframe[0].value
    area = assetmap.load_area(settings.demo_area_path)
    assert len(table) == len(area.boundaries) + 1
    assert table["Rank"].iloc[:-1].tolist() == list(range(1, len(area.boundaries) + 1))
    assert table["Gap index"].iloc[:-1].is_monotonic_decreasing
    assert table["Area"].iloc[-1] == area.name  # the whole borough last
    assert _metrics(at)["Distance"] == "walking"
    # The method note is on the page.
    assert any("How these figures were made" in m.value for m in at.markdown)


def test_choice_of_element_threshold_and_view_changes_the_table(demo_run):
    at = demo_run
    before = at.dataframe[0].value
    at.multiselect(key="_w_groups").set_value(["e6"]).run()
    e6 = at.dataframe[0].value
    assert not e6["Gap index"].equals(before["Gap index"])
    at.select_slider(key="_w_threshold").set_value(1200.0).run()
    far = at.dataframe[0].value
    pd.testing.assert_series_equal(
        far.set_index("Code")["Within 800 m"].sort_index(), e6.set_index("Code")["Within 800 m"].sort_index()
    )
    assert (far["Gap index"].sum()) < e6["Gap index"].sum()
    at.radio(key="gaps_by").set_value("lsoa").run()
    lsoas = at.dataframe[0].value
    assert lsoas["Code"].iloc[:-1].str.startswith("E01").all()
    assert len(lsoas) == len(assetmap.load_area(settings.demo_area_path).small_areas) + 1


def test_what_if_is_a_link_to_the_plan_page_not_a_coordinate_form(demo_run):
    at = demo_run
    assert not at.get("form") and not at.number_input  # no eastings and northings to type
    (link,) = at.get("page_link")
    assert link.proto.page == "plan"
    assert "Plan page" in link.proto.label


def test_downloads_offered_in_every_format(demo_run):
    names = {b.proto.label for b in demo_run.get("download_button")}
    assert names == {"Download CSV", "Download Excel (XLSX)", "Download GeoJSON", "Download GeoPackage"}


def test_tiny_area_is_straight_line_and_exports_are_neutralised(monkeypatch):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    area.boundaries.loc[0, "name"] = '=HYPERLINK("http://x")'
    monkeypatch.setattr(settings, "default_area_path", Path("tiny-area"))
    monkeypatch.setattr(assetmap, "load_area", lambda path: area, raising=False)
    at = AppTest.from_function(_gaps_page, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert _metrics(at)["Distance"] == "straight line"
    table = area.gaps().table
    csv = pd.read_csv(io.BytesIO(table_bytes(table.drop(columns="geometry"), "csv")), encoding="utf-8-sig")
    assert csv["name"].str.startswith("'=HYPERLINK").any()
    xlsx = pd.read_excel(io.BytesIO(table_bytes(table.drop(columns="geometry"), "xlsx")))
    assert not xlsx["name"].astype(str).str.startswith("=").any()


def test_audience_and_capacity_score_on_the_page(demo_run):
    at = demo_run
    table = at.dataframe[0].value
    assert "Capacity per 1,000 (E2SFCA)" in table.columns and table["Capacity per 1,000 (E2SFCA)"].notna().all()
    assert "Residents of the audience" not in table.columns  # everyone: the residents column says it all
    at.selectbox(key="gaps_audience").set_value("older").run()
    assert not at.exception and not at.error
    older = at.dataframe[0].value
    assert (older["Residents of the audience"] < older["Residents"]).all()
    assert any("**Audience:** access for older people (60+) only" in m.value for m in at.markdown)
    assert any("**Capacity score (E2SFCA):**" in m.value for m in at.markdown)
    at.selectbox(key="gaps_audience").set_value("everyone").run()


def test_the_ranked_table_reads_left_to_right(demo_run):
    import json

    from assetmap.ui.pages import gaps

    at = demo_run
    at.radio(key="gaps_by").set_value("area").run()
    at.multiselect(key="_w_groups").set_value(["e8"]).run()  # a group with "high need, low access" wards in the demo
    table = at.dataframe[0].value
    # Rank, the area's name and the figures an officer reads first on the left; the code last.
    assert table.columns[:6].tolist() == ["Rank", "Priority", "Area", "Gap index", "Need and access", "Need percentile"]
    assert table.columns[-1] == "Code"
    # Rows of the "high need, low access" class say so in words, as well as by their shade.
    high = table["Need and access"].str.startswith("high need, low access")
    assert high.any() and table.loc[high, "Priority"].eq(gaps.PRIORITY_MARK).all()
    assert table.loc[~high, "Priority"].eq("").all()
    # The name stays on screen when the table scrolls sideways; terms are explained on their headings.
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["Area"]["pinned"] is True and columns["Rank"]["pinned"] is True
    assert "1 - share of residents within reach" in columns["Gap index"]["help"]
    assert columns["Within reach"]["type_config"]["format"] == "percent"


def test_the_lsoa_view_carries_its_ward(demo_run):
    at = demo_run
    at.radio(key="gaps_by").set_value("lsoa").run()
    assert not at.exception
    table = at.dataframe[0].value
    area = assetmap.load_area(settings.demo_area_path)
    assert "Ward" in table.columns and table.columns.get_loc("Ward") == table.columns.get_loc("Area") + 1
    rows = table.iloc[:-1]
    assert set(rows["Ward"]) <= set(area.boundaries["name"]) and rows["Ward"].ne("").all()
    # Each LSOA is in the ward the area's lookup gives it (most of its residents).
    lookup = area.lookup.sort_values("weight", ascending=False).drop_duplicates("lsoa_code")
    names = area.boundaries.set_index("code")["name"]
    first = rows.iloc[0]
    assert first["Ward"] == names[lookup.set_index("lsoa_code").loc[first["Code"], "area_code"]]
    at.radio(key="gaps_by").set_value("area").run()


def test_elements_are_named_in_the_matrix_and_terms_in_the_glossary(demo_run):
    import re

    at = demo_run
    matrix = next(d.value for d in at.dataframe if "6 VCSE and volunteering" in map(str, d.value.columns))
    assert list(matrix.columns)[:2] == ["1 Prevention at scale", "2 Neighbourhood working"]
    assert not [c for c in matrix.columns if re.fullmatch(r"E\d+", str(c))]
    note = next(m.value for m in at.markdown if "How these figures were made" in m.value)
    assert "### Glossary" in note
    for term in ("VCSE", "Access share", "Need percentile", "Gap index", "Need-and-access class", "Natural breaks"):
        assert f"**{term}:**" in note
