/**
 * Which of the library's memory can be read now, and whether a caller's
 * view lies over it. `from()` wipes its source unless the source is ours;
 * `isOwnView` knows the views we handed out and subarrays at an offset,
 * but must not ask a zero-offset view for its buffer (see there: a small
 * heap array would leave a copy of its bytes behind). A view over our
 * pages can only be read while those pages are open, so only then is such
 * a view compared with them, byte for byte. A view whose bytes match the
 * first bytes of an open buffer may still be the caller's copy of them
 * (`view.slice()`): one byte changed through our own view, and put back at
 * once, tells which (the pages are made writable for that instant when a
 * read scope holds them read-only). Only a match with a view lent to
 * outside code is settled by asking for the buffer.
 *
 * Another copy of secmem in the process (the npm package beside the
 * sources, another version) knows none of this: every copy enters the
 * ranges it opens in a list they all read (`_open_ranges.ts`), and a source
 * found in another copy's open range is copied and never wiped.
 *
 * The bookkeeping on the hot paths is one count of what is open and an
 * entry in that list, changed where protection changes; the sets below
 * change only when a region is first opened, an arena mapped, or either
 * unmapped, never per scope. While nothing is open in any copy (the usual
 * case), the check costs `isOwnView` and one atomic read.
 *
 * @module
 */

import type { NativeMemory, Protection } from "./_native.ts";
import { native } from "./_native.ts";
import {
  foreignRanges,
  markAccess,
  markClosed,
  markOpen,
  othersOpen,
} from "./_open_ranges.ts";
import {
  byteOffsetOf,
  detachBuffer,
  isDetached,
  isOwnBuffer,
  isOwnView,
  lengthOf,
} from "./_intrinsics.ts";

/** A buffer over guarded pages, readable while they are open. */
interface OpenBuffer {
  readonly user: ArrayBuffer;
}

/** A view lent to outside code, and the pages' protection meanwhile. */
export interface OpenLoan extends OpenBuffer {
  readonly start: bigint;
  readonly end: bigint;
  readonly protection: "readonly" | "readwrite";
}

/** A region whose pages are readable now (the fields of `Region` used). */
interface OpenRegion extends OpenBuffer {
  readonly dataAddress: bigint;
  readonly userAddress: bigint;
  readonly layout: { readonly dataLength: number; readonly size: number };
  readonly protection: Protection;
  /** Whether it is in the set of regions opened at least once. */
  noted: boolean;
  /** Its entry in the list every copy reads (`_open_ranges.ts`), or -1. */
  openEntry: number;
}

/** Memory of many buffers (a pool arena). */
export interface OpenHolder {
  readonly dataAddress: bigint;
  readonly dataLength: number;
  /** Its entry in the list every copy reads, while its pages rest open. */
  openEntry: number;
  /**
   * Whether `view` (`length` bytes) lies over one of the buffers it handed
   * out, from that buffer's byte `start` on, on a page that is open. Each
   * such buffer that is `worthProbing` is probed with `sharesFirstByte`.
   */
  holds(view: Uint8Array, length: number, start: number): boolean;
}

// The engine's own search for a byte (memchr), taken at load: our view of
// another copy's secret must never meet a patched prototype.
const indexOfByte = Reflect.apply(
  Function.prototype.bind,
  Function.prototype.call,
  [Uint8Array.prototype.indexOf],
) as (bytes: Uint8Array, value: number, from: number) => number;

// Regions readable now, arena pages readable now, and loans out.
let open = 0;
// Live regions opened at least once (each is checked for being open now).
const regions = new Set<OpenRegion>();
// Each loan with its entry in the list every copy reads.
const loans = new Map<OpenLoan, number>();
// Live arenas (each checks its own pages).
const holders = new Set<OpenHolder>();

/** Notes that `region`'s pages went from noaccess to readable. */
export function markRegionOpen(region: OpenRegion): void {
  open++;
  // The user bytes, exactly: every view over the buffer lies inside them,
  // so another copy searches no more than that.
  region.openEntry = markOpenRange(
    region.userAddress,
    region.layout.size,
    region.protection === "readwrite",
  );
  // Entered the first time only: no set lookup per scope.
  if (region.noted) return;
  region.noted = true;
  regions.add(region);
}

/** Notes that a region's pages went back to noaccess. */
export function markRegionClosed(region: OpenRegion): void {
  open--;
  markClosed(region.openEntry);
  region.openEntry = -1;
}

/** Notes that an open region's pages became read-only or writable. */
export function markRegionAccess(region: OpenRegion): void {
  markAccess(region.openEntry, region.protection === "readwrite");
}

/** Notes that `region` is unmapped (call before its protection changes). */
export function markRegionUnmapped(region: OpenRegion): void {
  if (regions.delete(region) && region.protection !== "noaccess") {
    markRegionClosed(region);
  }
}

