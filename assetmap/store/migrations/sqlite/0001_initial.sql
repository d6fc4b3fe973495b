-- Register store, version 1: records, audit log, idempotency keys.
-- Coordinates are kept twice: WGS84 longitude/latitude as stored and given, and
-- British National Grid x/y (EPSG:27700, metres) for distance queries.
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    elements TEXT,
    description TEXT,
    organisation TEXT,
    charity_number TEXT,
    address TEXT,
    postcode TEXT,
    longitude REAL NOT NULL,
    latitude REAL NOT NULL,
    x REAL NOT NULL,
    y REAL NOT NULL,
    website TEXT,
    email TEXT,
    phone TEXT,
    contact_name TEXT,
    contact_email TEXT,
    opening_times TEXT,
    accessibility TEXT,
    audience TEXT,
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    sensitive INTEGER NOT NULL DEFAULT 0,
    last_confirmed TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    area_code TEXT,
    merged_into TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX records_status ON records (status);
CREATE INDEX records_area ON records (area_code, status);
CREATE INDEX records_postcode ON records (postcode);
CREATE INDEX records_charity ON records (charity_number);
CREATE INDEX records_xy ON records (x, y);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT,
    before TEXT,
    after TEXT,
    idempotency_key TEXT
);
CREATE INDEX audit_record ON audit (record_id, id);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record_ids TEXT
);
