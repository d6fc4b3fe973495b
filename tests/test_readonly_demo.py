"""The built-in demo area as installed, read-only: loading, printing, submitting and serving write nothing inside it.

The demo ships as package data (``assetmap/datasets/eastbrook``), which may sit in a
read-only site-packages. These tests copy it, make the copy read-only, take it as the
demo area and check, file by file, that nothing inside it was written: its register
and prepared street network go to ``settings.cache_dir``. (Run as root, a read-only
folder can still be written, so the comparison is what holds the rule.)
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, serve_app

from assetmap import cli, settings
from assetmap._errors import AreaError
from assetmap.area.register import has_register, is_demo_area, open_area_register, register_file
from assetmap.datasets import DATASETS, get_path
from assetmap.render import webmap
from assetmap.store import REGISTER_FILE

WARD = "E05999901"  # a demo ward


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under ``root``: size, modification time and contents."""
    found = {}
    for path in sorted([root, *root.rglob("*")]):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        found[path.relative_to(root).as_posix()] = (info.st_size, info.st_mtime_ns, digest)
    return found


def _set_writable(root: Path, writable: bool) -> None:
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~write)


@pytest.fixture
def readonly_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A read-only copy of the shipped demo area, taken as the demo area (and the area on show)."""
    folder = tmp_path / "site-packages" / "assetmap" / "datasets" / "eastbrook"
    shutil.copytree(get_path("eastbrook"), folder)
    monkeypatch.setattr(settings, "demo_area_path", folder)
    monkeypatch.setattr(settings, "default_area_path", folder)
    _set_writable(folder, writable=False)
    before = _snapshot(folder)
    yield folder
    after = _snapshot(folder)
    _set_writable(folder, writable=True)
    assert after == before, "files inside the read-only demo area were written"


def test_get_path_finds_the_shipped_demo_area():
    folder = get_path()
    assert folder == get_path("eastbrook") == settings.demo_area_path
    assert (folder / "area.toml").is_file()
    assert "eastbrook" in DATASETS


def test_get_path_names_the_datasets_for_an_unknown_name():
    with pytest.raises(ValueError, match="eastbrook") as caught:
        get_path("westbrook")
    assert "'westbrook'" in str(caught.value)


def test_the_demo_register_lives_in_the_cache_and_other_areas_keep_theirs(tmp_path: Path):
    assert is_demo_area(settings.demo_area_path)
    assert register_file(settings.demo_area_path) == settings.cache_dir / "demo" / REGISTER_FILE
    assert not is_demo_area(tmp_path)
    assert register_file(tmp_path) == tmp_path / REGISTER_FILE  # an area of one's own: unchanged


def test_info_and_print_write_nothing_inside_the_demo(readonly_demo: Path, tmp_path: Path, capsys):
    from pypdf import PdfReader

    assert cli.main(["info", str(readonly_demo)]) == 0
    assert "Eastbrook" in capsys.readouterr().out
    out = tmp_path / "ward.pdf"
    assert cli.main(["print", "--area", str(readonly_demo), "--ward", WARD, "--out", str(out)]) == 0
    assert len(PdfReader(out).pages) > 0


def test_a_submission_to_the_demo_goes_to_the_cache(readonly_demo: Path, fresh_streamlit_caches):
    from streamlit.testing.v1 import AppTest

    def add_page() -> None:
        from assetmap.ui.pages import add_group

        add_group.page()

    assert not has_register(readonly_demo)
    at = AppTest.from_function(add_page, default_timeout=120).run()
    at.text_input(key="add_name").input("Eastbrook Readers")
    at.text_input(key="add_postcode").input("EB1 1AB")
    at.text_input(key="add_contact_email").input("lead@example.org")
    at.selectbox(key="add_type").set_value("vcse_group")
    at.checkbox(key="add_consent").check()
    at = at.button(key="add_send").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert has_register(readonly_demo)
    assert register_file(readonly_demo).is_file()
    assert settings.cache_dir in register_file(readonly_demo).parents
    with open_area_register(readonly_demo) as store:
        names = list(store.records(public=False)["name"])
    assert names == ["Eastbrook Readers"]


def test_commands_that_add_layers_refuse_the_demo(readonly_demo: Path, tmp_path: Path, capsys):
    from assetmap.area.sources import build_network, import_grants_to_area

    with pytest.raises(AreaError, match="read-only"):
        build_network(readonly_demo, network=readonly_demo / "streets" / "demo_streets.osm")
    grants = tmp_path / "grants.csv"
    grants.write_text("Identifier,Title\n", encoding="utf-8")
    with pytest.raises(AreaError, match="read-only"):
        import_grants_to_area(readonly_demo, grants)


def test_the_app_serves_the_read_only_demo_and_its_map_scripts(readonly_demo: Path, tmp_path: Path):
    # The server is a process of its own: the copy is its area on show, loaded while it starts.
    with serve_app(REPO / "assetmap" / "ui" / "webapp" / "app.py", readonly_demo, tmp_path) as base:
        with urllib.request.urlopen(f"{base}/", timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        # Streamlit serves ui/webapp/static/ (beside the app's script) at /app/static/, where the maps ask for it.
        for lib in webmap.MAP_JS + webmap.MAP_CSS + webmap.CLUSTER_JS:
            with urllib.request.urlopen(f"{base}/app/static/{lib.path}", timeout=30) as script:
                assert script.status == 200 and len(script.read()) > 500, lib.path
