from pathlib import Path

import pandas as pd
import pytest

from assetmap import DataFormatError
from assetmap.io.postcodes import read_postcodes
from assetmap.record import geocode_postcodes, normalise_postcode

TINY = Path(__file__).parent / "fixtures" / "tiny"


def test_nspl_layout():
    pc = read_postcodes(TINY / "postcodes.csv")
    assert pc.attrs["layout"] == "nspl"
    assert len(pc) == 8
    assert pc.loc["TT81AA", "terminated"] and not pc.loc["TT11AA", "terminated"]
    assert pc.loc["TT11AA", "lsoa_code"] == "E01999901"


def test_codepoint_layout_eastings_northings(tmp_path):
    f = tmp_path / "cp.csv"
    f.write_text(
        "Postcode,Positional_quality_indicator,Eastings,Northings,Admin_ward_code\nM1 1AD,10,383848,398589,E05011361\n",
        encoding="utf-8",
    )
    pc = read_postcodes(f)
    assert pc.attrs["layout"] == "codepoint"
    # OS Code-Point's own WGS84 for M1 1AD is -2.244869, 53.483768.
    assert pc.loc["M11AD", "longitude"] == pytest.approx(-2.244869, abs=2e-5)
    assert pc.loc["M11AD", "latitude"] == pytest.approx(53.483768, abs=2e-5)
    assert pc.loc["M11AD", "ward_code"] == "E05011361"


def test_geocode_any_spacing_and_case():
    pc = read_postcodes(TINY / "postcodes.csv")
    hit = geocode_postcodes(pd.Series(["tt1 1aa", "TT11AA", "TT9 9ZZ", None]), pc)
    assert hit["found"].tolist() == [True, True, False, False]
    assert hit["longitude"].iloc[0] == hit["longitude"].iloc[1]


def test_no_postcode_column(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no postcode column"):
        read_postcodes(f)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("m11ae", "M1 1AE"),
        (" EC1A  1BB ", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("hello", None),
        ("12345", None),
        ("", None),
    ],
)
def test_normalise_postcode(raw, clean):
    assert normalise_postcode(raw) == clean
