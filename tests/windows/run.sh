#!/usr/bin/env bash
# Runs the test suite under Bun for Windows in Wine: `wine bun.exe
# tests/run.ts [filter]`, then (without a filter) the lock-limit tests again
# in a process that may lock only 64 KiB. Sets the toolchain up first.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/windows/_env.sh
source "$HERE/_env.sh"

"$HERE/setup.sh"
cd "$REPO"

# This run's own copy of the prepared prefix: its wineserver is its own, so
# the `wineserver --kill` below cannot end the processes of another run of
# the suite that shares the toolchain directory.
run_prefix="$(mktemp -d "$SECMEM_WINE_HOME/run.XXXXXX")"
cp -a "$WINEPREFIX/." "$run_prefix/"
export WINEPREFIX="$run_prefix"
trap 'wineserver --kill 2>/dev/null || true; rm -rf "$run_prefix"' EXIT

status=0
started=$SECONDS
wine "$BUN_EXE" tests/run.ts "$@" || status=$?

if [ $# -eq 0 ]; then
  # Cap RLIMIT_MEMLOCK and Wine's VirtualLock (mlock underneath) is refused.
  # Root holds CAP_IPC_LOCK, which lifts every lock limit: drop it first.
  drop_lock_capability=()
  if [ "$(id -u)" -eq 0 ]; then
    drop_lock_capability=(setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock)
  fi
  SECMEM_TEST_LOCK_LIMIT=65536 "${drop_lock_capability[@]}" \
    prlimit --memlock=65536 -- \
    wine "$BUN_EXE" tests/run.ts "windows_test.ts > lock limit" || status=$?
fi

# Stop the wineserver this run started, so no process outlives the run
# (the trap above does it again, harmlessly, and removes the prefix).
wineserver --kill || true
echo "windows: suite under wine took $((SECONDS - started)) s"
exit "$status"
