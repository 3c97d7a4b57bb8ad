#!/usr/bin/env bash
# compose-test.sh: the container test (ctest: containers_compose, label "containers").
#
#  1. a Debian bookworm base made with debootstrap, tagged docker.io/library/debian:bookworm-slim
#     (no image registry is reachable here), cached as a tarball;
#  2. the images: the sales image from ./Dockerfile, and stand-ins for the official postgres
#     and rabbitmq images from Debian's packages (deploy/images/);
#  3. docker-compose.yml + deploy/compose/local-images.yml up with podman-compose, as
#     project "sales-ctest", the gateway and the RabbitMQ UI on free loopback ports (the
#     local system keeps 8080, 5432, 5672, 15672, 8001–8006);
#  4. every container's health check, then checks of the images' hardening;
#  5. a smoke test through the gateway: product, customer, order → CONFIRMED, shipment;
#  6. scale-out: a second replica of order, inventory and shipping; orders placed; each
#     replica consumed from its queue; no event applied twice;
#  7. everything torn down (also on failure): no container, network or volume stays.
#
# Caches (outside the clone, kept between runs): /var/cache/sales-containers
# (SALES_CONTAINER_CACHE): the base tarball, podman's image store (layers: an unchanged
# tree rebuilds nothing) and buildah's cache mounts (ccache: a changed tree recompiles
# only what changed). Remove the folder to start cold.
#
# Needs root (rootful podman, debootstrap; as another user it re-runs itself with
# password-less sudo, or is skipped — in CI it fails); installs podman, buildah, podman-compose,
# debootstrap, runc, netavark, aardvark-dns when missing. SALES_SKIP_CONTAINER_TEST=1 skips
# it (exit 77: ctest reports "Skipped"). SALES_CONTAINER_KEEP=1 leaves the stack up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
CACHE=${SALES_CONTAINER_CACHE:-/var/cache/sales-containers}
PROJECT=sales-ctest
SALES_IMAGE_TAG=localhost/sales:ctest
SALES_BUILD_TAG=localhost/sales-build:ctest
PG_IMAGE=localhost/sales-local/postgres:15
RMQ_IMAGE=localhost/sales-local/rabbitmq:3
BASE_IMAGE=docker.io/library/debian:bookworm-slim
BASE_MAX_AGE_DAYS=${SALES_CONTAINER_BASE_MAX_AGE_DAYS:-30}
T0=$SECONDS

