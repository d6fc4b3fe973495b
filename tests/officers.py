"""Test helpers for officer pages: a copy of the demo area to write a register into, and signing in.

Tests sign in the way an officer does, through the form, with an account whose
hash sits in a temporary secrets file (or in ``AppTest.secrets``): there is no
other way in.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assetmap import auth, settings

OFFICER = "test.officer"
PASSWORD = "a long test password 1234"

# Hashing is deliberately slow: one hash for the whole test session.
_HASH: dict[str, str] = {}


def officer_hash() -> str:
    """Return the stored hash of the test officer's password (made once)."""
    if "hash" not in _HASH:
        _HASH["hash"] = auth.hash_password(PASSWORD)
    return _HASH["hash"]


def write_secrets(folder: Path) -> Path:
    """Write a secrets file holding the test officer's account; return its path."""
    path = folder / "secrets.toml"
    path.write_text(f'[officers]\n"{OFFICER}" = "{officer_hash()}"\n', encoding="utf-8")
    return path


def copy_demo_area(folder: Path) -> Path:
    """Copy the demo area into ``folder`` (tests never write a register into the repository's data)."""
    demo = settings.demo_area_path
    if not (demo / "area.toml").is_file():
        pytest.skip("the demo area is not built")
    target = folder / "area"
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns("register.sqlite*"))
    return target


def with_officer(at: Any) -> Any:
    """Give an AppTest the test officer's account in its secrets; return it."""
    at.secrets["officers"] = {OFFICER: officer_hash()}
    return at


def sign_in(at: Any, password: str = PASSWORD, username: str = OFFICER) -> Any:
    """Fill the sign-in form of a refused page and press Sign in; return the AppTest after the run."""
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def browser_sign_in(page: Any, timeout_ms: float = 60_000) -> None:
    """Sign in through the form a refused officer page (or the sign-in page) shows, in a real browser."""
    from playwright.sync_api import expect

    page.get_by_label("User name", exact=True).fill(OFFICER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {OFFICER}")).to_be_visible(timeout=timeout_ms)
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_be_attached(
        timeout=timeout_ms
    )
