-- Searching by name (GET /products?q=) scanned every product: ~0.2-0.9 s with its count on
-- 0.47 M products. A trigram index on lower(name) serves the filter's LIKE '%...%' when q
-- has three characters or more (shorter ones are scanned, as before). pg_trgm ships with
-- PostgreSQL and is a trusted extension (the database's owner may create it); it goes into
-- public, where every schema's statements find its operator class.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX products_name_trgm ON products USING gin (lower(name) public.gin_trgm_ops);
