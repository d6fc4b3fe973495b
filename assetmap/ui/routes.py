"""The app's own web routes beside Streamlit's: they set and clear the HttpOnly cookies Python pages cannot.

``app.py`` serves the pages through ``st.App`` with these routes and middleware:

- ``/officer/session?token=...&next=/page``: a page that has just checked an officer's
  password sends the browser here with a one-time token (valid for
  ``settings.sign_in_link_s``); the route starts a sign-in session in the register,
  sets the signed, expiring, HttpOnly, SameSite=Strict cookie and goes back to the page.
- ``/officer/sign-out?next=/page``: ends the cookie's session in the register (so a
  copied cookie stops working) and clears the cookie.
- Every response to a browser without one sets a random, HttpOnly browser cookie, the
  second key of the public submission limit.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from assetmap import auth, settings
from assetmap._errors import AssetMapError
from assetmap.ui import common

#: Path of the route that turns a one-time token into the sign-in cookie.
SESSION_PATH: str = "/officer/session"

#: Path of the route that ends the sign-in and clears its cookie.
SIGN_OUT_PATH: str = "/officer/sign-out"

#: Seconds a browser cookie lives (a year: it names the browser, nothing more).
BROWSER_COOKIE_S: int = 365 * 24 * 3600


def safe_next(value: object) -> str:
    """Return ``value`` if it is a path on this site (``/...``, not ``//host``), else ``/``."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value if value.isprintable() else "/"
    return "/"


def _secure_scheme(scheme: object) -> bool:
    """Whether cookies must be Secure: the request came over https, or the app's public address is https.

    Behind a proxy that ends TLS and does not say so, the app sees http; its public
    address (``settings.public_url``) still tells that browsers reach it over https.
    """
    return scheme == "https" or (settings.public_url or "").lower().startswith("https://")


def _secure(request: Request) -> bool:
    return _secure_scheme(request.url.scheme)


def start_session(request: Request) -> RedirectResponse:
    """Take a one-time token, start the officer's session and set its cookie; go back to the page."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    try:
        with common.open_limits() as store:
            officer = store.take_token(request.query_params.get("token"))
            if officer is None:  # used, expired or made up: the page shows the sign-in form again
                return response
            expires = int(time.time() + settings.officer_session_s)
            session_id = store.start_session(officer, lifetime_s=settings.officer_session_s)
            value = auth.sign_session_cookie(session_id, expires, store.secret("cookies"))
    except AssetMapError:
        return response
    response.set_cookie(
        auth.SESSION_COOKIE,
        value,
        max_age=int(settings.officer_session_s),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


def sign_out(request: Request) -> RedirectResponse:
    """End the cookie's session in the register and clear the cookie; go back to the page."""
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    value = request.cookies.get(auth.SESSION_COOKIE)
    if value:
        try:
            with common.open_limits() as store:
                store.end_session(auth.read_session_cookie(value, store.secret("cookies"), time.time()))
        except AssetMapError:
            pass  # the cookie is cleared all the same
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


class BrowserCookieMiddleware:
    """Give every browser that has none a random, HttpOnly browser cookie (a key of the submission limit)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; add the cookie to the response where the request had none."""
        if scope["type"] != "http" or auth.browser_id(Request(scope).cookies.get(auth.BROWSER_COOKIE)):
            await self.app(scope, receive, send)
            return
        secure = "; Secure" if _secure_scheme(scope.get("scheme")) else ""
        header = (
            f"{auth.BROWSER_COOKIE}={secrets.token_urlsafe(24)}; Max-Age={BROWSER_COOKIE_S}; Path=/; "
            f"HttpOnly; SameSite=Strict{secure}"
        ).encode("latin-1")

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def routes() -> list[Route]:
    """Return the app's routes, for ``st.App``."""
    return [Route(SESSION_PATH, start_session, methods=["GET"]), Route(SIGN_OUT_PATH, sign_out, methods=["GET"])]


def middleware() -> list[Middleware]:
    """Return the app's middleware, for ``st.App``."""
    return [Middleware(BrowserCookieMiddleware)]
