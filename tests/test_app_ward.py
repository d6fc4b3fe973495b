"""The Ward profile page, run headless with streamlit.testing on the demo borough and the tiny area."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from conftest import make_tiny_area
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.analysis import profile
from assetmap.analysis.groups import group_keys, group_label, group_parts
from assetmap.record import PRIVATE_FIELDS
from assetmap.ui import common
from assetmap.ui.pages.ward import md_text

TIMEOUT_S = 120

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def _ward_page() -> None:
    from assetmap.ui.pages import ward

    ward.page()


@pytest.fixture(scope="module")
def demo_gaps(demo):
    return demo.gaps(threshold=settings.walk_threshold_m, groups=[*group_keys(), common.DEFAULT_GROUP]).table


@pytest.fixture(scope="module")
def demo_run() -> AppTest:
    st.cache_resource.clear()
    return AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S).run()


# -- helpers: what the page shows, and the same figures computed from the area's data ----------


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _asset_tables(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if {"Name", "Address"} <= set(d.value.columns)]


def _texts(at: AppTest) -> list[str]:
    """Every piece of Markdown the page wrote: titles, headings, text, captions, notices, tab labels."""
    parts = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.info, *at.warning, *at.error]
    return [p.value for p in parts] + [t.label for t in at.tabs] + [m.label for m in at.metric]


def _figures(area, code: str) -> dict[str, object]:
    """The ward's facts straight from the lookup and the LSOA table."""
    rows = area.lookup[area.lookup["area_code"] == code].merge(area.deprivation, on="lsoa_code")
    pop = rows["population"] * rows["weight"]
    return {
        "population": pop.sum(),
        "n_lsoas": len(rows),
        "score": float((rows["imd_score"] * pop).sum() / pop.sum()),
        "low": float(pop[rows["imd_decile"] <= 2].sum() / pop.sum()),
        "lsoas": set(rows["lsoa_code"]),
        "rows": rows,
    }


def _weighted(rows: pd.DataFrame, column: str) -> float:
    pop = rows["population"] * rows.get("weight", 1.0)
    return float((rows[column] * pop).sum() / pop.sum())


def _rank_one(table: pd.DataFrame, group: str) -> str:
    return table[(table["group"] == group) & (table["gap_rank"] == 1)]["code"].iloc[0]


def _approved_names(area, code: str) -> set[str]:
    approved = area.assets[area.assets["status"].eq("approved") & area.assets["area_code"].eq(code)]
    return set(approved["name"])


# -- the demo borough ------------------------------------------------------------------------------


def test_demo_profile_shows_the_facts_of_the_ward_with_the_largest_gap(demo_run, demo, demo_gaps):
    at = demo_run
    assert not at.exception and not at.error
    code = at.selectbox(key="ward_code").value
    assert code == _rank_one(demo_gaps, common.DEFAULT_GROUP)
    name = demo.boundaries.set_index("code").loc[code, "name"]
    assert at.header[0].value == f"{md_text(name)} ({code})"

    mine = _figures(demo, code)
    metrics = _metrics(at)
    assert metrics["Residents"] == f"{mine['population']:,.0f}"
    assert metrics["LSOAs"] == f"{mine['n_lsoas']}"
    assert metrics["IMD score"] == f"{mine['score']:.1f}"
    assert metrics["In deciles 1-2"] == f"{mine['low']:.0%}"

    lsoas = _table(at, "LSOA code")
    assert set(lsoas["LSOA code"]) == mine["lsoas"]
    assert lsoas["Residents"].sum() == pytest.approx(mine["population"])
    assert lsoas["IMD rank (1 most deprived)"].is_monotonic_increasing

    facts = _table(at, "Measure").set_index("Measure")
    assert facts.loc[profile.FACT_LABELS["population"], "Whole area"] == f"{demo.deprivation['population'].sum():,.0f}"


def test_demo_domains_are_population_weighted_beside_the_whole_area(demo_run, demo):
    at = demo_run
    code = at.selectbox(key="ward_code").value
    rows = _figures(demo, code)["rows"]
    everyone = demo.lookup.merge(demo.deprivation, on="lsoa_code")
    domains = _table(at, "Domain").set_index("Domain")
    assert domains.loc["Income (% of residents)", "Ward"] == pytest.approx(100 * _weighted(rows, "income_score"))
    assert domains.loc["Crime", "Ward"] == pytest.approx(_weighted(rows, "crime_score"))
    assert domains.loc["Crime", "Whole area"] == pytest.approx(_weighted(everyone, "crime_score"))
    low = rows.assign(low=(rows["health_decile"] <= 2).astype(float))
    assert domains.loc["Health deprivation and disability", "Ward: in most deprived 20%"] == pytest.approx(
        _weighted(low, "low")
    )
    # Every domain the file has is listed, and the overall index is not repeated here.
    assert len(domains) == sum(f"{k}_score" in demo.deprivation for k in profile.DOMAIN_LABELS if k != "imd")