step() { printf '==> [%4ss] %s\n' "$((SECONDS - T0))" "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [ "${SALES_SKIP_CONTAINER_TEST:-}" = 1 ]; then
  echo "SKIPPED: SALES_SKIP_CONTAINER_TEST=1 (the container test did not run)"
  exit 77
fi
if [ "$(id -u)" -ne 0 ]; then # rootful podman and debootstrap need root
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then exec sudo -n -E "$0" "$@"; fi
  [ "${CI:-}" = true ] && fail "the container test needs root (or password-less sudo)"
  echo "SKIPPED: the container test needs root or password-less sudo (run ./sales test as root)"
  exit 77
fi

# ------------------------------------------------------------------ tools

ensure_tools() {
  local pkgs=(podman buildah podman-compose debootstrap runc netavark aardvark-dns
    containernetworking-plugins iptables curl jq) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

# Our own podman configuration, so the test neither depends on nor changes the machine's:
# cgroupfs (no systemd here), runc, netavark, a store under the cache, and ulimits the
# sandbox allows (podman's defaults raise them, which this sandbox refuses).
configure_podman() {
  mkdir -p "$CACHE/conf" "$CACHE/tmp" /run/sales-containers
  local nofile nproc
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nofile" -gt 65536 ] && nofile=65536
  # (podman's own runc child cannot set more than 32768 processes here, whatever ulimit says)
  nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] && nproc=65536
  nproc=$((nproc / 2)); [ "$nproc" -gt 32768 ] && nproc=32768
  cat >"$CACHE/conf/containers.conf" <<EOF
# Written by deploy/test/compose-test.sh at every run.
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
[network]
network_backend = "netavark"
EOF
  cat >"$CACHE/conf/storage.conf" <<EOF
# Written by deploy/test/compose-test.sh at every run.
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "/run/sales-containers/storage"
EOF
  export CONTAINERS_CONF="$CACHE/conf/containers.conf"
  export CONTAINERS_STORAGE_CONF="$CACHE/conf/storage.conf"
  export TMPDIR="$CACHE/tmp" # buildah keeps RUN --mount=type=cache folders here
}

# podman without the noise of its missing systemd (health checks are run by hand below).
pm() { podman "$@" 2> >(grep -v 'systemd connection\|failed to connect to syslog' >&2); }

# ------------------------------------------------------------------ images

ensure_base_image() {
  local tar="$CACHE/debian-bookworm-slim.tar"
  if [ -f "$tar" ] && [ -n "$(find "$tar" -mtime +"$BASE_MAX_AGE_DAYS" 2>/dev/null)" ]; then
    info "the base tarball is older than $BASE_MAX_AGE_DAYS days: making a new one"
    rm -f "$tar"
    pm rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
  fi
  if pm image exists "$BASE_IMAGE"; then
    info "base image $BASE_IMAGE: cached"
    return 0
  fi
  if [ ! -f "$tar" ]; then
    step "making the Debian bookworm base with debootstrap (once; cached in $tar)"
    "$ROOT/deploy/images/debian/make-rootfs.sh" "$tar"
  fi
  step "importing $tar as $BASE_IMAGE"
  pm import --change 'CMD ["bash"]' "$tar" "$BASE_IMAGE" >/dev/null
}

build_image() { # TAG CONTEXT [DOCKERFILE [EXTRA ARGS...]]
  local tag=$1 ctx=$2 file=${3:-$2/Dockerfile} log="$WORK/build-${1##*/}.log" t=$SECONDS
  shift 3 2>/dev/null || shift $#
  step "building $tag"
  if ! pm build --format docker --pull=never --layers -t "$tag" -f "$file" \
    --build-arg BUILD_JOBS="${SALES_CONTAINER_BUILD_JOBS:-2}" "$@" "$ctx" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    fail "podman build of $tag failed (log above)"
  fi
  local cached
  cached=$(grep -c -- '--> Using cache' "$log" || true)
  info "built in $((SECONDS - t)) s ($cached steps from cache)"
  grep -E '^\s*(Hits|Misses|Cache size)' "$log" | head -n 3 | sed 's/^\s*/    ccache: /' || true
}

# ------------------------------------------------------------------ compose

compose() {
  podman-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" -f "$ROOT/deploy/compose/local-images.yml" "$@"
}

project_containers() { pm ps -a -q --filter "label=io.podman.compose.project=$PROJECT"; }
project_networks() { pm network ls -q --filter "label=io.podman.compose.project=$PROJECT"; }
project_volumes() { pm volume ls -q --filter "label=io.podman.compose.project=$PROJECT"; }

# teardown: containers, the project's networks and volumes; everything by label, so a
# run that was killed half-way is cleaned up by the next one.
teardown() {
  local ids
  ids=$(project_containers)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || pm rm -f -v -t 5 $ids >/dev/null 2>&1 || true
  ids=$(project_networks)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || pm network rm -f $ids >/dev/null 2>&1 || true
  ids=$(project_volumes)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || pm volume rm -f $ids >/dev/null 2>&1 || true
  pm container cleanup --all >/dev/null 2>&1 || true
}

show_logs() {
  local c
  for c in $(pm ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT"); do
    printf -- '---- %s (%s) ----\n' "$c" "$(pm inspect -f '{{.State.Status}} exit={{.State.ExitCode}}' "$c" 2>/dev/null)" >&2
    pm logs --tail 25 "$c" 2>&1 | cut -c1-400 >&2 || true
  done
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${STACK_UP:-}" ]; then
    echo "---- logs of the stack (the test failed) ----" >&2
    show_logs
  fi
  if [ -n "${STACK_UP:-}" ] && [ "${SALES_CONTAINER_KEEP:-}" = 1 ]; then
    echo "SALES_CONTAINER_KEEP=1: the stack stays up (gateway on 127.0.0.1:$GW_PORT); remove it with:"
    echo "  CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF podman-compose -p $PROJECT -f docker-compose.yml -f deploy/compose/local-images.yml down -v"
  elif [ -n "${STACK_UP:-}" ]; then
    step "tearing down"
    teardown
    local left
    left="$(project_containers)$(project_networks)$(project_volumes)"
    if [ -n "$left" ]; then
      echo "FAIL: left behind: $left" >&2
      [ "$rc" -eq 0 ] && rc=1
    else
      info "no container, network or volume of $PROJECT is left"
    fi
  fi
  rm -rf "$WORK"
  step "done (exit $rc)"
  exit "$rc"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_healthy SECONDS: run every container's health check (podman schedules them with
# systemd timers, which this machine lacks) until all pass; this is depends_on's
# service_healthy, checked from the outside.
wait_healthy() {
  local deadline=$((SECONDS + $1)) c pending state
  while :; do
    pending=()
    for c in $(pm ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT"); do
      state=$(pm inspect -f '{{.State.Status}}' "$c")
      if [ "$state" != running ]; then
        grep -iE 'error|refused|denied' "$WORK/up.log" | tail -n 5 >&2 || true
        fail "$c is $state (exit $(pm inspect -f '{{.State.ExitCode}}' "$c"))"
      fi
      pm healthcheck run "$c" >/dev/null 2>&1 || pending+=("$c")
    done
    [ "${#pending[@]}" -eq 0 ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || fail "not healthy after $1 s: ${pending[*]}"
    sleep 3
  done
}

# ------------------------------------------------------------------ HTTP through the gateway

GW=''
api() { # METHOD PATH [JSON [HEADER...]] -> body in $BODY, status in $STATUS
  local out method=$1 path=$2 json=${3:-} header headers=()
  shift $(($# < 3 ? $# : 3))
  for header in "$@"; do headers+=(-H "$header"); done
  out=$(curl -sS -o - -w '\n%{http_code}' --max-time 10 -X "$method" "$GW$path" "${headers[@]}" \
    ${json:+-H 'Content-Type: application/json' --data "$json"}) || fail "$method $path: no answer"
  STATUS=${out##*$'\n'}
  BODY=${out%$'\n'*}
}
expect() { # STATUS WHAT
  [ "$STATUS" = "$1" ] || fail "$2: HTTP $STATUS (expected $1): $BODY"
}
# place_order JSON WHAT: POST /orders as a careful client does it, with an Idempotency-Key,
# sent again (2 s apart, for up to 60 s) after a 503 or 504: a repeat with the same key
# never makes a second order. Right after start, the order service's first calls to
# product and customer have waited on the container network's DNS past the gateway's
# deadline: once while other containers logged "hostname lookup failed" for rabbitmq, and
# once for over 17 s (three 504s in a row; glibc's getaddrinfo waits 5 s per query and
# tries each search domain, and podman's DNS did not answer yet). The service answers as
# soon as the lookup does; what this test checks is what follows.
place_order() {
  local key="compose-order-$RANDOM$RANDOM-$SECONDS" until=$((SECONDS + 60))
  while :; do
    api POST /orders "$1" "Idempotency-Key: $key"
    case "$STATUS" in 503 | 504) ;; *) break ;; esac
    [ "$SECONDS" -lt "$until" ] || break
    info "POST /orders: HTTP $STATUS; sent again with the same Idempotency-Key"
    sleep 2
  done
  expect 201 "$2"
}
# until_jq PATH FILTER SECONDS WHAT: GET PATH until the jq FILTER is true.
until_jq() {
  local deadline=$((SECONDS + $3))
  while :; do
    api GET "$1"
    [ "$STATUS" = 200 ] && jq -e "$2" <<<"$BODY" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$deadline" ] || fail "$4: not within $3 s; last answer HTTP $STATUS: $BODY"
    sleep 0.5
  done
}

# metric CONTAINER PORT NAME_AND_LABELS: a counter's value from the container's /metrics
# (read with bash inside the container: the image has no curl).
metric() {
  pm exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$2"'; printf "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; cat <&3' |
    tr -d '\r' | awk -v m="$3" 'index($0, m) == 1 { v = $NF } END { print (v == "" ? 0 : v) }'
}

# ------------------------------------------------------------------ the test

WORK=$(mktemp -d)
ensure_tools
mkdir -p "$CACHE"
exec 9>"$CACHE.lock"
if ! flock -n 9; then
  step "waiting for another container test on this machine to finish"
  flock 9
fi
configure_podman
trap on_exit EXIT
trap 'exit 130' INT TERM

STACK_UP=1 teardown # what a killed run may have left
ensure_base_image
# A snapshot of the tree as the build context: both builds below see the same files even
# while someone edits the work tree.
mkdir "$WORK/context"
tar -C "$ROOT" --exclude=./.git --exclude='./build*' --exclude=./.state --exclude=./.cache -cf - . |
  tar -C "$WORK/context" -xf -
# The build stage first, tagged, so that pruning the dangling images of earlier builds
# keeps the layers the next build starts from; the image then takes it from the cache.
build_image "$SALES_BUILD_TAG" "$WORK/context" "$WORK/context/Dockerfile" --target build
build_image "$SALES_IMAGE_TAG" "$WORK/context" "$WORK/context/Dockerfile"
pm image prune -f >/dev/null 2>&1 || true
build_image "$PG_IMAGE" "$ROOT/deploy/images/postgres"
build_image "$RMQ_IMAGE" "$ROOT/deploy/images/rabbitmq"

step "checking docker-compose.yml (what podman-compose does not enforce)"
python3 - "$ROOT/docker-compose.yml" <<'PY' || fail "docker-compose.yml breaks the rules above"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
svcs, bad = c["services"], []
sales = ["gateway", "product", "order", "customer", "payment", "inventory", "shipping"]
dbs = ["products", "orders", "customers", "payments", "inventory", "shipping"]
want = set(sales) | {f"{d}-db" for d in dbs} | {"rabbitmq"}
if set(svcs) != want: bad.append(f"services {sorted(set(svcs) ^ want)} differ from the seed's layout")
for name, s in svcs.items():
    if not s.get("healthcheck", {}).get("test"): bad.append(f"{name}: no health check")
    if s.get("restart") not in ("always", "unless-stopped", "on-failure"): bad.append(f"{name}: no restart policy")
    for dep, cond in (s.get("depends_on") or {}).items():
        if not isinstance(cond, dict) or cond.get("condition") != "service_healthy": bad.append(f"{name}: depends_on {dep} without service_healthy")
    ports = s.get("ports") or []
    if ports and name not in ("gateway", "rabbitmq"): bad.append(f"{name}: publishes {ports}")
    if "backend" not in (s.get("networks") or []): bad.append(f"{name}: not on the backend network")
for d in dbs:
    s = svcs.get(f"{d}-db", {})
    env = s.get("environment", {})
    if env.get("POSTGRES_DB") != f"{d}_db": bad.append(f"{d}-db: database is not {d}_db")
    if not any(str(v).startswith(f"{d}-db-data:") for v in s.get("volumes", [])): bad.append(f"{d}-db: no named volume {d}-db-data")
    svc = next(n for n in sales if svcs[n].get("environment", {}).get("DB_NAME") == f"{d}_db")
    if svcs[svc]["depends_on"].get(f"{d}-db") is None: bad.append(f"{svc}: does not wait for {d}-db")
for n in sales:
    s = svcs[n]
    if not s.get("read_only") or "ALL" not in (s.get("cap_drop") or []): bad.append(f"{n}: not read-only or keeps capabilities")
    if s.get("environment", {}).get("BIND_HOST") != "0.0.0.0": bad.append(f"{n}: BIND_HOST is not 0.0.0.0")
if not c["networks"]["backend"].get("internal"): bad.append("the backend network is not internal")
if [p for p in svcs["gateway"]["ports"] if not str(p).endswith(":8080")]: bad.append("the gateway is not published on 8080")
if not svcs["gateway"].get("environment", {}).get("GATEWAY_ADMIN_SOURCES"): bad.append("the gateway's /metrics is open to any client")
if "rabbitmq" not in svcs["rabbitmq"]["image"] or "management" not in svcs["rabbitmq"]["image"]: bad.append("RabbitMQ is not the official management image")
if any(not svcs[f"{d}-db"]["image"].startswith("postgres:") for d in dbs): bad.append("a database is not the official postgres image")
for b in bad: print("    " + b)
sys.exit(1 if bad else 0)
PY
info "seed layout, health checks, restart policies, service_healthy, only gateway and UI published"

GW_PORT=${SALES_CONTAINER_GATEWAY_PORT:-$(free_port)}
UI_PORT=${SALES_CONTAINER_RABBITMQ_UI_PORT:-$(free_port)}
GW="http://127.0.0.1:$GW_PORT"
export SALES_IMAGE=$SALES_IMAGE_TAG SALES_GATEWAY_PORT=$GW_PORT SALES_RABBITMQ_UI_PORT=$UI_PORT

step "compose up: project $PROJECT, gateway on 127.0.0.1:$GW_PORT, RabbitMQ UI on 127.0.0.1:$UI_PORT"
STACK_UP=1
if ! compose up -d --no-build >"$WORK/up.log" 2>&1; then
  tail -n 40 "$WORK/up.log" >&2
  fail "podman-compose up failed"
fi
info "$(project_containers | wc -l) containers"
step "waiting until every container's health check passes"
wait_healthy 300
info "all healthy"

step "checking the images and the isolation"
c="${PROJECT}_product_1"
[ "$(pm exec "$c" id -u)" = 10001 ] || fail "the service does not run as the non-root user 10001"
pm exec "$c" touch /usr/local/bin/x 2>/dev/null && fail "the root file system of $c is writable"
pm exec "$c" touch /srv/sales/x 2>/dev/null && fail "the working directory of $c is writable"
[ "$(pm inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$c")" = true ] || fail "$c: root file system not read-only"
[ -n "$(pm image inspect -f '{{.Config.Healthcheck}}' "$SALES_IMAGE_TAG" | grep -v '^<nil>$')" ] ||
  fail "the sales image has no HEALTHCHECK"
published=$(pm ps --format '{{.Names}} {{.Ports}}' --filter "label=io.podman.compose.project=$PROJECT" | awk 'NF > 1 && $2 != "" { print $1 }' | sort | tr '\n' ' ')
[ "$published" = "${PROJECT}_gateway_1 ${PROJECT}_rabbitmq_1 " ] || fail "published: '$published' (only the gateway and the RabbitMQ UI may be)"
[ "$(pm network inspect -f '{{.Internal}}' "${PROJECT}_backend")" = true ] || fail "the backend network is not internal"
curl -fsS --max-time 5 -o /dev/null -u "sales:sales-dev-password" "http://127.0.0.1:$UI_PORT/api/overview" ||
  fail "the RabbitMQ management UI does not answer on 127.0.0.1:$UI_PORT"
info "uid 10001, read-only root, HEALTHCHECK, only gateway and RabbitMQ UI published, backend internal"
for pair in gateway:536870912 order:268435456 orders-db:1073741824 rabbitmq:1073741824; do
  got=$(pm inspect -f '{{.HostConfig.Memory}}' "${PROJECT}_${pair%%:*}_1")
  [ "$got" = "${pair#*:}" ] || fail "${pair%%:*}: memory limit $got, not ${pair#*:} (docker-compose.yml)"
done
alarm=$(pm exec "${PROJECT}_rabbitmq_1" rabbitmqctl -q eval 'vm_memory_monitor:get_memory_limit().' | tr -d '[:space:]')
[ "$alarm" = 536870912 ] || fail "the broker's memory alarm is at '$alarm' bytes, not half its container's limit"
info "memory limits: gateway 512 MiB, services 256 MiB, databases and broker 1 GiB; the broker's alarm at 512 MiB"

step "smoke test through the gateway"
api GET /health
expect 200 "GET /health"
jq -e '.status' <<<"$BODY" >/dev/null || fail "GET /health: $BODY"
api POST /products '{"name":"Container lamp","price":19.99,"description":"compose test","stock":10}'
expect 201 "POST /products"
product=$(jq -r .id <<<"$BODY")
api POST /customers '{"name":"Ann Container","address":"1 Compose St, Springfield","contact":"+1 555 0100","email":"ann@compose.example"}'
expect 201 "POST /customers"
customer=$(jq -r .id <<<"$BODY")
until_jq "/inventory/stock/$product" '.stock == 10' 30 "inventory took over the product's stock"
place_order "{\"customer_id\":$customer,\"items\":[{\"product_id\":$product,\"quantity\":2}]}" "POST /orders"
order=$(jq -r .id <<<"$BODY")
info "product $product, customer $customer, order $order ($(jq -r .status <<<"$BODY"))"
until_jq "/orders/$order" '.status == "CONFIRMED"' 60 "order $order CONFIRMED"
until_jq "/shipping?order_id=$order" '.total == 1 and .items[0].order_id == '"$order" 30 "shipment of order $order"
info "order $order CONFIRMED; shipment $(jq -r '.items[0].id' <<<"$BODY") $(jq -r '.items[0].status' <<<"$BODY")"
until_jq "/inventory/stock/$product" '.stock == 8' 30 "stock 10 - 2"
until_jq "/products/$product" '.stock == 8' 30 "the product's read copy of the stock"

step "scale-out: a second replica of order, inventory and shipping"
# Healthy with the broker (/health/ready, as compose's check): the image's default ignores
# it, and a replica not yet consuming would take no share of the orders below.
for svc in order inventory shipping; do
  src="${PROJECT}_${svc}_1"
  pm inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$src" | grep -v '^$' >"$WORK/$svc.env"
  pm run -d --name "${PROJECT}_${svc}_2" --label "io.podman.compose.project=$PROJECT" \
    --net "${PROJECT}_backend" --network-alias "$svc" --read-only --tmpfs /tmp \
    --cap-drop ALL --security-opt no-new-privileges --env-file "$WORK/$svc.env" \
    --memory "$(pm inspect -f '{{.HostConfig.Memory}}' "$src")" \
    --health-cmd '["/usr/local/bin/sales-healthcheck", "/health/ready"]' "$SALES_IMAGE_TAG" "$svc" >/dev/null
done
wait_healthy 120
api POST /products '{"name":"Replica lamp","price":5.00,"stock":100}'
expect 201 "POST /products"
product2=$(jq -r .id <<<"$BODY")
until_jq "/inventory/stock/$product2" '.stock == 100' 30 "stock of product $product2"
orders=()
for i in $(seq 1 12); do
  place_order "{\"customer_id\":$customer,\"items\":[{\"product_id\":$product2,\"quantity\":1}]}" "POST /orders ($i)"
  orders+=("$(jq -r .id <<<"$BODY")")
done
for o in "${orders[@]}"; do
  until_jq "/orders/$o" '.status == "CONFIRMED"' 60 "order $o CONFIRMED with two replicas"
  until_jq "/shipping?order_id=$o" '.total == 1' 30 "exactly one shipment of order $o"
done
until_jq "/inventory/stock/$product2" '.stock == 88' 30 "stock 100 - 12 (no reservation applied twice)"
for q in inventory:8005:inventory_queue shipping:8006:shipping_queue order:8002:order_queue; do
  IFS=: read -r svc port queue <<<"$q"
  a=$(metric "${PROJECT}_${svc}_1" "$port" "sales_events_consumed_total{queue=\"$queue\"}")
  b=$(metric "${PROJECT}_${svc}_2" "$port" "sales_events_consumed_total{queue=\"$queue\"}")
  info "$queue: replica 1 consumed $a, replica 2 consumed $b"
  [ "${b%.*}" -gt 0 ] || fail "the second $svc replica consumed nothing from $queue (competing consumers)"
done
info "12 orders CONFIRMED, 12 shipments, stock exact, both replicas consumed"

step "the operators' dead-letter tool in a service's container"
# sales-dlq ARGS in the inventory container, printing its output. podman's aardvark-dns has
# failed to resolve a name it knew for over 10 s (sales-dlq's own patience for the broker),
# just after the scale-out added containers to the network: the tool gets three tries, each
# failure shown (on stderr) with what the container's resolver says then. A try that cannot
# reach the broker moves nothing, so a requeue may be tried again.
dlq_in_inventory() {
  local out try
  for try in 1 2 3; do
    out=$(pm exec "${PROJECT}_inventory_1" sales-dlq "$@" 2>&1) && { printf '%s\n' "$out"; return 0; }
    info "sales-dlq $*, try $try: $out; getent hosts rabbitmq: $(pm exec "${PROJECT}_inventory_1" getent hosts rabbitmq 2>&1 || echo "no answer")" >&2
    [ "$try" = 3 ] || sleep 5
  done
  printf '%s\n' "$out"
  return 1
}
dlq=$(dlq_in_inventory) || fail "sales-dlq in the inventory container: $dlq"
grep -qx 'inventory_queue.dlq *0' <<<"$dlq" || fail "sales-dlq did not list inventory_queue.dlq: $dlq"
moved=$(dlq_in_inventory requeue inventory_queue) || fail "sales-dlq requeue: $moved"
grep -qx "moved 0 messages from inventory_queue.dlq to inventory_queue" <<<"$moved" || fail "sales-dlq requeue: $moved"
info "sales-dlq reads the service's broker settings: $(tr '\n' ' ' <<<"$dlq")"

step "passed in $((SECONDS - T0)) s"
