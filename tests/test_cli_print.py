"""``assetmap print``: one ward, a ward pack and a zip, and clear errors."""

from __future__ import annotations

import io
import zipfile

import pytest

from assetmap import settings
from assetmap.cli import main

pypdf = pytest.importorskip("pypdf")

DEMO = str(settings.demo_area_path)
WARD = "E05999901"


def _text(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_print_one_ward_in_portrait_by_gap(tmp_path, capsys):
    out = tmp_path / "ward.pdf"
    status = main(
        [
            "print",
            "--area",
            DEMO,
            "--ward",
            WARD,
            "--orientation",
            "portrait",
            "--colour-by",
            "gap",
            "--pillar",
            "Involving",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    pages = _text(out.read_bytes())
    assert f"({WARD})" in pages[0] and "Gap index by LSOA, Pillar: Involving" in pages[0]
    width, height = (float(v) for v in pypdf.PdfReader(out).pages[0].mediabox.upper_right)
    assert width < height


def test_print_pack_of_chosen_wards_with_progress_and_zip(tmp_path, capsys):
    out = tmp_path / "pack.pdf"
    assert main(["print", "--area", DEMO, "--all", "--ward", WARD, "--ward", "E05999902", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/2]" in printed and "[2/2]" in printed
    pages = _text(out.read_bytes())
    assert "Contents" in pages[0] and WARD in pages[0] and "E05999902" in pages[0]
    zipped = tmp_path / "pack.zip"
    assert main(["print", "--area", DEMO, "--all", "--ward", WARD, "--out", str(zipped)]) == 0
    with zipfile.ZipFile(zipped) as zf:
        assert [n for n in zf.namelist() if n.endswith(".pdf")] == zf.namelist() and len(zf.namelist()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ward", WARD, "--out", "x.png"], "Use .pdf"),
        (["--ward", WARD, "--out", "x.zip"], "add --all"),
        (["--out", "x.pdf"], "needs --ward CODE"),
        (["--ward", WARD, "--colour-by", "gap", "--out", "x.pdf"], "needs --element N or --pillar NAME"),
        (["--ward", "E05000000", "--out", "x.pdf"], "no ward with code"),
        (["--ward", "brook", "--out", "x.pdf"], "--ward 'brook': 3 wards have a name with 'brook' in it"),
        (["--ward", "wren field", "--out", "x.pdf"], "--ward 'wren field': no ward with code or name"),
        (["--all", "--ward", "Ashgrove", "--ward", "Nowhere", "--out", "x.pdf"], "--ward 'Nowhere'"),
        (["--ward", WARD, "--element", "12", "--colour-by", "gap", "--out", "x.pdf"], "does not exist"),
    ],
)
def test_print_bad_input_is_an_error_line(tmp_path, capsys, args, message):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    assert main(["print", "--area", DEMO, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err
    assert not list(tmp_path.iterdir())


def test_print_takes_a_ward_name_in_any_case_and_spacing(tmp_path, capsys):
    out = tmp_path / "ward.pdf"
    assert main(["print", "--area", DEMO, "--ward", "  eastbrook   CENTRAL ", "--out", str(out)]) == 0
    assert "Eastbrook Central (E05999905)" in capsys.readouterr().out
    assert "(E05999905)" in _text(out.read_bytes())[0]
    pack = tmp_path / "pack.pdf"
    assert (
        main(["print", "--area", DEMO, "--all", "--ward", "e05999902", "--ward", "Ropewalk", "--out", str(pack)]) == 0
    )
    contents = _text(pack.read_bytes())[0]
    assert "E05999902" in contents and "E05999914" in contents and "E05999901" not in contents


def test_a_ward_name_close_to_the_text_is_suggested(tmp_path, capsys):
    assert main(["print", "--area", DEMO, "--ward", "wren field", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "Did you mean: Wrenfield (E05999917)?" in capsys.readouterr().err
