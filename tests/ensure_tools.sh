#!/bin/sh
# Installs the real clients the interop tests talk to (age, age-keygen,
# ssh-keygen) from apt when any is missing; does nothing when all are there.
# Another install may hold the dpkg lock: wait for it instead of failing.
set -eu
missing=""
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 || missing="$missing age"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
[ -z "$missing" ] && exit 0
command -v apt-get >/dev/null 2>&1 || {
  echo "ensure_tools: missing$missing and no apt-get: install them by hand" >&2
  exit 1
}
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
# A stale package list can name versions the mirror no longer has.
$sudo apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends $missing >&2 ||
  { $sudo apt-get -o DPkg::Lock::Timeout=600 -q update >&2 &&
    $sudo apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends $missing >&2; }
