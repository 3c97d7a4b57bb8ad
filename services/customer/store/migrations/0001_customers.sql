CREATE TABLE customers (
  id          bigserial PRIMARY KEY,
  name        text        NOT NULL,
  address     text,
  contact     text,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Email is unique regardless of case: Ann@x.org and ann@x.org are one mailbox to users.
CREATE UNIQUE INDEX customers_email_unique ON customers (lower(email)) WHERE email IS NOT NULL;
