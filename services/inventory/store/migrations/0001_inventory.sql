-- Stock per product: the single source of truth (DESIGN §1). `stock` never goes below zero,
-- whatever the concurrency: every change is a row-locked UPDATE and the CHECK is the backstop.
CREATE TABLE stock (
  product_id    bigint      PRIMARY KEY CHECK (product_id > 0),
  initial_stock bigint      NOT NULL CHECK (initial_stock >= 0),
  stock         bigint      NOT NULL CHECK (stock >= 0),
  -- bumped on every change of stock: the product service's read copy keeps the newest
  version       bigint      NOT NULL DEFAULT 1,
  -- the product is gone: no new reservations, but released stock still comes back here
  deleted       boolean     NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The audit ledger: for every product, stock = SUM(delta) of its movements
-- (initial + adjustments and takes − reserved + released), which an invariant checker verifies.
CREATE TABLE stock_movements (
  id         bigserial   PRIMARY KEY,
  product_id bigint      NOT NULL REFERENCES stock (product_id),
  delta      bigint      NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('initial', 'adjust', 'take', 'reserve', 'release')),
  order_id   bigint,
  at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind IN ('reserve', 'release')) = (order_id IS NOT NULL))
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);
CREATE INDEX stock_movements_order ON stock_movements (order_id) WHERE order_id IS NOT NULL;

-- One row per order ever seen, whatever the outcome: a second order.created for the same
-- order finds it and does nothing, and a CANCELLED tombstone (a cancel that overtook the
-- reservation) keeps a late order.created from taking stock.
CREATE TABLE reservations (
  order_id   bigint      PRIMARY KEY CHECK (order_id > 0),
  status     text        NOT NULL CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'CANCELLED')),
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- What a RESERVED (later RELEASED) order holds, one row per product.
CREATE TABLE reservation_items (
  order_id   bigint NOT NULL REFERENCES reservations (order_id),
  product_id bigint NOT NULL REFERENCES stock (product_id),
  quantity   bigint NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);
