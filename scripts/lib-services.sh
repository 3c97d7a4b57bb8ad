# shellcheck shell=bash
# The seven services: their ports, databases, environment, and lifecycle.

SERVICES=(gateway product order customer payment inventory shipping)
BACKENDS=(product order customer payment inventory shipping)
# SALES_PORT_OFFSET shifts every service port (a second system beside the first, e.g. in
# another worktree, with SALES_PG_PORT / SALES_AMQP_PORT / SALES_AMQP_UI_PORT set too).
SVC_PORT_OFFSET=${SALES_PORT_OFFSET:-0}
require_number SALES_PORT_OFFSET "$SVC_PORT_OFFSET" 0 $((65535 - 8080))
declare -A SVC_PORT=(
  [gateway]=$((8080 + SVC_PORT_OFFSET)) [product]=$((8001 + SVC_PORT_OFFSET))
  [order]=$((8002 + SVC_PORT_OFFSET)) [customer]=$((8003 + SVC_PORT_OFFSET))
  [payment]=$((8004 + SVC_PORT_OFFSET)) [inventory]=$((8005 + SVC_PORT_OFFSET))
  [shipping]=$((8006 + SVC_PORT_OFFSET))
)
declare -A SVC_ROLE=(
  [product]=products [order]=orders [customer]=customers
  [payment]=payments [inventory]=inventory [shipping]=shipping
)
# Variables that are necessarily different for each service: when several services are
# started at once, the caller's environment cannot override these.
PER_SERVICE_VARS=" PORT DB_USER DB_PASSWORD DB_NAME "
# What ./sales provisions and the caller's environment never overrides: the broker's user
# (a RABBITMQ_PASSWORD exported for Compose would otherwise keep every service from the
# local broker), and the listening address (a BIND_HOST=0.0.0.0 exported for containers
# would open the unauthenticated backends to the network; SALES_BIND_HOST chooses it).
PINNED_VARS=" RABBITMQ_USER RABBITMQ_PASSWORD BIND_HOST "

is_service() { [ -n "${1:-}" ] && [ -n "${SVC_PORT[$1]:-}" ]; } # an empty name is no array subscript
svc_bin() { printf '%s/bin/sales-%s' "$BUILD_DIR" "$1"; }
svc_log() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
# SALES_LOG_MAX_MB (default 64): each service rotates its log past this size while it runs
# (LOG_MAX_MB; the log becomes <name>.log.1, replacing the one before). A service logs a line
# per order placed and per status change, so under load its log grows by hundreds of MB a
# day; without rotation .state/logs grew until the disk was full.
SVC_LOG_MAX_MB=${SALES_LOG_MAX_MB:-64}
require_number SALES_LOG_MAX_MB "$SVC_LOG_MAX_MB" 1 999999
# ./sales reaches every service (readiness, the peers' URLs) at 127.0.0.1: an address that
# does not include it would start services nothing here can reach. Checked when the scripts
# are read, as the ports are, not after the packages, the build and the infrastructure.
case ${SALES_BIND_HOST:-127.0.0.1} in
  127.0.0.1 | 0.0.0.0) ;;
  *) die "SALES_BIND_HOST=$SALES_BIND_HOST: ./sales reaches the services at 127.0.0.1, so only 127.0.0.1 or 0.0.0.0 work" ;;
esac
svc_pidfile() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
svc_url() { printf 'http://127.0.0.1:%s' "${SVC_PORT[$1]}"; }

require_service() {
  is_service "${1:-}" || die "unknown service '${1:-}' (one of: ${SERVICES[*]})"
}

# svc_pid NAME: pid of the running service (alive, and running its binary), or nothing.
# The kernel names a process's binary by its resolved path: build/ may be a link.
svc_pid() {
  local pid
  pid=$(read_pid "$(svc_pidfile "$1")")
  if pid_alive "$pid" && pid_is "$pid" "$(readlink -m "$(svc_bin "$1")")"; then
    echo "$pid"
  fi
}

# svc_env NAME MODE: fill the array SVC_ENV with the service's KEY=VALUE pairs.
# MODE "single" (run, env): a variable set in the caller's environment always wins.
# MODE "all" (up, test): it wins too, except for the per-service variables.
# broker_env: BROKER_ENV=(NAME VALUE ...), the broker ./sales runs as a client is told of it
# (the services, and ./sales dlq).
broker_env() {
  BROKER_ENV=(RABBITMQ_HOST 127.0.0.1 RABBITMQ_PORT "$AMQP_PORT"
    RABBITMQ_USER "$AMQP_USER" RABBITMQ_PASSWORD "$SECRET_AMQP_PASSWORD")
}

