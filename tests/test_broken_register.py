"""A register that cannot be used: damaged, read-only, or an unreachable PostgreSQL server.

The public form keeps what was typed and says only that it could not be saved;
once the register works again the same entry goes in, once. Public pages say the
register cannot be read, without naming a file or server; officer pages and the
command line name the file or server and the fix. Never a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from htmlread import page_text
from officers import copy_demo_area, with_officer
from streamlit.testing.v1 import AppTest

from assetmap import cli, settings
from assetmap.store import REGISTER_FILE, open_store
from assetmap.ui import common
from assetmap.ui.pages import add_group

TIMEOUT_S = 120
#: A PostgreSQL address where nothing listens.
UNREACHABLE = "postgresql://assetmap:secret@127.0.0.1:9/assetmap"

BREAKAGES = ["damaged", "read_only", "unreachable_server"]
#: A read-only register can still be read: pages, info and serve work with it.
UNREADABLE = ["damaged", "unreachable_server"]


def _immutable(path: Path, on: bool) -> None:
    # The tests run as root, whom file modes do not stop: the immutable flag does.
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)


@pytest.fixture
def broken(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A copy of the demo area on show whose register is broken as the test's parameter says.

    Yields what the failure names (``where``) and ``repair``, which mends it.
    """
    folder = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", folder)
    register = folder / REGISTER_FILE
    kind = request.param
    locked: list[Path] = []
    if kind == "damaged":
        register.write_bytes(b"this is not a database, only text " * 8)
        where = str(register)

        def repair() -> None:
            register.unlink()

    elif kind == "read_only":
        if shutil.which("chattr") is None:
            pytest.skip("chattr is not installed")
        with open_store(folder) as store:
            store.counts()
        locked[:] = sorted(folder.glob(f"{REGISTER_FILE}*"))
        try:
            for path in locked:
                _immutable(path, True)
        except subprocess.CalledProcessError:
            pytest.skip("this file system cannot mark files immutable")
        where = str(register)

        def repair() -> None:
            for path in locked:
                _immutable(path, False)

    else:
        monkeypatch.setattr(settings, "register_url", UNREACHABLE)
        where = "127.0.0.1:9"

        def repair() -> None:
            monkeypatch.setattr(settings, "register_url", None)

    st.cache_resource.clear()
    try:
        yield {"kind": kind, "folder": folder, "where": where, "repair": repair}
    finally:
        for path in locked:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        st.cache_resource.clear()


def _page(name: str) -> None:
    import importlib

    importlib.import_module(f"assetmap.ui.pages.{name}").page()


@pytest.mark.parametrize("broken", BREAKAGES, indirect=True)
def test_the_public_form_keeps_the_entry_and_saves_it_once_the_register_works(broken: dict) -> None:
    at = AppTest.from_function(_page, args=("add_group",), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    at.text_input(key="add_name").input("Patient Knitters")
    at.selectbox(key="add_type").set_value("vcse_group")
    at.text_input(key="add_postcode").input("EB1 1AB")
    at.text_input(key="add_contact_email").input("knitters@example.org")
    at.checkbox(key="add_consent").check()
    at = at.button(key="add_send").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [add_group.SAVE_FAILED]
    # The visitor learns nothing of the server; the entry is still on the page.
    assert broken["where"] not in page_text(at) and "register.sqlite" not in page_text(at)
    assert at.text_input(key="add_name").value == "Patient Knitters"
    # Mended, the same press of Send stores it, once.
    broken["repair"]()
    at = at.button(key="add_send").click().run()
    assert not at.exception and not at.error
    assert "Patient Knitters" in at.success[0].value
    with open_store(settings.register_url or broken["folder"]) as store:
        assert store.records(status="pending", public=False)["name"].tolist() == ["Patient Knitters"]


@pytest.mark.parametrize("broken", UNREADABLE, indirect=True)
def test_public_pages_say_the_register_is_unreadable_without_naming_it(broken: dict) -> None:
    at = AppTest.from_function(_page, args=("map",), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert [e.value for e in at.error] == [common.REGISTER_DOWN]
    assert broken["where"] not in page_text(at)


@pytest.mark.parametrize("broken", UNREADABLE, indirect=True)
def test_checking_a_submission_says_try_later_without_naming_the_register(broken: dict) -> None:
    from assetmap.ui.pages import check_submission

    at = AppTest.from_function(_page, args=("check_submission",), default_timeout=TIMEOUT_S).run()
    at.text_input(key="check_reference").input("ACDE-FGHJ")
    at.text_input(key="check_email").input("lead@example.org")
    at = at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [check_submission.UNAVAILABLE]
    assert broken["where"] not in page_text(at)


@pytest.mark.parametrize("broken", UNREADABLE, indirect=True)
def test_officer_pages_name_the_file_or_server(broken: dict) -> None:
    at = with_officer(AppTest.from_function(_page, args=("moderate",), default_timeout=TIMEOUT_S)).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert broken["where"] in errors, errors


@pytest.mark.parametrize("broken", UNREADABLE, indirect=True)
@pytest.mark.parametrize("command", ["info", "serve"])
def test_info_and_serve_end_in_one_line_naming_the_file_or_server(
    broken: dict, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["info", str(broken["folder"])] if command == "info" else ["serve", "--area", str(broken["folder"])]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert broken["where"] in err and "Traceback" not in err
