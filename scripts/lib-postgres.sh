# shellcheck shell=bash
# The project-local PostgreSQL cluster in .state/pg: one cluster, one database and one
# role per service, each role able to reach its own database only.

PG_DIR="$STATE_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/log/postgresql.log"
PG_SUPERUSER=postgres

# service role -> its database (plus the test role used by platform integration tests)
declare -A ROLE_DB=(
  [products]=products_db [orders]=orders_db [customers]=customers_db
  [payments]=payments_db [inventory]=inventory_db [shipping]=shipping_db
  [sales_test]=sales_test_db
)

# pg_bin_dir: PostgreSQL 15's binaries, or the newest installed version's.
pg_bin_dir() {
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo /usr/lib/postgresql/15/bin
  else
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1)
    [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    echo "$dir"
  fi
}
# In a subshell of its own: pg_bin_dir's die (no PostgreSQL yet, as on a fresh machine) would
# otherwise end the whole substitution before the fallback, and with it every ./sales command.
PG_BIN="$( (pg_bin_dir) 2>/dev/null || echo /usr/lib/postgresql/15/bin)"

# The socket lives in .state/pg/run unless that path is too long for a unix socket
# (108 bytes), then in a per-checkout directory under /tmp.
PG_SOCKET_DIR="$PG_DIR/run"
if [ $((${#PG_SOCKET_DIR} + 20)) -ge 108 ]; then
  PG_SOCKET_DIR="/tmp/sales-pg-$(printf '%s' "$SALES_ROOT" | cksum | cut -d' ' -f1)"
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the Debian
# "postgres" user; otherwise to the current user.
pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

# as_pg CMD...: run a command as the cluster's OS user (from /, which it can always enter).
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# psql_super [ARGS...]: psql as the superuser over the unix socket (peer authentication).
psql_super() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" \
    -U "$PG_SUPERUSER" -d postgres "$@"
}

# pg_pid: the pid of this data directory's postmaster, or nothing. postmaster.pid outlives a
# crash or a reboot, and its pid may since name another cluster's postmaster (Debian's own,
# another checkout's: the same binary), which status would call ours and down would stop.
# Ours works in our data directory (the postmaster chdirs there). Where that link cannot be
# read (root without CAP_SYS_PTRACE, another user's process), the binary alone decides, as
# in pid_is.
pg_pid() {
  local pid cwd
  pid=$(read_pid "$PG_DATA/postmaster.pid")
  pid_alive "$pid" && pid_is "$pid" "$PG_BIN/postgres" || return 0
  if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) && [ "$cwd" != "$(readlink -m "$PG_DATA")" ]; then
    return 0
  fi
  echo "$pid"
}
pg_running() { [ -n "$(pg_pid)" ]; }
# As the superuser over the socket (peer, as ./sales psql): a probe as anyone else is refused
# by pg_hba.conf, and each refusal is a FATAL line in the server's log.
pg_ready() {
  as_pg "$PG_BIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -t 2 >/dev/null 2>&1
}

# pg_grant_traversal: the postgres user must be able to reach .state/pg. A checkout in a
# `mktemp -d` folder (mode 700) prevents that: grant o+x (traverse only, no listing) on
# each ancestor that lacks it.
pg_grant_traversal() {
  is_root || return 0
  local dir="$PG_DIR" dirs=()
  while [ "$dir" != / ]; do dirs=("$dir" "${dirs[@]}"); dir=$(dirname "$dir"); done
  for dir in "${dirs[@]}"; do
    [ -d "$dir" ] || break
    if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
      info "granting o+x (traverse only) on $dir so the postgres user can reach .state/pg"
      chmod o+x "$dir"
    fi
  done
}

pg_prepare_dirs() {
  # A socket folder under /tmp has a name anyone can guess: one made by someone else (or a
  # symlink to elsewhere) would be chown'ed and chmod'ed as root below. Only our own.
  if [ -L "$PG_SOCKET_DIR" ] || { [ -e "$PG_SOCKET_DIR" ] &&
    [ "$(stat -c %U "$PG_SOCKET_DIR")" != "$(pg_os_user)" ] && [ "$(stat -c %U "$PG_SOCKET_DIR")" != "$(id -un)" ]; }; then
    die "$PG_SOCKET_DIR exists and is not ours (a symlink, or owned by $(stat -c %U "$PG_SOCKET_DIR")); remove it and retry"
  fi
  mkdir -p "$PG_DATA" "$PG_DIR/log" "$PG_SOCKET_DIR"
  if is_root; then
    chown -R postgres:postgres "$PG_DIR" "$PG_SOCKET_DIR"
    pg_grant_traversal
  fi
  chmod 700 "$PG_DATA"
  # Traverse only: the services connect through the socket by its full path (pg_hba
  # decides who gets in: peer, for the OS user pg_ident maps); nobody can list the folder.
  chmod 711 "$PG_SOCKET_DIR"
}

# The cluster is made in data.init and renamed to data only when complete (initdb and our
# include line), so an up killed meanwhile (OOM, a CI timeout, power) leaves no data folder
# that looks initialised but is not: the next up starts the making again.
pg_init() {
  [ -s "$PG_DATA/PG_VERSION" ] && return 0
  local making="$PG_DATA.init"
  step "initialising the PostgreSQL cluster in $PG_DATA"
  rm -rf "$making"  # an earlier try's, killed midway: it never held data
  as_pg "$PG_BIN/initdb" -D "$making" -U "$PG_SUPERUSER" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=reject >"$PG_DIR/log/initdb.log" 2>&1 ||
    { show_log_tail "$PG_DIR/log/initdb.log"; die "initdb failed"; }
  printf "\n# Project settings (rewritten by ./sales up)\ninclude = 'sales.conf'\n" |
    as_pg tee -a "$making/postgresql.conf" >/dev/null
  rmdir "$PG_DATA" 2>/dev/null || die "$PG_DATA holds files but no cluster; move it away and retry"
  as_pg mv "$making" "$PG_DATA"
}

pg_settings() {
  cat <<EOF
# Written by ./sales on every up; edit scripts/lib-postgres.sh instead.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0777
password_encryption = scram-sha-256
max_connections = 300
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 4MB
maintenance_work_mem = 64MB
wal_buffers = 16MB
max_wal_size = 1GB
checkpoint_completion_target = 0.9
random_page_cost = 1.1
# durability: never traded for speed
fsync = on
synchronous_commit = on
full_page_writes = on
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_connections = off
EOF
}

pg_hba() {
  local role
  echo "# Written by ./sales on every up. The superuser over the socket only (peer); each"
  echo "# role to its own database only: over the socket by peer for the OS user that runs"
  echo "# the services (map services), or at 127.0.0.1 with its password (tests, tools);"
  echo "# everything else rejected."
  echo "local all $PG_SUPERUSER peer map=sales"
  for role in "${!ROLE_DB[@]}"; do
    echo "local ${ROLE_DB[$role]} $role peer map=services"
    echo "host ${ROLE_DB[$role]} $role 127.0.0.1/32 scram-sha-256"
  done | sort
  echo "local all all reject"
  echo "host all all 0.0.0.0/0 reject"
  echo "host all all ::/0 reject"
}

# pg_ident: the superuser for the cluster's OS user; each service role for the OS user
# that runs ./sales and so the services. Peer over the socket instead of the password:
# the services then never run SCRAM, whose OpenSSL code (hashes, HMAC, its provider
# tables) kept about 2 MB of libcrypto resident in each of them, and a connection opens
# without SCRAM's 4,096 hash rounds on both ends. It grants no more than the password
# did: that is in .state/secrets.env, readable by this same OS user.
pg_ident() {
  local role me
  me=$(id -un)
  echo "sales $(pg_os_user) $PG_SUPERUSER"
  for role in "${!ROLE_DB[@]}"; do echo "services $me $role"; done | sort
}

# pg_write_config: (re)write our config files; print "changed" when any differs.
pg_write_config() {
  local changed=
  _pg_put() { # FILE CONTENT
    if [ "$(cat "$1" 2>/dev/null)" != "$2" ]; then
      printf '%s\n' "$2" | as_pg tee "$1" >/dev/null
      changed=1
    fi
  }
  _pg_put "$PG_DATA/sales.conf" "$(pg_settings)"
  _pg_put "$PG_DATA/pg_hba.conf" "$(pg_hba)"
  _pg_put "$PG_DATA/pg_ident.conf" "$(pg_ident)"
  [ -n "$changed" ] && echo changed
  return 0
}

# pg_check_port: fail clearly when another PostgreSQL (e.g. Debian's own cluster) or
# anything else holds our port; a Debian system cluster is stopped and set to manual.
pg_check_port() {
  port_open "$PG_PORT" || return 0
  local cluster
  cluster=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 == "online" { print $1 " " $2 }' | head -n 1)
  if [ -n "$cluster" ]; then
    local version=${cluster% *} name=${cluster#* }
    step "stopping the system PostgreSQL cluster $version/$name (it holds port $PG_PORT) and setting it to manual start"
    as_root pg_ctlcluster "$version" "$name" stop
    echo manual | as_root tee "/etc/postgresql/$version/$name/start.conf" >/dev/null
    port_open "$PG_PORT" || return 0
  fi
  die "port $PG_PORT is in use by $(describe_port "$PG_PORT"); stop it or set SALES_PG_PORT"
}

pg_start() {
  if pg_running; then
    [ -n "$(pg_write_config)" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null
    local running_port
    running_port=$(sed -n 4p "$PG_DATA/postmaster.pid")
    [ "$running_port" = "$PG_PORT" ] ||
      die "postgresql runs on port $running_port, not $PG_PORT; restart it: ./sales down && ./sales up"
    info "postgresql already running (pid $(pg_pid), port $PG_PORT)"
    return 0
  fi
  step "starting postgresql (port $PG_PORT)"
  pg_prepare_dirs
  pg_init
  pg_write_config >/dev/null
  pg_check_port
  # The server writes its log through pg_ctl's -l, which nothing rotates: a log past
  # SVC_LOG_MAX_MB (the services' limit) becomes postgresql.log.1 at each start.
  if [ -f "$PG_LOG" ] && [ "$(stat -c %s "$PG_LOG")" -gt $((SVC_LOG_MAX_MB * 1024 * 1024)) ]; then
    as_pg mv -f "$PG_LOG" "$PG_LOG.1" || warn "could not move $PG_LOG aside"
  fi
  # A server that did not stop cleanly leaves its pid file; pg_ctl then warns "another server
  # might be running", which is not so (pg_running said no): say what it means.
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    info "the last server did not stop cleanly (crash, kill -9, reboot): starting it recovers from its WAL"
  fi
  local attempt
  for attempt in 1 2 3 4 5 6; do
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 120 start >/dev/null && return 0
    # After a crash (kill -9) the old server's processes need a moment to exit (and be
    # reaped) before a new one may start.
    [ "$attempt" -lt 6 ] || break
    tail -n 5 "$PG_LOG" |
      grep -qE 'shared memory block is still in use|lock file "postmaster.pid" already exists' ||
      break
    info "the previous server's processes are still exiting; retrying"
    sleep 2
  done
  show_log_tail "$PG_LOG"
  # A pid file left by a crash or a reboot whose pid now names another live process of the
  # cluster's user (another cluster's postmaster, say: pg_pid does not take it for ours):
  # PostgreSQL refuses to start while it lives. Only an operator can tell it is safe to
  # move the file aside.
  local stale
  stale=$(read_pid "$PG_DATA/postmaster.pid")
  if [ -n "$stale" ] && pid_running "$stale" && [ -z "$(pg_pid)" ]; then
    die "postgresql did not start: $PG_DATA/postmaster.pid names pid $stale, which is not this cluster's server but $(pid_cmdline "$stale"). Make sure no PostgreSQL runs on $PG_DATA, move that file aside, and run ./sales up again"
  fi
  die "postgresql did not start; see $PG_LOG"
}

# pg_provision: create the roles and databases when missing, set each role's password
# from secrets.env, and lock every database to its own role. Idempotent; cheap.
pg_provision() {
  local role db sql=""
  for role in "${!ROLE_DB[@]}"; do
    db=${ROLE_DB[$role]}
    sql+="SELECT 'CREATE ROLE $role' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')\\gexec
ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$(db_password "$role")';
SELECT 'CREATE DATABASE $db OWNER $role' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\\gexec
ALTER DATABASE $db OWNER TO $role;
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT ALL ON DATABASE $db TO $role;
"
  done
  sql+="REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
"
  printf '%s' "$sql" | psql_super -f - >/dev/null ||
    die "could not create the databases and roles (see $PG_LOG)"
}

pg_up() {
  # Again: when this file was sourced, the packages may not have been installed yet (a fresh
  # machine whose only PostgreSQL is not 15, e.g. Ubuntu's 16).
  PG_BIN=$(pg_bin_dir)
  pg_start
  pg_provision
}

pg_down() {
  if pg_running; then
    step "stopping postgresql"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
  else
    info "postgresql is not running"
  fi
}
