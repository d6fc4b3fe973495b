"""Deprivation summaries: hand-computed measures on tiny frames, invariants, and Manchester's real figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assetmap._errors import ValidationError
from assetmap.analysis.deprivation import (
    extent_weight,
    local_authority_summary,
    national_percentile,
    summarise_deprivation,
)
from assetmap.io.deprivation import read_deprivation

FIX = Path(__file__).resolve().parent / "fixtures" / "deprivation"
N = 1_000  # a small "England" so that percentiles are rank / 10


def _frame(ranks, pops, scores=None, deciles=None, lad="E08000001", codes=None, **extra) -> pd.DataFrame:
    k = len(ranks)
    df = pd.DataFrame(
        {
            "lsoa_code": codes or [f"E0100000{i}" for i in range(1, k + 1)],
            "lad_code": lad if isinstance(lad, list) else [lad] * k,
            "imd_rank": ranks,
            "imd_decile": deciles if deciles is not None else [math.ceil(r * 10 / N) for r in ranks],
            "population": pops,
            **extra,
        }
    )
    if scores is not None:
        df.insert(2, "imd_score", scores)
    return df


# -- measures by hand ---------------------------------------------------------------------


def test_weighted_measures_by_hand():
    dep = _frame([50, 150, 800], [1000, 3000, 1000], scores=[50.0, 30.0, 10.0])
    row = summarise_deprivation(dep, by="lad", n_national=N).iloc[0]
    assert row["code"] == "E08000001" and row["population"] == 5000 and row["n_lsoas"] == 3
    assert row["avg_score"] == pytest.approx((50 * 1000 + 30 * 3000 + 10 * 1000) / 5000)  # 30
    assert row["avg_rank_where_1_most_deprived"] == pytest.approx((50 * 1000 + 150 * 3000 + 800 * 1000) / 5000)
    # Reversed ranks (n + 1 - rank): 951, 851, 201.
    assert row["avg_rank"] == pytest.approx((951 * 1000 + 851 * 3000 + 201 * 1000) / 5000)  # 741
    assert row["prop_lsoas_most_deprived_10pct"] == pytest.approx(1 / 3)  # a count of LSOAs, not people
    assert row["share_lsoas_decile_1_2"] == pytest.approx(2 / 3)
    assert row["share_pop_decile_1_2"] == pytest.approx(4000 / 5000)
    # Extent: rank 50 is percentile 5 (weight 1), rank 150 percentile 15 (0.95 - 4 * 0.9/19), rank 800 nothing.
    assert row["extent"] == pytest.approx((1000 + (0.95 - 4 * 0.9 / 19) * 3000) / 5000)
    # Local concentration: 10% of 5,000 is 500 people, all in the most deprived LSOA.
    assert row["local_concentration"] == pytest.approx(951)


def test_local_concentration_counts_last_lsoa_partly():
    dep = _frame([50, 150, 800], [300, 3000, 1700])
    row = summarise_deprivation(dep, by="lad", n_national=N).iloc[0]
    # 10% of 5,000 = 500: all 300 of the first LSOA, then 200 of the 3,000 in the second.
    assert row["local_concentration"] == pytest.approx((951 * 300 + 851 * 200) / 500)


def test_extent_sliding_scale_at_boundary_percentiles():
    ranks = [100, 101, 200, 300, 301]  # percentiles 10, 11, 20, 30, 31
    dep = _frame(ranks, [1000] * 5, lad=[f"E0800000{i}" for i in range(1, 6)])
    out = summarise_deprivation(dep, by="lad", n_national=N)
    assert out["extent"].tolist() == pytest.approx([1.0, 0.95, 0.95 - 9 * 0.9 / 19, 0.05, 0.0])
    # The same edges nationally: decile 1 of IoD2019 ends at rank 3,284, the 30th percentile at 9,853.
    assert extent_weight(np.array([3284, 3285, 9853, 9854]), 32_844).tolist() == pytest.approx([1, 0.95, 0.05, 0])
    assert national_percentile([1, 3375, 3376, 33_755], 33_755).tolist() == [1, 10, 11, 100]


def test_apportioned_weights_conserve_population():
    dep = _frame([50, 400, 900], [1000, 2000, 500], scores=[50.0, 20.0, 10.0])
    lookup = pd.DataFrame(
        {
            "lsoa_code": ["E01000001", "E01000002", "E01000002", "E01000003"],
            "area_code": ["X", "X", "Y", "Y"],
            "weight": [1.0, 0.25, 0.75, 1.0],
        }
    )
    out = summarise_deprivation(dep, lookup, n_national=N)
    assert out["code"].tolist() == ["X", "Y"]
    assert out["population"].tolist() == [1500, 2000]
    assert out["population"].sum() == dep["population"].sum()
    assert out["n_lsoas"].tolist() == [2, 2]
    assert out["avg_score"].tolist() == pytest.approx([(50 * 1000 + 20 * 500) / 1500, (20 * 1500 + 10 * 500) / 2000])
    # The cut LSOA counts as a quarter of an LSOA in X: 1 of 1.25 LSOAs in decile 1.
    assert out["prop_lsoas_most_deprived_10pct"].tolist() == pytest.approx([1 / 1.25, 0.0])
    # Local concentration of Y: 200 people needed, all from the cut LSOA (rank 400).
    assert out.loc[1, "local_concentration"] == pytest.approx(N + 1 - 400)


def test_population_weighted_area_means_recombine_to_the_whole():
    rng = np.random.default_rng(7)
    k = 40
    dep = _frame(
        list(rng.permutation(np.arange(1, N + 1))[:k]),
        list(rng.integers(800, 3000, k).astype(float)),
        scores=list(rng.uniform(2, 70, k)),
        codes=[f"E01{i:06d}" for i in range(1, k + 1)],
    )
    lookup = pd.DataFrame({"lsoa_code": dep["lsoa_code"], "area_code": [f"A{i % 6}" for i in range(k)]})
    areas = summarise_deprivation(dep, lookup, n_national=N)
    whole = summarise_deprivation(dep, by="lad", n_national=N).iloc[0]
    assert areas["population"].sum() == pytest.approx(whole["population"])
    for col in ("avg_score", "avg_rank", "extent", "share_pop_decile_1_2"):
        assert np.average(areas[col], weights=areas["population"]) == pytest.approx(whole[col])


def test_order_independent_and_inputs_unchanged():
    dep = _frame(
        [50, 150, 800, 420, 77],
        [1000, 3000, 1000, 1200, 900],
        scores=[50.0, 30.0, 10.0, 15.0, 44.0],
        income_score=[0.3, 0.2, 0.05, 0.1, 0.25],
    )
    dep.attrs["n_national"] = N
    lookup = pd.DataFrame(
        {"lsoa_code": dep["lsoa_code"], "area_code": ["B", "A", "B", "A", "B"], "weight": [1.0, 1.0, 0.5, 1.0, 1.0]}
    )
    names = pd.DataFrame({"code": ["A", "B"], "name": ["Alpha", "Beta"]})
    before = (dep.copy(deep=True), lookup.copy(deep=True), names.copy(deep=True), dict(dep.attrs))
    out = summarise_deprivation(dep, lookup, names=names)
    shuffled = summarise_deprivation(
        dep.sample(frac=1, random_state=1), lookup.sample(frac=1, random_state=2), names=names.iloc[::-1]
    )
    pd.testing.assert_frame_equal(out, shuffled)
    pd.testing.assert_frame_equal(dep, before[0])
    pd.testing.assert_frame_equal(lookup, before[1])
    pd.testing.assert_frame_equal(names, before[2])
    assert dep.attrs == before[3]
    assert out["name"].tolist() == ["Alpha", "Beta"]
    assert out["income_score"].iloc[0] == pytest.approx((0.2 * 3000 + 0.1 * 1200) / 4200)


def test_columns_and_missing_inputs():
    dep = _frame([50, 150], [1000, 1000]).drop(columns=["imd_decile"])
    out = summarise_deprivation(dep, pd.DataFrame({"lsoa_code": dep["lsoa_code"], "area_code": "Z"}), n_national=N)
    assert list(out.columns[:12]) == [
        "code",
        "name",
        "population",
        "n_lsoas",
        "avg_score",
        "avg_rank",
        "avg_rank_where_1_most_deprived",
        "prop_lsoas_most_deprived_10pct",
        "extent",
        "local_concentration",
        "share_lsoas_decile_1_2",
        "share_pop_decile_1_2",
    ]
    assert math.isnan(out.loc[0, "avg_score"])  # no scores in a File 1
    assert out.loc[0, "name"] is None
    # Deciles come from the ranks when the table has none: rank 150 of 1,000 is decile 2.
    assert out.loc[0, "prop_lsoas_most_deprived_10pct"] == 0.5 and out.loc[0, "share_lsoas_decile_1_2"] == 1.0


def test_missing_population_names_the_lsoas():
    dep = _frame([50, 150, 800], [1000.0, np.nan, 1000.0])
    with pytest.raises(ValidationError, match=r"1 LSOAs have no usable population: E01000002.*File 6"):
        summarise_deprivation(dep, by="lad", n_national=N)
    with pytest.raises(ValidationError, match="no population column"):
        summarise_deprivation(dep.drop(columns="population"), by="lad", n_national=N)


def test_bad_lookups_refused():
    dep = _frame([50, 150], [1000, 1000])
    with pytest.raises(ValidationError, match="needs a lookup"):
        summarise_deprivation(dep, n_national=N)
    double = pd.DataFrame({"lsoa_code": ["E01000001", "E01000001"], "area_code": ["A", "B"], "weight": [1.0, 0.5]})
    with pytest.raises(ValidationError, match="add up to more than 1"):
        summarise_deprivation(dep, double, n_national=N)
    with pytest.raises(ValidationError, match="no area_code"):
        summarise_deprivation(dep, pd.DataFrame({"lsoa_code": ["E01000001"]}), n_national=N)


def test_local_authority_summary_of_fixture_file():
    dep = read_deprivation(FIX / "iod2019_file7.csv")
    out = local_authority_summary(dep)
    assert out["code"].tolist() == ["E08000901", "E08000902"]
    assert out["name"].tolist() == ["Fixtureshire", "Otherton"]
    first = out.iloc[0]
    pops = np.array([1296.0, 1500.0, 1100.0, 1600.0])
    ranks = np.array([1200, 3284, 3285, 16422])
    assert first["population"] == pops.sum()
    assert first["avg_rank"] == pytest.approx(np.average(32_845 - ranks, weights=pops))
    assert first["prop_lsoas_most_deprived_10pct"] == 0.5
    # Ranks 1,200 and 3,284 are in the most deprived 10% (weight 1); 3,285 is the 11th percentile (0.95).
    assert first["extent"] == pytest.approx((1296 + 1500 + 0.95 * 1100) / pops.sum())
    assert first["environment_score"] == pytest.approx(np.average([20.5, 30.0, 10.0, 45.0], weights=pops))


# -- real data: Manchester ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real(real_data) -> Path:
    return real_data


MANCHESTER = "E08000003"


def _independent_measures(rank, decile, score, pop, n):
    """The MHCLG measures for one authority, written out plainly from the definitions."""
    order = sorted(range(len(rank)), key=lambda i: rank[i])
    total = sum(pop)
    rev = [n + 1 - r for r in rank]
    weights = []
    for r in rank:
        pct = math.ceil(100 * r / n)
        weights.append(1.0 if pct <= 10 else (0.95 - (pct - 11) * 0.9 / 19 if pct <= 30 else 0.0))
    need, lc_num, lc_den = 0.1 * total, 0.0, 0.0
    for i in order:
        take = min(pop[i], need - lc_den)
        if take <= 0:
            break
        lc_num += rev[i] * take
        lc_den += take
    return {
        "population": total,
        "avg_score": sum(s * p for s, p in zip(score, pop, strict=True)) / total,
        "avg_rank": sum(r * p for r, p in zip(rev, pop, strict=True)) / total,
        "prop_lsoas_most_deprived_10pct": sum(d == 1 for d in decile) / len(decile),
        "extent": sum(w * p for w, p in zip(weights, pop, strict=True)) / total,
        "local_concentration": lc_num / lc_den,
    }


@pytest.mark.realdata
def test_manchester_2025_matches_independent_computation(real):
    dep_dir = real / "deprivation"
    partial = read_deprivation(dep_dir / "IoD2025_File_7_manchester_partial.csv")
    ours = local_authority_summary(partial)
    assert ours["code"].tolist() == [MANCHESTER]
    ours = ours.iloc[0]

    # Independently: the national repackaged file's Manchester rows and the official File 6 population.
    pop = pd.read_csv(dep_dir / "IoD2025_File_6_population_manchester.csv")
    national = pd.read_csv(dep_dir / "IoD2025_england_lsoa21_scores_ranks_deciles.csv")
    rows = national.merge(
        pop[["LSOA code (2021)", "Total population: mid 2022"]], left_on="lsoa21_code", right_on="LSOA code (2021)"
    )
    assert len(rows) == 295
    expected = _independent_measures(
        rows["IMD_rank"].tolist(),
        rows["IMD_decile"].tolist(),
        rows["IMD_score"].tolist(),
        rows["Total population: mid 2022"].tolist(),
        33_755,
    )
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, rel=1e-12), key
    # The share in the most deprived decile, counted directly: 120 of 295 LSOAs.
    assert (rows["IMD_decile"] == 1).sum() == 120
    assert ours["prop_lsoas_most_deprived_10pct"] == pytest.approx(120 / 295)
    assert ours["population"] == 566_778
    assert ours["avg_score"] == pytest.approx(38.677, abs=5e-4)

    # The same through the national file read with File 6 as the population argument.
    national_dep = read_deprivation(dep_dir / "IoD2025_england_lsoa21_scores_ranks_deciles.csv")
    manchester = national_dep[national_dep["lsoa_code"].isin(pop["LSOA code (2021)"])]
    lookup = pd.DataFrame({"lsoa_code": manchester["lsoa_code"], "area_code": MANCHESTER})
    via_population = summarise_deprivation(
        read_deprivation(
            dep_dir / "IoD2025_File_7_manchester_partial.csv",
            population=dep_dir / "IoD2025_File_6_population_manchester.csv",
        ),
        by="lad",
    )
    via_national = summarise_deprivation(
        manchester.assign(
            population=manchester["lsoa_code"].map(pop.set_index("LSOA code (2021)")["Total population: mid 2022"])
        ),
        lookup,
    )
    cols = [
        "population",
        "avg_score",
        "avg_rank",
        "prop_lsoas_most_deprived_10pct",
        "extent",
        "local_concentration",
        "income_score",
        "environment_score",
    ]
    pd.testing.assert_frame_equal(via_population[cols], ours.to_frame().T[cols].astype(float).reset_index(drop=True))
    pd.testing.assert_frame_equal(via_national[cols], via_population[cols])


@pytest.fixture(scope="module")
def iod2019_lads(real) -> pd.DataFrame:
    dep_dir = real / "deprivation"
    dep = read_deprivation(
        dep_dir / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
        population=dep_dir / "File_6_-_IoD2019_Population_Denominators.csv",
    )
    return local_authority_summary(dep)


@pytest.mark.realdata
def test_iod2019_manchester_matches_published_rankings(iod2019_lads):
    # Published figures: MHCLG, English Indices of Deprivation 2019, File 10 (local authority district
    # summaries), as reported by Manchester City Council (Performance, Research and Intelligence,
    # "Indices of Deprivation 2019: a measure of Manchester's relative level of deprivation", slides 2-3):
    # of 317 districts, Manchester is 2nd on rank of average rank, 2nd on extent, 5th on the proportion of
    # LSOAs in the most deprived 10% (122 of its 282 LSOAs) and 13th on local concentration; the ten
    # highest average ranks are those listed below.
    lads = iod2019_lads.set_index("code")
    assert len(lads) == 317
    ranked = lads.rank(ascending=False, method="min", numeric_only=True)
    assert ranked.loc[MANCHESTER, "avg_rank"] == 2
    assert ranked.loc[MANCHESTER, "extent"] == 2
    assert ranked.loc[MANCHESTER, "prop_lsoas_most_deprived_10pct"] == 5
    assert ranked.loc[MANCHESTER, "local_concentration"] == 13
    top10 = lads.sort_values("avg_rank", ascending=False)["name"].head(10).tolist()
    assert top10 == [
        "Blackpool",
        "Manchester",
        "Knowsley",
        "Liverpool",
        "Barking and Dagenham",
        "Birmingham",
        "Hackney",
        "Sandwell",
        "Kingston upon Hull, City of",
        "Nottingham",
    ]
    man = lads.loc[MANCHESTER]
    assert man["n_lsoas"] == 282
    assert man["prop_lsoas_most_deprived_10pct"] == pytest.approx(122 / 282)
    assert man["avg_rank"] + man["avg_rank_where_1_most_deprived"] == pytest.approx(32_845)


@pytest.mark.realdata
def test_iod2019_file2_gives_the_same_imd_measures(real, iod2019_lads):
    dep_dir = real / "deprivation"
    dep = read_deprivation(
        dep_dir / "File_2_-_IoD2019_Domains_of_Deprivation.csv",
        population=dep_dir / "File_6_-_IoD2019_Population_Denominators.csv",
    )
    man = dep[dep["lad_code"] == MANCHESTER]
    ours = local_authority_summary(man)
    cols = ["population", "avg_rank", "prop_lsoas_most_deprived_10pct", "extent", "local_concentration"]
    expected = iod2019_lads[iod2019_lads["code"] == MANCHESTER][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours[cols], expected)


@pytest.mark.realdata
def test_manchester_ward_summaries(real):
    dep = read_deprivation(real / "deprivation" / "IoD2025_File_7_manchester_partial.csv")
    raw = pd.read_csv(
        real / "lookups" / "LSOA21_to_WD24_LAD24_EW.csv", usecols=["lsoa21_code", "ward24_code", "ltla24_code"]
    )
    raw = raw[raw["ltla24_code"] == MANCHESTER]
    lookup = pd.DataFrame({"lsoa_code": raw["lsoa21_code"], "area_code": raw["ward24_code"]})
    wards = summarise_deprivation(dep, lookup)
    la = local_authority_summary(dep).iloc[0]
    assert len(wards) == 32
    assert wards["code"].is_monotonic_increasing
    assert wards["n_lsoas"].sum() == 295
    assert wards["population"].sum() == la["population"] == 566_778
    for col in ("avg_score", "avg_rank", "extent", "income_score"):
        assert np.average(wards[col], weights=wards["population"]) == pytest.approx(la[col])
    assert wards["local_concentration"].between(1, 33_755).all()
    assert (wards["avg_rank"] + wards["avg_rank_where_1_most_deprived"]).round(6).eq(33_756).all()


@pytest.mark.realdata
@pytest.mark.parametrize("lookup", ["LSOA21_to_WD24_LAD24_EW.csv", "LSOA11_to_LSOA21_LAD22_EW.csv"])
def test_cli_authority_summary_of_the_national_iod2025_file_with_a_lookup(real, tmp_path, capsys, lookup):
    from assetmap.cli import main

    dep_dir = real / "deprivation"
    out = tmp_path / "lad.csv"
    args = ["deprivation-summary", "--imd", str(dep_dir / "IoD2025_england_lsoa21_scores_ranks_deciles.csv")]
    args += ["--population", str(dep_dir / "IoD2025_File_6_population_manchester.csv"), "--by", "lad"]
    assert main([*args, "--out", str(out)]) == 2
    assert "--lookup F" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--lookup", str(real / "lookups" / lookup), "--out", str(out)]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    # Only Manchester has a population in its File 6: the other authorities are left out, not summarised wrongly.
    assert table["code"].tolist() == [MANCHESTER] and table["name"].tolist() == ["Manchester"]
    row = table.iloc[0]
    assert row["population"] == 566_778 and row["n_lsoas"] == 295
    assert row["prop_lsoas_most_deprived_10pct"] == pytest.approx(120 / 295)
    assert row["avg_score"] == pytest.approx(38.677, abs=5e-4)
    assert "local authorities left out" in capsys.readouterr().err
    # A lookup of 2011 LSOAs is refused for the 2021 file.
    assert main([*args, "--lookup", str(real / "lookups" / "LSOA11_to_WD19_EW.csv"), "--out", str(out)]) == 2
    assert "a lookup of 2011 LSOAs (column LSOA11CD)" in capsys.readouterr().err
