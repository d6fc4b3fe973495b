"""Officer sign-in for the app: local accounts from ``st.secrets``, or the identity provider where configured.

Signed-in state lives in the browser session's ``st.session_state`` only (and,
for OpenID Connect, in Streamlit's own signed cookie). Officer pages call
:func:`require_officer` first, so a page reached by its address is refused
just as a hidden menu entry is.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from assetmap import auth, settings
from assetmap.forms import throttle_wait
from assetmap.ui import common

#: Session key of the signed-in officer's user name (local accounts).
OFFICER_KEY: str = "officer"

#: Session key of the times of failed sign-ins, for the throttle.
FAILURES_KEY: str = "_sign_in_failures"


def _secret_table(name: str) -> dict[str, Any]:
    # No secrets file at all is a normal state (no officer accounts yet), not an error.
    try:
        table = st.secrets.get(name)
    except Exception:  # Streamlit raises its own error type when no secrets file exists
        return {}
    return dict(table) if table is not None and hasattr(table, "keys") else {}


def officers() -> dict[str, str]:
    """Return the officer accounts of the secrets file (user name to password hash)."""
    return {str(k): str(v) for k, v in _secret_table(auth.OFFICERS_TABLE).items()}


def oidc_configured() -> bool:
    """Return True where an ``[auth]`` section sets up sign-in with an identity provider."""
    return bool(_secret_table("auth"))


def _oidc_officer() -> str | None:
    if not oidc_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
    except Exception:  # st.user is unavailable outside a configured server
        return None
    allowed = _secret_table("officers_oidc").get("emails", [])
    return str(email) if auth.oidc_allowed(email, list(allowed)) else None


def current_officer() -> str | None:
    """Return the signed-in officer's name (or email), or None for a member of the public."""
    name = st.session_state.get(OFFICER_KEY)
    if isinstance(name, str) and name in officers():  # an account removed from the file signs its sessions out
        return name
    return _oidc_officer()


def sign_out() -> None:
    """Sign the session out (and out of the identity provider where it signed in there)."""
    st.session_state.pop(OFFICER_KEY, None)
    if _oidc_officer() is not None:
        st.logout()


def sign_in_form(key: str = "sign_in") -> None:
    """Draw the officer sign-in form; on success remember the officer and rerun."""
    accounts = officers()
    oidc = oidc_configured()
    if not accounts and not oidc:
        st.info(
            "No officer accounts are set up yet. An administrator adds one with "
            "`assetmap add-officer USERNAME` (it writes `.streamlit/secrets.toml`).",
            icon=":material/info:",
        )
        return
    if oidc:
        st.button("Sign in with your organisation account", on_click=st.login, key=f"{key}_oidc", type="primary")
        try:
            if st.user.is_logged_in and _oidc_officer() is None:
                st.error("Your account is not on the list of officers. Ask an administrator to add it.")
        except Exception:  # st.user is unavailable outside a configured server
            pass
    if not accounts:
        return
    failures: list[float] = st.session_state.setdefault(FAILURES_KEY, [])
    with st.form(key, clear_on_submit=True):
        username = st.text_input("User name", key=f"{key}_user", autocomplete="username")
        password = st.text_input("Password", type="password", key=f"{key}_password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", icon=":material/login:")
    if not go:
        return
    wait = throttle_wait(
        failures, time.monotonic(), limit=settings.max_sign_in_failures, window_s=settings.sign_in_lockout_s
    )
    if wait > 0:
        st.error(f"Too many failed attempts. Try again in {wait / 60:.0f} minutes.", icon=":material/timer:")
        return
    if auth.check_credentials(accounts, username, password):
        st.session_state[OFFICER_KEY] = username.strip()
        failures.clear()
        st.rerun()
    failures.append(time.monotonic())
    st.error("That user name and password do not match an officer account.", icon=":material/error:")


def sidebar() -> str | None:
    """Show who is signed in, with a sign-out button, in the sidebar; return the officer, or None."""
    officer = current_officer()
    if officer is not None:
        with st.sidebar:
            st.caption(f"Signed in as {common.md_text(officer)}")
            st.button("Sign out", on_click=sign_out, icon=":material/logout:", key="sign_out")
    return officer


def require_officer() -> str:
    """Return the signed-in officer; otherwise refuse the page (heading, message, sign-in form) and stop it."""
    officer = current_officer()
    if officer is not None:
        return officer
    st.title("Officers only")
    st.error("This page is for council officers. Sign in to see it.", icon=":material/lock:")
    sign_in_form()
    st.stop()
    raise RuntimeError("officer sign-in required")  # pragma: no cover - st.stop ends the run first


def sign_in_page() -> None:
    """Draw the officer sign-in page."""
    st.title("Officer sign-in")
    if current_officer() is not None:
        st.success("You are signed in. The Moderate and Data pages are in the menu.", icon=":material/check:")
        return
    st.caption("For council officers who review submitted groups and manage the area's data.")
    sign_in_form()
