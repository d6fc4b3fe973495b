"""Map page: areas shaded by need, assets by pillar, and the same as a table."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from assetmap.render import webmap
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common

#: Measures offered for shading, in the order shown.
SHADES: tuple[str, ...] = ("avg_score", "share_pop_decile_1_2", "population")

#: Height of the map in pixels.
MAP_HEIGHT: int = 700

_NUMBER_FORMATS: dict[str, str] = {
    "avg_score": "%.1f",
    "share_pop_decile_1_2": "percent",
    "population": "localized",
    "n_assets": "%d",
}


def page() -> None:
    """Draw the Map page."""
    area = common.current_area()
    if area is None:
        return
    taxonomy = load_taxonomy()
    st.title(f"{area.name}: need and community assets")
    summary = area.area_summary()

    offered = [key for key in SHADES if key in summary.columns] or [
        key for key in ("n_assets",) if key in summary.columns
    ]
    if not offered:
        st.error(
            "This area has no deprivation or population figures to shade the map by. Add a deprivation layer to the area folder."
        )
        return
    left, right = st.columns([2, 3])
    value = left.selectbox(
        "Shade areas by", offered, format_func=lambda key: webmap.MEASURES[key].label, key="map_shade"
    )
    pillar_names = {p.key: p.name for p in taxonomy.pillars}
    pillars = right.multiselect(
        "Show assets serving these pillars",
        list(pillar_names),
        default=list(pillar_names),
        format_func=pillar_names.__getitem__,
        key="map_pillars",
    )

    fmap = webmap.area_map(
        summary,
        area.assets,
        value=value,
        attribution=area.attribution,
        fictional=area.fictional,
        pillars=pillars,
        taxonomy=taxonomy,
    )
    # returned_objects=[]: panning and zooming need nothing back, so they do not rerun the page.
    st_folium(fmap, returned_objects=[], height=MAP_HEIGHT, use_container_width=True, key="area_map")
    st.caption(area.attribution)
    for note in webmap.map_notes(area.assets, pillars):
        st.info(note, icon=":material/visibility_off:")

    st.subheader("The map as a table")
    table = webmap.map_table(summary, area.assets, value=value, pillars=pillars, taxonomy=taxonomy)
    label = webmap.MEASURES[value].label
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            label: st.column_config.NumberColumn(label, format=_NUMBER_FORMATS.get(value, "%.2f")),
            "Assets shown": st.column_config.NumberColumn("Assets shown", format="%d"),
        },
    )