def test_demo_assets_by_pillar_and_coverage_against_the_whole_area(demo_run, demo, demo_gaps):
    at = demo_run
    code = at.selectbox(key="ward_code").value
    shown = set().union(*(set(t["Name"]) for t in _asset_tables(at)))
    assert shown == _approved_names(demo, code)
    assert [t.label.rsplit(" (", 1)[0] for t in at.tabs] == ["Scaling", "Involving", "Strengthening", "Sustaining"]

    coverage = _table(at, "Ward: within reach")
    # Every element and pillar, then the chosen combination.
    shown = [*group_keys(), common.DEFAULT_GROUP]
    mine = demo_gaps[demo_gaps["code"] == code].set_index("group").loc[shown]
    whole = demo_gaps[demo_gaps["whole_area"]].set_index("group").loc[shown]
    np.testing.assert_allclose(coverage["Ward: within reach"], mine["access_share"])
    np.testing.assert_allclose(coverage["Whole area: within reach"], whole["access_share"])
    assert coverage["Gap rank"].tolist() == mine["gap_rank"].tolist()
    assert any("walking along the street network" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 1
    names = {b.proto.label for b in at.get("download_button")}
    assert names == {"Download profile (CSV)", "Download profile (Excel)", "Download assets (CSV)"}


def test_selecting_another_ward_changes_the_profile_and_is_kept(demo):
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S).run()
    first = at.selectbox(key="ward_code").value
    assert common.SELECTED_AREA_KEY not in at.session_state  # nothing chosen yet
    other = next(c for c in demo.boundaries["code"] if c != first)
    at.selectbox(key="ward_code").set_value(other).run()
    assert not at.exception and not at.error
    assert at.session_state[common.SELECTED_AREA_KEY] == other
    name = demo.boundaries.set_index("code").loc[other, "name"]
    assert at.header[0].value == f"{md_text(name)} ({other})"
    assert _metrics(at)["Residents"] == f"{_figures(demo, other)['population']:,.0f}"
    assert set(_table(at, "LSOA code")["LSOA code"]) == _figures(demo, other)["lsoas"]
    # A change of filter keeps the chosen ward rather than jumping to the largest gap.
    at.multiselect(key="_w_groups").set_value(["e1"]).run()
    assert at.selectbox(key="ward_code").value == other


def test_a_ward_chosen_elsewhere_is_honoured_and_the_group_picks_the_headline(demo, demo_gaps):
    rows = demo_gaps[(demo_gaps["group"] == common.DEFAULT_GROUP) & ~demo_gaps["whole_area"]]
    chosen = rows.sort_values("gap_rank")["code"].iloc[-1]  # not the default: the smallest gap
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = chosen
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="ward_code").value == chosen
    assert _metrics(at)["Residents"] == f"{_figures(demo, chosen)['population']:,.0f}"

    mine = demo_gaps[demo_gaps["code"] == chosen].set_index("group")
    for group in (common.DEFAULT_GROUP, "e8"):
        at.multiselect(key="_w_groups").set_value(list(group_parts(group)[0])).run()
        metrics = _metrics(at)
        assert metrics[f"Within reach: {group_label(group)}"] == f"{mine.loc[group, 'access_share']:.0%}"
        assert metrics["Gap rank"] == f"{mine.loc[group, 'gap_rank']} of {len(rows)}"
    assert at.selectbox(key="ward_code").value == chosen


def test_a_link_with_a_ward_code_selects_that_ward(demo_gaps):
    rows = demo_gaps[(demo_gaps["group"] == common.DEFAULT_GROUP) & ~demo_gaps["whole_area"]]
    linked = rows.sort_values("gap_rank")["code"].iloc[-1]
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.query_params["code"] = linked
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="ward_code").value == linked
    assert at.session_state[common.SELECTED_AREA_KEY] == linked
    assert "code" not in at.query_params  # used once: choosing another ward afterwards is not undone


def test_an_unknown_chosen_code_falls_back_to_the_largest_gap(demo_gaps):
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = "E01999001"  # an LSOA, not a ward
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="ward_code").value == _rank_one(demo_gaps, common.DEFAULT_GROUP)


