#!/usr/bin/env bash
# The operators' commands refuse what they cannot mean, at once, with a message that says
# why and a non-zero exit status, and do nothing: ./sales with stray or empty arguments and
# a mistyped service name (psql would otherwise open a superuser session), and sales-dlq
# with a wrong command line (before it looks for a broker).
# Usage: operator-cli-test.sh SALES_DLQ_BINARY
set -uo pipefail
# Should a refusal regress, nothing is built (up would still start what is built).
export SALES_SKIP_BUILD=1
here=$(cd "$(dirname "$0")" && pwd)
sales="$(cd "$here/../.." && pwd)/sales"
dlq=${1:?usage: $0 SALES_DLQ_BINARY}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# refused STATUS MESSAGE COMMAND...: COMMAND exits with STATUS, saying MESSAGE on stderr,
# within a few seconds (no build, no start, no broker wait).
refused() {
  local want=$1 message=$2 out rc
  shift 2
  out=$(timeout 20 "$@" 2>&1 >/dev/null)
  rc=$?
  [ "$rc" = "$want" ] || fail "$*: exit $rc, not $want ($out)"
  grep -qF -- "$message" <<<"$out" || fail "$*: no '$message' in: $out"
}

refused 1 "up takes no arguments (got: product)" "$sales" up product
refused 1 "status takes no arguments" "$sales" status --bogus
refused 1 "build takes no arguments" "$sales" build now
refused 1 "env takes one SERVICE (one of: gateway" "$sales" env
refused 1 "logs takes one NAME (got: order and customer)" "$sales" logs order customer
refused 1 "unknown log 'nosuch' (one of: gateway product order customer payment inventory shipping postgres rabbitmq)" "$sales" logs nosuch
refused 1 "SALES_PG_PORT must be a number from 1 to 65535 (got 'abc')" env SALES_PG_PORT=abc "$sales" status
refused 1 "unknown service ''" "$sales" down ""
refused 1 "unknown service ''" "$sales" run
refused 1 "unknown service 'orders'" "$sales" psql orders -c 'select 1'
refused 1 "unknown command 'upp'" "$sales" upp
refused 1 "env takes one SERVICE (got: product extra)" "$sales" env product extra

# --help after any command is the help, not a name nor a stray argument; dlq's is the
# tool's own (its subcommands and queues), without the broker or the secrets.
for verb in up status build down env run logs test; do
  out=$(timeout 20 "$sales" "$verb" --help 2>&1) || fail "$verb --help: exit $? ($out)"
  grep -q '^Usage: ./sales COMMAND' <<<"$out" || fail "$verb --help did not print the usage: $out"
done
for flag in --help -h; do
  out=$(timeout 20 "$sales" dlq "$flag" 2>&1) || fail "dlq $flag: exit $? ($out)"
  grep -q '^usage: sales-dlq \[list\]' <<<"$out" || fail "dlq $flag did not print the tool's usage: $out"
done

for flag in --help -h help; do
  out=$(timeout 20 "$dlq" "$flag" 2>/dev/null) || fail "sales-dlq $flag: exit $?, not 0"
  grep -q '^usage: sales-dlq \[list\]' <<<"$out" || fail "sales-dlq $flag did not print the usage on stdout: $out"
done

refused 64 "requeue needs the QUEUE" "$dlq" requeue
refused 64 "no consumer queue 'nosuch'" "$dlq" requeue nosuch
refused 64 "N must be a positive integer, not '0'" "$dlq" requeue order_queue 0
refused 64 "requeue takes a QUEUE and at most a count N" "$dlq" requeue order_queue 1 2
refused 64 "unknown command 'purge'" "$dlq" purge
refused 64 "list takes no arguments" "$dlq" list everything

# A checkout under a path with a blank: RabbitMQ cannot run there, which up, test and run
# say at once, before the lock, the packages and the build (a copy of the scripts only).
spaced=$(mktemp -d)
mkdir -p "$spaced/with space"
cp -r "$here/../../sales" "$here/../../scripts" "$spaced/with space/"
for verb in up test "run order"; do
  # shellcheck disable=SC2086 # "run order" is two words
  refused 1 "RabbitMQ cannot run from a path with a space or tab in it" "$spaced/with space/sales" $verb
done
[ ! -e "$spaced/with space/.state/run" ] && [ ! -e "$spaced/with space/build" ] ||
  fail "a refused up, test or run left a lock or a build behind"
rm -rf "$spaced"

[ "$failures" = 0 ] || exit 1
echo "operator commands: every wrong command line refused"