/** Notes a buffer lent to outside code. */
export function loanOpened(loan: OpenLoan): void {
  if (loans.has(loan)) return;
  loans.set(
    loan,
    markOpenRange(
      loan.start,
      Number(loan.end - loan.start),
      loan.protection === "readwrite",
    ),
  );
  open++;
}

/** Notes that a lent buffer came back, or its pages are quarantined. */
export function loanClosed(loan: OpenLoan): void {
  const entry = loans.get(loan);
  if (entry === undefined) return;
  loans.delete(loan);
  markClosed(entry);
  open--;
}

/**
 * Enters a readable range in the list every copy of secmem reads (see
 * `_open_ranges.ts`); returns its entry for `markClosed`.
 */
export function markOpenRange(
  start: bigint,
  length: number,
  writable: boolean,
): number {
  return markOpen(native(), start, start + BigInt(length), writable);
}

export { markAccess, markClosed };

/**
 * Notes a mapped arena, with `pages` of its pages readable (all of them
 * writable when `writable`: an arena that rests readwrite).
 */
export function holderMapped(
  holder: OpenHolder,
  pages: number,
  writable: boolean,
): void {
  holders.add(holder);
  open += pages;
  // Pages that rest open stay open until the arena is unmapped: one entry
  // for them all. An arena that rests read-only makes pages writable for
  // a while, so its entry claims no more than readable.
  if (pages > 0) {
    holder.openEntry = markOpenRange(
      holder.dataAddress,
      holder.dataLength,
      writable,
    );
  }
}

/** Notes that `delta` pages of an arena became readable (or, below 0, not). */
export function pagesOpened(delta: number): void {
  open += delta;
}

/** Notes an arena unmapped, that had `pages` pages readable. */
export function holderGone(holder: OpenHolder, pages: number): void {
  if (!holders.delete(holder)) return;
  open -= pages;
  markClosed(holder.openEntry);
  holder.openEntry = -1;
}

/**
 * Bytes compared with each open region and slot before the probe decides:
 * the same effort for every candidate, bounded however long the secrets,
 * and more than enough to keep probes (and their time) for real matches.
 */
export const COMPARED = 16;

/**
 * Whether a candidate buffer `ours` is probed for `view` (`length` bytes,
 * from `ours`'s byte `at`; `fits`: the view fits there). A short view
 * could be matched against a secret a byte at a time, so it is probed
 * against every candidate whatever the bytes; a longer one only where its
 * first COMPARED bytes match, which nobody can aim at without knowing
 * them all.
 */
export function worthProbing(
  ours: Uint8Array,
  at: number,
  view: Uint8Array,
  length: number,
  fits: boolean,
): boolean {
  return length < COMPARED ||
    (fits && startsWith(ours, view, COMPARED, at));
}

/**
 * Whether `view` (a real Uint8Array) lies over guarded pages of this
 * library, which must be copied from and never wiped: a view it handed
 * out, a subarray of one, or a new view over one's buffer from its first
 * byte (`new Uint8Array(view.buffer)`, `view.subarray(0)`). `except`, a
 * loan (`LentView.loan`), is left out: the stream it was lent to answers
 * with it.
 */
export function isOwnSource(view: Uint8Array, except?: object): boolean {
  if (isOwnView(view)) return true;
  const memory = native();
  // Another copy of secmem (or this one in another thread) may have pages
  // open: one atomic read of the process-wide list says whether.
  const others = othersOpen(memory);
  if (open === 0 && !others) return false;
  const length = lengthOf(view);
  if (length === 0) return false;
  // Asked of a view at an offset only: such a view has its buffer already
  // (see isOwnView), and may lie over a buffer transferred away from us.
  const offset = byteOffsetOf(view);
  let ours = false;
  for (const region of regions) {
    if (region.protection === "noaccess") continue;
    const user = region.user;
    // Only a buffer handed out can have had a new view made over it.
    if (!isOwnBuffer(user)) continue;
    const size = region.layout.size;
    if (size === 0) continue;
    // Transferred away inside this scope: the pages are ours all the same,
    // seen through a view made for the comparison and detached after it.
    const temporary = isDetached(user)
      ? native().view(region.userAddress, size)
      : undefined;
    try {
      const mine = new Uint8Array(temporary ?? user);
      const fits = size - offset >= length;
      // Where it cannot fit, byte 0 is probed all the same: the work must
      // not tell the secrets' sizes either.
      const at = fits ? offset : 0;
      if (worthProbing(mine, at, view, length, fits)) {
        if (probeRegion(region, mine, at, view) && fits) ours = true;
      }
    } finally {
      if (temporary !== undefined) detachBuffer(temporary);
    }
  }
  for (const holder of holders) {
    if (holder.holds(view, length, offset)) ours = true;
  }
  for (const loan of loans.keys()) {
    if (loan === except) continue;
    if (probeLoan(loan, view, offset, length)) ours = true;
  }
  if (!ours && others) ours = inForeignRange(memory, view, length);
  return ours;
}

