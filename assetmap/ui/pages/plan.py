"""Plan page: what if new assets opened at candidate sites, and where the site suggestion would put them.

Sites are chosen by clicking the map, by postcode or from the existing assets, never
by coordinates. The heavy work (the what-if and the suggestion) runs only when its
button is pressed, in the button's callback, so the map drawn in the same run
already shows the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from assetmap._errors import AssetMapError, ValidationError
from assetmap.analysis.scenario import HEURISTIC_NOTE, reach_shares
from assetmap.area import site_places as site_rules
from assetmap.render import views, webmap
from assetmap.render.webmap.sites import PlacedSite, site_layers
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common

if TYPE_CHECKING:
    from assetmap.area.load import Area

#: Address and icon of the page in the app's menu.
URL_PATH: str = "plan"
ICON: str = ":material/add_location_alt:"

#: Session key of the candidate sites: a list of dicts (:class:`assetmap.area.site_places.Site` fields and an ``id``).
SITES_KEY: str = "plan_sites"

#: Session key of the last map click acted on (the map returns it again on every rerun).
LAST_CLICK_KEY: str = "plan_last_click"

#: Session key of the last what-if: its inputs and its answer.
RESULT_KEY: str = "plan_result"

#: Session key of the last suggestion: its inputs and its shortlist.
SUGGESTED_KEY: str = "plan_suggested"

#: Session key of the message about the last action, by the control it concerns.
MESSAGES_KEY: str = "plan_messages"

#: Most candidate sites at once.
MAX_SITES: int = 10

#: Height of the map in pixels.
MAP_HEIGHT: int = 520

#: Labels of the page's controls, as messages name them.
POSTCODE_LABEL: str = "Postcode"
ASSET_LABEL: str = "Existing asset or building"
MAP_LABEL: str = "Map"
K_LABEL: str = "Number of sites to suggest"

#: How the sites are chosen, by the page's words.
METHOD_LABEL: str = "How to choose"
METHODS: dict[str, str] = {"greedy": "One at a time", "optimal": "Best set"}


def _sites() -> list[dict[str, Any]]:
    return st.session_state.setdefault(SITES_KEY, [])


def _say(control: str, text: str) -> None:
    st.session_state.setdefault(MESSAGES_KEY, {})[control] = text


def _said(control: str) -> None:
    """Show the message about the last action on ``control``, once."""
    text = st.session_state.get(MESSAGES_KEY, {}).pop(control, None)
    if text:
        st.error(text, icon=":material/error:")


def _refusal(control: str, exc: AssetMapError) -> str:
    """Return an error in the words of the page: the control's label, then what is wrong and the fix."""
    if isinstance(exc, ValidationError) and exc.problems:
        p = exc.problems[0]
        text = f"{p.message} {p.fix or ''}".strip()
        return f"**{common.md_text(control)}**: {common.md_text(text[:1].upper() + text[1:])}"
    return f"**{common.md_text(control)}**: {common.md_text(exc)}"


def _add(site: site_rules.Site, control: str) -> None:
    sites = _sites()
    if len(sites) >= MAX_SITES:
        _say(control, f"**{control}**: there are already {MAX_SITES} candidate sites. Remove one to add another.")
        return
    sites.append({**asdict(site), "id": uuid.uuid4().hex[:8]})


def _signature(chosen: common.Filters, sites: list[dict[str, Any]]) -> tuple[Any, ...]:
    return (chosen.group, chosen.threshold, chosen.include_stale, tuple((s["x"], s["y"]) for s in sites))


# -- actions (button callbacks: they run before the page is drawn) ---------------------------------------


def _add_postcode(area: Area) -> None:
    try:
        _add(site_rules.site_from_postcode(area, st.session_state.get("plan_postcode")), POSTCODE_LABEL)
    except AssetMapError as exc:
        _say(POSTCODE_LABEL, _refusal(POSTCODE_LABEL, exc))
        return
    st.session_state["plan_postcode"] = ""


def _add_asset(area: Area, places: pd.DataFrame) -> None:
    chosen = st.session_state.get("plan_asset")
    if chosen is None or chosen not in places.index:
        _say(ASSET_LABEL, f"**{ASSET_LABEL}**: no place is chosen. Type part of its name and pick it from the list.")
        return
    row = places.loc[chosen]
    try:
        _add(site_rules.site_from_point(area, str(row["name"]), row["x"], row["y"]), ASSET_LABEL)
    except AssetMapError as exc:
        _say(ASSET_LABEL, _refusal(ASSET_LABEL, exc))
        return
    st.session_state["plan_asset"] = None


def _remove(site_id: str) -> None:
    st.session_state[SITES_KEY] = [s for s in _sites() if s["id"] != site_id]


