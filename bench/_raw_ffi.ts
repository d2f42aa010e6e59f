/**
 * Native calls bound straight with each runtime's own FFI, not through
 * secmem's adapters, so that the benchmark can tell the runtime's fixed
 * cost per call and the kernel's share apart from secmem's wrappers:
 * `getpid()` (the cheapest real call) and secmem's call sequence for one
 * buffer. Benchmark tooling only.
 *
 * @module
 */

import process from "node:process";
import { LINUX } from "../ffi/linux.ts";

/** A bound `getpid()` and the name of the FFI that bound it. */
export interface RawGetpid {
  ffi: string;
  getpid(): number;
}

type Call = (...args: unknown[]) => unknown;

interface DenoDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, Call> };
}

interface BunDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, Call> };
}

interface NodeDlopen {
  dlopen(
    path: string,
    symbols: Record<string, { arguments: string[]; return: string }>,
  ): { functions: Record<string, Call> };
}

const host = globalThis as unknown as { Deno?: DenoDlopen; Bun?: unknown };
const getBuiltin = (id: string): unknown =>
  (process as unknown as { getBuiltinModule(id: string): unknown })
    .getBuiltinModule(id);

/** A C signature in neutral words, translated per runtime below. */
type Kind = "i32" | "u64" | "i64" | "void" | "buffer";
type Signature = { parameters: Kind[]; result: Kind };

const DENO: Record<Kind, string> = {
  i32: "i32",
  u64: "usize",
  i64: "i64",
  void: "void",
  buffer: "buffer",
};
const BUN: Record<Kind, string> = {
  i32: "i32",
  u64: "u64",
  i64: "i64",
  void: "void",
  buffer: "ptr",
};
const NODE: Record<Kind, string> = {
  i32: "int32",
  u64: "uint64",
  i64: "int64",
  void: "void",
  buffer: "buffer",
};

/**
 * Binds `symbols` from libc with the running runtime's own FFI, every
 * pointer declared as a 64-bit integer (passed as bigint, which is what
 * keeps Deno's and Node's fast call paths).
 */
function bindRaw(
  symbols: Record<string, Signature>,
): { ffi: string; fns: Record<string, Call> } {
  const entries = Object.entries(symbols);
  if (host.Deno !== undefined) {
    const lib = host.Deno.dlopen(
      "libc.so.6",
      Object.fromEntries(entries.map(([name, sig]) => [name, {
        parameters: sig.parameters.map((k) => DENO[k]),
        result: DENO[sig.result],
      }])),
    );
    return { ffi: "Deno.dlopen", fns: lib.symbols };
  }
  if (host.Bun !== undefined) {
    const ffi = getBuiltin("bun:ffi") as BunDlopen;
    const lib = ffi.dlopen(
      "libc.so.6",
      Object.fromEntries(entries.map(([name, sig]) => [name, {
        args: sig.parameters.map((k) => BUN[k]),
        returns: BUN[sig.result],
      }])),
    );
    return { ffi: "bun:ffi", fns: lib.symbols };
  }
  const ffi = getBuiltin("node:ffi") as NodeDlopen;
  const lib = ffi.dlopen(
    "libc.so.6",
    Object.fromEntries(entries.map(([name, sig]) => [name, {
      arguments: sig.parameters.map((k) => NODE[k]),
      return: NODE[sig.result],
    }])),
  );
  return { ffi: "node:ffi", fns: lib.functions };
}

/**
 * A clock of the calling thread's CPU time in nanoseconds
 * (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`): time the main thread spent
 * running, not waiting for a CPU, so other load on a shared machine does
 * not count. (`process.threadCpuUsage()` ticks in 10 ms steps in Deno.)
 */
export function threadCpuClock(): () => number {
  const { fns } = bindRaw({
    clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  });
  const clockGettime = fns.clock_gettime;
  const timespec = new BigInt64Array(2);
  const bytes = new Uint8Array(timespec.buffer);
  const CLOCK_THREAD_CPUTIME_ID = 3;
  return () => {
    if (clockGettime(CLOCK_THREAD_CPUTIME_ID, bytes) !== 0) {
      throw new Error("clock_gettime failed");
    }
    return Number(timespec[0]) * 1e9 + Number(timespec[1]);
  };
}

