"""The Map page on the demo borough, run headless with streamlit.testing."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.analysis.gaps import group_label
from assetmap.coverage import map_layer

TIMEOUT_S = 90

pytestmark = pytest.mark.skipif(
    not (settings.demo_area_path / "area.toml").is_file(), reason="the demo area is not built"
)


def _map_page() -> None:
    from assetmap.ui.pages import map as map_page

    map_page.page()


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def demo():
    return assetmap.load_area(settings.demo_area_path)


@pytest.fixture
def at() -> AppTest:
    st.cache_resource.clear()
    run = AppTest.from_function(_map_page, default_timeout=TIMEOUT_S).run()
    assert not run.exception and not run.error
    return run


def _twin(at: AppTest):
    return at.dataframe[0].value


def _shade(at: AppTest, value: str, by: str = "area") -> AppTest:
    return at.selectbox(key=f"map_shade_{by}").set_value(value).run()


def test_access_shading_is_the_gap_tables_share(at, demo):
    _shade(at, "access_share")
    table = _twin(at)
    label = next(c for c in table.columns if c.startswith("Share of residents within 800 m"))
    expected = map_layer(demo, "strengthening").set_index("code")["access_share"]
    assert table.set_index("Code")[label].to_dict() == pytest.approx(expected.to_dict())
    # The sidebar's element changes the figures the map shows.
    at.selectbox(key="_w_group").set_value("e6").run()
    e6 = _twin(at)
    label6 = next(c for c in e6.columns if c.startswith("Share of residents"))
    assert group_label("e6") in label6
    assert e6.set_index("Code")[label6].to_dict() == pytest.approx(
        map_layer(demo, "e6").set_index("code")["access_share"].to_dict()
    )


def test_threshold_widens_access(at):
    _shade(at, "access_share")
    near = _twin(at)
    at.select_slider(key="_w_threshold").set_value(1200.0).run()
    far = _twin(at)
    col_near = next(c for c in near.columns if c.startswith("Share"))
    col_far = next(c for c in far.columns if c.startswith("Share"))
    assert "1,200 m" in col_far
    joined = near.set_index("Code")[col_near].align(far.set_index("Code")[col_far])
    assert (joined[1] >= joined[0]).all() and (joined[1] > joined[0]).any()


def test_bivariate_shading_leads_with_high_need_low_access(at, demo):
    _shade(at, "bivariate_class")
    table = _twin(at)
    column = next(c for c in table.columns if c.startswith("Need and access"))
    layer = map_layer(demo, "strengthening")
    assert sorted(table[column]) == sorted(layer["bivariate_label"])
    need_order = table[column].str.extract(r"^(\w+) need")[0].map({"high": 3, "medium": 2, "low": 1})
    assert need_order.is_monotonic_decreasing


def test_lsoa_view_is_hyper_local(at, demo):
    at.radio(key="map_by").set_value("lsoa").run()
    assert not at.exception
    table = _twin(at)
    assert len(table) == len(demo.small_areas)
    assert table["Code"].str.startswith("E01").all()
    at.selectbox(key="map_shade_lsoa").set_value("imd_decile").run()
    deciles = _twin(at).set_index("Code").iloc[:, -2]
    dep = demo.deprivation.set_index("lsoa_code")["imd_decile"]
    assert (deciles == dep.loc[deciles.index]).all()


def test_asset_filters_change_the_counts(at, demo):
    total = _twin(at)["Assets shown"].sum()
    approved = demo.approved_assets()
    placed = approved[approved["area_code"].notna()]
    assert total == len(placed)
    kind = placed["type"].value_counts().index[0]
    at.multiselect(key="map_types").set_value([kind]).run()
    assert _twin(at)["Assets shown"].sum() == (placed["type"] == kind).sum()
    at.multiselect(key="map_types").set_value([]).run()
    at.checkbox(key="_w_include_stale").uncheck().run()
    stale = demo.stale_mask().loc[placed.index]
    assert _twin(at)["Assets shown"].sum() == len(placed) - int(stale.sum())


def test_catchment_toggle_and_download(at):
    at.toggle(key="map_catchment").set_value(True).run()
    assert not at.exception and not at.error
    button = at.get("download_button")
    assert button, "the table twin has a download"
