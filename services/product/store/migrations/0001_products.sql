CREATE TABLE products (
  id           bigserial PRIMARY KEY,
  name         text        NOT NULL,
  description  text,
  price_cents  bigint      NOT NULL CHECK (price_cents >= 0),
  stock        bigint      NOT NULL DEFAULT 0 CHECK (stock >= 0),
  -- the inventory event this copy of stock reflects: older events never overwrite newer
  stock_version bigint     NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_name_lower ON products (lower(name));
