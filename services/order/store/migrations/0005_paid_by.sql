-- The payment that paid the order, as its payment.confirmed said (CONFIRMED -> PAID), so a
-- late refund of some other payment, one refunded before, cannot cancel an order this one
-- paid (docs/saga.md, "Events"). NULL until PAID, and for orders paid before this column.
-- No CHECK: validating one would read the whole table under this ALTER's exclusive lock,
-- and the only writer is the saga consumer, with an id it has checked to be positive.
ALTER TABLE orders ADD COLUMN paid_by bigint;
