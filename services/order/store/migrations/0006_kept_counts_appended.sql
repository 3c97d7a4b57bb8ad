-- The status counts are appended, never updated: each change adds its -1 and +1 as rows of
-- their own, and the gauge's refresh folds them (sales::service::compact_kept_counts). The
-- shards of 0004 (pid modulo 64) still let two transactions share a row: backends whose pids
-- collided waited for each other's commit on every change, and could deadlock with the
-- orders they also locked (a second's wait, then one of them ran again). A plain insert
-- waits for nobody.
ALTER TABLE kept_counts DROP CONSTRAINT kept_counts_pkey;
ALTER TABLE kept_counts DROP COLUMN shard;
ALTER TABLE kept_counts SET (fillfactor = 100);  -- rows are inserted and deleted, not updated

CREATE OR REPLACE FUNCTION orders_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN DELETE FROM kept_counts WHERE tbl = 'orders'; RETURN NULL; END IF;
  INSERT INTO kept_counts (tbl, key, n)
    SELECT 'orders', k, d FROM (VALUES (OLD.status, -1), (NEW.status, 1)) v (k, d) WHERE k IS NOT NULL;
  RETURN NULL;
END $$;
