-- A shipment's history rows keep no foreign key to it (docs/saga.md, "Later (session 6):
-- where PostgreSQL's time goes"): the check was a trigger running a query (SELECT … FOR KEY
-- SHARE on the shipment) after every insert. Every history row is written by the statement
-- that inserts or moves its shipment, from that statement's RETURNING, and shipments are
-- never deleted.
ALTER TABLE shipment_history DROP CONSTRAINT IF EXISTS shipment_history_shipment_id_fkey;
