import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from assetmap.cli import build_parser, main

TINY = Path(__file__).parent / "fixtures" / "tiny"
BAD = Path(__file__).parent / "fixtures" / "bad"
README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_documented_in_readme():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"assetmap {name}" in README, name


def test_init_area_and_info(tmp_path, capsys):
    status = main(
        [
            "init-area",
            str(tmp_path / "t"),
            "--boundaries",
            str(TINY / "wards.geojson"),
            "--small-areas",
            str(TINY / "lsoa21.geojson"),
            "--imd",
            str(TINY / "file7.csv"),
            "--postcodes",
            str(TINY / "postcodes.csv"),
            "--assets",
            str(TINY / "assets.csv"),
            "--name",
            "Tinyton",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "areas: 4  LSOAs: 8  population: 11,000  assets: 5" in out
    assert main(["info", str(tmp_path / "t")]) == 0
    assert "Tinyton" in capsys.readouterr().out


def test_bad_input_is_an_error_line_not_a_traceback(tmp_path, capsys):
    status = main(
        [
            "init-area",
            str(tmp_path / "t"),
            "--boundaries",
            str(BAD / "mixed_geometries.geojson"),
            "--small-areas",
            str(TINY / "lsoa21.geojson"),
            "--imd",
            str(TINY / "file7.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: mixed_geometries.geojson")
    assert "Traceback" not in err
    assert not (tmp_path / "t").exists()


def test_deprivation_summary_by_lad_and_by_area(tmp_path):
    out = tmp_path / "lad.csv"
    assert main(["deprivation-summary", "--imd", str(TINY / "file7.csv"), "--out", str(out)]) == 0
    lad = pd.read_csv(out, encoding="utf-8-sig")
    for col in [
        "code",
        "name",
        "population",
        "avg_score",
        "avg_rank",
        "prop_lsoas_most_deprived_10pct",
        "extent",
        "local_concentration",
        "n_lsoas",
    ]:
        assert col in lad.columns, col
    assert lad["code"].tolist() == ["E09999990"]
    assert lad["n_lsoas"].iloc[0] == 8 and lad["population"].iloc[0] == 11_000
    # Population-weighted IMD score, by hand.
    expected = (60 * 1000 + 50 * 1000 + 40 * 2000 + 30 * 2000 + 20 * 1500 + 10 * 1500 + 5 * 1000 + 2 * 1000) / 11000
    assert lad["avg_score"].iloc[0] == pytest.approx(expected)
    assert lad["prop_lsoas_most_deprived_10pct"].iloc[0] == pytest.approx(3 / 8)

    by_area = tmp_path / "wards.csv"
    assert (
        main(
            [
                "deprivation-summary",
                "--imd",
                str(TINY / "file7.csv"),
                "--lookup",
                str(TINY / "lookup.csv"),
                "--boundaries",
                str(TINY / "wards.geojson"),
                "--out",
                str(by_area),
            ]
        )
        == 0
    )
    wards = pd.read_csv(by_area, encoding="utf-8-sig")
    assert wards["code"].tolist() == ["E05999901", "E05999902", "E05999903", "E05999904"]
    assert wards["name"].tolist() == ["Tiny Ward A", "Tiny Ward B", "Tiny Ward C", "Tiny Ward D"]
    assert wards["population"].sum() == 11_000

    geo = tmp_path / "wards_geo.csv"
    assert (
        main(
            [
                "deprivation-summary",
                "--imd",
                str(TINY / "file7.csv"),
                "--boundaries",
                str(TINY / "wards.geojson"),
                "--small-areas",
                str(TINY / "lsoa21.geojson"),
                "--out",
                str(geo),
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(geo, encoding="utf-8-sig"), wards)


def test_deprivation_summary_boundaries_need_small_areas(tmp_path, capsys):
    status = main(
        [
            "deprivation-summary",
            "--imd",
            str(TINY / "file7.csv"),
            "--boundaries",
            str(TINY / "wards.geojson"),
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert status == 2 and "--small-areas" in capsys.readouterr().err


DEP = Path(__file__).parent / "fixtures" / "deprivation"


def test_assign_keeps_every_column_adds_area_and_lsoa_and_needs_no_type(tmp_path):
    # A plain list of sites: no name, no type, placed by easting/northing, with blank cells.
    sites = tmp_path / "sites.csv"
    wards = gpd.read_file(TINY / "wards.geojson").to_crs(27700)
    inside = wards.geometry.iloc[0].representative_point()
    sites.write_text(
        "Site ref,Easting,Northing,Opened,Notes\n"
        f"S1,{inside.x:.0f},{inside.y:.0f},2024-05-01,\n"
        "S2,383700,398200,,far away\n",
        encoding="utf-8",
    )
    out = tmp_path / "sites_assigned.csv"
    args = ["assign", "--boundaries", str(TINY / "wards.geojson"), "--assets", str(sites)]
    assert main([*args, "--small-areas", str(TINY / "lsoa21.geojson"), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    got = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    cols = ["Site ref", "Easting", "Northing", "Opened", "Notes", "area_code", "area_name", "lsoa_code"]
    assert got.columns.tolist() == cols
    assert got.loc[0, ["area_code", "area_name"]].tolist() == [wards["WD24CD"].iloc[0], wards["WD24NM"].iloc[0]]
    assert got.loc[0, "lsoa_code"].startswith("E01") and got.loc[0, "Opened"] == "2024-05-01"
    assert got.loc[1, ["area_code", "area_name", "lsoa_code", "Opened"]].tolist() == ["", "", "", ""]
    assert "nan" not in text and "NaT" not in text and "<NA>" not in text


def test_deprivation_summary_by_lad_from_a_lookup_when_the_file_has_no_authority(tmp_path, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    # A short-layout IoD2025 file (no local authority column) and an XLSX lookup shaped like ONS's.
    book = openpyxl.Workbook()
    book.active.append(["LSOA21CD", "LSOA21NM", "LAD22CD", "LAD22NM"])
    for code in ("E01005061", "E01005063", "E01033900", "E01034001"):
        book.active.append([code, "", "E08000903", "Fixtureton"])
    book.active.append(["E01035500", "", "E08000904", "Otherton"])
    book.save(tmp_path / "lsoa_lad.xlsx")
    base = ["deprivation-summary", "--imd", str(DEP / "iod2025_short_layout.csv")]
    base += ["--population", str(DEP / "iod2025_file6.csv"), "--by", "lad"]
    out = tmp_path / "lad.csv"
    assert main([*base, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "iod2025_short_layout.csv has no local authority column, so --by lad needs --lookup F" in err
    assert not out.exists()
    assert main([*base, "--lookup", str(tmp_path / "lsoa_lad.xlsx"), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    table = pd.read_csv(out, encoding="utf-8-sig")
    # Otherton's one LSOA has no population in the File 6: left out, and said so, not summarised wrongly.
    assert table["code"].tolist() == ["E08000903"] and table["name"].tolist() == ["Fixtureton"]
    assert table["population"].iloc[0] == 1850 + 2143 + 1500 + 1750 and table["n_lsoas"].iloc[0] == 4
    assert "1 local authorities left out" in captured.err


def test_deprivation_summary_without_population_names_the_flag(tmp_path, capsys):
    args = ["deprivation-summary", "--imd", str(DEP / "iod2025_short_layout.csv"), "--out", str(tmp_path / "x.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "iod2025_short_layout.csv has no population column" in err and "Give --population F" in err
    assert "population=" not in err


def test_assign_csv_and_geojson(tmp_path):
    out = tmp_path / "assigned.csv"
    assert (
        main(
            [
                "assign",
                "--boundaries",
                str(TINY / "wards.geojson"),
                "--assets",
                str(TINY / "assets.csv"),
                "--postcodes",
                str(TINY / "postcodes.csv"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    got = pd.read_csv(out, encoding="utf-8-sig").set_index("asset_id")
    assert got.loc["T1", "area_code"] == "E05999901" and got.loc["T2", "area_name"] == "Tiny Ward B"
    assert got.loc["T3", "area_code"] == "E05999903"
    gj = tmp_path / "assigned.geojson"
    assert (
        main(
            [
                "assign",
                "--boundaries",
                str(TINY / "wards.geojson"),
                "--assets",
                str(TINY / "assets.csv"),
                "--postcodes",
                str(TINY / "postcodes.csv"),
                "--out",
                str(gj),
            ]
        )
        == 0
    )
    back = gpd.read_file(gj)
    assert back.crs.to_epsg() == 4326 and len(back) == 5 and "area_code" in back.columns


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "assetmap.cli", "--help"], capture_output=True, text=True, check=True)
    assert "init-area" in proc.stdout and "deprivation-summary" in proc.stdout


# -- gaps and suggest --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".gpkg"])
def test_gaps_writes_every_format_with_its_method_note(tmp_path, capsys, suffix):
    out = tmp_path / f"gaps{suffix}"
    assert main(["gaps", "--pillar", "Strengthening", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "access by network distance, within 800 m" in printed
    if suffix == ".csv":
        table = pd.read_csv(out, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        table = pd.read_excel(out)
    else:
        table = gpd.read_file(out)
        assert table.crs is not None
    assert set(table["group"]) == {"strengthening"}
    assert len(table) == 17 + 1  # the demo's wards and the whole borough
    assert sorted(table["gap_rank"].dropna().astype(int)) == list(range(1, 18))
    note = (tmp_path / "gaps.method.md").read_text(encoding="utf-8")
    assert "How these figures were made" in note and "800 m" in note


def test_gaps_by_lsoa_straight_line_one_element(tmp_path, capsys):
    out = tmp_path / "lsoa.csv"
    assert (
        main(["gaps", "--element", "6", "--by", "lsoa", "--threshold", "400", "--straight-line", "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert set(table["access_method"]) == {"straight-line"}
    assert (table["threshold_m"] == 400).all()
    assert table.loc[~table["whole_area"], "code"].str.startswith("E01").all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--element", "12"], "Elements are numbered 1 to 11"),
        (["--pillar", "growing"], "Choose one of Scaling"),
        (["--threshold", "-5"], "metres"),
    ],
)
def test_gaps_bad_input_is_an_error_line(tmp_path, capsys, args, message):
    out = tmp_path / "gaps.csv"
    assert main(["gaps", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err
    assert not out.exists()


@pytest.mark.parametrize(("combine", "key"), [(None, "scaling&strengthening"), ("any", "scaling|strengthening")])
def test_gaps_of_several_pillars_combined(tmp_path, capsys, demo, combine, key):
    out = tmp_path / "both.csv"
    extra = ["--combine", combine] if combine else []
    assert main(["gaps", "--pillar", "Strengthening", "--pillar", "scaling", *extra, "--out", str(out)]) == 0
    assert f"  {key}: largest gap" in capsys.readouterr().out
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert set(table["group"]) == {key}
    expected = demo.gaps(groups=[key]).table
    assert table["access_share"].tolist() == pytest.approx(expected["access_share"].tolist())
    note = (tmp_path / "both.method.md").read_text(encoding="utf-8")
    assert "Groups combined" in note


def test_suggest_takes_several_groups(tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert main(["suggest", "--element", "6", "--pillar", "scaling", "--k", "2", "--out", str(out)]) == 0
    assert set(pd.read_csv(out, encoding="utf-8-sig")["group"]) == {"e6&scaling"}
    assert main(["suggest", "--element", "6", "--element", "x", "--out", str(out)]) == 2
    assert "element 'x' does not exist" in capsys.readouterr().err


def test_gaps_unknown_output_format(tmp_path, capsys):
    assert main(["gaps", "--out", str(tmp_path / "gaps.docx")]) == 2
    assert "Use .csv, .xlsx, .geojson or .gpkg" in capsys.readouterr().err


def test_suggest_sites(tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert main(["suggest", "--element", "6", "--k", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "greedy maximal-coverage heuristic" in printed
    sites = pd.read_csv(out, encoding="utf-8-sig")
    assert sites["rank"].tolist() == [1, 2, 3]
    assert sites["longitude"].between(-1, 1).all() and sites["latitude"].between(50, 53).all()
    assert (sites["newly_reached_deprived"].diff().dropna() <= 1e-9).all()


def test_suggest_needs_a_group(tmp_path, capsys):
    assert main(["suggest", "--k", "3", "--out", str(tmp_path / "s.csv")]) == 2
    assert "--element N or --pillar NAME" in capsys.readouterr().err


# -- personal data ---------------------------------------------------------------------------------

PERSON = {
    "name": "Moonlight Knitters",
    "type": "vcse_group",
    "longitude": -0.12,
    "latitude": 51.5,
    "contact_name": "Zed Quorn",
    "contact_email": "zed.quorn@example.org",
}


def _register_with_person(folder):
    """An area folder whose register holds one rejected record of PERSON, last changed two years ago."""
    from assetmap.store import open_store

    with open_store(folder) as store:
        rid = store.submit(PERSON, actor="public form")
        store.reject(rid, actor="officer", reason="not local")
        # Two years pass.
        store._run(lambda tx: tx.execute("UPDATE records SET updated_at = '2001-01-01T00:00:00.000000Z'"))
    return rid


def test_housekeeping_erases_expired_personal_details(tmp_path, capsys):
    from assetmap.store import open_store

    rid = _register_with_person(tmp_path)
    assert main(["housekeeping", "--area", str(tmp_path)]) == 0
    assert f"erased the personal details of 1 rejected or withdrawn record unchanged for over 365 days ({rid})" in (
        capsys.readouterr().out
    )
    with open_store(tmp_path) as store:
        assert store.get(rid)["contact_email"] is None
        assert store.audit(rid)["action"].iloc[-1] == "erase"
    assert main(["housekeeping", "--area", str(tmp_path)]) == 0  # nothing more to do
    assert "no rejected or withdrawn record has kept personal details" in capsys.readouterr().out


def test_housekeeping_reports_a_broken_register_or_setting(tmp_path, capsys, monkeypatch):
    from assetmap import settings

    assert main(["housekeeping", "--area", str(tmp_path / "nowhere")]) == 2
    assert "no such area folder" in capsys.readouterr().err
    assert main(["housekeeping", "--area", str(tmp_path)]) == 0  # no register yet: none is made
    assert not (tmp_path / "register.sqlite").exists()
    (tmp_path / "register.sqlite").write_bytes(b"not a database")
    assert main(["housekeeping", "--area", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "register cannot be read" in err and "Traceback" not in err
    monkeypatch.setattr(settings, "personal_data_retention_days", "a year")
    (tmp_path / "register.sqlite").unlink()
    _register_with_person(tmp_path)
    assert main(["housekeeping", "--area", str(tmp_path)]) == 2
    assert "ASSETMAP_PERSONAL_DATA_RETENTION_DAYS" in capsys.readouterr().err


def test_personal_data_export_and_erasure(tmp_path, capsys):
    import json

    from assetmap.store import open_store

    rid = _register_with_person(tmp_path)
    out = tmp_path / "zed.json"
    area = ["--area", str(tmp_path)]
    status = main(["personal-data", *area, "--email", "ZED.quorn@example.org", "--out", str(out), "--reason", "r 17"])
    assert status == 0 and "Wrote 1 records and 2 audit rows" in capsys.readouterr().out
    held = json.loads(out.read_text(encoding="utf-8"))
    assert [r["contact_name"] for r in held["records"]] == ["Zed Quorn"]
    assert [a["action"] for a in held["audit"]] == ["submit", "reject"]
    with open_store(tmp_path) as store:
        last = store.audit(rid).iloc[-1]
    assert (last["action"], last["actor"]) == ("subject access", "command line")

    assert main(["personal-data", "--area", str(tmp_path), "--email", "z@example.org", "--out", "x.csv"]) == 2
    assert "ending .json" in capsys.readouterr().err

    assert main(["erase-personal", "--area", str(tmp_path), rid, "--reason", "request 18"]) == 0
    assert f"{rid}: erased contact_name, contact_email" in capsys.readouterr().out
    with open_store(tmp_path) as store:
        assert store.get(rid)["contact_name"] is None
        assert "zed.quorn" not in json.dumps(store.audit().to_dict("records"), default=str)
    assert main(["erase-personal", "--area", str(tmp_path), "R-NO-SUCH", "--reason", "request 19"]) == 2
    assert "error: no record with id R-NO-SUCH" in capsys.readouterr().err
    assert main(["erase-personal", "--area", str(tmp_path / "none"), rid, "--reason", "x"]) == 2
    assert "no such area folder" in capsys.readouterr().err
