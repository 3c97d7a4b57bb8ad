CREATE TABLE orders (
  id               bigserial   PRIMARY KEY,
  customer_id      bigint      NOT NULL CHECK (customer_id > 0),
  status           text        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'PAID', 'SHIPPED', 'DELIVERED',
                                                          'REJECTED', 'CANCELLED', 'REFUNDED')),
  total_cents      bigint      NOT NULL CHECK (total_cents >= 0),
  -- the customer's address when the order was placed (null if the customer had none)
  shipping_address text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_status ON orders (status, id);

-- The lines as placed: unit_price is the product's price at that moment, never updated.
CREATE TABLE order_items (
  order_id         bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no          integer NOT NULL CHECK (line_no >= 0),
  product_id       bigint  NOT NULL CHECK (product_id > 0),
  quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
  unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line_no),
  UNIQUE (order_id, product_id)
);

-- Every status the order has had, with why; clock_timestamp so two steps taken in one
-- transaction (shipped, then delivered) keep distinct times. Read in id order.
CREATE TABLE order_history (
  id        bigserial   PRIMARY KEY,
  order_id  bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  status    text        NOT NULL,
  reason    text        NOT NULL,
  at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX order_history_order ON order_history (order_id, id);
