"""An area whose boundaries are localities says so everywhere: pages, printed maps, the gap table and its note."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.area.load import load_area
from assetmap.area.units import UnitLabel
from assetmap.cli import main

pypdf = pytest.importorskip("pypdf")

TINY = Path(__file__).parent / "fixtures" / "tiny"
TIMEOUT_S = 120

#: The word the localities area must never show for its units.
WARD = re.compile(r"\bwards?\b", re.IGNORECASE)

#: A locality whose name is its code: named once, never "E05999904 (E05999904)".
SAME = "E05999904"

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture(scope="module")
def localities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An area made with ``init-area --boundary-label Localities`` from the tiny files, "ward" taken out of them."""
    src = tmp_path_factory.mktemp("localities-src")
    for f in TINY.iterdir():
        text = f.read_text(encoding="utf-8").replace("Tiny Ward", "Tiny Locality").replace("Ward B", "Hill B")
        text = text.replace('"WD24NM": "Tiny Locality D"', f'"WD24NM": "{SAME}"')
        (src / f.name.replace("wards", "localities")).write_text(text, encoding="utf-8")
    folder = tmp_path_factory.mktemp("areas") / "localities"
    status = main(
        [
            "init-area",
            str(folder),
            "--boundaries",
            str(src / "localities.geojson"),
            "--small-areas",
            str(src / "lsoa21.geojson"),
            "--imd",
            str(src / "file7.csv"),
            "--lookup",
            str(src / "lookup.csv"),
            "--postcodes",
            str(src / "postcodes.csv"),
            "--assets",
            str(src / "assets.csv"),
            "--name",
            "Tinyton",
            "--boundary-label",
            "Localities",
        ]
    )
    assert status == 0
    return folder


def _texts(at: AppTest) -> str:
    """Return everything the page shows, as text: every element's message, tables included."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        out.append(" ".join(map(str, frame.value.columns)))
        out.append(frame.value.to_string())
    return "\n".join(out)


def _page(name: str) -> None:
    import importlib

    importlib.import_module(f"assetmap.ui.pages.{name}").page()


def _run(monkeypatch: pytest.MonkeyPatch, folder: Path, name: str) -> AppTest:
    monkeypatch.setattr(settings, "default_area_path", folder)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_function(_page, default_timeout=TIMEOUT_S, kwargs={"name": name}).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_the_label_is_kept_in_the_manifest_and_loaded(localities: Path):
    manifest = (localities / "area.toml").read_text(encoding="utf-8")
    assert 'boundary_label = "Localities"' in manifest and 'boundary_label_singular = "Locality"' in manifest
    assert load_area(localities).unit_label == UnitLabel("Localities", "Locality")
    assert load_area(settings.demo_area_path).unit_label == UnitLabel("Wards", "Ward")


def test_a_blank_label_is_refused_before_any_work(tmp_path: Path, capsys):
    args = ["init-area", str(tmp_path / "x"), "--boundaries", "a", "--small-areas", "b", "--imd", "c"]
    assert main([*args, "--boundary-label", "  "]) == 2
    assert "--boundary-label is blank" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("page", ["map", "gaps", "ward"])
def test_pages_say_locality_never_ward(localities: Path, monkeypatch: pytest.MonkeyPatch, page: str):
    text = _texts(_run(monkeypatch, localities, page))
    assert not WARD.findall(text), sorted({m.group(0) for m in WARD.finditer(text)})
    assert re.search(r"\bLocalit(y|ies)\b", text)
    assert f"{SAME} ({SAME})" not in text


def test_ward_profile_of_the_demo_still_says_ward(monkeypatch: pytest.MonkeyPatch):
    at = _run(monkeypatch, settings.demo_area_path, "ward")
    assert "ward profile" in at.title[0].value
    assert any(s.label == "Ward" for s in at.selectbox)


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_printed_pack_says_locality(localities: Path, tmp_path: Path, capsys):
    out = tmp_path / "pack.pdf"
    assert main(["print", "--area", str(localities), "--all", "--out", str(out)]) == 0
    assert not WARD.findall(capsys.readouterr().out)
    text = _pdf_text(out)
    assert not WARD.findall(text), sorted({m.group(0) for m in WARD.finditer(text)})
    assert "Locality facts" in text and "Locality pack" in text
    assert f"{SAME} ({SAME})" not in text
    one = tmp_path / "one.pdf"
    assert main(["print", "--area", str(localities), "--ward", "tiny locality a", "--out", str(one)]) == 0
    assert "Tiny Locality A (E05999901)" in _pdf_text(one)


def test_print_of_an_unknown_locality_says_locality(localities: Path, tmp_path: Path, capsys):
    assert main(["print", "--area", str(localities), "--ward", "Nowhere", "--out", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "no locality with code or name 'Nowhere'" in err
    assert not WARD.findall(err.replace("--ward", ""))


def test_demo_print_still_says_ward(tmp_path: Path):
    out = tmp_path / "demo.pdf"
    assert main(["print", "--area", str(settings.demo_area_path), "--ward", "E05999901", "--out", str(out)]) == 0
    assert "Ward facts" in _pdf_text(out)


def test_gap_table_and_method_note_say_locality(localities: Path, tmp_path: Path, capsys):
    out = tmp_path / "gaps.csv"
    assert main(["gaps", "--area", str(localities), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    note = out.with_name("gaps.method.md").read_text(encoding="utf-8")
    for text in (printed, out.read_text(encoding="utf-8-sig"), note):
        assert not WARD.findall(text), text
    assert "localities" in printed and "Localities are ranked" in note


def test_the_moderate_page_names_the_record_s_unit_by_the_label():
    from assetmap.ui.pages import moderate

    record = {"name": "Hall", "type": "community_centre", "elements": (4,), "sensitive": False}
    record["area_code"] = "E05000001"
    fields = moderate._details(record, UnitLabel("Localities", "Locality"))["Field"].tolist()
    assert "Locality code" in fields and not any("Ward" in f for f in fields)
    assert "Ward code" in moderate._details(record, UnitLabel())["Field"].tolist()
