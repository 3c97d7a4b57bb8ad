#!/bin/bash
# Runs once, when a service's database volume is initialised (the official postgres
# image's /docker-entrypoint-initdb.d): the service's own role owns the service's
# database without any superuser right, and no other role may connect to it — as
# ./sales sets up the local cluster (scripts/lib-postgres.sh).
set -euo pipefail
: "${SALES_DB_USER:?SALES_DB_USER must be set}" "${SALES_DB_PASSWORD:?SALES_DB_PASSWORD must be set}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  -v role="$SALES_DB_USER" -v password="$SALES_DB_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'password';
ALTER DATABASE :"db" OWNER TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT ALL ON DATABASE :"db" TO :"role";
REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
SQL
echo "sales: role $SALES_DB_USER owns $POSTGRES_DB"
