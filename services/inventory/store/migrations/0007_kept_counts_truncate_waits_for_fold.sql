-- A TRUNCATE empties the counts with a DELETE, which must not run beside a fold
-- (sales::service::compact_kept_counts): it skips the rows the fold deletes yet cannot see
-- the one the fold inserts for them, so the old sums stayed for good over an empty table.
-- It now takes the fold's lock first; its DELETE then sees what the fold committed.
CREATE OR REPLACE FUNCTION reservations_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_advisory_xact_lock('kept_counts'::regclass::oid::bigint);
    DELETE FROM kept_counts WHERE tbl = 'reservations';
    RETURN NULL;
  END IF;
  INSERT INTO kept_counts (tbl, key, n)
    SELECT 'reservations', k, d FROM (VALUES (OLD.status, -1), (NEW.status, 1)) v (k, d) WHERE k IS NOT NULL;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION stock_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_advisory_xact_lock('kept_counts'::regclass::oid::bigint);
    DELETE FROM kept_counts WHERE tbl = 'stock';
    RETURN NULL;
  END IF;
  INSERT INTO kept_counts (tbl, key, n)
    SELECT 'stock', CASE WHEN gone THEN 'deleted' ELSE 'live' END, d
    FROM (VALUES (OLD.deleted, -1), (NEW.deleted, 1)) v (gone, d) WHERE gone IS NOT NULL;
  RETURN NULL;
END $$;