def test_sidebar_group_and_threshold_change_the_coverage_table(demo):
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S).run()
    table = demo.gaps(threshold=settings.walk_threshold_m).table
    default = at.selectbox(key="ward_code").value
    before = _table(at, "Ward: within reach")
    # A group whose largest gap is in another ward: with no ward chosen, the profile moves there.
    group = next(g for g in group_keys() if _rank_one(table, g) != default)
    at.multiselect(key="_w_groups").set_value([group]).run()
    moved = at.selectbox(key="ward_code").value
    assert moved == _rank_one(table, group)
    after = _table(at, "Ward: within reach")
    assert not after["Ward: within reach"].equals(before["Ward: within reach"])
    np.testing.assert_allclose(
        after["Ward: within reach"], table[table["code"] == moved].set_index("group").loc[group_keys(), "access_share"]
    )

    at.selectbox(key="ward_code").set_value(moved).run()  # keep the ward while the distance changes
    at.select_slider(key="_w_threshold").set_value(400.0).run()
    near = _table(at, "Ward: within reach")
    short = demo.gaps(threshold=400.0).table
    expected = short[short["code"] == moved].set_index("group").loc[group_keys(), "access_share"]
    np.testing.assert_allclose(near["Ward: within reach"], expected)
    assert (near["Ward: within reach"].to_numpy() <= after["Ward: within reach"].to_numpy() + 1e-12).all()
    assert any("within 400 m" in c.value for c in at.caption)


# -- the tiny area: escaping, privacy, downloads, missing data ------------------------------------------


def _serve(monkeypatch, area) -> None:
    monkeypatch.setattr(settings, "default_area_path", Path("tiny-area"))
    monkeypatch.setattr(assetmap, "load_area", lambda path: area, raising=False)


def _record_downloads(monkeypatch) -> dict[str, Callable[[], bytes]]:
    """Keep what each download button would serve, by key, and still draw the buttons."""
    served: dict[str, Callable[[], bytes]] = {}
    original = st.download_button

    def download_button(label, data=None, **kwargs):
        served[kwargs["key"]] = data if callable(data) else (lambda: data)
        return original(label, data=data, **kwargs)

    monkeypatch.setattr(st, "download_button", download_button)
    return served


def _tiny(**changes) -> object:
    area = make_tiny_area()
    area._cache.pop("area_summary")  # summarised by the library, as for a loaded area
    for attr, value in changes.items():
        setattr(area, attr, value)
    return area


SCRIPT_NAME = "<script>alert(1)</script> *Northgate* [x](http://e.org) :red[y] $z$"


def test_tiny_area_escapes_names_and_keeps_private_fields_out(monkeypatch):
    area = _tiny()
    area.boundaries.loc[area.boundaries["code"] == "E05000001", "name"] = SCRIPT_NAME
    area.assets.loc[area.assets["asset_id"] == "A4", "name"] = '=HYPERLINK("http://x")'
    _serve(monkeypatch, area)
    served = _record_downloads(monkeypatch)
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = "E05000001"
    at.run()
    assert not at.exception and not at.error

    # The asset named with a script is listed as the literal text, in a table (never as HTML).
    tables = _asset_tables(at)
    names = set().union(*(set(t["Name"]) for t in tables))
    assert "<script>alert(1)</script> & Co" in names
    assert names == _approved_names(area, "E05000001")
    # Markdown gets the ward's name escaped: the text shows as typed, nothing is rendered.
    assert at.header[0].value == f"{md_text(SCRIPT_NAME)} (E05000001)"
    assert "\\<script\\>" in at.header[0].value
    for text in _texts(at):
        assert "<script>" not in text and "](http" not in text and "*Northgate*" not in text
    # Private contacts appear nowhere.
    shown = "".join(d.value.to_csv() for d in at.dataframe)
    assert "Private Person Alpha" not in shown and "private.alpha@example.org" not in shown
    assert not set(PRIVATE_FIELDS) & {c for d in at.dataframe for c in d.value.columns}
    # No street network: the distances are labelled straight-line.
    assert any("in a straight line" in c.value for c in at.caption)
    # The tiny deprivation file has the IMD only.
    assert any("no domain figures" in i.value for i in at.info)

    # The downloads hold what the page shows, neutralised against spreadsheet formulas.
    profile_csv = pd.read_csv(io.BytesIO(served["ward_download_csv"]()), encoding="utf-8-sig")
    rows = profile_csv.set_index("measure")
    assert rows.loc[profile.FACT_LABELS["population"], "ward"] == float(_metrics(at)["Residents"].replace(",", ""))
    coverage = _table(at, "Ward: within reach")
    np.testing.assert_allclose(
        profile_csv.loc[profile_csv["section"] == "Coverage", "ward"], coverage["Ward: within reach"]
    )
    xlsx = pd.read_excel(io.BytesIO(served["ward_download_xlsx"]()))
    assert xlsx["measure"].tolist() == profile_csv["measure"].tolist()
    np.testing.assert_allclose(xlsx["whole_area"], profile_csv["whole_area"])
    assets_bytes = served["ward_download_assets"]()
    assets_csv = pd.read_csv(io.BytesIO(assets_bytes), encoding="utf-8-sig")
    assert set(assets_csv["name"]) == {n if not n.startswith("=") else "'" + n for n in names}
    assert b"Private Person Alpha" not in assets_bytes and b"private.alpha" not in assets_bytes
    a1 = assets_csv.set_index("asset_id").loc["A1"]
    assert a1["pillars"] == "Involving; Strengthening"


