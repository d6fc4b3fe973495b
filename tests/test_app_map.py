"""The Map page on the demo borough, run headless with streamlit.testing."""

from __future__ import annotations

import pytest
import streamlit as st
from htmlread import map_twin
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.analysis.groups import group_label
from assetmap.render.views import map_layer, shown_assets
from assetmap.ui import common

TIMEOUT_S = 90

pytestmark = [
    pytest.mark.usefixtures("fresh_streamlit_caches"),
    pytest.mark.skipif(not (settings.demo_area_path / "area.toml").is_file(), reason="the demo area is not built"),
]


def _map_page() -> None:
    from assetmap.ui.pages import map as map_page

    map_page.page()


@pytest.fixture
def at() -> AppTest:
    st.cache_resource.clear()
    run = AppTest.from_function(_map_page, default_timeout=TIMEOUT_S).run()
    assert not run.exception and not run.error
    return run


def _twin(at: AppTest):
    """The table twin as the page shows it: its cells' text, numbers read back from it."""
    return map_twin(at)


def _shade(at: AppTest, value: str, by: str = "area") -> AppTest:
    return at.selectbox(key=f"map_shade_{by}").set_value(value).run()


def test_access_shading_is_the_gap_tables_share(at, demo):
    _shade(at, "access_share")
    table = _twin(at)
    label = next(c for c in table.columns if c.startswith("Share of residents within 800 m"))
    expected = map_layer(demo, common.DEFAULT_GROUP).set_index("code")["access_share"]
    # Shares are written to a tenth of a percentage point.
    assert table.set_index("Code")[label].to_dict() == pytest.approx(expected.to_dict(), abs=0.0005)
    # The sidebar's element changes the figures the map shows.
    at.multiselect(key="_w_groups").set_value(["e6"]).run()
    e6 = _twin(at)
    label6 = next(c for c in e6.columns if c.startswith("Share of residents"))
    assert group_label("e6") in label6
    assert e6.set_index("Code")[label6].to_dict() == pytest.approx(
        map_layer(demo, "e6").set_index("code")["access_share"].to_dict(), abs=0.0005
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
    layer = map_layer(demo, common.DEFAULT_GROUP)
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
    approved = demo.approved_assets()
    placed = approved[approved["area_code"].notna()]
    # By default the map shows the assets serving the chosen groups; the toggle shows the others too.
    serving = shown_assets(demo, group=common.DEFAULT_GROUP)
    assert _twin(at)["Assets shown"].sum() == serving["area_code"].notna().sum() < len(placed)
    at.toggle(key="map_other_groups").set_value(True).run()
    total = _twin(at)["Assets shown"].sum()
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


def test_table_order_can_be_chosen(at):
    keyed = _twin(at)
    value = keyed.columns[2]
    # The key's order first: darkest shading (the highest IMD score) at the top.
    assert keyed[value].dropna().is_monotonic_decreasing
    at.selectbox(key="map_table_order").set_value("name").run()
    by_name = _twin(at)
    assert by_name["Area"].tolist() == sorted(keyed["Area"], key=str.casefold)
    at.selectbox(key="map_table_order").set_value("assets_most").run()
    assert _twin(at)["Assets shown"].is_monotonic_decreasing
    at.selectbox(key="map_table_order").set_value("shade_reversed").run()
    lightest = _twin(at)
    assert lightest[value].dropna().is_monotonic_increasing
    assert sorted(lightest["Code"]) == sorted(keyed["Code"])


def test_order_table_keeps_areas_without_a_value_last():
    import pandas as pd

    from assetmap.ui.pages.map import order_table

    table = pd.DataFrame(
        {
            "Code": ["a", "b", "c", "d"],
            "Area": ["b", "A", "c", "D"],
            "Score": [9.0, 5.0, 1.0, None],
            "Assets shown": [1, 3, 2, 0],
        }
    )
    assert order_table(table, "shade_reversed")["Code"].tolist() == ["c", "b", "a", "d"]
    assert order_table(table, "name")["Area"].tolist() == ["A", "b", "c", "D"]
    assert order_table(table, "assets_fewest")["Code"].tolist() == ["d", "a", "c", "b"]
    assert order_table(table, "shade")["Code"].tolist() == ["a", "b", "c", "d"]


def test_audience_changes_the_shares_and_the_assets_shown(at, demo):
    _shade(at, "access_share")
    everyone = _twin(at)
    at.selectbox(key="map_audience").set_value("children").run()
    assert not at.exception and not at.error
    children = _twin(at)
    label = next(c for c in children.columns if c.startswith("Share of residents"))
    expected = map_layer(demo, common.DEFAULT_GROUP, audience="children").set_index("code")["access_share"]
    assert children.set_index("Code")[label].to_dict() == pytest.approx(expected.to_dict(), abs=0.0005)
    assert not children[label].equals(everyone[label])  # the demo's children are served by fewer assets
    # Only assets that are for children (or for everyone) are drawn.
    assert len(shown_assets(demo, audience="children")) < len(shown_assets(demo))
