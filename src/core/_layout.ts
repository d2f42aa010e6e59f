/**
 * Where the bytes of one guarded buffer sit. One reservation of whole pages:
 *
 * ```text
 * placement "end" (default): an overflow of one byte faults at once
 * | guard page | slack ... | canary | user bytes | guard page |
 *   PROT_NONE   data pages: locked, dontdump,      PROT_NONE
 *               wipeonfork; noaccess at rest
 *
 * placement "start": user bytes page-aligned for native APIs
 * | guard page | user bytes | canary | slack ... | guard page |
 * ```
 *
 * The canary sits on the side of the user bytes that has no guard page, so
 * a stray write on that side changes it. Data pages are the fewest whole
 * pages that hold the canary and the user bytes; a buffer of size 0 still
 * has one data page, for its canary.
 *
 * @module
 */

import { SecretMemoryError } from "./errors.ts";
import { ceil, isSafeInteger } from "./_intrinsics.ts";

/** Bytes of random canary beside the user bytes. */
export const CANARY_SIZE = 16;

/** The largest size one buffer may have (1 GiB). */
export const MAX_SIZE = 2 ** 30;

/** Which end of the data pages the user bytes touch. */
export type Placement = "end" | "start";

/** Offsets, in bytes, from the start of the reservation. */
export interface Layout {
  readonly size: number;
  readonly pageSize: number;
  /** Bytes reserved: guard page, data pages, guard page. */
  readonly total: number;
  /** Start of the data pages (one guard page in). */
  readonly dataOffset: number;
  /** Length of the data pages, a whole number of pages. */
  readonly dataLength: number;
  readonly userOffset: number;
  readonly canaryOffset: number;
}

/** Computes the layout of a buffer of `size` bytes. */
export function layoutFor(
  size: number,
  pageSize: number,
  placement: Placement,
): Layout {
  if (!isSafeInteger(size) || size < 0 || size > MAX_SIZE) {
    throw new SecretMemoryError(
      "INVALID_SIZE",
      `Cannot lay out ${size} bytes: size must be a whole number from 0 to ${MAX_SIZE}`,
    );
  }
  const dataOffset = pageSize;
  const dataLength = ceil((size + CANARY_SIZE) / pageSize) * pageSize;
  const total = dataLength + 2 * pageSize;
  // "end": the bytes touch the trailing guard, the canary precedes them;
  // "start": the bytes are page-aligned, the canary follows them.
  const userOffset = placement === "start"
    ? dataOffset
    : dataOffset + dataLength - size;
  const canaryOffset = placement === "start"
    ? userOffset + size
    : userOffset - CANARY_SIZE;
  return {
    size,
    pageSize,
    total,
    dataOffset,
    dataLength,
    userOffset,
    canaryOffset,
  };
}
