-- Register store, version 3: limits that outlive a page reload, and officer sign-in sessions.
-- Keys of limit events (user names, client addresses, browser ids) and session ids are
-- stored only as keyed hashes; every row carries its expiry and is purged once past it.
CREATE TABLE store_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE limit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    happened_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX limit_events_key ON limit_events (kind, key_hash, happened_at);
CREATE INDEX limit_events_expiry ON limit_events (expires_at);
CREATE TABLE officer_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    officer TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    ended_at REAL
);
CREATE INDEX officer_sessions_expiry ON officer_sessions (expires_at);