def _run_what_if(area: Area, chosen: common.Filters) -> None:
    sites = _sites()
    points = np.array([(s["x"], s["y"]) for s in sites], dtype=float).reshape(-1, 2)
    try:
        with st.spinner("Measuring the change..."):
            result = area.what_if(points, chosen.group, threshold=chosen.threshold, include_stale=chosen.include_stale)
            reach = views.what_if_reach(area, result, (points[:, 0], points[:, 1]), include_stale=chosen.include_stale)
            shares = reach_shares(result, area.deprivation)
    except AssetMapError as exc:
        _say("what_if", common.md_text(exc))
        return
    st.session_state[RESULT_KEY] = {
        "signature": _signature(chosen, sites),
        "result": result,
        "reach": reach,
        "shares": shares,
    }


def _run_suggest(area: Area, chosen: common.Filters) -> None:
    k = int(st.session_state.get("plan_k", 3))
    method = st.session_state.get("plan_method", "greedy")
    key = ("plan_suggest", chosen.group, k, chosen.threshold, chosen.include_stale, method)
    try:
        with st.spinner("Choosing sites..." if method == "greedy" else "Finding the best set of sites..."):
            shortlist = area.memo(
                key,
                lambda: area.suggest_sites(
                    chosen.group, k, threshold=chosen.threshold, include_stale=chosen.include_stale, method=method
                ),
            )
    except AssetMapError as exc:
        _say(K_LABEL, _refusal(K_LABEL, exc))
        return
    st.session_state[SUGGESTED_KEY] = {"signature": key, "frame": shortlist}


def _test_suggested(area: Area, frame: pd.DataFrame) -> None:
    for row in frame.itertuples():
        place = f"suggested site S{row.rank}" + (f" in {row.area_name}" if isinstance(row.area_name, str) else "")
        try:
            _add(
                site_rules.site_from_point(area, place[:1].upper() + place[1:], row.x, row.y, how="suggested"), K_LABEL
            )
        except AssetMapError as exc:
            _say(K_LABEL, _refusal(K_LABEL, exc))


# -- the page ------------------------------------------------------------------------------------------


def nav_page() -> st.Page:
    """Return the page as the app's menu lists it (and as links to it name it)."""
    return st.Page(page, title="Plan", icon=ICON, url_path=URL_PATH)


def page() -> None:
    """Draw the Plan page."""
    area = common.current_area()
    if area is None:
        return
    chosen = common.filters()
    common.title(f"{common.md_text(area.name)}: plan new assets", chosen)
    st.caption(
        f"What if a new asset serving **{common.md_text(chosen.label)}** opened here? Residents count as within "
        f"reach within {chosen.threshold:,.0f} m. Change the element or pillar and the distance under Filters in "
        "the sidebar."
    )
    result = _current(RESULT_KEY, _signature(chosen, _sites()))
    suggested = _current(
        SUGGESTED_KEY,
        (
            "plan_suggest",
            chosen.group,
            st.session_state.get("plan_k", 3),
            chosen.threshold,
            chosen.include_stale,
            st.session_state.get("plan_method", "greedy"),
        ),
    )
    map_column, side = st.columns([3, 2], gap="medium")
    with side:
        _add_controls(area)
        _site_list(area, chosen)
    with map_column:
        _draw_map(area, result, suggested)
    if result is not None:
        _show_change(result, chosen)
    elif _sites() and st.session_state.get(RESULT_KEY):
        st.info("The sites or the filters have changed: press **Show the change** again.", icon=":material/refresh:")
    _suggest_section(area, chosen, suggested)


def _current(key: str, signature: tuple[Any, ...]) -> dict[str, Any] | None:
    """Return the last answer kept under ``key`` if it was made for these inputs, else None."""
    kept = st.session_state.get(key)
    return kept if kept and kept["signature"] == signature else None


def _add_controls(area: Area) -> None:
    st.subheader("Add a candidate site")
    st.caption("Click the map, give a postcode, or choose an existing asset or building.")
    with st.form("plan_postcode_form", border=False):
        st.text_input(POSTCODE_LABEL, key="plan_postcode", placeholder="e.g. M1 1AE", max_chars=10)
        st.form_submit_button("Add this postcode", on_click=_add_postcode, args=(area,))
    _said(POSTCODE_LABEL)
    places = _places(area)
    with st.form("plan_asset_form", border=False):
        st.selectbox(
            ASSET_LABEL,
            list(places.index),
            index=None,
            format_func=lambda i: str(places.at[i, "label"]),
            placeholder="Type part of a name to search",
            key="plan_asset",
        )
        st.form_submit_button("Add this place", on_click=_add_asset, args=(area, places))
    _said(ASSET_LABEL)
    _said(MAP_LABEL)


