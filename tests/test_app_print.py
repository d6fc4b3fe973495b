"""The Print page, run headless with streamlit.testing: preview, download of one ward, a ward pack."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
from conftest import make_tiny_area
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.ui import common

pypdf = pytest.importorskip("pypdf")

TIMEOUT_S = 120

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def _print_page() -> None:
    from assetmap.ui.pages import print_page

    print_page.page()


def _record_downloads(monkeypatch) -> dict[str, Callable[[], bytes]]:
    """Keep what each download button would serve, by key, and still draw the buttons."""
    served: dict[str, Callable[[], bytes]] = {}
    original = st.download_button

    def download_button(label, data=None, **kwargs):
        served[kwargs["key"]] = data if callable(data) else (lambda: data)
        return original(label, data=data, **kwargs)

    monkeypatch.setattr(st, "download_button", download_button)
    return served


def _text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_demo_preview_and_ward_download(monkeypatch):
    served = _record_downloads(monkeypatch)
    demo = assetmap.load_area(settings.demo_area_path)
    code = "E05999903"
    name = demo.boundaries.set_index("code").loc[code, "name"]
    at = AppTest.from_function(_print_page, default_timeout=TIMEOUT_S)
    at.session_state[common.SELECTED_AREA_KEY] = code  # chosen on the Map or the Ward profile
    at.run()
    assert not at.exception and not at.error
    assert "Print ward maps" in at.title[0].value
    assert at.selectbox(key="print_ward").value == code
    images = at.get("image")
    assert len(images) == 1, "a preview of the map page"
    pdf = served["print_download_ward"]()
    assert pdf.startswith(b"%PDF") and f"{name} ({code})" in _text(pdf)

    # Shading by gap uses the sidebar's element or pillar; A3 portrait changes the sheet.
    at.radio(key="print_colour_by").set_value("gap").run()
    at.radio(key="print_paper").set_value("a3").run()
    at.radio(key="print_orientation").set_value("portrait").run()
    assert not at.exception and not at.error
    pdf = served["print_download_ward"]()
    # The default choice: Scaling and Strengthening together.
    assert "Gap index by LSOA, Scaling and Strengthening (both within reach)" in _text(pdf)
    width, height = (float(v) for v in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox.upper_right)
    assert round(height / 72 * 25.4) == 420 and width < height


def test_tiny_area_pack_and_zip(monkeypatch):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    monkeypatch.setattr(settings, "default_area_path", Path("tiny-area"))
    monkeypatch.setattr(assetmap, "load_area", lambda path: area, raising=False)
    served = _record_downloads(monkeypatch)
    at = AppTest.from_function(_print_page, default_timeout=TIMEOUT_S).run()
    assert not at.exception and not at.error
    assert "print_download_pack" not in served
    at.button(key="print_make_pack").click().run()
    assert not at.exception and not at.error
    pack = served["print_download_pack"]()
    text = _text(pack)
    assert "Contents" in text
    for code, name in zip(area.boundaries["code"], area.boundaries["name"], strict=True):
        assert f"{name} ({code})" in text
    assert "Private Person Alpha" not in text

    at.radio(key="print_pack_kind").set_value("zip").run()
    at.button(key="print_make_pack").click().run()
    assert not at.exception and not at.error
    import zipfile

    with zipfile.ZipFile(io.BytesIO(served["print_download_pack"]())) as zf:
        assert len(zf.namelist()) == len(area.boundaries)
