#!/usr/bin/env bash
# ./sales keeps a service log that outgrew SALES_LOG_MAX_MB as <name>.log.1 when the
# service starts (scripts/lib-services.sh, svc_rotate_log). Runs the function itself on a
# scratch folder; needs no running system.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SALES_ROOT=$(cd "$here/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export SALES_LOG_MAX_MB=1
# shellcheck source=/dev/null
. "$SALES_ROOT/scripts/lib-common.sh"
# shellcheck source=/dev/null
. "$SALES_ROOT/scripts/lib-services.sh"
LOG_DIR="$scratch"

head -c $((1024 * 1024 + 1)) /dev/zero >"$scratch/order.log"
echo "older" >"$scratch/order.log.1"
echo "small" >"$scratch/product.log"

svc_rotate_log order
svc_rotate_log product
svc_rotate_log customer  # no log yet: nothing to do

[ ! -e "$scratch/order.log" ] || fail "a log over the limit stayed in place"
[ "$(stat -c %s "$scratch/order.log.1")" -eq $((1024 * 1024 + 1)) ] || fail "order.log.1 is not the rotated log"
[ "$(cat "$scratch/product.log")" = small ] || fail "a log under the limit was touched"
[ ! -e "$scratch/product.log.1" ] || fail "a log under the limit was rotated"
[ ! -e "$scratch/customer.log" ] && [ ! -e "$scratch/customer.log.1" ] || fail "a missing log was created"

refusal=$( (SALES_LOG_MAX_MB=0 . "$SALES_ROOT/scripts/lib-services.sh") 2>&1 ) && fail "SALES_LOG_MAX_MB=0 was accepted"
case "$refusal" in
  *"SALES_LOG_MAX_MB must be a number"*) ;;
  *) fail "SALES_LOG_MAX_MB=0 was refused for another reason: $refusal" ;;
esac
echo "log rotation: ok"
