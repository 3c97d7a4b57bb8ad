-- Searching by name (GET /products?q=) scanned every product: ~0.2-0.9 s with its count on
-- 0.47 M products. A trigram index on lower(name) serves the filter's LIKE '%...%' when q
-- holds a run of three or more letters or digits (other queries are scanned, as before).
-- pg_trgm ships with PostgreSQL and is a trusted extension (the database's owner may create
-- it). A new one goes into public; one already installed elsewhere is used where it is, so
-- its operator class is named with its schema (a test's search_path holds only its own).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
DO $$
BEGIN
  EXECUTE format('CREATE INDEX products_name_trgm ON products USING gin (lower(name) %I.gin_trgm_ops)',
                 (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                  WHERE e.extname = 'pg_trgm'));
END
$$;
-- The plain index on lower(name) served no statement (the old strpos filter could not use
-- it either); every insert and rename paid for it.
DROP INDEX products_name_lower;
