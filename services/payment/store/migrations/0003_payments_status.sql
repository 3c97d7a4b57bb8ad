-- sales: outside a transaction
-- GET /payments?status= (an operator looking for PENDING or REFUNDED payments) read every
-- payment; orders and shipments have had this index from the start. (status, id): a page
-- in id order straight from the index. Built CONCURRENTLY: payments keep being written.
CREATE INDEX CONCURRENTLY IF NOT EXISTS payments_status ON payments (status, id)
