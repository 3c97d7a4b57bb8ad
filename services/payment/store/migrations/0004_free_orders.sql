-- A product may be priced 0.00, so an order may total 0.00, and its payment must equal that
-- total (DESIGN §3): amounts of 0.00 are allowed. The looser CHECK is added NOT VALID (no
-- scan under this transaction's lock); 0005 validates it without blocking writes.
ALTER TABLE payments DROP CONSTRAINT payments_amount_cents_check,
  ADD CONSTRAINT payments_amount_cents_check CHECK (amount_cents >= 0) NOT VALID;
