-- Statuses (domain/payment.hpp): PENDING -> CONFIRMED -> REFUNDED; PENDING -> CANCELLED
-- when the order is cancelled before the payment was confirmed.
CREATE TABLE payments (
  id            bigserial   PRIMARY KEY,
  order_id      bigint      NOT NULL CHECK (order_id > 0),
  amount_cents  bigint      NOT NULL CHECK (amount_cents > 0),
  status        text        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REFUNDED', 'CANCELLED')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- At most one live payment per order, whatever the concurrency: the database decides.
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id) WHERE status IN ('PENDING', 'CONFIRMED');
CREATE INDEX payments_order_id ON payments (order_id, id);

-- Orders whose order.cancelled this service has seen: no new payment, no confirmation.
CREATE TABLE cancelled_orders (
  order_id        bigint      PRIMARY KEY,
  reason          text,
  previous_status text,
  cancelled_at    timestamptz NOT NULL DEFAULT now()
);
