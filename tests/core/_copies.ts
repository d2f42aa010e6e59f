/**
 * Copies of secmem's probe in one process, for unit tests of
 * `_open.ts`, `_open_ranges.ts` and `_lend.ts`: each copy is a private
 * instance of those modules (as the npm package beside the sources would
 * be), all of them over one list of open ranges held in a plain buffer
 * (never the process's real list) and a fake thread clock.
 *
 * Views must alias the memory they lie over (the probe changes a byte
 * through one and reads it through the other), which the fake native
 * layer's copies do not: pages are mapped and viewed through the real
 * native layer, and given back by `release()`.
 *
 * @module
 */

import type { NativeMemory } from "../../src/core/_native.ts";
import type { Loan } from "../../src/core/_open.ts";
import { native } from "../../src/core/_native.ts";
import { freshGraph, NATIVE_STUB } from "./_fresh.ts";

/** One copy's modules. */
export interface Copy {
  readonly open: typeof import("../../src/core/_open.ts");
  readonly ranges: typeof import("../../src/core/_open_ranges.ts");
  readonly lend: typeof import("../../src/core/_lend.ts");
  readonly intrinsics: typeof import("../../src/core/_intrinsics.ts");
  /** The native layer this copy sees. */
  readonly memory: NativeMemory;
}

/** Pages mapped for a test, readable and writable. */
export interface Pages {
  readonly data: bigint;
  readonly length: number;
  /** A fresh view over them (aliases the memory). */
  view(offset?: number, length?: number): Uint8Array;
  release(): void;
}

/** A process with one shared list of open ranges. */
export interface Process {
  /** A new copy of the modules, in thread `tid` (started at `started`). */
  copy(tid?: number, started?: number): Promise<Copy>;
  /** What `threadStart(tid)` answers; a missing tid has ended. */
  readonly clock: Map<number, number | null>;
  /** Maps `pages` pages through the real native layer. */
  map(pages?: number): Pages;
}

const LIST_AT = 0x7e00_0000_0000n;

/** Builds the process. */
export function probeProcess(): Process {
  const real = native();
  const list = new ArrayBuffer(65536);
  const clock = new Map<number, number | null>();
  return {
    clock,
    async copy(tid = 101, started = 5000) {
      clock.set(tid, started);
      const modules = await freshGraph([
        "_lend.ts",
        "_open.ts",
        "_open_ranges.ts",
        "_intrinsics.ts",
        "errors.ts",
      ], { "_native.ts": NATIVE_STUB });
      const memory: NativeMemory = {
        ...real,
        view: (address, length) =>
          address === LIST_AT ? list : real.view(address, length),
        sharedSection: (_name, length) =>
          length === list.byteLength ? LIST_AT : undefined,
        currentThread: () => ({ id: tid, started }),
        threadStart: (of) => clock.has(of) ? clock.get(of)! : null,
      };
      (modules["_native.ts"] as {
        useNativeForTesting(memory: NativeMemory): void;
      }).useNativeForTesting(memory);
      return {
        open: modules["_open.ts"] as Copy["open"],
        ranges: modules["_open_ranges.ts"] as Copy["ranges"],
        lend: modules["_lend.ts"] as Copy["lend"],
        intrinsics: modules["_intrinsics.ts"] as Copy["intrinsics"],
        memory,
      };
    },
    map(pages = 1) {
      const page = real.pageSize;
      const length = pages * page;
      const base = real.reserve(length + 2 * page);
      const data = base + BigInt(page);
      if (real.commit(data, length, false) !== "ok") {
        real.release(base, length + 2 * page);
        throw new Error("could not commit test pages");
      }
      return {
        data,
        length,
        view: (offset = 0, size = length - offset) =>
          new Uint8Array(real.view(data + BigInt(offset), size)),
        release: () => real.release(base, length + 2 * page),
      };
    },
  };
}

/** A region over `pages` as `_region.ts` hands it to the probe (not yet marked open). */
export function region(
  copy: Copy,
  pages: Pages,
  size: number,
  protection: "readonly" | "readwrite" = "readwrite",
) {
  return {
    user: copy.intrinsics.markOwn(copy.memory.view(pages.data, size)),
    dataAddress: pages.data,
    dataLength: pages.length,
    userAddress: pages.data,
    layout: { size },
    protection: protection as "readonly" | "readwrite" | "noaccess",
    openEntry: -1,
    loans: undefined as Set<Loan> | undefined,
    holds: copy.open.regionHolds,
  };
}
