/**
 * Linux's /proc files about this process, as the doctor reads them: the
 * text files through the native layer's one /proc reader (so Deno needs
 * only --allow-ffi), and page contents from /proc/self/mem into guarded
 * scratch memory rather than the heap, since they may hold secrets.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import { SecretMemoryError } from "../core/errors.ts";

/** One line of /proc/self/maps. */
export interface MapEntry {
  start: bigint;
  end: bigint;
  /** For example `rw-p` or `---p`. */
  perms: string;
  /** The backing file or a tag like `[heap]`; empty for anonymous. */
  path: string;
}

/** Scratch memory: native, out of dumps and forks, wiped after each use. */
export interface Scratch {
  readonly address: bigint;
  readonly size: number;
  readonly view: Uint8Array;
}

const SCRATCH_SIZE = 1 << 20;
let scratch: Scratch | undefined;

/**
 * Runs `fn` with this module's scratch memory, then wipes it. The mapping
 * is made once and kept: a fresh one per read could land in the hole a
 * just-destroyed buffer left, and fool a check that the hole is empty.
 * It is locked where the limit allows, and is not counted in `stats()`.
 */
export function withScratch<T>(fn: (scratch: Scratch) => T): T {
  const memory = native();
  if (scratch === undefined) {
    const page = memory.pageSize;
    const base = memory.reserve(SCRATCH_SIZE + 2 * page);
    const address = base + BigInt(page);
    if (memory.commit(address, SCRATCH_SIZE, true) !== "ok") {
      memory.commit(address, SCRATCH_SIZE, false);
    }
    memory.keepOutOfDumpsAndForks(address, SCRATCH_SIZE);
    const view = new Uint8Array(memory.view(address, SCRATCH_SIZE));
    scratch = { address, size: SCRATCH_SIZE, view };
  }
  try {
    return fn(scratch);
  } finally {
    memory.wipe(scratch.address, scratch.size);
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

/** Parses /proc/self/maps. */
export function parseMaps(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(
      line,
    );
    if (match === null) continue;
    entries.push({
      start: BigInt(`0x${match[1]}`),
      end: BigInt(`0x${match[2]}`),
      perms: match[3],
      path: match[4],
    });
  }
  return entries;
}

/** The mappings of this process now. */
export function readMaps(): MapEntry[] {
  return parseMaps(readProcText("/proc/self/maps"));
}

/** One mapping of /proc/self/smaps with its VmFlags. */
export interface SmapsEntry extends MapEntry {
  /** Two-letter VmFlags such as `lo` (locked), `dd` (no dump), `wf`. */
  flags: string[];
}

/** Parses /proc/self/smaps into mappings with their VmFlags. */
export function parseSmaps(text: string): SmapsEntry[] {
  const entries: SmapsEntry[] = [];
  for (const line of text.split("\n")) {
    const [head] = parseMaps(line);
    if (head !== undefined) {
      entries.push({ ...head, flags: [] });
    } else if (line.startsWith("VmFlags:") && entries.length > 0) {
      entries[entries.length - 1].flags = line.slice(8).trim().split(/\s+/);
    }
  }
  return entries;
}

/**
 * Whether any secmem buffer's data mapping (VmFlags `wf`, which only secmem
 * sets in a runtime process) still overlaps `[start, end)`.
 */
export function secmemMappingOverlaps(start: bigint, end: bigint): boolean {
  const smaps = parseSmaps(readProcText("/proc/self/smaps"));
  // The scratch of a page scan (withScratch) is kept out of dumps and forks as a buffer is,
  // and may sit in the very hole being checked; it is this module's.
  const own = scratch?.address;
  return smaps.some((m) =>
    m.flags.includes("wf") && m.start !== own && m.start < end &&
    start < m.end
  );
}

/**
 * The mapping that holds `address`, with the ones just before and after it
 * (the guard pages, for a SecretBuffer).
 */
export function mappingAround(address: bigint): {
  before?: SmapsEntry;
  at?: SmapsEntry;
  after?: SmapsEntry;
} {
  const entries = parseSmaps(readProcText("/proc/self/smaps"));
  const index = entries.findIndex((e) => e.start <= address && address < e.end);
  if (index < 0) return {};
  return {
    before: entries[index - 1],
    at: entries[index],
    after: entries[index + 1],
  };
}

/** A numeric field of /proc/self/status in bytes (`VmLck`, `VmRSS`, ...). */
export function statusBytes(field: string): number {
  const text = readProcText("/proc/self/status");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match === null ? NaN : Number(match[1]) * 1024;
}
