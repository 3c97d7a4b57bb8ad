#!/usr/bin/env bash
# k8s-validate.sh: the Kubernetes manifests, validated offline (ctest: k8s_manifests).
# `kubectl kustomize` renders the base and every overlay under deploy/k8s/overlays; each
# rendered object is validated by deploy/test/k8s/validate.mjs (kubernetes-models for the
# Kubernetes schemas, strict about unknown fields; our schemas for the operators' objects;
# the project's rules). The npm packages are installed once, pinned by package-lock.json,
# into a cache outside the clone (SALES_K8S_VALIDATE_CACHE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SRC="$ROOT/deploy/test/k8s"
if [ "$(id -u)" -eq 0 ]; then default_cache=/var/cache/sales-k8s-validate; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/sales/k8s-validate"; fi
CACHE=${SALES_K8S_VALIDATE_CACHE:-$default_cache}

skip_or_fail() { # no tool: CI must have it; elsewhere the test is skipped, saying why
  if [ "${CI:-}" = true ]; then echo "FAIL: $*" >&2; exit 1; fi
  echo "SKIPPED: $*"
  exit 77
}

# A kustomize that knows `resources:` directories and `patches:` (kustomize v4+ /
# kubectl 1.21+): kubectl, or a standalone kustomize.
render() { # DIR
  if [ -n "${KUSTOMIZE:-}" ]; then "$KUSTOMIZE" build "$1"; else kubectl kustomize "$1"; fi
}
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1 &&
  [ "$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)" -ge 21 ] 2>/dev/null; then
  KUSTOMIZE=''
elif command -v kustomize >/dev/null; then
  KUSTOMIZE=kustomize
else
  skip_or_fail "no kubectl (1.21 or later) or kustomize to render deploy/k8s"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing nodejs and npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm </dev/null >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm </dev/null >/dev/null; }
  fi
  command -v node >/dev/null && command -v npm >/dev/null || skip_or_fail "no node and npm to validate deploy/k8s"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if ! cmp -s "$SRC/package-lock.json" "$CACHE/package-lock.json" || [ ! -d "$CACHE/node_modules/kubernetes-models" ]; then
  echo "==> installing the validator's npm packages into $CACHE"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$CACHE/"
  (cd "$CACHE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { echo "FAIL: npm ci in $CACHE failed" >&2; exit 1; }
fi
cp "$SRC/validate.mjs" "$SRC/crd-schemas.mjs" "$CACHE/"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render "$ROOT/deploy/k8s/base" >"$work/base.yaml" || { echo "FAIL: the base does not render" >&2; exit 1; }
args=()
for dir in "$ROOT"/deploy/k8s/overlays/*/; do
  name=$(basename "$dir")
  render "$dir" >"$work/$name.yaml" || { echo "FAIL: overlay $name does not render" >&2; exit 1; }
  args+=("$name=$work/$name.yaml")
done
[ "${#args[@]}" -gt 0 ] || { echo "FAIL: no overlay under deploy/k8s/overlays" >&2; exit 1; }
echo "==> rendered base and ${#args[@]} overlays with $(if [ -n "$KUSTOMIZE" ]; then echo kustomize; else echo kubectl kustomize; fi)"
node "$CACHE/validate.mjs" "${args[@]}"
