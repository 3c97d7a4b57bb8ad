#!/usr/bin/env bash
# Runs the saga tests by hand against the running system (./sales up), with the environment
# `./sales test` would export (computed the same way, from scripts/lib-*.sh), e.g.
#   tests/saga/run.sh build --gtest_filter='SagaFlow.*'     # the binary
#   tests/saga/run.sh --ctest build -L saga                  # through ctest
# The build directory holds bin/saga_tests (default: build).
set -euo pipefail
SALES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$SALES_ROOT"
. scripts/lib-common.sh
. scripts/lib-deps.sh
. scripts/lib-postgres.sh
. scripts/lib-rabbitmq.sh
. scripts/lib-services.sh
use_ctest=''
if [ "${1:-}" = --ctest ]; then use_ctest=1; shift; fi
build_dir=${1:-build}
[ "$#" -gt 0 ] && shift
ensure_secrets
export SALES_ROOT SALES_STATE_DIR="$STATE_DIR" SALES_PG_PORT="$PG_PORT"
export SALES_GATEWAY_URL="$(svc_url gateway)"
for name in "${BACKENDS[@]}"; do
  role=${SVC_ROLE[$name]}
  export "SALES_${name^^}_URL=$(svc_url "$name")"
  export "SALES_${name^^}_DB_CONNINFO=$(db_conninfo "$role" "${ROLE_DB[$role]}")"
done
export SALES_TEST_DB_CONNINFO="$(db_conninfo sales_test sales_test_db)"
export SALES_AMQP_HOST=127.0.0.1 SALES_AMQP_PORT="$AMQP_PORT"
export SALES_AMQP_USER="$AMQP_USER" SALES_AMQP_PASSWORD="$SECRET_AMQP_PASSWORD"
export SALES_AMQP_MANAGEMENT_URL="http://127.0.0.1:$AMQP_UI_PORT"
if [ -n "$use_ctest" ]; then
  exec ctest --test-dir "$SALES_ROOT/$build_dir" --output-on-failure --timeout 900 -j1 "$@"
fi
exec "$SALES_ROOT/$build_dir/bin/saga_tests" "$@"
