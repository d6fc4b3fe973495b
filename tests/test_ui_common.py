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
    # Sign-ins and limits written to the register do not reload the area either.
    from assetmap.store import open_store

    with open_store(area_copy) as store:
        store.note_event("sign_in_failure", ["user:someone"], keep_s=60)
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


def _expired_personal_record(folder):
    """Put a rejected record with a private contact, unchanged for two years, in the folder's register."""
    from assetmap.store import open_store

    with open_store(folder) as store:
        rid = store.submit(
            {
                "name": "Moonlight Knitters",
                "type": "vcse_group",
                "longitude": -0.1048,
                "latitude": 51.5537,
                "contact_name": "Zed Quorn",
                "contact_email": "zed.quorn@example.org",
            },
            actor="public form",
        )
        store.reject(rid, actor="officer", reason="not local")
        store._run(lambda tx: tx.execute("UPDATE records SET updated_at = '2001-01-01T00:00:00.000000Z'"))
    return rid


def test_launcher_erases_expired_personal_details_before_the_first_visitor(area_copy):
    from assetmap.store import open_store
    from assetmap.ui import launch

    rid = _expired_personal_record(area_copy)
    launch.warm(str(area_copy))
    with open_store(area_copy) as store:
        assert store.get(rid)["contact_email"] is None
        assert store.audit(rid)["action"].iloc[-1] == "erase"


def test_launcher_starts_whatever_is_wrong_with_the_register(tmp_path, monkeypatch, capsys):
    from assetmap.ui import launch

    assert "no register yet" in launch.housekeeping(str(tmp_path))
    assert not (tmp_path / "register.sqlite").exists()  # none is made for housekeeping
    (tmp_path / "register.sqlite").write_bytes(b"not a database")
    message = launch.housekeeping(str(tmp_path))
    assert "could not run" in message and "register cannot be read" in message
    assert message in capsys.readouterr().err
    (tmp_path / "register.sqlite").unlink()
    _expired_personal_record(tmp_path)
    monkeypatch.setattr(settings, "personal_data_retention_days", "a year")
    assert "ASSETMAP_PERSONAL_DATA_RETENTION_DAYS" in launch.housekeeping(str(tmp_path))
