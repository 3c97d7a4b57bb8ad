# shellcheck shell=bash disable=SC2034  # settings used by the other scripts
# Common helpers for ./sales: paths, output, privileges, processes, ports, secrets.
# Sourced by ./sales after SALES_ROOT is set; defines functions and read-only settings only,
# and stops at once when one of those settings is invalid.

STATE_DIR="$SALES_ROOT/.state"
LOG_DIR="$STATE_DIR/logs"
RUN_DIR="$STATE_DIR/run"
SECRETS_FILE="$STATE_DIR/secrets.env"
BUILD_DIR="$SALES_ROOT/build"

PG_PORT="${SALES_PG_PORT:-5432}"
AMQP_PORT="${SALES_AMQP_PORT:-5672}"
AMQP_UI_PORT="${SALES_AMQP_UI_PORT:-15672}"
AMQP_USER="sales"

# ---------------------------------------------------------------- output

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# require_number NAME VALUE MIN MAX: a setting that is a whole number, written plainly (no
# sign, no leading zero), from MIN to MAX; otherwise the command stops, naming it.
require_number() {
  local name=$1 value=$2 min=$3 max=$4
  if ! [[ "$value" =~ ^(0|[1-9][0-9]{0,8})$ ]] || (( value < min || value > max )); then
    die "$name must be a number from $min to $max (got '$value')"
  fi
}

# The infrastructure's ports, checked as the services' are (SALES_PG_PORT=abc was shown by
# status as a port, and passed on to every service).
require_number SALES_PG_PORT "$PG_PORT" 1 65535
require_number SALES_AMQP_PORT "$AMQP_PORT" 1 $((65535 - 20000)) # the Erlang distribution listens on it + 20000 (lib-rabbitmq.sh)
require_number SALES_AMQP_UI_PORT "$AMQP_UI_PORT" 1 65535

# show_log_tail FILE [LINES]: the end of a log file, framed, on stderr.
show_log_tail() {
  local file=$1 lines=${2:-30}
  if [ -r "$file" ]; then
    printf -- '---- last %s lines of %s ----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2
    printf -- '---- end of %s ----\n' "$file" >&2
  else
    printf '(no log file at %s)\n' "$file" >&2
  fi
}

# ---------------------------------------------------------------- privileges

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# as_root CMD...: run a command as root (directly, or through sudo).
as_root() {
  if is_root; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    die "need root for: $* (run as root or install sudo)"
  fi
}

# ---------------------------------------------------------------- processes

# pid_alive PID: the process exists (and we may signal it).
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# pid_stat PID: the fields of /proc/PID/stat after the command name (which may hold spaces
# and parentheses), its state first; nothing when the process is gone.
pid_stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  printf '%s\n' "${stat##*) }"
}

# pid_running PID: the process exists and is neither a zombie nor dead (kill -0 passes for
# a zombie until it is reaped).
pid_running() {
  local stat
  stat=$(pid_stat "$1")
  case ${stat%% *} in "" | Z | X | x) return 1 ;; esac
}

# pid_started PID: when the process started (field 22 of /proc/PID/stat), or nothing when it
# is gone.
pid_started() {
  local stat
  stat=$(pid_stat "$1")
  # shellcheck disable=SC2086  # split into fields on purpose
  set -- $stat
  echo "${20:-}"
}

# proc_ref PID: PID:START, naming this process and no later one that reuses its pid (PID
# alone when its start cannot be read).
proc_ref() {
  local start
  start=$(pid_started "$1")
  if [ -n "$start" ]; then echo "$1:$start"; else echo "$1"; fi
}

# proc_alive PID[:START]: the process runs (and, with START, is still the one referred to).
proc_alive() {
  local pid=${1%%:*}
  pid_alive "$pid" || return 1
  [ "$pid" = "$1" ] || [ "$(pid_started "$pid")" = "${1#*:}" ]
}

# read_pid FILE: print the pid stored in FILE (first line), or nothing.
read_pid() {
  if [ -r "$1" ]; then head -n 1 "$1" 2>/dev/null | tr -dc '0-9'; fi
  return 0
}

# pid_exe PID: the executable of a process, without the " (deleted)" suffix.
pid_exe() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  printf '%s\n' "${exe% (deleted)}"
}

# pid_is PID EXE: the process runs the executable EXE. Root without CAP_SYS_PTRACE (./sales in
# a container) may not read the exe link of another user's process, such as PostgreSQL's
# postmaster running as postgres; then its name (/proc/PID/comm, at most 15 characters)
# stands in, but only for another user's process that is not a zombie: a service just killed
# is a zombie for a moment, its exe link gone and its name not, and must not pass as running.
pid_is() {
  local exe
  if exe=$(pid_exe "$1"); then
    [ "$exe" = "$2" ]
    return
  fi
  [ "$(stat -c %u "/proc/$1" 2>/dev/null)" != "$(id -u)" ] || return 1
  pid_running "$1" || return 1
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$(basename "$2" | cut -c1-15)" ]
}

