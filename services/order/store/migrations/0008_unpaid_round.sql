-- The unpaid-order round's lease, one row shared by every replica (events/unpaid_expiry.hpp):
-- a replica's scheduled round starts by moving next_at on, so rounds start at least that far
-- apart across the cluster, and each round goes on from the order where the last one, on
-- whichever replica, stopped (after_id), instead of every replica asking the payment
-- service about the same orders. (Not 0007: a TRUNCATE migration numbered so landed in
-- bb9a872 and was replaced by the platform's 9003 in 0bb88eb; a database migrated between
-- them recorded it, and would skip a new 0007. migrate() now refuses such a reuse.)
CREATE TABLE unpaid_round (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  next_at  timestamptz NOT NULL DEFAULT '-infinity',
  after_id bigint NOT NULL DEFAULT 0
);
INSERT INTO unpaid_round DEFAULT VALUES;