const READ_WRITE = LINUX.PROT_READ | LINUX.PROT_WRITE;

/**
 * secmem's layout made by hand: three pages reserved inaccessible, the
 * middle one mapped over them locked, with `protection`.
 */
function mapOnePage(
  mmap: (...args: unknown[]) => unknown,
  page: bigint,
  protection: number,
): { base: bigint; data: bigint } {
  const reserve = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS | LINUX.MAP_NORESERVE;
  const base = BigInt(
    mmap(0n, 3n * page, LINUX.PROT_NONE, reserve, -1, 0n) as bigint,
  );
  if (base === LINUX.MAP_FAILED) throw new Error("mmap failed");
  const data = base + page;
  const commit = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS | LINUX.MAP_FIXED |
    LINUX.MAP_LOCKED;
  if (BigInt(mmap(data, page, protection, commit, -1, 0n) as bigint) !== data) {
    throw new Error("mmap MAP_FIXED failed");
  }
  return { base, data };
}

/** Binds `getpid` from libc with the running runtime's FFI. */
export function rawGetpid(): RawGetpid {
  const { ffi, fns } = bindRaw({ getpid: { parameters: [], result: "i32" } });
  return { ffi, getpid: fns.getpid as () => number };
}

/**
 * secmem's eight native calls for one buffer of one data page (reserve,
 * commit locked, two madvise, rest, open, wipe, unmap) made straight
 * through the runtime's FFI with every 64-bit argument a bigint: what an
 * adapter with no overhead of its own would cost in this runtime.
 */
export function rawFloor(pageSize: number): () => void {
  const { fns } = bindRaw({
    mmap: {
      parameters: ["u64", "u64", "i32", "i32", "i32", "i64"],
      result: "u64",
    },
    mprotect: { parameters: ["u64", "u64", "i32"], result: "i32" },
    madvise: { parameters: ["u64", "u64", "i32"], result: "i32" },
    munmap: { parameters: ["u64", "u64"], result: "i32" },
    explicit_bzero: { parameters: ["u64", "u64"], result: "void" },
  });
  const { mmap, mprotect, madvise, munmap, explicit_bzero } = fns;
  const page = BigInt(pageSize);
  const total = 3n * page;
  return () => {
    const { base, data } = mapOnePage(mmap, page, READ_WRITE);
    if (madvise(data, page, LINUX.MADV_DONTDUMP) !== 0) {
      throw new Error("madvise failed");
    }
    if (madvise(data, page, LINUX.MADV_WIPEONFORK) !== 0) {
      throw new Error("madvise failed");
    }
    if (mprotect(data, page, LINUX.PROT_NONE) !== 0) {
      throw new Error("mprotect failed");
    }
    if (mprotect(data, page, READ_WRITE) !== 0) {
      throw new Error("mprotect failed");
    }
    explicit_bzero(data, page);
    if (munmap(base, total) !== 0) throw new Error("munmap failed");
  };
}

/**
 * A read scope's two protection changes (readonly, then back to noaccess)
 * on a data page laid out as secmem lays it out (locked, between two guard
 * pages), straight through the runtime's FFI: the least a read scope can
 * cost in this runtime. Returns the toggle and its cleanup.
 */
export function rawToggle(
  pageSize: number,
): { toggle: () => void; release: () => void } {
  const { fns } = bindRaw({
    mmap: {
      parameters: ["u64", "u64", "i32", "i32", "i32", "i64"],
      result: "u64",
    },
    mprotect: { parameters: ["u64", "u64", "i32"], result: "i32" },
    munmap: { parameters: ["u64", "u64"], result: "i32" },
  });
  const { mmap, mprotect, munmap } = fns;
  const page = BigInt(pageSize);
  const { base, data } = mapOnePage(mmap, page, LINUX.PROT_NONE);
  return {
    toggle() {
      if (mprotect(data, page, LINUX.PROT_READ) !== 0) {
        throw new Error("mprotect failed");
      }
      if (mprotect(data, page, LINUX.PROT_NONE) !== 0) {
        throw new Error("mprotect failed");
      }
    },
    release: () => void munmap(base, 3n * page),
  };
}
