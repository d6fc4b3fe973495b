"""The Plan page, run headless with streamlit.testing on the demo borough: sites by postcode or asset, suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.record import sensitive_mask
from assetmap.ui import common

TIMEOUT_S = 120
GROUP = common.DEFAULT_GROUP  # the sidebar's default: Scaling and Strengthening together

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")

POSTCODE_BUTTON = "FormSubmitter:plan_postcode_form-Add this postcode"
ASSET_BUTTON = "FormSubmitter:plan_asset_form-Add this place"


def _plan_page() -> None:
    from assetmap.ui.pages import plan

    plan.page()


@pytest.fixture(scope="module")
def area():
    return assetmap.load_area(settings.demo_area_path)


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_function(_plan_page, default_timeout=TIMEOUT_S).run()


@pytest.fixture(scope="module")
def reaching_postcode(area) -> str:
    """A postcode of the demo next to the first suggested site: one that brings deprived residents within reach."""
    site = area.suggest_sites(GROUP, 1).iloc[0]
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(site["x"], site["y"])
    pc = area.postcodes
    nearest = np.argmin((pc["longitude"] - lon) ** 2 + (pc["latitude"] - lat) ** 2)
    return str(pc["postcode"].iloc[nearest])


def _sites(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and m.value[2:3].isdigit()]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _add_postcode(at: AppTest, text: str) -> AppTest:
    at.text_input(key="plan_postcode").set_value(text)
    return at.button(key=POSTCODE_BUTTON).click().run()


def test_a_postcode_site_shows_the_change_in_percentages(at, area, reaching_postcode):
    _add_postcode(at, reaching_postcode.lower().replace(" ", ""))
    assert not at.exception and not at.error
    assert _sites(at) == [f"**1.** {reaching_postcode}"]
    at.button(key="plan_go").click().run()
    assert not at.exception and not at.error

    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        *area.postcodes.loc[reaching_postcode.replace(" ", ""), ["longitude", "latitude"]]
    )
    expected = area.what_if([(x, y)], GROUP)
    metrics = _metrics(at)
    assert metrics["Residents newly within reach"] == f"{expected.newly_reached:,.0f}"
    assert metrics["Of them in the most deprived 20%"] == f"{expected.newly_reached_deprived:,.0f}"
    assert expected.newly_reached_deprived > 0
    # Shares are percentages, as on every other page.
    by = expected.by_lsoa
    after, before = (
        by["reached_after"].sum() / by["population"].sum(),
        by["reached_before"].sum() / by["population"].sum(),
    )
    assert metrics["All residents within reach"] == f"{after:.1%}"
    delta = {m.label: m.proto.delta for m in at.metric}["All residents within reach"]
    assert delta == f"{(after - before) * 100:+.1f} percentage points"
    table = at.dataframe[0].value
    fell = expected.by_area[expected.by_area["gap_change"] < 0]
    assert list(table["Area"]) == list(fell["name"])
    np.testing.assert_allclose(table["Within reach after (%)"], (fell["share_after"] * 100).round(1))
    np.testing.assert_allclose(table["Within reach before (%)"], (fell["share_before"] * 100).round(1))
    assert (table["Within reach after (%)"] > table["Within reach before (%)"]).all()
    assert table["Within reach after (%)"].max() > 1  # not a fraction
    assert "Download the change (CSV)" in {b.proto.label for b in at.get("download_button")}


def test_a_bad_postcode_is_named_by_its_control_and_adds_nothing(at):
    _add_postcode(at, "ZZ")
    assert [e.value for e in at.error] == [
        "**Postcode**: \\'ZZ\\' is not a UK postcode\\. Write it as e\\.g\\. M1 1AE\\."
    ]
    assert _sites(at) == []
    _add_postcode(at, "EB9 9ZZ")
    (error,) = at.error
    assert error.value.startswith("**Postcode**: \\'EB9 9ZZ\\' is not in the area\\'s postcode lookup")
    assert _sites(at) == []
    # The button that needs a site stays off until there is one.
    assert at.button(key="plan_go").disabled


def test_an_existing_asset_is_a_site_and_sensitive_places_are_not_offered(at, area):
    box = at.selectbox(key="plan_asset")
    labels = list(box.options)  # as shown
    hidden = area.assets.loc[sensitive_mask(area.assets), "name"]
    assert len(hidden) and not any(label.startswith(name) for name in hidden for label in labels)
    box.select_index(next(i for i, label in enumerate(labels) if label.startswith("Ashby Community Hall (")))
    at.button(key=ASSET_BUTTON).click().run()
    assert not at.exception and not at.error
    assert _sites(at) == ["**1.** Ashby Community Hall"]
    assert at.session_state["plan_sites"][0]["how"] == "asset"
    record = area.assets[area.assets["name"] == "Ashby Community Hall"].geometry.iloc[0]
    site = at.session_state["plan_sites"][0]
    assert (site["x"], site["y"]) == pytest.approx((record.x, record.y))
    # A community hall already serves Strengthening: a site there reaches nobody new, and the page says so.
    at.button(key="plan_go").click().run()
    assert _metrics(at)["Residents newly within reach"] == "0"
    assert {m.label: m.proto.delta for m in at.metric}["All residents within reach"] == ""  # no arrow for no change
    assert [i.value for i in at.info] == ["Nobody new would be within reach: everyone near these sites already is."]
    # Pressing Add with nothing chosen says so, naming the control.
    at.button(key=ASSET_BUTTON).click().run()
    assert at.error[0].value.startswith("**Existing asset or building**: no place is chosen")
    # A site can be removed again.
    at.button(key=f"plan_remove_{site['id']}").click().run()
    assert _sites(at) == []


def test_suggest_sites_shows_k_sites_with_a_download_and_can_test_them(at, area):
    at.slider(key="plan_k").set_value(4)
    at.button(key="plan_suggest").click().run()
    assert not at.exception and not at.error
    expected = area.suggest_sites(GROUP, 4)
    table = at.dataframe[0].value
    assert list(table["Site"]) == ["S1", "S2", "S3", "S4"]
    assert list(table["Deprived residents newly within reach"]) == list(
        expected["newly_reached_deprived"].round().astype(int)
    )
    assert list(table["Area"]) == list(expected["area_name"])
    assert "Download the suggested sites (CSV)" in {b.proto.label for b in at.get("download_button")}
    at.button(key="plan_test_suggested").click().run()
    assert len(_sites(at)) == 4
    at.button(key="plan_go").click().run()
    assert not at.exception and not at.error
    together = area.what_if(expected[["x", "y"]], GROUP)
    assert _metrics(at)["Of them in the most deprived 20%"] == f"{together.newly_reached_deprived:,.0f}"
    assert together.newly_reached_deprived == pytest.approx(expected["cumulative_deprived"].iloc[-1])


def test_a_changed_filter_asks_for_the_change_again(at, reaching_postcode):
    _add_postcode(at, reaching_postcode)
    at.button(key="plan_go").click().run()
    assert "Residents newly within reach" in _metrics(at)
    at.multiselect(key="_w_groups").set_value(["e6"]).run()
    assert "Residents newly within reach" not in _metrics(at)
    assert any("press **Show the change** again" in i.value for i in at.info)


def test_change_table_is_in_percentages() -> None:
    from assetmap.ui.pages.plan import change_table

    by_area = pd.DataFrame(
        {
            "code": ["A", "B"],
            "name": ["=cmd", "Bee"],
            "population": [1000.0, 2000.0],
            "share_before": [0.25, 0.5],
            "share_after": [0.3333, 0.5],
            "need_percentile": [90.0, 10.0],
            "gap_before": [0.675, 0.05],
            "gap_after": [0.6, 0.05],
            "gap_change": [-0.075, 0.0],
        }
    )
    table = change_table(by_area)
    assert table.to_dict("records") == [
        {
            "Area": "=cmd",
            "Residents": 1000,
            "Within reach before (%)": 25.0,
            "Within reach after (%)": 33.3,
            "Gap index before": 0.675,
            "Gap index after": 0.6,
            "Code": "A",
        }
    ]


def test_the_best_set_of_sites_says_how_close_one_at_a_time_comes(at, area):
    at.slider(key="plan_k").set_value(2)
    at.radio(key="plan_method").set_value("optimal")
    at.button(key="plan_suggest").click().run()
    assert not at.exception and not at.error
    expected = area.suggest_sites(GROUP, 2, method="optimal")
    table = at.dataframe[0].value
    assert list(table["Site"]) == ["S1", "S2"]
    assert sorted(table["Deprived residents newly within reach"]) == sorted(
        expected["newly_reached_deprived"].round().astype(int)
    )
    # The note on the page is the exact model's own: it compares the one-at-a-time choice with the best.
    assert any(common.md_text(expected.attrs["note"])[:60] in c.value for c in at.caption)
