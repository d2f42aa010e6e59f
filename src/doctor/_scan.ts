/**
 * Searches this process's own memory for a secret: every page that
 * /proc/self/pagemap marks present (or swapped) in every mapping of
 * /proc/self/maps, read through /proc/self/mem. Pages never touched are
 * skipped: reading them would fault them in, and Bun reserves gigabytes of
 * untouched address space.
 *
 * The scanner never holds the secret: it is given the secret XOR a random
 * mask, and the mask, and compares a byte at a time. What it reads lands in
 * guarded scratch memory that is wiped afterwards.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import { readMaps, type Scratch, withScratch } from "./_procfs.ts";
import { isSecretBuffer, type SecretBuffer } from "../secret_buffer.ts";

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
  /** Mappings that could not be read (for example `[vvar]`). */
  skipped: number;
}

/**
 * Builds a needle from a buffer's bytes without copying them anywhere;
 * `length`, for a Uint8Array, is its length as already checked.
 */
export function needleOf(
  secret: SecretBuffer | Uint8Array,
  length?: number,
): Needle {
  // `length`: the caller's array's length, read once through the intrinsic
  // getter (an own `length` property must not steer the needle).
  const read = (bytes: Uint8Array): Needle => {
    const size = length ?? bytes.length;
    const mask = new Uint8Array(size);
    // The mask only has to differ from the secret: Math.random avoids
    // leaving the mask in a runtime's CSPRNG state, and needs no FFI.
    for (let i = 0; i < mask.length; i++) {
      mask[i] = 1 + Math.floor(Math.random() * 255);
    }
    const masked = new Uint8Array(size);
    for (let i = 0; i < size; i++) masked[i] = bytes[i] ^ mask[i];
    return { masked, mask };
  };
  return isSecretBuffer(secret) ? secret.read(read) : read(secret);
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
  const page = memory.pageSize;
  const results: ScanResult[] = needles.map(() => ({
    hits: [],
    bytesScanned: 0,
    skipped: 0,
  }));
  const result = { bytesScanned: 0, skipped: 0 };
  const maps = readMaps();
  const pagemap = memory.openRead("/proc/self/pagemap");
  const mem = memory.openRead("/proc/self/mem");
  try {
    withScratch((scratch) => {
      const scratchStart = scratch.address;
      const scratchEnd = scratchStart + BigInt(scratch.size);
      const excluded = [...exclude, [scratchStart, scratchEnd]] as const;
      for (const entry of maps) {
        if (SKIPPED_PATHS.has(entry.path)) continue;
        if (readableOnly && entry.perms[0] !== "r") continue;
        try {
          for (const [start, end] of presentRuns(pagemap, entry, scratch)) {
            result.bytesScanned += Number(end - start);
            searchRange(mem, start, end, needles, scratch, (index, hit) => {
              if (!excluded.some(([s, e]) => s <= hit && hit < e)) {
                results[index].hits.push(hit);
              }
            });
          }
        } catch {
          // An unreadable mapping (device memory, a race with munmap).
          result.skipped++;
        }
      }
    });
  } finally {
    memory.close(pagemap);
    memory.close(mem);
  }
  for (const one of results) Object.assign(one, result);
  return results;

  /** Runs of consecutive present or swapped pages within one mapping. */
  function presentRuns(
    fd: number,
    entry: { start: bigint; end: bigint },
    scratch: Scratch,
  ): [bigint, bigint][] {
    const runs: [bigint, bigint][] = [];
    const firstPage = Number(entry.start / BigInt(page));
    const pages = Number((entry.end - entry.start) / BigInt(page));
    const perRead = scratch.size / 8;
    let runStart = -1;
    for (let done = 0; done < pages; done += perRead) {
      const count = Math.min(perRead, pages - done);
      const bytes = readFully(fd, scratch, count * 8, (firstPage + done) * 8);
      const view = scratch.view;
      for (let i = 0; i < bytes / 8; i++) {
        // Bit 63: present; bit 62: swapped. The top byte holds both.
        const resident = (view[i * 8 + 7] & 0xc0) !== 0;
        const index = done + i;
        if (resident && runStart < 0) runStart = index;
        if (!resident && runStart >= 0) {
          runs.push(pageRange(entry.start, runStart, index));
          runStart = -1;
        }
      }
    }
    if (runStart >= 0) runs.push(pageRange(entry.start, runStart, pages));
    return runs;
  }

  function pageRange(base: bigint, from: number, to: number): [bigint, bigint] {
    return [base + BigInt(from * page), base + BigInt(to * page)];
  }
}

/**
 * Searches a file (a core dump, for example) for each of `needles` in one
 * pass, reading it a chunk at a time into the guarded scratch memory. One
 * result per needle; hits are file offsets. `ranges` (start inclusive, end
 * exclusive) limits the search, for example to a sparse file's data.
 */
export function scanFile(
  needles: readonly Needle[],
  path: string,
  ranges: readonly [number, number][] = [[0, Number.MAX_SAFE_INTEGER]],
): ScanResult[] {
  const memory = native();
  const results: ScanResult[] = needles.map(() => ({
    hits: [],
    bytesScanned: 0,
    skipped: 0,
  }));
  const fd = memory.openRead(path);
  try {
    withScratch((scratch) => {
      let read = 0;
      for (const [start, end] of ranges) {
        read += searchRange(
          fd,
          BigInt(start),
          BigInt(end),
          needles,
          scratch,
          (index, offset) => results[index].hits.push(offset),
        );
      }
      for (const one of results) one.bytesScanned = read;
    });
  } finally {
    memory.close(fd);
  }
  return results;
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
 * range at end of file).
 */
function searchRange(
  fd: number,
  start: bigint,
  end: bigint,
  needles: readonly Needle[],
  scratch: Scratch,
  report: (index: number, address: bigint) => void,
): number {
  const overlap = Math.max(0, ...needles.map((n) => n.masked.length - 1));
  // Anchor on a byte of each secret that is not zero: anchoring on a zero
  // byte would stop at every byte of zero-filled pages and sparse files.
  const anchors = needles.map(({ masked, mask }) => {
    let anchor = 0;
    while (
      anchor < masked.length - 1 && (masked[anchor] ^ mask[anchor]) === 0
    ) anchor++;
    return anchor;
  });
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
    const view = scratch.view.subarray(0, got);
    needles.forEach(({ masked, mask }, index) => {
      const anchor = anchors[index];
      const first = masked[anchor] ^ mask[anchor];
      for (
        let i = view.indexOf(first, anchor);
        i >= 0;
        i = view.indexOf(first, i + 1)
      ) {
        const begin = i - anchor;
        if (begin + masked.length > got || (!last && begin >= next)) break;
        let same = true;
        for (let j = 0; j < masked.length && same; j++) {
          same = (view[begin + j] ^ mask[j]) === masked[j];
        }
        if (same) report(index, at + BigInt(begin));
      }
    });
    if (last) break;
    at += BigInt(next);
  }
  return read;
}