def test_tiny_area_lists_sensitive_groups_without_an_address(monkeypatch):
    area = _tiny()
    _serve(monkeypatch, area)
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = "E05000001"
    at.run()
    at.selectbox(key="ward_code").set_value("E05000003").run()
    assert not at.exception and not at.error
    listed = pd.concat(_asset_tables(at)).drop_duplicates("Name").set_index("Name")
    assert set(listed.index) == {"Southfield Forum", "Safe House Hidden Point"}  # not pending, rejected, withdrawn
    assert listed.loc["Safe House Hidden Point", "Address"] == profile.SENSITIVE_ADDRESS
    assert any("sensitive location" in c.value for c in at.caption)
    assert at.session_state[common.SELECTED_AREA_KEY] == "E05000003"


def test_stale_records_are_marked_and_the_switch_is_explained(monkeypatch):
    area = _tiny()
    area.assets.loc[area.assets["asset_id"] == "A4", "last_confirmed"] = "2001-01-01"
    _serve(monkeypatch, area)
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = "E05000001"
    at.run()
    listed = pd.concat(_asset_tables(at)).set_index("Name")
    assert listed.loc["Wellbeing Link", "Status"] == "approved, stale"
    assert (listed.drop(index="Wellbeing Link")["Status"] == "approved").all()
    assert any("counted in the coverage" in c.value for c in at.caption)
    at.checkbox(key="_w_include_stale").uncheck().run()
    assert not at.exception
    assert any("left out of the coverage" in c.value for c in at.caption)


def test_an_area_without_imd_figures_shows_residents_and_says_so(monkeypatch):
    area = _tiny()
    area.deprivation = area.deprivation[["lsoa_code", "population"]].copy()
    area.deprivation.attrs["n_national"] = 33_755
    _serve(monkeypatch, area)
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = "E05000002"
    at.run()
    assert not at.exception
    lsoas = area.lookup.loc[area.lookup["area_code"] == "E05000002", "lsoa_code"]
    residents = area.deprivation.loc[area.deprivation["lsoa_code"].isin(lsoas), "population"].sum()
    assert _metrics(at)["Residents"] == f"{residents:,.0f}"
    assert _metrics(at)["IMD score"] == "not available"
    assert any("no IMD scores" in i.value for i in at.info)
    assert any("no domain figures" in i.value for i in at.info)


def test_an_area_without_population_explains_instead_of_failing(monkeypatch):
    area = _tiny(deprivation=make_tiny_area().deprivation.drop(columns="population"))
    _serve(monkeypatch, area)
    at = AppTest.from_function(_ward_page, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert any("cannot be summarised" in w.value and "population" in w.value for w in at.warning)
    assert "Residents" not in _metrics(at)


# -- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [SCRIPT_NAME, "St Mary's & St John's (East)", "a_b `c` #1 ~d~ | e", "plain"])
def test_md_text_escapes_every_markdown_character(text):
    out = md_text(text)
    assert out.replace("\\", "") == text.replace("\\", "")
    for i, char in enumerate(out):
        if not char.isalnum() and not char.isspace() and char != "\\":
            assert out[i - 1] == "\\", f"{char!r} at {i} of {out!r} is not escaped"


def test_md_text_puts_a_name_on_one_line():
    assert md_text("Line one\n# Heading\n\n- item") == "Line one \\# Heading \\- item"
