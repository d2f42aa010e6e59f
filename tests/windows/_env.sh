# Shared by setup.sh and run.sh: where the Windows toolchain for the tests
# lives, and a quiet Wine that needs no display. Sourced, not run.

# Everything Wine-related sits in one directory outside the repository.
SECMEM_WINE_HOME="${SECMEM_WINE_HOME:-${TMPDIR:-/tmp}/secmem-wine}"
# Bun for Windows at the same version as the Linux Bun in package.json.
BUN_WINDOWS_VERSION="${BUN_WINDOWS_VERSION:-$(sed -n 's/^ *"bun": *"\([^"]*\)".*/\1/p' "$REPO/package.json" | head -n 1)}"
BUN_WINDOWS_DIR="$SECMEM_WINE_HOME/bun-$BUN_WINDOWS_VERSION"
BUN_EXE="$BUN_WINDOWS_DIR/bun.exe"
SHIM_DLL="$BUN_WINDOWS_DIR/bcryptprimitives.dll"

# A prefix of our own, never the user's ~/.wine.
export WINEPREFIX="$SECMEM_WINE_HOME/prefix"
# Wine's fixme/err chatter would bury the test output.
export WINEDEBUG="${WINEDEBUG:--all}"
# Console programs need no X server; without DISPLAY Wine does not look for one.
unset DISPLAY WAYLAND_DISPLAY
# wineboot would offer to install Mono and Gecko: nothing here needs them.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
