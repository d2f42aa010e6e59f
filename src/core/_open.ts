/**
 * The source probe: whether a caller's view lies over guarded memory that
 * is readable now, ours or another copy's. `from()` wipes its source
 * unless it does: a wipe of such memory zeroes a live secret in a write
 * scope and faults in a read scope.
 *
 * `isOwnView` knows the views we handed out and subarrays at an offset,
 * but must not ask a zero-offset view for its buffer (see there: a small
 * heap array would leave a copy of its bytes behind). A view over our
 * pages can only be read while those pages are open, so only then is such
 * a view compared with them. A view whose bytes match a buffer we handed
 * out may still be the caller's copy of them (`view.slice()`): one byte
 * changed through our own view, and put back at once, tells which
 * (`sharesFirstByte`; the page is made writable for that instant when it
 * is read-only).
 *
 * What is compared lives on the mappings open now (`OpenMapping`): a
 * region's user buffer, a pool slot's buffer, and the views lent to
 * outside code from their pages (`_lend.ts`). A loan lives on the mapping
 * it falls in, so it is probed only while its page can be read, and the
 * mapping sees it when it retires.
 *
 * Another copy of secmem in the process (the npm package beside the
 * sources, another version) knows none of this: every copy enters the
 * ranges it opens in a list they all read (`_open_ranges.ts`), and a source
 * found in another copy's open range is copied and never wiped.
 *
 * While nothing is open in any copy (the usual case), the check costs
 * `isOwnView`, a set's size and one atomic read.
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
  append,
  byteOffsetOf,
  Bytes,
  detachBuffer,
  isDetached,
  isOwnBuffer,
  isOwnView,
  lengthOf,
  membersOf,
} from "./_intrinsics.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

/** A view over guarded pages lent to code outside the library. */
export interface Loan {
  /** The buffer lent (the outside code may transfer it away). */
  readonly buffer: ArrayBuffer;
  readonly address: bigint;
  readonly size: number;
}

/**
 * A guarded mapping while some of its pages are readable: a buffer's
 * region or a pool's arena.
 */
export interface OpenMapping {
  readonly dataAddress: bigint;
  readonly dataLength: number;
  /** Views lent out from its pages and not taken back (see `_lend.ts`). */
  loans: Set<Loan> | undefined;
  /**
   * Whether the view `probe` asks about lies over a buffer this mapping
   * handed out or lent, on a page readable now. Every such buffer goes
   * through `probe`, whatever an earlier one answered, so that the time
   * taken tells nothing of the bytes.
   */
  holds(probe: Probe): boolean;
  /**
   * Whether every page under `size` bytes at `address` (within its data
   * pages) is readable now. An arena opens page by page, so its being open
   * says nothing of one page; a region, which opens and closes all its
   * pages at once, has no need of it.
   */
  readableAt?(address: bigint, size: number): boolean;
}

/** A region as the probe sees it (the fields of `Region` used). */
export interface OpenRegion extends OpenMapping {
  readonly userAddress: bigint;
  readonly layout: { readonly size: number };
  readonly user: ArrayBuffer;
  readonly protection: Protection;
  /** Its entry in the list every copy reads (`_open_ranges.ts`), or -1. */
  openEntry: number;
}

// The engine's own search for a byte (memchr), taken at load: our view of
// another copy's secret must never meet a patched prototype.
const indexOfByte = Reflect.apply(
  Function.prototype.bind,
  Function.prototype.call,
  [Uint8Array.prototype.indexOf],
) as (bytes: Uint8Array, value: number, from: number) => number;

/**
 * The mappings of this copy, in this thread, with pages readable now. An
 * array kept by index, not a Set: a Set's methods, size and iterator can
 * be replaced after import, and a mapping missed here is one whose views
 * `from()` would take for a caller's array, and wipe.
 */
const open: (OpenMapping | undefined)[] = [];
/**
 * How many of `open`'s slots are in use. Slots past it hold undefined and
 * stay the array's own: a scope that opens a mapping writes an element the
 * array has, which no setter planted on Array.prototype sees, and only
 * growth defines a new one (see `append`).
 */
let openCount = 0;

/** Notes that some of `mapping`'s pages became readable. */
export function mappingOpened(mapping: OpenMapping): void {
  for (let i = 0; i < openCount; i++) if (open[i] === mapping) return;
  if (openCount === open.length) append(open, mapping);
  else open[openCount] = mapping;
  openCount++;
}

/** Notes that none of `mapping`'s pages is readable any more. */
export function mappingClosed(mapping: OpenMapping): void {
  for (let i = 0; i < openCount; i++) {
    if (open[i] !== mapping) continue;
    openCount--;
    open[i] = open[openCount];
    open[openCount] = undefined;
    return;
  }
}

/**
 * The open mapping whose data pages hold `size` bytes at `address`, those
 * pages readable now.
 */
export function openMappingAt(
  address: bigint,
  size: number,
): OpenMapping | undefined {
  for (let i = 0; i < openCount; i++) {
    const mapping = open[i]!;
    const { dataAddress } = mapping;
    if (
      address >= dataAddress &&
      address + BigInt(size) <= dataAddress + BigInt(mapping.dataLength)
    ) {
      // Mappings never overlap: no other one holds the range.
      return mapping.readableAt?.(address, size) === false
        ? undefined
        : mapping;
    }
  }
  return undefined;
}

