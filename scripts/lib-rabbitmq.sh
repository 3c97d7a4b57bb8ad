# shellcheck shell=bash
# The project-local RabbitMQ node in .state/rabbitmq.
#
# The Debian wrapper /usr/sbin/rabbitmq-server insists on running as the "rabbitmq" user
# and on /var/lib/rabbitmq; the package's real scripts run fine as root or as any user when
# every path points into .state, so those are used directly (the node's through links in a
# home of its own, rmq_prepare_home; rabbitmqctl's from /usr/lib/rabbitmq/bin). The node
# runs in the foreground mode of the script (a small sh wrapper that turns SIGTERM into a
# clean stop, with beam.smp as its child), started with setsid in the background.

RMQ_DIR="$STATE_DIR/rabbitmq"
RMQ_BIN=/usr/lib/rabbitmq/bin
# With a non-default port the node gets its own name, so two checkouts on different
# ports can share one epmd. ("localhost" keeps the data valid when the hostname changes.)
rmq_node_name() { if [ "$1" = 5672 ]; then echo sales@localhost; else echo "sales-$1@localhost"; fi; }
RMQ_NODE=$(rmq_node_name "$AMQP_PORT")
# Checked here, when the scripts are read, as the ports are: inside rmq_env (a subshell of
# every rabbitmqctl call) a bad value failed silently, and down then waited 30 s and killed
# the node.
require_number SALES_RABBITMQ_SCHEDULERS "${SALES_RABBITMQ_SCHEDULERS:-1}" 1 999

# rmq_require_plain_path: the package's scripts use their paths unquoted (rabbitmq-env:
# . ${RABBITMQ_SCRIPTS_DIR}/...), so a node under a path with a blank dies at start with the
# cause buried in its startup log. Asked first by the commands that start it, before the
# packages and the build.
rmq_require_plain_path() {
  case "$RMQ_DIR" in
    *[[:space:]]*) die "RabbitMQ cannot run from a path with a space or tab in it ($RMQ_DIR): its own scripts split it. Clone the project to a path without one" ;;
  esac
}
RMQ_PIDFILE="$RUN_DIR/rabbitmq.pid"
RMQ_LOG="$RMQ_DIR/log/rabbit.log"
RMQ_STARTUP_LOG="$RMQ_DIR/log/startup.log"
RMQ_EPMD_MARK="$RUN_DIR/epmd.ours"
RMQ_PORTS_FILE="$RUN_DIR/rabbitmq.ports" # "AMQP management" the running node listens on
RMQ_DIST_PORT=$((AMQP_PORT + 20000))
RMQ_HOME="$RMQ_DIR/home"
# The plugins the node runs (rmq_write_config); rmq_prepare_home keeps what they need.
RMQ_PLUGINS=(rabbitmq_management)

