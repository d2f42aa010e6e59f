/**
 * Linux's /proc files about this process, as the doctor reads them: the
 * text files through the native layer's one /proc reader (so Deno needs
 * only --allow-ffi), and page contents from /proc/self/mem into guarded
 * scratch memory rather than the heap, since they may hold secrets.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import { detachBuffer } from "../core/_intrinsics.ts";
import { SecretMemoryError } from "../core/errors.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/** One mapping of /proc/self/maps, or of /proc/self/smaps with its flags. */
export interface MapEntry {
  start: bigint;
  end: bigint;
  /** For example `rw-p` or `---p`. */
  perms: string;
  /** The backing file or a tag like `[heap]`; empty for anonymous. */
  path: string;
  /** Two-letter VmFlags such as `lo` (locked), `dd` (no dump), `wf`; smaps only. */
  flags: string[];
}

/** Native pages between two guard pages, for the doctor's own use. */
export interface GuardedPages {
  readonly address: bigint;
  readonly size: number;
  readonly buffer: ArrayBuffer;
  readonly view: Uint8Array;
  /** Wipes the pages, detaches the view, unmaps; harmless twice. */
  free(): void;
}

/**
 * Maps at least `size` bytes (whole pages) between two guard pages, out of
 * dumps and forked children, and outside `stats()`. They are locked where
 * the limit allows, and unlocked when it refuses: they are short-lived,
 * and a check must not fail for want of a lock.
 */
export function guardedPages(size: number): GuardedPages {
  const memory = native();
  const page = memory.pageSize;
  const data = Math.max(1, Math.ceil(size / page)) * page;
  const base = memory.reserve(data + 2 * page);
  const address = base + BigInt(page);
  let buffer: ArrayBuffer;
  try {
    if (memory.commit(address, data, true) !== "ok") {
      memory.commit(address, data, false);
    }
    memory.keepOutOfDumpsAndForks(address, data);
    buffer = memory.view(address, data);
  } catch (error) {
    memory.release(base, data + 2 * page);
    throw error;
  }
  let live = true;
  return {
    address,
    size: data,
    buffer,
    view: new Uint8Array(buffer),
    free() {
      if (!live) return;
      live = false;
      memory.wipe(address, data);
      detachBuffer(buffer);
      memory.release(base, data + 2 * page);
    },
  };
}

/** Scratch memory: native, out of dumps and forks, wiped after each use. */
export type Scratch = Omit<GuardedPages, "free">;

let scratch: GuardedPages | undefined;

/**
 * Runs `fn` with this module's scratch memory, then wipes it. The mapping
 * is made once and kept: a fresh one per read could land in the hole a
 * just-destroyed buffer left, and fool a check that the hole is empty.
 */
export function withScratch<T>(fn: (scratch: Scratch) => T): T {
  scratch ??= guardedPages(1 << 20);
  try {
    return fn(scratch);
  } finally {
    native().wipe(scratch.address, scratch.size);
  }
}

/** Reads a whole /proc text file. */
export function readProcText(path: string): string {
  const memory = native();
  if (memory.procText === undefined) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot read ${path}: this OS has no /proc; the doctor's mapping checks run on Linux only`,
    );
  }
  return memory.procText(path);
}

/** Parses /proc/self/maps, or /proc/self/smaps with each mapping's VmFlags. */
export function parseMaps(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(
      line,
    );
    if (match !== null) {
      entries.push({
        start: BigInt(`0x${match[1]}`),
        end: BigInt(`0x${match[2]}`),
        perms: match[3],
        path: match[4],
        flags: [],
      });
    } else if (line.startsWith("VmFlags:") && entries.length > 0) {
      entries[entries.length - 1].flags = line.slice(8).trim().split(/\s+/);
    }
  }
  return entries;
}

/** The mappings of this process now. */
export function readMaps(): MapEntry[] {
  return parseMaps(readProcText("/proc/self/maps"));
}

/**
 * Whether any secmem buffer's data mapping (VmFlags `wf`, which only secmem
 * sets in a runtime process) still overlaps `[start, end)`.
 */
export function secmemMappingOverlaps(start: bigint, end: bigint): boolean {
  // The scratch is kept out of dumps and forks as a buffer is, and may
  // sit in the very hole being checked; it is this module's.
  return parseMaps(readProcText("/proc/self/smaps")).some((m) =>
    m.flags.includes("wf") && m.start !== scratch?.address &&
    m.start < end && start < m.end
  );
}

/**
 * The mapping that holds `address`, with the ones just before and after it
 * (the guard pages, for a SecretBuffer).
 */
export function mappingAround(
  address: bigint,
): { before?: MapEntry; at?: MapEntry; after?: MapEntry } {
  const entries = parseMaps(readProcText("/proc/self/smaps"));
  const index = entries.findIndex((e) => e.start <= address && address < e.end);
  if (index < 0) return {};
  return {
    before: entries[index - 1],
    at: entries[index],
    after: entries[index + 1],
  };
}
