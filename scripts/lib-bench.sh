# shellcheck shell=bash
# ./sales bench: the benchmark harness's ground work (packages, build, nginx, pgbench's
# database, start-up and cold-build timings); bench/harness.py runs the scenarios and
# writes the report. See bench/README.md. Sourced by ./sales; entry point: bench_main.

BENCH_STATE="$STATE_DIR/bench"
BENCH_RESULTS="$SALES_ROOT/bench/results"
BENCH_PGBENCH_SCALE="${BENCH_PGBENCH_SCALE:-10}"
# What the harness needs beyond REQUIRED_PACKAGES (pgbench ships with postgresql-15).
BENCH_PACKAGES=(wrk nginx-light python3)

bench_usage() {
  cat <<EOF
Usage: ./sales bench [--quick | --smoke] [OPTIONS]

Benchmarks the running system (./sales up first) and writes bench/results/<time>-<mode>.json
and .md, and bench/results/latest.md.

  (default)          full run: 6 alternating rounds of 10 s per variant; also times
                     ./sales down + up (restarts the system!) and a cold build (-j2)
  --quick            4 rounds of 3 s; no restart, no cold build
  --smoke            1 round of about 1 s per scenario into a temporary directory, results
                     not judged; fails only if a scenario produced no numbers (ctest: bench_smoke)
  --only LIST        only these scenarios: get,post,mixed,saga,stock,micro,pgbench, and up (times
                     ./sales down + up: restarts the system), build (a cold build)
  --no-restart       do not time ./sales down + up (idle RSS is then taken as found)
  --no-cold-build    do not time a cold build
  --out DIR          write the results there instead of bench/results
  --connections N    HTTP connections and pgbench clients (default 16)
  --duration S       seconds per run; --rounds N: alternating rounds
  --rate R           the open-loop rate for GET (default: half the slowest variant's throughput)
EOF
}

# bench_install: the extra packages, the way ./sales installs its own (lib-deps.sh).
bench_install() {
  local -a REQUIRED_PACKAGES=("${BENCH_PACKAGES[@]}")
  [ -x "$PG_BIN/pgbench" ] || REQUIRED_PACKAGES+=(postgresql-contrib)
  # shellcheck disable=SC2034  # read by ensure_packages
  PACKAGE_FALLBACK["nginx-light"]=nginx
  local had_nginx=''
  have nginx && had_nginx=1
  ensure_packages
  # Debian starts its nginx service on installation; the bench runs its own, project-local.
  if [ -z "$had_nginx" ] && have nginx && [ -s /run/nginx.pid ] && pid_alive "$(read_pid /run/nginx.pid)"; then
    info "stopping the system nginx service the package started (the bench runs its own nginx)"
    as_root nginx -s quit 2>/dev/null || true
    if have systemctl && [ -d /run/systemd/system ]; then
      as_root systemctl disable --now nginx >/dev/null 2>&1 || true
    elif have update-rc.d; then
      as_root update-rc.d nginx disable >/dev/null 2>&1 || true
    fi
  fi
}

# ---------------------------------------------------------------- nginx, project-local

BENCH_NGINX_DIR="$BENCH_STATE/nginx.$$" # per run: two benches (e.g. two ./sales test) do not collide
BENCH_NGINX_PID=''

# The gateway's event loops (its HTTP_THREADS, from the environment, .env or the default of
# 1, as its /metrics reports them): nginx gets as many workers, so the two proxies are
# compared like for like.
bench_gateway_loops() {
  local n
  n=$(curl -q --noproxy '*' -fsS --max-time 2 "http://127.0.0.1:${SVC_PORT[gateway]}/metrics" 2>/dev/null |
    sed -n 's/^http_server_threads \([0-9]*\)$/\1/p')
  echo "${n:-1}"
}

bench_nginx_conf() { # PORT
  cat <<EOF
# Written by ./sales bench: a keep-alive reverse proxy in front of the product service,
# the yardstick for the gateway. Project-local; stopped when the bench ends.
daemon off;
worker_processes $(bench_gateway_loops);
pid $BENCH_NGINX_DIR/nginx.pid;
error_log $BENCH_NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BENCH_NGINX_DIR/tmp/body;
  proxy_temp_path $BENCH_NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $BENCH_NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $BENCH_NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $BENCH_NGINX_DIR/tmp/scgi;
  keepalive_requests 1000000;
  upstream product {
    server 127.0.0.1:${SVC_PORT[product]};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://product;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
EOF
}

bench_nginx_start() {
  local bin port
  bin=$(command -v nginx || true)
  [ -z "$bin" ] && [ -x /usr/sbin/nginx ] && bin=/usr/sbin/nginx
  if [ -z "$bin" ]; then
    BENCH_NGINX_NOTE="nginx is not installed (apt-get install nginx-light)"
    return 0
  fi
  port=${BENCH_NGINX_PORT:-18081}
  while port_open "$port"; do
    port=$((port + 1))
    [ "$port" -le 18120 ] || { BENCH_NGINX_NOTE="no free port for nginx"; return 0; }
  done
  mkdir -p "$BENCH_NGINX_DIR/tmp"
  bench_nginx_conf "$port" >"$BENCH_NGINX_DIR/nginx.conf"
  start_detached "$BENCH_NGINX_DIR/master.pid" "$BENCH_NGINX_DIR/nginx.out" \
    "$bin" -p "$BENCH_NGINX_DIR" -c "$BENCH_NGINX_DIR/nginx.conf" -e "$BENCH_NGINX_DIR/error.log"
  BENCH_NGINX_PID=$(read_pid "$BENCH_NGINX_DIR/master.pid")
  local _
  for _ in $(seq 1 50); do
    port_open "$port" && break
    pid_alive "$BENCH_NGINX_PID" || break
    sleep 0.1
  done
  if ! port_open "$port"; then
    show_log_tail "$BENCH_NGINX_DIR/error.log" 10
    bench_nginx_stop
    BENCH_NGINX_NOTE="nginx did not start (see $BENCH_NGINX_DIR/error.log)"
    return 0
  fi
  BENCH_NGINX_PORT_USED=$port
  info "nginx (pid $BENCH_NGINX_PID) proxies 127.0.0.1:$port → product 127.0.0.1:${SVC_PORT[product]}"
}

bench_nginx_stop() {
  local pid=$BENCH_NGINX_PID
  [ -n "$pid" ] || return 0
  BENCH_NGINX_PID=''
  if pid_alive "$pid"; then
    pid=$(proc_ref "$pid")
    kill -QUIT "${pid%%:*}" 2>/dev/null || true
    wait_pid_exit "$pid" 5 || kill_group "$pid" KILL
  fi
  rm -rf "$BENCH_NGINX_DIR"
}

# ---------------------------------------------------------------- pgbench's own database

# bench_pgbench_prepare: bench_db (superuser-owned, not a service's), initialised once at
# BENCH_PGBENCH_SCALE and reused. Fills BENCH_PGBENCH_CMD (JSON) for the harness.
bench_pgbench_prepare() {
  BENCH_PGBENCH_CMD='[]'
  if [ ! -x "$PG_BIN/pgbench" ]; then
    BENCH_PGBENCH_NOTE="pgbench is not installed"
    return 0
  fi
  local exists branches
  exists=$(psql_super -tA -c "SELECT 1 FROM pg_database WHERE datname = 'bench_db'")
  [ "$exists" = 1 ] || psql_super -c "CREATE DATABASE bench_db" >/dev/null 2>&1 || true # a parallel bench may win
  branches=$(as_pg "$PG_BIN/psql" -X -qtA -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER" -d bench_db \
    -c "SELECT count(*) FROM pgbench_branches" 2>/dev/null || true)
  if [ "$branches" != "$BENCH_PGBENCH_SCALE" ]; then
    step "initialising pgbench in bench_db (scale $BENCH_PGBENCH_SCALE; once)"
    as_pg "$PG_BIN/pgbench" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER" -i -q \
      -s "$BENCH_PGBENCH_SCALE" bench_db >"$BENCH_STATE/pgbench-init.log" 2>&1 ||
      { show_log_tail "$BENCH_STATE/pgbench-init.log"; BENCH_PGBENCH_NOTE="pgbench -i failed"; return 0; }
  fi
  local -a cmd=()
  is_root && cmd=(runuser -u postgres --)
  cmd+=("$PG_BIN/pgbench" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER")
  BENCH_PGBENCH_CMD=$(printf '%s\n' "${cmd[@]}" | jq -R . | jq -sc .)
}

# ---------------------------------------------------------------- (g) start-up and cold build

# bench_time_cold_build: configure and build a fresh tree without ccache, 2 jobs. Records
# the wall time and the CPU time of the build (user + sys of every compiler, from bash's
# `times`); half of that is what the build takes on two otherwise idle cores, the number
# that survives a busy machine.
bench_time_cold_build() {
  local dir="$BENCH_STATE/cold-build" jobs=2 out src="$SALES_ROOT" what="the working tree"
  rm -rf "$dir"
  mkdir -p "$dir"
  # The committed tree (HEAD), so edits in progress in the checkout neither break nor skew it.
  if git -C "$SALES_ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    mkdir -p "$dir/src"
    git -C "$SALES_ROOT" archive HEAD | tar -x -C "$dir/src"
    src="$dir/src" what="HEAD $(git -C "$SALES_ROOT" rev-parse --short HEAD)"
  fi
  BENCH_STARTUP[cold_build_of]="\"$what\""
  BENCH_STARTUP[cold_build_loadavg_before]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  step "(g) cold build of $what: fresh build directory, no ccache, -j$jobs (takes minutes)"
  # Prints: start end children-user children-sys (seconds).
  # shellcheck disable=SC2016  # expanded by the inner shell
  out=$(CCACHE_DISABLE=1 bash -c '
    t0=$(date +%s.%N)
    cmake -S "$2" -B "$3" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$1" 2>&1 &&
      cmake --build "$3" -j "$4" >>"$1" 2>&1 || exit 1
    t1=$(date +%s.%N)
    echo "$t0 $t1"
    times' _ "$BENCH_STATE/cold-build.log" "$src" "$dir/build" "$jobs") || out=''
  if [ -n "$out" ]; then
    local t0 t1 cu cs
    read -r t0 t1 <<<"$(head -n 1 <<<"$out")"
    read -r cu cs <<<"$(tail -n 1 <<<"$out")"
    BENCH_STARTUP[cold_build_s]=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
    BENCH_STARTUP[cold_build_cpu_s]=$(awk -v u="$cu" -v s="$cs" 'function sec(x, m) {
        m = x; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", x); sub(/s$/, "", x); return m * 60 + x }
      BEGIN { printf "%.1f", sec(u) + sec(s) }')
    BENCH_STARTUP[cold_build_jobs]=$jobs
    BENCH_STARTUP[cold_build_loadavg_after]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
    info "cold build: ${BENCH_STARTUP[cold_build_s]} s wall, ${BENCH_STARTUP[cold_build_cpu_s]} s CPU"
  else
    show_log_tail "$BENCH_STATE/cold-build.log" 20
    BENCH_STARTUP[cold_build_note]="\"the cold build failed (see .state/bench/cold-build.log)\""
  fi
  rm -rf "$dir"
}

# bench_cpu_ticks: "total steal" ticks of all CPUs so far (/proc/stat's cpu line).
bench_cpu_ticks() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9; exit }' /proc/stat
}

# bench_time_up: ./sales down, then ./sales up from the built binaries, timed
# SALES_BENCH_UP_TRIES times (3): a single start met a busy second of the host too often
# (RabbitMQ's boot is mostly CPU). The target takes the median; every try is reported
# with the hypervisor's steal during it.
bench_time_up() {
  local tries=${SALES_BENCH_UP_TRIES:-3}
  require_number SALES_BENCH_UP_TRIES "$tries" 1 9
  step "(g) ./sales down, then timing ./sales up from the built binaries ($tries times)"
  local i t0 t1 secs steal before after runs=() times=()
  for ((i = 1; i <= tries; i++)); do
    "$SALES_ROOT/sales" down >"$BENCH_STATE/down.log" 2>&1 || { cat "$BENCH_STATE/down.log"; die "./sales down failed"; }
    before=$(bench_cpu_ticks)
    t0=$(date +%s.%N)
    SALES_SKIP_BUILD=1 "$SALES_ROOT/sales" up >"$BENCH_STATE/up.log" 2>&1 || { cat "$BENCH_STATE/up.log"; die "./sales up failed"; }
    t1=$(date +%s.%N)
    after=$(bench_cpu_ticks)
    secs=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")
    steal=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); t = y[1] - x[1]
      printf "%.1f", (t > 0 ? 100 * (y[2] - x[2]) / t : 0) }')
    info "./sales up ($i of $tries): $secs s, steal $steal %"
    times+=("$secs")
    runs+=("{\"s\":$secs,\"steal_pct\":$steal}")
  done
  BENCH_STARTUP[up_s]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  BENCH_STARTUP[up_runs]="[$(IFS=,; echo "${runs[*]}")]"
  info "./sales up: median ${BENCH_STARTUP[up_s]} s of $tries"
}

bench_write_startup() { # FILE
  local k first=1
  {
    printf '{'
    for k in "${!BENCH_STARTUP[@]}"; do
      [ -n "$first" ] || printf ','
      first=''
      printf '"%s":%s' "$k" "${BENCH_STARTUP[$k]}"
    done
    printf '}\n'
  } >"$1"
}

# ---------------------------------------------------------------- entry

# bench_run_harness CMD...: runs the harness in a session of its own and waits for it,
# passing each INT, TERM or HUP this shell gets on to it as one TERM: it then ends its load
# and cancels its saga's orders (bench/harnesslib/cli.py). In the foreground it would miss a
# TERM sent to ./sales alone (bash runs a trap only once the command ends); in our process
# group it would get a TERM sent to the whole group twice, the second meaning "leave the
# orders". `timeout` signals ./sales and then its group, so signals within
# BENCH_SAME_INTERRUPT_US of the one passed on are taken for the same interrupt.
BENCH_SAME_INTERRUPT_US=500000
bench_run_harness() {
  local pid='' rc signalled='' passed_at=0 saved_traps
  saved_traps=$(trap -p INT TERM HUP)
  trap bench_pass_on_interrupt INT TERM HUP
  # Without job control (./sales has none) a background command is not a process group
  # leader, so setsid makes it one in place instead of forking: $! is the harness.
  setsid "$@" &
  pid=$!
  [ -z "$signalled" ] || { signalled='' && bench_pass_on_interrupt; } # came before $! was known
  local last_rc=''
  while :; do
    signalled='' rc=0
    wait "$pid" || rc=$?
    # 127: the wait before collected its status, and a signal came just after it returned.
    if [ "$rc" = 127 ] && [ -n "$last_rc" ]; then rc=$last_rc && break; fi
    [ -n "$signalled" ] || break # its own status
    last_rc=$rc                  # a signal: its status, or the wait cut short; asked again
  done
  # What was trapped before, back as it was: set first, then the rest reset (in between, a
  # signal still finds a handler).
  eval "$saved_traps"
  local sig
  for sig in INT TERM HUP; do # `trap -p` ends each line with the signal's name
    [[ $saved_traps$'\n' == *" SIG$sig"$'\n'* ]] || trap - "$sig"
  done
  return "$rc"
}

# The trap of bench_run_harness (bash runs it in that function's scope: its locals).
bench_pass_on_interrupt() {
  local now=${EPOCHREALTIME:-}
  now=${now//[!0-9]/} # µs; the separator is the locale's
  signalled=1
  [ -n "$pid" ] || return 0
  [ -z "$now" ] || ((now - passed_at >= BENCH_SAME_INTERRUPT_US)) || return 0
  passed_at=$now
  kill -TERM "$pid" 2>/dev/null || true
}

bench_cleanup() {
  bench_nginx_stop
  rm -f "$BENCH_STATE/startup.$$.json"
  if [ -n "${BENCH_TMP_OUT:-}" ] && [ -d "$BENCH_TMP_OUT" ] && [ "${BENCH_KEEP_TMP:-}" != 1 ]; then
    rm -rf "$BENCH_TMP_OUT"
  fi
}

bench_main() {
  local mode=full out='' restart='' cold='' only='' python
  local -a harness_env=()
  while [ "$#" -gt 0 ]; do
    case $1 in
      --quick) mode=quick ;;
      --smoke) mode=smoke ;;
      --only) only=${2:?--only needs a list}; shift ;;
      --no-restart) restart=no ;;
      --no-cold-build) cold=no ;;
      --out) out=${2:?--out needs a directory}; shift ;;
      --connections) harness_env+=("BENCH_CONNECTIONS=${2:?}"); shift ;;
      --duration) harness_env+=("BENCH_DURATION=${2:?}"); shift ;;
      --rounds) harness_env+=("BENCH_ROUNDS=${2:?}"); shift ;;
      --rate) harness_env+=("BENCH_RATE=${2:?}"); shift ;;
      -h | --help) bench_usage; return 0 ;;
      *) bench_usage >&2; die "unknown option $1" ;;
    esac
    shift
  done
  if [ -n "$only" ]; then # --only up,build: just the start-up / cold-build timings
    [[ ",$only," == *,up,* ]] || restart=no
    [[ ",$only," == *,build,* ]] || cold=no
  fi
  [ "$mode" = full ] || [ -n "$only" ] || { restart=${restart:-no}; cold=${cold:-no}; }

  ensure_state_dirs
  mkdir -p "$BENCH_STATE"
  if [ "$mode" = smoke ]; then
    # Under ctest: install what is missing if we can, else the scenarios that need it skip.
    (bench_install) || warn "could not install ${BENCH_PACKAGES[*]}; scenarios that need them are skipped"
  else
    bench_install
    # The load tools and micro_bench are part of the build (bench/CMakeLists.txt).
    [ "${SALES_SKIP_BUILD:-}" = 1 ] || with_lock build
  fi
  local tool
  for tool in bench_rate_load bench_saga_load; do
    [ -x "$BUILD_DIR/bin/$tool" ] || die "$BUILD_DIR/bin/$tool is not built (./sales build)"
  done
  python=/usr/bin/python3
  [ -x "$python" ] || python=$(command -v python3) || die "python3 is needed (apt-get install python3)"

  ensure_secrets
  declare -gA BENCH_STARTUP=()
  [ "$cold" = no ] || bench_time_cold_build
  if [ "$restart" = no ]; then
    local why="--$mode"
    [ "$mode" != full ] || why="--no-restart"
    [ -z "$only" ] || why="--only $only"
    BENCH_STARTUP[up_note]="\"not measured in this run ($why)\""
  else
    bench_time_up
  fi
  [ "$cold" = no ] && BENCH_STARTUP[cold_build_note]="\"not measured in this run\""

  # Every scenario but the start-up and build timings needs the running system.
  if [ -z "$only" ] || [ -n "$(tr ',' '\n' <<<"$only" | grep -vxE 'up|build' || true)" ]; then
    pg_running || die "postgresql is not running: ./sales up first"
    local name bad=()
    for name in gateway product customer; do
      [ "$(http_status "$(svc_url "$name")/health/ready")" = 200 ] || bad+=("$name")
    done
    [ "${#bad[@]}" -eq 0 ] || die "not ready: ${bad[*]} (./sales up first; ./sales status)"
  fi

  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  if [ "$mode" = smoke ]; then
    BENCH_TMP_OUT=$(mktemp -d "${TMPDIR:-/tmp}/sales-bench-smoke.XXXXXX")
    out=${out:-$BENCH_TMP_OUT}
  fi
  out=${out:-$BENCH_RESULTS}
  mkdir -p "$out"

  BENCH_NGINX_NOTE='' BENCH_NGINX_PORT_USED='' BENCH_PGBENCH_NOTE=''
  [[ -z "$only" || ",$only," == *,get,* ]] && bench_nginx_start
  [[ -z "$only" || ",$only," == *,get,* || ",$only," == *,pgbench,* ]] && bench_pgbench_prepare
  bench_write_startup "$BENCH_STATE/startup.$$.json"

  step "benchmarking ($mode) → $out"
  local rc=0
  bench_run_harness env "${harness_env[@]}" BENCH_ROOT="$SALES_ROOT" BENCH_STATE_DIR="$STATE_DIR" \
    BENCH_BIN_DIR="$BUILD_DIR/bin" BENCH_OUT_DIR="$out" BENCH_MODE="$mode" BENCH_ONLY="$only" BENCH_PG_DATA="$PG_DATA" \
    BENCH_NGINX_PORT="$BENCH_NGINX_PORT_USED" BENCH_NGINX_PIDFILE="$BENCH_NGINX_DIR/master.pid" \
    BENCH_NGINX_WORKERS="$(bench_gateway_loops)" \
    BENCH_NGINX_NOTE="$BENCH_NGINX_NOTE" BENCH_PGBENCH_CMD="${BENCH_PGBENCH_CMD:-[]}" \
    BENCH_PGBENCH_NOTE="$BENCH_PGBENCH_NOTE" BENCH_PGBENCH_SCALE="$BENCH_PGBENCH_SCALE" \
    BENCH_STARTUP_FILE="$BENCH_STATE/startup.$$.json" BENCH_PARENT_PID=$BASHPID BENCH_AMQP_PORT="$AMQP_PORT" \
    BENCH_AMQP_USER="$AMQP_USER" BENCH_AMQP_PASSWORD="$SECRET_AMQP_PASSWORD" \
    "$python" "$SALES_ROOT/bench/harness.py" || rc=$?
  [ "$rc" -eq 0 ] || BENCH_KEEP_TMP=1
  return "$rc"
}