def _places(area: Area) -> pd.DataFrame:
    """Return the assets a visitor may pick as a site: those the public map draws (no sensitive place)."""
    drawn, _, _ = webmap.points_to_draw(area.assets)
    if drawn is None or not len(drawn):
        return pd.DataFrame(columns=["label", "name", "x", "y"])
    types = {t.key: t.label for t in load_taxonomy().asset_types}
    labels = []
    kinds = drawn["type"] if "type" in drawn else pd.Series(None, index=drawn.index)
    wards = drawn["area_name"] if "area_name" in drawn else pd.Series(None, index=drawn.index)
    for name, kind, ward in zip(drawn["name"], kinds, wards, strict=True):
        # Name, then what and where it is, to tell apart places of the same name.
        about = [
            str(a)
            for a in (types.get(kind, kind) if isinstance(kind, str) else None, ward)
            if isinstance(a, str) and a.strip()
        ]
        labels.append(f"{name} ({', '.join(about)})" if about else str(name))
    out = pd.DataFrame(
        {"label": labels, "name": drawn["name"].astype(str).to_numpy(), "x": drawn.geometry.x, "y": drawn.geometry.y}
    )
    out.index = pd.RangeIndex(len(out))
    return out.sort_values("label", key=lambda s: s.str.casefold())


def _site_list(area: Area, chosen: common.Filters) -> None:
    sites = _sites()
    st.subheader(f"Candidate sites ({len(sites)} of up to {MAX_SITES})")
    if not sites:
        st.caption("None yet.")
    for i, site in enumerate(sites, start=1):
        name, remove = st.columns([4, 2], vertical_alignment="center")
        name.markdown(f"**{i}.** {common.md_text(site['label'])}")
        remove.button(f"Remove site {i}", key=f"plan_remove_{site['id']}", on_click=_remove, args=(site["id"],))
    st.button(
        "Show the change",
        type="primary",
        icon=":material/query_stats:",
        disabled=not sites,
        on_click=_run_what_if,
        args=(area, chosen),
        key="plan_go",
    )
    _said("what_if")


def _draw_map(area: Area, result: dict[str, Any] | None, suggested: dict[str, Any] | None) -> None:
    placed = [PlacedSite(i, s["label"], s["longitude"], s["latitude"]) for i, s in enumerate(_sites(), start=1)]
    shortlist = []
    if suggested is not None:
        frame = suggested["frame"].to_crs(4326)
        shortlist = [
            PlacedSite(int(r), f"suggested site in {n}" if isinstance(n, str) else "suggested site", g.x, g.y)
            for r, n, g in zip(frame["rank"], frame["area_name"], frame.geometry, strict=True)
        ]
    layers = site_layers(
        area.boundaries, sites=placed, suggested=shortlist, reach=result["reach"] if result is not None else None
    )
    base = webmap.base_map(
        attribution=area.attribution, fictional=area.fictional, bounds=layers.bounds, libs_url=common.WEB_LIBS_URL
    )
    clicked = st_folium(
        base,
        feature_group_to_add=layers.groups,
        returned_objects=["last_clicked"],
        height=MAP_HEIGHT,
        use_container_width=True,
        key="plan_map",
    )
    if layers.legend:
        st.html(layers.legend)
    st.caption(area.attribution)
    _take_click(area, clicked)


def _take_click(area: Area, clicked: dict[str, Any] | None) -> None:
    """Add the point last clicked on the map as a site, once per click."""
    point = (clicked or {}).get("last_clicked") or {}
    if point.get("lng") is None or point.get("lat") is None:
        return
    marker = (float(point["lng"]), float(point["lat"]))
    if st.session_state.get(LAST_CLICK_KEY) == marker:
        return
    st.session_state[LAST_CLICK_KEY] = marker
    try:
        _add(site_rules.site_from_lonlat(area, *marker), MAP_LABEL)
    except AssetMapError as exc:
        _say(MAP_LABEL, _refusal(MAP_LABEL, exc))
    st.rerun()  # draw the new site (or the message) where the controls are


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _points(change: float) -> str | None:
    """Return a change of share in percentage points, or None where it rounds to nothing (no arrow for no change)."""
    return f"{change * 100:+.1f} percentage points" if round(change * 100, 1) != 0 else None


