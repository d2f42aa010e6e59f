/**
 * Searches this process's own memory for a secret: every page that
 * /proc/self/pagemap marks present (or swapped) in every mapping of
 * /proc/self/maps, read through /proc/self/mem. Pages never touched are
 * skipped: reading them would fault them in, and Bun reserves gigabytes of
 * untouched address space.
 *
 * The scanner never holds the secret: it is given the secret XOR a random
 * mask, and the mask, and compares a byte at a time. What it reads lands in
 * guarded scratch memory that is wiped afterwards. The two halves of a
 * needle give the secret back when XORed, so the library's own needles
 * (`sealNeedle`) live in guarded pages too, and are wiped and unmapped
 * after the scan: left on the heap, they were a copy of the secret in two
 * pieces that any scan of the heap could pair up.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import {
  guardedPages,
  type MapEntry,
  readMaps,
  type Scratch,
  withScratch,
} from "./_procfs.ts";
import { isSecretBuffer, type SecretBuffer } from "../secret_buffer.ts";
import { append, Bytes, isMember, lengthOf } from "../core/_intrinsics.ts";

const hasOwn = Object.hasOwn;

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset, nor leave a hit out (a forensic scan
// that answers "no copies" when there is one is worse than none). Arrays
// here are walked and filled by index for the same reason.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;
const { max, min } = Math;
// The search method taken at load, called as a method of the scan's own
// views: a replacement on %TypedArray%.prototype does not reach it, and a
// plain method call costs the engine nothing more. Reflect.apply with an
// argument array per call made the scan slower, and the garbage it made
// overwrote freed heap memory the scan had not reached yet: the very
// copies a measurement is after (the claims tests saw them vanish).
class Chunk extends Uint8Array {
  declare seek: (byte: number, from: number) => number;
}
Object.defineProperty(Chunk.prototype, "seek", {
  value: Uint8Array.prototype.indexOf,
});
Object.freeze(Chunk.prototype);

/** A secret to look for, as `masked` XOR `mask`. */
export interface Needle {
  readonly masked: Uint8Array;
  readonly mask: Uint8Array;
}

/** The result of a scan. */
export interface ScanResult {
  /** Addresses where the secret was found. */
  hits: bigint[];
  /** Bytes of present pages read. */
  bytesScanned: number;
}

/** A needle in guarded pages, which `dispose` wipes and unmaps. */
export interface SealedNeedle extends Needle {
  /** The pages that hold it, [start, end): left out of a scan's hits. */
  readonly range: readonly [bigint, bigint];
  /** Wipes both halves, detaches the views, unmaps; harmless twice. */
  dispose(): void;
}

/**
 * Builds a needle in guarded pages of its own (`guardedPages`): the mask
 * straight from the OS generator, then the secret XOR the mask, a byte at
 * a time, so neither half, nor the secret, ever lies on the heap.
 * `length`, for a Uint8Array, is its length as already checked. The caller
 * disposes of it, in `finally`.
 */
export function sealNeedle(
  secret: SecretBuffer | Uint8Array,
  length?: number,
): SealedNeedle {
  // `length`: the caller's array's length, read once through the intrinsic
  // getter (an own `length` property must not steer the needle).
  const size = isSecretBuffer(secret)
    ? secret.size
    : length ?? lengthOf(secret);
  const pages = guardedPages(2 * size);
  try {
    const mask = new Bytes(pages.buffer, 0, size);
    const masked = new Bytes(pages.buffer, size, size);
    // The mask only has to be unknown to whoever reads the heap; from the
    // OS straight into the pages, it leaves nothing in a runtime's state.
    native().fillRandom(pages.address, size);
    const fill = (bytes: Uint8Array) => {
      for (let i = 0; i < size; i++) masked[i] = bytes[i] ^ mask[i];
    };
    if (isSecretBuffer(secret)) secret.read(fill);
    else fill(secret);
    return {
      mask,
      masked,
      range: [pages.address, pages.address + BigInt(pages.size)],
      dispose: pages.free,
    };
  } catch (error) {
    pages.free();
    throw error;
  }
}

const SKIPPED_PATHS = new Set(["[vsyscall]", "[vvar]", "[vvar_vclock]"]);

/**
 * Scans the process's present pages for `needle`; ranges in `exclude`
 * (start inclusive, end exclusive) are not reported.
 */
export function scanMemory(
  needle: Needle,
  exclude: readonly [bigint, bigint][] = [],
  readableOnly = false,
): ScanResult {
  return scanMemoryAll([needle], exclude, readableOnly)[0];
}

/**
 * `scanMemory` for several needles in one pass; one result per needle.
 * `readableOnly` leaves out mappings the process itself cannot read (the
 * guarded pages at rest of any copy of secmem, whatever its version).
 */
