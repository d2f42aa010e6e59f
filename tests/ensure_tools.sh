#!/bin/sh
# Installs the real clients the interop tests talk to (age, age-keygen,
# ssh-keygen) from apt when any is missing; does nothing when all are there.
# The install itself is the project's one apt helper (it waits for another
# run's dpkg lock and updates the package lists first).
set -eu
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 &&
  command -v ssh-keygen >/dev/null 2>&1 && exit 0
exec bash "$(dirname "$0")/../scripts/apt_ensure.sh" age openssh-client >&2
