"""Ward profile tables: facts, domains, LSOAs, assets and coverage on the tiny synthetic area, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_tiny_area

from assetmap._errors import ValidationError
from assetmap.analysis import profile
from assetmap.analysis.groups import group_keys
from assetmap.record import PRIVATE_FIELDS

WARD = "E05000001"  # LSOAs E01000001 and E01000002


def _weighted(values, weights) -> float:
    return float(np.average(np.asarray(values, dtype=float), weights=np.asarray(weights, dtype=float)))


# -- facts -----------------------------------------------------------------------------------


def test_facts_by_hand(tiny):
    dep, lookup = tiny["deprivation"], tiny["lookup"]
    facts = profile.deprivation_facts(dep, lookup, WARD)
    mine = dep[dep["lsoa_code"].isin(lookup.loc[lookup["area_code"] == WARD, "lsoa_code"])]
    assert facts.loc["population", "ward"] == mine["population"].sum()
    assert facts.loc["n_lsoas", "ward"] == len(mine)
    assert facts.loc["avg_score", "ward"] == pytest.approx(_weighted(mine["imd_score"], mine["population"]))
    low = mine.loc[mine["imd_decile"] <= 2, "population"].sum() / mine["population"].sum()
    assert facts.loc["share_pop_decile_1_2", "ward"] == pytest.approx(low)
    # The whole area is every LSOA of the lookup.
    assert facts.loc["population", "whole_area"] == dep["population"].sum()
    assert facts.loc["n_lsoas", "whole_area"] == len(dep)
    assert facts.loc["avg_score", "whole_area"] == pytest.approx(_weighted(dep["imd_score"], dep["population"]))
    assert list(facts.index) == list(profile.FACT_LABELS)
    assert facts["measure"].tolist() == list(profile.FACT_LABELS.values())


def test_need_percentile_and_decile_agree_with_the_gap_table():
    area = make_tiny_area()
    area._cache.pop("area_summary")
    table = area.gaps().table
    rows = table[table["group"] == "e1"].set_index("code")
    for code in area.boundaries["code"]:
        facts = profile.deprivation_facts(area.deprivation, area.lookup, code)
        assert facts.loc["need_percentile", "ward"] == pytest.approx(rows.loc[code, "need_percentile"])
        assert facts.loc["national_decile", "ward"] == profile.national_decile(rows.loc[code, "need_percentile"])
    whole = table[(table["group"] == "e1") & table["whole_area"]].iloc[0]
    assert facts.loc["need_percentile", "whole_area"] == pytest.approx(whole["need_percentile"])
    assert facts.loc["population", "whole_area"] == pytest.approx(whole["population"])


@pytest.mark.parametrize(
    ("percentile", "decile"), [(100.0, 1), (95.0, 1), (90.5, 1), (85.0, 2), (50.0, 5), (5.0, 10), (0.0, 10)]
)
def test_national_decile(percentile, decile):
    assert profile.national_decile(percentile) == decile


def test_national_decile_keeps_missing_values():
    out = profile.national_decile(np.array([np.nan, 99.0]))
    assert np.isnan(out[0]) and out[1] == 1


def test_a_shared_lsoa_counts_its_share_in_the_ward_and_once_in_the_whole_area(tiny):
    dep = tiny["deprivation"]
    # E01000003 is split: 40% in ward 1, 60% in ward 2.
    lookup = pd.concat(
        [
            tiny["lookup"][tiny["lookup"]["lsoa_code"] != "E01000003"],
            pd.DataFrame(
                {"lsoa_code": ["E01000003"] * 2, "area_code": ["E05000001", "E05000002"], "weight": [0.4, 0.6]}
            ),
        ],
        ignore_index=True,
    )
    facts = profile.deprivation_facts(dep, lookup, "E05000001")
    pop = dep.set_index("lsoa_code")["population"]
    assert facts.loc["population", "ward"] == pytest.approx(
        pop["E01000001"] + pop["E01000002"] + 0.4 * pop["E01000003"]
    )
    assert facts.loc["n_lsoas", "ward"] == 3
    assert facts.loc["population", "whole_area"] == pytest.approx(pop.sum())
    assert facts.loc["n_lsoas", "whole_area"] == len(dep)
    lsoas = profile.ward_lsoas(dep, lookup, "E05000001")
    assert lsoas["population"].sum() == pytest.approx(facts.loc["population", "ward"])
    assert lsoas.set_index("lsoa_code").loc["E01000003", "share_in_ward"] == pytest.approx(0.4)


def test_facts_of_a_ward_with_no_lsoa_are_empty_not_an_error(tiny):
    facts = profile.deprivation_facts(tiny["deprivation"], tiny["lookup"], "E05999999")
    assert facts.loc["population", "ward"] == 0
    assert facts.loc["n_lsoas", "ward"] == 0
    assert facts["ward"].drop(["population", "n_lsoas"]).isna().all()
    assert facts.loc["population", "whole_area"] == tiny["deprivation"]["population"].sum()


def test_facts_without_imd_figures_give_residents_only(tiny):
    dep = tiny["deprivation"][["lsoa_code", "population"]]
    facts = profile.deprivation_facts(dep, tiny["lookup"], WARD)
    assert facts.loc["population", "ward"] == dep["population"].iloc[:2].sum()
    assert facts["ward"].drop(["population", "n_lsoas"]).isna().all()


def test_facts_without_population_raise_a_clear_error(tiny):
    with pytest.raises(ValidationError, match="population"):
        profile.deprivation_facts(tiny["deprivation"].drop(columns="population"), tiny["lookup"], WARD)


# -- domains --------------------------------------------------------------------------------


def test_domains_by_hand(tiny):
    dep = tiny["deprivation"].assign(
        income_score=[0.30, 0.20, 0.10, 0.15, 0.05, 0.08],
        income_decile=[1, 2, 5, 4, 9, 8],
        crime_score=[1.2, -0.4, 0.3, 0.0, -1.0, -0.5],
    )
    table = profile.domain_comparison(dep, tiny["lookup"], WARD).set_index("domain")
    assert list(table.index) == ["imd", "income", "crime"]  # the IMD first, then the file's domains in order
    assert table.loc["income", "rate"] and not table.loc["crime", "rate"]
    pop = dep["population"]
    assert table.loc["income", "ward_score"] == pytest.approx(_weighted(dep["income_score"][:2], pop[:2]))
    assert table.loc["income", "whole_area_score"] == pytest.approx(_weighted(dep["income_score"], pop))
    assert table.loc["crime", "ward_score"] == pytest.approx(_weighted(dep["crime_score"][:2], pop[:2]))
    assert table.loc["income", "ward_share_decile_1_2"] == pytest.approx(1.0)
    assert table.loc["income", "whole_area_share_decile_1_2"] == pytest.approx(pop[:2].sum() / pop.sum())
    assert np.isnan(table.loc["crime", "ward_share_decile_1_2"])  # no crime deciles in the file
    assert table.loc["income", "label"] == profile.DOMAIN_LABELS["income"]


def test_no_domain_columns_leave_only_the_imd_or_nothing(tiny):
    assert profile.domain_comparison(tiny["deprivation"], tiny["lookup"], WARD)["domain"].tolist() == ["imd"]
    empty = profile.domain_comparison(tiny["deprivation"][["lsoa_code", "population"]], tiny["lookup"], WARD)
    assert empty.empty and "ward_score" in empty.columns


# -- LSOAs ------------------------------------------------------------------------------------


def test_lsoas_of_a_ward(tiny):
    dep = tiny["deprivation"]
    lsoas = profile.ward_lsoas(dep, tiny["lookup"], "E05000002", tiny["small_areas"][["code", "name"]])
    expected = dep[dep["lsoa_code"].isin(["E01000003", "E01000004"])].sort_values("imd_rank")
    assert lsoas["lsoa_code"].tolist() == expected["lsoa_code"].tolist()  # most deprived first
    assert lsoas["population"].tolist() == expected["population"].astype(float).tolist()
    names = tiny["small_areas"].set_index("code")["name"]
    assert lsoas["lsoa_name"].tolist() == names[expected["lsoa_code"]].tolist()
    assert lsoas["imd_decile"].tolist() == expected["imd_decile"].tolist()


# -- assets ----------------------------------------------------------------------------------


def test_assets_are_approved_public_and_grouped_by_pillar(tiny):
    assets = tiny["assets"]
    table = profile.ward_assets(assets, "E05000003")
    # Pending, rejected and withdrawn records in the ward are not listed.
    assert set(table["asset_id"]) == {"A5", "A9"}
    assert list(table.columns) == list(profile.ASSET_COLUMNS)
    assert not set(PRIVATE_FIELDS) & set(table.columns)
    hidden = table.set_index("asset_id").loc["A9"]
    assert hidden["sensitive"] and hidden["address"] == profile.SENSITIVE_ADDRESS
    assert hidden["name"] == "Safe House Hidden Point"  # named, at ward level


def test_an_asset_serving_two_pillars_is_listed_under_each(tiny):
    table = profile.ward_assets(tiny["assets"], WARD)
    a4 = table[table["asset_id"] == "A4"]  # elements 1 and 2: both Scaling
    assert a4["pillar"].tolist() == ["scaling"]
    a1 = table[table["asset_id"] == "A1"]  # elements 4 and 6: Involving and Strengthening
    assert a1["pillar"].tolist() == ["involving", "strengthening"]
    assert a1["elements"].iloc[0] == "4 Active communities; 6 VCSE and volunteering"
    assert a1["name"].iloc[0] == "<script>alert(1)</script> & Co"  # kept as text; the page never renders HTML
    assert a1["address"].iloc[0] == "1 <b>High</b> Street, SW1A 1AA"
    assert "Private Person Alpha" not in table.to_csv()
    order = {p: i for i, p in enumerate(["scaling", "involving", "strengthening", "sustaining"])}
    assert table["pillar"].map(order).is_monotonic_increasing


def test_sensitive_flags_read_from_text_follow_the_map(tiny):
    assets = tiny["assets"].assign(sensitive=["no", "yes", "", "0", " No ", "no", "no", "no", "maybe"])
    table = profile.ward_assets(assets, "E05000003").set_index("asset_id")
    assert table.loc["A9", "sensitive"]  # an unclear value counts as sensitive
    assert not table.loc["A5", "sensitive"]


def test_stale_records_are_marked(tiny):
    assets = tiny["assets"]
    stale = pd.Series(assets["asset_id"].eq("A4").to_numpy(), index=assets.index)
    table = profile.ward_assets(assets.assign(last_confirmed="2020-01-31"), WARD, stale=stale).set_index("asset_id")
    assert table.loc["A4", "stale"] and table.loc["A4", "status"] == "approved, stale"
    assert (~table.drop(index="A4")["stale"]).all()
    assert set(table["last_confirmed"]) == {"2020-01-31"}


def test_no_assets_give_an_empty_table(tiny):
    assert profile.ward_assets(tiny["assets"], "E05999999").empty
    assert list(profile.ward_assets(tiny["assets"].iloc[:0], WARD).columns) == list(profile.ASSET_COLUMNS)


# -- coverage and the download table ------------------------------------------------------------


def test_coverage_is_the_gap_table_for_the_ward_and_the_whole_area():
    area = make_tiny_area()
    area._cache.pop("area_summary")
    table = area.gaps(threshold=400).table
    coverage = profile.ward_coverage(table, WARD)
    assert coverage["group"].tolist() == group_keys()
    mine = table[table["code"] == WARD].set_index("group")
    whole = table[table["whole_area"]].set_index("group")
    np.testing.assert_allclose(coverage["ward_access_share"], mine.loc[group_keys(), "access_share"])
    np.testing.assert_allclose(coverage["whole_area_access_share"], whole.loc[group_keys(), "access_share"])
    np.testing.assert_allclose(
        coverage["difference"], coverage["ward_access_share"] - coverage["whole_area_access_share"]
    )
    assert coverage["gap_rank"].tolist() == mine.loc[group_keys(), "gap_rank"].tolist()
    assert (coverage["n_ranked"] == len(area.boundaries)).all()
    assert (coverage["threshold_m"] == 400).all() and set(coverage["access_method"]) == {"straight-line"}
    assert profile.ward_coverage(table, "E05999999").empty


def test_profile_table_carries_every_section(tiny):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    dep = tiny["deprivation"].assign(income_score=[0.3, 0.2, 0.1, 0.15, 0.05, 0.08])
    facts = profile.deprivation_facts(dep, tiny["lookup"], WARD)
    domains = profile.domain_comparison(dep, tiny["lookup"], WARD)
    coverage = profile.ward_coverage(area.gaps().table, WARD)
    out = profile.profile_table(facts, domains, coverage)
    assert list(out.columns) == ["section", "measure", "ward", "whole_area"]
    sections = out["section"].value_counts()
    assert sections["Deprivation"] == len(facts)
    # IMD: score and deciles share; income: score only (no deciles in the file).
    assert sections["Deprivation domains"] == 3
    assert sections["Coverage"] == len(coverage)
    rows = out.set_index("measure")
    assert rows.loc["Residents", "ward"] == facts.loc["population", "ward"]
    income = rows.loc["Income: population-weighted score"]
    assert income["ward"] == pytest.approx(domains.set_index("domain").loc["income", "ward_score"])
    first = coverage.iloc[0]
    assert rows.loc[f"{first['group_label']}: residents within 800 m", "ward"] == first["ward_access_share"]
    assert profile.profile_table().empty


def test_inputs_are_not_changed(tiny):
    before = {k: tiny[k].copy() for k in ("deprivation", "lookup", "assets")}
    profile.deprivation_facts(tiny["deprivation"], tiny["lookup"], WARD)
    profile.domain_comparison(tiny["deprivation"], tiny["lookup"], WARD)
    profile.ward_lsoas(tiny["deprivation"], tiny["lookup"], WARD, tiny["small_areas"])
    profile.ward_assets(tiny["assets"], WARD)
    for key, frame in before.items():
        pd.testing.assert_frame_equal(tiny[key], frame)
