"""LSOA lookups: to wards (read_lookup) and to local authorities (read_lad_lookup), on files shaped like ONS's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assetmap._errors import DataFormatError, ValidationError
from assetmap.io.lookups import read_lad_lookup, read_lookup


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_lad_lookup_from_xlsx_with_lad_columns(tmp_path):
    path = _xlsx(
        tmp_path / "LSOA21_LAD22.xlsx",
        [
            ["LSOA21CD", "LSOA21NM", "LAD22CD", "LAD22NM"],
            ["E01005061", "Fixtureton 001A", "E08000903", "Fixtureton"],
            ["E01035500", "Otherton 001A", "E08000904", "Otherton"],
        ],
    )
    got = read_lad_lookup(path, lsoa_vintage=2021)
    assert got.to_dict("records") == [
        {"lsoa_code": "E01005061", "lad_code": "E08000903", "lad_name": "Fixtureton"},
        {"lsoa_code": "E01035500", "lad_code": "E08000904", "lad_name": "Otherton"},
    ]
    assert got.attrs["lad_col"] == "LAD22CD"


@pytest.mark.parametrize("lad_col", ["LTLA22CD", "LAD24CD", "ltla24_code", "lad23_code"])
def test_lad_lookup_detects_lad_and_ltla_columns(tmp_path, lad_col):
    path = tmp_path / "lookup.csv"
    pd.DataFrame({"lsoa21_code": ["E01005061"], lad_col: ["E08000903"]}).to_csv(path, index=False)
    assert read_lad_lookup(path)["lad_code"].tolist() == ["E08000903"]


def test_lad_lookup_without_a_lad_column_or_of_another_vintage_refused(tmp_path):
    path = tmp_path / "wards.csv"
    pd.DataFrame({"LSOA21CD": ["E01005061"], "WD24CD": ["E05000001"]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError, match=r"wards.csv: no local authority code column.*LAD24CD"):
        read_lad_lookup(path)
    old = tmp_path / "old.csv"
    pd.DataFrame({"LSOA11CD": ["E01005061"], "LAD19CD": ["E08000903"]}).to_csv(old, index=False)
    with pytest.raises(DataFormatError, match=r"a lookup of 2011 LSOAs \(column LSOA11CD\).*on 2021 LSOAs"):
        read_lad_lookup(old, lsoa_vintage=2021)


def test_lsoa_given_two_authorities_refused(tmp_path):
    path = tmp_path / "two.csv"
    pd.DataFrame({"LSOA21CD": ["E01005061", "E01005061"], "LAD24CD": ["E08000903", "E08000904"]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValidationError, match="1 LSOAs are given two local authorities"):
        read_lad_lookup(path)


@pytest.mark.realdata
def test_real_lookups_give_manchesters_lsoas_one_authority(real_data):
    lookups = real_data / "lookups"
    best_fit = read_lad_lookup(lookups / "LSOA21_to_WD24_LAD24_EW.csv", lsoa_vintage=2021)
    assert best_fit.attrs["lsoa_col"] == "lsoa21_code" and best_fit.attrs["lad_col"] == "ltla24_code"
    assert (best_fit["lad_code"] == "E08000003").sum() == 295
    # The 2011-to-2021 change lookup has both LSOA columns: the 2021 one is taken for 2021 LSOAs.
    change = read_lad_lookup(lookups / "LSOA11_to_LSOA21_LAD22_EW.csv", lsoa_vintage=2021)
    assert change.attrs["lsoa_col"] == "lsoa21_code" and change.attrs["lad_col"] == "ltla22_code"
    assert set(change.loc[change["lad_code"] == "E08000003", "lsoa_code"]) == set(
        best_fit.loc[best_fit["lad_code"] == "E08000003", "lsoa_code"]
    )
    old = read_lad_lookup(lookups / "LSOA11_to_WD19_EW.csv", lsoa_vintage=2011)
    assert (old["lad_code"] == "E08000003").sum() == 282


@pytest.mark.realdata
def test_national_ward_lookup_is_cut_to_the_area_by_its_lsoas(real_data):
    lookup = read_lookup(real_data / "lookups" / "LSOA21_to_WD24_LAD24_EW.csv")
    assert lookup.attrs["lsoa_col"] == "lsoa21_code" and lookup.attrs["area_col"] == "ward24_code"
    assert len(lookup) > 33_000
    lsoas = pd.read_csv(real_data / "deprivation" / "IoD2025_File_6_population_manchester.csv")["LSOA code (2021)"]
    mine = lookup[lookup["lsoa_code"].isin(lsoas)]
    assert len(mine) == 295 and mine["area_code"].nunique() == 32


def test_a_lookup_with_its_own_headers_is_named_by_flags_on_init_area(tmp_path, capsys):
    from assetmap.area.load import load_area
    from assetmap.cli import main

    tiny = Path(__file__).parent / "fixtures" / "tiny"
    odd = tmp_path / "lookup.csv"
    pd.read_csv(tiny / "lookup.csv").rename(columns={"LSOA21CD": "small_area", "WD24CD": "ward"}).to_csv(
        odd, index=False
    )
    base = ["init-area", str(tmp_path / "a"), "--boundaries", str(tiny / "wards.geojson")]
    base += ["--small-areas", str(tiny / "lsoa21.geojson"), "--imd", str(tiny / "file7.csv"), "--lookup", str(odd)]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "init-area --lookup-lsoa-col" in err and "lsoa_col" not in err
    assert not (tmp_path / "a").exists()
    assert main([*base, "--lookup-lsoa-col", "small_area", "--lookup-area-col", "ward"]) == 0
    assert len(load_area(tmp_path / "a").lookup)
