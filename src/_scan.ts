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

import { native } from "./_native.ts";
import { readMaps, type Scratch, withScratch } from "./_procfs.ts";
import { SecretBuffer } from "./secret_buffer.ts";

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

/** Builds a needle from a buffer's bytes without copying them anywhere. */
export function needleOf(secret: SecretBuffer | Uint8Array): Needle {
  const read = (bytes: Uint8Array): Needle => {
    const mask = new Uint8Array(bytes.length);
    // The mask only has to differ from the secret: Math.random avoids
    // leaving the mask in a runtime's CSPRNG state, and needs no FFI.
    for (let i = 0; i < mask.length; i++) {
      mask[i] = 1 + Math.floor(Math.random() * 255);
    }
    const masked = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) masked[i] = bytes[i] ^ mask[i];
    return { masked, mask };
  };
  return secret instanceof SecretBuffer ? secret.read(read) : read(secret);
}

const SKIPPED_PATHS = new Set(["[vsyscall]", "[vvar]", "[vvar_vclock]"]);

/**
 * Scans the process's present pages for `needle`; ranges in `exclude`
 * (start inclusive, end exclusive) are not reported.
 */
export function scanMemory(
  needle: Needle,
  exclude: readonly [bigint, bigint][] = [],
): ScanResult {
  const memory = native();
  const page = memory.pageSize;
  const result: ScanResult = { hits: [], bytesScanned: 0, skipped: 0 };
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
        try {
          for (const [start, end] of presentRuns(pagemap, entry, scratch)) {
            result.bytesScanned += Number(end - start);
            searchRange(mem, start, end, needle, scratch, (hit) => {
              if (!excluded.some(([s, e]) => s <= hit && hit < e)) {
                result.hits.push(hit);
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
  return result;

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

  function readFully(
    fd: number,
    scratch: Scratch,
    length: number,
    offset: number,
  ): number {
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

  function searchRange(
    fd: number,
    start: bigint,
    end: bigint,
    { masked, mask }: Needle,
    scratch: Scratch,
    report: (address: bigint) => void,
  ): void {
    const overlap = masked.length - 1;
    const first = masked[0] ^ mask[0];
    for (let at = start; at < end;) {
      const length = Number(
        end - at < BigInt(scratch.size) ? end - at : BigInt(scratch.size),
      );
      const got = readFully(fd, scratch, length, Number(at));
      const view = scratch.view.subarray(0, got);
      for (
        let i = view.indexOf(first);
        i >= 0;
        i = view.indexOf(first, i + 1)
      ) {
        if (i + masked.length > got) break;
        let same = true;
        for (let j = 1; j < masked.length && same; j++) {
          same = (view[i + j] ^ mask[j]) === masked[j];
        }
        if (same) report(at + BigInt(i));
      }
      if (got < length || at + BigInt(got) >= end) break;
      at += BigInt(got - overlap);
    }
  }
}
