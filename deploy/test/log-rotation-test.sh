#!/usr/bin/env bash
# Log rotation (platform log/rotation.hpp): ./sales hands SALES_LOG_MAX_MB to every service
# as LOG_MAX_MB and refuses a bad value; a service whose stderr is a file over the limit
# sets it aside as <file>.1 (checked at start and every 10 s) and writes on in a new file.
# Usage: log-rotation-test.sh GATEWAY_BINARY (the gateway needs no database to start).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SALES_ROOT=$(cd "$here/../.." && pwd)
gateway=${1:?usage: $0 GATEWAY_BINARY}
scratch=$(mktemp -d)
pid=''
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. What ./sales gives the services.
export SALES_LOG_MAX_MB=3
# shellcheck source=/dev/null
. "$SALES_ROOT/scripts/lib-common.sh"
# shellcheck source=/dev/null
. "$SALES_ROOT/scripts/lib-services.sh"
# shellcheck disable=SC2034  # read by svc_env
AMQP_PORT=5672 AMQP_USER=sales SECRET_AMQP_PASSWORD=unused
svc_env gateway all  # no database role: needs no secrets
printf '%s\n' "${SVC_ENV[@]}" | grep -qx 'LOG_MAX_MB=3' || fail "the gateway does not get LOG_MAX_MB=3"
# shellcheck source=/dev/null
refusal=$( (SALES_LOG_MAX_MB=0 . "$SALES_ROOT/scripts/lib-services.sh") 2>&1 ) && fail "SALES_LOG_MAX_MB=0 was accepted"
case "$refusal" in
  *"SALES_LOG_MAX_MB must be a number"*) ;;
  *) fail "SALES_LOG_MAX_MB=0 was refused for another reason: $refusal" ;;
esac

# 2. A running service rotates its own log: 2 MB already in the file, limit 1 MB.
log="$scratch/gateway.log"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' x >"$log"
env -i PATH="$PATH" PORT=0 LOG_MAX_MB=1 "$gateway" >>"$log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 100); do
  grep -q 'log rotated' "$log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "the gateway exited: $(tail -c 2000 "$log.1" "$log" 2>/dev/null)"
  sleep 0.1
done
grep -q 'log rotated' "$log" || fail "no rotation within 10 s: $(tail -c 500 "$log")"
[ "$(head -c $((2 * 1024 * 1024)) "$log.1" | tr -d x | wc -c)" -eq 0 ] || fail "$log.1 does not begin with the old log"
[ "$(stat -c %s "$log")" -lt 100000 ] || fail "the new log is not the fresh file"
grep -q '"msg":"listening on' "$log.1" "$log" || fail "the gateway's lines are in neither file"
echo "log rotation: ok"
