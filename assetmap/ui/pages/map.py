"""Map page: wards or LSOAs shaded by need, access, gap or both at once, assets by pillar, and the same as a table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from assetmap._errors import AssetMapError
from assetmap.area.units import UnitLabel
from assetmap.render import htmltable, views, webmap
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common, measures

#: Height of the map in pixels.
MAP_HEIGHT: int = 650

#: What the areas can be shaded by, per view, in the order offered.
SHADES: dict[str, tuple[str, ...]] = {
    "area": ("avg_score", "share_pop_decile_1_2", "access_share", "gap_index", "bivariate_class", "population"),
    "lsoa": ("avg_score", "imd_decile", "access_share", "gap_index", "bivariate_class", "population"),
}

#: Session key of the last map click acted on (the map keeps returning it on every rerun).
_LAST_CLICK_KEY = "map_last_click"

#: How the table twin writes each measure (format specifications, as for :func:`format`).
_NUMBER_FORMATS: dict[str, str] = {
    "avg_score": ".1f",
    "share_pop_decile_1_2": ".1%",
    "access_share": ".1%",
    "population": ",d",
    "imd_decile": "d",
    "gap_index": ".3f",
    "need_percentile": ".0f",
}

#: Orders the table twin can be read in; the first is the map key's, darkest shading first.
TABLE_ORDERS: dict[str, str] = {
    "shade": "Shading, darkest first (as the key)",
    "shade_reversed": "Shading, lightest first",
    "name": "Area name, A to Z",
    "assets_most": "Assets shown, most first",
    "assets_fewest": "Assets shown, fewest first",
}


def _label(value: str, chosen: common.Filters) -> str:
    if value == "access_share":
        return f"Share of residents within {chosen.threshold:,.0f} m of {chosen.label}"
    if value == "gap_index":
        return f"Gap index for {chosen.label} (need x share out of reach)"
    if value == "bivariate_class":
        return f"Need and access to {chosen.label}"
    return webmap.MEASURES[value].label


def _controls(area, chosen: common.Filters) -> dict[str, Any]:
    taxonomy = load_taxonomy()
    top = st.columns([2, 3, 2, 2])
    with top[0]:
        by = common.view_choice(area.unit_label, "map_by")
    audience = measures.audience_select("map_audience", column=top[3])
    shades = SHADES[by]
    value = top[1].selectbox(
        "Shade areas by", shades, format_func=lambda key: _label(key, chosen), key=f"map_shade_{by}"
    )
    catchment = top[2].toggle(
        "Shade the walking catchment",
        value=False,
        key="map_catchment",
        help=f"Land within {chosen.threshold:,.0f} m of an asset serving {chosen.label}.",
    )
    pillar_names = {p.key: p.name for p in taxonomy.pillars}
    bottom = st.columns([3, 3, 2])
    pillars = bottom[0].multiselect(
        "Show assets serving these pillars",
        list(pillar_names),
        default=list(pillar_names),
        format_func=pillar_names.__getitem__,
        key="map_pillars",
    )
    types = sorted(area.approved_assets()["type"].dropna().unique()) if "type" in area.assets else []
    type_labels = {t.key: t.label for t in taxonomy.asset_types}
    chosen_types = bottom[1].multiselect(
        "Asset types (all when empty)",
        types,
        format_func=lambda t: type_labels.get(t, t),
        key="map_types",
    )
    others = bottom[2].toggle(
        "Show assets of other groups",
        value=False,
        key="map_other_groups",
        help=f"Off: only assets serving {chosen.label} (any of the chosen elements and pillars).",
    )
    return {
        "by": by,
        "value": value,
        "catchment": catchment,
        "pillars": pillars,
        "types": chosen_types or None,
        "group": None if others else chosen.group,
        "unit": area.unit_label,
        "audience": audience,
    }


def page() -> None:
    """Draw the Map page."""
    chosen = common.filters()
    area = common.current_area()
    if area is None:
        return
    common.title(f"{common.md_text(area.name)}: need and community assets", chosen)
    opts = _controls(area, chosen)
    by, value = opts["by"], opts["value"]
    try:
        layer = views.map_layer(
            area,
            chosen.group,
            threshold=chosen.threshold,
            include_stale=chosen.include_stale,
            by=by,
            audience=opts["audience"],
        )
        assets = views.shown_assets(
            area,
            include_stale=chosen.include_stale,
            group=opts["group"],
            types=opts["types"],
            audience=opts["audience"],
        )
        shade = (
            views.catchment(area, chosen.group, threshold=chosen.threshold, include_stale=chosen.include_stale)
            if opts["catchment"]
            else None
        )
    except AssetMapError as exc:
        st.error(common.md_text(exc), icon=":material/error:")
        return
    if layer[value].isna().all():
        st.warning(
            f"No area has a value for “{common.md_text(_label(value, chosen))}”: the area folder may lack the deprivation layer.",
            icon=":material/warning:",
        )
    label = _label(value, chosen)
    _draw_map(area, chosen, opts, layer, assets, shade)
    st.caption(area.attribution)
    for note in webmap.map_notes(assets, opts["pillars"]):
        st.info(note, icon=":material/visibility_off:")
    if by == "area":
        _say_selected(layer, opts["unit"])
    _table_twin(layer, assets, opts, label)


def _draw_map(area, chosen: common.Filters, opts: dict[str, Any], layer, assets, shade) -> None:
    """Draw the map and its key, and select the ward clicked."""
    by = opts["by"]
    method = "walk" if layer.attrs.get("method") == "network" else "straight line"
    layers = webmap.map_layers(
        layer,
        assets,
        value=opts["value"],
        fictional=area.fictional,
        pillars=opts["pillars"],
        catchment=shade,
        display=webmap.MapDisplay(
            value_label=_label(opts["value"], chosen),
            catchment_label=f"Within {chosen.threshold:,.0f} m ({method}) of {chosen.label}",
            selected=common.selected_area_code() if by == "area" else None,
            libs_url=common.WEB_LIBS_URL,
        ),
    )
    # The base map is the same on every rerun of a view, so the browser keeps it (and the
    # reader's pan and zoom); a filter change sends only the data layers.
    base = webmap.base_map(
        attribution=area.attribution, fictional=area.fictional, bounds=layers.bounds, libs_url=common.WEB_LIBS_URL
    )
    map_column, legend_column = st.columns([4, 1])
    with map_column:
        # Only a click on an area comes back: panning and zooming do not rerun the page.
        clicked = st_folium(
            base,
            feature_group_to_add=layers.groups,
            returned_objects=["last_active_drawing"],
            height=MAP_HEIGHT,
            use_container_width=True,
            key=f"area_map_{by}",
        )
    with legend_column:
        st.html(layers.legend)
    _select_clicked(clicked, layer, by)


def _say_selected(layer, unit: UnitLabel) -> None:
    """Name the selected ward (or locality...), or say how to select one."""
    code = common.selected_area_code()
    names = dict(zip(layer["code"], layer["name"], strict=True))
    page = common.md_text(f"{unit.singular} profile")
    if code in names:
        st.success(
            f"Selected: {common.md_unit(names[code], code)}. Its profile is on the {page} page.",
            icon=":material/location_city:",
        )
    else:
        st.caption(f"Click a {common.md_text(unit.singular_lower)} to select it for the {page} page.")


def _table_twin(layer, assets, opts: dict[str, Any], label: str) -> None:
    """Show the map as a table, in the order chosen, with its download."""
    by, value = opts["by"], opts["value"]
    st.subheader("The map as a table")
    table = webmap.map_table(layer, assets, value=value, value_label=label, pillars=opts["pillars"])
    order = st.selectbox(
        "Order the table by", list(TABLE_ORDERS), format_func=TABLE_ORDERS.__getitem__, key="map_table_order"
    )
    table = order_table(table, order)
    # A plain HTML table rather than an interactive grid: screen readers and keyboards move
    # through it as a table, it prints, and it costs the browser a fraction of a grid.
    st.html(
        htmltable.html_table(
            table,
            caption=f"{opts['unit'].plural if by == 'area' else 'LSOAs'}: {label}, and the assets shown in each",
            formats={label: _NUMBER_FORMATS.get(value, ".2f"), "Assets shown": ",d"},
        )
    )
    common.table_download(
        "Download this table (CSV)", table, "csv", file_name=f"map_{value}_{by}.csv", key="map_download"
    )


def order_table(table: pd.DataFrame, order: str) -> pd.DataFrame:
    """Return the table twin in one of the :data:`TABLE_ORDERS` (it arrives in the key's order).

    Parameters
    ----------
    table : DataFrame
        From :func:`assetmap.render.webmap.map_table`, darkest shading first.
    order : str
        A key of :data:`TABLE_ORDERS`.

    Returns
    -------
    DataFrame
    """
    if order == "shade_reversed":
        shaded = table.iloc[:, 2].notna().to_numpy()
        # Lightest first, with areas that have no value still last.
        return pd.concat([table[shaded].iloc[::-1], table[~shaded]]).reset_index(drop=True)
    if order == "name":
        return table.sort_values("Area", key=lambda s: s.str.casefold(), kind="stable").reset_index(drop=True)
    if order in ("assets_most", "assets_fewest"):
        ascending = order == "assets_fewest"
        return table.sort_values("Assets shown", ascending=ascending, kind="stable").reset_index(drop=True)
    return table


def _select_clicked(clicked: dict[str, Any] | None, layer, by: str) -> None:
    """Select the ward last clicked on the map, once per click."""
    feature = (clicked or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    if by != "area" or props.get("kind") != "area":
        return
    marker = (props.get("code"), feature.get("id"))
    if st.session_state.get(_LAST_CLICK_KEY) == marker:
        return
    st.session_state[_LAST_CLICK_KEY] = marker
    # Codes reach the page escaped; match them back to the layer's own.
    codes = {webmap.safe_text(c): c for c in layer["code"]}
    if props.get("code") in codes:
        common.select_area(codes[props["code"]])
