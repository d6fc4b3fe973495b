"""Officer accounts: password hashing, checks, the secrets file and ``assetmap add-officer``."""

from __future__ import annotations

import base64
import io
import stat
import tomllib
from pathlib import Path

import pytest

from assetmap import auth, cli

PASSWORD = "correct horse battery staple"


def test_hash_is_self_describing_salted_and_verifies():
    first, second = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert first != second  # a fresh salt each time
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", auth.SCRYPT_N, auth.SCRYPT_R, auth.SCRYPT_P)
    assert len(base64.b64decode(salt)) == auth.SALT_BYTES and len(base64.b64decode(key)) == auth.KEY_BYTES
    assert PASSWORD not in first
    assert auth.verify_password(PASSWORD, first) and auth.verify_password(PASSWORD, second)


def test_wrong_password_is_refused():
    stored = auth.hash_password(PASSWORD)
    assert not auth.verify_password(PASSWORD + " ", stored)
    assert not auth.verify_password("", stored)
    assert not auth.verify_password(PASSWORD.upper(), stored)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: h.replace("scrypt$", "md5$", 1),
        lambda h: h.rsplit("$", 1)[0],  # no hash
        lambda h: h[:-4] + ("AAAA" if not h.endswith("AAAA") else "BBBB"),  # another hash
        lambda h: "$".join([*h.split("$")[:1], "3", *h.split("$")[2:]]),  # n not a power of two
        lambda h: "$".join([*h.split("$")[:1], str(2**30), *h.split("$")[2:]]),  # n too costly
        lambda h: h.replace("$", "$$", 1),
        lambda h: h + "!",
        lambda h: "",
    ],
)
def test_tampered_hash_never_matches_nor_raises(tamper):
    stored = auth.hash_password(PASSWORD)
    assert not auth.verify_password(PASSWORD, tamper(stored))


def test_check_credentials_refuses_unknown_users_and_wrong_passwords():
    officers = {"jsmith": auth.hash_password(PASSWORD)}
    assert auth.check_credentials(officers, "jsmith", PASSWORD)
    assert auth.check_credentials(officers, " jsmith ", PASSWORD)
    assert not auth.check_credentials(officers, "jsmith", "wrong password!")
    assert not auth.check_credentials(officers, "nobody", PASSWORD)
    assert not auth.check_credentials({}, "jsmith", PASSWORD)


def test_oidc_allow_list():
    allowed = ["jane@example.gov.uk", "@team.example.gov.uk"]
    assert auth.oidc_allowed("Jane@Example.gov.uk", allowed)
    assert auth.oidc_allowed("anyone@team.example.gov.uk", allowed)
    assert not auth.oidc_allowed("anyone@example.gov.uk", allowed)
    assert not auth.oidc_allowed("evil@notteam.example.gov.uk.attacker.org", allowed)
    assert not auth.oidc_allowed(None, allowed)
    assert not auth.oidc_allowed("jane@example.gov.uk", "jane@example.gov.uk")


def test_add_officer_keeps_other_tables_and_replaces_a_password(tmp_path: Path):
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('# comment kept\n[auth]\nclient_id = "abc"\n\n[officers]\nold = "scrypt$x"\n')
    assert auth.add_officer(secrets, "jsmith", PASSWORD) is True
    assert auth.add_officer(secrets, "jsmith", PASSWORD + "2") is False
    text = secrets.read_text()
    data = tomllib.loads(text)
    assert "# comment kept" in text and data["auth"] == {"client_id": "abc"}
    assert set(data["officers"]) == {"old", "jsmith"}
    assert auth.verify_password(PASSWORD + "2", data["officers"]["jsmith"])
    assert PASSWORD not in text
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert list(secrets.parent.iterdir()) == [secrets]  # no temporary file left behind


def test_add_officer_refuses_bad_names_short_passwords_and_broken_files(tmp_path: Path):
    secrets = tmp_path / "secrets.toml"
    with pytest.raises(auth.AuthError, match="user name"):
        auth.add_officer(secrets, 'x" = 1\n[evil', PASSWORD)
    with pytest.raises(auth.AuthError, match="shorter"):
        auth.add_officer(secrets, "jsmith", "short")
    assert not secrets.exists()
    secrets.write_text("[officers\nbroken")
    with pytest.raises(auth.AuthError, match="not a valid TOML"):
        auth.add_officer(secrets, "jsmith", PASSWORD)
    assert secrets.read_text() == "[officers\nbroken"


def test_cli_add_officer_reads_the_password_from_stdin(tmp_path: Path, monkeypatch, capsys):
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["add-officer", "jsmith", "--secrets", str(secrets), "--password-stdin"]) == 0
    out = capsys.readouterr()
    assert "Added officer jsmith" in out.out and PASSWORD not in out.out + out.err
    assert auth.check_credentials(auth.read_officers(secrets), "jsmith", PASSWORD)


def test_cli_add_officer_asks_twice_and_refuses_a_mismatch(tmp_path: Path, monkeypatch, capsys):
    secrets = tmp_path / "secrets.toml"
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["add-officer", "jsmith", "--secrets", str(secrets)]) == 2
    assert "differ" in capsys.readouterr().err
    assert not secrets.exists()
    answers = iter([PASSWORD, PASSWORD])
    assert cli.main(["add-officer", "jsmith", "--secrets", str(secrets)]) == 0
    assert "jsmith" in auth.read_officers(secrets)


# -- signed sign-in cookies ---------------------------------------------------------------------


SECRET = b"k" * 32
SESSION = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde"


def test_a_signed_cookie_reads_back_until_it_expires():
    value = auth.sign_session_cookie(SESSION, 2_000, SECRET)
    assert auth.read_session_cookie(value, SECRET, now=1_999) == SESSION
    assert auth.read_session_cookie(value, SECRET, now=2_000) is None  # expired


def test_a_tampered_or_foreign_cookie_is_refused():
    value = auth.sign_session_cookie(SESSION, 2_000, SECRET)
    session, expires, mac = value.split(".")
    assert auth.read_session_cookie(f"{session}.9999999999.{mac}", SECRET, now=1_000) is None  # later expiry
    assert auth.read_session_cookie(f"{session[:-1]}x.{expires}.{mac}", SECRET, now=1_000) is None
    assert auth.read_session_cookie(value, b"another secret", now=1_000) is None
    for junk in (None, "", "a.b.c", value + ".x", 12):
        assert auth.read_session_cookie(junk, SECRET, now=1_000) is None


def test_cookies_are_secure_over_https_or_when_the_public_address_is(monkeypatch):
    from assetmap import settings
    from assetmap.ui import routes

    monkeypatch.setattr(settings, "public_url", None)
    assert routes._secure_scheme("https") and not routes._secure_scheme("http")
    # Behind a proxy that ends TLS, the app sees http; its public address says https.
    monkeypatch.setattr(settings, "public_url", "https://assets.example.gov.uk/")
    assert routes._secure_scheme("http")


def test_routes_only_send_the_browser_back_to_this_site():
    from assetmap.ui import routes

    assert routes.safe_next("/ward?code=E05000001") == "/ward?code=E05000001"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "/\nx", None):
        assert routes.safe_next(hostile) == "/"
