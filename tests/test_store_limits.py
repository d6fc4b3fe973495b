"""Limits and officer sessions kept in the register store, the same tests on SQLite and on PostGIS."""

from __future__ import annotations

import time

from test_store import store, store_url  # noqa: F401 - the parametrised fixtures (SQLite and PostGIS)

from assetmap.store import RegisterStore, open_store


def _raw_rows(s: RegisterStore, table: str) -> list[dict]:
    return s._run(lambda tx: tx.execute(f"SELECT * FROM {table}"), write=False)


def test_events_outlive_the_store_object_and_count_per_key(store_url: str) -> None:  # noqa: F811
    with open_store(store_url) as first:
        first.note_event("sign_in_failed", ["alice", "203.0.113.9"], keep_s=300)
        first.note_event("sign_in_failed", ["203.0.113.9"], keep_s=300)
    with open_store(store_url) as again:  # a new process or a reload opens the store again
        times = again.recent_events("sign_in_failed", ["alice", "203.0.113.9", "bob"], window_s=300)
        assert [len(times[k]) for k in ("alice", "203.0.113.9", "bob")] == [1, 2, 0]
        assert times["203.0.113.9"] == sorted(times["203.0.113.9"])
        assert again.recent_events("submission", ["alice"], window_s=300) == {"alice": []}  # kinds are apart


def test_keys_are_stored_hashed(store: RegisterStore) -> None:  # noqa: F811
    store.note_event("submission", ["198.51.100.7", "browser-id-123"], keep_s=60)
    text = repr(_raw_rows(store, "limit_events"))
    assert "198.51.100.7" not in text and "browser-id-123" not in text
    assert len(_raw_rows(store, "limit_events")) == 2


def test_old_events_are_not_counted_and_expired_rows_are_purged_on_write(store: RegisterStore) -> None:  # noqa: F811
    now = time.time()
    store.note_event("submission", ["a"], keep_s=600, at=now - 1_000)  # expired 400 s ago
    store.note_event("submission", ["a"], keep_s=600, at=now - 500)  # still kept, outside a 300 s window
    assert len(store.recent_events("submission", ["a"], window_s=300)["a"]) == 0
    assert len(store.recent_events("submission", ["a"], window_s=600)["a"]) == 1
    store.note_event("submission", ["b"], keep_s=600)
    kept = sorted(r["happened_at"] for r in _raw_rows(store, "limit_events"))
    assert len(kept) == 2 and kept[0] > now - 1_000  # the expired row is gone


def test_clearing_a_key_leaves_the_others(store: RegisterStore) -> None:  # noqa: F811
    store.note_event("sign_in_failed", ["alice", "203.0.113.9"], keep_s=300)
    store.clear_events("sign_in_failed", ["alice"])
    times = store.recent_events("sign_in_failed", ["alice", "203.0.113.9"], window_s=300)
    assert times["alice"] == [] and len(times["203.0.113.9"]) == 1


def test_a_session_signs_in_until_ended_in_any_store_object(store_url: str) -> None:  # noqa: F811
    with open_store(store_url) as first:
        session = first.start_session("alice", lifetime_s=3600)
        assert session not in repr(_raw_rows(first, "officer_sessions"))  # only its hash is kept
    with open_store(store_url) as again:
        assert again.session_officer(session) == "alice"
        assert again.session_officer(session + "x") is None and again.session_officer(None) is None
        again.end_session(session)
    with open_store(store_url) as later:
        assert later.session_officer(session) is None  # a copied cookie stops working too


def test_signing_out_anywhere_ends_every_session_of_that_officer(store: RegisterStore) -> None:  # noqa: F811
    tab = store.start_session("alice", lifetime_s=3600)  # the tab she signed in from
    cookie = store.start_session("alice", lifetime_s=3600)  # its cookie, used by her other tabs
    other = store.start_session("bob", lifetime_s=3600)
    store.end_session(cookie)  # signing out in another tab
    assert store.session_officer(tab) is None and store.session_officer(cookie) is None
    assert store.session_officer(other) == "bob"


def test_an_expired_session_signs_no_one_in(store: RegisterStore) -> None:  # noqa: F811
    session = store.start_session("alice", lifetime_s=0)
    assert store.session_officer(session) is None


def test_a_token_works_once_and_is_not_a_session(store: RegisterStore) -> None:  # noqa: F811
    token = store.start_session("alice", lifetime_s=60, kind="token")
    assert store.session_officer(token) is None  # a token is not a session
    assert store.take_token(token) == "alice"
    assert store.take_token(token) is None
    session = store.start_session("alice", lifetime_s=60)
    assert store.take_token(session) is None  # nor a session a token


def test_the_secret_is_made_once_and_kept(store_url: str) -> None:  # noqa: F811
    with open_store(store_url) as first:
        secret = first.secret("cookies")
        assert len(secret) == 32 and first.secret("limits") != secret
    with open_store(store_url) as again:
        assert again.secret("cookies") == secret


def test_sessions_in_parallel_never_take_more_turns_than_the_limit(store_url: str) -> None:  # noqa: F811
    import threading

    from assetmap.ui.common import take_turn

    start = threading.Barrier(12)
    waits: list[float] = []

    def visitor() -> None:
        with open_store(store_url) as own:  # each session its own connection, as the app's are
            start.wait()
            waits.append(take_turn(own, "submission", ["address:192.0.2.9"], limit=3, window_s=600)[0])

    threads = [threading.Thread(target=visitor) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waits) == 12 and sum(w == 0 for w in waits) <= 3
