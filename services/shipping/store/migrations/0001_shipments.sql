-- Exactly one shipment per order, always (DESIGN §4): UNIQUE(order_id) is what makes the
-- event consumer, POST /shipping and competing replicas all converge on one row.
CREATE TABLE shipments (
  id            bigserial   PRIMARY KEY,
  order_id      bigint      NOT NULL UNIQUE CHECK (order_id > 0),
  status        text        NOT NULL CHECK (status IN ('PENDING', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
  -- the order's shipping_address snapshot; null for a tombstone (cancel seen before the order)
  address       text,
  -- set by order.paid: PENDING -> SHIPPED requires it
  order_paid    boolean     NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  shipped_at    timestamptz,
  delivered_at  timestamptz
);
CREATE INDEX shipments_status ON shipments (status, id);

-- Every status a shipment took and why (which event or request), for operators.
CREATE TABLE shipment_history (
  id           bigserial   PRIMARY KEY,
  shipment_id  bigint      NOT NULL REFERENCES shipments (id),
  status       text        NOT NULL,
  reason       text        NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipment_history_shipment ON shipment_history (shipment_id, id);
