# shellcheck shell=bash
# System packages (apt) and the CMake build.

REQUIRED_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config g++
  libboost1.81-dev libboost-json1.81-dev
  libpq-dev librabbitmq-dev libspdlog-dev libfmt-dev libmimalloc-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  postgresql-15 postgresql-client-15 rabbitmq-server curl jq
  procps   # ps, pgrep: used by ./sales itself
  iproute2 # ss: names the process holding a port ./sales needs
)

# What only ./sales test needs, installed before ctest starts (a sudo prompt in the middle of
# the run would block it): iptables blackholes a port to make a database host vanish
# (platform/test/pg/unreachable_server_test.cpp); wrk and python3 drive the bench's smoke
# run; capsh (libcap2-bin) drops CAP_SYS_PTRACE as a container does
# (deploy/test/process-identity-test.sh). (The bench installs nginx itself: Debian starts
# its service on installation, which the bench stops. The k8s test installs node and npm
# when no node is on the PATH at all: a NodeSource nodejs carries its own npm, which
# Debian's npm package would conflict with.)
# shellcheck disable=SC2034  # read by ./sales (cmd_build)
TEST_PACKAGES=(iptables wrk python3 libcap2-bin)

# Where Debian 12's exact package does not exist (e.g. on Ubuntu), the distribution's
# default version is used instead.
declare -A PACKAGE_FALLBACK=(
  [libboost1.81-dev]=libboost-dev
  [libboost-json1.81-dev]=libboost-json-dev
  [postgresql-15]=postgresql
  [postgresql-client-15]=postgresql-client
)

# installed_packages PKG...: print the given packages that are installed.
installed_packages() {
  dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null | awk '$2 == "installed" { print $1 }'
}

# apt_candidate PKG: apt knows an installable version of PKG.
apt_candidate() {
  local cand
  cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# ensure_packages: install whatever is missing (apt-get update only then).
ensure_packages() {
  have dpkg-query || die "this script needs a Debian or Ubuntu system (dpkg/apt)"
  local -A installed=()
  local pkg missing=()
  while read -r pkg; do installed[$pkg]=1; done < <(installed_packages \
    "${REQUIRED_PACKAGES[@]}" "${PACKAGE_FALLBACK[@]}")
  for pkg in "${REQUIRED_PACKAGES[@]}"; do
    [ -n "${installed[$pkg]:-}" ] && continue
    local alt=${PACKAGE_FALLBACK[$pkg]:-}
    [ -n "$alt" ] && [ -n "${installed[$alt]:-}" ] && continue
    missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  step "installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh cloud machine's first minutes: cloud-init or unattended-upgrades may hold the
  # dpkg lock; wait for it (up to 10 min) instead of failing at once.
  as_root apt-get -o DPkg::Lock::Timeout=600 update -q
  local to_install=()
  for pkg in "${missing[@]}"; do
    if apt_candidate "$pkg"; then
      to_install+=("$pkg")
    elif [ -n "${PACKAGE_FALLBACK[$pkg]:-}" ] && apt_candidate "${PACKAGE_FALLBACK[$pkg]}"; then
      info "$pkg is not available here; using ${PACKAGE_FALLBACK[$pkg]}"
      to_install+=("${PACKAGE_FALLBACK[$pkg]}")
    else
      die "package $pkg is not available from apt (Debian 12 is the supported target)"
    fi
  done
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    "${to_install[@]}" </dev/null
}

# ---------------------------------------------------------------- build

# build: configure once (Release, Ninja), then let ninja bring everything up to date.
# SALES_SKIP_BUILD=1 skips it (start whatever is built, e.g. while the tree is broken).
build() {
  if [ "${SALES_SKIP_BUILD:-}" = 1 ]; then
    info "SALES_SKIP_BUILD=1: not building"
    return 0
  fi
  # One compiler cache per user, shared by every clone (paths made relative to the clone),
  # so a fresh clone or CI on a machine that built before compiles in seconds.
  export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}"
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$SALES_ROOT}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  ensure_state_dirs
  # Warnings are errors with CI's compiler (AUTO: GCC 12), not only in CI: a warning that
  # passes here and fails there leaves main red (it happened: a stray namespace brace in a
  # unity batch). SALES_WERROR=ON or OFF decides it for any compiler.
  local werror="${SALES_WERROR:-AUTO}"
  werror=${werror^^}  # CMake compares AUTO exactly: "auto" would be a true value, ON
  case $werror in AUTO | ON | OFF) ;; *) die "SALES_WERROR=$SALES_WERROR: must be AUTO, ON or OFF" ;; esac
  [ "${CI:-}" = true ] && [ -z "${SALES_WERROR:-}" ] && werror=ON  # CI's rule, whatever its compiler
  if [ ! -f "$BUILD_DIR/build.ninja" ] ||
    ! grep -qE "^SALES_WERROR:[A-Z]+=$werror\$" "$BUILD_DIR/CMakeCache.txt"; then
    if [ -f "$BUILD_DIR/CMakeCache.txt" ] &&
      ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$BUILD_DIR/CMakeCache.txt"; then
      die "$BUILD_DIR was configured with another generator; remove it (rm -rf build) and retry"
    fi
    step "configuring the build (Release, SALES_WERROR=$werror)"
    cmake -S "$SALES_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSALES_WERROR="$werror"
  fi
  step "building"
  cmake --build "$BUILD_DIR"
}
