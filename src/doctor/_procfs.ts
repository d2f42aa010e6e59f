/**
 * Linux's /proc files about this process, as the doctor reads them: the
 * text files through the native layer's one /proc reader (so Deno needs
 * only --allow-ffi), and page contents from /proc/self/mem into guarded
 * scratch memory rather than the heap, since they may hold secrets.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import { append, Bytes, detachBuffer, listed } from "../core/_intrinsics.ts";
import { SecretMemoryError } from "../core/errors.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset, nor parse the maps into nothing (the
// scan would then read no page and report no copy; the self-test would
// see no mapping).
const BigInt = globalThis.BigInt;
const apply = Reflect.apply;
const exec = RegExp.prototype.exec;
const { indexOf, slice } = String.prototype;
const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/;
const VM_FLAGS = /^VmFlags:\s*(.*)$/;
const WORD = /\S+/g;
const { ceil, max } = Math;

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
  const data = max(1, ceil(size / page)) * page;
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
    view: new Bytes(buffer),
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
  // By index and by the methods taken at load: never the text's own.
  const entries: MapEntry[] = [];
  for (let at = 0; at < text.length;) {
    let end = apply(indexOf, text, ["\n", at]) as number;
    if (end < 0) end = text.length;
    const line = apply(slice, text, [at, end]) as string;
    at = end + 1;
    const match = apply(exec, MAPS_LINE, [line]) as RegExpExecArray | null;
    if (match !== null) {
      append(entries, {
        start: BigInt(`0x${match[1]}`),
        end: BigInt(`0x${match[2]}`),
        perms: match[3],
        path: match[4],
        flags: [],
      });
      continue;
    }
    const flags = apply(exec, VM_FLAGS, [line]) as RegExpExecArray | null;
    if (flags !== null && entries.length > 0) {
      entries[entries.length - 1].flags = wordsOf(flags[1]);
    }
  }
  return entries;
}

function wordsOf(text: string): string[] {
  const words: string[] = [];
  WORD.lastIndex = 0;
  let word: RegExpExecArray | null;
  while ((word = apply(exec, WORD, [text]) as RegExpExecArray | null)) {
    append(words, word[0]);
  }
  return words;
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
  const entries = parseMaps(readProcText("/proc/self/smaps"));
  for (let i = 0; i < entries.length; i++) {
    const m = entries[i];
    if (
      listed(m.flags, "wf") && m.start !== scratch?.address &&
      m.start < end && start < m.end
    ) return true;
  }
  return false;
}

/**
 * The mapping that holds `address`, with the ones just before and after it
 * (the guard pages, for a SecretBuffer).
 */
export function mappingAround(
  address: bigint,
): { before?: MapEntry; at?: MapEntry; after?: MapEntry } {
  const entries = parseMaps(readProcText("/proc/self/smaps"));
  for (let i = 0; i < entries.length; i++) {
    if (entries[i].start <= address && address < entries[i].end) {
      return { before: entries[i - 1], at: entries[i], after: entries[i + 1] };
    }
  }
  return {};
}
