"""Reading Indices of Deprivation files: official layouts, repackaged layouts, bad files, real files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from assetmap._errors import AssetMapWarning, DataFormatError, ValidationError
from assetmap.io.deprivation import (
    CANONICAL_COLUMNS,
    check_lsoa_match,
    guess_lsoa_vintage,
    read_deprivation,
    read_population,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "deprivation"
BAD = FIX / "bad"


@pytest.fixture(scope="module")
def real_dep(real_data) -> Path:
    return real_data / "deprivation"


# -- official layouts -------------------------------------------------------------------


def test_file7_2019_with_bom_thousands_and_truncated_header():
    df = read_deprivation(FIX / "iod2019_file7.csv")
    assert df.attrs["edition"] == "IoD2019"
    assert df.attrs["lsoa_vintage"] == 2011
    assert df.attrs["n_national"] == 32_844
    assert df.attrs["source"] == "iod2019_file7.csv"
    assert list(df.columns) == [
        "lsoa_code",
        "lsoa_name",
        "lad_code",
        "lad_name",
        "imd_score",
        "imd_rank",
        "imd_decile",
        "income_score",
        "income_rank",
        "income_decile",
        "environment_score",
        "environment_rank",
        "environment_decile",
        "idaci_score",
        "idaci_rank",
        "idaci_decile",
        "idaopi_score",
        "idaopi_rank",
        "idaopi_decile",
        "population",
        "population_0_15",
    ]
    assert df["lsoa_code"].tolist()[0] == "E01005001"
    # "1,200" and "32,844" are ranks with thousands separators; "1,500.00" a population.
    assert df["imd_rank"].tolist() == [1200, 3284, 3285, 16422, 29199, 32844]
    assert df["imd_rank"].dtype == "int64" and df["imd_decile"].dtype == "int64"
    assert df["population"].tolist() == [1296.0, 1500.0, 1100.0, 1600.0, 1400.0, 1200.0]
    # The header cut short ("...10% of LSO") is still the income decile.
    assert df.attrs["column_map"]["income_decile"] == "Income Decile (where 1 is most deprived 10% of LSO"
    assert df["income_decile"].tolist() == [1, 1, 2, 5, 9, 10]
    assert df["imd_score"].iloc[0] == pytest.approx(55.123)
    # Sub-domains are not canonical columns and are left out.
    assert not any("indoors" in c for c in df.columns)


def test_file1_2019_short_headers_with_file6_population():
    df = read_deprivation(FIX / "iod2019_file1.csv", population=FIX / "iod2019_file6.csv")
    assert df.attrs["edition"] == "IoD2019"
    assert "imd_score" not in df
    assert df["imd_rank"].tolist() == [1200, 3284, 3285, 16422, 29199, 32844]
    assert df["population"].sum() == pytest.approx(1296 + 1500 + 1100 + 1600 + 1400 + 1200)


def test_file1_2025_with_partial_population_warns_and_names_lsoa():
    with pytest.warns(AssetMapWarning, match="1 of 5 LSOAs have no population.*E01035500"):
        df = read_deprivation(FIX / "iod2025_file1.csv", population=FIX / "iod2025_file6.csv")
    assert df.attrs["edition"] == "IoD2025" and df.attrs["n_national"] == 33_755
    assert df["population"].isna().tolist() == [False, False, False, False, True]
    assert df.loc[0, "population"] == 1850


def test_population_as_dataframe_replaces_file_population():
    pop = pd.DataFrame({"lsoa_code": [f"E0100500{i}" for i in range(1, 7)], "population": [10.0] * 6})
    df = read_deprivation(FIX / "iod2019_file7.csv", population=pop)
    assert df["population"].tolist() == [10.0] * 6


def test_population_of_other_edition_refused_naming_both_and_the_file_to_give():
    # IoD2019 scores with the IoD2025 population: refused for the editions, before any code is matched.
    with pytest.raises(ValidationError) as err:
        read_deprivation(FIX / "iod2019_file1.csv", population=FIX / "iod2025_file6.csv")
    text = str(err.value)
    assert text.startswith("iod2025_file6.csv: this is the IoD2025 population (on 2021 LSOAs)")
    assert "iod2019_file1.csv is IoD2019 (on 2011 LSOAs)" in text
    assert "File 6 of IoD2019, with the column 'Total population: mid 2015 (excluding prisoners)'" in text
    assert "IoD2019 File 7" in text
    # And the other way round, where most codes would match and the rest be left without a population.
    with pytest.raises(ValidationError, match=r"IoD2019 population.*is IoD2025.*File 6 of IoD2025.*mid 2022"):
        read_deprivation(FIX / "iod2025_file1.csv", population=FIX / "iod2019_file6.csv")


def test_population_table_of_unknown_vintage_matching_nothing_refused():
    pop = pd.DataFrame({"lsoa_code": ["E01099999"], "population": [10.0]})
    with pytest.raises(ValidationError, match=r"none of the 6 LSOA codes match.*same edition"):
        read_deprivation(FIX / "iod2019_file1.csv", population=pop)


def test_short_third_party_layout():
    df = read_deprivation(FIX / "iod2025_short_layout.csv")
    assert df.attrs["edition"] == "IoD2025"
    assert {
        "imd_score",
        "imd_rank",
        "imd_decile",
        "income_score",
        "income_rank",
        "income_decile",
        "housing_score",
        "environment_score",
    } <= set(df.columns)
    assert "population" not in df
    assert df["imd_rank"].tolist() == [1500, 3375, 3376, 20000, 33755]


def test_xlsx_read_by_content_and_sheet_found(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["The English Indices of Deprivation 2025: notes (made-up values)"])
    sheet = book.create_sheet("IoD2025 Scores")
    sheet.append(
        [
            "LSOA code (2021)",
            "LSOA name (2021)",
            "Local Authority District code (2024)",
            "Local Authority District name (2024)",
            "Index of Multiple Deprivation (IMD) Score",
            "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
            "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
            "Barriers to Housing and Services Score",
            "Total population: mid 2022",
        ]
    )
    sheet.append(["E01033900", "Fixtureton 002E", "E08000903", "Fixtureton", 40.5, 3376, 2, 22.25, 1500])
    sheet.append(["E01005061", "Fixtureton 001A", "E08000903", "Fixtureton", 52.0, 1500, 1, 30.5, 1850])
    path = tmp_path / "iod2025_scores.csv"  # an Excel workbook saved under a CSV name
    book.save(path)
    df = read_deprivation(path)
    assert df["lsoa_code"].tolist() == ["E01033900", "E01005061"]
    assert df["housing_score"].tolist() == [22.25, 30.5]
    assert df["population"].tolist() == [1500.0, 1850.0]
    assert df.attrs["edition"] == "IoD2025"
    assert read_deprivation(path, sheet="IoD2025 Scores").equals(df)


def test_explicit_columns_mapping_for_other_tables(tmp_path):
    path = tmp_path / "council.csv"
    path.write_text("Area,IMD19 score,Pop\nE01005001,40.0,1000\nE01005002,20.0,3000\n", encoding="utf-8")
    df = read_deprivation(
        path, columns={"lsoa_code": "Area", "imd_score": "IMD19 score", "population": "Pop"}, edition="IoD2019"
    )
    assert df.columns.tolist() == ["lsoa_code", "imd_score", "population"]
    assert df.attrs["n_national"] == 32_844
    with pytest.raises(DataFormatError, match="does not have"):
        read_deprivation(path, columns={"lsoa_code": "LSOA"})
    with pytest.raises(DataFormatError, match="not canonical"):
        read_deprivation(path, columns={"imd": "IMD19 score"})


def test_unknown_edition_is_assumed_openly(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("lsoa_code,imd_score\nE01005001,40.0\n", encoding="utf-8")
    with pytest.warns(AssetMapWarning, match="edition='IoD2019'"):
        df = read_deprivation(path)
    assert df.attrs["edition"] == "IoD2025"


def test_read_population_both_editions():
    p19 = read_population(FIX / "iod2019_file6.csv")
    # File 6 counts residents by age too: the denominators of access for one audience.
    ages = ["population_0_15", "population_16_59", "population_60_plus"]
    assert p19.columns.tolist() == ["lsoa_code", "population", *ages]
    assert p19["population"].iloc[0] == 1296.0 and p19.attrs["lsoa_vintage"] == 2011
    assert p19[ages].iloc[0].tolist() == [300.0, 700.0, 296.0]
    p25 = read_population(FIX / "iod2025_file6.csv")
    assert p25["population"].tolist() == [1850.0, 2143.0, 1500.0, 1750.0]
    assert p25.attrs["lsoa_vintage"] == 2021
    with pytest.raises(DataFormatError, match="no total population column"):
        read_population(FIX / "iod2025_file1.csv")


def test_canonical_columns_listed():
    assert CANONICAL_COLUMNS[:4] == ("lsoa_code", "lsoa_name", "lad_code", "lad_name")
    assert "housing_score" in CANONICAL_COLUMNS and "idaopi_decile" in CANONICAL_COLUMNS
    assert CANONICAL_COLUMNS[-4:] == ("population", "population_0_15", "population_16_59", "population_60_plus")


def test_guess_vintage_from_codes():
    assert guess_lsoa_vintage(["E01000001", "E01033769"]) == 2021
    assert guess_lsoa_vintage(["E01000001", "E01033768"]) is None


# -- bad files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "pattern"),
    [
        ("empty.csv", DataFormatError, r"empty\.csv: the file is empty"),
        ("header_only.csv", DataFormatError, r"header_only\.csv: .*no rows"),
        ("garbage.csv", DataFormatError, r"garbage\.csv: a binary file.*CSV or XLSX"),
        (
            "no_lsoa_column.csv",
            DataFormatError,
            r"no_lsoa_column\.csv: no LSOA code column.*\['Area', 'IMD score', 'IMD rank'\].*Data page \('LSOA code column'\)",
        ),
        ("duplicate_codes.csv", ValidationError, r"E01005061.*rows \[2, 4\]"),
    ],
)
def test_bad_files_name_file_and_fix(name, error, pattern):
    with pytest.raises(error, match=pattern):
        read_deprivation(BAD / name)


def test_non_numeric_and_empty_scores_name_row_and_column():
    with pytest.raises(ValidationError) as err:
        read_deprivation(BAD / "non_numeric_score.csv")
    problems = {(p.row, p.field): p.message for p in err.value.problems}
    score = "Index of Multiple Deprivation (IMD) Score"
    assert problems == {(3, score): "'n/a' is not a number.", (5, score): "the value is empty."}
    assert "non_numeric_score.csv" in str(err.value)


def test_codes_that_are_not_english_lsoas_name_rows():
    with pytest.raises(ValidationError) as err:
        read_deprivation(BAD / "bad_codes.csv")
    assert [p.row for p in err.value.problems] == [3, 4]
    assert "'W01000001' is not an English LSOA code" in str(err.value)


def test_deciles_and_ranks_out_of_range():
    with pytest.raises(ValidationError) as err:
        read_deprivation(BAD / "out_of_range.csv")
    messages = sorted((p.row, p.message) for p in err.value.problems)
    assert [row for row, _ in messages] == [2, 4, 5]
    assert "decile 0 is not a whole number from 1 to 10" in messages[0][1]
    assert "rank 40,000" in messages[1][1] and "33,755" in messages[1][1]
    assert "decile 11" in messages[2][1]


def test_2019_rank_beyond_2011_count_refused(tmp_path):
    text = (FIX / "iod2019_file1.csv").read_text(encoding="utf-8-sig").replace('"32,844"', '"33,000"')
    path = tmp_path / "f1.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"rank 33,000 is not a whole number from 1 to 32,844"):
        read_deprivation(path)


def test_2021_code_in_2011_file_refused(tmp_path):
    text = (FIX / "iod2019_file1.csv").read_text(encoding="utf-8-sig").replace("E01005006", "E01034000")
    path = tmp_path / "f1.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="E01034000' is a 2021 LSOA code"):
        read_deprivation(path)


# -- matching the area's small areas ------------------------------------------------------


def test_check_lsoa_match_counts_and_warns():
    dep = read_deprivation(FIX / "iod2025_short_layout.csv")
    report = check_lsoa_match(dep, pd.Series(["E01005061", "E01005063", "E01033900", "E01034001"]))
    assert report["n_matched"] == 4 and report["share"] == 1.0 and report["unmatched"] == []
    with pytest.warns(AssetMapWarning, match="1 of 5 small areas have no deprivation row"):
        report = check_lsoa_match(dep, ["E01005061", "E01005063", "E01033900", "E01034001", "E01034999"])
    assert report["unmatched"] == ["E01034999"]


def test_check_lsoa_match_names_both_vintages():
    dep = read_deprivation(FIX / "iod2019_file1.csv")  # IoD2019, 2011 LSOAs
    small = pd.Series(["E01005001", "E01033900", "E01034001", "E01035500"])  # three 2021-only codes
    with pytest.raises(ValidationError) as err:
        check_lsoa_match(dep, small)
    text = str(err.value)
    assert "iod2019_file1.csv" in text
    assert "IoD2019 file is on 2011 LSOAs but your small areas are 2021 LSOAs: 1 of 4 codes match" in text
    assert "Use the IoD2025 file or 2011 LSOA boundaries" in text


def test_check_lsoa_match_too_few_of_unknown_vintage():
    dep = read_deprivation(FIX / "iod2025_short_layout.csv")
    with pytest.raises(ValidationError, match="only 1 of 3 small-area codes"):
        check_lsoa_match(dep, ["E01005061", "E01000001", "E01000002"], file="imd.csv")
    small = pd.Series(["E01005061", "E01000001"])
    small.attrs["lsoa_vintage"] = 2011
    with pytest.raises(ValidationError, match="IoD2025 file is on 2021 LSOAs but your small areas are 2011"):
        check_lsoa_match(dep, small)


# -- real files -----------------------------------------------------------------------


@pytest.mark.realdata
def test_read_every_real_deprivation_file(real_dep):
    expected = {
        "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv": (32_844, "IoD2019", {"imd_rank", "imd_decile"}),
        "File_2_-_IoD2019_Domains_of_Deprivation.csv": (32_844, "IoD2019", {"housing_rank", "environment_decile"}),
        "IoD2025_england_lsoa21_scores_ranks_deciles.csv": (33_755, "IoD2025", {"imd_score", "housing_score"}),
        "IoD2025_File_7_manchester_partial.csv": (295, "IoD2025", {"imd_score", "crime_decile", "population"}),
    }
    seen = set()
    for path in sorted(real_dep.iterdir()):
        if "File_6" in path.name:
            pop = read_population(path)
            assert pop["population"].gt(0).all() and pop["lsoa_code"].is_unique
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", AssetMapWarning)
            df = read_deprivation(path)
        rows, edition, cols = expected[path.name]
        assert len(df) == rows and df.attrs["edition"] == edition and cols <= set(df.columns), path.name
        assert df["lsoa_code"].is_unique and df["lsoa_code"].str.match(r"^E01\d{6}$").all()
        if len(df) == df.attrs["n_national"]:
            # A national file ranks every LSOA from 1 to n (IoD2019 has a few tied ranks).
            assert df["imd_rank"].min() == 1 and df["imd_rank"].max() == len(df)
            assert df["imd_rank"].nunique() > 0.99 * len(df)
        seen.add(path.name)
    assert seen == set(expected)


@pytest.mark.realdata
def test_real_file6_2019_and_2025(real_dep):
    p19 = read_population(real_dep / "File_6_-_IoD2019_Population_Denominators.csv")
    assert len(p19) == 32_844 and p19.attrs["lsoa_vintage"] == 2011
    p25 = read_population(real_dep / "IoD2025_File_6_population_manchester.csv")
    assert len(p25) == 295 and p25.attrs["lsoa_vintage"] == 2021
    partial = read_deprivation(real_dep / "IoD2025_File_7_manchester_partial.csv")
    assert partial["population"].sum() == p25["population"].sum()


@pytest.mark.realdata
def test_real_vintage_mismatch_message(real_dep):
    gpd = pytest.importorskip("geopandas")
    lsoa21 = gpd.read_file(real_dep.parent / "boundaries" / "manchester_lsoa21.geojson")["area_code"]
    lsoa11 = gpd.read_file(real_dep.parent / "boundaries" / "manchester_lsoa11.geojson")["area_code"]
    imd2019 = read_deprivation(real_dep / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv")
    with pytest.raises(ValidationError) as err:
        check_lsoa_match(imd2019, lsoa21)
    # 263 of Manchester's 295 2021 LSOAs kept their 2011 code: most match, and it is still wrong.
    assert "IoD2019 file is on 2011 LSOAs but your small areas are 2021 LSOAs: 263 of 295 codes match" in str(err.value)
    assert check_lsoa_match(imd2019, lsoa11)["n_matched"] == 282
    imd2025 = read_deprivation(real_dep / "IoD2025_england_lsoa21_scores_ranks_deciles.csv")
    assert check_lsoa_match(imd2025, lsoa21)["share"] == 1.0
    with pytest.raises(ValidationError, match="IoD2025 file is on 2021 LSOAs but your small areas are 2011"):
        check_lsoa_match(imd2025, lsoa11)
