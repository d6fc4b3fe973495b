"""The Streamlit app, run headless with streamlit.testing (no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, make_tiny_area
from htmlread import map_twin
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.render import webmap
from assetmap.ui import common

APP = REPO / "assetmap" / "ui" / "webapp" / "app.py"
DEMO = settings.demo_area_path
TIMEOUT_S = 60

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)


def _texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "title", "subheader") for e in getattr(at, kind)]


@pytest.fixture
def tiny_app(monkeypatch) -> AppTest:
    """The app showing the tiny synthetic area, whatever ASSETMAP_AREA says."""
    loaded: list[str] = []

    def load_area(path):
        loaded.append(str(path))
        return make_tiny_area()

    monkeypatch.setattr(settings, "default_area_path", Path("tiny-area"))
    monkeypatch.setattr(assetmap, "load_area", load_area, raising=False)
    at = _app()
    at.loaded = loaded  # type: ignore[attr-defined]
    return at


def test_map_page_shows_the_area(tiny_app):
    at = tiny_app.run()
    assert not at.exception
    assert at.loaded == ["tiny-area"]
    assert "Tinyborough" in at.title[0].value
    assert at.sidebar.subheader[0].value == "Tinyborough"
    assert any("Fictional demo data" in t for t in _texts(at))
    assert any("Tiny IoD 2025" in t for t in _texts(at))  # data editions in the sidebar
    assert not at.error


def test_shading_choice_changes_the_table_twin(tiny_app):
    at = tiny_app.run()
    before = map_twin(at)
    assert webmap.MEASURES["avg_score"].label in before.columns
    assert len(before) == 3

    at.selectbox(key="map_shade_area").set_value("population").run()
    assert not at.exception
    after = map_twin(at)
    assert "Population" in after.columns and webmap.MEASURES["avg_score"].label not in after.columns
    assert after["Population"].tolist() == sorted(after["Population"], reverse=True)


def test_pillar_choice_changes_the_counts(tiny_app):
    at = tiny_app.run()
    at.toggle(key="map_other_groups").set_value(True).run()
    assert map_twin(at)["Assets shown"].sum() == 6
    at.multiselect(key="map_pillars").set_value(["scaling"]).run()
    assert not at.exception
    assert map_twin(at)["Assets shown"].sum() == 1


def test_sensitive_assets_are_explained(tiny_app):
    at = tiny_app.run()
    at.toggle(key="map_other_groups").set_value(True).run()
    assert any("sensitive location" in i.value for i in at.info)


def test_a_missing_area_folder_is_an_error_message_not_a_crash(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "default_area_path", tmp_path / "no-such-area")
    at = _app().run()
    assert not at.exception
    # Messages are escaped Markdown; the reader sees them without the backslashes.
    assert at.error and "no-such-area: not an area folder" in re.sub(r"\\(.)", r"\1", at.error[0].value)


@pytest.mark.skipif(not (DEMO / "area.toml").is_file(), reason=f"the demo area is not built ({DEMO / 'area.toml'})")
def test_demo_area(monkeypatch):
    monkeypatch.setattr(settings, "default_area_path", DEMO)
    area = assetmap.load_area(DEMO)
    at = _app().run()
    assert not at.exception and not at.error
    assert common.md_text(area.name) in at.title[0].value
    if area.fictional:
        assert any("Fictional demo data" in t for t in _texts(at))
    assert len(map_twin(at)) == len(area.area_summary())
    at.selectbox(key="map_shade_area").set_value("share_pop_decile_1_2").run()
    assert not at.exception
    assert webmap.MEASURES["share_pop_decile_1_2"].label in map_twin(at).columns
