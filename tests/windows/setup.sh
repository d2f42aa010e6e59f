#!/usr/bin/env bash
# Installs what the Windows test run needs and prints how long each step
# took: Debian's wine and mingw-w64 (apt), Bun for Windows (npm), the
# bcryptprimitives.dll shim built beside bun.exe, and a Wine prefix.
# Idempotent: steps already done are skipped. Needs root (or sudo) for apt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/windows/_env.sh
source "$HERE/_env.sh"

started=$SECONDS
# Two runs of the suite at once share this toolchain directory: the second
# waits here until the first has finished setting it up, then finds it done.
mkdir -p "$SECMEM_WINE_HOME"
exec 9>"$SECMEM_WINE_HOME/.setup.lock"
flock 9
step() { # step NAME COMMAND...: runs a step and reports its duration
  local name=$1 t0=$SECONDS
  shift
  "$@"
  echo "setup: $name done in $((SECONDS - t0)) s"
}


fetch_bun() {
  # The package declares os: win32, so npm install refuses it here; npm pack
  # downloads the tarball without that check.
  local work
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent \
    "@oven/bun-windows-x64-baseline@$BUN_WINDOWS_VERSION" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  mkdir -p "$BUN_WINDOWS_DIR"
  mv "$work/package/bin/bun.exe" "$BUN_EXE"
  rm -rf "$work"
}

build_shim() {
  x86_64-w64-mingw32-gcc -O2 -s -shared -o "$SHIM_DLL" \
    "$HERE/bcryptprimitives.c" -ladvapi32
}

make_prefix() {
  mkdir -p "$WINEPREFIX"
  wineboot --init >/dev/null 2>&1
  wineserver --wait
}

# wine64 alone: the 32-bit half (wine32:i386) is not needed for bun.exe.
step "apt packages" bash "$REPO/scripts/apt_ensure.sh" wine wine64 gcc-mingw-w64-x86-64
if [ -z "$BUN_WINDOWS_VERSION" ]; then
  echo "setup: cannot find Bun's version in $REPO/package.json; set BUN_WINDOWS_VERSION" >&2
  exit 1
fi
[ -f "$BUN_EXE" ] || step "npm pack @oven/bun-windows-x64-baseline@$BUN_WINDOWS_VERSION" fetch_bun
[ "$SHIM_DLL" -nt "$HERE/bcryptprimitives.c" ] || step "build bcryptprimitives.dll" build_shim
[ -f "$WINEPREFIX/system.reg" ] || step "create the Wine prefix" make_prefix

# Prove the chain works before any test runs.
version="$(wine "$BUN_EXE" -e 'console.log(process.platform, process.arch, Bun.version)' 2>/dev/null)"
if [ "$version" != "win32 x64 $BUN_WINDOWS_VERSION" ]; then
  echo "setup: wine bun.exe does not start (printed: '$version')" >&2
  exit 1
fi
echo "setup: wine bun.exe runs ($version); total $((SECONDS - started)) s"
