-- Register store, version 2: the record's identifier at its source (an OpenStreetMap
-- "way/123", an Open Referral service id), so that a re-import finds the record it made.
ALTER TABLE records ADD COLUMN source_id TEXT;
CREATE INDEX records_source_id ON records (source, source_id);