svc_env() {
  local name=$1 mode=$2 role=${SVC_ROLE[$1]:-} backend
  local -a pairs=(PORT "${SVC_PORT[$name]}")
  if [ -n "$role" ]; then
    # The cluster is on this machine: its unix socket (libpq takes a folder as the host).
    pairs+=(DB_HOST "$PG_SOCKET_DIR" DB_PORT "$PG_PORT" DB_USER "$role"
      DB_PASSWORD "$(db_password "$role")" DB_NAME "${ROLE_DB[$role]}")
  fi
  # GnuTLS is loaded only through libpq → libldap and never used: skip its initialisation
  # (~0.8 MB of RSS per service).
  pairs+=(GNUTLS_NO_IMPLICIT_INIT 1 LOG_MAX_MB "$SVC_LOG_MAX_MB" BIND_HOST "${SALES_BIND_HOST:-127.0.0.1}")
  broker_env
  pairs+=("${BROKER_ENV[@]}")
  # Every service is told where its peers are (the gateway all of them; order, payment
  # and shipping call a few), so shifted ports need no further setting.
  for backend in "${BACKENDS[@]}"; do
    [ "$backend" = "$name" ] || pairs+=("${backend^^}_SERVICE_URL" "$(svc_url "$backend")")
  done
  SVC_ENV=()
  local i key value
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    key=${pairs[i]} value=${pairs[i + 1]}
    # An empty value is an unset one, as the services read it.
    if [[ -n ${!key:-} ]] && [[ "$PINNED_VARS" != *" $key "* ]] &&
      { [ "$mode" = single ] || [[ "$PER_SERVICE_VARS" != *" $key "* ]]; }; then
      value=${!key}
    fi
    SVC_ENV+=("$key=$value")
  done
}

# svc_start NAME: start the service unless it is running (a service whose binary was
# rebuilt is restarted). Returns 0 when running or started, 1 when skipped (no binary),
# 2 when it cannot start.
svc_start() {
  local name=$1 bin pid port=${SVC_PORT[$1]}
  bin=$(svc_bin "$name")
  if [ ! -x "$bin" ]; then
    warn "$name: $bin is not built (yet); skipping it"
    return 1
  fi
  pid=$(svc_pid "$name")
  if [ -n "$pid" ]; then
    if ! pid_exe_replaced "$pid"; then
      info "$name already running (pid $pid, port $port)"
      return 0
    fi
    info "$name: its binary was rebuilt; restarting it"
    svc_stop "$name"
  fi
  if port_open "$port"; then
    warn "$name: port $port is in use by $(describe_port "$port")"
    return 2
  fi
  step "starting $name (port $port)"
  svc_env "$name" all
  printf '\n===== %s: started by ./sales =====\n' "$(date -u +%FT%TZ)" >>"$(svc_log "$name")"
  # The settings go in the environment, not on a command line: every user can read a
  # process's arguments (ps), and these hold the service's passwords.
  (
    export "${SVC_ENV[@]}"
    unset SALES_LOCK_HELD
    start_detached "$(svc_pidfile "$name")" "$(svc_log "$name")" "$bin"
  ) || return 2 # start_detached said why (its die ends only the subshell)
}

# svc_wait_ready NAME [SECONDS]: until GET /health/ready answers 200.
svc_wait_ready() {
  local name=$1 timeout=${2:-60} url log deadline
  url="$(svc_url "$name")/health/ready"
  log=$(svc_log "$name")
  deadline=$((SECONDS + timeout))
  while [ "$(http_status "$url")" != 200 ]; do
    if [ -z "$(svc_pid "$name")" ]; then
      printf 'error: %s exited during startup; its log is %s\n' "$name" "$log" >&2
      show_log_tail "$log"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      printf 'error: %s did not answer 200 on %s within %s s; its log is %s\n' \
        "$name" "$url" "$timeout" "$log" >&2
      show_log_tail "$log"
      return 1
    fi
    sleep 0.1
  done
  info "$name ready at $(svc_url "$name")"
}

