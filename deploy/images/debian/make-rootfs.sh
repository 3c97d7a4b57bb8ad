#!/usr/bin/env bash
# make-rootfs.sh OUT.tar: a Debian 12 "bookworm" root file system, close to the official
# debian:bookworm-slim image (minbase, no docs/man pages/locales, apt cleaned), made with
# debootstrap from the mirrors this machine's apt already uses. The container test imports
# it as docker.io/library/debian:bookworm-slim where no image registry is reachable.
set -euo pipefail

out=${1:?usage: make-rootfs.sh OUT.tar}
[ "$(id -u)" -eq 0 ] || { echo "make-rootfs.sh: needs root (debootstrap)" >&2; exit 1; }

# sources_uri SUITE: the first URI this machine's apt uses for SUITE (deb822 or one-line).
sources_uri() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      /^URIs:/   { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = uri }
      /^$/       { if (found) { print found; exit } uri = "" }
      END        { if (found) print found }' "$f" | head -n 1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' "$f"
  done
}

mirror=${SALES_DEBIAN_MIRROR:-$(sources_uri bookworm | head -n 1)}
security=${SALES_DEBIAN_SECURITY_MIRROR:-$(sources_uri bookworm-security | head -n 1)}
[ -n "$mirror" ] || { echo "make-rootfs.sh: no apt source for bookworm on this machine; set SALES_DEBIAN_MIRROR" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/sales-rootfs.XXXXXX")
trap 'umount -R "$work/root/proc" "$work/root/sys" 2>/dev/null || true; rm -rf "$work"' EXIT
root="$work/root"

echo "==> debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase --components=main bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# What debian:bookworm-slim adds on top of minbase (debuerreotype's "slimify" and
# docker tweaks): no docs, man pages or translations; apt keeps no .debs or lists.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
# As in Docker's Debian images: packages never start daemons while an image is built.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"

rm -f "$root/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security"
  fi
} >"$root/etc/apt/sources.list.d/debian.sources"

# Slim: drop what the path excludes would have kept out, and every cache.
rm -rf "$root"/usr/share/doc/*/[!c]* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/[!l]* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
  "$root"/var/cache/debconf/*-old "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* \
  "$root"/etc/machine-id "$root"/etc/hostname
: >"$root/etc/resolv.conf"
echo "==> packing $(du -sh "$root" | cut -f1) into $out"
tar --numeric-owner --xattrs -C "$root" -cf "$out.tmp" .
mv "$out.tmp" "$out"