/** Notes that `region`'s pages went from noaccess to readable. */
export function markRegionOpen(region: OpenRegion): void {
  mappingOpened(region);
  // The user bytes, exactly: every view over the buffer lies inside them,
  // so another copy searches no more than that.
  region.openEntry = markOpen(
    native(),
    region.userAddress,
    region.userAddress + BigInt(region.layout.size),
    region.protection === "readwrite",
  );
}

/** Notes that a region's pages went back to noaccess (or are unmapped). */
export function markRegionClosed(region: OpenRegion): void {
  mappingClosed(region);
  markClosed(region.openEntry);
  region.openEntry = -1;
}

/** Notes that an open region's pages became read-only or writable. */
export function markRegionAccess(region: OpenRegion): void {
  markAccess(region.openEntry, region.protection === "readwrite");
}

/**
 * `OpenMapping.holds` of a region (called on it): its user buffer, once
 * handed out (only then can a new view have been made over it), and its
 * loans.
 */
export function regionHolds(this: OpenRegion, probe: Probe): boolean {
  const { user, protection } = this;
  let ours = isOwnBuffer(user) &&
    probe(user, this.userAddress, this.layout.size, protection);
  // By the intrinsics (see membersOf): a loan a replaced iterator hid
  // would be taken for a caller's array, and wiped.
  const loans = this.loans === undefined ? [] : membersOf(this.loans);
  for (let i = 0; i < loans.length; i++) {
    const loan = loans[i];
    if (probe(loan.buffer, loan.address, loan.size, protection)) ours = true;
  }
  return ours;
}

/**
 * Bytes compared with each buffer of ours before the probe decides: the
 * same effort for every candidate, bounded however long the secrets, and
 * more than enough to keep probes (and their time) for real matches.
 */
const COMPARED = 16;

/**
 * Whether the caller's view lies over `buffer`, handed out over `size`
 * bytes at `address` on readable pages whose protection is `protection`,
 * from the buffer's byte where the view starts in its own buffer (see
 * `isOwnSource`).
 */
export type Probe = (
  buffer: ArrayBuffer,
  address: bigint,
  size: number,
  protection: Protection,
) => boolean;

/**
 * The probe of `view` (`length` bytes). A short view could be matched
 * against a secret a byte at a time, so it is probed whatever the bytes; a
 * longer one only where its first COMPARED bytes match, which nobody can
 * aim at without knowing them all. `except`, a lent buffer, is left out.
 */
function probeFor(
  memory: NativeMemory,
  view: Uint8Array,
  length: number,
  except: ArrayBuffer | undefined,
): Probe {
  // Asked of a view at an offset only: such a view has its buffer already
  // (see isOwnView).
  const offset = byteOffsetOf(view);
  return (buffer, address, size, protection) => {
    if (size === 0 || buffer === except) return false;
    const fits = size - offset >= length;
    // Where it cannot fit, byte 0 is probed all the same: the work must
    // not tell the secrets' sizes either.
    const at = fits ? offset : 0;
    // Transferred away: the pages are ours all the same, seen through a
    // view made for the probe and detached after it.
    const temporary = isDetached(buffer)
      ? memory.view(address, size)
      : undefined;
    try {
      const ours = new Bytes(temporary ?? buffer);
      if (
        length >= COMPARED && !(fits && startsWith(ours, view, COMPARED, at))
      ) return false;
      if (protection === "readwrite") {
        return sharesFirstByte(ours, at, view) && fits;
      }
      const pageSize = BigInt(memory.pageSize);
      const page = (address + BigInt(at)) / pageSize * pageSize;
      memory.protect(page, memory.pageSize, "readwrite");
      try {
        return sharesFirstByte(ours, at, view) && fits;
      } finally {
        memory.protect(page, memory.pageSize, protection);
      }
    } finally {
      if (temporary !== undefined) detachBuffer(temporary);
    }
  };
}

/**
 * Whether `view` (a real Uint8Array) lies over guarded memory readable
 * now, which must be copied from and never wiped: a view this library
 * handed out, a subarray of one, a new view over one's buffer, or memory
 * another copy of secmem has open. `except`, a loan, is left out: the
 * stream it was lent to answers with it.
 */
export function isOwnSource(view: Uint8Array, except?: Loan): boolean {
  if (isOwnView(view)) return true;
  const memory = native();
  // Another copy of secmem (or this one in another thread) may have pages
  // open: one atomic read of the process-wide list says whether.
  const others = othersOpen(memory);
  if (openCount === 0 && !others) return false;
  const length = lengthOf(view);
  if (length === 0) return false;
  const probe = probeFor(memory, view, length, except?.buffer);
  let ours = false;
  for (let i = 0; i < openCount; i++) {
    if (open[i]!.holds(probe)) ours = true;
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
  // By index: an array iterator replaced after import would hide them.
  for (let i = 0; i < ranges.length; i++) {
    const { start, end, writable } = ranges[i];
    const size = Number(end - start);
    if (size < compared) continue;
    const probe = memory.view(start, size);
    try {
      const theirs = new Bytes(probe);
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
): boolean {
  if (lengthOf(ours) - offset < length) return false;
  let difference = 0;
  for (let i = 0; i < length; i++) {
    difference |= ours[offset + i] ^ view[i];
  }
  return difference === 0;
}
