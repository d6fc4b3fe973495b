-- Register store, version 1: records, audit log, idempotency keys.
-- Coordinates are kept as WGS84 longitude/latitude (as given) and British National
-- Grid x/y; a trigger keeps the PostGIS point (EPSG:27700) in step with x/y, and a
-- GiST index on it serves distance queries.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE records (
    id text PRIMARY KEY,
    name text NOT NULL,
    type text NOT NULL,
    elements text,
    description text,
    organisation text,
    charity_number text,
    address text,
    postcode text,
    longitude double precision NOT NULL,
    latitude double precision NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    geom geometry(Point, 27700),
    website text,
    email text,
    phone text,
    contact_name text,
    contact_email text,
    opening_times text,
    accessibility text,
    audience text,
    source text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    sensitive boolean NOT NULL DEFAULT false,
    last_confirmed text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    created_by text NOT NULL,
    updated_by text NOT NULL,
    area_code text,
    merged_into text,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX records_status ON records (status);
CREATE INDEX records_area ON records (area_code, status);
CREATE INDEX records_postcode ON records (postcode);
CREATE INDEX records_charity ON records (charity_number);
CREATE INDEX records_geom ON records USING gist (geom);

CREATE FUNCTION assetmap_records_geom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom := ST_SetSRID(ST_MakePoint(NEW.x, NEW.y), 27700);
    RETURN NEW;
END
$$;
CREATE TRIGGER records_geom BEFORE INSERT OR UPDATE OF x, y ON records
    FOR EACH ROW EXECUTE FUNCTION assetmap_records_geom();

CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id text,
    action text NOT NULL,
    actor text NOT NULL,
    at text NOT NULL,
    reason text,
    before jsonb,
    after jsonb,
    idempotency_key text
);
CREATE INDEX audit_record ON audit (record_id, id);

CREATE TABLE idempotency (
    key text PRIMARY KEY,
    actor text NOT NULL,
    created_at text NOT NULL,
    record_ids text
);
