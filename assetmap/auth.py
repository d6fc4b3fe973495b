"""Officer accounts: hashed passwords, and the secrets file that holds them.

Passwords are hashed with scrypt (a memory-hard key derivation function in the
standard library) and a random salt per account, and stored as one
self-describing string, ``scrypt$n$r$p$salt$hash`` (salt and hash in base64), so
the cost can be raised later without breaking older accounts. Checks compare in
constant time.

Accounts live in the app's ``secrets.toml`` under ``[officers]``, one
``username = "scrypt$..."`` line each; ``assetmap add-officer`` writes them. This
module does not import Streamlit: the app reads the same table from ``st.secrets``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path

from assetmap._errors import AssetMapError

#: scrypt cost parameters for new hashes: 16 MiB of memory and about 50 ms per check.
SCRYPT_N: int = 2**14
SCRYPT_R: int = 8
SCRYPT_P: int = 1

#: Bytes of random salt per password, and of derived key.
SALT_BYTES: int = 16
KEY_BYTES: int = 32

#: Shortest password accepted for a new account.
MIN_PASSWORD_CHARS: int = 12

#: Longest password accepted (scrypt takes any length; this bounds the work a request can ask for).
MAX_PASSWORD_CHARS: int = 1_024

#: Table of the secrets file holding officer accounts.
OFFICERS_TABLE: str = "officers"

_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
# Largest cost accepted from a stored hash: a tampered file must not make one check take minutes.
_MAX_N = 2**20


class AuthError(AssetMapError):
    """An account cannot be added or read (the message says why and what to do)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=2 * 128 * r * (n + p + 2)
    )


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password`` as ``scrypt$n$r$p$salt$hash``.

    Parameters
    ----------
    password : str
        The password, as typed.

    Returns
    -------
    str
        Safe to store; it does not reveal the password.
    """
    if not isinstance(password, str) or not password:
        raise ValueError("the password is empty.")
    salt = os.urandom(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Return True when ``password`` matches the hash ``stored``; False otherwise.

    A malformed, truncated or tampered hash never matches (and never raises).

    Parameters
    ----------
    password : str
        The password typed.
    stored : str
        A hash from :func:`hash_password`.
    """
    if not isinstance(password, str) or not isinstance(stored, str) or len(password) > MAX_PASSWORD_CHARS:
        return False
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16) or len(expected) != KEY_BYTES:
        return False
    if len(salt) < 8:
        return False
    try:
        key = _scrypt(password, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(key, expected)


# A hash of a random password, checked when the user name is unknown, so that a wrong
# name takes as long to refuse as a wrong password (no hint which names exist).
@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def check_credentials(officers: Mapping[str, object], username: str, password: str) -> bool:
    """Return True when ``username`` is an officer whose password is ``password``.

    Parameters
    ----------
    officers : mapping
        User name to stored hash (the ``[officers]`` table of the secrets file).
    username, password : str
        As typed.
    """
    stored = officers.get(str(username).strip()) if isinstance(username, str) else None
    if not isinstance(stored, str):
        verify_password(password if isinstance(password, str) else "", _dummy_hash())
        return False
    return verify_password(password, stored)


def check_username(username: str) -> str:
    """Return ``username`` stripped if it may name an account; raise :class:`AuthError` otherwise."""
    name = str(username).strip()
    if not _USERNAME_RE.match(name):
        raise AuthError(
            f"'{name[:40]}' cannot be a user name. Use 1 to 64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit."
        )
    return name


def check_new_password(password: str) -> None:
    """Raise :class:`AuthError` when ``password`` is too short or too long for a new account."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"the password is shorter than {MIN_PASSWORD_CHARS} characters. Choose a longer one.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AuthError(f"the password is longer than {MAX_PASSWORD_CHARS} characters.")


def read_officers(path: str | Path) -> dict[str, str]:
    """Return the officer accounts of a secrets file (user name to hash); empty when there is no file.

    Raises
    ------
    AuthError
        When the file is not valid TOML.
    """
    file = Path(path)
    if not file.is_file():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuthError(f"{file}: not a valid TOML file ({exc}). Fix it by hand before adding an account.") from exc
    table = data.get(OFFICERS_TABLE, {})
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


_TABLE_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _toml_string(text: str) -> str:
    # Basic TOML string: user names and hashes hold no quote, backslash or control character.
    return '"' + text + '"'


def add_officer(path: str | Path, username: str, password: str) -> bool:
    """Add an officer account to a secrets file, or change its password; return True if it was new.

    Other tables and comments in the file are kept as they are; the file is written
    whole to a temporary file and then moved into place, so a crash never leaves it
    half-written, and it is readable by its owner only.

    Parameters
    ----------
    path : str or Path
        The secrets file (``.streamlit/secrets.toml``), created if absent.
    username : str
        The account's user name.
    password : str
        The password (at least :data:`MIN_PASSWORD_CHARS` characters); only its hash is written.

    Raises
    ------
    AuthError
        Bad user name or password, or an unreadable file.
    """
    name = check_username(username)
    check_new_password(password)
    file = Path(path)
    existing = read_officers(file)  # refuses a file that is not TOML before touching it
    lines = file.read_text(encoding="utf-8").splitlines() if file.is_file() else []
    entry = f"{_toml_string(name)} = {_toml_string(hash_password(password))}"
    start = next(
        (i for i, line in enumerate(lines) if (m := _TABLE_RE.match(line)) and m.group(1) == OFFICERS_TABLE), None
    )
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{OFFICERS_TABLE}]", entry]
    else:
        end = next((i for i in range(start + 1, len(lines)) if _TABLE_RE.match(lines[i])), len(lines))
        key_re = re.compile(rf'^\s*("{re.escape(name)}"|{re.escape(name)})\s*=')
        at = next((i for i in range(start + 1, end) if key_re.match(lines[i])), None)
        if at is None:
            lines.insert(start + 1, entry)
        else:
            lines[at] = entry
    text = "\n".join(lines) + "\n"
    if read_officers_text(text).get(name) is None:  # pragma: no cover - guards the line editing above
        raise AuthError(f"{file}: the account could not be written; add it by hand.")
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, file)
    finally:
        if tmp.exists():
            tmp.unlink()
    return name not in existing


def read_officers_text(text: str) -> dict[str, str]:
    """Return the officer accounts in the text of a secrets file (user name to hash)."""
    table = tomllib.loads(text).get(OFFICERS_TABLE, {})
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def oidc_allowed(email: object, allowed: object) -> bool:
    """Return True when an identity provider's ``email`` is on the officers' allow-list.

    Parameters
    ----------
    email : object
        The signed-in user's email (``st.user.email``).
    allowed : object
        The ``emails`` list of ``[officers_oidc]`` in the secrets file; a ``@domain``
        entry allows every address of that domain.
    """
    if not isinstance(email, str) or "@" not in email or not isinstance(allowed, list | tuple):
        return False
    address = email.strip().lower()
    for entry in allowed:
        text = str(entry).strip().lower()
        if text and (address == text or (text.startswith("@") and address.endswith(text))):
            return True
    return False


# -- signed sign-in cookies ---------------------------------------------------------------------

#: Cookie holding an officer's signed sign-in session (HttpOnly, SameSite=Strict).
SESSION_COOKIE: str = "assetmap_officer"

#: Cookie naming a browser (HttpOnly, random), a second key of the public submission limit.
BROWSER_COOKIE: str = "assetmap_browser"

_COOKIE_RE = re.compile(r"^([A-Za-z0-9_-]{16,128})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")
_BROWSER_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _cookie_mac(session_id: str, expires: int, secret: bytes) -> str:
    mac = hmac.new(secret, f"{session_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def sign_session_cookie(session_id: str, expires: int, secret: bytes) -> str:
    """Return the value of a sign-in cookie: the session id, its expiry and their HMAC-SHA256.

    Parameters
    ----------
    session_id : str
        The session's id (URL-safe characters, from the register store).
    expires : int
        When the cookie stops being accepted (``time.time()`` seconds).
    secret : bytes
        The server's key (the register store's ``"cookies"`` secret).
    """
    return f"{session_id}.{int(expires)}.{_cookie_mac(session_id, int(expires), secret)}"


def read_session_cookie(value: object, secret: bytes, now: float) -> str | None:
    """Return the session id of a sign-in cookie whose signature holds and which has not expired; else None.

    Parameters
    ----------
    value : object
        The cookie's value, as the browser sent it.
    secret : bytes
        The key it was signed with.
    now : float
        The time now (``time.time()`` seconds).
    """
    match = _COOKIE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    session_id, expires, mac = match.group(1), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(mac, _cookie_mac(session_id, expires, secret)) or expires <= now:
        return None
    return session_id


def browser_id(value: object) -> str | None:
    """Return a browser cookie's value if it has the form the app gives it, else None."""
    return value if isinstance(value, str) and _BROWSER_RE.match(value) else None
