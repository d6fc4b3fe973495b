"""Ward profile page (named by the area's boundary label): one ward's residents, deprivation, LSOAs, assets by pillar and coverage, beside the whole area."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from assetmap import settings
from assetmap._errors import AssetMapError
from assetmap.analysis import profile
from assetmap.analysis.groups import group_keys, group_label, group_short_label
from assetmap.area.units import UnitLabel, unit_title
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common

if TYPE_CHECKING:
    from assetmap.area.coverage import GapAnalysis
    from assetmap.area.load import Area

#: Session key of the ward selectbox.
WARD_KEY: str = "ward_code"

#: Colours of the ward (or locality...) and the whole area in the coverage chart (ColorBrewer PuOr ends:
#: colour-blind safe).
CHART_COLOURS: tuple[str, str] = ("#542788", "#e08214")

#: How each fact is written on the page.
_FACT_FORMATS: dict[str, str] = {
    "population": "{:,.0f}",
    "n_lsoas": "{:,.0f}",
    "avg_score": "{:.1f}",
    "need_percentile": "{:.0f}",
    "national_decile": "{:.0f}",
    "share_pop_decile_1_2": "{:.0%}",
}

#: Columns of the asset tables, as the page shows them.
ASSET_COLUMNS: dict[str, str] = {
    "name": "Name",
    "type": "Type",
    "elements": "Elements",
    "status": "Status",
    "last_confirmed": "Last confirmed",
    "address": "Address",
}

#: Columns of the LSOA table, as the page shows them.
LSOA_COLUMNS: dict[str, str] = {
    "lsoa_code": "LSOA code",
    "lsoa_name": "LSOA name",
    "share_in_ward": "Share in {unit}",
    "population": "Residents",
    "imd_score": "IMD score",
    "imd_rank": "IMD rank (1 most deprived)",
    "imd_decile": "IMD decile (1 most deprived)",
}

# Any ASCII punctuation may be backslash-escaped in Markdown; escaping all of it keeps
# names with markup, links, emoji codes (:x:) or maths ($) as plain text.
md_text = common.md_text


def _fact(facts: pd.DataFrame, key: str, where: str = "ward") -> str:
    value = facts.loc[key, where]
    return "not available" if pd.isna(value) else _FACT_FORMATS[key].format(value)


def _keep_choice() -> None:
    common.select_area(st.session_state[WARD_KEY])


def _choose_ward(area: Area, table: pd.DataFrame | None, group: str) -> str | None:
    """Draw the ward selectbox: the ward chosen before (on the Map or here), else the largest gap for ``group``."""
    wards = area.boundaries.sort_values(["name", "code"], kind="stable")
    labels = {str(c): unit_title(n, c) for c, n in zip(wards["code"], wards["name"], strict=True)}
    if not labels:
        return None
    linked = st.query_params.get("code")
    if linked in labels:
        # A printed map's QR code links here with ?code=<ward>: it selects that ward once.
        common.select_area(linked)
        del st.query_params["code"]
    wanted = common.selected_area_code()
    if wanted not in labels:
        wanted = next(iter(labels))
        if table is not None:
            first = table[(table["group"] == group) & (table["gap_rank"] == 1)]
            wanted = str(first["code"].iloc[0]) if len(first) else wanted
    # Set before the widget is drawn, so a ward chosen on another page shows here.
    st.session_state[WARD_KEY] = wanted
    return st.selectbox(
        md_text(area.unit_label.singular),
        list(labels),
        format_func=labels.__getitem__,
        key=WARD_KEY,
        on_change=_keep_choice,
    )


def page() -> None:
    """Draw the Ward profile page."""
    chosen = common.filters()
    area = common.current_area()
    if area is None:
        return
    unit = area.unit_label
    common.title(f"{md_text(area.name)}: {md_text(unit.singular_lower)} profile", chosen)
    try:
        with st.spinner("Measuring walking access..."):
            gaps = area.gaps(
                threshold=chosen.threshold,
                include_stale=chosen.include_stale,
                groups=list(dict.fromkeys([*group_keys(), chosen.group])),
            )
    except AssetMapError as exc:
        gaps, gaps_error = None, str(exc)
    code = _choose_ward(area, gaps.table if gaps is not None else None, chosen.group)
    if code is None:
        st.info(f"This area has no {md_text(unit.plural_lower)} to profile.")
        return
    name = area.boundaries.set_index(area.boundaries["code"].astype(str)).loc[code, "name"]
    st.header(common.md_unit(name, code))

    facts, domains = _deprivation(area, code)
    _lsoas(area, code)
    assets = _assets(area, code, chosen.include_stale)
    if gaps is None:
        st.subheader("Coverage by element")
        st.error(f"Coverage cannot be measured for this area.\n\n{md_text(gaps_error)}", icon=":material/error:")
        coverage = None
    else:
        coverage = _coverage(gaps, code, chosen.group, unit)
    table = profile.profile_table(facts, domains, coverage).rename(columns={"ward": unit.singular_lower})
    _downloads(code, table, assets, unit)


def _deprivation(area: Area, code: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    st.subheader("Residents and deprivation")
    one = area.unit_label.singular
    try:
        facts = profile.deprivation_facts(area.deprivation, area.lookup, code)
        domains = profile.domain_comparison(area.deprivation, area.lookup, code)
    except AssetMapError as exc:
        st.warning(
            f"This area's deprivation figures cannot be summarised.\n\n{md_text(exc)}", icon=":material/warning:"
        )
        return None, None
    if not facts.loc["population", "ward"]:
        st.warning(
            f"No LSOA of the deprivation file lies in this {md_text(area.unit_label.singular_lower)}: "
            "it has no residents to profile."
        )
    a, b, c, d, e = st.columns(5)
    a.metric("Residents", _fact(facts, "population"))
    b.metric("IMD score", _fact(facts, "avg_score"), help=profile.FACT_LABELS["avg_score"])
    c.metric("National decile", _fact(facts, "national_decile"), help=profile.FACT_LABELS["national_decile"])
    d.metric("In deciles 1-2", _fact(facts, "share_pop_decile_1_2"), help=profile.FACT_LABELS["share_pop_decile_1_2"])
    e.metric("LSOAs", _fact(facts, "n_lsoas"))
    if facts["ward"].drop(["population", "n_lsoas"]).isna().all():
        st.info("The deprivation file has no IMD scores, ranks or deciles, so only residents are shown.")
    shown = pd.DataFrame(
        {
            "Measure": facts["measure"],
            one: [_fact(facts, k, "ward") for k in facts.index],
            "Whole area": [_fact(facts, k, "whole_area") for k in facts.index],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height="content", key="ward_facts")

    st.markdown("**Deprivation domains**")
    rows = domains[domains["domain"] != "imd"]
    if not len(rows):
        st.info("The deprivation file has no domain figures (income, employment, health...): only the overall IMD.")
        return facts, domains
    st.caption(
        "Population-weighted averages of the LSOA scores; higher is more deprived. Income and employment are "
        "the percentage of residents deprived. The last two columns are the share of residents in LSOAs among "
        "the 20% most deprived nationally on that domain."
    )
    scale = np.where(rows["rate"].astype(bool), 100.0, 1.0)
    st.dataframe(
        pd.DataFrame(
            {
                "Domain": rows["label"] + np.where(rows["rate"].astype(bool), " (% of residents)", ""),
                one: rows["ward_score"] * scale,
                "Whole area": rows["whole_area_score"] * scale,
                f"{one}: in most deprived 20%": rows["ward_share_decile_1_2"],
                "Whole area: in most deprived 20%": rows["whole_area_share_decile_1_2"],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            one: st.column_config.NumberColumn(format="%.2f"),
            "Whole area": st.column_config.NumberColumn(format="%.2f"),
            f"{one}: in most deprived 20%": st.column_config.NumberColumn(format="percent"),
            "Whole area: in most deprived 20%": st.column_config.NumberColumn(format="percent"),
        },
        height="content",
        key="ward_domains",
    )
    return facts, domains


def _lsoas(area: Area, code: str) -> None:
    st.subheader("LSOAs")
    one = area.unit_label.singular_lower
    try:
        lsoas = profile.ward_lsoas(area.deprivation, area.lookup, code, area.small_areas[["code", "name"]])
    except AssetMapError as exc:
        st.warning(md_text(exc), icon=":material/warning:")
        return
    if not len(lsoas):
        st.info(f"No LSOA is linked to this {md_text(one)}.")
        return
    if (lsoas["share_in_ward"] >= 1 - 1e-9).all():
        lsoas = lsoas.drop(columns="share_in_ward")  # a best-fit lookup: every LSOA wholly in the ward
    else:
        st.caption(
            f"LSOAs cut by the {md_text(one)} boundary count for their share of residents in the {md_text(one)}."
        )
    columns = {k: v.format(unit=one) for k, v in LSOA_COLUMNS.items()}
    st.dataframe(
        lsoas.rename(columns=columns),
        hide_index=True,
        width="stretch",
        column_config={
            columns["share_in_ward"]: st.column_config.NumberColumn(format="percent"),
            "Residents": st.column_config.NumberColumn(format="localized"),
            "IMD score": st.column_config.NumberColumn(format="%.1f"),
            "IMD rank (1 most deprived)": st.column_config.NumberColumn(format="%d"),
            "IMD decile (1 most deprived)": st.column_config.NumberColumn(format="%d"),
        },
        height="content",
        key="ward_lsoas",
    )


def _assets(area: Area, code: str, include_stale: bool) -> pd.DataFrame:
    st.subheader("Community assets by pillar")
    assets = profile.ward_assets(area.assets, code, stale=area.stale_mask())
    n = assets["asset_id"].nunique()
    one = md_text(area.unit_label.singular_lower)
    notes = [
        f"{n:,} approved asset{'s' if n != 1 else ''} in this {one}; one serving several pillars is listed in each."
    ]
    if assets["stale"].any():
        notes.append(
            f"Stale: not confirmed for more than {settings.stale_after_days:,} days "
            + ("(counted in the coverage below)." if include_stale else "(left out of the coverage below).")
        )
    if assets["sensitive"].any():
        notes.append("Groups at a sensitive location are named but their address is not shown.")
    st.caption(" ".join(notes))
    pillars = [(p.key, p.name) for p in load_taxonomy().pillars]
    if assets["pillar"].eq("other").any():
        pillars.append(("other", "Other"))
    tabs = st.tabs([f"{md_text(label)} ({int(assets['pillar'].eq(key).sum())})" for key, label in pillars])
    for tab, (key, label) in zip(tabs, pillars, strict=True):
        rows = assets[assets["pillar"] == key]
        if not len(rows):
            tab.info(f"No approved asset in this {one} serves the {label} pillar.")
            continue
        tab.dataframe(
            rows[list(ASSET_COLUMNS)].rename(columns=ASSET_COLUMNS),
            hide_index=True,
            width="stretch",
            key=f"ward_assets_{key}",
        )
    return assets


def _coverage(gaps: GapAnalysis, code: str, group: str, unit: UnitLabel) -> pd.DataFrame:
    coverage = profile.ward_coverage(gaps.table, code)
    threshold = gaps.threshold
    walking = gaps.access.method == "network"
    st.subheader("Coverage by element")
    st.caption(
        f"Share of residents within {threshold:,.0f} m of an approved asset of each element and pillar, "
        f"measured {'walking along the street network' if walking else 'in a straight line (no street network)'}. "
        f"Gap rank 1 is the {md_text(unit.singular_lower)} with the largest gap in the area."
    )
    row = coverage[coverage["group"] == group]
    if len(row):
        row = row.iloc[0]
        a, b, c = st.columns(3)
        a.metric(
            f"Within reach: {group_label(group)}",
            f"{row['ward_access_share']:.0%}",
            delta=f"{row['difference'] * 100:+.0f} points vs the whole area",
            delta_color="normal",
        )
        b.metric("Gap index", f"{row['gap_index']:.3f}")
        rank = row["gap_rank"]
        c.metric("Gap rank", "not ranked" if pd.isna(rank) else f"{int(rank)} of {int(row['n_ranked'])}")
    st.dataframe(
        coverage[
            ["group_label", "ward_access_share", "whole_area_access_share", "ward_assets", "gap_index", "gap_rank"]
        ].rename(
            columns={
                "group_label": "Element or pillar",
                "ward_access_share": f"{unit.singular}: within reach",
                "whole_area_access_share": "Whole area: within reach",
                "ward_assets": f"Assets in {unit.singular_lower}",
                "gap_index": "Gap index",
                "gap_rank": "Gap rank",
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            f"{unit.singular}: within reach": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
            "Whole area: within reach": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
            f"Assets in {unit.singular_lower}": st.column_config.NumberColumn(format="%d"),
            "Gap index": st.column_config.NumberColumn(format="%.3f"),
            "Gap rank": st.column_config.NumberColumn(format="%d"),
        },
        height="content",
        key="ward_coverage",
    )
    elements = coverage[coverage["group"].str.fullmatch(r"e\d+")]
    chart = pd.concat(
        [
            pd.DataFrame(
                {
                    "Element": [group_short_label(g) for g in elements["group"]],
                    "Where": where,
                    "Within reach": elements[col].to_numpy(),
                }
            )
            for where, col in ((unit.singular, "ward_access_share"), ("Whole area", "whole_area_access_share"))
        ]
    )
    st.altair_chart(
        alt.Chart(chart)
        .mark_bar()
        .encode(
            # Across, so each element's name reads in full beside its bars.
            y=alt.Y("Element:N", sort=list(dict.fromkeys(chart["Element"])), title=None, axis=alt.Axis(labelLimit=260)),
            yOffset="Where:N",
            x=alt.X("Within reach:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "Where:N",
                scale=alt.Scale(domain=[unit.singular, "Whole area"], range=list(CHART_COLOURS)),
                title=None,
            ),
            tooltip=["Element", "Where", alt.Tooltip("Within reach:Q", format=".0%")],
        ),
        width="stretch",
        key="ward_chart",
    )
    return coverage


def _downloads(code: str, table: pd.DataFrame, assets: pd.DataFrame, unit: UnitLabel) -> None:
    st.subheader("Print and download")
    one = md_text(unit.singular_lower)
    st.caption(
        f"The profile table holds the facts, domains and coverage above, the {one} beside the whole area; shares "
        f"are fractions. A print-ready PDF map of the {one} is made on the Print page."
    )
    # One row per asset in the file, naming every pillar it serves.
    pillars = assets.groupby("asset_id", sort=False)["pillar_name"].agg("; ".join)
    listed = (
        assets.drop_duplicates("asset_id")
        .drop(columns=["pillar", "stale", "sensitive"])
        .assign(pillar_name=lambda f: f["asset_id"].map(pillars))
        .rename(columns={"pillar_name": "pillars"})
    )
    left, middle, right = st.columns(3)
    with left:
        common.table_download(
            "Download profile (CSV)", table, "csv", file_name=f"ward_profile_{code}.csv", key="ward_download_csv"
        )
    with middle:
        common.table_download(
            "Download profile (Excel)", table, "xlsx", file_name=f"ward_profile_{code}.xlsx", key="ward_download_xlsx"
        )
    with right:
        common.table_download(
            "Download assets (CSV)", listed, "csv", file_name=f"ward_assets_{code}.csv", key="ward_download_assets"
        )
