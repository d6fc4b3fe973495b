"""Officer sign-in for the app: local accounts from ``st.secrets``, or the identity provider where configured.

A local sign-in is a session kept in the register store (:func:`assetmap.ui.common.open_limits`):
the browser tab holds its id in ``st.session_state``, and the browser a signed, expiring,
HttpOnly cookie set by the app's own route (:mod:`assetmap.ui.routes`), so a reload or a new
tab stays signed in; signing out ends the session in the store, so a copied cookie stops
working. Failed sign-ins are counted in the store per user name and per client address, so
a reload does not reset the lockout. Officer pages call :func:`require_officer` first, so a
page reached by its address is refused just as a hidden menu entry is.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st

from assetmap import auth, settings
from assetmap._errors import AssetMapError
from assetmap.ui import common

#: Session key of the id of this tab's sign-in session in the register store.
SESSION_KEY: str = "_officer_session"

#: Session key of the one-time token to hand to the cookie route on the next run.
LINK_KEY: str = "_officer_link"

#: Session key set when signing out must also clear the browser's cookie on the next run.
CLEAR_COOKIE_KEY: str = "_officer_clear_cookie"

#: Kind of limit event of a failed sign-in, in the register store.
SIGN_IN_FAILED: str = "sign_in_failed"


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


def _user_key(username: str) -> str:
    return f"user:{str(username).strip().lower()}"


def _cookie_session(store: Any) -> str | None:
    return auth.read_session_cookie(common.cookie(auth.SESSION_COOKIE), store.secret("cookies"), time.time())


def current_officer() -> str | None:
    """Return the signed-in officer's name (or email), or None for a member of the public."""
    tab, has_cookie = st.session_state.get(SESSION_KEY), common.cookie(auth.SESSION_COOKIE) is not None
    if tab or has_cookie:  # public visitors have neither: no store is opened for them
        accounts = officers()
        try:
            with common.open_limits() as store:
                for session in (tab, _cookie_session(store) if has_cookie else None):
                    name = store.session_officer(session)
                    if name is not None and name in accounts:  # an account removed from the file signs out
                        return name
        except AssetMapError:
            pass  # a register that cannot be reached signs no one in
    return _oidc_officer()


def sign_out() -> None:
    """Sign out: end this tab's and the cookie's sessions in the store (and the identity provider's)."""
    tab = st.session_state.pop(SESSION_KEY, None)
    has_cookie = common.cookie(auth.SESSION_COOKIE) is not None
    try:
        with common.open_limits() as store:
            store.end_session(tab)
            if has_cookie:
                store.end_session(_cookie_session(store))
    except AssetMapError as exc:
        st.error(f"Signing out could not be recorded just now. Close the browser to be sure.\n\n{common.md_text(exc)}")
    if has_cookie:
        st.session_state[CLEAR_COOKIE_KEY] = True
    if _oidc_officer() is not None:
        st.logout()


def _go_to(path: str, **query: str) -> None:
    # The browser itself must visit the route for it to set or clear the HttpOnly cookie.
    try:
        here = urlsplit(st.context.url or "").path or "/"
    except Exception:  # no client context outside a running server (AppTest)
        here = "/"
    target = f"{path}?{urlencode({**query, 'next': here})}"
    st.html(f"<script>window.location.replace({json.dumps(target)});</script>", unsafe_allow_javascript=True)


def _hand_over_to_browser() -> None:
    """After a sign-in or sign-out, send the browser to the route that sets or clears its cookie."""
    from assetmap.ui import routes

    token = st.session_state.pop(LINK_KEY, None)
    if token:
        _go_to(routes.SESSION_PATH, token=token)
    elif st.session_state.pop(CLEAR_COOKIE_KEY, False):
        _go_to(routes.SIGN_OUT_PATH)


def _refuse_for(wait: float) -> None:
    minutes = max(1, math.ceil(wait / 60))
    st.error(
        f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        icon=":material/timer:",
    )


def sign_in_form(key: str = "sign_in") -> None:
    """Draw the officer sign-in form; on success start a session and rerun."""
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
    with st.form(key, clear_on_submit=True):
        username = st.text_input("User name", key=f"{key}_user", autocomplete="username")
        password = st.text_input("Password", type="password", key=f"{key}_password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", icon=":material/login:")
    if not go:
        return
    keys = [_user_key(username), common.client_address_key()]
    try:
        with common.open_limits() as store:
            # Counted and checked before the password hash, the costly part, is computed; the
            # attempt stays counted as a failure unless it succeeds.
            wait, counted = common.take_turn(
                store, SIGN_IN_FAILED, keys, limit=settings.max_sign_in_failures, window_s=settings.sign_in_lockout_s
            )
            if wait > 0:
                _refuse_for(wait)
                return
            if not auth.check_credentials(accounts, username, password):
                st.error("That user name and password do not match an officer account.", icon=":material/error:")
                return
            name = username.strip()
            store.clear_events(SIGN_IN_FAILED, keys[:1])  # the user name's failures
            store.clear_events(SIGN_IN_FAILED, keys[1:], at=counted)  # this attempt, from the address
            st.session_state[SESSION_KEY] = store.start_session(name, lifetime_s=settings.officer_session_s)
            st.session_state[LINK_KEY] = store.start_session(name, lifetime_s=settings.sign_in_link_s, kind="token")
    except AssetMapError as exc:
        st.error(f"Signing in is not possible just now. Please try again.\n\n{common.md_text(exc)}")
        return
    st.rerun()


def sidebar() -> str | None:
    """Show who is signed in, with a sign-out button, in the sidebar; return the officer, or None."""
    _hand_over_to_browser()
    officer = current_officer()
    if officer is not None:
        with st.sidebar:
            st.caption(f"Signed in as {common.md_text(officer)}")
            st.button("Sign out", on_click=sign_out, icon=":material/logout:", key="sign_out")
    return officer


def _register_problem() -> str | None:
    """Return why the register that keeps sign-ins cannot be used (naming its file or server), or None."""
    from assetmap.area.register import has_register

    if not has_register(settings.default_area_path):
        return None  # none yet: the first sign-in makes it; a refused visit writes nothing
    try:
        with common.open_limits() as store:
            store.counts()
    except AssetMapError as exc:
        return str(exc)
    return None


def require_officer() -> str:
    """Return the signed-in officer; otherwise refuse the page (heading, message, sign-in form) and stop it."""
    officer = current_officer()
    if officer is not None:
        return officer
    st.title("Officers only")
    st.error("This page is for council officers. Sign in to see it.", icon=":material/lock:")
    problem = _register_problem()
    if problem is not None:
        # Officers need to know what to fix before signing in can work again.
        st.error(
            f"Signing in needs the register, which cannot be used: {common.md_text(problem)}",
            icon=":material/cloud_off:",
        )
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
