#!/usr/bin/env bash
# Runs the aarch64 subset of the suite (tests/aarch64/suite.ts) under
# qemu-aarch64 in Deno, Bun and Node 26 for linux-arm64, after setting the
# toolchain up. Usage: run.sh [deno|bun|node ...] (default: all three).
# Each runtime prints `aarch64-<runtime>: N passed, N failed, N skipped`.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/aarch64/_env.sh
source "$HERE/_env.sh"

"$HERE/setup.sh" || exit 1
cd "$REPO"

# What the tests read: that they run under qemu (so madvise is checked in
# qemu's log, not in smaps), where the probe's values are, and how a test
# starts a child of the same runtime (this machine has no binfmt_misc
# entry for arm64 binaries, so the emulator must be named).
export SECMEM_TEST_QEMU=aarch64
export SECMEM_AARCH64_PROBE="$PROBE.json"
export SECMEM_TEST_EXEC_WRAPPER="$QEMU"

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(deno bun node)
status=0
total=$SECONDS
for name in "${runtimes[@]}"; do
  started=$SECONDS
  case "$name" in
  deno) command=("$DENO_ARM64" run --allow-all tests/aarch64/suite.ts) ;;
  bun) command=("$BUN_ARM64" tests/aarch64/suite.ts) ;;
  node)
    # --no-maglev: Node 26's node:ffi fast path crashes intermittently
    # (see the SPEC's machine facts); under emulation it is also slower.
    command=("$NODE_ARM64" --disable-warning=ExperimentalWarning --no-maglev
      tests/aarch64/suite.ts)
    ;;
  *)
    echo "aarch64: unknown runtime '$name'" >&2
    exit 2
    ;;
  esac
  "$QEMU" "${command[@]}" || status=1
  echo "aarch64: $name under qemu took $((SECONDS - started)) s"
done
echo "aarch64: pass took $((SECONDS - total)) s"
exit "$status"
