"""The sidebar's choice of several elements and pillars, the page layout, and the view kept in the address."""

from __future__ import annotations

import pytest
import streamlit as st
from htmlread import map_twin
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.analysis.groups import group_label
from assetmap.render.views import shown_assets
from assetmap.ui import common

TIMEOUT_S = 120

pytestmark = [
    pytest.mark.usefixtures("fresh_streamlit_caches"),
    pytest.mark.skipif(not (settings.demo_area_path / "area.toml").is_file(), reason="the demo area is not built"),
]


def _gaps_page() -> None:
    from assetmap.ui.pages import gaps

    gaps.page()


def _map_page() -> None:
    from assetmap.ui.pages import map as map_page

    map_page.page()


def _ward_page() -> None:
    from assetmap.ui.pages import ward

    ward.page()


def _run(page, **query: str) -> AppTest:
    st.cache_resource.clear()
    at = AppTest.from_function(page, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_default_is_scaling_and_strengthening_together(demo):
    at = _run(_gaps_page)
    assert not at.exception and not at.error
    assert at.multiselect(key="_w_groups").value == ["scaling", "strengthening"]
    assert at.radio(key="_w_combine").value == "all"
    label = group_label("scaling&strengthening")
    # The page's header names the choice.
    assert any(common.md_text(label) in c.value and "800 m" in c.value for c in at.caption)
    assert any(s.value == f"Ranked by gap index: {label}" for s in at.subheader)
    whole = demo.gaps(groups=["scaling&strengthening", "scaling|strengthening"]).table
    whole = whole[whole["whole_area"]].set_index("group")
    assert _metric(at, "Residents within reach") == f"{whole.loc['scaling&strengthening', 'access_share']:.0%}"
    assert _metric(at, "Assets counted") == f"{int(whole.loc['scaling&strengthening', 'n_assets']):,}"
    # Any one within reach: more residents.
    at.radio(key="_w_combine").set_value("any").run()
    assert _metric(at, "Residents within reach") == f"{whole.loc['scaling|strengthening', 'access_share']:.0%}"
    assert at.query_params["combine"] == "any"


def test_filters_lead_the_sidebar_and_editions_are_folded_away():
    at = _run(_gaps_page)
    nodes = list(at.sidebar)
    kinds = [(n.type, getattr(n, "value", None)) for n in nodes]
    filters = kinds.index(("markdown", "**Filters**"))
    name = next(i for i, (t, _) in enumerate(kinds) if t == "subheader")
    assert filters < name
    editions = [e for e in at.sidebar.expander if e.label == "Data editions"]
    assert len(editions) == 1
    assert any("Deprivation" in m.value for m in editions[0].markdown)


def test_no_group_chosen_falls_back_with_a_notice():
    at = _run(_gaps_page)
    at.multiselect(key="_w_groups").set_value([]).run()
    assert not at.exception and not at.error
    assert any("No element or pillar is chosen" in w.value for w in at.warning)
    assert any(s.value.endswith(group_label(common.DEFAULT_GROUP)) for s in at.subheader)


def test_map_markers_follow_the_chosen_groups(demo):
    at = _run(_map_page)
    serving = shown_assets(demo, group=common.DEFAULT_GROUP)
    assert map_twin(at)["Assets shown"].sum() == serving["area_code"].notna().sum()
    at.multiselect(key="_w_groups").set_value(["e6"]).run()
    e6 = shown_assets(demo, group="e6")
    assert map_twin(at)["Assets shown"].sum() == e6["area_code"].notna().sum()
    at.toggle(key="map_other_groups").set_value(True).run()
    placed = demo.approved_assets()["area_code"].notna().sum()
    assert map_twin(at)["Assets shown"].sum() == placed


def test_an_address_sets_the_view_and_the_view_sets_the_address():
    at = _run(_gaps_page, groups="e6,scaling", combine="any", threshold="1200", stale="0", view="lsoa")
    assert not at.exception and not at.error and not at.warning
    assert at.multiselect(key="_w_groups").value == ["e6", "scaling"]
    assert at.radio(key="_w_combine").value == "any"
    assert at.select_slider(key="_w_threshold").value == 1200.0
    assert at.checkbox(key="_w_include_stale").value is False
    assert at.radio(key="gaps_by").value == "lsoa"
    assert any(s.value.endswith(group_label("e6|scaling")) for s in at.subheader)
    # A change is written back, so a reload or a copied link shows it.
    at.select_slider(key="_w_threshold").set_value(400.0).run()
    assert at.query_params["threshold"] == "400"
    assert at.query_params["groups"] == "e6,scaling" and at.query_params["view"] == "lsoa"


def test_bad_values_in_the_address_are_left_out_with_a_notice():
    at = _run(_gaps_page, groups="e6,<b>x</b>", combine="most", threshold="12", stale="maybe", view="map")
    assert not at.exception and not at.error
    notices = " ".join(w.value for w in at.warning)
    for words in ("groups", "way of combining", "distance", "stale switch", "view"):
        assert words in notices
    assert "<b>" not in notices  # shown as text
    assert at.multiselect(key="_w_groups").value == ["e6"]
    assert at.radio(key="_w_combine").value == common.DEFAULT_COMBINE
    assert at.select_slider(key="_w_threshold").value == float(settings.walk_threshold_m)
    # The address now holds the values used.
    assert at.query_params["threshold"] == f"{settings.walk_threshold_m:g}"


def test_the_ward_in_the_address_is_selected_and_an_unknown_one_refused(demo):
    code = demo.boundaries["code"].iloc[-1]
    at = _run(_ward_page, ward=code)
    assert not at.exception and not at.error
    assert at.selectbox(key="ward_code").value == code
    assert at.query_params["ward"] == code
    at = _run(_ward_page, ward="E05000000")
    assert not at.exception and not at.error
    assert any("E05000000" in w.value and "not one of this area" in w.value for w in at.warning)
