"""The public Check a submission page, run headless with streamlit.testing on a copy of the demo area."""

from __future__ import annotations

from pathlib import Path

import pytest
from officers import copy_demo_area
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.store import open_store
from assetmap.ui.pages import check_submission

TIMEOUT_S = 120
EMAIL = "lead@example.org"


def _check_page() -> None:
    from assetmap.ui.pages import check_submission

    check_submission.page()


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", folder)
    return folder


def _submit(folder: Path, name: str = "Eastbrook Walking Group") -> tuple[str, str]:
    """Send a group as the public form does; return its id and the reference its sender was given."""
    with open_store(folder) as store:
        rid = store.submit(
            {"name": name, "type": "vcse_group", "latitude": 51.5537, "longitude": -0.1048, "contact_email": EMAIL},
            actor="public form",
        )
        return rid, store.references([rid])[rid]


def _check(reference: str, email: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_function(_check_page, default_timeout=TIMEOUT_S).run()
    at.text_input(key="check_reference").input(reference)
    at.text_input(key="check_email").input(email)
    at = at.button[0].click().run()
    assert not at.exception
    return at


def _said(at: AppTest) -> str:
    return "\n".join(m.value.replace("\\", "") for kind in (at.success, at.info, at.warning, at.error) for m in kind)


def test_a_pending_entry_is_shown_with_what_happens_next(area: Path) -> None:
    _, reference = _submit(area)
    at = _check(reference.lower().replace("-", " "), " Lead@Example.org ")
    said = _said(at)
    assert f"Eastbrook Walking Group** (reference {reference})" in said
    assert "Status:** Waiting to be checked. An officer checks every entry" in said
    assert "usually within 10 working days" in said


def test_a_rejected_entry_shows_the_officers_reason_escaped(area: Path) -> None:
    rid, reference = _submit(area)
    with open_store(area) as store:
        store.reject(rid, actor="officer", reason="No such group meets at **this** address <b>.")
    at = _check(reference, EMAIL)
    shown = at.warning[0].value
    assert "**The officer's reason:** No such group meets at \\*\\*this\\*\\* address \\<b\\>\\." in shown
    assert "Status:** Not approved." in _said(at)


def test_a_wrong_reference_and_a_wrong_email_get_the_same_answer(area: Path) -> None:
    rid, reference = _submit(area)
    wrong_email = _said(_check(reference, "someone.else@example.org"))
    wrong_reference = _said(_check("ACDE-FGHJ", EMAIL))
    assert wrong_email == wrong_reference == check_submission.NOT_FOUND
    assert "Eastbrook" not in wrong_email and rid not in wrong_email


def test_an_entry_from_before_short_references_is_found_by_its_old_reference(area: Path) -> None:
    rid, _ = _submit(area)
    with open_store(area) as store:
        store._run(lambda tx: tx.execute("UPDATE records SET reference = NULL WHERE id = ?", (rid,)))
    assert f"(reference {rid})" in _said(_check(rid, EMAIL))


def test_blank_fields_are_named(area: Path) -> None:
    assert _said(_check("", "")) == "Reference and Your email are blank. Fill both in and press Check."
    assert _said(_check("ACDE-FGHJ", "")) == "Your email is blank. Fill it in and press Check."


def test_look_ups_are_throttled_before_the_look_up_and_a_new_session_does_not_reset_it(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_submission_checks", 2)
    _, reference = _submit(area)
    at = _check("ACDE-FGHJ", EMAIL)
    at = _check("ACDE-FGHK", EMAIL, at)
    # The right pair, a third time: refused before the register is asked, so it tells nothing.
    said = _said(_check(reference, EMAIL, at))
    assert said.startswith("You have checked 2 times in the last 10 minutes. Please wait about 10 minutes")
    assert "Eastbrook" not in said
    # A fresh session (a reload, a new tab) is still held back.
    assert _said(_check(reference, EMAIL)).startswith("You have checked 2 times")
