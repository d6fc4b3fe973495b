"""Gap table: hand-computed shares, need percentiles and gap indices on two tiny areas, and invariants.

The fixture: area A holds LSOAs L1 (400 residents, IMD score 40) and L2 (600, score 20); area B holds L3
(3,000, score 10). A small "England" of 1,000 LSOAs ranks scores linearly: rank = 1001 - 20 x score, so a
score of 50 is rank 1 and 0.05 rank 1,000. Resident points and distances to element 6 (metres):

    L1: r1 200 people at 100, r2 200 at 500          A within 400: 200/1000, 800: 400/1000, 1200: 700/1000
    L2: r3 300 at 900,        r4 300 unreachable
    L3: r5, r6, r7 1,000 each at 300, 1000, 1300     B within 400: 1/3, 800: 1/3, 1200: 2/3
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assetmap._errors import AssetMapError, ValidationError
from assetmap.analysis.deprivation import summarise_deprivation
from assetmap.analysis.gaps import GapOptions, _classes, gap_table, need_percentile
from assetmap.analysis.groups import element_masks, group_keys, group_label, group_masks
from assetmap.analysis.note import NoteOptions, method_note
from assetmap.analysis.shares import access_shares

N = 1_000
INF = np.inf


def _rank(score: float) -> float:
    return 1001 - 20 * score


def _pct(rank: float) -> float:
    return 100 * (1 - (rank - 0.5) / N)


@pytest.fixture
def deprivation() -> pd.DataFrame:
    scores = {"L1": 40.0, "L2": 20.0, "L3": 10.0, "X1": 50.0, "X2": 0.05, "X3": 30.0}
    pops = {"L1": 400.0, "L2": 600.0, "L3": 3000.0, "X1": 1500.0, "X2": 1500.0, "X3": 1500.0}
    dep = pd.DataFrame(
        {
            "lsoa_code": list(scores),
            "imd_score": list(scores.values()),
            "imd_rank": [_rank(s) for s in scores.values()],
            "population": [pops[c] for c in scores],
        }
    )
    dep.attrs["n_national"] = N
    return dep


@pytest.fixture
def residents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa_code": ["L1", "L1", "L2", "L2", "L3", "L3", "L3"],
            "x": np.arange(7.0),
            "y": np.zeros(7),
            "population": [200.0, 200.0, 300.0, 300.0, 1000.0, 1000.0, 1000.0],
        },
        index=pd.Index([f"r{i}" for i in range(1, 8)], name="point"),
    )


@pytest.fixture
def distance(residents) -> pd.DataFrame:
    e6 = [100, 500, 900, INF, 300, 1000, 1300]
    e7 = [2000, 700, INF, INF, 50, INF, INF]
    return pd.DataFrame(
        {"e1": INF, "e6": e6, "e7": e7, "strengthening": np.minimum(e6, e7)}, index=residents.index, dtype=float
    )


@pytest.fixture
def lookup() -> pd.DataFrame:
    return pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "area_code": ["A", "A", "B"], "weight": 1.0})


@pytest.fixture
def assets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": ["a1", "a2", "a3", "a4", "a5"],
            "area_code": ["A", "A", "B", "B", None],
            "elements": [(6,), (6, 7), (7,), (6,), (6,)],
            "status": ["approved", "approved", "approved", "pending", "approved"],
        }
    )


@pytest.fixture
def summary(deprivation, lookup) -> pd.DataFrame:
    names = pd.DataFrame({"code": ["A", "B"], "name": ["Ash", "Birch"]})
    return summarise_deprivation(deprivation, lookup, names=names)


@pytest.fixture
def shares(residents, distance, lookup) -> pd.DataFrame:
    return access_shares(residents, distance, lookup, method="network")


@pytest.fixture
def table(summary, shares, assets, deprivation) -> pd.DataFrame:
    return gap_table(summary, shares, assets, deprivation=deprivation)


def _row(table: pd.DataFrame, code: str, group: str) -> pd.Series:
    hit = table[(table["code"] == code) & (table["group"] == group)]
    assert len(hit) == 1
    return hit.iloc[0]


# -- access shares -------------------------------------------------------------------------


def test_shares_are_exact_fractions(shares):
    a6 = shares[(shares["code"] == "A") & (shares["group"] == "e6")].iloc[0]
    b6 = shares[(shares["code"] == "B") & (shares["group"] == "e6")].iloc[0]
    assert a6["population"] == 1000
    assert (a6["share_within_400m"], a6["share_within_800m"], a6["share_within_1200m"]) == pytest.approx(
        (0.2, 0.4, 0.7)
    )
    assert b6["population"] == 3000
    assert (b6["share_within_400m"], b6["share_within_800m"], b6["share_within_1200m"]) == pytest.approx(
        (1 / 3, 1 / 3, 2 / 3)
    )
    assert shares.loc[shares["group"] == "e1", ["share_within_400m", "share_within_1200m"]].eq(0).all().all()
    assert list(shares.columns) == [
        "code",
        "group",
        "population",
        "share_within_400m",
        "share_within_800m",
        "share_within_1200m",
        "access_method",
    ]
    assert shares["access_method"].eq("network").all()
    assert shares.attrs["thresholds"] == [400.0, 800.0, 1200.0]


def test_population_conserved_and_matches_deprivation_summary(shares, residents, summary):
    per_area = shares.groupby("code")["population"].first()
    assert per_area.sum() == pytest.approx(residents["population"].sum())
    assert per_area.to_dict() == pytest.approx(summary.set_index("code")["population"].to_dict())


def test_apportioned_lsoa_splits_its_residents(residents, distance, deprivation):
    lookup = pd.DataFrame(
        {"lsoa_code": ["L1", "L2", "L2", "L3"], "area_code": ["A", "A", "B", "B"], "weight": [1.0, 0.5, 0.5, 1.0]}
    )
    shares = access_shares(residents, distance, lookup, method="network")
    e6 = shares[shares["group"] == "e6"].set_index("code")
    assert e6.loc["A", "population"] == pytest.approx(700)
    assert e6.loc["B", "population"] == pytest.approx(3300)
    # L2's residents within 1,200 m (r3, 300 people) are split half and half.
    assert e6.loc["A", "share_within_1200m"] == pytest.approx((400 + 150) / 700)
    assert e6.loc["B", "share_within_1200m"] == pytest.approx((150 + 2000) / 3300)
    assert e6["population"].sum() == pytest.approx(4000)
    summary = summarise_deprivation(deprivation, lookup)
    assert e6["population"].to_dict() == pytest.approx(summary.set_index("code")["population"].to_dict())


def test_shares_by_lsoa(residents, distance):
    shares = access_shares(residents, distance, by="lsoa", method="straight-line")
    l2 = shares[(shares["code"] == "L2") & (shares["group"] == "e6")].iloc[0]
    assert l2["population"] == 600
    assert l2["share_within_1200m"] == pytest.approx(0.5)
    assert shares["access_method"].eq("straight-line").all()


def test_shares_do_not_depend_on_row_order(residents, distance, lookup):
    rng = np.random.default_rng(1)
    shuffled = residents.iloc[rng.permutation(len(residents))]
    other = distance.iloc[rng.permutation(len(distance))]
    a = access_shares(residents, distance, lookup, method="network")
    b = access_shares(shuffled, other, lookup.iloc[::-1], method="network")
    pd.testing.assert_frame_equal(a, b)


def test_shares_leave_inputs_unchanged(residents, distance, lookup):
    before = (residents.copy(), distance.copy(), lookup.copy())
    access_shares(residents, distance, lookup, method="network")
    for frame, copy in zip((residents, distance, lookup), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_method_read_from_distance_attrs(residents, distance, lookup):
    tagged = distance.copy()
    tagged.attrs["method"] = "straight-line"
    assert access_shares(residents, tagged, lookup)["access_method"].eq("straight-line").all()
    with pytest.raises(ValidationError, match="method='network'"):
        access_shares(residents, distance, lookup)


@pytest.mark.parametrize("bad", [(0,), (-400,), (1e6,), (np.nan,), ("far",), ()])
def test_bad_thresholds(residents, distance, lookup, bad):
    with pytest.raises(ValidationError, match="threshold"):
        access_shares(residents, distance, lookup, thresholds=bad, method="network")


def test_missing_or_zero_population(residents, distance, lookup):
    with pytest.raises(ValidationError, match="population"):
        access_shares(residents.drop(columns="population"), distance, lookup, method="network")
    with pytest.raises(ValidationError, match="no population at all"):
        access_shares(residents.assign(population=0.0), distance, lookup, method="network")
    with pytest.raises(ValidationError, match="negative"):
        access_shares(residents.assign(population=-1.0), distance, lookup, method="network")


def test_unknown_group_and_misaligned_tables(residents, distance, lookup):
    with pytest.raises(ValidationError, match=r"e12.*e1 to e11"):
        access_shares(residents, distance.rename(columns={"e6": "e12"}), lookup, method="network")
    with pytest.raises(ValidationError, match="one row for each resident"):
        access_shares(residents, distance.iloc[:-1], lookup, method="network")
    with pytest.raises(ValidationError, match="negative"):
        access_shares(residents, -distance, lookup, method="network")
    with pytest.raises(ValidationError, match="lookup"):
        access_shares(residents, distance, method="network")


# -- need percentile -------------------------------------------------------------------------


def test_need_percentile_hand_computed(deprivation):
    got = need_percentile([28.0, 10.0, 50.0, 0.05], deprivation)
    assert got == pytest.approx([_pct(441), _pct(801), _pct(1), _pct(1000)])
    assert got[2] == pytest.approx(99.95)
    assert got[3] == pytest.approx(0.05)


def test_need_percentile_is_50_at_the_national_median():
    # A full "England" of 1,000 LSOAs, scores falling with rank; the median sits between ranks 500 and 501.
    rank = np.arange(1, N + 1)
    dep = pd.DataFrame({"lsoa_code": [f"E{i}" for i in rank], "imd_score": 80.0 - rank * 0.07, "imd_rank": rank})
    dep.attrs["n_national"] = N
    median = float(np.median(dep["imd_score"]))
    assert need_percentile([median], dep)[0] == pytest.approx(50.0)
    most = need_percentile([dep["imd_score"].max()], dep)[0]
    assert most == pytest.approx(99.95) and most <= 100


def test_need_percentile_monotone_and_clipped(deprivation):
    scores = np.linspace(-10, 80, 200)
    got = need_percentile(scores, deprivation)
    assert np.all(np.diff(got) >= 0)
    assert got.min() == pytest.approx(_pct(1000)) and got.max() == pytest.approx(_pct(1))


def test_need_percentile_from_ranks_when_no_scores(deprivation):
    ranks_only = deprivation.drop(columns="imd_score")
    got = need_percentile(None, ranks_only, ranks=[500.5, 1.0])
    assert got == pytest.approx([50.0, 99.95])
    with pytest.raises(AssetMapError, match="ranks="):
        need_percentile([20.0], ranks_only)


# -- gap table ---------------------------------------------------------------------------------


def test_gap_table_hand_computed(table):
    a = _row(table, "A", "e6")
    assert a["name"] == "Ash"
    assert a["group_label"] == "Element 6: Thriving VCSE sector and volunteering"
    assert a["population"] == 1000
    assert a["n_assets"] == 2  # a1 and a2; a4 is pending, a5 outside every area
    assert a["assets_per_1000"] == pytest.approx(2.0)
    assert a["access_share"] == pytest.approx(0.4)
    assert a["need_score"] == pytest.approx(28.0)
    assert a["need_percentile"] == pytest.approx(_pct(441))
    assert a["gap_index"] == pytest.approx(_pct(441) / 100 * 0.6)
    assert (a["need_class"], a["access_class"]) == (2, 2)
    assert a["bivariate_class"] == "2-2" and a["bivariate_label"] == "medium need, medium access"
    assert a["gap_rank"] == 1
    assert not a["no_assets"] and not a["whole_area"]
    assert a["access_method"] == "network" and a["threshold_m"] == 800

    b = _row(table, "B", "e6")
    assert b["n_assets"] == 0 and b["assets_per_1000"] == 0
    assert b["access_share"] == pytest.approx(1 / 3)
    assert b["gap_index"] == pytest.approx(_pct(801) / 100 * (2 / 3))
    assert b["bivariate_class"] == "1-2"  # a share of exactly 1/3 is medium access
    assert b["gap_rank"] == 2


def test_pillar_counts_an_asset_once(table):
    assert _row(table, "A", "strengthening")["n_assets"] == 2  # a2 serves 6 and 7, counted once
    assert _row(table, "B", "strengthening")["n_assets"] == 1
    assert _row(table, "A", "e7")["n_assets"] == 1
    assert _row(table, "A", "strengthening")["group_label"] == "Pillar: Strengthening"


def test_whole_area_row(table):
    whole = _row(table, "ALL", "e6")
    assert whole["name"] == "Whole area" and whole["whole_area"]
    assert whole["population"] == 4000
    assert whole["n_assets"] == 2
    assert whole["access_share"] == pytest.approx((400 + 1000) / 4000)
    assert whole["need_score"] == pytest.approx(14.5)
    assert whole["need_percentile"] == pytest.approx(_pct(_rank(14.5)))
    assert whole["gap_index"] == pytest.approx(_pct(_rank(14.5)) / 100 * 0.65)
    assert pd.isna(whole["gap_rank"])
    # Populations add up: the areas of each group sum to the whole.
    areas = table[~table["whole_area"]].groupby("group")["population"].sum()
    wholes = table[table["whole_area"]].set_index("group")["population"]
    pd.testing.assert_series_equal(areas.sort_index(), wholes.sort_index(), check_names=False)


def test_element_without_assets_is_flagged_with_zero_access(table, summary, shares, assets, deprivation):
    e1 = table[table["group"] == "e1"]
    assert e1["no_assets"].all() and e1["access_share"].eq(0).all() and e1["n_assets"].eq(0).all()
    assert not table.loc[table["group"] != "e1", "no_assets"].any()
    # A group with no assets may be asked for even without distances: access is 0 by definition.
    more = gap_table(summary, shares, assets, deprivation=deprivation, options=GapOptions(groups=["e6", "e5"]))
    e5 = more[more["group"] == "e5"]
    assert e5["no_assets"].all() and e5["access_share"].eq(0).all()
    assert list(more["group"].unique()) == ["e5", "e6"]
    assert e5["population"].tolist() == [1000, 3000, 4000]


def test_columns_order_and_groups(table):
    assert list(table.columns) == [
        "code",
        "name",
        "group",
        "group_label",
        "population",
        "n_assets",
        "n_assets_outside",
        "assets_per_1000",
        "share_within_400m",
        "share_within_800m",
        "share_within_1200m",
        "threshold_m",
        "access_share",
        "need_score",
        "need_percentile",
        "gap_index",
        "need_class",
        "access_class",
        "bivariate_class",
        "bivariate_label",
        "gap_rank",
        "no_assets",
        "whole_area",
        "access_method",
    ]
    assert list(table["group"].unique()) == ["e1", "e6", "e7", "strengthening"]
    assert table["code"].tolist()[:3] == ["A", "B", "ALL"]
    assert table["gap_index"].between(0, 1).all()


def test_threshold_choice_and_class_boundaries(summary, shares, assets, deprivation):
    table = gap_table(summary, shares, assets, deprivation=deprivation, options=GapOptions(threshold=1200))
    b = _row(table, "B", "e6")
    assert b["access_share"] == pytest.approx(2 / 3)
    assert b["access_class"] == 3  # exactly 2/3 is high access
    assert b["bivariate_label"] == "low need, high access"
    with pytest.raises(ValidationError, match="400 m, 800 m, 1200 m"):
        gap_table(summary, shares, assets, deprivation=deprivation, options=GapOptions(threshold=1000))


def test_classes_at_boundaries():
    need = np.array([0, 100 / 3 - 1e-6, 100 / 3, 200 / 3 - 1e-6, 200 / 3, 100, np.nan])
    assert _classes(need, (100 / 3, 200 / 3)).tolist() == [1, 1, 2, 2, 3, 3, pd.NA]
    share = np.array([0, 1000 / 3000, 0.6666, 2000 / 3000, 1])
    assert _classes(share, (1 / 3, 2 / 3)).tolist() == [1, 2, 2, 3, 3]


def test_gap_rank_deterministic_with_ties(deprivation):
    # Three areas: X worst off, Y and Z identical (a tie, broken by code).
    residents = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "population": [100.0, 100.0, 100.0]})
    distance = pd.DataFrame({"e4": [INF, 500.0, 500.0]})
    lookup = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "area_code": ["X", "Z", "Y"]})
    dep = deprivation.assign(imd_score=deprivation["imd_score"].where(deprivation["lsoa_code"] != "L3", 20.0))
    dep["imd_rank"] = _rank(dep["imd_score"])
    dep.loc[dep["lsoa_code"].isin(["L1", "L2", "L3"]), "population"] = 100.0
    summary = summarise_deprivation(dep, lookup)
    assets = pd.DataFrame({"area_code": ["X"], "elements": [(4,)]})
    shares = access_shares(residents, distance, lookup, method="network")
    table = gap_table(summary, shares, assets, deprivation=dep)
    ranks = table[~table["whole_area"]].set_index("code")["gap_rank"]
    assert ranks.to_dict() == {"X": 1, "Y": 2, "Z": 3}
    rng = np.random.default_rng(7)
    perm = rng.permutation(3)
    again = gap_table(
        summary.iloc[perm],
        access_shares(residents.iloc[perm], distance.iloc[perm], lookup.iloc[perm], method="network"),
        assets,
        deprivation=dep.sample(frac=1, random_state=3),
    )
    pd.testing.assert_frame_equal(table, again)


def test_gap_table_does_not_depend_on_row_order(table, summary, residents, distance, lookup, assets, deprivation):
    rng = np.random.default_rng(5)
    shares = access_shares(
        residents.iloc[rng.permutation(7)], distance.iloc[rng.permutation(7)], lookup.iloc[::-1], method="network"
    )
    again = gap_table(
        summary.iloc[::-1],
        shares.iloc[rng.permutation(len(shares))],
        assets.iloc[rng.permutation(len(assets))],
        deprivation=deprivation.iloc[::-1],
    )
    pd.testing.assert_frame_equal(table, again)


def test_gap_table_leaves_inputs_unchanged(summary, shares, assets, deprivation):
    before = [f.copy() for f in (summary, shares, assets, deprivation)]
    gap_table(summary, shares, assets, deprivation=deprivation)
    for frame, copy in zip((summary, shares, assets, deprivation), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_gap_table_by_lsoa(residents, distance, deprivation):
    shares = access_shares(residents, distance, by="lsoa", method="network")
    assets = pd.DataFrame({"lsoa_code": ["L1", "L3"], "elements": [(6,), (6, 7)]})
    local = deprivation[deprivation["lsoa_code"].isin(["L1", "L2", "L3"])]
    table = gap_table(
        local,
        shares,
        assets,
        deprivation=deprivation,
        by="lsoa",
        options=GapOptions(groups=["e6"], authority_code="E08000099"),
    )
    assert table["code"].tolist() == ["L1", "L2", "L3", "E08000099"]
    l2 = _row(table, "L2", "e6")
    assert l2["need_percentile"] == pytest.approx(_pct(601))
    assert l2["access_share"] == 0 and l2["n_assets"] == 0
    assert _row(table, "L1", "e6")["access_share"] == pytest.approx(1.0)
    assert _row(table, "E08000099", "e6")["population"] == 4000


def test_gap_table_authority_code_and_bad_input(summary, shares, assets, deprivation):
    table = gap_table(summary, shares, assets, deprivation=deprivation, options=GapOptions(authority_code="E08000003"))
    assert "E08000003" in set(table["code"]) and "ALL" not in set(table["code"])
    with pytest.raises(ValidationError, match="unknown group"):
        gap_table(summary, shares, assets, deprivation=deprivation, options=GapOptions(groups=["e99"]))
    with pytest.raises(ValidationError, match="no access shares for e4"):
        gap_table(
            summary,
            shares,
            assets.assign(elements=[(4,)] * 5),
            deprivation=deprivation,
            options=GapOptions(groups=["e4"]),
        )
    with pytest.raises(ValidationError, match="all zero"):
        gap_table(summary.assign(population=0.0), shares, assets, deprivation=deprivation)
    with pytest.raises(ValidationError, match="elements"):
        gap_table(summary, shares, assets.assign(elements=[(6,), (99,), (), None, (1,)]), deprivation=deprivation)
    with pytest.raises(ValidationError, match="area_code"):
        gap_table(summary, shares, assets.drop(columns="area_code"), deprivation=deprivation)


def test_asset_forms_give_the_same_counts(table, summary, shares, assets, deprivation):
    # Text elements, a categorical or nullable-string area code, or precomputed masks: the same table.
    as_text = assets.assign(elements=["6", "6;7", "7", "6", [6]], area_code=pd.array(["A", "A", "B", "B", pd.NA]))
    pd.testing.assert_frame_equal(gap_table(summary, shares, as_text, deprivation=deprivation), table)
    as_masks = assets.drop(columns="elements").assign(
        element_mask=element_masks(assets["elements"]), area_code=pd.Categorical(assets["area_code"])
    )
    pd.testing.assert_frame_equal(gap_table(summary, shares, as_masks, deprivation=deprivation), table)
    with pytest.raises(ValidationError, match="element_masks"):
        gap_table(summary, shares, as_masks.assign(element_mask=1 << 12), deprivation=deprivation)


def test_element_and_group_masks():
    masks = element_masks([(1, 6), (), None, (11,)])
    assert masks.tolist() == [2 + 64, 0, 0, 2048]
    bits = group_masks(["e6", "strengthening"])
    assert bits.tolist() == [64, 64 + 128 + 256]
    assert ((masks[:, None] & bits) != 0).tolist() == [[True, True], [False, False], [False, False], [False, False]]
    with pytest.raises(ValidationError, match="do not exist"):
        element_masks([(12,)])


def test_groups_and_labels():
    keys = group_keys()
    assert keys[:2] == ["e1", "e2"] and keys[-4:] == ["scaling", "involving", "strengthening", "sustaining"]
    assert group_label("e6") == "Element 6: Thriving VCSE sector and volunteering"
    with pytest.raises(ValidationError):
        group_label("pillar9")


# -- method note ---------------------------------------------------------------------------------


def test_method_note_says_what_was_done():
    note = method_note(
        method="straight-line",
        threshold=800,
        thresholds=(400, 800, 1200),
        include_stale=False,
        vintages={"deprivation": "IoD2025", "boundaries": "Wards May 2024"},
        n_assets={"all": 297, "e1": 12, "e5": 0, "scaling": 20},
        options=NoteOptions(caveats=["3 LSOAs are split between wards and apportioned by population."]),
    )
    lines = note.strip().splitlines()
    assert 15 <= len(lines) <= 25
    assert "straight-line distance" in note and "overstate access" in note
    assert "297 approved records" in note and "(stale) are left out" in note
    assert "within 800 m (about 10 minutes' walk)" in note and "shares within 400 m and 1,200 m" in note
    assert "deprivation: IoD2025" in note
    assert "element 5 (Participation structures)" in note
    assert "apportioned" in note
    network = method_note(
        method="network",
        threshold=400,
        thresholds=[400],
        include_stale=True,
        vintages={},
        n_assets={"e1": 1},
        options=NoteOptions(caveats=[]),
    )
    assert "walking distance along the street network" in network and "are included" in network
    assert "Caveats" not in network
    with pytest.raises(ValidationError):
        method_note(
            method="as the crow flies",
            threshold=800,
            thresholds=[800],
            include_stale=False,
            vintages={},
            n_assets={},
            options=NoteOptions(caveats=[]),
        )
