/**
 * The cheapest FFI call each runtime can make, `getpid()` bound straight
 * with the runtime's own FFI (not through secmem's adapters), so that the
 * benchmark can tell the runtime's fixed cost per native call apart from
 * secmem's wrappers and from the kernel. Benchmark tooling only.
 *
 * @module
 */

import process from "node:process";

/** A bound `getpid()` and the name of the FFI that bound it. */
export interface RawGetpid {
  ffi: string;
  getpid(): number;
}

interface DenoDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: { getpid(): number } };
}

interface BunDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: { getpid(): number } };
}

interface NodeDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { arguments: string[]; return: string }>,
  ): { functions: { getpid(): number } };
}

const host = globalThis as unknown as { Deno?: DenoDlopen; Bun?: unknown };
const getBuiltin = (id: string): unknown =>
  (process as unknown as { getBuiltinModule(id: string): unknown })
    .getBuiltinModule(id);

/** Binds `getpid` from libc with the running runtime's FFI. */
export function rawGetpid(): RawGetpid {
  if (host.Deno !== undefined) {
    const lib = host.Deno.dlopen("libc.so.6", {
      getpid: { parameters: [], result: "i32" },
    });
    return { ffi: "Deno.dlopen", getpid: lib.symbols.getpid };
  }
  if (host.Bun !== undefined) {
    const ffi = getBuiltin("bun:ffi") as BunDlopen;
    const lib = ffi.dlopen("libc.so.6", {
      getpid: { args: [], returns: "i32" },
    });
    return { ffi: "bun:ffi", getpid: lib.symbols.getpid };
  }
  const ffi = getBuiltin("node:ffi") as NodeDlopen;
  const lib = ffi.dlopen("libc.so.6", {
    getpid: { arguments: [], return: "int32" },
  });
  return { ffi: "node:ffi", getpid: lib.functions.getpid };
}
