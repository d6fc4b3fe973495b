"""Shared app helpers: areas cached by the contents of their files, and Markdown-safe text."""

from __future__ import annotations

import os
import shutil

import pytest
import streamlit as st

from assetmap import settings
from assetmap.ui import common


@pytest.fixture
def area_copy(tmp_path):
    if not (settings.demo_area_path / "area.toml").is_file():
        pytest.skip("the demo area is not built")
    folder = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, folder)
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


def test_cached_area_follows_file_contents_not_times(area_copy):
    first = common.get_area(area_copy)
    assert common.get_area(area_copy) is first
    # Touching a file without changing it keeps the cached area.
    register = area_copy / "assets" / "demo_assets.csv"
    stat = register.stat()
    os.utime(register, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert common.get_area(area_copy) is first
    # Changing a layer's contents (not the manifest) loads the area again.
    lines = register.read_text(encoding="utf-8").splitlines(keepends=True)
    register.write_text("".join(lines[:-1]), encoding="utf-8")
    second = common.get_area(area_copy)
    assert second is not first
    assert len(second.assets) == len(first.assets) - 1


def test_database_side_files_do_not_change_the_fingerprint(area_copy):
    before = common.area_fingerprint(area_copy)
    (area_copy / "register.sqlite-wal").write_bytes(b"in use")
    assert common.area_fingerprint(area_copy) == before
    assert common.area_fingerprint(area_copy / "nowhere") is None


@pytest.mark.parametrize(
    "text",
    ["<script>alert(1)</script>", "[link](javascript:alert(1))", "**bold** _it_ `code` $x$ :smile:", "a\\b # c"],
)
def test_md_text_escapes_every_markdown_mark(text):
    import re

    escaped = common.md_text(text)
    # Every punctuation mark is preceded by a backslash, and removing them gives the text back.
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    assert not re.search(r"(?<!\\)[<>\[\]()*_`$:#]", escaped.replace("\\\\", ""))


def test_launcher_warms_the_area_the_app_opens_on(area_copy, monkeypatch):
    import assetmap
    from assetmap.ui import launch

    launch.warm(str(area_copy))
    area = common.get_area(area_copy)
    assert "walk_graph" in area._cache  # access was measured before any visitor

    def no_loading(path):
        raise AssertionError("the area was loaded again")

    monkeypatch.setattr(assetmap, "load_area", no_loading)
    assert common.get_area(area_copy) is area
