-- Orders by status, kept as they change instead of counted (the sales_orders gauge). A
-- count(*) … GROUP BY status over every order ever placed took 64 ms at 145k orders, every
-- 5 s, growing with the table: a burst of PostgreSQL CPU that delayed the orders placed
-- meanwhile. Here each insert, status move or delete adds ±1 to its status's row, in a shard
-- of the backend's own (its pid modulo 64), so concurrent transactions, on different
-- connections, do not wait for each other's row; a sum over the shards is the count.
-- TRUNCATE (tests) empties the counts too. The same shape as inventory's kept_counts: each
-- service owns its schema.
CREATE TABLE kept_counts (
  tbl   text     NOT NULL,
  key   text     NOT NULL,
  shard smallint NOT NULL,
  n     bigint   NOT NULL,
  PRIMARY KEY (tbl, key, shard)
) WITH (fillfactor = 50);  -- room for HOT updates: the rows change constantly

-- One statement per changed row: for an insert OLD is NULL, for a delete NEW is, and their
-- pair is filtered out; a move subtracts from the old status and adds to the new at once.
CREATE FUNCTION orders_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN DELETE FROM kept_counts WHERE tbl = 'orders'; RETURN NULL; END IF;
  INSERT INTO kept_counts
    SELECT 'orders', k, pg_backend_pid() % 64, d FROM (VALUES (OLD.status, -1), (NEW.status, 1)) v (k, d)
    WHERE k IS NOT NULL
    ON CONFLICT (tbl, key, shard) DO UPDATE SET n = kept_counts.n + excluded.n;
  RETURN NULL;
END $$;

CREATE TRIGGER orders_counted AFTER INSERT OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_counted();
CREATE TRIGGER orders_counted_moves AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION orders_counted();
CREATE TRIGGER orders_counted_truncate AFTER TRUNCATE ON orders
  FOR EACH STATEMENT EXECUTE FUNCTION orders_counted();

-- The orders there are now, counted once. The triggers above already lock out writers
-- until this migration commits, so no order is counted twice or missed.
INSERT INTO kept_counts SELECT 'orders', status, 0, count(*) FROM orders GROUP BY status;
