/**
 * Which of the library's memory can be read now, and whether a caller's
 * view lies over it. `from()` wipes its source unless the source is ours;
 * `isOwnView` knows the views we handed out and subarrays at an offset,
 * but must not ask a zero-offset view for its buffer (see there: a small
 * heap array would leave a copy of its bytes behind). A view over our
 * pages can only be read while those pages are open, so only then is such
 * a view compared with them, byte for byte; only a view whose bytes match
 * the first bytes of something open is asked for its buffer.
 *
 * While nothing is open (the usual case), the check is two size reads.
 *
 * @module
 */

import {
  bufferOf,
  byteOffsetOf,
  isDetached,
  isOwnBuffer,
  isOwnView,
  lengthOf,
} from "./_intrinsics.ts";

/** A region (or a lent buffer) whose user buffer is readable now. */
interface OpenBuffer {
  readonly user: ArrayBuffer;
}

/** Memory of many buffers (a pool arena) with at least one page open. */
export interface OpenHolder {
  /**
   * Whether the first `length` bytes of one of the buffers it handed out,
   * on a page that is open, equal `view`'s, compared byte for byte without
   * stopping at the first difference.
   */
  startsWith(view: Uint8Array, length: number): boolean;
}

const buffers = new Set<OpenBuffer>();
const holders = new Set<OpenHolder>();

/** Notes that `region`'s pages can be read (a scope, `protect()`). */
export function opened(region: OpenBuffer): void {
  buffers.add(region);
}

/** Notes that `region`'s pages are closed, or gone. */
export function closed(region: OpenBuffer): void {
  buffers.delete(region);
}

/** Notes that some page of `holder` can be read. */
export function holderOpened(holder: OpenHolder): void {
  holders.add(holder);
}

/** Notes that no page of `holder` can be read any more. */
export function holderClosed(holder: OpenHolder): void {
  holders.delete(holder);
}

/**
 * Whether `view` (a real Uint8Array) lies over guarded pages of this
 * library, which must be copied from and never wiped: a view it handed
 * out, a subarray of one, or a new view over one's buffer from its first
 * byte (`new Uint8Array(view.buffer)`, `view.subarray(0)`).
 */
export function isOwnSource(view: Uint8Array): boolean {
  if (isOwnView(view)) return true;
  if (buffers.size === 0 && holders.size === 0) return false;
  if (byteOffsetOf(view) !== 0) return false;
  const length = lengthOf(view);
  if (length === 0) return false;
  let match = false;
  // Every candidate is compared in full: how long this takes must not
  // tell how many leading bytes of another secret the view shares.
  for (const open of buffers) {
    const user = open.user;
    // Only a buffer handed out can have had a new view made over it.
    if (!isOwnBuffer(user) || isDetached(user)) continue;
    if (startsWith(new Uint8Array(user), view, length)) match = true;
  }
  for (const holder of holders) {
    if (holder.startsWith(view, length)) match = true;
  }
  // Bytes that match may still be a caller's copy of them: the buffer
  // decides, and only now is it asked for.
  return match && isOwnBuffer(bufferOf(view));
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