# pid_exe_replaced PID: its executable file was replaced on disk (e.g. rebuilt).
pid_exe_replaced() { [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == *" (deleted)" ]]; }

# pid_cmdline PID: the command line, arguments separated by spaces.
pid_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# wait_pid_exit PID[:START] SECONDS: wait until the process is gone; fail on timeout.
wait_pid_exit() {
  local ref=$1 deadline=$((SECONDS + $2))
  while proc_alive "$ref"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# start_detached PIDFILE LOGFILE CMD...: start CMD in its own session (setsid), stdin from
# /dev/null, stdout+stderr appended to LOGFILE; the pid of CMD itself goes to PIDFILE.
start_detached() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  local tries pid
  for tries in $(seq 1 500); do
    [ -s "$pidfile" ] && break
    sleep 0.01
  done
  [ -s "$pidfile" ] || die "could not start $* (no pid file $pidfile)"
  # The pid is written before the exec: until it happens the process is still the wrapping
  # bash, which a check by binary (svc_pid) would take for a service that exited during
  # startup. Wait (up to 5 s) until its command line is no longer the wrapper's (a program
  # that is itself a bash script changes it too), or it is gone (the caller finds out).
  pid=$(read_pid "$pidfile")
  for tries in $(seq 1 500); do
    [ "$(pid_cmdline "$pid" | cut -c1-13)" = "bash -c echo " ] || return 0
    sleep 0.01
  done
}

# kill_group PID[:START] SIGNAL: signal the process group led by PID (we start everything
# with setsid, so a service and its children share a group), or just PID otherwise. With
# START (proc_ref), nothing is signalled once the pid names another process: after a long
# wait for an exit, the pid may have been reused.
kill_group() {
  local ref=$1 sig=$2 pid=${1%%:*} pgid
  proc_alive "$ref" || return 0
  pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
  if [ "$pgid" = "$pid" ]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------- ports

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_owner PORT: pid of the process listening on PORT (needs ss; may be empty).
port_owner() {
  have ss || return 0
  as_root_quiet ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

# as_root_quiet CMD...: as root if we can without asking for a password; else as ourselves.
as_root_quiet() {
  if is_root; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else "$@"
  fi
}

# describe_port PORT: "pid 123 (user alice: /usr/bin/foo --bar)" or "an unknown process".
describe_port() {
  local pid
  pid=$(port_owner "$1")
  if [ -n "$pid" ]; then
    printf 'pid %s (user %s: %s)' "$pid" "$(ps -o user= -p "$pid" | tr -d ' ')" \
      "$(ps -o args= -p "$pid" | cut -c1-100)"
  else
    printf 'an unknown process'
  fi
}

# http_status URL: the HTTP status code of a GET (000 when there is no answer).
# -q: no ~/.curlrc; --noproxy: curl would send even 127.0.0.1 to an exported http_proxy.
http_status() {
  curl -q --noproxy '*' -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 3 "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------- state and secrets

ensure_state_dirs() {
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"
}

# The roles with a generated password: the six service roles and the test role.
DB_ROLES=(products orders customers payments inventory shipping sales_test)

# secret_var ROLE: name of the variable holding a database role's password.
secret_var() { printf 'SECRET_PG_%s' "${1^^}"; }

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# ensure_secrets: create .state/secrets.env once (mode 600), add any missing entry, load it.
# The values are hex, so they are safe in shell, SQL literals, conninfo strings and URLs.
ensure_secrets() {
  ensure_state_dirs
  local keys=() key
  for key in "${DB_ROLES[@]}"; do keys+=("$(secret_var "$key")"); done
  keys+=(SECRET_AMQP_PASSWORD)
  (
    umask 077
    [ -f "$SECRETS_FILE" ] || printf '# Generated by ./sales; keep private. Delete .state to reset.\n' >"$SECRETS_FILE"
    for key in "${keys[@]}"; do
      grep -q "^$key=" "$SECRETS_FILE" || printf '%s=%s\n' "$key" "$(random_secret)" >>"$SECRETS_FILE"
    done
  )
  chmod 600 "$SECRETS_FILE"
  # shellcheck disable=SC1090
  . "$SECRETS_FILE"
}

# db_password ROLE
db_password() { local v; v=$(secret_var "$1"); printf '%s' "${!v}"; }

# db_conninfo ROLE DB: a libpq conninfo string over TCP to the project's cluster.
db_conninfo() {
  printf 'host=127.0.0.1 port=%s dbname=%s user=%s password=%s' "$PG_PORT" "$2" "$1" "$(db_password "$1")"
}