# rmq_env: the environment every RabbitMQ script gets (call in a subshell).
rmq_env() {
  export HOME="$RMQ_DIR" # the Erlang cookie: $HOME/.erlang.cookie
  export RABBITMQ_NODENAME="$RMQ_NODE"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
  export RABBITMQ_LOG_BASE="$RMQ_DIR/log"
  export RABBITMQ_LOGS="$RMQ_LOG"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" # not /etc/rabbitmq's
  unset RABBITMQ_SCRIPTS_DIR                                 # rmq_launch sets it for the node
  export ERL_EPMD_ADDRESS=127.0.0.1
  # Erlang distribution (node and CLI tools) on loopback only. +sbwt none (and its dirty
  # scheduler twins): schedulers sleep instead of busy-waiting for work, which on a small
  # machine shared with PostgreSQL and the services burned CPU they need (RabbitMQ's
  # documented advice for shared hosts; throughput per broker CPU goes up, not down).
  # +S 1:1 (SALES_RABBITMQ_SCHEDULERS): one scheduler thread. The broker needs well under a
  # core here, and a second scheduler only migrated its processes between threads and woke
  # them across cores: per confirmed order it cost ~28 % more broker CPU (~1,085 against
  # ~775 µs) and the saga ran ~10 % slower (alternating quick runs, ./sales bench --only saga).
  # A broker on a host of its own wants one scheduler per core (Erlang's default).
  local schedulers=${SALES_RABBITMQ_SCHEDULERS:-1}
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none +S $schedulers:$schedulers"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# rmqctl ARGS...: rabbitmqctl against our node.
# RMQCTL_LIMIT=SECONDS rmqctl ...: given up after that long (rabbitmqctl waits for ever on
# a node that takes its connection and never answers).
rmqctl() { rmqctl_stdin "$@" </dev/null; }
rmqctl_stdin() {
  (rmq_env && cd "$RMQ_DIR" && exec ${RMQCTL_LIMIT:+timeout "$RMQCTL_LIMIT"} "$RMQ_BIN/rabbitmqctl" -q -n "$RMQ_NODE" "$@")
}
# rmqctl_password PASSWORD ARGS...: rmqctl with the password on its standard input, where
# add_user, change_password and authenticate_user read it when it is not an argument: ps
# shows arguments to every local user (printf is a builtin: no process shows it either).
rmqctl_password() {
  local password=$1
  shift
  printf '%s\n' "$password" | rmqctl_stdin "$@"
}

rmq_pid() {
  local pid cmd
  pid=$(read_pid "$RMQ_PIDFILE")
  pid_alive "$pid" || return 0
  cmd=$(pid_cmdline "$pid")
  if [[ "$cmd" == *"$RMQ_HOME/sbin/rabbitmq-server"* || "$cmd" == *"$RMQ_BIN/rabbitmq-server"* ]]; then
    echo "$pid"
  fi
}
rmq_running() { [ -n "$(rmq_pid)" ]; }
rmq_ready() { rmq_running && port_open "$AMQP_PORT"; }

rmq_write_config() {
  mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
  chmod 700 "$RMQ_DIR"
  echo "[$(IFS=,; echo "${RMQ_PLUGINS[*]}")]." >"$RMQ_DIR/enabled_plugins"
  echo '# Intentionally empty: keeps /etc/rabbitmq/rabbitmq-env.conf out.' >"$RMQ_DIR/rabbitmq-env.conf"
  # The default user is created on the node's first boot instead of "guest".
  (
    umask 077
    cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by ./sales on every up; edit scripts/lib-rabbitmq.sh instead.
management.tcp.ip = 127.0.0.1
management.tcp.port = $AMQP_UI_PORT
default_user = $AMQP_USER
default_pass = $SECRET_AMQP_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
# The node logs every connection: without rotation its log grew until the disk was full.
log.file.rotation.size = 10485760
log.file.rotation.count = 5
EOF
  )
}

# rmq_app_deps DIR: the applications an Erlang application's .app file (in DIR/ebin) names
# as needed, included or optional, one per line.
rmq_app_deps() {
  local app_file
  app_file=$(compgen -G "$1/ebin/*.app" | head -1) || return 0
  tr -d ' \t\n' <"$app_file" | grep -oE '\{(applications|included_applications|optional_applications),\[[^]]*\]' |
    sed 's/^[^[]*\[//; s/\]$//' | tr ',' '\n' | sed '/^$/d'
}

# rmq_prepare_home: the node's own RabbitMQ home in .state/rabbitmq/home: the package's
# scripts and escripts, and of its plugin directory's ~70 applications only those the broker
# and RMQ_PLUGINS need (following their .app files: 26 with 3.10). Erlang looks a module up
# in every application on the code path (the home's plugins), so with all of them a boot
# tried ~24,000 files that do not exist, a round trip to an I/O thread each. Alternating
# ./sales down + up, 2-3 tries each: the node's CPU at ready 5.5-6.3 s -> 3.4-3.6 s, and
# up 6.9-7.6 s -> 5.1-5.4 s (the boot is the longest part of up). Fails (the caller then uses the package's home) when the package's
# layout is not the one expected.
rmq_prepare_home() {
  local server pkg app dir f
  server=$(readlink -f "$RMQ_BIN/rabbitmq-server") || return 1
  pkg=$(dirname "$(dirname "$server")") # .../lib/rabbitmq_server-<version>
  [ -d "$pkg/plugins" ] && [ -d "$pkg/escript" ] && [ -d "$pkg/sbin" ] || return 1
  # (Called in a condition, so set -e is off here: every step says when it failed.)
  rm -rf "$RMQ_HOME" && mkdir -p "$RMQ_HOME/sbin" "$RMQ_HOME/plugins" || return 1
  for f in "$pkg"/sbin/*; do ln -s "$f" "$RMQ_HOME/sbin/" || return 1; done
  ln -s "$pkg/escript" "$RMQ_HOME/escript" || return 1
  local -a roots=(rabbit rabbit_common rabbitmq_prelaunch "${RMQ_PLUGINS[@]}")
  local -a todo=("${roots[@]}")
  local -A seen=()
  while [ "${#todo[@]}" -gt 0 ]; do
    app=${todo[0]}
    todo=("${todo[@]:1}")
    [ -z "${seen[$app]:-}" ] || continue
    seen[$app]=1
    dir=$(compgen -G "$pkg/plugins/$app-[0-9]*" | head -1) || dir=''
    if [ -z "$dir" ]; then
      # Not a plugin: an application of Erlang itself (kernel, ssl, ...), found there.
      [[ " ${roots[*]} " != *" $app "* ]] || return 1
      continue
    fi
    ln -s "$dir" "$RMQ_HOME/plugins/" || return 1
    mapfile -t -O "${#todo[@]}" todo < <(rmq_app_deps "$dir")
  done
}

# rmq_check_ports: our ports must be free. A system RabbitMQ (the Debian package starts
# one on systemd machines) holding them is stopped and disabled; anything else is an error.
rmq_check_ports() {
  local port busy=()
  for port in "$AMQP_PORT" "$AMQP_UI_PORT" "$RMQ_DIST_PORT"; do
    port_open "$port" && busy+=("$port")
  done
  [ "${#busy[@]}" -eq 0 ] && return 0
  if pgrep -u rabbitmq -x beam.smp >/dev/null 2>&1; then
    step "stopping the system RabbitMQ service (it holds port ${busy[*]}) and disabling it"
    if [ -d /run/systemd/system ] && have systemctl; then
      as_root systemctl disable --now rabbitmq-server
    else
      as_root service rabbitmq-server stop || as_root /usr/sbin/rabbitmqctl stop || true
    fi
    # The service manager may return before the node has closed its sockets.
    local deadline=$((SECONDS + 30))
    while :; do
      busy=()
      for port in "$AMQP_PORT" "$AMQP_UI_PORT" "$RMQ_DIST_PORT"; do
        port_open "$port" && busy+=("$port")
      done
      [ "${#busy[@]}" -eq 0 ] && return 0
      [ "$SECONDS" -lt "$deadline" ] || break
      sleep 0.2
    done
  fi
  die "port ${busy[0]} is in use by $(describe_port "${busy[0]}"); stop it or set SALES_AMQP_PORT / SALES_AMQP_UI_PORT"
}

# rmq_ensure_epmd: the Erlang port mapper. Reuse a running one (e.g. the system's);
# otherwise start one on loopback and remember which process it is (pid and start time),
# so down stops that one and never an epmd started by someone else since (after a reboot
# the mark would otherwise outlive ours).
rmq_ensure_epmd() {
  if epmd -names >/dev/null 2>&1; then
    rmq_epmd_ours || rm -f "$RMQ_EPMD_MARK"
    return 0
  fi
  ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon
  local pid
  pid=$(pgrep -n -x -u "$(id -u)" epmd || true)
  if [ -n "$pid" ]; then proc_ref "$pid" >"$RMQ_EPMD_MARK"; fi
}

# rmq_epmd_ours: the epmd the mark names still runs.
rmq_epmd_ours() {
  local ref
  ref=$(head -n 1 "$RMQ_EPMD_MARK" 2>/dev/null || true)
  [[ "$ref" =~ ^[0-9]+(:[0-9]+)?$ ]] && proc_alive "$ref"
}

# rmq_launch: start the node unless it runs, without waiting for it (rmq_await does). The
# node takes seconds to boot (Erlang start-up, mostly CPU), so up launches it first and
# brings up PostgreSQL and the services meanwhile.
rmq_launch() {
  if rmq_running; then
    local ports
    ports=$(cat "$RMQ_PORTS_FILE" 2>/dev/null || true)
    [ -z "$ports" ] || [ "$ports" = "$AMQP_PORT $AMQP_UI_PORT" ] ||
      die "rabbitmq runs on port ${ports% *} (management ${ports#* }), not $AMQP_PORT ($AMQP_UI_PORT); restart it: SALES_AMQP_PORT=${ports% *} SALES_AMQP_UI_PORT=${ports#* } ./sales down && ./sales up"
    info "rabbitmq already running (pid $(rmq_pid), port $AMQP_PORT)"
    return 0
  fi
  step "starting rabbitmq (node $RMQ_NODE, port $AMQP_PORT, management $AMQP_UI_PORT)"
  rmq_require_plain_path
  rmq_write_config
  rmq_check_ports
  rmq_ensure_epmd
  local bin="$RMQ_HOME/sbin"
  if ! rmq_prepare_home; then
    warn "RabbitMQ's package layout is not the one expected; the node boots with all its plugins on the code path"
    bin=$RMQ_BIN
  fi
  # RABBITMQ_SCRIPTS_DIR makes the scripts take their home from it (without, they resolve
  # their own links back to the package's).
  (rmq_env && { [ "$bin" = "$RMQ_BIN" ] || export RABBITMQ_SCRIPTS_DIR="$bin"; } && cd "$RMQ_DIR" &&
    start_detached "$RMQ_PIDFILE" "$RMQ_STARTUP_LOG" "$bin/rabbitmq-server")
  echo "$AMQP_PORT $AMQP_UI_PORT" >"$RMQ_PORTS_FILE"
}

# rmq_await: until the node accepts AMQP connections; then its users. Also for a node that
# was already running (one curl when it is ready): an earlier up may have died while it
# booted.
rmq_await() {
  local pid deadline=$((SECONDS + 90))
  pid=$(read_pid "$RMQ_PIDFILE")
  # Ready when the management API (always enabled: rmq_write_config) sees the AMQP listener
  # open. A curl costs milliseconds; every rabbitmqctl call boots an Erlang VM (about a
  # second of CPU), so rabbitmqctl decides only when the API refuses our password (data
  # older than the secrets; rmq_provision repairs the user).
  local status
  until status=$(rmq_api_status "health/checks/port-listener/$AMQP_PORT"); [ "$status" = 200 ] ||
    { [ "$status" = 401 ] && rmqctl await_startup --timeout 30 >/dev/null 2>&1; }; do
    if ! pid_alive "$pid"; then
      show_log_tail "$RMQ_STARTUP_LOG"
      show_log_tail "$RMQ_LOG"
      die "rabbitmq exited during startup; see $RMQ_LOG and $RMQ_STARTUP_LOG"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log_tail "$RMQ_LOG"
      die "rabbitmq did not start within 90 s; see $RMQ_LOG"
    fi
    sleep 0.1
  done
  rmq_provision
}

# rmq_api_status PATH: the HTTP status of GET /api/PATH on the management API as user
# "sales" (000 when nothing answers). The password goes through curl's stdin, not argv.
rmq_api_status() {
  printf 'user = "%s:%s"\n' "$AMQP_USER" "$SECRET_AMQP_PASSWORD" |
    curl -q --noproxy '*' -s -K - -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$AMQP_UI_PORT/api/$1" 2>/dev/null ||
    true
}

# rmq_provision: user "sales" with the generated password, administrator, full rights on
# "/", and no "guest". Normally already true from the first boot's config; this repairs
# a node whose data predates the current secrets.
rmq_provision() {
  # Fast path: the API takes our password, with administrator rights (reading a user needs
  # them), and has no user guest.
  [ "$(rmq_api_status users/guest)" = 404 ] && return 0
  if ! rmqctl_password "$SECRET_AMQP_PASSWORD" authenticate_user "$AMQP_USER" >/dev/null 2>&1; then
    info "setting up RabbitMQ user $AMQP_USER"
    rmqctl_password "$SECRET_AMQP_PASSWORD" add_user "$AMQP_USER" >/dev/null 2>&1 ||
      rmqctl_password "$SECRET_AMQP_PASSWORD" change_password "$AMQP_USER" >/dev/null
    rmqctl set_user_tags "$AMQP_USER" administrator >/dev/null
    rmqctl set_permissions -p / "$AMQP_USER" '.*' '.*' '.*' >/dev/null
  fi
  if rmqctl list_users | awk '{ print $1 }' | grep -qx guest; then
    info "deleting RabbitMQ user guest"
    rmqctl delete_user guest >/dev/null
  fi
}


rmq_stop_epmd() {
  [ -f "$RMQ_EPMD_MARK" ] || return 0
  if ! rmq_epmd_ours; then
    rm -f "$RMQ_EPMD_MARK"  # ours is gone (a reboot); the one running now is not ours to stop
    return 0
  fi
  if epmd -names 2>/dev/null | grep -q '^name '; then
    info "epmd still has nodes registered; leaving it running"
    return 0
  fi
  epmd -kill >/dev/null 2>&1 || true
  rm -f "$RMQ_EPMD_MARK"
}

rmq_down() {
  local pid ports RMQ_NODE=$RMQ_NODE
  pid=$(rmq_pid)
  if [ -n "$pid" ]; then
    pid=$(proc_ref "$pid")
    step "stopping rabbitmq"
    # The node is named after the port it was started with, which this shell's
    # SALES_AMQP_PORT may not be: asked by the wrong name, it would not stop, and after 30 s
    # it was killed.
    ports=$(cat "$RMQ_PORTS_FILE" 2>/dev/null || true)
    [ -z "$ports" ] || RMQ_NODE=$(rmq_node_name "${ports% *}")
    RMQCTL_LIMIT=40 rmqctl stop >/dev/null 2>&1 || true
    if ! wait_pid_exit "$pid" 30; then
      warn "rabbitmq did not stop in 30 s; killing it"
      kill_group "$pid" KILL
      wait_pid_exit "$pid" 5 || true
    fi
  else
    info "rabbitmq is not running"
  fi
  rm -f "$RMQ_PIDFILE" "$RMQ_PORTS_FILE"
  rmq_stop_epmd
}