# svc_stop NAME...: SIGTERM, up to 10 s to exit, then SIGKILL.
svc_stop() {
  local name pid pids=() deadline=$((SECONDS + 10))
  for name in "$@"; do
    pid=$(svc_pid "$name")
    if [ -n "$pid" ]; then
      step "stopping $name (pid $pid)"
      pid=$(proc_ref "$pid")
      kill_group "$pid" TERM
      pids+=("$pid")
    fi
    rm -f "$(svc_pidfile "$name")"
  done
  for pid in "${pids[@]}"; do
    wait_pid_exit "$pid" $((deadline > SECONDS ? deadline - SECONDS : 0)) && continue
    warn "pid ${pid%%:*} did not exit after SIGTERM within 10 s; sending SIGKILL"
    kill_group "$pid" KILL
    wait_pid_exit "$pid" 5 || warn "pid ${pid%%:*} survived SIGKILL"
  done
}

# services_start NAME...: start them (services without a binary are skipped with a
# warning); services_await_ready then waits for each started one to be ready and returns 1
# when any service failed.
SKIPPED_SERVICES=() STARTED_SERVICES=() FAILED_SERVICES=()
services_start() {
  local name rc
  for name in "$@"; do
    rc=0
    svc_start "$name" || rc=$?
    case $rc in
      0) STARTED_SERVICES+=("$name") ;;
      1) SKIPPED_SERVICES+=("$name") ;;
      2) FAILED_SERVICES+=("$name") ;;
    esac
  done
}
services_await_ready() {
  local name
  if [ "${#STARTED_SERVICES[@]}" -gt 0 ]; then
    step "waiting for ${STARTED_SERVICES[*]} to be ready"
    for name in "${STARTED_SERVICES[@]}"; do
      svc_wait_ready "$name" 60 || FAILED_SERVICES+=("$name")
    done
  fi
  if [ "${#FAILED_SERVICES[@]}" -gt 0 ]; then
    printf 'error: not ready: %s (see ./sales logs <service>)\n' "${FAILED_SERVICES[*]}" >&2
    return 1
  fi
}

# ---------------------------------------------------------------- status

status_line() { printf '%-11s %-8s %-8s %-6s %s\n' "$@"; }

# services_status: a line per service; false when one is not running and ready. A service
# gone while its pid file stays was not stopped by ./sales (svc_stop removes the file): it
# crashed or was killed, which its log tells.
services_status() {
  local name pid ready all=0
  for name in "${SERVICES[@]}"; do
    pid=$(svc_pid "$name")
    if [ -n "$pid" ]; then
      ready="not ready"
      [ "$(http_status "$(svc_url "$name")/health/ready")" = 200 ] && ready=ready || all=1
      pid_exe_replaced "$pid" && ready+=" (binary rebuilt since start)"
      status_line "$name" running "$pid" "${SVC_PORT[$name]}" "$ready"
      continue
    fi
    all=1
    if [ ! -x "$(svc_bin "$name")" ]; then
      status_line "$name" stopped - "${SVC_PORT[$name]}" "(not built)"
    elif [ -f "$(svc_pidfile "$name")" ]; then
      status_line "$name" exited - "${SVC_PORT[$name]}" "not stopped by ./sales: see ./sales logs $name"
    else
      status_line "$name" stopped - "${SVC_PORT[$name]}" -
    fi
  done
  return "$all"
}

# export_test_env: what the tests need to find the running system (./sales test, and
# tests/saga/run.sh by hand). The secrets must be loaded (ensure_secrets).
export_test_env() {
  local name role
  export SALES_ROOT SALES_STATE_DIR="$STATE_DIR" SALES_PG_PORT="$PG_PORT" SALES_PG_SOCKET_DIR="$PG_SOCKET_DIR"
  SALES_GATEWAY_URL=$(svc_url gateway)
  export SALES_GATEWAY_URL
  for name in "${BACKENDS[@]}"; do
    role=${SVC_ROLE[$name]}
    export "SALES_${name^^}_URL=$(svc_url "$name")"
    export "SALES_${name^^}_DB_CONNINFO=$(db_conninfo "$role" "${ROLE_DB[$role]}")"
  done
  SALES_TEST_DB_CONNINFO=$(db_conninfo sales_test sales_test_db)
  export SALES_TEST_DB_CONNINFO
  export SALES_AMQP_HOST=127.0.0.1 SALES_AMQP_PORT="$AMQP_PORT"
  export SALES_AMQP_USER="$AMQP_USER" SALES_AMQP_PASSWORD="$SECRET_AMQP_PASSWORD"
  export SALES_AMQP_MANAGEMENT_URL="http://127.0.0.1:$AMQP_UI_PORT"
}