/**
 * Whether `view` may lie over a range another copy of secmem opened in
 * this thread. Such memory is only read here, never made writable: its
 * protection is the other copy's. Where the view's first bytes are found
 * in a range that is writable throughout, one byte there is changed and
 * put back (`sharesFirstByte`) to tell the memory from a copy of it; in a
 * read-only range that cannot be told, and the view is taken for the other
 * copy's memory (copied, never wiped). So is every view while some copy
 * opened a range it could not enter in the list.
 */
function inForeignRange(
  memory: NativeMemory,
  view: Uint8Array,
  length: number,
): boolean {
  const ranges = foreignRanges();
  if (ranges === undefined) return true;
  const compared = length < COMPARED ? length : COMPARED;
  // Searched for by its first nonzero byte: free and wiped memory is
  // mostly zeros, where a search for a zero would stop at every byte.
  let anchor = 0;
  while (anchor < compared - 1 && view[anchor] === 0) anchor++;
  const byte = view[anchor];
  for (const { start, end, writable } of ranges) {
    const size = Number(end - start);
    if (size < compared) continue;
    const probe = memory.view(start, size);
    try {
      const theirs = new Uint8Array(probe);
      const last = size - compared;
      let found = indexOfByte(theirs, byte, anchor);
      while (found >= 0 && found - anchor <= last) {
        const at = found - anchor;
        if (
          startsWith(theirs, view, compared, at) &&
          (!writable || sharesFirstByte(theirs, at, view))
        ) return true;
        found = indexOfByte(theirs, byte, found + 1);
      }
    } finally {
      detachBuffer(probe);
    }
  }
  return false;
}

/** `sharesFirstByte` on a region, writable for that instant if need be. */
function probeRegion(
  region: OpenRegion,
  mine: Uint8Array,
  offset: number,
  view: Uint8Array,
): boolean {
  if (region.protection === "readwrite") {
    return sharesFirstByte(mine, offset, view);
  }
  const memory = native();
  const { dataAddress, layout: { dataLength } } = region;
  memory.protect(dataAddress, dataLength, "readwrite");
  try {
    return sharesFirstByte(mine, offset, view);
  } finally {
    memory.protect(dataAddress, dataLength, region.protection);
  }
}

/**
 * `sharesFirstByte` on a loan, through a view of its own made for the
 * probe, its first page writable for that instant if it was lent
 * read-only. Never by asking the caller's view for its buffer.
 */
function probeLoan(
  loan: OpenLoan,
  view: Uint8Array,
  offset: number,
  length: number,
): boolean {
  // A view of our own, so that a loan whose buffer the file object
  // transferred away is probed all the same.
  const size = Number(loan.end - loan.start);
  const fits = size - offset >= length;
  const at = fits ? offset : 0;
  const memory = native();
  const probe = memory.view(loan.start, size);
  try {
    const mine = new Uint8Array(probe);
    if (!worthProbing(mine, at, view, length, fits)) {
      return false;
    }
    if (loan.protection === "readwrite") {
      return sharesFirstByte(mine, at, view) && fits;
    }
    const page = BigInt(memory.pageSize);
    const first = (loan.start + BigInt(at)) / page * page;
    memory.protect(first, memory.pageSize, "readwrite");
    try {
      return sharesFirstByte(mine, at, view) && fits;
    } finally {
      memory.protect(first, memory.pageSize, loan.protection);
    }
  } finally {
    detachBuffer(probe);
  }
}

/**
 * Whether `view` starts at `ours[offset]`: that byte is changed through
 * `ours` and put back, and the change shows through `view` only if both
 * are the same memory. No buffer is asked for; `ours` must be writable.
 */
export function sharesFirstByte(
  ours: Uint8Array,
  offset: number,
  view: Uint8Array,
): boolean {
  // Every check is always made: the caller's byte must equal ours before
  // the change and follow two different changes, which no copy can do (and
  // a shared buffer flipped by another thread cannot match by chance).
  const before = ours[offset];
  const same = view[0] === before;
  ours[offset] = before ^ 0xff;
  const first = view[0] === (before ^ 0xff);
  ours[offset] = before ^ 0x5a;
  const second = view[0] === (before ^ 0x5a);
  ours[offset] = before;
  return same && first && second;
}

/**
 * Whether `view`'s first `length` bytes equal `ours` from `offset`, by a
 * difference over every byte. False when `ours` is shorter.
 */
export function startsWith(
  ours: Uint8Array,
  view: Uint8Array,
  length: number,
  offset = 0,
  room = lengthOf(ours) - offset,
): boolean {
  if (room < length) return false;
  let difference = 0;
  for (let i = 0; i < length; i++) {
    difference |= ours[offset + i] ^ view[i];
  }
  return difference === 0;
}

/** The data ranges of this thread's live arenas. */
export function holderRanges(): [bigint, bigint][] {
  const ranges: [bigint, bigint][] = [];
  for (const holder of holders) {
    ranges.push([
      holder.dataAddress,
      holder.dataAddress + BigInt(holder.dataLength),
    ]);
  }
  return ranges;
}
