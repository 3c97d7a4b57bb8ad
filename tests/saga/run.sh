#!/usr/bin/env bash
# Runs the saga tests by hand against the running system (./sales up), with the environment
# `./sales test` exports (export_test_env, scripts/lib-services.sh), e.g.
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
export_test_env
if [ -n "$use_ctest" ]; then
  exec ctest --test-dir "$SALES_ROOT/$build_dir" --output-on-failure --timeout 900 -j1 "$@"
fi
exec "$SALES_ROOT/$build_dir/bin/saga_tests" "$@"
