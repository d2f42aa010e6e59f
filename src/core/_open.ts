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
 * The bookkeeping on the hot paths is one count of what is open, changed
 * where protection changes; the sets below change only when a region is
 * first opened, an arena mapped, or either unmapped, never per scope. While
 * nothing is open (the usual case), the check costs `isOwnView` and one
 * comparison.
 *
 * @module
 */

import type { Protection } from "./_native.ts";
import { native } from "./_native.ts";
import {
  bufferOf,
  byteOffsetOf,
  detachBuffer,
  isDetached,
  isOwnBuffer,
  isOwnView,
  lengthOf,
} from "./_intrinsics.ts";

/** A lent buffer, readable by whoever holds it while it is out. */
interface OpenBuffer {
  readonly user: ArrayBuffer;
}

/** A region whose pages are readable now (the fields of `Region` used). */
interface OpenRegion extends OpenBuffer {
  readonly dataAddress: bigint;
  readonly userAddress: bigint;
  readonly layout: { readonly dataLength: number; readonly size: number };
  readonly protection: Protection;
}

/** Memory of many buffers (a pool arena). */
export interface OpenHolder {
  /**
   * Whether `view` (`length` bytes) lies over one of the buffers it handed
   * out from that buffer's byte `start` on, on a page that is open: every such buffer of at least `length`
   * bytes whose first `compared` bytes equal `view`'s (compared without
   * stopping at the first difference) is probed with `sharesFirstByte`.
   */
  holds(
    view: Uint8Array,
    length: number,
    compared: number,
    start: number,
  ): boolean;
}

// Regions readable now, arena pages readable now, and loans out.
let open = 0;
// Live regions opened at least once (each is checked for being open now).
const regions = new Set<OpenRegion>();
const loans = new Set<OpenBuffer>();
// Live arenas (each checks its own pages).
const holders = new Set<OpenHolder>();

/** Notes that `region`'s pages went from noaccess to readable. */
export function opened(region: OpenRegion): void {
  open++;
  // Present after the first time: a lookup, the set does not change.
  regions.add(region);
}

/** Notes that a region's pages went back to noaccess. */
export function closed(): void {
  open--;
}

/** Notes that `region` is unmapped (call before its protection changes). */
export function gone(region: OpenRegion): void {
  if (regions.delete(region) && region.protection !== "noaccess") open--;
}

/** Notes a buffer lent to outside code. */
export function loanOpened(loan: OpenBuffer): void {
  loans.add(loan);
  open++;
}

/** Notes that a lent buffer came back, or its pages are quarantined. */
export function loanClosed(loan: OpenBuffer): void {
  if (loans.delete(loan)) open--;
}

/** Notes a mapped arena, with `pages` of its pages readable. */
export function holderMapped(holder: OpenHolder, pages: number): void {
  holders.add(holder);
  open += pages;
}

/** Notes that `delta` pages of an arena became readable (or, below 0, not). */
export function pagesOpened(delta: number): void {
  open += delta;
}

/** Notes an arena unmapped, that had `pages` pages readable. */
export function holderGone(holder: OpenHolder, pages: number): void {
  if (holders.delete(holder)) open -= pages;
}

/**
 * Bytes compared with each open region and slot before the probe decides:
 * the same effort for every candidate, bounded however long the secrets,
 * and more than enough to keep probes (and their time) for real matches.
 */
export const COMPARED = 16;

/**
 * Whether `view` (a real Uint8Array) lies over guarded pages of this
 * library, which must be copied from and never wiped: a view it handed
 * out, a subarray of one, or a new view over one's buffer from its first
 * byte (`new Uint8Array(view.buffer)`, `view.subarray(0)`).
 */
export function isOwnSource(view: Uint8Array): boolean {
  if (isOwnView(view)) return true;
  if (open === 0) return false;
  const length = lengthOf(view);
  if (length === 0) return false;
  // Asked of a view at an offset only: such a view has its buffer already
  // (see isOwnView), and may lie over a buffer transferred away from us.
  const offset = byteOffsetOf(view);
  let ours = false;
  // Every candidate is compared over the same bytes without stopping at a
  // difference: how long this takes must not tell how many leading bytes
  // of another secret the view shares.
  const compared = length < COMPARED ? length : COMPARED;
  for (const region of regions) {
    if (region.protection === "noaccess") continue;
    const user = region.user;
    // Only a buffer handed out can have had a new view made over it.
    if (!isOwnBuffer(user)) continue;
    // Transferred away inside this scope: the pages are ours all the same,
    // seen through a view made for the comparison and detached after it.
    const temporary = isDetached(user)
      ? native().view(region.userAddress, region.layout.size)
      : undefined;
    try {
      const mine = new Uint8Array(temporary ?? user);
      if (lengthOf(mine) - offset < length) continue;
      if (startsWith(mine, view, compared, offset) && !ours) {
        ours = probeRegion(region, mine, offset, view);
      }
    } finally {
      if (temporary !== undefined) detachBuffer(temporary);
    }
  }
  for (const holder of holders) {
    if (holder.holds(view, length, compared, offset)) ours = true;
  }
  if (ours || offset !== 0) return ours;
  let lentMatch = false;
  for (const loan of loans) {
    const user = loan.user;
    if (isDetached(user)) continue;
    if (startsWith(new Uint8Array(user), view, length)) lentMatch = true;
  }
  // A lent view's pages may be read-only and are not ours to reopen: here
  // the buffer decides, asked for only when the bytes match.
  return lentMatch && isOwnBuffer(bufferOf(view));
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
 * Whether `view` starts at `ours[offset]`: that byte is changed through
 * `ours` and put back, and the change shows through `view` only if both
 * are the same memory. No buffer is asked for; `ours` must be writable.
 */
export function sharesFirstByte(
  ours: Uint8Array,
  offset: number,
  view: Uint8Array,
): boolean {
  const before = ours[offset];
  ours[offset] = before ^ 0xff;
  const same = view[0] === (before ^ 0xff);
  ours[offset] = before;
  return same;
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
