-- Register store, version 4: who a record is for, from the controlled list ("children;families"),
-- and how much it offers (a number of sessions a week or of places, and which).
ALTER TABLE records ADD COLUMN audience_groups text;
ALTER TABLE records ADD COLUMN capacity double precision;
ALTER TABLE records ADD COLUMN capacity_unit text;
