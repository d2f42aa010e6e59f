#!/usr/bin/env bash
# Usage: bash scripts/apt_ensure.sh PACKAGE...
# Installs the Debian packages that are missing, and nothing else: a package
# already installed costs one dpkg-query. Two scripts (or two runs of the
# suite) that need packages at the same moment wait for each other's dpkg
# lock instead of failing on it. Needs root (or sudo) when something is
# missing. Prints one line naming what it installed, or nothing.
set -euo pipefail

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
# Another apt-get (another run's, or unattended-upgrades) may hold the lock
# for minutes on a fresh machine: wait for it rather than fail.
apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"
}
# A fresh machine has no package lists yet (or stale ones): update first.
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "apt: installed ${missing[*]}"