export function scanMemoryAll(
  needles: readonly Needle[],
  exclude: readonly [bigint, bigint][] = [],
  readableOnly = false,
): ScanResult[] {
  const memory = native();
  const hits: bigint[][] = [];
  for (let i = 0; i < needles.length; i++) append(hits, []);
  let bytesScanned = 0;
  const maps = readMaps();
  // Slots written by index, closed by index: a push or an iterator
  // replaced after import must not lose a descriptor (one on
  // /proc/self/mem reads every page, guarded ones at rest included).
  const opened = [-1, -1];
  let failure: { error: unknown } | undefined;
  try {
    const pagemap = opened[0] = memory.openRead("/proc/self/pagemap");
    const mem = opened[1] = memory.openRead("/proc/self/mem");
    withScratch((scratch) => {
      const excluded: (readonly [bigint, bigint])[] = [];
      for (let i = 0; i < exclude.length; i++) append(excluded, exclude[i]);
      append(excluded, [
        scratch.address,
        scratch.address + BigInt(scratch.size),
      ]);
      for (let i = 0; i < needles.length; i++) {
        const needle = needles[i];
        // Own only: a `range` planted on Object.prototype would be left out.
        if (hasOwn(needle, "range")) {
          append(excluded, (needle as SealedNeedle).range);
        }
      }
      const isExcluded = (hit: bigint) => {
        for (let i = 0; i < excluded.length; i++) {
          if (excluded[i][0] <= hit && hit < excluded[i][1]) return true;
        }
        return false;
      };
      for (let m = 0; m < maps.length; m++) {
        const entry = maps[m];
        if (isMember(SKIPPED_PATHS, entry.path)) continue;
        if (readableOnly && entry.perms[0] !== "r") continue;
        try {
          const runs = presentRuns(pagemap, entry, scratch);
          for (let r = 0; r < runs.length; r++) {
            const start = runs[r][0];
            const end = runs[r][1];
            bytesScanned += Number(end - start);
            searchRange(mem, start, end, needles, scratch, (index, hit) => {
              if (!isExcluded(hit)) {
                append(hits[index], hit);
              }
            });
          }
        } catch {
          // An unreadable mapping (device memory, a race with munmap) is
          // passed over.
        }
      }
    });
  } catch (error) {
    failure = { error };
  }
  // Every descriptor is closed, whatever threw: a close that fails must not
  // leave the other open. The first error is the one the caller gets: the
  // scan's own, else the first close's.
  for (let i = 0; i < opened.length; i++) {
    if (opened[i] < 0) continue;
    try {
      memory.close(opened[i]);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
  const results: ScanResult[] = [];
  for (let i = 0; i < hits.length; i++) {
    append(results, { hits: hits[i], bytesScanned });
  }
  return results;
}

/** Runs of consecutive present or swapped pages within one mapping. */
function presentRuns(
  fd: number,
  { start, end }: MapEntry,
  scratch: Scratch,
): [bigint, bigint][] {
  const page = native().pageSize;
  const runs: [bigint, bigint][] = [];
  const at = (index: number) => start + BigInt(index * page);
  const firstPage = Number(start / BigInt(page));
  const pages = Number((end - start) / BigInt(page));
  const perRead = scratch.size / 8;
  let runStart = -1;
  for (let done = 0; done < pages; done += perRead) {
    const count = min(perRead, pages - done);
    const bytes = readFully(fd, scratch, count * 8, (firstPage + done) * 8);
    for (let i = 0; i < bytes / 8; i++) {
      // Bit 63: present; bit 62: swapped. The top byte holds both.
      const resident = (scratch.view[i * 8 + 7] & 0xc0) !== 0;
      if (resident && runStart < 0) runStart = done + i;
      if (!resident && runStart >= 0) {
        append(runs, [at(runStart), at(done + i)]);
        runStart = -1;
      }
    }
  }
  if (runStart >= 0) append(runs, [at(runStart), end]);
  return runs;
}

/** Reads up to `length` bytes at `offset` into the scratch; fewer at EOF. */
function readFully(
  fd: number,
  scratch: Scratch,
  length: number,
  offset: number,
): number {
  const memory = native();
  let done = 0;
  while (done < length) {
    const count = memory.readInto(
      fd,
      scratch.address + BigInt(done),
      length - done,
      offset + done,
    );
    if (count === 0) break;
    done += count;
  }
  return done;
}

/**
 * Reports every offset in [start, end) of `fd` where a needle's secret
 * starts, with the needle's index; returns the bytes read (fewer than the
 * range at end of file). The proof suite searches core dumps with it.
 */
export function searchRange(
  fd: number,
  start: bigint,
  end: bigint,
  needles: readonly Needle[],
  scratch: Scratch,
  report: (index: number, address: bigint) => void,
): number {
  let overlap = 0;
  for (let n = 0; n < needles.length; n++) {
    overlap = max(overlap, lengthOf(needles[n].masked) - 1);
  }
  let read = 0;
  for (let at = start; at < end;) {
    const length = Number(
      end - at < BigInt(scratch.size) ? end - at : BigInt(scratch.size),
    );
    const got = readFully(fd, scratch, length, Number(at));
    read = Number(at - start) + got;
    const last = got < length || at + BigInt(got) >= end;
    // A match that starts at or after `next` is reported by the next chunk.
    const next = got - overlap;
    const view = new Chunk(scratch.buffer, 0, got);
    for (let index = 0; index < needles.length; index++) {
      const { masked, mask } = needles[index];
      const size = lengthOf(masked);
      // Anchor on a byte of the secret that is not zero (a zero anchor
      // would stop at every byte of zero-filled pages and sparse files).
      // Found again per chunk, never kept: where the secret's zero bytes
      // are is the secret's too.
      let anchor = 0;
      while (anchor < size - 1 && (masked[anchor] ^ mask[anchor]) === 0) {
        anchor++;
      }
      const first = masked[anchor] ^ mask[anchor];
      for (
        let i = view.seek(first, anchor);
        i >= 0;
        i = view.seek(first, i + 1)
      ) {
        const begin = i - anchor;
        if (begin + size > got || (!last && begin >= next)) break;
        let same = true;
        for (let j = 0; j < size && same; j++) {
          same = (view[begin + j] ^ mask[j]) === masked[j];
        }
        if (same) report(index, at + BigInt(begin));
      }
    }
    if (last) break;
    at += BigInt(next);
  }
  return read;
}
