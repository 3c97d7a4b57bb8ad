-- The payment that paid the order (payment.confirmed moved it to PAID), so a refund of some
-- other payment, one already refunded and its event late, cannot cancel an order another
-- payment paid (docs/saga.md, "Rules each consumer follows"). NULL until PAID.
ALTER TABLE orders ADD COLUMN paid_by bigint CHECK (paid_by > 0);
