-- Register store, version 4: a short reference a submitter is given (AB12-CD34), unique in the
-- register. Records added before it have none; their id stays their reference.
ALTER TABLE records ADD COLUMN reference TEXT;
CREATE UNIQUE INDEX records_reference ON records (reference);
