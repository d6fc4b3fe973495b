"""Gaps page: where need is high and assets are out of reach, ranked, with downloads and a link to the what-if."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from assetmap._errors import AssetMapError
from assetmap.analysis.groups import group_keys, group_label, group_short_label
from assetmap.analysis.note import distance_words
from assetmap.area.units import UnitLabel, unit_name
from assetmap.io.export import MEDIA_TYPES
from assetmap.ui import common, measures
from assetmap.ui.pages import plan

#: Columns of the ranked table, as the page shows them: what an officer reads first on the left, the code last.
RANKED_COLUMNS: dict[str, str] = {
    "gap_rank": "Rank",
    "priority": "Priority",
    "name": "Area",
    "ward": "Ward",
    "gap_index": "Gap index",
    "bivariate_label": "Need and access",
    "need_percentile": "Need percentile",
    "access_share": "Within reach",
    "population": "Residents",
    "n_assets": "Assets",
    "assets_per_1000": "Assets per 1,000",
    "share_within_400m": "Within 400 m",
    "share_within_800m": "Within 800 m",
    "share_within_1200m": "Within 1,200 m",
    **measures.extra_columns(),
    "code": "Code",
}

#: One line on each term, shown where it is first met (column help) and gathered in the method note's glossary.
TERMS: dict[str, str] = {
    "Rank": "1 is the largest gap: high need and few residents within reach.",
    "Priority": "Marked where need is high and access low: the areas commissioners look at first.",
    "Gap index": "Need percentile / 100 x (1 - share of residents within reach): 0 is no gap, 1 the largest.",
    "Need and access": "The need-and-access class: need (by deprivation) and access (share within reach), "
    "each low, medium or high (split into thirds).",
    "Need percentile": "Where the area's deprivation sits among all of England's LSOAs: 100 is the most deprived.",
    "Within reach": "Access share: the share of residents within walking reach of an asset of the chosen group.",
}

#: The text marker of the rows in the "high need, low access" class (the highlight is not colour alone).
PRIORITY_MARK: str = "High need, low access"

#: Names of the download formats, as officers know them.
_FORMAT_NAMES: dict[str, str] = {"csv": "CSV", "xlsx": "Excel (XLSX)", "geojson": "GeoJSON", "gpkg": "GeoPackage"}

#: The bivariate class commissioners look at first.
HIGH_NEED_LOW_ACCESS = "3-1"


def ranked(table: pd.DataFrame, group: str, wards: pd.Series | None = None) -> pd.DataFrame:
    """Return one group's rows of a gap table, ranked, in the page's column names (whole area last).

    Parameters
    ----------
    table : DataFrame
        A gap table (:meth:`Area.gaps`).
    group : str
        The group whose rows to show.
    wards : Series, optional
        Ward name by LSOA code, for the LSOA view: each LSOA carries its ward.
    """
    rows = table[table["group"] == group].sort_values(["whole_area", "gap_rank"], kind="stable").copy()
    rows["priority"] = rows["bivariate_class"].eq(HIGH_NEED_LOW_ACCESS).map({True: PRIORITY_MARK, False: ""})
    if wards is not None:
        rows["ward"] = rows["code"].map(wards).fillna("")
    out = pd.DataFrame(rows[[c for c in RANKED_COLUMNS if c in rows]]).rename(columns=RANKED_COLUMNS)
    return out.reset_index(drop=True)


def _highlight(row: pd.Series) -> list[str]:
    """Shade the "high need, low access" rows (their Priority column says so in words too)."""
    shade = "background-color: #fde2c8" if row.get("Priority") == PRIORITY_MARK else ""
    return [shade] * len(row)


def ranked_config(unit_singular: str) -> dict[str, Any]:
    """Return the ranked table's column settings: the area's name pinned, shares as percentages, each term explained."""
    share = {
        name: st.column_config.ProgressColumn(name, min_value=0.0, max_value=1.0, format="percent")
        for name in ("Within 400 m", "Within 800 m", "Within 1,200 m")
    }
    return {
        "Rank": st.column_config.NumberColumn(format="%d", help=TERMS["Rank"], pinned=True),
        "Priority": st.column_config.TextColumn(help=TERMS["Priority"]),
        "Area": st.column_config.TextColumn(unit_singular, pinned=True),
        "Gap index": st.column_config.NumberColumn(format="%.3f", help=TERMS["Gap index"]),
        "Need and access": st.column_config.TextColumn(help=TERMS["Need and access"]),
        "Need percentile": st.column_config.NumberColumn(format="%.0f", help=TERMS["Need percentile"]),
        "Within reach": st.column_config.NumberColumn(format="percent", help=TERMS["Within reach"]),
        "Residents": st.column_config.NumberColumn(format="localized"),
        "Assets": st.column_config.NumberColumn(format="%d"),
        "Assets per 1,000": st.column_config.NumberColumn(format="%.2f"),
        **share,
        measures.CAPACITY_COLUMN: st.column_config.NumberColumn(format="%.2f"),
        measures.AUDIENCE_POPULATION_COLUMN: st.column_config.NumberColumn(format="localized"),
    }


def page() -> None:
    """Draw the Gaps page."""
    chosen = common.filters()
    area = common.current_area()
    if area is None:
        return
    common.title(f"{common.md_text(area.name)}: gaps in community assets", chosen)
    group, threshold, include_stale = chosen.group, chosen.threshold, chosen.include_stale
    by = common.view_choice(area.unit_label, "gaps_by")
    audience = measures.audience_select()
    try:
        with st.spinner("Measuring walking access..."):
            # Every element (for the coverage matrix) and the chosen group, which may combine several.
            result = area.gaps(
                threshold=threshold,
                by=by,
                include_stale=include_stale,
                groups=list(dict.fromkeys([*group_keys(), group])),
                audience=audience,
            )
    except AssetMapError as exc:
        st.error(common.md_text(exc), icon=":material/error:")
        return
    table, note = measures.with_capacity(area, result, audience, include_stale)
    rows = table[(table["group"] == group) & ~table["whole_area"]]
    whole = table[(table["group"] == group) & table["whole_area"]].iloc[0]

    a, b, c, d = st.columns(4)
    a.metric(
        "Residents within reach",
        f"{whole['access_share']:.0%}",
        help=f"Access share: the share of residents within {threshold:,.0f} m of an asset of the chosen group.",
    )
    b.metric(
        "Assets counted",
        f"{int(whole['n_assets']):,}",
        help="Approved assets serving at least one of the chosen elements and pillars, each counted once.",
    )
    c.metric(
        "High need, low access",
        f"{int((rows['bivariate_class'] == HIGH_NEED_LOW_ACCESS).sum())}",
        help="Areas in the need-and-access class of high need and low access: " + TERMS["Need and access"],
    )
    d.metric("Distance", "walking" if result.access.method == "network" else "straight line")
    beyond = int(whole["n_assets_outside"])
    if beyond or area.assets_left_out:
        st.caption(
            f"Assets counted are those in the area's {'wards' if by == 'area' else 'LSOAs'}. "
            + (
                f"{beyond:,} more, beyond its boundary within {distance_words(area.asset_buffer_m)}, count for "
                "residents' walking access only. "
                if beyond
                else ""
            )
            + (
                f"{area.assets_left_out:,} record{' was' if area.assets_left_out == 1 else 's were'} further out: "
                "left out."
                if area.assets_left_out
                else ""
            )
        )
    if whole["no_assets"]:
        st.warning(f"No approved asset serves {group_label(group)}: nobody is within reach.", icon=":material/warning:")

    st.subheader(f"Ranked by gap index: {group_label(group)}")
    st.caption(
        "Gap index = need percentile / 100 x (1 - share of residents within reach): the larger, the more "
        'deprived residents are out of reach. Rank 1 is the largest gap; rows marked "High need, low access" '
        "are shaded; the whole area is the last row. Hover a column's heading for what it means."
    )
    shown = ranked(table, group, area.lsoa_ward_names() if by == "lsoa" else None)
    st.dataframe(
        shown.style.apply(_highlight, axis=1),
        hide_index=True,
        width="stretch",
        column_config=ranked_config(area.unit_label.singular if by == "area" else "LSOA"),
        key="gaps_table",
    )

    if by == "area":
        _funding(area, rows)
    _downloads(table, group, by)
    with st.expander("About the method"):
        st.markdown(note)
    if by == "area":
        _coverage_matrix(table, area.unit_label)
    st.page_link(
        plan.nav_page(),
        label="What if a new asset opened? Try sites, or ask for suggestions, on the Plan page",
        icon=plan.ICON,
    )


def _funding(area, rows: pd.DataFrame) -> None:
    """Grant funding per ward or locality (360Giving), beside need and provision, where the area has grants."""
    from assetmap.area.funding import area_funding

    try:
        funding = area_funding(area)
    except AssetMapError as exc:
        st.error(common.md_text(exc), icon=":material/error:")
        return
    if funding is None:
        return
    st.subheader("Grant funding (360Giving)")
    one = common.md_text(area.unit_label.singular_lower)
    st.caption(f"Grants placed in each {one} by beneficiary {one} or LSOA code, or by the recipient's postcode.")
    shown = rows[["code", "name", "need_percentile", "assets_per_1000", "gap_index"]].merge(
        funding[["code", "n_grants", "funding", "funding_per_1000"]], on="code", how="left"
    )
    shown = shown.sort_values("gap_index", ascending=False).rename(
        columns={
            "name": "Area",
            "code": "Code",
            "need_percentile": "Need percentile",
            "assets_per_1000": "Assets per 1,000",
            "gap_index": "Gap index",
            "n_grants": "Grants",
            "funding": "Funding (£)",
            "funding_per_1000": "Funding per 1,000 residents (£)",
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Need percentile": st.column_config.NumberColumn(format="%.0f", help=TERMS["Need percentile"]),
            "Assets per 1,000": st.column_config.NumberColumn(format="%.2f"),
            "Gap index": st.column_config.NumberColumn(format="%.3f"),
            "Funding (£)": st.column_config.NumberColumn(format="localized"),
            "Funding per 1,000 residents (£)": st.column_config.NumberColumn(format="%.0f"),
        },
        key="gaps_funding",
    )


def _downloads(table: pd.DataFrame, group: str, by: str) -> None:
    subset = table[table["group"] == group]
    columns = st.columns(len(MEDIA_TYPES))
    for column, fmt in zip(columns, MEDIA_TYPES, strict=True):
        frame = subset.drop(columns="geometry") if fmt in ("csv", "xlsx") else subset
        with column:
            common.table_download(
                f"Download {_FORMAT_NAMES[fmt]}",
                frame,
                fmt,
                # "&" and "|" of a combination are not safe in every file system.
                file_name=f"gaps_{group.replace('&', '_and_').replace('|', '_or_')}_{by}.{fmt}",
                key=f"gaps_download_{fmt}",
                layer="gaps",
            )


def _coverage_matrix(table: pd.DataFrame, unit: UnitLabel) -> None:
    st.subheader("Coverage by element")
    st.caption(
        f"Share of each {common.md_text(unit.singular_lower)}'s residents within reach of an asset of each element "
        "(darker: more in reach)."
    )
    rows = table[~table["whole_area"] & table["group"].str.fullmatch(r"e\d+")]
    # A unit without a name is shown by its code.
    rows = rows.assign(name=[unit_name(n, c) for n, c in zip(rows["name"], rows["code"], strict=True)])
    matrix = rows.pivot(index="name", columns="group", values="access_share")
    matrix = matrix[[k for k in group_keys() if k in matrix.columns]]
    matrix.columns = [group_short_label(k) for k in matrix.columns]
    matrix.index.name = unit.singular
    st.dataframe(
        matrix.style.background_gradient(cmap="Blues", vmin=0, vmax=1).format("{:.0%}"),
        width="stretch",
        key="gaps_matrix",
    )