def _show_change(kept: dict[str, Any], chosen: common.Filters) -> None:
    result, shares = kept["result"], kept["shares"]
    st.subheader("The change")
    a, b, c, d = st.columns(4)
    a.metric("Residents newly within reach", f"{result.newly_reached:,.0f}")
    b.metric(
        "All residents within reach",
        _pct(shares["share_after"]),
        delta=_points(shares["share_after"] - shares["share_before"]),
        help=f"Before: {_pct(shares['share_before'])} of {shares['population']:,.0f} residents.",
    )
    c.metric("Of them in the most deprived 20%", f"{result.newly_reached_deprived:,.0f}", help="IMD deciles 1 and 2.")
    d.metric(
        "Most deprived 20% within reach",
        _pct(shares["deprived_share_after"]),
        delta=_points(shares["deprived_share_after"] - shares["deprived_share_before"]),
        help=f"Before: {_pct(shares['deprived_share_before'])} of {shares['deprived_population']:,.0f} residents "
        "in IMD deciles 1 and 2.",
    )
    table = change_table(result.by_area)
    if len(table):
        st.markdown(f"**{common.md_text(chosen.label)}: areas whose gap index would fall**")
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "Residents": st.column_config.NumberColumn(format="localized"),
                **{
                    c: st.column_config.NumberColumn(format="%.1f%%")
                    for c in ("Within reach before (%)", "Within reach after (%)")
                },
                **{c: st.column_config.NumberColumn(format="%.3f") for c in ("Gap index before", "Gap index after")},
            },
            key="plan_change_table",
        )
        common.table_download(
            "Download the change (CSV)", table, "csv", file_name="what_if_change.csv", key="plan_change_download"
        )
    elif result.newly_reached > 0:
        st.info("No area's gap index would fall by a measurable amount.", icon=":material/info:")
    else:
        st.info("Nobody new would be within reach: everyone near these sites already is.", icon=":material/info:")


def change_table(by_area: pd.DataFrame) -> pd.DataFrame:
    """Return the areas whose gap index falls, largest fall first, with shares as percentages (0 to 100).

    Parameters
    ----------
    by_area : DataFrame
        :attr:`assetmap.analysis.scenario.WhatIf.by_area`.
    """
    fell = by_area[by_area["gap_change"] < 0]
    return pd.DataFrame(
        {
            "Area": fell["name"].astype(str),
            "Residents": fell["population"].round().astype("int64"),
            "Within reach before (%)": (fell["share_before"] * 100).round(1),
            "Within reach after (%)": (fell["share_after"] * 100).round(1),
            "Gap index before": fell["gap_before"].round(3),
            "Gap index after": fell["gap_after"].round(3),
            "Code": fell["code"].astype(str),
        }
    ).reset_index(drop=True)


def _suggest_section(area: Area, chosen: common.Filters, suggested: dict[str, Any] | None) -> None:
    st.subheader("Suggest sites")
    st.caption(
        f"Street corners in the area where a new asset serving {common.md_text(chosen.label)} would bring the most "
        "residents of the most deprived 20% within reach: chosen one at a time, or as the best set of that many."
    )
    left, middle, right = st.columns([3, 3, 2], vertical_alignment="bottom")
    left.slider(K_LABEL, min_value=1, max_value=10, value=3, key="plan_k")
    middle.radio(
        METHOD_LABEL,
        list(METHODS),
        format_func=METHODS.__getitem__,
        horizontal=True,
        key="plan_method",
        help="One at a time is quick and usually close to the best; the best set is found exactly (it can take "
        "up to a minute on a large area) and says how close the one-at-a-time choice comes to it.",
    )
    right.button(
        "Suggest sites", icon=":material/auto_awesome:", on_click=_run_suggest, args=(area, chosen), key="plan_suggest"
    )
    _said(K_LABEL)
    if suggested is None:
        return
    frame = suggested["frame"]
    if not len(frame):
        st.info(
            "No site would bring more deprived residents within reach: they all are already.", icon=":material/info:"
        )
        return
    shortlist = suggestion_table(frame)
    st.dataframe(
        shortlist,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="localized") for c in shortlist.columns[2:6]},
        key="plan_suggest_table",
    )
    st.caption(common.md_text(frame.attrs.get("note", HEURISTIC_NOTE)))
    a, b = st.columns(2)
    with a:
        common.table_download(
            "Download the suggested sites (CSV)",
            shortlist,
            "csv",
            file_name="suggested_sites.csv",
            key="plan_suggest_download",
        )
    b.button("Test these sites in the what-if", on_click=_test_suggested, args=(area, frame), key="plan_test_suggested")


def suggestion_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the suggested sites as the page shows and downloads them.

    Parameters
    ----------
    frame : GeoDataFrame
        From :meth:`assetmap.area.load.Area.suggest_sites`.
    """
    wgs = frame.to_crs(4326)
    return pd.DataFrame(
        {
            "Site": [f"S{r}" for r in frame["rank"]],
            "Area": frame["area_name"].fillna("").astype(str),
            "Deprived residents newly within reach": frame["newly_reached_deprived"].round().astype("int64"),
            "All residents newly within reach": frame["newly_reached"].round().astype("int64"),
            "Deprived residents, running total": frame["cumulative_deprived"].round().astype("int64"),
            "All residents, running total": frame["cumulative_reached"].round().astype("int64"),
            "Latitude": wgs.geometry.y.round(5),
            "Longitude": wgs.geometry.x.round(5),
        }
    )
