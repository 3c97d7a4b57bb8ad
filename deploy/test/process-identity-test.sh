#!/usr/bin/env bash
# ./sales knows its processes by their executable (pid_is in scripts/lib-common.sh), so that a
# reused pid is not taken for PostgreSQL or a service. Two cases pull in opposite directions:
# - a process just killed with SIGKILL is a zombie until reaped: its exe link is gone, its
#   name is not; it must count as gone, or ./sales up would not restart it;
# - root without CAP_SYS_PTRACE (./sales in a container) cannot read the exe link of another
#   user's process (PostgreSQL runs as postgres): its name must stand in, or status calls a
#   running PostgreSQL exited and down leaves it running.
# The second case needs root, capsh and the user nobody; without them it is skipped (77).
set -uo pipefail
SALES_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
lib="$SALES_ROOT/scripts/lib-common.sh"
# shellcheck source=/dev/null
source "$lib"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
sleep_bin=$(readlink -f "$(command -v sleep)")
parents=()
trap 'kill "${parents[@]}" 2>/dev/null' EXIT

# zombie_under [RUN...]: start (through RUN, e.g. setpriv) a process that leaves a zombie
# child; print "PARENT ZOMBIE" once the child is a zombie. (It runs in a subshell: the
# caller keeps PARENT to kill it; neither holds this script's output open.)
zombie_under() {
  "$@" bash -c "$sleep_bin 0.05 & exec $sleep_bin 60" </dev/null >/dev/null 2>&1 &
  local parent=$! child state
  for _ in $(seq 100); do
    child=$(pgrep -P "$parent" | head -n 1)
    state=$(cut -d' ' -f3 "/proc/$child/stat" 2>/dev/null)
    [ "$state" = Z ] && { echo "$parent $child"; return 0; }
    sleep 0.05
  done
  echo "no zombie after 5 s" >&2
  return 1
}

read -r parent zombie < <(zombie_under) || exit 1
parents+=("$parent")
pid_is "$parent" "$sleep_bin" || fail "a live process of ours is not known by its executable"
pid_is "$parent" /usr/bin/not-sleep && fail "a live process of ours passes for another executable"
pid_alive "$zombie" || fail "the zombie $zombie is not even signalable (test setup)"
pid_is "$zombie" "$sleep_bin" && fail "a zombie of ours passes for a running $sleep_bin"

# pg_pid: a postmaster.pid left by a crash may name another cluster's postmaster (the same
# binary) by now; ours is the one working in our data directory. A copy of sleep named
# postgres stands in for the binary.
fake=$(mktemp -d)
trap 'kill "${parents[@]}" 2>/dev/null; rm -rf "$fake"' EXIT
mkdir -p "$fake/bin" "$fake/data" "$fake/elsewhere"
cp "$sleep_bin" "$fake/bin/postgres"
pg_pid_of() { # DIR: pg_pid when the postmaster.pid names a "postgres" working in DIR
  (cd "$1" && exec "$fake/bin/postgres" 60) </dev/null >/dev/null 2>&1 &
  local fake_pid=$!  # called in $(...): it is killed here, not by the EXIT trap
  for _ in $(seq 100); do [ "$(readlink "/proc/$fake_pid/exe")" = "$fake/bin/postgres" ] && break; sleep 0.02; done
  printf '%s\n%s\n' "$fake_pid" "$fake/data" >"$fake/data/postmaster.pid"
  (STATE_DIR=$fake && source "$SALES_ROOT/scripts/lib-postgres.sh" &&
    PG_BIN=$fake/bin PG_DATA=$fake/data && pg_pid)
  kill "$fake_pid" 2>/dev/null
}
[ -z "$(pg_pid_of "$fake/elsewhere")" ] || fail "another cluster's postmaster (another data directory) passes for ours"
[ -n "$(pg_pid_of "$fake/data")" ] || fail "our postmaster, working in our data directory, is not found"

if [ "$(id -u)" != 0 ] || ! command -v capsh >/dev/null || ! id nobody >/dev/null 2>&1; then
  echo "skipped the no-CAP_SYS_PTRACE case: needs root, capsh and the user nobody"
  [ "$failures" = 0 ] || exit 1
  exit 77
fi

as_nobody=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
read -r other other_zombie < <(zombie_under "${as_nobody[@]}") || exit 1
parents+=("$other")
# blind CODE: CODE (after sourcing the library) run as root without CAP_SYS_PTRACE.
blind() { capsh --drop=cap_sys_ptrace -- -c "SALES_ROOT='$SALES_ROOT'; source '$lib'; $1"; }
blind "readlink /proc/$other/exe" >/dev/null 2>&1 &&
  fail "another user's exe link was readable without CAP_SYS_PTRACE: the case is not tested"
blind "pid_is $other '$sleep_bin'" ||
  fail "without CAP_SYS_PTRACE, another user's live $sleep_bin is not known by its name"
blind "pid_is $other /usr/bin/not-sleep" &&
  fail "without CAP_SYS_PTRACE, another user's process passes for an executable of another name"
blind "pid_is $other_zombie '$sleep_bin'" &&
  fail "without CAP_SYS_PTRACE, another user's zombie passes for a running $sleep_bin"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "pid_is and pg_pid: live, zombie, unreadable and other clusters' processes told apart"
